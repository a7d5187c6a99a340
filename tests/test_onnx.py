"""ONNX sources: quantized models (operator form and QDQ) bit-exact with onnxruntime and with the ONNX
node tests' golden outputs; float models through edgeml's own quantizer; clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import zoo_path

from edgeml.cli import main
from edgeml.compare import compare, random_inputs
from edgeml.errors import EdgemlError, UnsupportedOpError
from edgeml.runtime.executor import run
from edgeml.runtime.program import prepare_program

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgeml.converters.onnx import load_onnx  # noqa: E402
from edgeml.converters.onnx_quantize import quantize_onnx, quantize_onnx_to_graph  # noqa: E402

NODE_TESTS = "onnx_nodetests_generated"
GOLDEN = [
    "test_qlinearconv",  # uint8 activations and weights, weight zero point 255
    "test_qlinearmatmul_2D_int8_float32",
    "test_qlinearmatmul_3D_int8_float32",  # batched constant right operand
    "test_convinteger_with_padding",  # int32 accumulators, explicit pads, per-channel weight zero points
    "test_matmulinteger",
    "test_quantizelinear",  # opset 28: onnxruntime cannot load it, the golden output decides
    "test_dequantizelinear",
]
FLOAT_MODELS = ["onnx_small/mnist.simplified.onnx", "onnx_small/onnx2c_test_mnist.onnx", "onnx_small/opt-mnist.onnx",
                "onnx_small/onnx2c_test_mnist_pytorch.onnx", "onnx_small/tfl_helloworld.onnx",
                "onnx_small/lesson14.onnx", "onnx_small/lesson9.onnx"]


def _read_pb(path: Path) -> np.ndarray:
    tensor = onnx.TensorProto()
    tensor.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(tensor)


def _node_test(name: str) -> tuple[Path, dict[str, np.ndarray], np.ndarray, list[np.ndarray]]:
    model = zoo_path(f"{NODE_TESTS}/{name}.onnx")
    data = model.with_suffix("") / "test_data_set_0"
    inputs = [_read_pb(p) for p in sorted(data.glob("input_*.pb"))]
    outputs = [_read_pb(p) for p in sorted(data.glob("output_*.pb"))]
    names = [i.name for i in onnx.load(str(model)).graph.input]
    # The first input is the data; the rest (scales, zero points, weights) become constants.
    return model, dict(zip(names[1:], inputs[1:], strict=True)), inputs[0], outputs


@pytest.mark.parametrize("name", GOLDEN)
def test_node_test_golden_outputs(name: str) -> None:
    model, bind, x, expected = _node_test(name)
    program = prepare_program(load_onnx(model, bind), "onnxruntime")
    outputs = run(program, [x]).outputs
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected, strict=True):
        assert got.dtype == want.dtype and got.tobytes() == want.reshape(got.shape).tobytes(), name


# onnxruntime cannot load opset 28 (Quantize/DequantizeLinear) and refuses ConvInteger with per-channel
# weight zero points: for those the golden outputs above are the reference.
ORT_RUNS = ["test_qlinearconv", "test_qlinearmatmul_2D_int8_float32", "test_qlinearmatmul_3D_int8_float32",
            "test_matmulinteger"]


@pytest.mark.parametrize("name", ORT_RUNS)
def test_node_tests_match_onnxruntime_on_random_inputs(name: str) -> None:
    model, bind, _, _ = _node_test(name)
    graph = load_onnx(model, bind)
    report = compare(graph, "onnxruntime", random_inputs(graph, 20, 1))
    assert report.mismatched_inputs == 0, report


def test_dynamic_quantize_linear_is_refused_with_the_reason() -> None:
    model = zoo_path(f"{NODE_TESTS}/test_dynamicquantizelinear.onnx")
    with pytest.raises(UnsupportedOpError, match=r"DynamicQuantizeLinear.*scale from the data at run time"):
        load_onnx(model)


def _contrib_model(op: str, dtype: int, scales, zero_points, shape_b=(2, 3, 40)) -> bytes:
    np_type = np.int8 if dtype == TensorProto.INT8 else np.uint8
    inits = []
    for name, value in zip(("sa", "sb", "sy"), scales, strict=True):
        inits.append(numpy_helper.from_array(np.array(value, np.float32), name))
    for name, value in zip(("za", "zb", "zy"), zero_points, strict=True):
        inits.append(numpy_helper.from_array(np.array(value, np_type), name))
    node = helper.make_node(op, ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"], ["y"], domain="com.microsoft")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", dtype, (2, 3, 40)),
                                            helper.make_tensor_value_info("b", dtype, shape_b)],
                              [helper.make_tensor_value_info("y", dtype, (2, 3, 40))], inits)
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
@pytest.mark.parametrize("dtype", [TensorProto.INT8, TensorProto.UINT8])
@pytest.mark.parametrize("shape_b", [(2, 3, 40), (1,), (3, 1)], ids=["full", "scalar", "broadcast"])
def test_contrib_binary_ops_match_onnxruntime(tmp_path: Path, op: str, dtype: int, shape_b) -> None:
    unsigned = dtype == TensorProto.UINT8
    rng = np.random.default_rng(7)
    for trial in range(5):
        # Trial 0: ratios 5/6 and 1/3, where many sums land exactly on .5 and the order and fusion of
        # onnxruntime's float operations decide the rounding; the others random.
        scales = (0.05, 0.02, 0.06) if trial == 0 else rng.uniform(0.004, 0.1, 3)
        zero_points = rng.integers(100, 156, 3) if unsigned else rng.integers(-20, 20, 3)
        path = tmp_path / f"{op}_{trial}.onnx"
        path.write_bytes(_contrib_model(op, dtype, scales, zero_points, shape_b))
        graph = load_onnx(path)
        report = compare(graph, "onnxruntime", random_inputs(graph, 10, trial))
        assert report.mismatched_inputs == 0, (op, trial, report)


@pytest.mark.parametrize("name", ["test_qlinearadd_int8", "test_qlinearmul_int8"])
def test_zoo_contrib_models_with_bound_scales(name: str) -> None:
    model = zoo_path(f"onnx_tests/{name}.onnx")
    bind = {"a_scale": np.float32(0.05), "a_zero_point": np.int8(3), "b_scale": np.float32(0.02),
            "b_zero_point": np.int8(-7), "c_scale": np.float32(0.06 if "add" in name else 0.02),
            "c_zero_point": np.int8(1)}
    graph = load_onnx(model, bind)
    report = compare(graph, "onnxruntime", random_inputs(graph, 20, 0))
    assert report.mismatched_inputs == 0, report


@pytest.mark.parametrize("model", FLOAT_MODELS, ids=lambda m: m.split("/")[-1])
def test_float_models_quantize_and_match_onnxruntime(model: str) -> None:
    graph = quantize_onnx_to_graph(zoo_path(model))
    assert any(node.op in ("CONV_2D", "FULLY_CONNECTED") for node in graph.nodes)
    report = compare(graph, "onnxruntime", random_inputs(graph, 10, 3))
    assert report.mismatched_inputs == 0, report


def test_quantizer_folds_batch_norm_and_writes_per_channel_symmetric_weights() -> None:
    result = quantize_onnx(zoo_path("onnx_small/onnx2c_test_mnist_pytorch.onnx"))
    qdq = onnx.load_from_string(result.qdq)
    assert not any(n.op_type == "BatchNormalization" for n in qdq.graph.node)
    assert not any(n.op_type == "BatchNormalization" for n in onnx.load_from_string(result.float_model).graph.node)
    weights = [i for i in qdq.graph.initializer if i.name.endswith("/quantized") and i.data_type == TensorProto.UINT8
               and len(i.dims) == 2]
    assert weights
    for init in weights:
        # symmetric int8 values stored as uint8 around 128 (onnxruntime's exact uint8 x uint8 kernels)
        values = numpy_helper.to_array(init).astype(np.int64) - 128
        assert values.min() >= -127 and values.max() <= 127
        assert np.all(np.abs(values).max(axis=1 if init.name.endswith("_W/quantized") else 0) == 127)


def test_bn_folding_keeps_the_float_function() -> None:
    """The cleaned-up float model (BN folded) computes what the original computes."""
    path = zoo_path("onnx_small/onnx2c_test_mnist_pytorch.onnx")
    from edgeml.converters.onnx_quantize import float_runner

    original, cleaned = float_runner(path), float_runner(quantize_onnx(path).float_model)
    x = np.random.default_rng(0).standard_normal((1, 784)).astype(np.float32)
    np.testing.assert_allclose(cleaned([x])[0], original([x])[0], rtol=1e-4, atol=1e-4)


def test_onnx_models_refuse_tflite_numerics() -> None:
    graph = quantize_onnx_to_graph(zoo_path("onnx_small/tfl_helloworld.onnx"))
    with pytest.raises(UnsupportedOpError, match="reference is onnxruntime"):
        prepare_program(graph, "tflite")


def test_unsupported_float_op_names_the_node(tmp_path: Path) -> None:
    graph = helper.make_graph([helper.make_node("Tanh", ["x"], ["y"], name="squash")], "tanh",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 4))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, 4))])
    path = tmp_path / "tanh.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
                     .SerializeToString())
    with pytest.raises(UnsupportedOpError, match=r"'squash' \(Tanh\).*no int8 form for Tanh"):
        quantize_onnx(path)


@pytest.mark.parametrize("dtype", [TensorProto.INT8, TensorProto.UINT8])
def test_qlinear_sigmoid_matches_onnxruntime_on_every_value(tmp_path: Path, dtype: int) -> None:
    """QLinearSigmoid's table (MLAS's logistic with fused multiply-adds, then QuantizeLinear) on all 256
    inputs, for several scales."""
    np_type = np.int8 if dtype == TensorProto.INT8 else np.uint8
    info = np.iinfo(np_type)
    rng = np.random.default_rng(3)
    x = np.arange(info.min, info.max + 1).astype(np_type).reshape(1, 256)
    for trial in range(6):
        x_zero = int(rng.integers(-20, 20)) + (128 if np_type == np.uint8 else 0)
        y_zero = info.min if trial % 2 else int(rng.integers(-5, 5)) + (128 if np_type == np.uint8 else 0)
        inits = [numpy_helper.from_array(np.array(v, t), n) for v, t, n in (
            (rng.uniform(0.01, 0.2), np.float32, "xs"), (x_zero, np_type, "xz"),
            (1 / 256 if trial % 2 else rng.uniform(0.002, 0.01), np.float32, "ys"), (y_zero, np_type, "yz"))]
        node = helper.make_node("QLinearSigmoid", ["x", "xs", "xz", "ys", "yz"], ["y"], domain="com.microsoft")
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", dtype, (1, 256))],
                                  [helper.make_tensor_value_info("y", dtype, (1, 256))], inits)
        path = tmp_path / f"sigmoid{trial}.onnx"
        opsets = [helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)]
        path.write_bytes(helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString())
        report = compare(load_onnx(path), "onnxruntime", [[x]])
        assert report.mismatched_inputs == 0, (trial, report)


def test_corrupt_onnx_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(EdgemlError, match=r"broken\.onnx"):
        load_onnx(path)


def test_cli_quantize_then_compare(tmp_path: Path) -> None:
    out = tmp_path / "mnist.int8.onnx"
    runner = CliRunner()
    result = runner.invoke(main, ["quantize", str(zoo_path("onnx_small/opt-mnist.onnx")), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert out.exists()
    result = runner.invoke(main, ["compare", str(out), "--against", "onnxruntime", "-n", "5", "--json"])
    assert result.exit_code == 0, result.output
    assert '"mismatched_inputs": 0' in result.output
    result = runner.invoke(main, ["quantize", str(out), "-o", str(tmp_path / "again.onnx")])
    assert result.exit_code != 0 and "already quantized" in result.output


def test_bundled_digits_onnx_quantizes_to_float_accuracy(tmp_path: Path) -> None:
    """The bundled float ONNX digits CNN (depthwise, max pool, global average pool): int8 keeps the
    float accuracy on the held-out digits and runs bit-exactly with onnxruntime."""
    from edgeml.accuracy import measure
    from edgeml.calibration import InputSpec, load_calibration, load_labels
    from edgeml.converters.onnx_quantize import float_runner
    from edgeml.runtime.executor import Runner

    models = Path(__file__).resolve().parent.parent / "edgeml" / "models"
    result = quantize_onnx(models / "digits_cnn.onnx", models / "digits_calibration.npz")
    path = tmp_path / "digits.int8.onnx"
    path.write_bytes(result.qdq)
    graph = load_onnx(path)
    assert {"DEPTHWISE_CONV_2D", "MAX_POOL_2D", "MEAN"} <= {node.op for node in graph.nodes}
    test = models / "digits_test.npz"
    data = load_calibration(test, [InputSpec("image", (1, 8, 8, 1))])
    report = measure(graph, Runner(prepare_program(graph, "onnxruntime")), float_runner(result.float_model),
                     data.samples, str(test), load_labels(test, len(data)))
    assert report.float_accuracy >= 0.97 and report.int8_accuracy >= report.float_accuracy - 0.005, report
    assert report.top1_agreement >= 0.99, report
    assert compare(graph, "onnxruntime", data.samples[:30]).mismatched_inputs == 0


def _global_average_model(dtype: int) -> bytes:
    np_type = np.int8 if dtype == TensorProto.INT8 else np.uint8
    shift = 0 if dtype == TensorProto.INT8 else 128
    inits = [numpy_helper.from_array(np.array(v, t), n) for v, t, n in (
        (0.03, np.float32, "xs"), (-5 + shift, np_type, "xz"), (0.011, np.float32, "ys"), (3 + shift, np_type, "yz"))]
    node = helper.make_node("QLinearGlobalAveragePool", ["x", "xs", "xz", "ys", "yz"], ["y"], domain="com.microsoft",
                            channels_last=0)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", dtype, (1, 16, 5, 5))],
                              [helper.make_tensor_value_info("y", dtype, (1, 16, 1, 1))], inits)
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


@pytest.mark.parametrize("dtype", [TensorProto.INT8, TensorProto.UINT8])
def test_qlinear_global_average_pool_matches_onnxruntime(tmp_path: Path, dtype: int) -> None:
    path = tmp_path / "gap.onnx"
    path.write_bytes(_global_average_model(dtype))
    graph = load_onnx(path)
    report = compare(graph, "onnxruntime", random_inputs(graph, 30, 0))
    assert report.mismatched_inputs == 0, report


@pytest.mark.parametrize("model", ["onnx_small/mnist.simplified.onnx", "onnx_small/onnx2c_test_mnist_pytorch.onnx",
                                   "onnx_small/lesson14.onnx"], ids=lambda m: m.split("/")[-1])
def test_onnxruntime_quantize_static_models_run_bit_exactly(tmp_path: Path, model: str) -> None:
    """Models quantized by onnxruntime's own quantize_static (QDQ, per channel, uint8 activations and
    weights: the storage its x86 kernels compute exactly) are read as they are."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    source = tmp_path / "float.onnx"
    float_model = onnx.load_from_string(quantize_onnx(zoo_path(model)).float_model)
    source.write_bytes(onnx.version_converter.convert_version(float_model, 13).SerializeToString())
    name = float_model.graph.input[0].name
    shape = [d.dim_value or 1 for d in float_model.graph.input[0].type.tensor_type.shape.dim]
    rng = np.random.default_rng(0)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.left = 16

        def get_next(self):
            self.left -= 1
            return {name: rng.standard_normal(shape).astype(np.float32)} if self.left >= 0 else None

    target = tmp_path / "ort_int8.onnx"
    quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QUInt8,
                    extra_options={"WeightSymmetric": True})
    graph = load_onnx(target)
    report = compare(graph, "onnxruntime", random_inputs(graph, 10, 1))
    assert report.mismatched_inputs == 0, report


