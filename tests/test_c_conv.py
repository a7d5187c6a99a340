"""CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV in C against numba and the numpy references.

* every one-op model of tests/test_ops_conv.py, plus variants chosen so that the memory planner
  runs them in place (checked on the plan, not assumed), through the generated model.c;
* chains of convolutions built directly in the IR, where the planner overwrites inputs with outputs;
* each kernel called directly on one buffer with exactly inplace_scratch_bytes of scratch, guard
  bytes around both, so that a kernel reading overwritten input or writing past its scratch fails;
* the zoo: the TFLite Micro integration models, the convolution layers of the MLPerf Tiny models
  (cut out of their graphs), and the whole models (which need every other op's C kernel too).
"""

from __future__ import annotations

import ctypes
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from c_conformance import assert_c_matches
from conftest import zoo_path
from test_ops_conv import (
    CASES,
    CONV_2D,
    DEPTHWISE_CONV_2D,
    RELU,
    RELU6,
    TRANSPOSE_CONV,
    VALID,
    Case,
    build_case,
    write_model,
)

from edgeml.api import load
from edgeml.codegen.c_values import CArray, CCall, c_array_body, c_scalar
from edgeml.codegen.host_build import HOST_CFLAGS, host_compiler
from edgeml.compare import random_inputs
from edgeml.errors import UnsupportedOpError
from edgeml.firmware import INCLUDE_DIR, KERNEL_DIR
from edgeml.ir.dtypes import DType
from edgeml.ir.graph import Graph, Node, Tensor, TensorKind
from edgeml.ir.quant import QuantParams, per_tensor
from edgeml.ir.validate import validate
from edgeml.ops.base import OpContext
from edgeml.ops.common import Activation, Padding
from edgeml.ops.conv2d import Conv2DAttrs
from edgeml.ops.conv_common import window_out_size
from edgeml.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from edgeml.plan.memory import plan_memory
from edgeml.runtime.executor import run
from edgeml.runtime.program import prepare_program

NUMERICS = ("tflite", "tflm")
FAMILY = ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV")


def data_input(node: Node) -> int:
    """The activation a convolution reads (TRANSPOSE_CONV takes it third)."""
    return node.inputs[2] if node.op == "TRANSPOSE_CONV" else node.inputs[0]


def inplace_nodes(graph: Graph) -> set[int]:
    """Nodes whose output the plan puts at their input's offset."""
    offsets = plan_memory(graph).tensor_offsets()
    return {k for k, n in enumerate(graph.nodes) if offsets.get(data_input(n)) == offsets[n.outputs[0]]}


# ---------------------------------------------------------------------------------------------
# One-op models: test_ops_conv's cases, and more that the planner runs in place.

