"""CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV against both references.

The zoo's integration models are all 16x8 with VALID padding, so the other variants (SAME padding,
dilation, depth multipliers, per-tensor weights, fused activations, int8 transpose convolution,
refused variants) come from one-op models that this file writes itself with the flatbuffers builder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from conftest import assert_bit_exact, assert_kernels_match_references, zoo_path

from edgeml.api import load
from edgeml.compare import random_inputs
from edgeml.errors import EdgemlError, UnsupportedOpError
from edgeml.ops.base import Numerics
from edgeml.runtime.executor import run
from edgeml.runtime.program import prepare_program

REFERENCES = ("tflite", "tflm")

# ---------------------------------------------------------------------------------------------
# A minimal TFLite writer: one subgraph, one operator (schema field indices as in schema.fbs).

_TYPE_CODES = {np.dtype(np.float32): 0, np.dtype(np.int32): 2, np.dtype(np.int64): 4, np.dtype(np.int16): 7,
               np.dtype(np.int8): 9}
CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV = 3, 4, 67
_OPTIONS_TYPE = {CONV_2D: 1, DEPTHWISE_CONV_2D: 2, TRANSPOSE_CONV: 49}
SAME, VALID = 0, 1
NONE, RELU, RELU6 = 0, 1, 3


@dataclass
class TensorSpec:
    shape: tuple[int, ...]
    dtype: type
    data: np.ndarray | None = None
    scale: list[float] = field(default_factory=list)
    zero_point: list[int] = field(default_factory=list)
    axis: int = 0


@dataclass
class OpModel:
    code: int
    version: int
    options: list[tuple[str, int, int]]  # (kind "b" byte or "i" int32, field index, value)
    tensors: list[TensorSpec]
    op_inputs: list[int]
    op_outputs: list[int]


def _vector(b: flatbuffers.Builder, values, prepend, size: int) -> int:
    b.StartVector(size, len(values), size)
    for v in reversed(list(values)):
        prepend(v)
    return b.EndVector()


def _offsets(b: flatbuffers.Builder, offsets: list[int]) -> int:
    return _vector(b, offsets, b.PrependUOffsetTRelative, 4)


def _quantization(b: flatbuffers.Builder, t: TensorSpec) -> int:
    scale = _vector(b, t.scale, b.PrependFloat32, 4)
    zero_point = _vector(b, t.zero_point or [0] * len(t.scale), b.PrependInt64, 8)
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(2, scale, 0)
    b.PrependUOffsetTRelativeSlot(3, zero_point, 0)
    b.PrependInt32Slot(6, t.axis, 0)
    return b.EndObject()


def write_model(path: Path, m: OpModel) -> Path:
    b = flatbuffers.Builder(4096)
    buffers = [None] + [t.data for t in m.tensors if t.data is not None]
    buffer_tables = []
    for data in buffers:
        blob = None
        if data is not None:
            raw = np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<")).tobytes()
            b.Prep(16, len(raw))
            blob = b.CreateByteVector(raw)
        b.StartObject(3)
        if blob is not None:
            b.PrependUOffsetTRelativeSlot(0, blob, 0)
        buffer_tables.append(b.EndObject())
    tensor_tables, next_buffer = [], 1
    for k, t in enumerate(m.tensors):
        name = b.CreateString(f"t{k}")
        shape = _vector(b, t.shape, b.PrependInt32, 4)
        quant = _quantization(b, t) if t.scale else None
        b.StartObject(6)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, _TYPE_CODES[np.dtype(t.dtype)], 0)
        if t.data is not None:
            b.PrependUint32Slot(2, next_buffer, 0)
            next_buffer += 1
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(4, quant, 0)
        tensor_tables.append(b.EndObject())
    b.StartObject(7)
    for kind, index, value in m.options:
        # Always written, even when equal to the schema default.
        (b.PrependInt8 if kind == "b" else b.PrependInt32)(value)
        b.Slot(index)
    options = b.EndObject()
    op_in = _vector(b, m.op_inputs, b.PrependInt32, 4)
    op_out = _vector(b, m.op_outputs, b.PrependInt32, 4)
    b.StartObject(5)
    b.PrependUint32Slot(0, 0, 1)
    b.PrependUOffsetTRelativeSlot(1, op_in, 0)
    b.PrependUOffsetTRelativeSlot(2, op_out, 0)
    b.PrependUint8Slot(3, _OPTIONS_TYPE[m.code], 0)
    b.PrependUOffsetTRelativeSlot(4, options, 0)
    operator = b.EndObject()
    graph_inputs = [i for i in m.op_inputs if i >= 0 and m.tensors[i].data is None]
    tensors_vec = _offsets(b, tensor_tables)
    sub_in = _vector(b, graph_inputs, b.PrependInt32, 4)
    sub_out = _vector(b, m.op_outputs, b.PrependInt32, 4)
    ops_vec = _offsets(b, [operator])
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tensors_vec, 0)
    b.PrependUOffsetTRelativeSlot(1, sub_in, 0)
    b.PrependUOffsetTRelativeSlot(2, sub_out, 0)
    b.PrependUOffsetTRelativeSlot(3, ops_vec, 0)
    subgraph = b.EndObject()
    b.StartObject(4)
    b.PrependInt8Slot(0, min(m.code, 127), 0)
    b.PrependInt32Slot(2, m.version, 1)
    b.PrependInt32Slot(3, m.code, 0)
    opcode = b.EndObject()
    opcodes_vec, subgraphs_vec, buffers_vec = _offsets(b, [opcode]), _offsets(b, [subgraph]), _offsets(b, buffer_tables)
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, opcodes_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, subgraphs_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, buffers_vec, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    path.write_bytes(bytes(b.Output()))
    return path


# ---------------------------------------------------------------------------------------------
# Random one-op models with plausible quantization (outputs spread over the int8 / int16 range).


@dataclass(frozen=True)
class Case:
    name: str
    op: int
    in_shape: tuple[int, int, int, int]
    filter_hw: tuple[int, int]
    out_c: int
    padding: int = SAME
    stride: tuple[int, int] = (1, 1)  # (h, w)
    dilation: tuple[int, int] = (1, 1)
    activation: int = NONE
    wide: bool = False  # 16x8
    per_channel: bool = True
    bias: bool = True
    input_zero_point: int = -7


def _window_out(padding: int, size: int, k: int, stride: int, dilation: int) -> int:
    effective = (k - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == SAME else (size + stride - effective) // stride


def _transpose_out(padding: int, size: int, k: int, stride: int) -> int:
    # The largest output that convolves back to `size` (TFLite requires that it does).
    return size * stride if padding == SAME else (size - 1) * stride + k


def build_case(case: Case, seed: int = 0) -> OpModel:
    rng = np.random.default_rng(seed)
    act = np.int16 if case.wide else np.int8
    in_zp = 0 if case.wide else case.input_zero_point
    out_zp = 0 if case.wide else 5
    n, h, w, c = case.in_shape
    kh, kw = case.filter_hw
    if case.op == DEPTHWISE_CONV_2D:
        w_shape, taps, axis = (1, kh, kw, case.out_c), kh * kw, 3
    elif case.op == CONV_2D:
        w_shape, taps, axis = (case.out_c, kh, kw, c), kh * kw * c, 0
    else:
        w_shape, taps, axis = (case.out_c, kh, kw, c), max(1, kh * kw // (case.stride[0] * case.stride[1])) * c, 0
    weights = rng.integers(-127, 128, w_shape).astype(np.int8)
    in_scale = 0.02
    w_scales = (rng.uniform(0.005, 0.02, case.out_c) if case.per_channel else np.array([0.01])).astype(np.float32)
    in_range = 32768 if case.wide else 128
    # Aim the output's spread at ~30% of its range.
    acc_std = in_range * 0.58 * 73 * np.sqrt(taps) * float(w_scales.mean()) * in_scale
    out_scale = float(acc_std / (0.3 * in_range))
    bias_dtype = np.int64 if case.wide else np.int32
    bias_scales = (in_scale * w_scales).astype(np.float32)
    tensors = [
        TensorSpec(case.in_shape, act, scale=[in_scale], zero_point=[in_zp]),
        TensorSpec(w_shape, np.int8, data=weights, scale=w_scales.tolist(), zero_point=[0] * w_scales.size, axis=axis),
    ]
    biases = []  # no bias: the operator has one input fewer (TFLite's CONV_2D requires one)
    if case.bias:
        bias = rng.integers(-2000 if not case.wide else -200000, 2000 if not case.wide else 200000, case.out_c)
        tensors.append(TensorSpec((case.out_c,), bias_dtype, data=bias.astype(bias_dtype),
                                  scale=np.broadcast_to(bias_scales, (case.out_c,)).tolist(), axis=0))
        biases.append(len(tensors) - 1)
    sh, sw = case.stride
    dh, dw = case.dilation
    if case.op == TRANSPOSE_CONV:
        out_shape = (n, _transpose_out(case.padding, h, kh, sh), _transpose_out(case.padding, w, kw, sw), case.out_c)
    else:
        out_shape = (n, _window_out(case.padding, h, kh, sh, dh), _window_out(case.padding, w, kw, sw, dw), case.out_c)
    tensors.append(TensorSpec(out_shape, act, scale=[out_scale], zero_point=[out_zp]))
    out_index = len(tensors) - 1
    if case.op == CONV_2D:
        options = [("b", 0, case.padding), ("i", 1, sw), ("i", 2, sh), ("b", 3, case.activation), ("i", 4, dw),
                   ("i", 5, dh)]
        return OpModel(CONV_2D, 4 if case.wide else 3, options, tensors, [0, 1, *biases], [out_index])
    if case.op == DEPTHWISE_CONV_2D:
        options = [("b", 0, case.padding), ("i", 1, sw), ("i", 2, sh), ("i", 3, case.out_c // c),
                   ("b", 4, case.activation), ("i", 5, dw), ("i", 6, dh)]
        return OpModel(DEPTHWISE_CONV_2D, 5 if case.wide else 3, options, tensors, [0, 1, *biases], [out_index])
    tensors.append(TensorSpec((4,), np.int32, data=np.array(out_shape, np.int32)))
    options = [("b", 0, case.padding), ("i", 1, sw), ("i", 2, sh), ("b", 3, case.activation)]
    inputs = [len(tensors) - 1, 1, 0, *biases]
    return OpModel(TRANSPOSE_CONV, 4 if case.activation else 3, options, tensors, inputs, [out_index])


CASES = [
    Case("conv_same_stride2_relu6_per_tensor", CONV_2D, (1, 11, 9, 3), (3, 3), 8, stride=(2, 2), activation=RELU6,
         per_channel=False),
    Case("conv_valid_dilated_relu", CONV_2D, (1, 12, 10, 5), (3, 2), 6, padding=VALID, dilation=(2, 3),
         activation=RELU),
    Case("conv_same_5x3_strides_2x1_batch2", CONV_2D, (2, 9, 8, 4), (5, 3), 7, stride=(2, 1)),
    Case("conv_1x1", CONV_2D, (1, 6, 5, 16), (1, 1), 12, input_zero_point=-128),
    Case("conv_16x8_same_dilated", CONV_2D, (1, 8, 9, 4), (3, 3), 6, dilation=(2, 1), wide=True),
    Case("conv_16x8_relu_stride2", CONV_2D, (1, 9, 9, 3), (3, 3), 5, stride=(2, 2), activation=RELU, wide=True),
    Case("depthwise_same_stride1_no_bias", DEPTHWISE_CONV_2D, (1, 10, 9, 8), (3, 3), 8, per_channel=False,
         bias=False),
    Case("depthwise_dm2_stride2_dilated_relu6", DEPTHWISE_CONV_2D, (1, 11, 10, 3), (3, 3), 6, stride=(2, 2),
         dilation=(2, 2), activation=RELU6),
    Case("depthwise_dm3_valid_stride_1x2", DEPTHWISE_CONV_2D, (2, 7, 9, 2), (2, 3), 6, padding=VALID, stride=(1, 2)),
    Case("depthwise_one_channel_dm4", DEPTHWISE_CONV_2D, (1, 13, 11, 1), (4, 3), 4, stride=(2, 2), bias=False),
    Case("depthwise_16x8", DEPTHWISE_CONV_2D, (1, 9, 8, 6), (3, 3), 6, wide=True),
    Case("transpose_int8_same_stride2", TRANSPOSE_CONV, (1, 5, 4, 6), (3, 3), 4, stride=(2, 2)),
    Case("transpose_int8_valid_stride3_per_tensor", TRANSPOSE_CONV, (1, 3, 4, 5), (2, 4), 3, padding=VALID,
         stride=(3, 2), per_channel=False, bias=False),
    Case("transpose_16x8_same", TRANSPOSE_CONV, (1, 4, 5, 8), (4, 3), 6, stride=(2, 1), wide=True),
    Case("transpose_16x8_valid_no_bias", TRANSPOSE_CONV, (1, 3, 6, 4), (3, 4), 5, padding=VALID, stride=(1, 2),
         wide=True, bias=False),
]


@pytest.fixture(scope="module")
def case_models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("conv_cases")
    return {case.name: write_model(folder / f"{case.name}.tflite", build_case(case)) for case in CASES}


@pytest.mark.parametrize("against", REFERENCES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_op_model_bit_exact(case: Case, against: str, case_models: dict[str, Path]) -> None:
    assert_bit_exact(case_models[case.name], against, count=8)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_op_model_kernel_matches_numpy_reference(case: Case, case_models: dict[str, Path]) -> None:
    for numerics in REFERENCES:
        assert_kernels_match_references(case_models[case.name], numerics, count=2)


# ---------------------------------------------------------------------------------------------
# The zoo's TFLite Micro integration models (16x8), against both references.

INTEGRATION = [f"tflm_integration_tests/conv{i}.tflite" for i in range(22)] + [
    f"tflm_integration_tests/transpose_conv{i}.tflite" for i in range(5)]


@pytest.mark.zoo
@pytest.mark.parametrize("model", INTEGRATION, ids=[m.split("/")[-1] for m in INTEGRATION])
def test_integration_model_bit_exact(model: str) -> None:
    path = zoo_path(model)
    for against in REFERENCES:
        assert_bit_exact(path, against, count=3)
    assert_kernels_match_references(path, "tflm", count=1)


# ---------------------------------------------------------------------------------------------
# Variants edgeml refuses, with the op named.


def _refused(tmp_path: Path, model: OpModel, match: str) -> None:
    graph = load(write_model(tmp_path / "refused.tflite", model))
    with pytest.raises(UnsupportedOpError, match=match):
        prepare_program(graph, Numerics.TFLITE)


def test_grouped_convolution_is_refused(tmp_path: Path) -> None:
    model = build_case(Case("grouped", CONV_2D, (1, 6, 6, 4), (3, 3), 4))
    model.tensors[0].shape = (1, 6, 6, 8)  # 8 input channels, weights for 4: two groups
    _refused(tmp_path, model, r"CONV_2D.*grouped")


def test_depth_multiplier_attribute_must_match_shapes(tmp_path: Path) -> None:
    model = build_case(Case("dm", DEPTHWISE_CONV_2D, (1, 6, 6, 2), (3, 3), 4))
    model.options = [(k, i, 1 if i == 3 else v) for k, i, v in model.options]
    _refused(tmp_path, model, r"DEPTHWISE_CONV_2D.*depth_multiplier 1")


def test_nonzero_weight_zero_point_is_refused(tmp_path: Path) -> None:
    model = build_case(Case("zp", CONV_2D, (1, 6, 6, 2), (3, 3), 3, per_channel=False))
    model.tensors[1].zero_point = [3]
    _refused(tmp_path, model, r"CONV_2D.*zero point")


def test_16x8_needs_symmetric_activations(tmp_path: Path) -> None:
    model = build_case(Case("zp16", CONV_2D, (1, 6, 6, 2), (3, 3), 3, wide=True))
    model.tensors[0].zero_point = [4]
    _refused(tmp_path, model, r"CONV_2D.*16x8")


def test_zero_stride_is_refused(tmp_path: Path) -> None:
    model = build_case(Case("stride", CONV_2D, (1, 6, 6, 2), (3, 3), 3))
    model.options = [(k, i, 0 if i == 1 else v) for k, i, v in model.options]
    _refused(tmp_path, model, r"CONV_2D.*stride_w 0")


def test_transpose_conv_output_shape_input_is_checked(tmp_path: Path) -> None:
    # The zoo's transpose_conv models take the output shape as a model input: a wrong one is an error.
    model = build_case(Case("shape", TRANSPOSE_CONV, (1, 3, 3, 2), (3, 3), 2, stride=(2, 2)))
    model.tensors[-1].data = None  # output shape becomes a model input
    graph = load(write_model(tmp_path / "shape_input.tflite", model))
    program = prepare_program(graph, Numerics.TFLM)
    inputs = random_inputs(graph, 1, 0)[0]
    shape_position = next(k for k, i in enumerate(graph.inputs) if graph.tensors[i].shape == (4,))
    assert inputs[shape_position].tolist() == list(graph.tensors[graph.outputs[0]].shape)
    run(program, inputs)
    inputs[shape_position] = np.array([1, 7, 7, 2], np.int32)
    with pytest.raises(EdgemlError, match="output shape"):
        run(program, inputs)


# ---------------------------------------------------------------------------------------------
# Fast-path helpers against the single definitions they must equal.


def test_branchless_double_rounding_equals_multiply_by_quantized_multiplier() -> None:
    from numba import njit

    from edgeml.quant.requant import (
        multiply_by_quantized_multiplier,
        multiply_by_quantized_multiplier_double_branchless,
    )

    @njit
    def mismatches(xs, multipliers, shifts):
        bad = 0
        for i in range(xs.shape[0]):
            for j in range(multipliers.shape[0]):
                fast = multiply_by_quantized_multiplier_double_branchless(xs[i], multipliers[j], shifts[j])
                bad += fast != multiply_by_quantized_multiplier(xs[i], multipliers[j], shifts[j], 1)
        return bad

    rng = np.random.default_rng(0)
    edges = np.array([-(1 << 31), -(1 << 31) + 1, -1, 0, 1, (1 << 31) - 1], np.int64)
    xs = np.concatenate([edges, rng.integers(-(1 << 31), 1 << 31, 20000), rng.integers(-4096, 4096, 2000)])
    shifts = np.arange(-31, 8, dtype=np.int64)
    multipliers = np.concatenate([[0, 1 << 30, (1 << 31) - 1], rng.integers(1 << 30, 1 << 31, shifts.size - 3)])
    assert mismatches(xs, multipliers.astype(np.int64), shifts) == 0


@pytest.mark.parametrize("numerics", REFERENCES)
def test_fully_connected_integer_dot_path_equals_blas_path(numerics: str) -> None:
    from dataclasses import replace

    from edgeml.ops import fully_connected

    path = zoo_path("mlperf_tiny/ad01_int8.tflite")
    program = prepare_program(load(path), Numerics(numerics))
    rng = np.random.default_rng(1)
    for step in program.steps:
        p = step.params
        assert p.weights_int is not None  # batch-1 int8 layers take the integer dot path
        x = rng.integers(-128, 128, (1, p.accum_depth)).astype(np.int8)
        fast, slow = np.zeros(p.output_shape, np.int8), np.zeros(p.output_shape, np.int8)
        fully_connected.kernel(p, [x], [fast])
        fully_connected.kernel(replace(p, weights_int=None, bias_folded=None), [x], [slow])
        np.testing.assert_array_equal(fast, slow)
