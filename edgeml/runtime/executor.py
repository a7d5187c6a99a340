"""Run a prepared Program on the host with the numba kernels (or the slow numpy references)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeml.errors import EdgemlError, InputError
from edgeml.runtime.program import Program


@dataclass(eq=False)
class RunResult:
    outputs: list[np.ndarray]
    # Every tensor value seen during the run, by IR tensor index (only when asked for).
    tensors: dict[int, np.ndarray]


def check_inputs(program: Program, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    graph = program.graph
    where = graph.source_path or graph.name
    if len(inputs) != len(graph.inputs):
        raise InputError(f"{where}: the model takes {len(graph.inputs)} input(s), {len(inputs)} given")
    checked = []
    for k, (array, index) in enumerate(zip(inputs, graph.inputs, strict=True)):
        tensor = graph.tensors[index]
        array = np.asarray(array)
        if array.dtype != tensor.dtype.np:
            raise InputError(
                f"{where}: input {k} ({tensor.name}) must be {tensor.dtype.value}, got {array.dtype}"
            )
        if tuple(array.shape) != tuple(tensor.shape):
            raise InputError(
                f"{where}: input {k} ({tensor.name}) must have shape {tensor.shape}, got {array.shape}"
            )
        checked.append(np.ascontiguousarray(array))
    return checked


def run(program: Program, inputs: Sequence[np.ndarray], *, keep_tensors: bool = False,
        use_reference: bool = False) -> RunResult:
    """Execute every step in order. use_reference swaps the numba kernels for the numpy references."""
    graph = program.graph
    values: dict[int, np.ndarray] = dict(zip(graph.inputs, check_inputs(program, inputs), strict=True))
    for i, tensor in enumerate(graph.tensors):
        if tensor.data is not None:
            values[i] = tensor.data
    for step in program.steps:
        args = [values[i] if i >= 0 else None for i in step.node.inputs]
        try:
            if use_reference:
                results = step.spec.reference(step.params, args)
            else:
                results = [np.empty(graph.tensors[i].shape, graph.tensors[i].dtype.np) for i in step.node.outputs]
                step.spec.kernel(step.params, args, results)
        except (ValueError, IndexError, ZeroDivisionError, OverflowError) as exc:
            # Only a model whose declared shapes contradict each other gets here.
            where = graph.source_path or graph.name
            raise EdgemlError(f"{where}: {graph.node_label(step.index)} cannot run: {exc}") from None
        for i, value in zip(step.node.outputs, results, strict=True):
            values[i] = value
    outputs = [values[i] for i in graph.outputs]
    return RunResult(outputs=outputs, tensors=values if keep_tensors else {})
