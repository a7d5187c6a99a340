"""Bad input: clear EdgemlErrors naming the file, never a traceback, crash or hang."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED, ROOT, ZOO, zoo_path

from edgeml.api import compile_model, load
from edgeml.converters.tflite import parse_tflite
from edgeml.errors import EdgemlError, ModelFormatError

EDGEML = [sys.executable, "-m", "edgeml.cli"]


FUZZ_CANDIDATES = [ZOO / "tflm_examples/hello_world_int8.tflite", ZOO / "mlperf_tiny/ad01_int8.tflite",
                   *sorted(BUNDLED.glob("*.tflite"))]


def _fuzz_targets() -> list[Path]:
    return [p for p in FUZZ_CANDIDATES if p.exists()]


@pytest.mark.parametrize("target", FUZZ_CANDIDATES, ids=lambda p: p.name)
def test_thousand_mutations_and_truncations_fail_cleanly(target: Path) -> None:
    if not target.exists():
        pytest.skip(f"{target} not found (set EDGEML_ZOO)")
    # In a child process, so that a crash shows up as a failure instead of killing the test run.
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "fuzz_models.py"), str(target), "1000", "1"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"returncode {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def test_fuzz_targets_exist() -> None:
    assert _fuzz_targets(), "no model to fuzz: neither the zoo nor edgeml/models has a .tflite"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="no such file"):
        load(tmp_path / "absent.tflite")


def test_not_a_tflite_file() -> None:
    with pytest.raises(ModelFormatError, match="not a TFLite model"):
        parse_tflite(b"PK\x03\x04" + bytes(100), "archive.tflite")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "model.pb"
    path.write_bytes(b"x")
    with pytest.raises(ModelFormatError, match="unknown model format"):
        load(path)


def test_truncated_names_byte_offset() -> None:
    target = _fuzz_targets()[0]
    data = target.read_bytes()
    with pytest.raises(ModelFormatError, match="byte offset"):
        parse_tflite(data[: len(data) // 2], str(target))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*EDGEML, *args], capture_output=True, text=True, timeout=300)


def test_cli_reports_missing_model_without_traceback(tmp_path: Path) -> None:
    proc = _cli("compare", str(tmp_path / "nope.tflite"), "--against", "tflite")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_reports_corrupt_model_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.tflite"
    path.write_bytes(_fuzz_targets()[0].read_bytes()[:300])
    proc = _cli("inspect", str(path))
    assert proc.returncode == 2
    assert str(path) in proc.stderr and "Traceback" not in proc.stderr


def test_cli_rejects_wrong_input_shape_and_dtype(tmp_path: Path) -> None:
    target = _fuzz_targets()[0]
    graph = load(target)
    shape = graph.tensors[graph.inputs[0]].shape
    wrong_shape = tmp_path / "shape.npy"
    np.save(wrong_shape, np.zeros((*shape, 2), graph.tensors[graph.inputs[0]].dtype.np))
    proc = _cli("run", str(target), "--input", str(wrong_shape))
    assert proc.returncode == 2 and "must have shape" in proc.stderr and "Traceback" not in proc.stderr
    wrong_dtype = tmp_path / "dtype.npy"
    np.save(wrong_dtype, np.zeros(shape, np.float64))
    proc = _cli("run", str(target), "--input", str(wrong_dtype))
    assert proc.returncode == 2 and "must be" in proc.stderr and "Traceback" not in proc.stderr
    not_npy = tmp_path / "junk.npy"
    not_npy.write_bytes(b"junk")
    proc = _cli("run", str(target), "--input", str(not_npy))
    assert proc.returncode == 2 and "not a .npy/.npz file" in proc.stderr and "pickle" not in proc.stderr
    proc = _cli("run", str(target), "--input", str(tmp_path / "absent.npy"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_cli_output_goes_exactly_where_asked(tmp_path: Path) -> None:
    target = _fuzz_targets()[0]
    out = tmp_path / "result.bin"
    proc = _cli("run", str(target), "--output", str(out))
    assert proc.returncode == 0 and out.exists() and np.load(out).size > 0
    proc = _cli("run", str(target), "--output", str(tmp_path / "missing-dir" / "y.npy"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def test_unsupported_ops_are_all_listed_and_still_inspectable() -> None:
    path = zoo_path("tflm_examples/audio_preprocessor_int8.tflite")
    assert "UNSUPPORTED" in {node.op for node in load(path).nodes}  # inspect can still show it
    with pytest.raises(EdgemlError) as info:
        compile_model(path)
    message = str(info.value)
    assert str(path) in message and "op #0 CUSTOM:SignalWindow" in message
    assert "op #17 DIV" in message and "op #21 CAST" in message  # every one, not just the first


def test_lstm_is_refused_with_its_name() -> None:
    path = zoo_path("tflm_examples/trained_lstm_int8.tflite")
    with pytest.raises(EdgemlError, match="op #0 UNIDIRECTIONAL_SEQUENCE_LSTM"):
        compile_model(path)


def test_custom_ops_are_named() -> None:
    with pytest.raises(EdgemlError, match="CUSTOM:ethos-u"):
        compile_model(zoo_path("tflm_examples/person_detect_vela.tflite"))


def test_float_models_get_one_sentence() -> None:
    with pytest.raises(EdgemlError, match="computes in float32") as info:
        compile_model(zoo_path("mlperf_tiny/kws_ref_model_float32.tflite"))
    assert len(str(info.value).splitlines()) == 1
