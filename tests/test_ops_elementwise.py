"""Element-wise and quantization ops: ADD, SUB, MUL, SQUARED_DIFFERENCE, RSQRT, LEAKY_RELU, QUANTIZE,
DEQUANTIZE, NEG, GELU, LOGISTIC, TANH.

Three layers: the zoo's single-op integration models against both references; one-op models built
here (through ai-edge-litert's flatbuffer schema) fed every input value or every input pair, against
both references; and the numba kernels against the numpy references.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from c_conformance import host_model
from conftest import BUNDLED, assert_bit_exact, assert_kernels_match_references, zoo_path

from edgeml.api import load
from edgeml.errors import UnsupportedOpError
from edgeml.ops.base import Numerics
from edgeml.ops.elementwise import plan_broadcast
from edgeml.references import get_reference
from edgeml.runtime.executor import run
from edgeml.runtime.program import prepare_program

flatbuffers = pytest.importorskip("flatbuffers")
schema = pytest.importorskip("ai_edge_litert.schema_py_generated")

INTEGRATION = (
    [f"tflm_integration_tests/add{i}.tflite" for i in range(17)]
    + [f"tflm_integration_tests/sub{i}.tflite" for i in range(5)]
    + [f"tflm_integration_tests/leaky_relu{i}.tflite" for i in range(23)]
    + [f"tflm_integration_tests/quantize{i}.tflite" for i in range(2)]
    + ["tflm_examples/simple_add_model.tflite", "mlperf_tiny/model_ToyCar_quant_fullint_micro.tflite"]
)

ADD, SUB, MUL, SQUARED_DIFFERENCE, RSQRT = 0, 41, 18, 99, 76
LEAKY_RELU, QUANTIZE, DEQUANTIZE, NEG, GELU, LOGISTIC, TANH = 98, 114, 6, 59, 150, 14, 28


# --- the zoo --------------------------------------------------------------------------------------


@pytest.mark.zoo
@pytest.mark.parametrize("model", INTEGRATION, ids=[m.split("/")[-1] for m in INTEGRATION])
def test_zoo_model_bit_exact_with_both_references(model: str) -> None:
    path = zoo_path(model)
    for against in ("tflite", "tflm"):
        assert_bit_exact(path, against, count=3)
        assert_kernels_match_references(path, against, count=1)


@pytest.mark.parametrize("model", ["tiny_transformer_int8.tflite", "tiny_transformer_gelu_int8.tflite"])
def test_transformer_elementwise_ops_match_tflite_op_by_op(model: str) -> None:
    """Each element-wise node, fed TFLite's own input tensors, reproduces TFLite's output tensor."""
    path = BUNDLED / model
    if not path.exists():
        pytest.skip(f"{model} not bundled")
    graph = load(path)
    try:
        program = prepare_program(graph, Numerics.TFLITE)
    except UnsupportedOpError as exc:
        pytest.skip(f"other ops of the model are not supported yet: {exc}")
    reference = get_reference("tflite", path.read_bytes(), str(path), len(graph.tensors), len(graph.outputs))
    mine = {"ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "RSQRT", "QUANTIZE", "DEQUANTIZE", "NEG", "GELU"}
    rng = np.random.default_rng(0)
    for _ in range(3):
        batch = [rng.integers(-128, 128, graph.tensors[i].shape).astype(graph.tensors[i].dtype.np)
                 for i in graph.inputs]
        theirs = reference.run(batch, keep_tensors=True).tensors
        for step in program.steps:
            if step.node.op not in mine:
                continue
            inputs = [_reference_value(graph, i, theirs) for i in step.node.inputs]
            out = graph.tensors[step.node.outputs[0]]
            ours = np.zeros(out.shape, out.dtype.np)
            step.spec.kernel(step.params, inputs, [ours])
            expected = np.asarray(theirs[out.origin]).reshape(out.shape)
            assert np.array_equal(ours, expected), graph.node_label(step.index)


def _reference_value(graph, index: int, tensors: dict) -> np.ndarray:
    tensor = graph.tensors[index]
    if tensor.data is not None:
        return tensor.data
    return np.asarray(tensors[tensor.origin]).reshape(tensor.shape).astype(tensor.dtype.np)


# --- one-op models ---------------------------------------------------------------------------------


@dataclass
class Spec:
    shape: tuple[int, ...]
    dtype: type
    scale: float | None = None
    zero_point: int = 0
    data: np.ndarray | None = None


_TENSOR_TYPES = {np.dtype(np.float32): 0, np.dtype(np.int32): 2, np.dtype(np.int16): 7, np.dtype(np.int8): 9}


def one_op_model(op_code: int, inputs: list[Spec], output: Spec, options_type: int = 0, options=None) -> bytes:
    """A TFLite flatbuffer holding one operator (constant inputs carry data)."""
    model = schema.ModelT()
    model.version = 3
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = op_code, min(op_code, 127), 1
    model.operatorCodes = [code]
    model.buffers = [schema.BufferT()]
    sub = schema.SubGraphT()
    sub.tensors = []
    for k, spec in enumerate([*inputs, output]):
        tensor = schema.TensorT()
        tensor.shape, tensor.type, tensor.name = list(spec.shape), _TENSOR_TYPES[np.dtype(spec.dtype)], f"t{k}"
        if spec.scale is not None:
            quant = schema.QuantizationParametersT()
            quant.scale, quant.zeroPoint = [float(spec.scale)], [int(spec.zero_point)]
            tensor.quantization = quant
        buffer = schema.BufferT()
        if spec.data is not None:
            buffer.data = np.asarray(spec.data, dtype=spec.dtype).tobytes()
        tensor.buffer = len(model.buffers)
        model.buffers.append(buffer)
        sub.tensors.append(tensor)
    sub.inputs = [k for k, spec in enumerate(inputs) if spec.data is None]
    sub.outputs = [len(inputs)]
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, list(range(len(inputs))), sub.outputs
    if options is not None:
        op.builtinOptionsType, op.builtinOptions = options_type, options
    sub.operators = [op]
    model.subgraphs = [sub]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def check_one_op(tmp_path: Path, blob: bytes, batches: list[list[np.ndarray]], against=("tflite", "tflm")) -> None:
    """edgeml's kernels == its numpy references == each reference runtime, on every batch; and the
    generated C (compiled for the host) == the kernels, byte for byte (floats: -0.0 and NaNs too)."""
    path = tmp_path / "op.tflite"
    path.write_bytes(blob)
    graph = load(path)
    for name in against:
        program = prepare_program(graph, Numerics(name))
        reference = get_reference(name, blob, str(path), len(graph.tensors), len(graph.outputs))
        c_model, _ = host_model(graph, name)
        for batch in batches:
            ours = run(program, batch).outputs[0]
            c_out = c_model.run(batch)[0][0]
            differ = int((c_out.view(np.uint8) != ours.view(np.uint8)).sum())
            assert differ == 0, f"C != kernel ({name} numerics): {differ} bytes differ"
            slow = run(program, batch, use_reference=True).outputs[0]
            theirs = np.asarray(reference.run(batch).outputs[0]).reshape(ours.shape)
            assert np.array_equal(ours, slow), f"kernel != numpy reference ({name} numerics)"
            bad = np.nonzero(ours.view(np.uint8) != theirs.view(np.uint8)) if ours.dtype.kind == "f" else np.nonzero(
                ours != theirs)
            assert bad[0].size == 0, (
                f"{name}: {bad[0].size} of {ours.size} differ; first at {bad[0][0]}: inputs "
                f"{[b.reshape(-1)[bad[0][0]] if b.size == ours.size else '...' for b in batch]}, "
                f"ours {ours.reshape(-1)[bad[0][0]]}, theirs {theirs.reshape(-1)[bad[0][0]]}")


def all_pairs(dtype=np.int8) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) pair of int8 values, as two flat arrays of 65536."""
    values = np.arange(-128, 128)
    return np.repeat(values, 256).astype(dtype), np.tile(values, 256).astype(dtype)


