"""Bad input: clear EdgemlErrors naming the file, never a traceback, crash or hang."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED, ROOT, ZOO

from edgeml.api import load
from edgeml.converters.tflite import parse_tflite
from edgeml.errors import EdgemlError, ModelFormatError

EDGEML = [sys.executable, "-m", "edgeml.cli"]


def _fuzz_targets() -> list[Path]:
    candidates = [ZOO / "tflm_examples/hello_world_int8.tflite", ZOO / "mlperf_tiny/ad01_int8.tflite",
                  *sorted(BUNDLED.glob("*.tflite"))]
    return [p for p in candidates if p.exists()]


@pytest.mark.parametrize("target", _fuzz_targets(), ids=lambda p: p.name)
def test_thousand_mutations_and_truncations_fail_cleanly(target: Path) -> None:
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
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_unsupported_ops_are_all_listed() -> None:
    path = ZOO / "tflm_examples/trained_lstm_int8.tflite"
    if not path.exists():
        pytest.skip(f"zoo model {path} not found")
    with pytest.raises(EdgemlError) as info:
        load(path)
    message = str(info.value)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in message and str(path) in message and "operator 0" in message


def test_custom_ops_are_named() -> None:
    path = ZOO / "tflm_examples/person_detect_vela.tflite"
    if not path.exists():
        pytest.skip(f"zoo model {path} not found")
    with pytest.raises(EdgemlError, match="CUSTOM:ethos-u"):
        load(path)
