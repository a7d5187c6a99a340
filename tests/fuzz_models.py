"""Child process for test_bad_input: mutate and truncate a model many times, load and run each.

Exit 0 when every variant either ran or was refused with an EdgemlError; print the first other
exception and exit 1. A crash (signal) is seen by the parent as a negative return code.
"""

from __future__ import annotations

import sys
import traceback

import numpy as np

from edgeml.compare import random_inputs
from edgeml.converters.tflite import parse_tflite
from edgeml.errors import EdgemlError
from edgeml.ops.base import Numerics
from edgeml.runtime.executor import run
from edgeml.runtime.program import prepare_program


def variants(data: bytes, count: int, seed: int):
    rng = np.random.default_rng(seed)
    for k in range(count):
        if k % 2 == 0:
            yield f"truncated to {(n := int(rng.integers(0, len(data))))} bytes", data[:n]
        else:
            mutated = bytearray(data)
            flips = int(rng.integers(1, 9))
            positions = rng.integers(0, len(data), flips)
            for p in positions:
                mutated[p] = int(rng.integers(0, 256))
            yield f"bytes {sorted(int(p) for p in positions)} changed", bytes(mutated)


def main(path: str, count: int, seed: int) -> int:
    with open(path, "rb") as f:
        data = f.read()
    outcomes = {"refused": 0, "ran": 0}
    for what, blob in variants(data, count, seed):
        try:
            program = prepare_program(parse_tflite(blob, path), Numerics.TFLITE)
            run(program, random_inputs(program.graph, 1, 0)[0])
            outcomes["ran"] += 1
        except EdgemlError as exc:
            if path not in str(exc) and "<bytes>" not in str(exc):
                print(f"{what}: error does not name the file: {exc}")
                return 1
            outcomes["refused"] += 1
        except Exception:
            print(f"{what}: unexpected exception")
            traceback.print_exc()
            return 1
    print(outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
