"""Element-wise and table ops in C (ADD, SUB, MUL, SQUARED_DIFFERENCE, RSQRT, LEAKY_RELU, QUANTIZE,
DEQUANTIZE, NEG, GELU, LOGISTIC, TANH) against numba and the numpy references.

tests/test_ops_elementwise.py's check_one_op already runs every one-op model there (every int8 pair,
every int8/int16 value, broadcasts, fused activations, int16 power-of-two paths) through the
generated C as well. Here:

* variants those tests do not reach: float32 edge values (NaN, infinities, the int32 bounds, ties,
  subnormals, -0.0), int16 ADD/SUB with zero points (TFLite Micro), rank-6 broadcast walks;
* chains built in the IR whose intermediate tensors the planner overwrites, and each kernel called
  directly on one buffer (output over input 0, over input 1, over both), guard bytes behind it;
* the zoo's element-wise integration models and the bundled transformers, whole and cut down to
  their element-wise ops;
* the kernels compile for a Cortex-M4F with arm-none-eabi-gcc.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from c_conformance import assert_c_matches, host_model
from conftest import BUNDLED, zoo_path
from test_ops_elementwise import (
    ADD,
    BINARY_OPTIONS,
    DEQUANTIZE,
    INTEGRATION,
    MUL,
    NEG,
    QUANTIZE,
    SQUARED_DIFFERENCE,
    SUB,
    Spec,
    one_op_model,
)

from edgeml.api import load
from edgeml.codegen.c_values import CArray, CCall, c_array_body, c_scalar
from edgeml.codegen.host_build import HOST_CFLAGS, WARNINGS, host_compiler
from edgeml.codegen.model_c import generate
from edgeml.compare import random_inputs
from edgeml.errors import UnsupportedOpError
from edgeml.firmware import INCLUDE_DIR, KERNEL_DIR
from edgeml.ir.dtypes import DType
from edgeml.ir.graph import Graph, Node, Tensor, TensorKind
from edgeml.ir.quant import per_tensor
from edgeml.ir.validate import validate
from edgeml.ops.add_sub import AddSubAttrs
from edgeml.ops.base import OpContext
from edgeml.ops.common import Activation
from edgeml.ops.gelu import GeluAttrs
from edgeml.ops.leaky_relu import LeakyReluAttrs
from edgeml.ops.mul import MulAttrs
from edgeml.plan.memory import plan_memory
from edgeml.runtime.executor import run
from edgeml.runtime.program import prepare_program

NUMERICS = ("tflite", "tflm")
MODULES = ("add_sub", "mul", "squared_difference", "rsqrt", "leaky_relu", "quantize", "dequantize", "float_unary",
           "gelu", "logistic_tanh")
ELEMENTWISE_OPS = {"ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "RSQRT", "LEAKY_RELU", "QUANTIZE", "DEQUANTIZE", "NEG",
                   "GELU", "LOGISTIC", "TANH"}


def load_blob(tmp_path: Path, blob: bytes, name: str = "op") -> Graph:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(blob)
    return load(path)


def assert_c_bytes_match(graph: Graph, numerics: str, batches) -> None:
    """Model outputs of C, numba and the numpy reference identical byte for byte (NaN payloads, -0.0)."""
    c_model, _ = host_model(graph, numerics)
    program = prepare_program(graph, numerics)
    for batch in batches:
        ours = run(program, batch).outputs
        slow = run(program, batch, use_reference=True).outputs
        c_outs = c_model.run(batch)[0]
        for k, (c_out, n_out, r_out) in enumerate(zip(c_outs, ours, slow, strict=True)):
            assert n_out.tobytes() == r_out.tobytes(), f"output {k}: numba != numpy reference"
            bad = np.nonzero(c_out.reshape(-1).view(np.uint8) != n_out.reshape(-1).view(np.uint8))[0]
            assert bad.size == 0, (f"output {k} ({numerics}): {bad.size} bytes differ; first element "
                                   f"{bad[0] // n_out.itemsize}: C {c_out.reshape(-1)[bad[0] // n_out.itemsize]!r}, "
                                   f"numba {n_out.reshape(-1)[bad[0] // n_out.itemsize]!r}")


def batches_of(values: np.ndarray, size: int) -> list[list[np.ndarray]]:
    padded = np.concatenate([values, np.resize(values, (-values.size) % size)])
    return [[padded[k:k + size]] for k in range(0, padded.size, size)]


# ---------------------------------------------------------------------------------------------
# Float islands: QUANTIZE from float32, DEQUANTIZE, NEG on the awkward values.

F32 = np.float32


def awkward_floats(scale: float) -> np.ndarray:
    """Values whose quotient by `scale` lands on ties, the int32 bounds, NaN, infinities, subnormals."""
    bounds = np.array([2.0**31, 2.0**31 - 128, 2.0**31 - 64, 2.0**31 + 256, 2.0**30, 2.0**24 + 1, 2.0**23 + 0.5])
    quotients = np.concatenate([bounds, -bounds, np.arange(-300, 300) + 0.5, np.arange(-300, 300) * 0.25,
                                [0.5 - 2**-25, 0.5 + 2**-24, 1.5 - 2**-23]])
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1.17e-38, 3.4e38, -3.4e38])
    nan_payload = np.array([0x7FC12345, 0xFF800001, 0x7F800001], np.uint32).view(np.float32)
    rng = np.random.default_rng(11)
    return np.concatenate([(quotients * scale).astype(F32), specials.astype(F32), nan_payload,
                           rng.normal(0, 300 * scale, 3000).astype(F32),
                           rng.integers(0, 1 << 32, 3000, dtype=np.uint64).astype(np.uint32).view(np.float32)])


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize(("out_dtype", "scale", "zp"), [(np.int8, 1.0, 0), (np.int8, 0.25, -3), (np.int8, 0.0071, 100),
                                                        (np.int16, 0.5, 0), (np.int16, 1.3e-4, -7),
                                                        (np.int16, 3.0, 5)])
def test_quantize_awkward_floats(tmp_path: Path, numerics: str, out_dtype, scale: float, zp: int) -> None:
    graph = load_blob(tmp_path, one_op_model(QUANTIZE, [Spec((512,), np.float32)], Spec((512,), out_dtype, scale, zp)))
    assert_c_bytes_match(graph, numerics, batches_of(awkward_floats(scale), 512))


@pytest.mark.parametrize("numerics", NUMERICS)
def test_neg_flips_every_sign_bit(tmp_path: Path, numerics: str) -> None:
    graph = load_blob(tmp_path, one_op_model(NEG, [Spec((1024,), np.float32)], Spec((1024,), np.float32)))
    assert 0 in inplace_nodes(graph)
    assert_c_bytes_match(graph, numerics, batches_of(awkward_floats(1.0), 1024))


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize(("dtype", "scale", "zp"), [(np.int8, 0.0123, -9), (np.int8, 1e-40, 0), (np.int8, 3e38, 5),
                                                    (np.int16, 0.0123, 0), (np.int16, 7.1e-6, -300),
                                                    (np.int16, 1e-41, 3), (np.int16, 2e36, 0)])
def test_dequantize_every_value(tmp_path: Path, numerics: str, dtype, scale: float, zp: int) -> None:
    """Subnormal and overflowing products included: the int16 kernel's float32 multiply must round
    like the reference's double product narrowed to float32."""
    info = np.iinfo(dtype)
    values = np.arange(int(info.min), int(info.max) + 1).astype(dtype)
    graph = load_blob(tmp_path, one_op_model(DEQUANTIZE, [Spec((4096,), dtype, scale, zp)], Spec((4096,), np.float32)))
    assert_c_bytes_match(graph, numerics, batches_of(values, 4096))