INPLACE_CASES = [
    Case("inplace_conv_3x3_same_shape", CONV_2D, (1, 7, 6, 5), (3, 3), 5),
    Case("inplace_conv_3x3_batch3_relu", CONV_2D, (3, 5, 4, 6), (3, 3), 6, activation=RELU),
    Case("inplace_conv_2x2_same_shape", CONV_2D, (1, 6, 5, 4), (2, 2), 4, per_channel=False),
    Case("inplace_conv_5x4_same_shape", CONV_2D, (2, 8, 7, 3), (5, 4), 3, bias=False),
    Case("inplace_conv_7x1_same_shape", CONV_2D, (1, 9, 3, 4), (7, 1), 4),
    Case("inplace_conv_1x3_same_shape", CONV_2D, (1, 4, 9, 6), (1, 3), 6),
    Case("inplace_conv_1x7_same_shape_batch2", CONV_2D, (2, 3, 11, 8), (1, 7), 8, activation=RELU6),
    Case("inplace_conv_16x8_3x3_same_shape", CONV_2D, (2, 6, 5, 4), (3, 3), 4, wide=True),
    Case("inplace_conv_16x8_4x2_same_shape", CONV_2D, (1, 7, 6, 3), (4, 2), 3, wide=True, bias=False),
    Case("inplace_conv_16x8_1x3_same_shape", CONV_2D, (1, 3, 8, 5), (1, 3), 5, wide=True),
    # Windows over 1152 bytes are not gathered (edg_conv_2d.c): filter rows run straight from the
    # image or from the saved rows, and 1xK runs that straddle the saved pixels go tap by tap.
    Case("inplace_conv_3x3_same_shape_large_window", CONV_2D, (1, 5, 4, 136), (3, 3), 136),
    Case("inplace_conv_1x11_same_shape_large_window", CONV_2D, (1, 2, 9, 112), (1, 11), 112),
    Case("inplace_conv_1x1_narrow", CONV_2D, (1, 6, 5, 16), (1, 1), 5),
    Case("inplace_conv_1x1_widen", CONV_2D, (2, 5, 4, 3), (1, 1), 17, input_zero_point=11),
    Case("inplace_conv_1x1_same_width_valid", CONV_2D, (1, 4, 4, 8), (1, 1), 8, padding=VALID),
    Case("inplace_conv_16x8_1x1_widen", CONV_2D, (1, 5, 6, 4), (1, 1), 9, wide=True),
    Case("inplace_conv_16x8_1x1_narrow_batch2", CONV_2D, (2, 4, 3, 12), (1, 1), 7, wide=True),
    Case("inplace_depthwise_3x3", DEPTHWISE_CONV_2D, (1, 8, 7, 6), (3, 3), 6, activation=RELU6),
    Case("inplace_depthwise_stride2_batch3", DEPTHWISE_CONV_2D, (3, 9, 8, 5), (3, 3), 5, stride=(2, 2)),
    Case("inplace_depthwise_valid_5x3_batch2", DEPTHWISE_CONV_2D, (2, 9, 8, 4), (5, 3), 4, padding=VALID),
    Case("inplace_depthwise_dilated", DEPTHWISE_CONV_2D, (1, 9, 9, 16), (3, 3), 16, dilation=(2, 2),
         per_channel=False),
    Case("inplace_depthwise_16x8_stride_2x1_batch2", DEPTHWISE_CONV_2D, (2, 8, 6, 5), (3, 3), 5, stride=(2, 1),
         wide=True),
]
# Variants no in-place run can take: the C kernels' ordinary paths.
MORE_CASES = [
    Case("conv_16x8_valid_per_tensor_stride_1x3", CONV_2D, (2, 7, 11, 3), (2, 3), 4, padding=VALID, stride=(1, 3),
         per_channel=False),
    Case("conv_1x1_stride2", CONV_2D, (1, 7, 7, 4), (1, 1), 6, stride=(2, 2)),
    Case("depthwise_dm2_16x8_valid", DEPTHWISE_CONV_2D, (1, 6, 7, 3), (2, 2), 6, padding=VALID, wide=True),
    Case("transpose_int8_batch2_relu", TRANSPOSE_CONV, (2, 3, 4, 5), (3, 3), 4, stride=(2, 2), activation=RELU),
    Case("transpose_16x8_stride1_same", TRANSPOSE_CONV, (1, 4, 4, 3), (3, 3), 2, wide=True),
]
ALL_CASES = CASES + INPLACE_CASES + MORE_CASES


@pytest.fixture(scope="module")
def case_graphs(tmp_path_factory) -> dict[str, Graph]:
    folder = tmp_path_factory.mktemp("c_conv_cases")
    return {c.name: load(write_model(folder / f"{c.name}.tflite", build_case(c))) for c in ALL_CASES}


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_one_op_model_in_c(case: Case, numerics: str, case_graphs: dict[str, Graph]) -> None:
    graph = case_graphs[case.name]
    if case in INPLACE_CASES or case in MORE_CASES:
        assert (0 in inplace_nodes(graph)) == (case in INPLACE_CASES), "the plan did not choose what the case is for"
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=2))


# ---------------------------------------------------------------------------------------------
# Chains built in the IR: intermediate tensors die at the next convolution, which may overwrite them.


