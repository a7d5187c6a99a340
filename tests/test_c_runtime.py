"""Generated C on the host: every zoo model of tests/test_models.py and the bundled transformers, op by op
against numba and the numpy references, in every numerics the model is compared in."""

from __future__ import annotations

import pytest
from c_conformance import assert_c_matches
from conftest import BUNDLED, zoo_path
from test_models import BUNDLED_CASES, CASES

from edgeml.api import load
from edgeml.compare import random_inputs


@pytest.mark.zoo
@pytest.mark.parametrize(("model", "numerics"), CASES, ids=[f"{m.split('/')[-1]}-{r}" for m, r in CASES])
def test_zoo_model_in_c(model: str, numerics: str) -> None:
    graph = load(zoo_path(model))
    assert_c_matches(graph, numerics, random_inputs(graph, 2, seed=1))


@pytest.mark.parametrize(("name", "numerics"), BUNDLED_CASES, ids=[f"{n}-{r}" for n, r in BUNDLED_CASES])
def test_bundled_model_in_c(name: str, numerics: str) -> None:
    graph = load(BUNDLED / name)
    assert_c_matches(graph, numerics, random_inputs(graph, 3, seed=1))