# ---------------------------------------------------------------------------------------------
# Integer variants the reference-runtime tests do not reach.


@pytest.mark.parametrize("op", [ADD, SUB])
@pytest.mark.parametrize(("shape_a", "shape_b"), [((4096,), (4096,)), ((8, 64), (64,)), ((1,), (4, 128))])
def test_int16_add_sub_with_zero_points_tflm(tmp_path: Path, op: int, shape_a, shape_b) -> None:
    """TFLite Micro accepts int16 zero points; (q - z) << 15 then exceeds int32 (edg_mbqm_wide)."""
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    blob = one_op_model(op, [Spec(shape_a, np.int16, 1.7e-4, -20000), Spec(shape_b, np.int16, 5.3e-4, 31000)],
                        Spec(out_shape, np.int16, 9.1e-4, 123), *BINARY_OPTIONS[op](0, False))
    graph = load_blob(tmp_path, blob)
    rng = np.random.default_rng(8)
    batches = [[np.full(shape_a, v, np.int16), np.full(shape_b, w, np.int16)] for v, w in
               [(-32768, 32767), (32767, -32768), (-32768, -32768), (32767, 32767)]]
    batches += [[rng.integers(-32768, 32768, s).astype(np.int16) for s in (shape_a, shape_b)] for _ in range(3)]
    assert_c_bytes_match(graph, "tflm", batches)


