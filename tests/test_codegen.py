"""model.c generation: literals, banner, the arena layout, and projects that are all or nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import zoo_path

from edgeml import __version__
from edgeml.api import load
from edgeml.codegen.c_values import c_float, c_int
from edgeml.codegen.model_c import generate
from edgeml.codegen.project import write_project
from edgeml.errors import EdgemlError
from edgeml.firmware import INCLUDE_DIR, KERNEL_DIR
from edgeml.plan.memory import plan_memory
from edgeml.runtime.program import prepare_program
from edgeml.targets import load_board

HELLO = "tflm_examples/hello_world_int8.tflite"


def _generated(path: Path, numerics: str = "tflite"):
    graph = load(path)
    program = prepare_program(graph, numerics)
    plan = plan_memory(graph, numerics=program.numerics)
    return graph, program, plan, generate(program, plan)


@pytest.mark.parametrize("value", [0, 1, -1, 127, -128, (1 << 31) - 1, -(1 << 31), 1 << 31, -(1 << 40), -(1 << 63)])
def test_integer_literals_are_valid_c_for_their_value(value: int) -> None:
    text = c_int(value)
    if value == -(1 << 63):
        assert text == "INT64_MIN"
    elif value == -(1 << 31):
        assert text == "INT32_MIN"  # -2147483648 would be a negated long constant
    elif not -(1 << 31) <= value < 1 << 31:
        assert text == f"INT64_C({value})"
    else:
        assert int(text) == value


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, 3.4e38, 1e-45, 0.0078125, 1 / 3])
def test_float_literals_round_trip_exactly_in_float32(value: float) -> None:
    text = c_float(value)
    assert text.endswith("f")
    assert np.float32(float.fromhex(text[:-1])) == np.float32(value)


def test_generated_files_carry_version_and_model_hash() -> None:
    graph, _, plan, model = _generated(zoo_path(HELLO))
    for text in (model.source, model.header):
        assert f"edgeml {__version__}" in text.splitlines()[0]
        assert graph.source_hash in text.splitlines()[0]
    # The arena is exactly the plan's, and every activation pointer is at its planned offset.
    assert f"model_arena[{plan.arena_bytes}]" in model.source
    offsets = set(plan.tensor_offsets().values())
    used = {int(m) for m in re.findall(r"&model_arena\[(\d+)\]", model.source)}
    assert used <= offsets | {off for off, _ in plan.scratch_offsets().values()}


@pytest.mark.parametrize("compiler", ["gcc", "arm-none-eabi-gcc"])
def test_generated_model_compiles_warning_free(tmp_path: Path, compiler: str) -> None:
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not installed (tools/bootstrap.sh installs it)")
    _, _, _, model = _generated(zoo_path("mlperf_tiny/ad01_int8.tflite"), "tflm")
    (tmp_path / "model.c").write_text(model.source)
    (tmp_path / "model.h").write_text(model.header)
    arch = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"] if compiler != "gcc" else []
    proc = subprocess.run([compiler, *arch, "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wconversion", "-c",
                           f"-I{tmp_path}", f"-I{INCLUDE_DIR}", f"-I{KERNEL_DIR}", str(tmp_path / "model.c"),
                           "-o", str(tmp_path / "model.o")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_project_refuses_a_foreign_directory_and_writes_nothing(tmp_path: Path) -> None:
    _, program, plan, _ = _generated(zoo_path(HELLO))
    outdir = tmp_path / "mine"
    outdir.mkdir()
    (outdir / "notes.txt").write_text("user data")
    with pytest.raises(EdgemlError, match="not an edgeml project"):
        write_project(program, plan, load_board("qemu-mps2-an386"), outdir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert [p.name for p in outdir.iterdir()] == ["notes.txt"]


def test_project_failure_leaves_no_staging_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, program, plan, _ = _generated(zoo_path(HELLO))
    calls = []

    def failing_copy(src, dst):
        calls.append(src)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return shutil.copyfile(src, dst)

    monkeypatch.setattr("edgeml.codegen.project.shutil.copy2", failing_copy)
    with pytest.raises(OSError, match="No space"):
        write_project(program, plan, load_board("qemu-mps2-an386"), tmp_path / "out")
    assert len(calls) == 3
    assert list(tmp_path.iterdir()) == []
