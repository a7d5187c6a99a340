"""C kernels of the non-convolution ops against numba and the numpy references, element by element.

The one-op models of tests/test_ops_tensor.py (made by tools/make_op_models.py), with random, extreme
and (for softmax) near-maximum inputs, in both numerics; each is compiled with gcc and compared op by
op (tests/c_conformance.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from c_conformance import assert_c_matches
from conftest import zoo_path
from test_ops_tensor import BOTH, TFLITE_ONLY, _near_max_inputs, data_path

from edgeml.api import load
from edgeml.compare import random_inputs

SOFTMAX = [n for n in BOTH if n.startswith("softmax")]


def extreme_inputs(graph) -> list[list[np.ndarray]]:
    """Every input at its type's minimum, then maximum, then alternating."""
    batches = []
    for pick in ("min", "max", "alternate"):
        batch = []
        for i in graph.inputs:
            tensor = graph.tensors[i]
            info = np.iinfo(tensor.dtype.np)
            values = np.full(tensor.shape, getattr(info, pick if pick != "alternate" else "min"), tensor.dtype.np)
            if pick == "alternate":
                values.reshape(-1)[1::2] = info.max
            batch.append(values)
        batches.append(batch)
    return batches


def numerics_of(name: str) -> tuple[str, ...]:
    return ("tflite",) if name in TFLITE_ONLY else ("tflite", "tflm")


def op_cases(prefixes: tuple[str, ...]) -> list[str]:
    return [n for n in BOTH + TFLITE_ONLY if n.startswith(prefixes)]


@pytest.mark.parametrize("name", op_cases(("softmax",)))
def test_softmax(name: str) -> None:
    graph = load(data_path(name))
    for numerics in numerics_of(name):
        batches = random_inputs(graph, 3, seed=1) + extreme_inputs(graph)
        batches += [b for spread in (0.01, 0.08, 0.3) for b in _near_max_inputs(graph, 2, spread, seed=7)]
        assert_c_matches(graph, numerics, batches)


@pytest.mark.parametrize("name", op_cases(("avg_pool", "max_pool")))
def test_pooling(name: str) -> None:
    graph = load(data_path(name))
    for numerics in numerics_of(name):
        assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=2) + extreme_inputs(graph))


@pytest.mark.parametrize("name", op_cases(("transpose", "strided_slice", "pad")))
def test_data_movement(name: str) -> None:
    graph = load(data_path(name))
    for numerics in numerics_of(name):
        assert_c_matches(graph, numerics, random_inputs(graph, 2, seed=3))


ZOO_MOVES = [f"tflm_integration_tests/pad{i}.tflite" for i in range(19)] + [
    f"tflm_integration_tests/strided_slice{i}.tflite" for i in range(34)]


@pytest.mark.zoo
@pytest.mark.parametrize("model", ZOO_MOVES, ids=[m.split("/")[-1] for m in ZOO_MOVES])
def test_zoo_data_movement(model: str) -> None:
    graph = load(zoo_path(model))
    for numerics in ("tflite", "tflm"):
        assert_c_matches(graph, numerics, random_inputs(graph, 2, seed=4))


@pytest.mark.parametrize("name", op_cases(("mean", "batch_matmul", "concat")))
def test_reductions_products_and_concatenation(name: str) -> None:
    graph = load(data_path(name))
    for numerics in numerics_of(name):
        assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=5) + extreme_inputs(graph))
