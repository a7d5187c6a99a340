"""Host latency: edgeml's numba kernels vs ai-edge-litert (XNNPACK and BUILTIN_REF) and tflite-micro.

All runtimes are timed in the same run on the same inputs, one thread each, and printed as ratios.
edgeml's first call (numba compile, or loading numba's on-disk cache) is shown apart.

    .venv/bin/python tools/bench_host.py [--models kws,vww,...] [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from zoo import WHOLE_MODELS, model_path

MODELS = WHOLE_MODELS


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def bench_model(path: Path, repeats: int) -> dict[str, float | None]:
    import numpy as np  # noqa: F401  (imported here so --help is fast)
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgeml.api import load
    from edgeml.compare import random_inputs
    from edgeml.ops.base import Numerics
    from edgeml.runtime.executor import run
    from edgeml.runtime.program import prepare_program

    graph = load(path)
    inputs = random_inputs(graph, 1, 0)[0]
    program = prepare_program(graph, Numerics.TFLITE)
    start = time.perf_counter()
    run(program, inputs)
    first_call = (time.perf_counter() - start) * 1e3
    row: dict[str, float | None] = {"first_call_ms": first_call,
                                    "edgeml_ms": median_ms(lambda: run(program, inputs), repeats)}
    data = path.read_bytes()
    for key, resolver in (("xnnpack_ms", OpResolverType.AUTO), ("builtin_ref_ms", OpResolverType.BUILTIN_REF)):
        try:
            interp = Interpreter(model_content=data, num_threads=1, experimental_op_resolver_type=resolver)
            interp.allocate_tensors()
            for detail, value in zip(interp.get_input_details(), inputs, strict=True):
                interp.set_tensor(detail["index"], value)
            row[key] = median_ms(interp.invoke, repeats)
        except (ValueError, RuntimeError):
            row[key] = None
    try:
        from tflite_micro import runtime

        micro = runtime.Interpreter.from_bytes(data, arena_size=16 * 1024 * 1024)
        for k, value in enumerate(inputs):
            micro.set_input(value, k)
        row["tflm_ms"] = median_ms(micro.invoke, max(3, repeats // 5))
    except (ValueError, RuntimeError):
        row["tflm_ms"] = None
    return row


def ratio(num: float | None, den: float | None) -> str:
    return f"{num / den:8.2f}x" if num and den else "       -"


def fmt(value: float | None) -> str:
    return f"{value:9.3f}" if value is not None else "        -"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: " + ",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    print(f"{'model':<14}{'edgeml ms':>10}{'xnnpack':>10}{'ref':>10}{'tflm':>10}"
          f"{'ref/edg':>10}{'xnn/edg':>10}{'tflm/edg':>10}{'1st call':>10}")
    for name in args.models.split(","):
        path = model_path(MODELS[name])
        if not path.exists():
            print(f"{name:<14} skipped: {path} not found")
            continue
        try:
            row = bench_model(path, args.repeats)
        except Exception as exc:  # one model's failure should not hide the others' figures
            print(f"{name:<14} failed: {exc}".splitlines()[0])
            continue
        print(f"{name:<14}{fmt(row['edgeml_ms'])} {fmt(row['xnnpack_ms'])} {fmt(row['builtin_ref_ms'])} "
              f"{fmt(row['tflm_ms'])} {ratio(row['builtin_ref_ms'], row['edgeml_ms'])}"
              f"{ratio(row['xnnpack_ms'], row['edgeml_ms'])}{ratio(row['tflm_ms'], row['edgeml_ms'])}"
              f"{row['first_call_ms']:9.0f}ms", flush=True)
    print("\nratios > 1 mean edgeml is faster. Targets: 'ref/edg' >= 10, 'xnn/edg' >= 0.33 (within 3x of XNNPACK)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