@dataclass(frozen=True)
class Layer:
    op: str
    filter_hw: tuple[int, int]
    out_c: int
    stride: int = 1
    padding: Padding = Padding.SAME
    activation: Activation = Activation.NONE
    per_channel: bool = True
    bias: bool = True


def chain_graph(name: str, in_shape: tuple[int, int, int, int], layers: list[Layer], wide: bool = False,
                seed: int = 0) -> Graph:
    """input -> layers[0] -> layers[1] -> ...: random weights, scales that keep outputs spread out."""
    rng = np.random.default_rng(seed)
    act = DType.INT16 if wide else DType.INT8
    in_range = 32768 if wide else 128
    graph = Graph(name=name)
    x = graph.add_tensor(Tensor("input", in_shape, act, per_tensor(0.02, 0 if wide else -9)))
    graph.inputs = [x]
    for k, layer in enumerate(layers):
        n, h, w, c = graph.tensors[x].shape
        kh, kw = layer.filter_hw
        depthwise = layer.op == "DEPTHWISE_CONV_2D"
        w_shape = (1, kh, kw, layer.out_c) if depthwise else (layer.out_c, kh, kw, c)
        taps = kh * kw * (1 if depthwise else c)
        w_scales = (rng.uniform(0.005, 0.02, layer.out_c) if layer.per_channel else np.array([0.01])).astype(
            np.float32)
        in_scale = float(graph.tensors[x].quant.single_scale)
        out_scale = in_range * 0.58 * 73 * np.sqrt(taps) * float(w_scales.mean()) * in_scale / (0.3 * in_range)
        axis = 3 if depthwise else 0
        weights = graph.add_tensor(Tensor(
            f"w{k}", w_shape, DType.INT8, QuantParams(w_scales, np.zeros(w_scales.size, np.int64),
                                                      axis if layer.per_channel else None),
            kind=TensorKind.CONSTANT, data=rng.integers(-127, 128, w_shape).astype(np.int8)))
        bias = -1
        if layer.bias:
            bias_dtype = np.int64 if wide else np.int32
            limit = 200000 if wide else 2000
            bias = graph.add_tensor(Tensor(
                f"b{k}", (layer.out_c,), DType.INT64 if wide else DType.INT32,
                QuantParams(np.broadcast_to(in_scale * w_scales, (layer.out_c,)).astype(np.float32),
                            np.zeros(layer.out_c, np.int64), 0),
                kind=TensorKind.CONSTANT, data=rng.integers(-limit, limit, layer.out_c).astype(bias_dtype)))
        out_h = window_out_size(layer.padding, h, kh, layer.stride, 1)
        out_w = window_out_size(layer.padding, w, kw, layer.stride, 1)
        y = graph.add_tensor(Tensor(f"y{k}", (n, out_h, out_w, layer.out_c), act,
                                    per_tensor(out_scale, 0 if wide else int(rng.integers(-20, 20)))))
        if depthwise:
            attrs = DepthwiseConv2DAttrs(layer.padding, layer.stride, layer.stride, layer.out_c // c,
                                         layer.activation)
        else:
            attrs = Conv2DAttrs(layer.padding, layer.stride, layer.stride, layer.activation)
        graph.nodes.append(Node(layer.op, [x, weights, bias], [y], attrs, name=f"{layer.op.lower()}_{k}"))
        x = y
    graph.outputs = [x]
    validate(graph)
    return graph