@pytest.mark.parametrize("model", ["mlperf_tiny/vww_96_float.tflite", "mlperf_tiny/pretrainedResnet.tflite",
                                   "mlperf_tiny/ad01_fp32.tflite"], ids=lambda m: m.split("/")[-1])
def test_float_tflite_exports_to_an_equivalent_onnx_model(model: str) -> None:
    """edgeml's float TFLite -> ONNX export computes what ai-edge-litert computes (float: close, not equal)."""
    from ai_edge_litert.interpreter import Interpreter

    from edgeml.converters.tflite import load_tflite
    from edgeml.converters.tflite_float_onnx import tflite_graph_to_onnx

    path = zoo_path(model)
    session = ort.InferenceSession(tflite_graph_to_onnx(load_tflite(path)), providers=["CPUExecutionProvider"])
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    detail, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.uniform(0, 1, detail["shape"]).astype(np.float32)
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        expected = interpreter.get_tensor(out["index"])
        got = session.run(None, {session.get_inputs()[0].name: x})[0].reshape(expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_cli_quantizes_a_float_tflite_to_qdq_onnx(tmp_path: Path) -> None:
    out = tmp_path / "ad01.int8.onnx"
    runner = CliRunner()
    result = runner.invoke(main, ["quantize", str(zoo_path("mlperf_tiny/ad01_fp32.tflite")), "-o", str(out)])
    assert result.exit_code == 0, result.output
    graph = load_onnx(out)
    assert [n.op for n in graph.nodes].count("FULLY_CONNECTED") == 10
    assert compare(graph, "onnxruntime", random_inputs(graph, 10, 0)).mismatched_inputs == 0
    result = runner.invoke(main, ["quantize", str(zoo_path("mlperf_tiny/ad01_int8.tflite")), "-o", str(out)])
    assert result.exit_code != 0 and "already quantized" in result.output


def test_clip_becomes_relu_with_its_range_capped_and_folds_into_the_conv(tmp_path: Path) -> None:
    """Conv -> Clip(0, 6) (ReLU6): edgeml's quantizer caps the output range at 6 (scale 6/255 from zero),
    so the clamp is the quantized range itself; onnxruntime and edgeml then agree bit for bit."""
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 2  # outputs well beyond 6
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["c", "lo", "hi"], ["y"])]
    inits = [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(np.zeros(8, np.float32), "b"),
             numpy_helper.from_array(np.array(0.0, np.float32), "lo"),
             numpy_helper.from_array(np.array(6.0, np.float32), "hi")]
    graph = helper.make_graph(nodes, "relu6", [helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 3, 8, 8))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, 8, 8, 8))], inits)
    source = tmp_path / "relu6.onnx"
    source.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                                         ir_version=8).SerializeToString())
    calibration = tmp_path / "calibration.npy"
    np.save(calibration, rng.standard_normal((32, 3, 8, 8)).astype(np.float32))
    result = quantize_onnx(source, calibration)
    qdq = onnx.load_from_string(result.qdq)
    scales = {i.name: numpy_helper.to_array(i) for i in qdq.graph.initializer}
    assert not any(n.op_type == "Clip" for n in qdq.graph.node)
    assert scales["y/float/scale"] == np.float32(6.0 / 255) and scales["y/float/zero_point"] == 0
    path = tmp_path / "relu6.int8.onnx"
    path.write_bytes(result.qdq)
    model = load_onnx(path)
    assert compare(model, "onnxruntime", random_inputs(model, 10, 0)).mismatched_inputs == 0


