"""How close int8 stays to float: edgeml's quantizer, onnxruntime's quantize_static and the official int8.

    .venv/bin/python tools/bench_quantizer.py [--only SUBSTRING] [--held-out N]

For the float models of the zoo (MLPerf Tiny's float .tflite, exported to ONNX by edgeml; onnx_small)
and the bundled digits CNN: both quantizers get the same cleaned-up float model (edgeml's clean-up:
BatchNormalization folded, a final Softmax left out) and the same calibration samples. Then, on
held-out samples: top-1 agreement with float, SNR of the outputs against float (on probabilities when
the float model ends in Softmax, so that the official int8 models, which include it, compare), and
accuracy where labels exist; and whether edgeml runs each ONNX int8 model bit-exactly.

Data: the bundled digits; MNIST-shaped models get scikit-learn's 8x8 digits scaled up to their input
size (real digits, not MNIST, with labels); the others get random samples, said so in the table:
uniform over the input range of the official int8 model where there is one, else standard normal.
Agreement on random inputs says less than agreement on data.
onnxruntime runs the int8 models as a user runs them (default options).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from zoo import BUNDLED, ZOO

# float model -> the official int8 model of the same network (MLPerf Tiny), or None
OFFICIAL = {
    "mlperf_tiny/kws_ref_model_float32.tflite": "mlperf_tiny/kws_ref_model.tflite",
    "mlperf_tiny/vww_96_float.tflite": "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/pretrainedResnet.tflite": "mlperf_tiny/pretrainedResnet_quant.tflite",
    "mlperf_tiny/pretrainedResnet_large_float.tflite": "mlperf_tiny/pretrainedResnet_large_int8.tflite",
    "mlperf_tiny/ad01_fp32.tflite": "mlperf_tiny/ad01_int8.tflite",
}
MODELS = [*OFFICIAL, "onnx_small/mnist.simplified.onnx", "onnx_small/onnx2c_test_mnist.onnx",
          "onnx_small/opt-mnist.onnx", "onnx_small/onnx2c_test_mnist_pytorch.onnx", "onnx_small/tfl_helloworld.onnx",
          "onnx_small/lesson14.onnx", "onnx_small/lesson9.onnx", str(BUNDLED / "digits_cnn.onnx")]
CALIBRATION = 200


@dataclass
class Data:
    calibration: list[np.ndarray]
    held_out: list[np.ndarray]
    labels: np.ndarray | None
    kind: str


def digits_like(shape: tuple[int, ...], held_out: int) -> Data | None:
    """scikit-learn's digits in [0, 1], resized (nearest) to a 1-channel image or its flattening."""
    from sklearn.datasets import load_digits

    size = int(np.prod(shape))
    sides = {784: 28, 196: 14, 64: 8}
    side = next((s for n, s in sides.items() if size == n), None)
    if side is None:
        return None
    data = load_digits()
    images = data.images.astype(np.float32) / 16.0
    index = np.arange(side) * 8 // side
    images = images[:, index][:, :, index]
    samples = [img.reshape(shape).astype(np.float32) for img in images]
    return Data(samples[:CALIBRATION], samples[CALIBRATION:CALIBRATION + held_out],
                data.target[CALIBRATION:CALIBRATION + held_out], f"digits {side}x{side}")


def official_input_range(path: Path) -> tuple[float, float] | None:
    """The float range an official int8 model's input covers: random data for the float model of the
    same network is drawn from it (MLPerf Tiny's ResNets take raw 0..255 pixels, VWW 0..1)."""
    rel = next((k for k in OFFICIAL if (ZOO / k) == path), None)
    if rel is None or not (ZOO / OFFICIAL[rel]).exists():
        return None
    from ai_edge_litert.interpreter import Interpreter

    detail = Interpreter(model_path=str(ZOO / OFFICIAL[rel])).get_input_details()[0]
    scale, zero = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return (info.min - zero) * scale, (info.max - zero) * scale