def every_value(dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.arange(int(info.min), int(info.max) + 1).astype(dtype)


def _add_options(activation: int = 0, pot: bool = True):
    options = schema.AddOptionsT()
    options.fusedActivationFunction, options.potScaleInt16 = activation, pot
    return schema.BuiltinOptions.AddOptions, options


def _sub_options(activation: int = 0, pot: bool = True):
    options = schema.SubOptionsT()
    options.fusedActivationFunction, options.potScaleInt16 = activation, pot
    return schema.BuiltinOptions.SubOptions, options


def _mul_options(activation: int = 0):
    options = schema.MulOptionsT()
    options.fusedActivationFunction = activation
    return schema.BuiltinOptions.MulOptions, options


BINARY_OPTIONS = {ADD: _add_options, SUB: _sub_options, MUL: _mul_options}
INT8_SCALES = [(0.0372, 3, 0.0517, -7, 0.0611, -2), (0.1, -128, 0.003, 127, 0.02, 0), (0.05, 0, 0.05, 0, 0.1, 5)]


@pytest.mark.parametrize("op", [ADD, SUB, MUL])
@pytest.mark.parametrize("activation", [0, 1, 3])  # NONE, RELU, RELU6
@pytest.mark.parametrize("scales", INT8_SCALES)
def test_int8_binary_every_pair(tmp_path: Path, op: int, activation: int, scales) -> None:
    s1, z1, s2, z2, so, zo = scales
    n = 65536
    blob = one_op_model(op, [Spec((n,), np.int8, s1, z1), Spec((n,), np.int8, s2, z2)], Spec((n,), np.int8, so, zo),
                        *BINARY_OPTIONS[op](activation))
    check_one_op(tmp_path, blob, [list(all_pairs())])


@pytest.mark.parametrize("scales", INT8_SCALES)
def test_squared_difference_every_pair(tmp_path: Path, scales) -> None:
    s1, z1, s2, z2, so, zo = scales
    n = 65536
    blob = one_op_model(SQUARED_DIFFERENCE, [Spec((n,), np.int8, s1, z1), Spec((n,), np.int8, s2, z2)],
                        Spec((n,), np.int8, so * 4, zo))
    check_one_op(tmp_path, blob, [list(all_pairs())])


BROADCASTS = [((2, 3, 4, 5), (5,)), ((2, 3, 4, 5), (1, 3, 1, 5)), ((1, 1), (3, 7)), ((4, 1, 6), (5, 1)),
              ((3, 4), ())]


@pytest.mark.parametrize("op", [ADD, SUB, MUL, SQUARED_DIFFERENCE])
@pytest.mark.parametrize(("shape_a", "shape_b"), BROADCASTS)
def test_int8_binary_broadcasts(tmp_path: Path, op: int, shape_a, shape_b) -> None:
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    options = BINARY_OPTIONS[op]() if op in BINARY_OPTIONS else ()
    for a_shape, b_shape in ((shape_a, shape_b), (shape_b, shape_a)):
        blob = one_op_model(op, [Spec(a_shape, np.int8, 0.03, 5), Spec(b_shape, np.int8, 0.07, -3)],
                            Spec(out_shape, np.int8, 0.09, 1), *options)
        rng = np.random.default_rng(1)
        batches = [[rng.integers(-128, 128, a_shape).astype(np.int8), rng.integers(-128, 128, b_shape).astype(np.int8)]
                   for _ in range(3)]
        check_one_op(tmp_path, blob, batches)


def test_add_with_constant_operand(tmp_path: Path) -> None:
    constant = np.arange(-8, 8, dtype=np.int8) * 7
    blob = one_op_model(ADD, [Spec((2, 4, 16), np.int8, 0.02, 4), Spec((16,), np.int8, 0.05, -1, constant)],
                        Spec((2, 4, 16), np.int8, 0.06, 0), *_add_options())
    rng = np.random.default_rng(2)
    check_one_op(tmp_path, blob, [[rng.integers(-128, 128, (2, 4, 16)).astype(np.int8)] for _ in range(3)])


def _int16_batches(shapes, count=3, seed=3):
    rng = np.random.default_rng(seed)
    return [[rng.integers(-32768, 32768, shape).astype(np.int16) for shape in shapes] for _ in range(count)]


@pytest.mark.parametrize("op", [ADD, SUB])
@pytest.mark.parametrize("pot", [True, False])
@pytest.mark.parametrize("exponents", [(-10, -12, -10), (-12, -10, -10), (-11, -11, -11)])
def test_int16_add_sub_power_of_two_scales(tmp_path: Path, op: int, pot: bool, exponents) -> None:
    """TFLite shifts and saturates when pot_scale_int16 is set; TFLite Micro always rescales."""
    e1, e2, eo = exponents
    n = 4096
    blob = one_op_model(op, [Spec((n,), np.int16, 2.0**e1), Spec((n,), np.int16, 2.0**e2)],
                        Spec((n,), np.int16, 2.0**eo), *BINARY_OPTIONS[op](0, pot))
    check_one_op(tmp_path, blob, _int16_batches([(n,), (n,)]))


@pytest.mark.parametrize("op", [ADD, SUB, MUL])
@pytest.mark.parametrize("shapes", [((4, 256), (4, 256)), ((4, 8, 32), (32,)), ((1, 64), (3, 1))])
def test_int16_binary_general_scales(tmp_path: Path, op: int, shapes) -> None:
    shape_a, shape_b = shapes
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    out_scale = 3.1e-4 if op != MUL else 1.7e-4 * 5.3e-4 * 9000
    blob = one_op_model(op, [Spec(shape_a, np.int16, 1.7e-4), Spec(shape_b, np.int16, 5.3e-4)],
                        Spec(out_shape, np.int16, out_scale), *BINARY_OPTIONS[op](0, False) if op != MUL else
                        _mul_options())
    check_one_op(tmp_path, blob, _int16_batches([shape_a, shape_b]))


def test_sub_output_multiplier_above_one_is_refused(tmp_path: Path) -> None:
    """TFLite's SUB accepts an output rescale above one but then shifts by a negative amount (undefined
    behaviour in C++); TFLite Micro refuses it. edgeml refuses it for both."""
    path = tmp_path / "op.tflite"
    path.write_bytes(one_op_model(SUB, [Spec((8,), np.int8, 1.0, 0), Spec((8,), np.int8, 1.0, 0)],
                                  Spec((8,), np.int8, 1e-8, 0), *_sub_options()))
    for numerics in (Numerics.TFLITE, Numerics.TFLM):
        with pytest.raises(UnsupportedOpError, match="SUB"):
            prepare_program(load(path), numerics)


def _unary(tmp_path: Path, op: int, x: Spec, out: Spec, values: np.ndarray, against=("tflite", "tflm"),
           options_type: int = 0, options=None) -> None:
    size = int(np.prod(x.shape))
    padded = np.concatenate([values, np.resize(values, (-values.size) % size)])
    batches = [[padded[k:k + size].reshape(x.shape)] for k in range(0, padded.size, size)]
    check_one_op(tmp_path, one_op_model(op, [x], out, options_type, options), batches, against)


@pytest.mark.parametrize(("scale_in", "zp_in", "scale_out", "zp_out"),
                         [(0.01, 0, 0.02, 0), (0.003, -5, 0.05, -100), (0.2, 60, 0.01, 10)])
def test_rsqrt_every_value(tmp_path: Path, scale_in, zp_in, scale_out, zp_out) -> None:
    # Both references refuse inputs below the zero point.
    values = np.arange(zp_in, 128).astype(np.int8)
    _unary(tmp_path, RSQRT, Spec((64,), np.int8, scale_in, zp_in), Spec((64,), np.int8, scale_out, zp_out), values)


@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.5])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_leaky_relu_every_value(tmp_path: Path, alpha: float, dtype) -> None:
    options = schema.LeakyReluOptionsT()
    options.alpha = alpha
    zp_in, zp_out = (3, -7) if dtype == np.int8 else (0, 0)
    scale = 0.05 if dtype == np.int8 else 3e-4
    _unary(tmp_path, LEAKY_RELU, Spec((4096,), dtype, scale, zp_in), Spec((4096,), dtype, scale * 0.77, zp_out),
           every_value(dtype), options_type=schema.BuiltinOptions.LeakyReluOptions, options=options)


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize(("scale_in", "zp_in", "scale_out", "zp_out"),
                         [(0.05, 0, 0.03, -60), (0.021, -17, 0.011, -110), (0.1, 20, 0.05, -128)])