CONV = "CONV_2D"
DW = "DEPTHWISE_CONV_2D"
CHAINS = {
    # name: (input shape, layers, 16x8, nodes the plan must run in place)
    "same_shape_3x3_convs": ((1, 8, 7, 6), [Layer(CONV, (3, 3), 6), Layer(CONV, (3, 3), 6, activation=Activation.RELU),
                                             Layer(CONV, (3, 3), 6)], False, {0, 1, 2}),
    "same_shape_convs_16x8_batch2": ((2, 6, 5, 4), [Layer(CONV, (3, 3), 4), Layer(CONV, (5, 3), 4),
                                                     Layer(CONV, (2, 2), 4)], True, {0, 1, 2}),
    "pointwise_widen_then_narrow": ((1, 6, 6, 8), [Layer(CONV, (3, 3), 8, stride=2), Layer(CONV, (1, 1), 24),
                                                    Layer(CONV, (1, 1), 6), Layer(CONV, (1, 1), 10)],
                                    False, {2, 3}),
    "pointwise_16x8_batch2": ((2, 4, 5, 6), [Layer(CONV, (1, 1), 3), Layer(CONV, (1, 1), 11),
                                              Layer(CONV, (1, 1), 11)], True, {0, 1, 2}),
    "depthwise_chain": ((1, 12, 10, 8), [Layer(DW, (3, 3), 8, activation=Activation.RELU6),
                                         Layer(DW, (3, 3), 8, stride=2),
                                         Layer(DW, (5, 5), 8, padding=Padding.VALID)], False, {0, 1, 2}),
    "depthwise_chain_16x8_batch2": ((2, 7, 8, 5), [Layer(DW, (3, 3), 5), Layer(DW, (3, 3), 5, stride=2)],
                                    True, {0, 1}),
    "mobilenet_blocks": ((1, 16, 16, 3), [Layer(CONV, (3, 3), 8, stride=2, activation=Activation.RELU6),
                                          Layer(DW, (3, 3), 8, activation=Activation.RELU6), Layer(CONV, (1, 1), 16),
                                          Layer(DW, (3, 3), 16, stride=2), Layer(CONV, (1, 1), 12),
                                          Layer(DW, (3, 3), 12, per_channel=False), Layer(CONV, (1, 1), 12)],
                         False, {1, 3, 4, 5, 6}),
}


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("name", list(CHAINS))
def test_chain_in_place_in_c(name: str, numerics: str) -> None:
    in_shape, layers, wide, expected = CHAINS[name]
    graph = chain_graph(name, in_shape, layers, wide)
    assert expected <= inplace_nodes(graph), f"planned in place: {sorted(inplace_nodes(graph))}"
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=3))


# ---------------------------------------------------------------------------------------------
# The kernels called directly: one buffer for input and output, exactly the planned scratch, guards.

GUARD = 64
POISON = 0xA5