def dataset(path: Path, shape: tuple[int, ...], held_out: int) -> Data:
    if path.name == "digits_cnn.onnx":
        with np.load(BUNDLED / "digits_calibration.npz") as cal, np.load(BUNDLED / "digits_test.npz") as test:
            calibration = [x[None] for x in cal["image"]]
            return Data(calibration, [x[None] for x in test["image"][:held_out]], test["labels"][:held_out],
                        "bundled digits")
    data = digits_like(shape, held_out)
    if data is not None:
        return data
    rng = np.random.default_rng(0)
    span = official_input_range(path)
    if span is not None:
        draw, kind = (lambda: rng.uniform(span[0], span[1], shape)), f"uniform {span[0]:.0f}..{span[1]:.0f}"
    else:
        draw, kind = (lambda: rng.standard_normal(shape)), "random normal"
    samples = [draw().astype(np.float32) for _ in range(CALIBRATION + held_out)]
    return Data(samples[:CALIBRATION], samples[CALIBRATION:], None, kind)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def measure(run_int8, run_float, data: Data, post=lambda v: v,
            classifier: bool = True) -> tuple[float | None, float, float | None, float | None]:
    """POST maps an int8 model's output onto the float model's (softmax when the int8 model stops at
    the logits); run_float returns what the original float model returns. Top-1 agreement only for
    CLASSIFIER models (an autoencoder's argmax means nothing)."""
    agree = hits_f = hits_q = 0
    signal = noise = 0.0
    for k, x in enumerate(data.held_out):
        f = np.asarray(run_float([x])[0], np.float64).reshape(-1)
        q = post(np.asarray(run_int8([x])[0], np.float64).reshape(-1))
        signal += float(np.sum(f * f))
        noise += float(np.sum((f - q) ** 2))
        agree += int(np.argmax(f) == np.argmax(q))
        if data.labels is not None:
            hits_f += int(np.argmax(f) == data.labels[k])
            hits_q += int(np.argmax(q) == data.labels[k])
    n = len(data.held_out)
    snr = 10 * np.log10(signal / noise) if noise > 0 else float("inf")
    accuracy = (hits_f / n, hits_q / n) if data.labels is not None else (None, None)
    return (agree / n if classifier else None), snr, *accuracy


def ort_session(model: bytes | str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda inputs: session.run(None, {name: inputs[0]})


def ort_quantize_static(float_model: bytes, data: Data, tmp: Path) -> bytes:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    model = onnx.load_from_string(float_model)
    if max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) < 13:
        # per-channel DequantizeLinear needs opset 13; onnxruntime's quantizer does not upgrade by itself
        model = onnx.version_converter.convert_version(model, 13)
    name = model.graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.samples = iter(data.calibration)

        def get_next(self):
            x = next(self.samples, None)
            return None if x is None else {name: x}

    source, target = tmp / "float.onnx", tmp / "ort_int8.onnx"
    source.write_bytes(model.SerializeToString())
    # onnxruntime's defaults (int8 activations and weights), per channel. Its own x86 runtime runs them as
    # uint8 x int8 with saturating int16 pair sums on AVX2: the table's numbers include that.
    quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    return target.read_bytes()


def edgeml_runner(qdq: bytes, tmp: Path, name: str):
    from edgeml.converters.onnx import load_onnx
    from edgeml.runtime.executor import Runner
    from edgeml.runtime.program import prepare_program

    path = tmp / name
    path.write_bytes(qdq)
    graph = load_onnx(path)
    runner = Runner(prepare_program(graph, "onnxruntime"))
    return graph, lambda inputs: runner.run([inputs[0].reshape(graph.tensors[graph.inputs[0]].shape)]).outputs


def bit_exact(graph, data: Data) -> str:
    from edgeml.compare import compare

    report = compare(graph, "onnxruntime", [[x] for x in data.held_out[:20]])
    return "yes" if report.mismatched_inputs == 0 else f"NO ({report.mismatched_inputs}/20)"