MODELS_DIR = Path(__file__).resolve().parent.parent / "edgeml" / "models"


def _quantized(tmp_path: Path, source: Path, calibration: Path | None = None) -> Path:
    from edgeml.converters.tflite import load_tflite
    from edgeml.converters.tflite_float_onnx import tflite_graph_to_onnx

    if source.suffix == ".tflite":
        exported = tmp_path / (source.stem + ".onnx")
        exported.write_bytes(tflite_graph_to_onnx(load_tflite(source)))
        source = exported
    path = tmp_path / (source.stem + ".int8.onnx")
    path.write_bytes(quantize_onnx(source, calibration).qdq)
    return path


@pytest.mark.parametrize("model", ["BUNDLED/digits_cnn.onnx", "mlperf_tiny/kws_ref_model_float32.tflite",
                                   "mlperf_tiny/ad01_fp32.tflite"], ids=lambda m: m.split("/")[-1])
def test_onnxruntime_numerics_in_c(tmp_path: Path, model: str) -> None:
    """The C kernels with EDG_ROUND_FLOAT32 (the float32 scale's bits, round half to even) against numba,
    op by op, on edgeml-quantized ONNX models."""
    from c_conformance import assert_c_matches

    if model.startswith("BUNDLED/"):
        path = _quantized(tmp_path, MODELS_DIR / model.split("/")[1], MODELS_DIR / "digits_calibration.npz")
    else:
        path = _quantized(tmp_path, zoo_path(model))
    graph = load_onnx(path)
    assert_c_matches(graph, "onnxruntime", random_inputs(graph, 3, seed=2))