@pytest.mark.parametrize("op", [ADD, SUB])
@pytest.mark.parametrize("activation", [1, 2, 3])  # RELU, RELU_N1_TO_1, RELU6
def test_int16_add_sub_power_of_two_with_activations(tmp_path: Path, op: int, activation: int) -> None:
    n = 8192
    blob = one_op_model(op, [Spec((n,), np.int16, 2.0**-12), Spec((n,), np.int16, 2.0**-10)],
                        Spec((n,), np.int16, 2.0**-10), *BINARY_OPTIONS[op](activation, True))
    graph = load_blob(tmp_path, blob)
    assert prepare_program(graph, "tflite").steps[0].params.pot
    rng = np.random.default_rng(9)
    for numerics in NUMERICS:
        assert_c_bytes_match(graph, numerics, [[rng.integers(-32768, 32768, n).astype(np.int16) for _ in "ab"]
                                               for _ in range(3)])


def test_int16_sub_power_of_two_broadcasts(tmp_path: Path) -> None:
    """TFLite's SUB (not ADD) broadcasts on its int16 power-of-two path."""
    blob = one_op_model(SUB, [Spec((4, 6, 32), np.int16, 2.0**-11), Spec((6, 1), np.int16, 2.0**-9)],
                        Spec((4, 6, 32), np.int16, 2.0**-9), *BINARY_OPTIONS[SUB](0, True))
    graph = load_blob(tmp_path, blob)
    assert prepare_program(graph, "tflite").steps[0].params.pot
    assert_c_bytes_match(graph, "tflite", random_inputs(graph, 3, seed=10))


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize(("in_dtype", "in_scale", "in_zp", "out_dtype", "out_scale", "out_zp"), [
    (np.int32, 3e-3, 0, np.int8, 1e-3, -4),  # shift 2: (q - z) << 2 wraps in int32
    (np.int32, 1.1e-5, 0, np.int16, 1e-6, 9),
    (np.int32, 2e-9, 0, np.int16, 1e-3, 0),
    (np.int16, 4e-2, 0, np.int32, 1e-6, 2_000_000_000),  # adding the zero point wraps
    (np.int16, 4e-4, 0, np.int32, 3e-13, 0),  # shift 31
])
def test_requantize_wraps_like_int32(tmp_path: Path, numerics: str, in_dtype, in_scale, in_zp, out_dtype, out_scale,
                                     out_zp) -> None:
    info = np.iinfo(in_dtype)
    rng = np.random.default_rng(18)
    values = np.concatenate([[info.min, info.max, 0, -1, 1], rng.integers(info.min, int(info.max) + 1, 8000)])
    graph = load_blob(tmp_path, one_op_model(QUANTIZE, [Spec((1000,), in_dtype, in_scale, in_zp)],
                                             Spec((1000,), out_dtype, out_scale, out_zp)))
    assert_c_bytes_match(graph, numerics, batches_of(values.astype(in_dtype), 1000))


RANK6 = [((2, 1, 3, 1, 2, 1), (1, 2, 1, 3, 1, 2)), ((3, 1, 1, 2, 5, 1), (1, 4, 2, 1, 1, 3)), ((2, 3, 1, 1, 1, 4), ())]


