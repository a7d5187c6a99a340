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


class MismatchError(EdgemlError):
    """The device answered, but not with the host's bytes."""


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
    stack_used_bytes: int | None = None
    first_divergent_op: str | None = None
    seconds: float = 0.0
    mismatches: list[int] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"model": self.model, "target": self.target, "numerics": self.numerics, "inputs": self.inputs,
                "mismatched_inputs": self.mismatched_inputs,
                "instructions_per_inference": self.instructions_per_inference,
                "ticks_per_inference": self.ticks_per_inference, "flash_bytes": self.flash_bytes,
                "ram_bytes": self.ram_bytes, "arena_bytes": self.arena_bytes,
                "stack_used_bytes": self.stack_used_bytes, "first_divergent_op": self.first_divergent_op,
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


def verify_on_device(compiled: Compiled, client, count: int, seed: int, report: VerifyReport,
                     progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Stream `count` seeded random inputs through the device and the host runner; compare every byte."""
    graph = compiled.graph
    info = client.identify()
    if graph.source_hash and info.model_hash.hex() != graph.source_hash:
        raise EdgemlError(f"the device runs another model (hash {info.model_hash.hex()[:16]}…, expected "
                          f"{graph.source_hash[:16]}…): flash the firmware built for {graph.source_path}")
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
    if ticks:
        report.ticks_per_inference = int(np.median(ticks))
        if info.tick_hz:
            stats = client.stats()
            if stats.stack_size:
                report.stack_used_bytes = stats.stack_size - stats.stack_unused
            report.instructions_per_inference = round(report.ticks_per_inference * 1e9 / info.tick_hz)
    return report