@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
@pytest.mark.parametrize("shape_b", [(2, 3, 40), (1,), (3, 1)], ids=["full", "scalar", "broadcast"])
def test_contrib_binary_ops_in_c(tmp_path: Path, op: str, shape_b) -> None:
    """QLinearAdd's fused multiply-adds (edg_fmaf: one rounding, also on soft-float cores) and
    QLinearMul in C, against numba, on the tie-heavy scales and on random ones."""
    from c_conformance import assert_c_matches

    rng = np.random.default_rng(11)
    for trial, scales in enumerate([(0.05, 0.02, 0.06), tuple(rng.uniform(0.004, 0.1, 3))]):
        path = tmp_path / f"{op}_{trial}.onnx"
        path.write_bytes(_contrib_model(op, TensorProto.INT8, scales, tuple(rng.integers(-20, 20, 3)), shape_b))
        graph = load_onnx(path)
        assert_c_matches(graph, "onnxruntime", random_inputs(graph, 4, seed=trial))


def test_forms_without_c_kernels_are_refused_by_name() -> None:
    from edgeml.codegen.model_c import generate
    from edgeml.plan.memory import plan_memory

    model, bind, _, _ = _node_test("test_convinteger_with_padding")
    program = prepare_program(load_onnx(model, bind), "onnxruntime")
    with pytest.raises(UnsupportedOpError, match=r"ConvInteger.*int32 accumulator outputs"):
        generate(program, plan_memory(program.graph, numerics=program.numerics))