@pytest.mark.parametrize("op", [ADD, SUB, MUL, SQUARED_DIFFERENCE])
@pytest.mark.parametrize(("shape_a", "shape_b"), RANK6)
def test_rank6_broadcast_walk(tmp_path: Path, op: int, shape_a, shape_b) -> None:
    """Six merged dimensions: every level of the C odometer turns over."""
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    options = BINARY_OPTIONS[op]() if op in BINARY_OPTIONS else ()
    for a_shape, b_shape in ((shape_a, shape_b), (shape_b, shape_a)):
        blob = one_op_model(op, [Spec(a_shape, np.int8, 0.03, 5), Spec(b_shape, np.int8, 0.07, -3)],
                            Spec(out_shape, np.int8, 0.09, 1), *options)
        graph = load_blob(tmp_path, blob)
        for numerics in NUMERICS:
            assert_c_bytes_match(graph, numerics, random_inputs(graph, 2, seed=12))


def test_int8_binary_ops_keep_flash_tables_small(tmp_path: Path) -> None:
    """The host's 64 KB pair tables stay on the host: ADD and SQUARED_DIFFERENCE emit two 1 KB
    tables, MUL none."""
    n = 64
    for op, limit in ((ADD, 2048), (SUB, 2048), (SQUARED_DIFFERENCE, 2048), (MUL, 0)):
        options = BINARY_OPTIONS[op]() if op in BINARY_OPTIONS else ()
        graph = load_blob(tmp_path, one_op_model(op, [Spec((n,), np.int8, 0.03, 5), Spec((n,), np.int8, 0.07, -3)],
                                                 Spec((n,), np.int8, 0.2, 1), *options))
        program = prepare_program(graph, "tflite")
        assert generate(program, plan_memory(graph)).weight_bytes <= limit


# ---------------------------------------------------------------------------------------------
# Chains built in the IR: the planner overwrites inputs with outputs.


def inplace_nodes(graph: Graph) -> set[int]:
    offsets = plan_memory(graph).tensor_offsets()
    return {k for k, n in enumerate(graph.nodes)
            if any(i >= 0 and offsets.get(i) == offsets[n.outputs[0]] for i in n.inputs)}


class ChainBuilder:
    def __init__(self, name: str, seed: int = 0):
        self.graph = Graph(name=name)
        self.rng = np.random.default_rng(seed)

    def tensor(self, name: str, shape, dtype: DType, scale: float | None = None, zp: int = 0,
               data: np.ndarray | None = None) -> int:
        quant = per_tensor(scale, zp) if scale is not None else None
        kind = TensorKind.CONSTANT if data is not None else TensorKind.ACTIVATION
        return self.graph.add_tensor(Tensor(name, tuple(shape), dtype, quant, kind=kind, data=data))

    def node(self, op: str, inputs: list[int], output: int, attrs=None) -> int:
        self.graph.nodes.append(Node(op, inputs, [output], attrs, name=f"{op.lower()}_{len(self.graph.nodes)}"))
        return output

    def done(self, inputs: list[int], outputs: list[int]) -> Graph:
        self.graph.inputs, self.graph.outputs = inputs, outputs
        validate(self.graph)
        return self.graph


def int8_chain() -> Graph:
    """Residual block shapes: [2, 6, 16] activations, [16] and [2, 6, 1] operands, every int8 op."""
    b = ChainBuilder("int8_elementwise_chain")
    shape = (2, 6, 16)
    x = b.tensor("x", shape, DType.INT8, 0.05, 3)
    y = b.tensor("y", shape, DType.INT8, 0.04, -11)
    col = b.tensor("col", (2, 6, 1), DType.INT8, 0.03, 2)
    w = b.tensor("w", shape, DType.INT8, 0.06, 9)
    bias = b.tensor("bias", (16,), DType.INT8, 0.02, -1, b.rng.integers(-128, 128, 16).astype(np.int8))
    t = b.node("ADD", [x, bias], b.tensor("t0", shape, DType.INT8, 0.06, 4), AddSubAttrs(Activation.NONE))
    t = b.node("MUL", [t, y], b.tensor("t1", shape, DType.INT8, 0.05, -2), MulAttrs(Activation.RELU))
    t = b.node("SQUARED_DIFFERENCE", [t, col], b.tensor("t2", shape, DType.INT8, 0.08, -120))
    t = b.node("RSQRT", [t], b.tensor("t3", shape, DType.INT8, 0.07, -100))
    t = b.node("SUB", [w, t], b.tensor("t4", shape, DType.INT8, 0.09, 0), AddSubAttrs(Activation.RELU6))
    t = b.node("LEAKY_RELU", [t], b.tensor("t5", shape, DType.INT8, 0.05, -20), LeakyReluAttrs(0.1))
    t = b.node("GELU", [t], b.tensor("t6", shape, DType.INT8, 0.04, -30), GeluAttrs(False))
    t = b.node("TANH", [t], b.tensor("t7", shape, DType.INT8, 1 / 128, 0))
    t = b.node("LOGISTIC", [t], b.tensor("t8", shape, DType.INT8, 1 / 256, -128))
    t = b.node("MUL", [t, t], b.tensor("t9", shape, DType.INT8, 1 / 512, -128), MulAttrs(Activation.NONE))
    t = b.node("DEQUANTIZE", [t], b.tensor("f0", shape, DType.FLOAT32))
    t = b.node("NEG", [t], b.tensor("f1", shape, DType.FLOAT32))
    t = b.node("QUANTIZE", [t], b.tensor("t10", shape, DType.INT8, 0.004, 60))
    t = b.node("QUANTIZE", [t], b.tensor("t11", shape, DType.INT16, 1e-4, 0))
    t = b.node("QUANTIZE", [t], b.tensor("t12", shape, DType.INT8, 0.003, -5))
    return b.done([x, y, col, w], [t])


