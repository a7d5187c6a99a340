"""How close int8 stays to float: edgeml's quantizer against onnxruntime's quantize_static.

    .venv/bin/python tools/bench_quantizer.py [--only SUBSTRING] [--held-out N]

For every float ONNX model of the zoo (onnx_small) and the bundled digits CNN: both quantizers get the
same cleaned-up float model (edgeml's clean-up: BatchNormalization folded, a final Softmax left out, so
both int8 models output what the float model outputs) and the same calibration samples. Then, on
held-out samples: top-1 agreement with float (classifiers), SNR of the outputs against float, and
accuracy where labels exist; and whether edgeml runs onnxruntime's int8 model bit-exactly.

Data: the bundled digits; MNIST-shaped models get scikit-learn's 8x8 digits scaled up to their input
size (real digits, a different dataset from MNIST, with labels); the others get random samples, said
so in the table. The float TFLite models of MLPerf Tiny are not here: edgeml quantizes .keras,
SavedModel and .onnx float sources, not float .tflite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from zoo import BUNDLED, ZOO

MODELS = ["onnx_small/mnist.simplified.onnx", "onnx_small/onnx2c_test_mnist.onnx", "onnx_small/opt-mnist.onnx",
          "onnx_small/onnx2c_test_mnist_pytorch.onnx", "onnx_small/tfl_helloworld.onnx", "onnx_small/lesson14.onnx",
          "onnx_small/lesson9.onnx", str(BUNDLED / "digits_cnn.onnx")]
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
    samples = [rng.standard_normal(shape).astype(np.float32) for _ in range(CALIBRATION + held_out)]
    return Data(samples[:CALIBRATION], samples[CALIBRATION:], None, "random normal")


def measure(run_int8, run_float, data: Data) -> tuple[float | None, float, float | None, float | None]:
    agree = hits_f = hits_q = 0
    signal = noise = 0.0
    classifier = None
    for k, x in enumerate(data.held_out):
        f = np.asarray(run_float([x])[0], np.float64).reshape(-1)
        q = np.asarray(run_int8([x])[0], np.float64).reshape(-1)
        classifier = f.size > 1
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
    """onnxruntime as edgeml's reference runs it: without the x86 s8 -> u8 rewrite, whose u8 x s8
    products saturate on AVX2 (that would charge the runtime's error to the quantizer)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("optimization.disable_specified_optimizers", "QDQS8ToU8Transformer")
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


def bit_exact(graph, data: Data, reference) -> str:
    from edgeml.compare import compare

    report = compare(graph, "onnxruntime", [[x] for x in data.held_out[:20]])
    del reference
    return "yes" if report.mismatched_inputs == 0 else f"NO ({report.mismatched_inputs}/20)"


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
        shape = input_specs(read_onnx(path))[0].shape
        data = dataset(path, shape, args.held_out)
        with tempfile.TemporaryDirectory(prefix="edgeml-bench-") as tmp_name:
            tmp = Path(tmp_name)
            cal = tmp / "calibration.npy"
            np.save(cal, np.concatenate(data.calibration))
            rows = []
            try:
                results = {m: quantize_onnx(path, cal, QuantizeOptions(method=m)) for m in ("minmax", "percentile")}
            except EdgemlError as exc:
                print(f"{path.name:<28}{data.kind:<16}edgeml refuses: {str(exc).split(': ', 1)[-1][:90]}")
                continue
            run_float = ort_session(results["minmax"].float_model)
            for method, result in results.items():
                graph, run_int8 = edgeml_runner(result.qdq, tmp, f"edgeml_{method}.onnx")
                rows.append((f"edgeml {method}", measure(run_int8, run_float, data), bit_exact(graph, data, None)))
            try:
                ort_int8 = ort_quantize_static(results["minmax"].float_model, data, tmp)
                exact = "-"
                try:
                    graph, _ = edgeml_runner(ort_int8, tmp, "ort.onnx")
                    exact = bit_exact(graph, data, None)
                except EdgemlError as exc:
                    exact = f"refused: {str(exc).split(': ')[-1][:60]}"
                rows.append(("ort quantize_static", measure(ort_session(ort_int8), run_float, data), exact))
            except Exception as exc:  # onnxruntime's quantizer raises many kinds
                where = exc.__traceback__
                while where.tb_next is not None:
                    where = where.tb_next
                print(f"{path.name:<28}{data.kind:<16}ort quantize_static fails: {type(exc).__name__} in "
                      f"{where.tb_frame.f_code.co_name}: {str(exc)[:60]}")
            for label, (agreement, snr, acc_f, acc_q), exact in rows:
                print(f"{path.name:<28}{data.kind:<16}{label:<20}{fmt(agreement, True):>10}{fmt(snr):>8}"
                      f"{fmt(acc_f, True):>10}{fmt(acc_q, True):>10}  {exact}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
