"""The done-criterion matrix: every listed model vs TFLite's reference kernels and TFLite Micro.

    .venv/bin/python tools/compare_zoo.py [-n 100] [--only SUBSTRING]

Prints one row per (model, reference): mismatched inputs, max abs diff, first divergent op; a
reference that refuses a model is reported as such. Exit 0 only if nothing mismatched.
"""

from __future__ import annotations

import argparse
import sys

from zoo import WHOLE_MODELS, expand

PATTERNS = [*WHOLE_MODELS.values(), "tflm_integration_tests/*.tflite"]


def main() -> int:
    from edgeml.api import load
    from edgeml.compare import compare, random_inputs
    from edgeml.errors import EdgemlError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    failures = 0
    for path in expand(PATTERNS):
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
