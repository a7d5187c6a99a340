"""Make the small single-op int8 TFLite models that tests/test_ops_tensor.py checks edgeml against.

    /tmp/tfvenv/bin/python tools/make_op_models.py [--out-dir tests/data]

Each model is a tf.function converted with full-integer quantization (int8 inputs and outputs),
calibrated on seeded normal data whose spread sets the quantization scales; several models exist
only to give an op unusual scales (softmax on tiny or huge logit ranges), attributes (adj_x/adj_y,
strided-slice masks, PADV2's constant) or shapes (broadcast batch dims, rank-5 transposes).
Attributes the converter never emits (SOFTMAX beta != 1, STRIDED_SLICE ellipsis / new-axis /
offset masks) and extreme scales are set by editing the converted flatbuffer with TensorFlow's
schema object API. The files are small (a few KB) and the script regenerates them byte for byte
with the same TensorFlow version (made with tensorflow-cpu 2.21.0).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import flatbuffers
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION_SAMPLES = 64


def convert(fn: Callable, shapes: list[tuple[int, ...]], spread: float | list[float] = 1.0,
            int16: bool = False) -> bytes:
    """Full-integer conversion of fn over float inputs of `shapes`, calibrated on N(0, spread).

    int16 selects the 16x8 scheme (int16 activations, int8 weights) instead of int8.
    """
    spreads = spread if isinstance(spread, list) else [spread] * len(shapes)
    specs = [tf.TensorSpec(s, tf.float32) for s in shapes]
    function = tf.function(fn, input_signature=specs)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], function)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative():
        rng = np.random.default_rng(0)
        for _ in range(CALIBRATION_SAMPLES):
            yield [rng.normal(0.0, sd, s).astype(np.float32) for s, sd in zip(shapes, spreads, strict=True)]

    converter.representative_dataset = representative
    if int16:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int16 if int16 else tf.int8
    converter.inference_output_type = converter.inference_input_type
    return converter.convert()


def _softmax():
    return lambda x: tf.nn.softmax(x)


def edit(data: bytes, change: Callable[[schema.ModelT], None]) -> bytes:
    """Apply `change` to the model's object tree and serialize it again."""
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    change(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _only_op(model: schema.ModelT) -> schema.OperatorT:
    (op,) = model.subgraphs[0].operators
    return op


def set_softmax_beta(beta: float) -> Callable[[schema.ModelT], None]:
    def change(model: schema.ModelT) -> None:
        _only_op(model).builtinOptions.beta = beta
    return change


def set_input_scale(scale: float) -> Callable[[schema.ModelT], None]:
    def change(model: schema.ModelT) -> None:
        graph = model.subgraphs[0]
        graph.tensors[graph.inputs[0]].quantization.scale = [scale]
    return change


def set_slice(begin: list[int], end: list[int], strides: list[int], output_shape: list[int],
              **masks: int | bool) -> Callable[[schema.ModelT], None]:
    """Replace a STRIDED_SLICE's begin/end/strides constants, its options and its output shape."""
    def change(model: schema.ModelT) -> None:
        graph = model.subgraphs[0]
        op = _only_op(model)
        for tensor_index, values in zip(op.inputs[1:4], (begin, end, strides), strict=True):
            tensor = graph.tensors[tensor_index]
            tensor.shape = [len(values)]
            model.buffers[tensor.buffer].data = np.array(values, "<i4").view(np.uint8)
        graph.tensors[op.outputs[0]].shape = output_shape
        graph.tensors[op.outputs[0]].shapeSignature = None
        options = schema.StridedSliceOptionsT()
        for name, value in masks.items():
            setattr(options, name, value)
        op.builtinOptions = options
    return change


# name -> (function, input shapes, calibration spread(s)[, flatbuffer edit])
MODELS: dict[str, tuple] = {
    "softmax_logits": (_softmax(), [(1, 10)], 4.0),
    "softmax_tiny_range": (_softmax(), [(2, 16)], 0.02),
    "softmax_huge_range": (_softmax(), [(1, 12)], 60.0),
    "softmax_attention": (_softmax(), [(1, 2, 8, 8)], 2.0),
    "softmax_beta": (_softmax(), [(1, 4, 6)], 3.0, set_softmax_beta(0.3)),
    "softmax_extreme_scale": (_softmax(), [(1, 6)], 3.0, set_input_scale(30.0)),
    "softmax_attention_int16": (_softmax(), [(1, 2, 8, 8)], 2.0),
    "softmax_logits_int16": (_softmax(), [(1, 10)], 4.0),
    "mean_hw": (lambda x: tf.reduce_mean(x, axis=[1, 2], keepdims=True), [(1, 7, 7, 32)], 1.0),
    "mean_last_axis": (lambda x: tf.reduce_mean(x, axis=[-1], keepdims=True), [(1, 8, 24)], 1.0),
    "mean_axis0_drop": (lambda x: tf.reduce_mean(x, axis=[0, 2]), [(3, 5, 6)], 2.0),
    "avg_pool_same": (lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), [(1, 9, 10, 8)], 1.0),
    "avg_pool_valid": (lambda x: tf.nn.avg_pool2d(x, (2, 3), (2, 1), "VALID"), [(2, 6, 7, 5)], 1.0),
    "max_pool_same": (lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"), [(1, 9, 10, 8)], 1.0),
    "avg_pool_int16": (lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), [(1, 9, 10, 8)], 1.0),
    "max_pool_int16": (lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"), [(1, 8, 10, 4)], 1.0),
    "mean_int16": (lambda x: tf.reduce_mean(x, axis=[1, 2], keepdims=True), [(1, 5, 5, 16)], 1.0),
    "transpose_int16": (lambda x: tf.transpose(x, [2, 0, 1]), [(3, 4, 5)], 1.0),
    "batch_matmul": (lambda a, b: tf.matmul(a, b), [(1, 2, 8, 12), (1, 2, 12, 8)], 1.0),
    "batch_matmul_adj_y": (lambda a, b: tf.matmul(a, b, transpose_b=True), [(2, 8, 12), (2, 6, 12)], [1.0, 2.0]),
    "batch_matmul_adj_x": (lambda a, b: tf.matmul(a, b, transpose_a=True), [(2, 12, 8), (2, 12, 6)], [2.0, 0.5]),
    "batch_matmul_broadcast": (lambda a, b: tf.matmul(a, b), [(3, 4, 16), (1, 16, 5)], 1.0),
    "transpose_rank5": (lambda x: tf.transpose(x, [0, 3, 1, 4, 2]), [(1, 2, 3, 4, 5)], 1.0),
    "transpose_heads": (lambda x: tf.transpose(x, [0, 2, 1, 3]), [(1, 8, 2, 12)], 1.0),
    "strided_slice_masks": (lambda x: x[:, ::-1, 1:7:2, ...], [(1, 6, 8, 4)], 1.0),
    "strided_slice_shrink_newaxis": (lambda x: x[..., tf.newaxis, 2] + 0.0, [(2, 5, 6)], 1.0),
    "strided_slice_negative": (lambda x: x[-1:-5:-2, 3:, :-1], [(5, 6, 7)], 1.0),
    # x[..., 1:7:2] on (1, 6, 8, 4): the ellipsis covers the first three axes.
    "strided_slice_ellipsis": (lambda x: x[:, :, :, 1:4:2], [(1, 6, 8, 4)], 1.0,
                               set_slice([0, 1], [0, 7], [1, 2], [1, 6, 8, 2], ellipsisMask=1)),
    # x[:, newaxis, 1:4] on (2, 5, 6).
    "strided_slice_new_axis": (lambda x: x[:, 1:4:2, :], [(2, 5, 6)], 1.0,
                               set_slice([0, 0, 1], [0, 0, 4], [1, 1, 1], [2, 1, 3, 6], beginMask=1, endMask=1,
                                         newAxisMask=2)),
    # offset: end holds sizes, x[1:3, 0:3, 2:6] on (5, 6, 7).
    "strided_slice_offset": (lambda x: x[0:4:2, 0:3, 0:4], [(5, 6, 7)], 1.0,
                             set_slice([1, 0, 2], [2, 3, 4], [1, 1, 1], [2, 3, 4], offset=True)),
    "concat_channels": (lambda a, b: tf.concat([a, b], axis=-1), [(1, 4, 4, 3), (1, 4, 4, 5)], 1.0),
    "concat_axis1": (lambda a, b, c: tf.concat([a, b, c], axis=1), [(2, 3, 4), (2, 1, 4), (2, 2, 4)], 1.0),
    "pad_int8": (lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]), [(1, 5, 6, 3)], 1.0),
    "padv2_constant": (lambda x: tf.pad(x, [[0, 0], [1, 1], [0, 3]], constant_values=0.5), [(1, 4, 5)], 1.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "tests" / "data")
    parser.add_argument("names", nargs="*", help="only these models (default: all)")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, (fn, shapes, spread, *change) in MODELS.items():
        if args.names and name not in args.names:
            continue
        data = convert(fn, shapes, spread, int16=name.endswith("_int16"))
        if change:
            data = edit(data, change[0])
        (args.out_dir / f"{name}.tflite").write_bytes(data)
        print(f"{name}.tflite: {len(data)} bytes")


if __name__ == "__main__":
    main()
