"""`edgeml verify`: convert, build, start or flash, stream inputs over the serial protocol, compare.

Every output byte from the device is compared with the host runtime's (numba over the same planned
arena). On a mismatch the input is run again with the per-op trace, whose CRC-32 per op output
names the first op where the device and the host part ways.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeml import __version__
from edgeml.codegen.build import BuildResult, build_project
from edgeml.codegen.project import ProjectInfo, write_project
from edgeml.compare import random_inputs
from edgeml.errors import EdgemlError
from edgeml.hil.protocol import crc32
from edgeml.ir.graph import Graph
from edgeml.plan.memory import MemoryPlan, plan_memory
from edgeml.plan.report import summarize
from edgeml.runtime.executor import Runner
from edgeml.runtime.program import Program, prepare_program
from edgeml.targets import Board


class BudgetError(EdgemlError):
    """The model does not fit the board (checked before anything is built or flashed)."""


@dataclass
class VerifyReport:
    model: str
    target: str
    numerics: str
    inputs: int = 0
    mismatched_inputs: int = 0
    instructions_per_inference: int | None = None
    ticks_per_inference: int | None = None
    flash_bytes: int = 0
    ram_bytes: int = 0
    arena_bytes: int = 0
    weight_bytes: int = 0  # the model's constants in flash
    stack_used_bytes: int | None = None
    first_divergent_op: str | None = None
    seconds: float = 0.0
    mismatches: list[int] = field(default_factory=list)
    # One traced inference: (op label, ticks) per op, in execution order (not in to_json).
    op_ticks: list[tuple[str, int]] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"model": self.model, "target": self.target, "numerics": self.numerics, "inputs": self.inputs,
                "mismatched_inputs": self.mismatched_inputs,
                "instructions_per_inference": self.instructions_per_inference,
                "ticks_per_inference": self.ticks_per_inference, "flash_bytes": self.flash_bytes,
                "ram_bytes": self.ram_bytes, "arena_bytes": self.arena_bytes,
                "weight_bytes": self.weight_bytes, "stack_used_bytes": self.stack_used_bytes,
                "first_divergent_op": self.first_divergent_op,
                "seconds": round(self.seconds, 3)}


@dataclass(eq=False)
class Compiled:
    graph: Graph
    program: Program
    plan: MemoryPlan


def compile_for(graph: Graph, board: Board, numerics: str) -> Compiled:
    """Prepare and plan; refuse a model over the board's budget before anything is built."""
    program = prepare_program(graph, numerics)
    plan = plan_memory(graph, numerics=program.numerics)
    summary = summarize(plan, board.name, board.arena_budget_bytes, board.flash_bytes)
    if not summary.fits:
        raise BudgetError(f"{graph.source_path or graph.name}: {summary.verdict()}")
    return Compiled(graph, program, plan)


def default_project_dir(graph: Graph, board: Board, numerics: str) -> Path:
    from edgeml.codegen.host_build import cache_dir

    key = hashlib.sha256(f"{__version__}|{graph.source_hash}|{board.name}|{numerics}".encode()).hexdigest()[:16]
    return cache_dir().parent / "projects" / f"{Path(graph.source_path or graph.name).stem}-{board.name}-{key}"


def convert_and_build(compiled: Compiled, board: Board, outdir: Path | None = None) -> tuple[ProjectInfo, BuildResult]:
    numerics = compiled.program.numerics.value
    outdir = outdir or default_project_dir(compiled.graph, board, numerics)
    info = write_project(compiled.program, compiled.plan, board, outdir)
    return info, build_project(outdir)


def first_divergence(graph: Graph, runner: Runner, inputs: list[np.ndarray], trace) -> str | None:
    """Node label of the first traced op whose output CRC differs from the host's."""
    host = runner.run(inputs, keep_tensors=True)
    for record in trace:
        expected = host.tensors[graph.nodes[record.node].outputs[0]]
        if crc32(expected.tobytes()) != record.crc:
            return graph.node_label(record.node)
    return None


