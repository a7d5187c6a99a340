"""`edgeml convert`: a project on disk, or nothing and a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import zoo_path

from edgeml.cli import main


def test_convert_writes_a_make_project_for_the_board(tmp_path: Path) -> None:
    model = zoo_path("mlperf_tiny/ad01_int8.tflite")
    out = tmp_path / "ad01"
    result = CliRunner().invoke(main, ["convert", str(model), "-o", str(out), "--target", "qemu-mps2-an386",
                                       "--reference", "tflm"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "edgeml.json").read_text())
    assert manifest["target"] == "qemu-mps2-an386" and manifest["numerics"] == "tflm"
    assert manifest["kernels"] == ["fully_connected"]
    for name in ("Makefile", "model/model.c", "model/model.h", "target/link.ld",
                 "firmware/kernels/edg_fully_connected.c", "firmware/include/edg_requant.h"):
        assert (out / name).is_file(), name
    assert not (out / "firmware/kernels/edg_conv_2d.c").exists()  # only the kernels the model calls


def test_convert_refuses_a_model_over_the_board_budget_and_writes_nothing(tmp_path: Path) -> None:
    model = zoo_path("tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite")  # 2.4 MB arena
    out = tmp_path / "mnv2"
    result = CliRunner().invoke(main, ["convert", str(model), "-o", str(out), "--target", "qemu-netduinoplus2"])
    assert result.exit_code == 1
    assert "does not fit qemu-netduinoplus2" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_build_of_a_directory_that_is_no_project_names_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(tmp_path)])
    assert result.exit_code == 2
    assert "not an edgeml project" in result.output and str(tmp_path) in result.output