def int16_chain() -> Graph:
    b = ChainBuilder("int16_elementwise_chain")
    shape = (3, 4, 32)
    x = b.tensor("x", shape, DType.INT16, 2.0**-12)
    y = b.tensor("y", (4, 1), DType.INT16, 2.0**-10)
    z = b.tensor("z", shape, DType.INT16, 3.1e-4)
    t = b.node("ADD", [x, y], b.tensor("t0", shape, DType.INT16, 2.0**-10), AddSubAttrs(Activation.NONE, False))
    t = b.node("SUB", [t, x], b.tensor("t1", shape, DType.INT16, 2.0**-10), AddSubAttrs(Activation.NONE, True))
    t = b.node("MUL", [t, z], b.tensor("t2", shape, DType.INT16, 1.3e-4), MulAttrs(Activation.RELU))
    t = b.node("LEAKY_RELU", [t], b.tensor("t3", shape, DType.INT16, 1e-4), LeakyReluAttrs(0.3))
    t = b.node("ADD", [t, z], b.tensor("t4", shape, DType.INT16, 3e-4), AddSubAttrs(Activation.RELU_N1_TO_1, False))
    t = b.node("DEQUANTIZE", [t], b.tensor("f0", shape, DType.FLOAT32))
    t = b.node("NEG", [t], b.tensor("f1", shape, DType.FLOAT32))
    t = b.node("QUANTIZE", [t], b.tensor("t5", shape, DType.INT16, 2e-4))
    t = b.node("QUANTIZE", [t], b.tensor("t6", shape, DType.INT32, 1e-7))
    t = b.node("QUANTIZE", [t], b.tensor("t7", shape, DType.INT16, 5e-4))
    t = b.node("QUANTIZE", [t], b.tensor("t8", shape, DType.INT8, 0.02, 7))
    return b.done([x, y, z], [t])


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("make", [int8_chain, int16_chain], ids=["int8", "int16"])
def test_chain_in_place_in_c(make, numerics: str) -> None:
    graph = make()
    in_place = {graph.nodes[k].op for k in inplace_nodes(graph)}
    # every in-place capable op of the chain overwrites its input somewhere
    expected = {"ADD", "SUB", "MUL", "LEAKY_RELU", "NEG"} | ({"SQUARED_DIFFERENCE", "RSQRT", "GELU", "TANH",
                                                             "LOGISTIC"} if "int8" in graph.name else set())
    assert expected <= in_place, sorted(in_place)
    batches = random_inputs(graph, 4, seed=13)
    assert_c_matches(graph, numerics, batches)
    assert_c_bytes_match(graph, numerics, batches)