def verify_on_device(compiled: Compiled, client, count: int, seed: int, report: VerifyReport, *,
                     emulated: bool = False, progress: Callable[[int], None] | None = None,
                     profile: bool = False) -> VerifyReport:
    """Stream `count` seeded random inputs through the device and the host runner; compare every byte.

    emulated: the device is QEMU with -icount shift=0, whose ticks count instructions. profile: then
    run the first input once more with the trace, for each op's ticks (report.op_ticks)."""
    graph = compiled.graph
    if graph.source_hash:
        client.check_model(graph.source_hash)
    info = client.info
    runner = Runner(compiled.program, compiled.plan)
    start = time.monotonic()
    ticks = []
    for k, inputs in enumerate(random_inputs(graph, count, seed)):
        expected = runner.run(inputs).outputs
        outputs, result = client.infer(inputs)
        ticks.append(result.ticks)
        report.inputs += 1
        if any(o.tobytes() != e.tobytes() for o, e in zip(outputs, expected, strict=True)):
            report.mismatched_inputs += 1
            report.mismatches.append(k)
            if report.first_divergent_op is None:
                _, traced = client.infer(inputs, trace=True)
                report.first_divergent_op = first_divergence(graph, runner, inputs, traced.trace)
        if progress is not None:
            progress(1)
    report.seconds = time.monotonic() - start
    if profile and report.inputs:
        _, traced = client.infer(random_inputs(graph, 1, seed)[0], trace=True)
        report.op_ticks = [(graph.node_label(r.node), r.ticks) for r in traced.trace]
    if ticks:
        report.ticks_per_inference = int(np.median(ticks))
        stats = client.stats()
        if stats.stack_size:
            report.stack_used_bytes = stats.stack_size - stats.stack_unused
        if emulated and info.tick_hz:
            # Under -icount shift=0 one instruction is one emulated nanosecond.
            report.instructions_per_inference = round(report.ticks_per_inference * 1e9 / info.tick_hz)
    return report


def verify(model: str | Path, board: Board, numerics: str | None = None, count: int = 20, seed: int = 0,
           port: str | None = None, flash_board: bool = True, outdir: Path | None = None,
           progress: Callable[[int], None] | None = None,
           on_stage: Callable[[str], None] | None = None, profile: bool = False,
           calibration: str | Path | None = None) -> VerifyReport:
    """`edgeml verify`: convert MODEL for BOARD, build, flash (real boards) or start (QEMU, host),
    stream COUNT inputs and compare every output byte with the host runtime. NUMERICS None: the
    model's own reference (onnxruntime for ONNX, tflite otherwise)."""
    from edgeml.api import load
    from edgeml.codegen.linker import is_native
    from edgeml.hil.device import is_url, open_device

    stage = on_stage or (lambda _text: None)
    real_board = not board.emulated and not is_native(board)
    if real_board and port is None:
        raise EdgemlError(f"{board.name} is a real board: pass its serial port with --port (e.g. /dev/ttyACM0)")
    graph = load(model, calibration)
    compiled = compile_for(graph, board, numerics or graph.native_numerics)
    stage(f"building for {board.name}")
    info, build = convert_and_build(compiled, board, outdir)
    report = VerifyReport(model=str(model), target=board.name, numerics=compiled.program.numerics.value,
                          flash_bytes=build.flash_bytes, ram_bytes=build.ram_bytes, arena_bytes=info.arena_bytes,
                          weight_bytes=info.weight_bytes)
    if real_board and flash_board and not is_url(port):
        from edgeml.hil.flash import flash

        stage(f"flashing {board.name}")
        flash(board, build.elf)
    with open_device(board, build.elf, port, expected_hash=graph.source_hash) as device:
        stage(f"verifying on {device.description}")
        return verify_on_device(compiled, device.client, count, seed, report, emulated=device.emulated,
                                progress=progress, profile=profile)
