"""Keras (.keras, .h5) and TensorFlow SavedModel directories into the IR, through TensorFlow's own
TFLite converter: full-integer post-training quantization (int8 inputs, outputs and kernels) with a
representative dataset, then the .tflite path. TensorFlow is the optional extra `edgeml[keras]`,
imported only here."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

import click
import numpy as np

from edgeml.calibration import InputSpec, load_calibration
from edgeml.errors import ModelFormatError
from edgeml.ir.graph import Graph

KERAS_SUFFIXES = (".keras", ".h5")


def is_keras_source(path: Path) -> bool:
    return path.suffix.lower() in KERAS_SUFFIXES or (path.is_dir() and (path / "saved_model.pb").exists())


def _tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter
    try:
        import tensorflow as tf
    except ImportError:
        raise ModelFormatError("Keras and SavedModel sources need TensorFlow: pip install 'edgeml[keras]' "
                               "(tensorflow-cpu)") from None
    return tf


def quantize_keras(path: str | os.PathLike, calibration: str | os.PathLike | None = None, seed: int = 0) -> bytes:
    """The int8 .tflite of a float Keras model or SavedModel, calibrated on CALIBRATION."""
    path = Path(path)
    if not path.exists():
        raise ModelFormatError(f"{path}: no such file or directory")
    tf = _tensorflow()
    try:
        if path.is_dir():
            converter = tf.lite.TFLiteConverter.from_saved_model(str(path))
            loaded = tf.saved_model.load(str(path))
            signature = loaded.signatures["serving_default"]
            specs = [InputSpec(t.name.split(":")[0], _sample_shape(t.shape)) for t in signature.inputs
                     if t.dtype.is_floating]
        else:
            model = tf.keras.models.load_model(str(path), compile=False)
            specs = [InputSpec(t.name, _sample_shape(t.shape)) for t in model.inputs]
            converter = tf.lite.TFLiteConverter.from_keras_model(_with_batch_of_one(tf, model, specs))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelFormatError(f"{path}: TensorFlow cannot load this model: {exc}") from None
    data = load_calibration(calibration, specs, seed)

    def representative():
        # A progress bar on a terminal: TensorFlow pulls every sample through the float model.
        show = sys.stderr.isatty()
        with click.progressbar(data.samples, label=f"calibrating on {len(data)} samples", file=sys.stderr) \
                if show else contextlib.nullcontext(data.samples) as samples:
            for sample in samples:
                yield [np.asarray(a, np.float32) for a in sample]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), warnings.catch_warnings():
            # int8 inputs get their scales from the calibration data, as intended.
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
            return bytes(converter.convert())
    except Exception as exc:  # TensorFlow raises many types (ConverterError, RuntimeError, ValueError)
        raise ModelFormatError(f"{path}: TensorFlow's int8 conversion failed: {str(exc).strip()[:2000]}\n"
                               "edgeml needs every layer in TFLite's int8 builtin ops") from None


def _with_batch_of_one(tf, model, specs: list[InputSpec]):
    """The model rebuilt on inputs with a batch of 1 (same weights): every shape is then static, so
    TensorFlow's converter folds the shape arithmetic a dynamic batch leaves in the graph (SHAPE, PACK,
    GATHER, REDUCE_PROD around Dense layers applied to sequences), as a microcontroller needs."""
    inputs = [tf.keras.Input(batch_size=1, shape=spec.shape[1:], name=spec.name) for spec in specs]
    try:
        static = tf.keras.models.clone_model(model, input_tensors=inputs if len(inputs) > 1 else inputs[0])
    except (ValueError, TypeError):  # subclassed models cannot be cloned: convert them as they are
        return model
    static.set_weights(model.get_weights())
    return static


def _sample_shape(shape) -> tuple[int, ...]:
    dims = list(shape)
    if dims and dims[0] is None:
        dims[0] = 1
    if any(d is None for d in dims):
        raise ModelFormatError(f"input shape {list(shape)} has unknown dimensions besides the batch: "
                               "export the model with fixed input shapes")
    return tuple(int(d) for d in dims)


def load_keras(path: str | os.PathLike, calibration: str | os.PathLike | None = None) -> Graph:
    """Quantize with TensorFlow, then read the int8 .tflite; the graph keeps it as its reference model."""
    from edgeml.converters.tflite import parse_tflite

    blob = quantize_keras(path, calibration)
    graph = parse_tflite(blob, str(path))
    graph.name = Path(path).stem if Path(path).suffix else Path(path).name
    graph.reference_model = blob
    return graph


def float_runner(path: str | os.PathLike):
    """The float model as a function: list of float32 input batches -> list of float32 outputs."""
    tf = _tensorflow()
    path = Path(path)
    if path.is_dir():
        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
        names = [t.name.split(":")[0] for t in signature.inputs if t.dtype.is_floating]

        def run_saved(inputs: list[np.ndarray]) -> list[np.ndarray]:
            result = signature(**{n: tf.constant(x) for n, x in zip(names, inputs, strict=True)})
            return [np.asarray(v) for _, v in sorted(result.items())]

        return run_saved
    model = tf.keras.models.load_model(str(path), compile=False)

    def run_keras(inputs: list[np.ndarray]) -> list[np.ndarray]:
        outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        return [np.asarray(o) for o in (outputs if isinstance(outputs, list | tuple) else [outputs])]

    return run_keras