# ---------------------------------------------------------------------------------------------
# The kernels called directly on one buffer.

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
    source = folder / f"harness_{call.module}.c"
    source.write_text("\n".join(lines) + "\n")
    library = folder / f"harness_{call.module}_{abs(hash(source.read_text()))}.so"
    subprocess.run([host_compiler(), *HOST_CFLAGS, "-shared", f"-I{INCLUDE_DIR}", f"-I{KERNEL_DIR}", str(source),
                    str(KERNEL_DIR / call.source), "-o", str(library)], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.run_op.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.run_op.restype = None
    return lib


def _pointers(arrays) -> ctypes.Array:
    return (ctypes.c_void_p * len(arrays))(*[None if a is None else a.ctypes.data for a in arrays])


def binary_graph(op: str, shape_a, shape_b, dtype: DType, attrs) -> Graph:
    b = ChainBuilder(f"{op.lower()}_direct")
    wide = dtype is DType.INT16
    # int16: power-of-two scales with one input scaled down, as TFLite's shift path requires
    x = b.tensor("a", shape_a, dtype, 0.03 if not wide else 2.0**-11, 0 if wide else 5)
    y = b.tensor("b", shape_b, dtype, 0.07 if not wide else 2.0**-10, 0 if wide else -3)
    out_shape = tuple(np.broadcast_shapes(shape_a, shape_b))
    scale = (0.09 if op != "SQUARED_DIFFERENCE" else 0.3) if not wide else 2.0**-10
    out = b.node(op, [x, y], b.tensor("out", out_shape, dtype, scale, 0 if wide else 1), attrs)
    return b.done([x, y], [out])


def unary_graph(op: str, dtype: DType, out_dtype: DType, attrs=None, out_scale: float = 0.05,
                out_zp: int = 0) -> Graph:
    b = ChainBuilder(f"{op.lower()}_direct")
    shape = (3, 5, 17)
    quant = (0.04, 0 if dtype is DType.INT16 else 3) if dtype.is_integer else (None,)
    x = b.tensor("x", shape, dtype, *quant)
    out = b.node(op, [x], b.tensor("out", shape, out_dtype, out_scale if out_dtype.is_integer else None, out_zp),
                 attrs)
    return b.done([x], [out])


DIRECT_BINARY = [
    ("ADD", (4, 5, 6), (6,), DType.INT8, AddSubAttrs(Activation.RELU)),
    ("SUB", (2, 3, 7), (3, 1), DType.INT8, AddSubAttrs()),
    ("MUL", (5, 9), (1, 9), DType.INT8, MulAttrs(Activation.RELU6)),
    ("SQUARED_DIFFERENCE", (3, 4, 8), (3, 4, 1), DType.INT8, None),
    ("ADD", (4, 5, 6), (5, 1), DType.INT16, AddSubAttrs(Activation.NONE, False)),
    ("SUB", (4, 33), (33,), DType.INT16, AddSubAttrs(Activation.NONE, True)),
    ("ADD", (4, 33), (4, 33), DType.INT16, AddSubAttrs(Activation.NONE, True)),
    ("MUL", (6, 10), (), DType.INT16, MulAttrs()),
]


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize(("op", "shape_a", "shape_b", "dtype", "attrs"), DIRECT_BINARY,
                         ids=[f"{c[0]}_{c[3].value}_{len(c[2])}" for c in DIRECT_BINARY])
def test_binary_kernel_on_one_buffer(tmp_path: Path, numerics: str, op: str, shape_a, shape_b, dtype: DType,
                                     attrs) -> None:
    """Output over the full-shape operand, with the other operand broadcast, from either side."""
    cases = [(shape_a, shape_b, 0), (shape_b, shape_a, 1)]
    for a_shape, b_shape, full in cases:
        graph = binary_graph(op, a_shape, b_shape, dtype, attrs)
        program = prepare_program(graph, numerics)
        step = program.steps[0]
        lib = compile_call(step.spec.c_emit(step.params, OpContext(graph, step.node, program.numerics)), tmp_path)
        for inputs in random_inputs(graph, 3, seed=14):
            expected = run(program, inputs).outputs[0]
            buffer = np.full(expected.nbytes + GUARD, POISON, np.uint8)
            buffer[:expected.nbytes] = inputs[full].view(np.uint8).reshape(-1)
            operands = [buffer, inputs[1]] if full == 0 else [inputs[0], buffer]
            lib.run_op(_pointers(operands), _pointers([buffer]), None)
            got = buffer[:expected.nbytes].view(expected.dtype).reshape(expected.shape)
            np.testing.assert_array_equal(got, expected)
            assert (buffer[expected.nbytes:] == POISON).all(), "wrote past the output"


TWICE = [(op, DType.INT8) for op in ("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE")] + [
    (op, DType.INT16) for op in ("ADD", "SUB", "MUL")]


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize(("op", "dtype"), TWICE, ids=[f"{op}_{dtype.value}" for op, dtype in TWICE])
def test_binary_kernel_with_one_operand_twice_in_place(tmp_path: Path, numerics: str, op: str, dtype: DType) -> None:
    """x op x with the output over x: in[0] == in[1] == out[0]."""
    b = ChainBuilder(f"{op.lower()}_twice")
    wide = dtype is DType.INT16
    x = b.tensor("x", (7, 19), dtype, 2.0**-11 if wide else 0.03, 0 if wide else 5)
    attrs = MulAttrs() if op == "MUL" else (AddSubAttrs() if op in ("ADD", "SUB") else None)
    out_scale = (2.0**-11 if op != "MUL" else 2.0**-10) if wide else (0.09 if op != "MUL" else 0.01)
    out = b.node(op, [x, x], b.tensor("out", (7, 19), dtype, out_scale, 0 if wide else 1), attrs)
    graph = b.done([x], [out])
    assert 0 in inplace_nodes(graph)
    program = prepare_program(graph, numerics)
    step = program.steps[0]
    lib = compile_call(step.spec.c_emit(step.params, OpContext(graph, step.node, program.numerics)), tmp_path)
    for (values,) in random_inputs(graph, 3, seed=15):
        expected = run(program, [values]).outputs[0]
        buffer = np.full(values.nbytes + GUARD, POISON, np.uint8)
        buffer[:values.nbytes] = values.view(np.uint8).reshape(-1)
        lib.run_op(_pointers([buffer, buffer]), _pointers([buffer]), None)
        np.testing.assert_array_equal(buffer[:values.nbytes].view(expected.dtype).reshape(expected.shape), expected)
        assert (buffer[values.nbytes:] == POISON).all()
    assert_c_bytes_match(graph, numerics, random_inputs(graph, 2, seed=16))


DIRECT_UNARY = [
    ("RSQRT", DType.INT8, DType.INT8, None),
    ("LEAKY_RELU", DType.INT8, DType.INT8, LeakyReluAttrs(0.2)),
    ("LEAKY_RELU", DType.INT16, DType.INT16, LeakyReluAttrs(0.7)),
    ("GELU", DType.INT8, DType.INT8, GeluAttrs(True)),
    ("TANH", DType.INT8, DType.INT8, None),
    ("NEG", DType.FLOAT32, DType.FLOAT32, None),
]


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize(("op", "dtype", "out_dtype", "attrs"), DIRECT_UNARY,
                         ids=[f"{c[0]}_{c[1].value}" for c in DIRECT_UNARY])
def test_unary_kernel_on_one_buffer(tmp_path: Path, numerics: str, op: str, dtype: DType, out_dtype: DType,
                                    attrs) -> None:
    out_scale, out_zp = (1 / 128, 0) if op == "TANH" else (0.05, 0 if dtype is DType.INT16 else -4)
    graph = unary_graph(op, dtype, out_dtype, attrs, out_scale, out_zp)
    assert 0 in inplace_nodes(graph)
    program = prepare_program(graph, numerics)
    step = program.steps[0]
    lib = compile_call(step.spec.c_emit(step.params, OpContext(graph, step.node, program.numerics)), tmp_path)
    for (values,) in random_inputs(graph, 3, seed=17):
        expected = run(program, [values]).outputs[0]
        buffer = np.full(values.nbytes + GUARD, POISON, np.uint8)
        buffer[:values.nbytes] = values.view(np.uint8).reshape(-1)
        lib.run_op(_pointers([buffer]), _pointers([buffer]), None)
        assert buffer[:values.nbytes].tobytes() == expected.tobytes()
        assert (buffer[values.nbytes:] == POISON).all()


def test_too_many_broadcast_dimensions_are_refused() -> None:
    """Seven alternating dimensions do not merge: more than the C walk's six, named, not miscomputed."""
    shape_a, shape_b = (2, 1, 2, 1, 2, 1, 2), (1, 3, 1, 3, 1, 3, 1)
    graph = binary_graph("ADD", shape_a, shape_b, DType.INT8, AddSubAttrs())
    program = prepare_program(graph, "tflite")
    step = program.steps[0]
    with pytest.raises(UnsupportedOpError, match="dimensions"):
        step.spec.c_emit(step.params, OpContext(graph, step.node, program.numerics))


# ---------------------------------------------------------------------------------------------
# Models: the zoo's integration models and the bundled transformers.


@pytest.mark.zoo
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("model", INTEGRATION, ids=[m.split("/")[-1] for m in INTEGRATION])
def test_integration_model_in_c(model: str, numerics: str) -> None:
    graph = load(zoo_path(model))
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=1))