def test_uint8_models_in_c(tmp_path: Path) -> None:
    """A uint8 model (its edges flip the top bit into edgeml's int8 and back) in C against numba."""
    from c_conformance import assert_c_matches

    for op in ("QLinearAdd", "QLinearMul"):
        path = tmp_path / f"{op}.onnx"
        path.write_bytes(_contrib_model(op, TensorProto.UINT8, (0.05, 0.02, 0.06), (120, 133, 128)))
        graph = load_onnx(path)
        assert {graph.tensors[i].dtype.value for i in graph.inputs + graph.outputs} == {"uint8"}
        assert_c_matches(graph, "onnxruntime", random_inputs(graph, 4, seed=1))


@pytest.mark.parametrize(("model", "count"),
                         [("BUNDLED/digits_cnn.onnx", 20), ("mlperf_tiny/pretrainedResnet.tflite", 3)],
                         ids=["digits_cnn", "resnet8"])
@pytest.mark.parametrize("target", ["host", "qemu-mps2-an386"])
def test_onnx_models_verify_on_the_firmware(tmp_path: Path, target: str, model: str, count: int) -> None:
    """edgeml-quantized ONNX models in C with onnxruntime's arithmetic (ResNet8's residual Adds take the
    QLinearAdd kernel: VFMA on the Cortex-M4F, the exact emulation on the host)."""
    import shutil

    from edgeml.hil.verify import verify
    from edgeml.targets import load_board

    board = load_board(target)
    if board.emulated and shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm not installed")
    if model.startswith("BUNDLED/"):
        path = _quantized(tmp_path, MODELS_DIR / "digits_cnn.onnx", MODELS_DIR / "digits_calibration.npz")
    else:
        path = _quantized(tmp_path, zoo_path(model))
    report = verify(path, board, None, count, seed=4)
    assert (report.numerics, report.inputs, report.mismatched_inputs) == ("onnxruntime", count, 0)


def test_int4_models_are_refused_with_the_type() -> None:
    with pytest.raises(UnsupportedOpError, match=r"INT4.*8-bit"):
        load_onnx(zoo_path(f"{NODE_TESTS}/test_quantizelinear_int4.onnx"))


def test_cli_plan_takes_an_onnx_model() -> None:
    runner = CliRunner()
    digits = str(MODELS_DIR / "digits_cnn.onnx")
    calibration = str(MODELS_DIR / "digits_calibration.npz")
    result = runner.invoke(main, ["plan", digits, "--calibration", calibration, "--target", "nucleo-l4r5zi", "--json"])
    assert result.exit_code == 0, result.output
    assert '"arena_bytes"' in result.output
    result = runner.invoke(main, ["plan", digits, "--calibration", calibration, "--target", "nucleo-l4r5zi",
                                  "--vs-tflm"])
    assert result.exit_code != 0 and "TensorFlow Lite Micro" in result.output
