"""RAM: TFLite Micro's smallest working arena vs edgeml's planned arena and the lower bound.

    .venv/bin/python tools/bench_memory.py [--only SUBSTRING]

For every int8 model of the zoo that edgeml supports (and the bundled models): TFLM's smallest
arena (found by search, in child processes), edgeml's RAM (planned arena plus runtime state), the
lower bound for the model's own order, and the ratios; then the geometric mean over MLPerf Tiny.
"""

from __future__ import annotations

import argparse
import math
import sys

from zoo import WHOLE_MODELS, model_path

MODELS = [m for name, m in WHOLE_MODELS.items() if name != "transformer_gelu"]  # TFLM has no GELU


def main() -> int:
    from edgeml.api import load
    from edgeml.errors import EdgemlError
    from edgeml.plan.memory import plan_memory
    from edgeml.references.tflm_arena import tflm_smallest_arena

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    print(f"{'model':<36}{'TFLM':>10}{'edgeml':>10}{'lower bd':>10}{'own-order':>10}"
          f"{'edg/TFLM':>10}{'edg/lb':>9}  planner")
    mlperf_ratios = []
    for rel in MODELS:
        path = model_path(rel)
        if args.only not in str(path):
            continue
        if not path.exists():
            print(f"{path.name:<36} skipped: not found")
            continue
        try:
            graph = load(path)
            plan = plan_memory(graph)
            own = plan_memory(graph, scheduler="model", inplace=False)
        except EdgemlError as exc:
            print(f"{path.name:<36} refused: {str(exc).splitlines()[0][:80]}")
            continue
        try:
            tflm = tflm_smallest_arena(path).arena_bytes
        except EdgemlError:
            tflm = None
        ram = plan.arena_bytes  # the host and firmware keep no other per-invocation state in RAM yet
        ratio = f"{ram / tflm:9.3f}x" if tflm else "        -"
        if tflm and "mlperf_tiny" in str(path):
            mlperf_ratios.append(ram / tflm)
        print(f"{path.name[:35]:<36}{tflm or '-':>10}{ram:>10}{plan.lower_bound_bytes:>10}{own.arena_bytes:>10}"
              f"{ratio}{ram / plan.lower_bound_bytes:8.3f}x  {plan.placement.planner}", flush=True)
    if mlperf_ratios:
        geo = math.exp(sum(math.log(r) for r in mlperf_ratios) / len(mlperf_ratios))
        print(f"\nMLPerf Tiny: max edgeml/TFLM {max(mlperf_ratios):.3f}x (target <= 0.9), "
              f"geometric mean {geo:.3f}x (target <= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
