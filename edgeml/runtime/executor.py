"""Run a prepared Program on the host with the numba kernels (or the slow numpy references)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from edgeml.errors import EdgemlError, InputError
from edgeml.ir.graph import TensorKind
from edgeml.ops.base import OpSpec
from edgeml.plan.memory import MemoryPlan, plan_memory
from edgeml.runtime.blas import OneBlasThread
from edgeml.runtime.program import Program

_KERNEL_ERRORS = (ValueError, IndexError, ZeroDivisionError, OverflowError)


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
            raise InputError(f"{where}: input {k} ({tensor.name}) must be {tensor.dtype.value}, got {array.dtype}")
        if tuple(array.shape) != tuple(tensor.shape):
            raise InputError(f"{where}: input {k} ({tensor.name}) must have shape {tensor.shape}, got {array.shape}")
        checked.append(array)
    return checked


class Runner:
    """Every activation lives in one arena at its planned offset; kernel calls are bound up front.

    Running inside the planned arena (not one array per tensor) means a wrong plan corrupts results,
    and the bit-exact tests catch it: the host run exercises the same layout the firmware uses.
    """

    def __init__(self, program: Program, plan: MemoryPlan | None = None):
        graph = program.graph
        self.program = program
        self.plan = plan or plan_memory(graph, numerics=program.numerics)
        self.arena = np.zeros(max(self.plan.arena_bytes, 1), np.uint8)
        offsets = self.plan.tensor_offsets()
        self.buffers: dict[int, np.ndarray] = {}
        for i, tensor in enumerate(graph.tensors):
            if tensor.data is not None:
                self.buffers[i] = tensor.data
            elif i in offsets:
                start = offsets[i]
                window = self.arena[start : start + tensor.nbytes]
                self.buffers[i] = window.view(tensor.dtype.np).reshape(tensor.shape)
            elif tensor.kind is not TensorKind.CONSTANT:
                self.buffers[i] = np.zeros(tensor.shape, tensor.dtype.np)  # touched by no op
        by_node = {step.index: step for step in program.steps}
        self.steps = [by_node[n] for n in self.plan.order]
        self.calls: list[Callable[[], None]] = []
        for step in self.steps:
            args = [self.buffers[i] if i >= 0 else None for i in step.node.inputs]
            outs = [self.buffers[i] for i in step.node.outputs]
            self.calls.append(_bind(step.spec, step.params, args, outs))

    def run(self, inputs: Sequence[np.ndarray], keep_tensors: bool = False) -> RunResult:
        graph = self.program.graph
        for index, array in zip(graph.inputs, check_inputs(self.program, inputs), strict=True):
            self.buffers[index][...] = array
        tensors: dict[int, np.ndarray] = {}
        if keep_tensors:
            tensors = {i: self.buffers[i].copy() for i in graph.inputs}
        k = 0
        try:
            with OneBlasThread():
                for k, call in enumerate(self.calls):
                    call()
                    if keep_tensors:
                        # Copied now: the arena bytes are reused by later steps.
                        for i in self.steps[k].node.outputs:
                            tensors[i] = self.buffers[i].copy()
        except _KERNEL_ERRORS as exc:
            raise _kernel_failure(self.program, self.steps[k].index, exc) from None
        return RunResult([self.buffers[i].copy() for i in graph.outputs], tensors)


def _bind(spec: OpSpec, params, args: list, outs: list) -> Callable[[], None]:
    if spec.bind is not None:
        try:
            return spec.bind(params, args, outs)
        except _KERNEL_ERRORS:
            pass  # arrays that contradict the params: the kernel reports it when the step runs
    return partial(spec.kernel, params, args, outs)


def _kernel_failure(program: Program, node_index: int, exc: Exception) -> EdgemlError:
    # Only a model whose declared shapes contradict each other gets here.
    graph = program.graph
    where = graph.source_path or graph.name
    return EdgemlError(f"{where}: {graph.node_label(node_index)} cannot run: {exc}")


def run_reference(program: Program, inputs: Sequence[np.ndarray]) -> RunResult:
    """Every op through its slow numpy reference, fresh arrays throughout."""
    graph = program.graph
    values: dict[int, np.ndarray] = dict(zip(graph.inputs, check_inputs(program, inputs), strict=True))
    for i, tensor in enumerate(graph.tensors):
        if tensor.data is not None:
            values[i] = tensor.data
    for step in program.steps:
        try:
            results = step.spec.reference(step.params, [values[i] if i >= 0 else None for i in step.node.inputs])
        except _KERNEL_ERRORS as exc:
            raise _kernel_failure(program, step.index, exc) from None
        values.update(zip(step.node.outputs, results, strict=True))
    return RunResult([values[i] for i in graph.outputs], values)


def run(program: Program, inputs: Sequence[np.ndarray], *, keep_tensors: bool = False,
        use_reference: bool = False) -> RunResult:
    """Execute every step in order. use_reference swaps the numba kernels for the numpy references."""
    if use_reference:
        return run_reference(program, inputs)
    runner = program.__dict__.get("_runner")
    if runner is None:
        runner = program.__dict__["_runner"] = Runner(program)
    return runner.run(inputs, keep_tensors)