def test_gelu_every_value_against_tflite(tmp_path: Path, approximate: bool, scale_in, zp_in, scale_out,
                                         zp_out) -> None:
    options = schema.GeluOptionsT()
    options.approximate = approximate
    _unary(tmp_path, GELU, Spec((256,), np.int8, scale_in, zp_in), Spec((256,), np.int8, scale_out, zp_out),
           every_value(np.int8), against=("tflite",), options_type=schema.BuiltinOptions.GeluOptions,
           options=options)


@pytest.mark.parametrize(("scale_in", "zp_in"), [(0.05, 0), (0.1, -20), (0.0123, 77), (0.4, 3)])
def test_logistic_every_value(tmp_path: Path, scale_in: float, zp_in: int) -> None:
    """TFLite tabulates float32 math; TFLite Micro evaluates gemmlowp's fixed-point logistic."""
    _unary(tmp_path, LOGISTIC, Spec((256,), np.int8, scale_in, zp_in), Spec((256,), np.int8, 1.0 / 256, -128),
           every_value(np.int8))


@pytest.mark.parametrize(("scale_in", "zp_in"), [(0.05, 0), (0.1, -20), (0.0123, 77), (0.4, 3)])
def test_tanh_every_value(tmp_path: Path, scale_in: float, zp_in: int) -> None:
    _unary(tmp_path, TANH, Spec((256,), np.int8, scale_in, zp_in), Spec((256,), np.int8, 1.0 / 128, 0),
           every_value(np.int8))


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_dequantize_every_value(tmp_path: Path, dtype) -> None:
    zp = -9 if dtype == np.int8 else 0
    _unary(tmp_path, DEQUANTIZE, Spec((4096,), dtype, 0.0123, zp), Spec((4096,), np.float32), every_value(dtype))


