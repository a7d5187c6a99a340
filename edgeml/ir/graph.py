"""The int8 graph IR: tensors, nodes and the graph that owns them."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeml.ir.dtypes import DType
from edgeml.ir.quant import QuantParams


class TensorKind(enum.Enum):
    ACTIVATION = "activation"  # produced and consumed within one invocation: lives in the arena
    CONSTANT = "constant"  # weights, biases, shape operands: flash
    STATE = "state"  # persists across invocations (spiking membranes, streaming buffers)


@dataclass(frozen=True)
class View:
    """A tensor that is a window into another tensor's storage (in-place ops, patches, tokens)."""

    base: int
    byte_offset: int = 0


@dataclass(eq=False)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: DType
    quant: QuantParams | None = None
    kind: TensorKind = TensorKind.ACTIVATION
    data: np.ndarray | None = None  # set for constants
    view: View | None = None
    # Index of this tensor in the source model (used to compare against the reference runtime).
    origin: int | None = None

    @property
    def num_elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.dtype.nbytes(self.num_elements, self.shape[-1] if self.shape else None)

    @property
    def is_constant(self) -> bool:
        return self.kind is TensorKind.CONSTANT


# The op of a node edgeml cannot run. It stays in the graph so that the model can be inspected; its
# attrs (Unsupported) say why, and preparing the graph refuses it with every other such node.
UNSUPPORTED_OP = "UNSUPPORTED"


@dataclass(frozen=True)
class Unsupported:
    reason: str


@dataclass(eq=False)
class Node:
    op: str  # key into the op registry
    inputs: list[int]  # tensor indices; -1 marks an absent optional input
    outputs: list[int]
    attrs: Any = None  # the op's own attrs dataclass
    name: str = ""
    origin: int | None = None  # operator index in the source model
    source_op: str = ""  # the operator's name in the source format (e.g. SQUEEZE for a RESHAPE node)


@dataclass(eq=False)
class Graph:
    name: str
    tensors: list[Tensor] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    source_path: str = ""
    source_hash: str = ""  # sha256 of the source model bytes (of reference_model when that is set)
    # The int8 .tflite the reference runtimes run when the source is not one (a Keras model quantized
    # by TensorFlow's converter); empty when source_path is that .tflite itself.
    reference_model: bytes = b""
    # ONNX sources: the value name that tensors with origin k stand for (the reference runtime names
    # values, not indices); empty for TFLite, whose origins are its own tensor indices.
    source_tensor_names: list[str] = field(default_factory=list)
    # The numerics that reproduce this model's own reference: tflite for .tflite/Keras, onnxruntime for
    # ONNX. An ONNX model's arithmetic is onnxruntime's: TFLite's numerics are refused for it.
    native_numerics: str = "tflite"

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def input_tensors(self, node: Node) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in node.inputs]

    def output_tensors(self, node: Node) -> list[Tensor]:
        return [self.tensors[i] for i in node.outputs]

    def node_label(self, index: int) -> str:
        node = self.nodes[index]
        origin = node.origin if node.origin is not None else index
        return f"op #{origin} {node.source_op or node.op} ({node.name or 'unnamed'})"

    def parameter_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors if t.is_constant)

    def add_tensor(self, tensor: Tensor) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