def compile_call(call: CCall, folder: Path) -> ctypes.CDLL:
    """A library with run_op(in, out, scratch) calling the kernel with call's params."""
    lines = [f'#include "{call.header}"']
    fields = []
    for key, value in call.fields.items():
        if isinstance(value, CArray):
            data = value.data()
            lines.append(f"static const {value.c_type} f_{key}[{max(data.size, 1)}] = {{{c_array_body(data)}}};")
            fields.append(f".{key} = f_{key}")
        else:
            fields.append(f".{key} = {c_scalar(value)}")
    lines.append(f"static const {call.params_type} params = {{{', '.join(fields)}}};")
    lines.append("void run_op(const void *const *in, void *const *out, void *scratch);")
    lines.append(f"void run_op(const void *const *in, void *const *out, void *scratch) "
                 f"{{ {call.function}(&params, in, out, scratch); }}")
    source = folder / "harness.c"
    source.write_text("\n".join(lines) + "\n")
    library = folder / "harness.so"
    subprocess.run([host_compiler(), *HOST_CFLAGS, "-shared", f"-I{INCLUDE_DIR}", f"-I{KERNEL_DIR}", str(source),
                    str(KERNEL_DIR / call.source), "-o", str(library)], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.run_op.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.run_op.restype = None
    return lib


def _pointers(arrays) -> ctypes.Array:
    return (ctypes.c_void_p * len(arrays))(*[None if a is None else a.ctypes.data for a in arrays])


DIRECT = {
    # name: (input shape, layer, 16x8)
    "conv_3x3_batch2": ((2, 5, 6, 7), Layer(CONV, (3, 3), 7), False),
    "conv_2x2": ((1, 4, 5, 3), Layer(CONV, (2, 2), 3), False),
    "conv_5x5_16x8": ((1, 6, 7, 4), Layer(CONV, (5, 5), 4), True),
    "conv_1x3": ((2, 3, 7, 5), Layer(CONV, (1, 3), 5), False),
    "conv_1x8": ((1, 2, 10, 4), Layer(CONV, (1, 8), 4), False),
    "conv_1x4_16x8": ((1, 2, 9, 6), Layer(CONV, (1, 4), 6), True),
    "conv_1x1_widen_batch2": ((2, 3, 4, 5), Layer(CONV, (1, 1), 13), False),
    "conv_1x1_narrow_16x8": ((1, 4, 4, 9), Layer(CONV, (1, 1), 2), True),
    "depthwise_stride2_batch2": ((2, 7, 6, 4), Layer(DW, (3, 3), 4, stride=2), False),
    "depthwise_valid_16x8_batch2": ((2, 6, 6, 3), Layer(DW, (3, 3), 3, padding=Padding.VALID), True),
}


@pytest.mark.parametrize("name", list(DIRECT))
def test_kernel_in_place_on_one_buffer(name: str, tmp_path: Path) -> None:
    in_shape, layer, wide = DIRECT[name]
    check_on_one_buffer(chain_graph(name, in_shape, [layer], wide, seed=5), tmp_path)


def check_on_one_buffer(graph: Graph, tmp_path: Path) -> None:
    """The graph's one op, called apart and in place, against numba."""
    program = prepare_program(graph, "tflm")
    step = program.steps[0]
    ctx = OpContext(graph, step.node, program.numerics)
    lib = compile_call(step.spec.c_emit(step.params, ctx), tmp_path)
    x_tensor, out_tensor = ctx.input(0), ctx.output()
    weights = ctx.constant(1)
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = rng.integers(np.iinfo(x_tensor.dtype.np).min, np.iinfo(x_tensor.dtype.np).max + 1, x_tensor.shape,
                         dtype=x_tensor.dtype.np)
        expected = run(program, [x]).outputs[0]
        # Apart: input untouched, no scratch needed.
        x_copy, y = x.copy(), np.zeros_like(expected)
        lib.run_op(_pointers([x_copy, weights, None]), _pointers([y]), None)
        np.testing.assert_array_equal(y, expected)
        np.testing.assert_array_equal(x_copy, x)
        # In place: the buffer holds the larger of the two, then guard bytes; scratch is exactly the plan's.
        size = max(x_tensor.nbytes, out_tensor.nbytes)
        buffer = np.full(size + GUARD, POISON, np.uint8)
        buffer[:x.nbytes] = x.view(np.uint8).reshape(-1)
        scratch = np.full(step.spec.inplace_scratch_bytes(ctx) + GUARD, POISON, np.uint8)
        lib.run_op(_pointers([buffer, weights, None]), _pointers([buffer]), scratch.ctypes.data)
        got = buffer[:out_tensor.nbytes].view(expected.dtype).reshape(expected.shape)
        np.testing.assert_array_equal(got, expected)
        assert (buffer[size:] == POISON).all(), "wrote past the buffer"
        assert (scratch[-GUARD:] == POISON).all(), "wrote past the planned scratch"


TRANSPOSE_CASES = [c for c in ALL_CASES if c.op == TRANSPOSE_CONV]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[c.name for c in TRANSPOSE_CASES])
def test_transpose_conv_kernel_stays_in_its_scratch(case: Case, case_graphs: dict[str, Graph],
                                                    tmp_path: Path) -> None:
    graph = case_graphs[case.name]
    program = prepare_program(graph, "tflite")
    step = program.steps[0]
    ctx = OpContext(graph, step.node, program.numerics)
    lib = compile_call(step.spec.c_emit(step.params, ctx), tmp_path)
    for inputs in random_inputs(graph, 2, seed=4):
        x = next(a for a in inputs if a.dtype != np.int32)  # the activations (the other input is the shape)
        expected = run(program, inputs).outputs[0]
        y = np.zeros_like(expected)
        scratch = np.full(step.spec.scratch_bytes(ctx) + GUARD, POISON, np.uint8)
        lib.run_op(_pointers([None, ctx.constant(1), x, None]), _pointers([y]), scratch.ctypes.data)
        np.testing.assert_array_equal(y, expected)
        assert (scratch[-GUARD:] == POISON).all(), "wrote past the planned scratch"


