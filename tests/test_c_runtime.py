"""Generated C on the host: whole zoo models and the bundled transformers against numba and numpy."""

from __future__ import annotations

import pytest
from c_conformance import assert_c_matches
from conftest import zoo_path

from edgeml.api import load
from edgeml.compare import random_inputs

FC_MODELS = ["tflm_examples/hello_world_int8.tflite", "mlperf_tiny/ad01_int8.tflite"]


@pytest.mark.zoo
@pytest.mark.parametrize("numerics", ["tflite", "tflm"])
@pytest.mark.parametrize("model", FC_MODELS, ids=[m.split("/")[-1] for m in FC_MODELS])
def test_fully_connected_models_in_c(model: str, numerics: str) -> None:
    graph = load(zoo_path(model))
    assert_c_matches(graph, numerics, random_inputs(graph, 5, seed=1))