@pytest.mark.parametrize(("out_dtype", "scale", "zp"), [(np.int8, 0.0071, -3), (np.int8, 0.4, 81),
                                                        (np.int16, 1.3e-4, 0)])
def test_quantize_from_float(tmp_path: Path, out_dtype, scale: float, zp: int) -> None:
    rng = np.random.default_rng(4)
    values = np.concatenate([
        rng.uniform(-2, 2, 20000), rng.uniform(-1e6, 1e6, 1000),
        (np.arange(-2000, 2000) + 0.5) * scale,  # ties
    ]).astype(np.float32)
    _unary(tmp_path, QUANTIZE, Spec((1000,), np.float32), Spec((1000,), out_dtype, scale, zp), values)


@pytest.mark.parametrize(("in_dtype", "in_scale", "in_zp", "out_dtype", "out_scale", "out_zp"), [
    (np.int8, 0.05, 3, np.int8, 0.031, -10),
    (np.int8, 0.05, 3, np.int8, 0.5, 0),
    (np.int16, 4.9e-4, 0, np.int16, 9.2e-4, 0),
    (np.int16, 4.9e-4, 0, np.int8, 0.03, 5),
    (np.int16, 4.9e-4, 0, np.int32, 1.49e-7, 0),
])
def test_requantize_every_value(tmp_path: Path, in_dtype, in_scale, in_zp, out_dtype, out_scale, out_zp) -> None:
    _unary(tmp_path, QUANTIZE, Spec((4096,), in_dtype, in_scale, in_zp), Spec((4096,), out_dtype, out_scale, out_zp),
           every_value(in_dtype))


