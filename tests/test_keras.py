"""Keras / SavedModel sources: TensorFlow's int8 converter with edgeml's calibration data, then the
same bit-exact standard as .tflite models, and the int8 model's distance from float.

Uses the bundled digits CNN and digits transformer (tools/make_digits_models.py, trained on
scikit-learn's digits)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import BUNDLED, assert_bit_exact

from edgeml.errors import InputError, ModelFormatError

tf = pytest.importorskip("tensorflow", reason="the keras extra is not installed (pip install -e '.[keras]')")

from edgeml.accuracy import measure  # noqa: E402
from edgeml.api import load  # noqa: E402
from edgeml.calibration import InputSpec, load_calibration, load_labels  # noqa: E402
from edgeml.converters.keras import float_runner  # noqa: E402
from edgeml.runtime.executor import Runner  # noqa: E402
from edgeml.runtime.program import prepare_program  # noqa: E402

MODEL = BUNDLED / "digits_cnn.keras"
TRANSFORMER = BUNDLED / "digits_transformer.keras"
CALIBRATION = BUNDLED / "digits_calibration.npz"
TEST = BUNDLED / "digits_test.npz"
SPECS = [InputSpec("image", (1, 8, 8, 1))]


@pytest.fixture(scope="module")
def graph():
    return load(MODEL, CALIBRATION)


def test_keras_model_becomes_a_full_int8_graph(graph) -> None:
    assert [n.op for n in graph.nodes] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "MAX_POOL_2D", "CONV_2D",
                                           "MEAN", "FULLY_CONNECTED", "SOFTMAX"]
    assert {graph.tensors[i].dtype.value for i in graph.inputs + graph.outputs} == {"int8"}
    assert graph.source_path == str(MODEL) and graph.reference_model[4:8] == b"TFL3"


@pytest.mark.parametrize("against", ["tflite", "tflm"])
def test_quantized_keras_model_is_bit_exact(graph, against: str, tmp_path) -> None:
    path = tmp_path / "digits.tflite"
    path.write_bytes(graph.reference_model)
    assert_bit_exact(path, against, count=20)
    from edgeml.compare import compare, random_inputs

    report = compare(graph, against, random_inputs(graph, 10, seed=3))  # through the graph's own bytes
    assert report.mismatched_inputs == 0


def test_int8_stays_as_accurate_as_float(graph) -> None:
    runner = Runner(prepare_program(graph, "tflite"))
    held_out = load_calibration(TEST, SPECS)
    report = measure(graph, runner, float_runner(MODEL), held_out.samples, "test", load_labels(TEST, len(held_out)))
    assert report.samples == 397
    assert report.float_accuracy > 0.95, report  # the bundled model learned the task
    assert report.int8_accuracy >= report.float_accuracy - 0.01, report
    assert report.top1_agreement >= 0.98 and report.snr_db[0] > 25, report


def test_saved_model_directory_converts_the_same(tmp_path) -> None:
    model = tf.keras.models.load_model(str(MODEL), compile=False)
    model.export(str(tmp_path / "saved"), verbose=False)
    graph = load(tmp_path / "saved", CALIBRATION)
    assert [n.op for n in graph.nodes] == [n.op for n in load(MODEL, CALIBRATION).nodes]
    # The CLI takes the directory as MODEL.
    proc = subprocess.run([sys.executable, "-m", "edgeml.cli", "compare", str(tmp_path / "saved"), "--against",
                           "tflm", "-n", "5", "--calibration", str(CALIBRATION), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mismatched_inputs"] == 0


def test_calibration_errors_name_the_file_and_the_shape(tmp_path) -> None:
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((5, 8, 8), np.float32))
    with pytest.raises(InputError, match=r"wrong.npy.*shape \[5, 8, 8\]; expected \[N, 8, 8, 1\]"):
        load_calibration(wrong, SPECS)
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((2, 8, 8, 1), np.nan, np.float32))
    with pytest.raises(InputError, match="NaN"):
        load_calibration(nan, SPECS)
    names = tmp_path / "names.npz"
    np.savez(names, a=np.zeros((2, 8, 8, 1)), b=np.zeros((2, 8, 8, 1)))
    with pytest.raises(InputError, match="has arrays"):
        load_calibration(names, SPECS)
    with pytest.raises(InputError, match="no such calibration file"):
        load_calibration(tmp_path / "missing.npz", SPECS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.npy or \.npz files"):
        load_calibration(tmp_path / "empty", SPECS)


def test_calibration_directory_concatenates_its_files(tmp_path) -> None:
    for k in range(3):
        np.save(tmp_path / f"part{k}.npy", np.full((4, 8, 8, 1), k, np.float32))
    data = load_calibration(tmp_path, SPECS)
    assert len(data) == 12 and data.samples[-1][0].shape == (1, 8, 8, 1) and data.samples[-1][0].max() == 2


def test_random_calibration_warns_loudly(capfd) -> None:
    data = load_calibration(None, SPECS)
    assert len(data) > 0 and data.source == "random"
    assert "WARNING" in capfd.readouterr().err


def test_missing_tensorflow_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(ModelFormatError, match=r"edgeml\[keras\]"):
        load(MODEL, CALIBRATION)


def test_cli_quantize_writes_an_int8_tflite_and_reports_accuracy(tmp_path) -> None:
    out = tmp_path / "digits_int8.tflite"
    proc = subprocess.run([sys.executable, "-m", "edgeml.cli", "quantize", str(MODEL), "--calibration",
                           str(CALIBRATION), "--held-out", str(TEST), "-o", str(out), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    held_out = report["accuracy"][1]
    assert held_out["samples"] == 397 and held_out["int8_accuracy"] >= held_out["float_accuracy"] - 0.01
    assert load(out).nodes and out.read_bytes()[4:8] == b"TFL3"
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_refuses_quantizing_a_tflite(tmp_path) -> None:
    int8 = BUNDLED / "tiny_transformer_int8.tflite"
    proc = subprocess.run([sys.executable, "-m", "edgeml.cli", "quantize", str(int8), "-o", str(tmp_path / "x.tflite")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "already quantized" in proc.stderr


def test_keras_transformer_converts_static_bit_exact_and_as_accurate() -> None:
    """Self-attention, LayerNormalization and Dense layers on token sequences: converted with a batch
    of 1, TensorFlow folds all shape arithmetic, and the int8 program keeps the float accuracy."""
    from edgeml.compare import compare, random_inputs

    graph = load(TRANSFORMER, CALIBRATION)
    ops = {n.op for n in graph.nodes}
    assert {"BATCH_MATMUL", "SOFTMAX", "FULLY_CONNECTED"} <= ops and not ops & {"SHAPE", "PACK", "GATHER"}
    for against in ("tflite", "tflm"):
        assert compare(graph, against, random_inputs(graph, 10, seed=1)).mismatched_inputs == 0, against
    held_out = load_calibration(TEST, SPECS)
    report = measure(graph, Runner(prepare_program(graph, "tflite")), float_runner(TRANSFORMER), held_out.samples,
                     "test", load_labels(TEST, len(held_out)))
    assert report.float_accuracy > 0.95 and report.int8_accuracy >= report.float_accuracy - 0.01, report


@pytest.mark.parametrize("model", [MODEL, TRANSFORMER], ids=lambda m: m.stem)
@pytest.mark.parametrize("target", ["host", "qemu-mps2-an386"])
def test_keras_model_verifies_on_the_firmware(target: str, model) -> None:
    import shutil

    from edgeml.hil.verify import verify
    from edgeml.targets import load_board

    board = load_board(target)
    if board.emulated and shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm not installed")
    report = verify(model, board, "tflite", 20, seed=5, calibration=CALIBRATION)
    assert (report.inputs, report.mismatched_inputs) == (20, 0)