def official_runner(path: Path):
    """An official int8 .tflite on float samples: inputs quantized, outputs dequantized, as deployed."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]

    def run(inputs):
        scale, zero = inp["quantization"]
        x = inputs[0]
        if inp["dtype"] != np.float32:
            info = np.iinfo(inp["dtype"])
            x = np.clip(np.round(x / scale) + zero, info.min, info.max).astype(inp["dtype"])
        interpreter.set_tensor(inp["index"], x.reshape(inp["shape"]))
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"])
        o_scale, o_zero = out["quantization"]
        return [(y.astype(np.float64) - o_zero) * o_scale if out["dtype"] != np.float32 else y]

    return run


def float_source(path: Path, tmp: Path) -> Path:
    """The float ONNX model: the file itself, or a float .tflite exported by edgeml."""
    if path.suffix != ".tflite":
        return path
    from edgeml.converters.tflite import load_tflite
    from edgeml.converters.tflite_float_onnx import tflite_graph_to_onnx

    exported = tmp / (path.stem + ".onnx")
    exported.write_bytes(tflite_graph_to_onnx(load_tflite(path)))
    return exported


def ends_in_softmax(path: Path) -> bool:
    import onnx

    graph = onnx.load(str(path)).graph
    producers = {o: n for n in graph.node for o in n.output}
    last = producers.get(graph.output[0].name)
    while last is not None and last.op_type in ("Identity", "Transpose", "Reshape"):
        last = producers.get(last.input[0])
    return last is not None and last.op_type == "Softmax"


def fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.2f}%" if percent else f"{value:.1f}"


def main() -> int:
    from edgeml.converters.onnx_load import read_onnx
    from edgeml.converters.onnx_quantize import QuantizeOptions, input_specs, quantize_onnx
    from edgeml.errors import EdgemlError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--held-out", type=int, default=300)
    args = parser.parse_args()
    print(f"{'model':<28}{'data':<16}{'quantizer':<20}{'top-1 agr':>10}{'SNR dB':>8}{'acc float':>10}"
          f"{'acc int8':>10}  edgeml runs it bit-exactly")
    for rel in MODELS:
        path = Path(rel) if Path(rel).is_absolute() else ZOO / rel
        if args.only not in str(path):
            continue
        if not path.exists():
            print(f"{path.name:<28}skipped: not found under {ZOO}")
            continue
        with tempfile.TemporaryDirectory(prefix="edgeml-bench-") as tmp_name:
            tmp = Path(tmp_name)
            source = float_source(path, tmp)
            shape = input_specs(read_onnx(source))[0].shape
            data = dataset(path, shape, args.held_out)
            cal = tmp / "calibration.npy"
            np.save(cal, np.concatenate(data.calibration))
            rows = []
            try:
                results = {m: quantize_onnx(source, cal, QuantizeOptions(method=m)) for m in ("minmax", "percentile")}
            except EdgemlError as exc:
                print(f"{path.name:<28}{data.kind:<16}edgeml refuses: {str(exc).split(': ', 1)[-1][:90]}")
                continue
            classifier = ends_in_softmax(source) or data.labels is not None
            post = softmax if ends_in_softmax(source) else (lambda v: v)
            run_float = ort_session(str(source))
            for method, result in results.items():
                graph, run_int8 = edgeml_runner(result.qdq, tmp, f"edgeml_{method}.onnx")
                rows.append((f"edgeml {method}", measure(run_int8, run_float, data, post, classifier),
                             bit_exact(graph, data)))
            try:
                ort_int8 = ort_quantize_static(results["minmax"].float_model, data, tmp)
                exact, as_program = "-", None
                try:
                    graph, run_program = edgeml_runner(ort_int8, tmp, "ort.onnx")
                    exact = bit_exact(graph, data)
                    as_program = measure(run_program, run_float, data, post, classifier)
                except EdgemlError as exc:
                    exact = f"refused: {str(exc).split(': ')[-1][:60]}"
                rows.append(("ort quantize_static", measure(ort_session(ort_int8), run_float, data, post, classifier),
                             exact))
                if as_program is not None:
                    # The same int8 model as an integer program (edgeml's exact ONNX arithmetic): what a
                    # device would compute, without onnxruntime's float fallbacks and x86 saturation.
                    rows.append(("  same, int8 program", as_program, "-"))
            except Exception as exc:  # onnxruntime's quantizer raises many kinds
                where = exc.__traceback__
                while where.tb_next is not None:
                    where = where.tb_next
                print(f"{path.name:<28}{data.kind:<16}ort quantize_static fails: {type(exc).__name__} in "
                      f"{where.tb_frame.f_code.co_name}: {str(exc)[:60]}")
            if rel in OFFICIAL and (ZOO / OFFICIAL[rel]).exists():
                rows.append(("official int8", measure(official_runner(ZOO / OFFICIAL[rel]), run_float, data,
                                                          classifier=classifier),
                             "(TFLite)"))
            for label, (agreement, snr, acc_f, acc_q), exact in rows:
                print(f"{path.name:<28}{data.kind:<16}{label:<20}{fmt(agreement, True):>10}{fmt(snr):>8}"
                      f"{fmt(acc_f, True):>10}{fmt(acc_q, True):>10}  {exact}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