def test_requantize_from_int32(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.integers(-(1 << 31), 1 << 31, 3000), rng.integers(-(1 << 20), 1 << 20, 3000)])
    _unary(tmp_path, QUANTIZE, Spec((1000,), np.int32, 1.49e-7, 0), Spec((1000,), np.int16, 9.2e-4, 0),
           values.astype(np.int32))


def test_neg_float(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    values = np.concatenate([rng.normal(0, 10, 4000), [0.0, -0.0, np.inf, -np.inf, 1e-45]]).astype(np.float32)
    _unary(tmp_path, NEG, Spec((500,), np.float32), Spec((500,), np.float32), values)


# --- unsupported variants and the broadcast plan ---------------------------------------------------


def test_unsupported_variants_name_the_op(tmp_path: Path) -> None:
    path = tmp_path / "op.tflite"
    path.write_bytes(one_op_model(GELU, [Spec((8,), np.int16, 1e-3)], Spec((8,), np.int16, 1e-3),
                                  schema.BuiltinOptions.GeluOptions, schema.GeluOptionsT()))
    with pytest.raises(UnsupportedOpError, match="GELU"):
        prepare_program(load(path), Numerics.TFLITE)
    path.write_bytes(one_op_model(MUL, [Spec((8,), np.int8, 0.1), Spec((8,), np.int16, 0.1)],
                                  Spec((8,), np.int8, 0.1), *_mul_options()))
    with pytest.raises(UnsupportedOpError, match="MUL"):
        prepare_program(load(path), Numerics.TFLM)


@pytest.mark.parametrize(("shape_a", "shape_b"), [*BROADCASTS, ((1,), (1,)), ((2, 1, 3, 1), (1, 4, 1, 5))])
def test_broadcast_plan_walks_like_numpy(shape_a, shape_b) -> None:
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    plan = plan_broadcast(shape_a, shape_b, out_shape)
    a = np.arange(int(np.prod(shape_a)), dtype=np.int64).reshape(shape_a)
    b = np.arange(int(np.prod(shape_b)), dtype=np.int64).reshape(shape_b)
    wa, wb = (np.broadcast_to(x, out_shape).reshape(-1) for x in (a, b))
    k = np.arange(plan.run_length)
    got_a = (plan.a_starts[:, None] + k[None, :] * plan.a_step).reshape(-1)
    got_b = (plan.b_starts[:, None] + k[None, :] * plan.b_step).reshape(-1)
    assert np.array_equal(got_a, wa) and np.array_equal(got_b, wb)
