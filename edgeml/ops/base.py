"""OpSpec: everything edgeml knows about one operator, in one place."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeml.errors import UnsupportedOpError
from edgeml.ir.graph import Graph, Node, Tensor
from edgeml.quant.requant import Rounding


class Numerics(enum.Enum):
    """Which reference's integer arithmetic to reproduce. Chosen by the user, carried as data."""

    TFLITE = "tflite"  # ai-edge-litert's builtin reference kernels
    TFLM = "tflm"  # TensorFlow Lite Micro's reference kernels
    # onnxruntime's CPU kernels (MLAS): float32 requantization, round half to even. ONNX models only.
    ONNXRUNTIME = "onnxruntime"

    @property
    def rounding(self) -> Rounding:
        """The rounding of MultiplyByQuantizedMultiplier in this reference's FULLY_CONNECTED-style
        kernels; ops whose reference rounds otherwise say so in their own module."""
        return Rounding.SINGLE if self is Numerics.TFLITE else Rounding.DOUBLE

    @property
    def is_onnx(self) -> bool:
        return self is Numerics.ONNXRUNTIME


# The numerics an op supports unless its OpSpec says otherwise.
TFLITE_NUMERICS = frozenset({Numerics.TFLITE, Numerics.TFLM})
ALL_NUMERICS = frozenset(Numerics)


@dataclass(frozen=True)
class OpContext:
    """What an op's prepare step sees: the node in its graph and the numerics to reproduce."""

    graph: Graph
    node: Node
    numerics: Numerics

    @property
    def attrs(self) -> Any:
        return self.node.attrs

    @property
    def inputs(self) -> list[Tensor | None]:
        return self.graph.input_tensors(self.node)

    @property
    def outputs(self) -> list[Tensor]:
        return self.graph.output_tensors(self.node)

    def input(self, i: int) -> Tensor:
        if i >= len(self.node.inputs) or self.node.inputs[i] < 0:
            raise self.unsupported(f"input {i} is missing")
        return self.graph.tensors[self.node.inputs[i]]

    def optional_input(self, i: int) -> Tensor | None:
        if i >= len(self.node.inputs) or self.node.inputs[i] < 0:
            return None
        return self.graph.tensors[self.node.inputs[i]]

    def output(self, i: int = 0) -> Tensor:
        return self.graph.tensors[self.node.outputs[i]]

    def constant(self, i: int) -> np.ndarray:
        tensor = self.input(i)
        if tensor.data is None:
            raise self.unsupported(f"input {i} ({tensor.name}) must be a constant")
        return tensor.data

    def unsupported(self, why: str) -> UnsupportedOpError:
        index = self.graph.nodes.index(self.node) if self.node in self.graph.nodes else -1
        label = self.graph.node_label(index) if index >= 0 else self.node.op
        return UnsupportedOpError(f"{label}: {why}")


Arrays = Sequence[np.ndarray | None]
PrepareFn = Callable[[OpContext], Any]
ReferenceFn = Callable[[Any, Arrays], list[np.ndarray]]
KernelFn = Callable[[Any, Arrays, Sequence[np.ndarray]], None]
BindFn = Callable[[Any, Arrays, Sequence[np.ndarray]], Callable[[], None]]


def _zero(_ctx: OpContext) -> int:
    return 0


@dataclass(frozen=True)
class OpSpec:
    """One operator: its preparation, a slow numpy integer reference and the fast numba kernel.

    prepare(ctx) validates the variant (dtypes, quantization, attributes), raising
    UnsupportedOpError otherwise, and returns the op's typed params: every number the kernels need
    (multipliers, shifts, clamp bounds, lookup tables), computed once for the chosen numerics.
    reference(params, inputs) returns fresh output arrays; kernel(params, inputs, outputs) writes
    into preallocated outputs. Both must agree bit for bit.
    """

    name: str
    prepare: PrepareFn
    reference: ReferenceFn
    kernel: KernelFn
    macs: Callable[[OpContext], int] = _zero
    scratch_bytes: Callable[[OpContext], int] = _zero
    # (output index, input index) pairs whose storage may be shared when the input dies here.
    inplace: tuple[tuple[int, int], ...] | Callable[[OpContext], tuple[tuple[int, int], ...]] = ()
    # Extra scratch a device kernel needs only when it runs in place (e.g. a row ring buffer).
    inplace_scratch_bytes: Callable[[OpContext], int] = _zero
    # True for ops that only reinterpret their input's bytes (reshape, squeeze).
    alias: bool = False
    # Index of an input that carries the op's output shape (TRANSPOSE_CONV), or None. When such an
    # input is a model input, it must hold exactly that shape: random test data would be nonsense.
    shape_operand: int | None = None
    # Optional: bind(params, inputs, outputs) returns a no-argument call equivalent to
    # kernel(params, inputs, outputs) for these very arrays, with everything resolvable resolved once
    # (views, argument tuples), for the runner's loop. None: the runner binds the kernel itself.
    bind: BindFn | None = None
    # c_emit(params, ctx) -> edgeml.codegen.c_values.CCall: the op's C kernel and its arguments
    # (firmware/kernels/edg_<module>.c). None: no C kernel yet; code generation refuses the model.
    c_emit: Callable[[Any, OpContext], Any] | None = None
    # The references whose arithmetic prepare() can reproduce; preparing for another is refused.
    # Ops that only move bytes compute the same in every reference (ALL_NUMERICS).
    numerics: frozenset[Numerics] = TFLITE_NUMERICS
    # The numerics c_emit's kernel reproduces (a subset of `numerics`); code generation refuses others.
    c_numerics: frozenset[Numerics] = TFLITE_NUMERICS

    def inplace_pairs(self, ctx: OpContext) -> tuple[tuple[int, int], ...]:
        """(output, input) pairs that may share storage for this node: fixed, or decided per node."""
        return self.inplace(ctx) if callable(self.inplace) else self.inplace