def test_1xk_in_place_runs_or_is_refused(tmp_path: Path) -> None:
    """int16, 1x7: in place, the kernel keeps the last 4 input pixels (8 * in_c = 24 bytes). While
    inplace_scratch_bytes gives only one output pixel of int32 (12 bytes) the C emitter must refuse."""
    graph = chain_graph("wide_1x7", (1, 2, 9, 3), [Layer(CONV, (1, 7), 3)], wide=True)
    program = prepare_program(graph, "tflm")
    step = program.steps[0]
    ctx = OpContext(graph, step.node, program.numerics)
    if step.spec.inplace_scratch_bytes(ctx) < 24:
        with pytest.raises(UnsupportedOpError, match="in place, a 1x7 convolution needs 24 bytes"):
            step.spec.c_emit(step.params, ctx)
    else:
        check_on_one_buffer(graph, tmp_path)


# ---------------------------------------------------------------------------------------------
# The zoo.

INTEGRATION = [f"tflm_integration_tests/conv{i}.tflite" for i in range(22)] + [
    f"tflm_integration_tests/transpose_conv{i}.tflite" for i in range(5)]
MLPERF = ["mlperf_tiny/vww_96_int8.tflite", "mlperf_tiny/kws_ref_model.tflite",
          "mlperf_tiny/pretrainedResnet_quant.tflite"]
CONV_MODELS = [*MLPERF, "mlperf_tiny/pretrainedResnet_large_int8.tflite", "mlperf_tiny/str_ww_ref_model.tflite",
               "tflm_examples/person_detect.tflite", "tflm_examples/micro_speech_quantized.tflite",
               "tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite"]


@pytest.mark.zoo
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("model", INTEGRATION, ids=[m.split("/")[-1] for m in INTEGRATION])
def test_integration_model_in_c(model: str, numerics: str) -> None:
    graph = load(zoo_path(model))
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=1))


def conv_layers(graph: Graph) -> Graph:
    """The graph's convolutions alone: tensors they read that other ops produce become inputs (given
    random values), the ones no kept op reads become outputs."""
    keep = [n for n in graph.nodes if n.op in FAMILY]
    produced = {t for n in keep for t in n.outputs}
    read = {t for n in keep for t in n.inputs}
    inputs: list[int] = []
    for node in keep:
        for t in node.inputs:
            if t >= 0 and graph.tensors[t].kind is TensorKind.ACTIVATION and t not in produced and t not in inputs:
                inputs.append(t)
    outputs = [t for n in keep for t in n.outputs if t not in read]
    sub = Graph(name=f"{graph.name}_convs", tensors=graph.tensors, nodes=keep, inputs=inputs, outputs=outputs,
                source_path=graph.source_path)
    validate(sub)
    return sub


@pytest.mark.zoo
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("model", CONV_MODELS, ids=[m.split("/")[-1] for m in CONV_MODELS])
def test_zoo_conv_layers_in_c(model: str, numerics: str) -> None:
    graph = conv_layers(load(zoo_path(model)))
    if "vww" in model or "kws" in model:  # depthwise and pointwise layers overwrite their inputs
        ops = {graph.nodes[k].op for k in inplace_nodes(graph)}
        assert ops == {"CONV_2D", "DEPTHWISE_CONV_2D"}, ops
    if "Resnet" in model:  # same-shape 3x3 convolutions overwrite their inputs row by row
        assert any(graph.tensors[graph.nodes[k].inputs[1]].shape[1] == 3 for k in inplace_nodes(graph))
    assert_c_matches(graph, numerics, random_inputs(graph, 2, seed=1))


@pytest.mark.zoo
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("model", MLPERF, ids=[m.split("/")[-1] for m in MLPERF])
def test_mlperf_model_in_c(model: str, numerics: str) -> None:
    """Needs every op of the model in C (pooling, ADD, FULLY_CONNECTED, SOFTMAX...)."""
    graph = load(zoo_path(model))
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=1))
