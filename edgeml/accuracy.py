"""How far an int8 graph is from the float model it was quantized from: top-1 agreement (classifiers),
SNR per output, and accuracy against labels when the held-out data has them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edgeml.ir.graph import Graph
from edgeml.runtime.executor import Runner


@dataclass(frozen=True)
class AccuracyReport:
    data: str  # "calibration" or the held-out file
    samples: int
    top1_agreement: float  # int8 argmax == float argmax, first output
    snr_db: list[float]  # per output: 10 log10(|float|^2 / |float - int8|^2)
    float_accuracy: float | None = None  # against labels, when given
    int8_accuracy: float | None = None

    def to_json(self) -> dict:
        return {"data": self.data, "samples": self.samples, "top1_agreement": round(self.top1_agreement, 4),
                "snr_db": [round(s, 2) for s in self.snr_db],
                "float_accuracy": None if self.float_accuracy is None else round(self.float_accuracy, 4),
                "int8_accuracy": None if self.int8_accuracy is None else round(self.int8_accuracy, 4)}

    def text(self) -> str:
        line = (f"{self.data}: {self.samples} samples, top-1 agreement with float {100 * self.top1_agreement:.2f}%, "
                f"SNR {', '.join(f'{s:.1f}' for s in self.snr_db)} dB")
        if self.int8_accuracy is not None:
            line += f"; accuracy float {100 * self.float_accuracy:.2f}% int8 {100 * self.int8_accuracy:.2f}%"
        return line


def quantize_inputs(graph: Graph, sample: Sequence[np.ndarray]) -> list[np.ndarray]:
    out = []
    for index, x in zip(graph.inputs, sample, strict=True):
        t = graph.tensors[index]
        if t.dtype.is_float:  # the program quantizes its float inputs itself (ONNX QDQ models)
            out.append(np.asarray(x, np.float32).reshape(t.shape))
            continue
        info = np.iinfo(t.dtype.np)
        q = np.round(np.asarray(x, np.float64) / t.quant.single_scale) + t.quant.single_zero_point
        out.append(np.clip(q, info.min, info.max).astype(t.dtype.np).reshape(t.shape))
    return out


def dequantize_outputs(graph: Graph, outputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [o.astype(np.float64) if graph.tensors[i].dtype.is_float else
            (o.astype(np.float64) - graph.tensors[i].quant.single_zero_point) * graph.tensors[i].quant.single_scale
            for i, o in zip(graph.outputs, outputs, strict=True)]


def measure(graph: Graph, runner: Runner, float_model: Callable[[list[np.ndarray]], list[np.ndarray]],
            samples: Sequence[Sequence[np.ndarray]], data: str, labels: np.ndarray | None = None) -> AccuracyReport:
    agree, signal, noise = 0, None, None
    float_hits = int8_hits = 0
    for k, sample in enumerate(samples):
        reference = [np.asarray(o, np.float64) for o in float_model([np.asarray(a, np.float32) for a in sample])]
        quantized = dequantize_outputs(graph, runner.run(quantize_inputs(graph, sample)).outputs)
        if signal is None:
            signal, noise = [0.0] * len(reference), [0.0] * len(reference)
        for j, (f, q) in enumerate(zip(reference, quantized, strict=True)):
            signal[j] += float(np.sum(f * f))
            noise[j] += float(np.sum((f - q.reshape(f.shape)) ** 2))
        f_top, q_top = int(np.argmax(reference[0])), int(np.argmax(quantized[0]))
        agree += f_top == q_top
        if labels is not None:
            float_hits += f_top == int(labels[k])
            int8_hits += q_top == int(labels[k])
    n = len(samples)
    snr = [10 * np.log10(s / n_) if n_ > 0 else float("inf") for s, n_ in zip(signal or [], noise or [], strict=True)]
    return AccuracyReport(data, n, agree / max(n, 1), snr,
                          float_hits / n if labels is not None else None, int8_hits / n if labels is not None else None)
