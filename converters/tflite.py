"""Read a .tflite flatbuffer into the edgeml IR. Translation only: no optimisation here."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgeml.converters.flatbuffer import Buffer, Table
from edgeml.converters.tflite_ops import TFLITE_OPS
from edgeml.converters.tflite_schema import BUILTIN_OPERATORS, TENSOR_TYPES
from edgeml.errors import EdgemlError, ModelFormatError
from edgeml.ir.dtypes import DType
from edgeml.ir.graph import UNSUPPORTED_OP, Graph, Node, Tensor, TensorKind, Unsupported, sha256_bytes
from edgeml.ir.quant import QuantParams
from edgeml.ir.validate import validate

_DTYPES = {
    "FLOAT32": DType.FLOAT32, "INT32": DType.INT32, "UINT8": DType.UINT8, "INT64": DType.INT64,
    "BOOL": DType.BOOL, "INT16": DType.INT16, "INT8": DType.INT8,
}
_CUSTOM_CODE = 32
_MAX_TENSORS = 1 << 20


def read_model_bytes(path: str | os.PathLike) -> bytes:
    path = Path(path)
    if not path.exists():
        raise ModelFormatError(f"{path}: no such file")
    if path.is_dir():
        raise ModelFormatError(f"{path}: is a directory, expected a .tflite file")
    return path.read_bytes()


def load_tflite(path: str | os.PathLike) -> Graph:
    data = read_model_bytes(path)
    return parse_tflite(data, str(path))


def parse_tflite(data: bytes, path: str = "<bytes>") -> Graph:
    if len(data) < 8:
        raise ModelFormatError(f"{path}: {len(data)} bytes is too short to be a TFLite model")
    if data[4:8] != b"TFL3":
        raise ModelFormatError(
            f"{path}: not a TFLite model (missing the 'TFL3' identifier at byte offset 4); "
            "expected a .tflite flatbuffer"
        )
    buf = Buffer(data, path)
    try:
        return _Reader(buf).graph()
    except EdgemlError:
        raise
    except (ValueError, IndexError, KeyError, OverflowError, UnicodeDecodeError, MemoryError) as exc:
        raise ModelFormatError(f"{path}: malformed TFLite model: {exc}") from None


class _Reader:
    def __init__(self, buf: Buffer):
        self.buf = buf
        self.path = buf.path
        self.model = buf.root()

    def graph(self) -> Graph:
        version = self.model.scalar(0, "I", 0)
        if version != 3:
            raise ModelFormatError(f"{self.path}: TFLite schema version {version}, expected 3")
        subgraphs = self.model.tables(2)
        if not subgraphs:
            raise ModelFormatError(f"{self.path}: the model has no subgraph")
        sub = subgraphs[0]
        buffers = self.model.tables(4)
        opcodes = self.model.tables(1)
        name = Path(self.path).stem if self.path != "<bytes>" else "model"
        graph = Graph(name=name, source_path=self.path, source_hash=sha256_bytes(self.buf.data))
        tensor_tables = sub.tables(0)
        if len(tensor_tables) > _MAX_TENSORS:
            raise ModelFormatError(f"{self.path}: {len(tensor_tables)} tensors is implausible")
        graph.tensors = [self._tensor(i, t, buffers) for i, t in enumerate(tensor_tables)]
        graph.inputs = self._indices(sub, 1, len(graph.tensors), "subgraph inputs")
        graph.outputs = self._indices(sub, 2, len(graph.tensors), "subgraph outputs")
        names = [t.name for t in graph.tensors]
        graph.nodes = [self._node(index, op_table, opcodes, names) for index, op_table in enumerate(sub.tables(3))]
        validate(graph)
        return graph

    def _indices(self, table: Table, field: int, count: int, what: str) -> list[int]:
        values = table.scalar_vector(field, "i")
        values = [] if values is None else [int(v) for v in values]
        for v in values:
            if v < -1 or v >= count:
                raise ModelFormatError(f"{self.path}: {what} refer to tensor {v}, but there are {count}")
        return values

    def _tensor(self, index: int, t: Table, buffers: list[Table]) -> Tensor:
        name = t.string(3) or f"tensor_{index}"
        type_code = t.scalar(1, "b", 0)
        type_name = TENSOR_TYPES.get(type_code, f"type code {type_code}")
        shape_arr = t.scalar_vector(0, "i")
        shape = tuple(int(s) for s in shape_arr) if shape_arr is not None else ()
        if any(s < 0 for s in shape):
            raise ModelFormatError(f"{self.path}: tensor {index} ({name}) has a dynamic or negative shape {shape}")
        dtype = _DTYPES.get(type_name)
        data = self._buffer_data(t.scalar(2, "I", 0), buffers, index, name)
        quant = self._quant(t.table(4), index, name)
        kind = TensorKind.STATE if t.scalar(5, "?", False) else TensorKind.ACTIVATION
        if dtype is None:
            # Kept so the op using it can be reported as unsupported with its reason.
            dtype = DType.UINT8
            name = f"{name} [{type_name}]"
        tensor = Tensor(name=name, shape=shape, dtype=dtype, quant=quant, kind=kind, origin=index)
        if data is not None and kind is not TensorKind.STATE:
            count = tensor.num_elements
            expected = count * dtype.np.itemsize
            if len(data) != expected:
                raise ModelFormatError(
                    f"{self.path}: tensor {index} ({name}) holds {len(data)} bytes of data, "
                    f"but its shape {shape} and type {type_name} need {expected}"
                )
            tensor.data = np.frombuffer(bytes(data), dtype=dtype.np.newbyteorder("<")).reshape(shape).astype(
                dtype.np)
            tensor.kind = TensorKind.CONSTANT
        return tensor

    def _buffer_data(self, index: int, buffers: list[Table], tensor_index: int, name: str):
        if index == 0:
            return None
        if index >= len(buffers):
            raise ModelFormatError(
                f"{self.path}: tensor {tensor_index} ({name}) refers to buffer {index}, "
                f"but the model has {len(buffers)}"
            )
        buffer = buffers[index]
        data = buffer.bytes_vector(0)
        if data is not None and len(data):
            return data
        offset, size = buffer.scalar(1, "Q", 0), buffer.scalar(2, "Q", 0)
        if offset > 1 and size:
            if offset + size > len(self.buf.data):
                raise self.buf.fail(offset, f"buffer {index} of {size} bytes runs past the end")
            return memoryview(self.buf.data)[offset : offset + size]
        return None

    def _quant(self, q: Table | None, index: int, name: str) -> QuantParams | None:
        if q is None:
            return None
        scale = q.scalar_vector(2, "f")
        zero_point = q.scalar_vector(3, "q")
        if scale is None or scale.size == 0:
            return None
        if zero_point is None or zero_point.size == 0:
            zero_point = np.zeros(scale.size, np.int64)
        if zero_point.size != scale.size:
            raise ModelFormatError(
                f"{self.path}: tensor {index} ({name}) has {scale.size} scales but {zero_point.size} zero points"
            )
        if not np.all(np.isfinite(scale)) or np.any(scale < 0):
            raise ModelFormatError(
                f"{self.path}: tensor {index} ({name}) has a negative or non-finite quantization scale"
            )
        if np.any(np.abs(zero_point) > 1 << 31):
            raise ModelFormatError(f"{self.path}: tensor {index} ({name}) has an out-of-range zero point")
        axis = q.scalar(6, "i", 0) if scale.size > 1 else None
        return QuantParams(scale=scale.astype(np.float32), zero_point=zero_point.astype(np.int64), axis=axis)

    def _node(self, index: int, op: Table, opcodes: list[Table], names: list[str]) -> Node:
        count = len(names)
        opcode_index = op.scalar(0, "I", 0)
        if opcode_index >= len(opcodes):
            raise ModelFormatError(
                f"{self.path}: operator {index} uses opcode {opcode_index}, but the model has {len(opcodes)}"
            )
        opcode = opcodes[opcode_index]
        code = max(opcode.scalar(3, "i", 0), opcode.scalar(0, "b", 0))
        op_name = BUILTIN_OPERATORS.get(code, f"BUILTIN_{code}")
        if code == _CUSTOM_CODE:
            op_name = f"CUSTOM:{opcode.string(1) or '?'}"
        inputs = self._indices(op, 1, count, f"operator {index} ({op_name}) inputs")
        outputs = self._indices(op, 2, count, f"operator {index} ({op_name}) outputs")
        name = names[outputs[0]] if outputs and outputs[0] >= 0 else op_name
        mapping = TFLITE_OPS.get(code)
        if mapping is None:
            return Node(UNSUPPORTED_OP, inputs, outputs, Unsupported("not supported by edgeml"),
                        name=name, origin=index, source_op=op_name)
        try:
            attrs = mapping.parse(op.table(4)) if mapping.parse else None
        except ValueError as exc:
            return Node(UNSUPPORTED_OP, inputs, outputs, Unsupported(str(exc)), name=name, origin=index,
                        source_op=op_name)
        return Node(op=mapping.op, inputs=inputs, outputs=outputs, attrs=attrs, name=name, origin=index,
                    source_op=op_name)