TRANSFORMERS = ["tiny_transformer_int8.tflite", "tiny_transformer_gelu_int8.tflite"]


def bundled(model: str) -> Graph:
    path = BUNDLED / model
    if not path.exists():
        pytest.skip(f"{model} not bundled")
    return load(path)


def elementwise_layers(graph: Graph) -> Graph:
    """The graph's element-wise ops alone: tensors they read that other ops produce become inputs,
    the ones no kept op reads become outputs."""
    keep = [n for n in graph.nodes if n.op in ELEMENTWISE_OPS]
    produced = {t for n in keep for t in n.outputs}
    read = {t for n in keep for t in n.inputs}
    inputs: list[int] = []
    for node in keep:
        for t in node.inputs:
            if t >= 0 and graph.tensors[t].kind is TensorKind.ACTIVATION and t not in produced and t not in inputs:
                inputs.append(t)
    outputs = [t for n in keep for t in n.outputs if t not in read]
    sub = Graph(name=f"{graph.name}_elementwise", tensors=graph.tensors, nodes=keep, inputs=inputs, outputs=outputs,
                source_path=graph.source_path)
    validate(sub)
    return sub


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("model", TRANSFORMERS)
def test_transformer_elementwise_layers_in_c(model: str, numerics: str) -> None:
    graph = elementwise_layers(bundled(model))
    ops = {n.op for n in graph.nodes}
    assert {"ADD", "MUL", "SQUARED_DIFFERENCE", "RSQRT", "DEQUANTIZE", "NEG", "QUANTIZE"} <= ops, ops
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=2))


