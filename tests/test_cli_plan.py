"""`edgeml plan`: JSON keys, verdict and exit code, reports, bad targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BUNDLED, zoo_path

EDGEML = [sys.executable, "-m", "edgeml.cli"]
TRANSFORMER = str(BUNDLED / "tiny_transformer_int8.tflite")
KEYS = {"model", "target", "arena_bytes", "ram_bytes", "lower_bound_bytes", "flash_bytes", "fits", "peak_op"}


def _plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*EDGEML, "plan", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("target", ["qemu-mps2-an386", "rpi-pico", "host", "qemu-netduinoplus2"])
def test_plan_json_for_a_model_that_fits(target: str) -> None:
    proc = _plan(TRANSFORMER, "--target", target, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= KEYS
    assert out["fits"] is True and out["target"] == target
    # No in-place trick applies at the transformer's peak: the plan must sit within 2% of the bound.
    assert out["lower_bound_bytes"] <= out["arena_bytes"] <= out["lower_bound_bytes"] * 1.02
    assert out["arena_bytes"] > 0 and out["ram_bytes"] >= out["arena_bytes"]
    assert set(out["peak_op"]) == {"index", "name", "type"}


def test_plan_vs_tflm_reports_tflm_arena() -> None:
    proc = _plan(TRANSFORMER, "--target", "qemu-mps2-an386", "--json", "--vs-tflm")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["tflm_arena_bytes"] > out["ram_bytes"]


def test_plan_reports_html_and_png(tmp_path: Path) -> None:
    html, png = tmp_path / "plan.html", tmp_path / "plan.png"
    assert _plan(TRANSFORMER, "--target", "rpi-pico", "--report", str(html)).returncode == 0
    assert "<svg" in html.read_text() and "rpi-pico" in html.read_text()
    proc = _plan(TRANSFORMER, "--target", "rpi-pico", "--report", str(png))
    assert proc.returncode == 0 and "<- peak" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plan_unknown_target_lists_the_known_ones() -> None:
    proc = _plan(TRANSFORMER, "--target", "arduino-uno")
    assert proc.returncode == 2
    assert "qemu-mps2-an386" in proc.stderr and "Traceback" not in proc.stderr


def test_plan_model_over_budget_says_by_how_much() -> None:
    model = str(zoo_path("tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite"))
    proc = _plan(model, "--target", "stm32f411-blackpill", "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["fits"] is False
    assert "over the" in proc.stderr and out["peak_op"]["type"] in proc.stderr and "Traceback" not in proc.stderr


def test_plan_works_for_every_target() -> None:
    from click.testing import CliRunner

    from edgeml.cli import main
    from edgeml.targets import board_names

    names = board_names()
    assert len(names) >= 10
    runner = CliRunner()
    for name in names:
        result = runner.invoke(main, ["plan", TRANSFORMER, "--target", name, "--json"])
        assert result.exit_code == 0, (name, result.output)
        out = json.loads(result.output)
        assert out["target"] == name and out["fits"] is True and out["ram_budget_bytes"] > out["ram_bytes"]
