"""Shared fixtures: the model zoo (EDGEML_ZOO, default ../shared/models) and comparison helpers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgeml.api import load
from edgeml.compare import compare, random_inputs
from edgeml.ops.base import Numerics
from edgeml.runtime.executor import run
from edgeml.runtime.program import prepare_program

ROOT = Path(__file__).resolve().parent.parent
ZOO = Path(os.environ.get("EDGEML_ZOO", ROOT.parent / "shared" / "models"))
BUNDLED = ROOT / "edgeml" / "models"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("edgeml targets")
    group.addoption("--target", default="qemu-mps2-an386",
                    help="board for tests marked `target` (default: the emulated qemu-mps2-an386)")
    group.addoption("--port", default=None,
                    help="serial port of the real board given by --target (e.g. /dev/ttyACM0); each test flashes the "
                     "board through pyocd or openocd, then talks to it there")


@pytest.fixture
def target_board(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(board name, serial port or None) for hardware-in-the-loop tests."""
    return request.config.getoption("--target"), request.config.getoption("--port")


def zoo_path(relative: str) -> Path:
    """A zoo model's path; skips the test visibly when the zoo or the file is absent."""
    path = ZOO / relative
    if not path.exists():
        pytest.skip(f"zoo model {relative} not found under {ZOO} (set EDGEML_ZOO)")
    return path


def assert_bit_exact(path: Path, against: str, count: int, seed: int = 0) -> None:
    """edgeml vs the reference on `count` random inputs: every output byte-identical."""
    graph = load(path)
    report = compare(graph, against, random_inputs(graph, count, seed))
    assert report.mismatched_inputs == 0, (
        f"{path.name} vs {against}: {report.mismatched_inputs}/{report.inputs} inputs differ "
        f"(max abs diff {report.max_abs_diff}), first divergent op {report.first_divergent_op}"
    )


def assert_kernels_match_references(path: Path, numerics: str, count: int = 2, seed: int = 0) -> None:
    """The numba kernels and the slow numpy references agree on every intermediate tensor."""
    graph = load(path)
    program = prepare_program(graph, Numerics(numerics))
    for batch in random_inputs(graph, count, seed):
        fast = run(program, batch, keep_tensors=True).tensors
        slow = run(program, batch, keep_tensors=True, use_reference=True).tensors
        for step in program.steps:
            for i in step.node.outputs:
                assert fast[i].dtype == slow[i].dtype and fast[i].shape == slow[i].shape, graph.node_label(step.index)
                if not np.array_equal(fast[i], slow[i]):
                    raise AssertionError(f"{path.name}: kernel != reference at {graph.node_label(step.index)}")