@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("model", TRANSFORMERS)
def test_transformer_whole_in_c(model: str, numerics: str) -> None:
    """Needs every op's C kernel (BATCH_MATMUL, SOFTMAX, MEAN, TRANSPOSE, ...): skipped, naming the
    missing ones, until they exist."""
    graph = bundled(model)
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=3))


# ---------------------------------------------------------------------------------------------
# The target compiler.

ARM_GCC = "arm-none-eabi-gcc"
ARM_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")


@pytest.mark.parametrize("module", MODULES)
def test_kernel_compiles_for_cortex_m4f(module: str, tmp_path: Path) -> None:
    if shutil.which(ARM_GCC) is None:
        pytest.skip(f"{ARM_GCC} not installed")
    proc = subprocess.run([ARM_GCC, "-std=c99", "-O2", *WARNINGS, *ARM_FLAGS, f"-I{INCLUDE_DIR}", f"-I{KERNEL_DIR}",
                           "-c", str(KERNEL_DIR / f"edg_{module}.c"), "-o", str(tmp_path / f"{module}.o")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("make", [int8_chain, int16_chain], ids=["int8", "int16"])
def test_generated_chain_compiles_for_cortex_m4f(make, tmp_path: Path) -> None:
    """The emitted params (tables, float32 literals, broadcast walks) are valid C for the target too."""
    if shutil.which(ARM_GCC) is None:
        pytest.skip(f"{ARM_GCC} not installed")
    graph = make()
    program = prepare_program(graph, "tflm")
    model = generate(program, plan_memory(graph, numerics=program.numerics))
    (tmp_path / "model.c").write_text(model.source)
    (tmp_path / "model.h").write_text(model.header)
    proc = subprocess.run([ARM_GCC, "-std=c99", "-O2", *WARNINGS, *ARM_FLAGS, f"-I{tmp_path}", f"-I{INCLUDE_DIR}",
                           f"-I{KERNEL_DIR}", "-c", str(tmp_path / "model.c"), "-o", str(tmp_path / "model.o")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
