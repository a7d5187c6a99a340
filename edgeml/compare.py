"""Compare edgeml's host runtime with a reference runtime, byte for byte."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from edgeml.ir.graph import Graph
from edgeml.ops.base import Numerics
from edgeml.ops.registry import REGISTRY
from edgeml.references import ReferenceRuntime, get_reference
from edgeml.runtime.executor import run
from edgeml.runtime.program import Program, prepare_program


@dataclass(frozen=True)
class DivergentOp:
    index: int
    name: str
    type: str


@dataclass
class CompareReport:
    model: str
    against: str
    inputs: int
    mismatched_inputs: int
    max_abs_diff: int | float
    first_divergent_op: DivergentOp | None

    def to_json(self) -> dict:
        return asdict(self)


def random_inputs(graph: Graph, count: int, seed: int) -> list[list[np.ndarray]]:
    """Uniform over each integer input's full range; float inputs uniform in [-1, 1)."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        arrays = []
        for index in graph.inputs:
            tensor = graph.tensors[index]
            shape_value = _shape_operand_value(graph, index)
            if shape_value is not None:
                arrays.append(shape_value)
            elif tensor.dtype.is_float:
                arrays.append(rng.uniform(-1.0, 1.0, tensor.shape).astype(tensor.dtype.np))
            else:
                info = np.iinfo(tensor.dtype.np)
                arrays.append(rng.integers(info.min, int(info.max) + 1, tensor.shape, dtype=tensor.dtype.np))
        batches.append(arrays)
    return batches


def _shape_operand_value(graph: Graph, index: int) -> np.ndarray | None:
    """A model input that an op reads as its output shape must hold that shape (see OpSpec.shape_operand)."""
    for node in graph.nodes:
        spec = REGISTRY.get(node.op)
        operand = spec.shape_operand if spec else None
        if operand is not None and operand < len(node.inputs) and node.inputs[operand] == index:
            return np.array(graph.tensors[node.outputs[0]].shape, dtype=graph.tensors[index].dtype.np)
    return None


def open_reference(graph: Graph, against: str) -> ReferenceRuntime:
    data = graph.reference_model
    if not data:
        with open(graph.source_path, "rb") as f:
            data = f.read()
    return get_reference(against, data, graph.source_path, len(graph.tensors), len(graph.outputs),
                         graph.source_tensor_names)


def compare(graph: Graph, against: str, inputs: Sequence[Sequence[np.ndarray]],
            progress: Callable[[int], None] | None = None) -> CompareReport:
    program = prepare_program(graph, Numerics(against))
    reference = open_reference(graph, against)
    mismatched = 0
    max_diff: int | float = 0
    first_bad: Sequence[np.ndarray] | None = None
    for k, batch in enumerate(inputs):
        ours = run(program, batch).outputs
        theirs = reference.run(batch).outputs
        differs = False
        for a, b in zip(ours, theirs, strict=True):
            b = np.asarray(b).reshape(a.shape).astype(a.dtype)
            if a.tobytes() != b.tobytes():
                differs = True
                max_diff = max(max_diff, _max_abs_diff(a, b))
        if differs:
            mismatched += 1
            first_bad = first_bad if first_bad is not None else batch
        if progress:
            progress(k + 1)
    divergent = find_first_divergent_op(program, reference, first_bad) if first_bad is not None else None
    return CompareReport(
        model=graph.source_path, against=against, inputs=len(inputs), mismatched_inputs=mismatched,
        max_abs_diff=max_diff, first_divergent_op=divergent,
    )


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> int | float:
    if a.dtype.kind == "f":
        return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
    return int(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64))))


def find_first_divergent_op(program: Program, reference: ReferenceRuntime,
                            batch: Sequence[np.ndarray]) -> DivergentOp | None:
    """Run both sides keeping every tensor; the first op (in execution order) whose output differs."""
    ours = run(program, batch, keep_tensors=True).tensors
    theirs = reference.run(batch, keep_tensors=True).tensors
    graph = program.graph
    for step in program.steps:
        for i in step.node.outputs:
            origin = graph.tensors[i].origin
            if origin is None or origin not in theirs:
                continue
            expected = np.asarray(theirs[origin])
            got = ours[i]
            if expected.size != got.size or got.tobytes() != expected.astype(got.dtype).reshape(got.shape).tobytes():
                node = step.node
                return DivergentOp(
                    index=node.origin if node.origin is not None else step.index,
                    name=node.name, type=node.source_op or node.op,
                )
    return None
