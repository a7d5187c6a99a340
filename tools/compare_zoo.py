"""The done-criterion matrix: every listed model vs TFLite's reference kernels and TFLite Micro.

    .venv/bin/python tools/compare_zoo.py [-n 100] [--only SUBSTRING]

Prints one row per (model, reference): mismatched inputs, max abs diff, first divergent op; a
reference that refuses a model is reported as such. Exit 0 only if nothing mismatched.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO = Path(os.environ.get("EDGEML_ZOO", ROOT.parent / "shared" / "models"))

MODELS = [
    "mlperf_tiny/kws_ref_model.tflite",
    "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/pretrainedResnet_quant.tflite",
    "mlperf_tiny/pretrainedResnet_large_int8.tflite",
    "mlperf_tiny/ad01_int8.tflite",
    "mlperf_tiny/str_ww_ref_model.tflite",
    "mlperf_tiny/model_ToyCar_quant_fullint_micro.tflite",
    "tflm_examples/hello_world_int8.tflite",
    "tflm_examples/simple_add_model.tflite",
    "tflm_examples/micro_speech_quantized.tflite",
    "tflm_examples/person_detect.tflite",
    "tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite",
    "tflm_integration_tests/*.tflite",
    str(ROOT / "edgeml/models/*.tflite"),
]


def expand(patterns: list[str]) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        base = Path(pattern)
        if base.is_absolute():
            paths += sorted(base.parent.glob(base.name))
        else:
            paths += sorted(ZOO.glob(pattern))
    return paths


def main() -> int:
    from edgeml.api import load
    from edgeml.compare import compare, random_inputs
    from edgeml.errors import EdgemlError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    failures = 0
    for path in expand(MODELS):
        if args.only not in str(path):
            continue
        for against in ("tflite", "tflm"):
            label = f"{path.parent.name}/{path.name}"
            try:
                graph = load(path)
                report = compare(graph, against, random_inputs(graph, args.n, 0))
            except EdgemlError as exc:
                print(f"{label:<62} {against:<6} refused: {str(exc).splitlines()[0][:120]}", flush=True)
                continue
            failures += report.mismatched_inputs > 0
            op = report.first_divergent_op
            where = f"  first divergent op #{op.index} {op.type}" if op else ""
            print(f"{label:<62} {against:<6} {report.mismatched_inputs:>4}/{report.inputs} mismatched "
                  f"max|d|={report.max_abs_diff}{where}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
