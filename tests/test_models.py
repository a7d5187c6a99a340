"""Whole zoo models: edgeml's host runtime against TFLite's reference kernels and TFLite Micro."""

from __future__ import annotations

import pytest
from conftest import assert_bit_exact, assert_kernels_match_references, zoo_path

# (model, references it must match). person_detect: ai-edge-litert refuses it (per-channel
# quantized_dimension 3 on depthwise weights), so it is compared with TFLite Micro only.
MODELS = [
    ("tflm_examples/hello_world_int8.tflite", ("tflite", "tflm")),
    ("mlperf_tiny/ad01_int8.tflite", ("tflite", "tflm")),
    ("tflm_examples/simple_add_model.tflite", ("tflite", "tflm")),
    ("mlperf_tiny/model_ToyCar_quant_fullint_micro.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/add1.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/sub1.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/leaky_relu1.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/quantize0.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/quantize1.tflite", ("tflite", "tflm")),
    ("mlperf_tiny/kws_ref_model.tflite", ("tflite", "tflm")),
    ("mlperf_tiny/vww_96_int8.tflite", ("tflite", "tflm")),
    ("mlperf_tiny/pretrainedResnet_quant.tflite", ("tflite", "tflm")),
    ("tflm_examples/micro_speech_quantized.tflite", ("tflite", "tflm")),
    ("tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/pad0.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/strided_slice0.tflite", ("tflite", "tflm")),
    ("mlperf_tiny/pretrainedResnet_large_int8.tflite", ("tflite", "tflm")),
    ("mlperf_tiny/str_ww_ref_model.tflite", ("tflite", "tflm")),
    ("tflm_examples/person_detect.tflite", ("tflm",)),
    ("tflm_integration_tests/conv0.tflite", ("tflite", "tflm")),
    ("tflm_integration_tests/transpose_conv0.tflite", ("tflite", "tflm")),
]

CASES = [(m, ref) for m, refs in MODELS for ref in refs]


@pytest.mark.zoo
@pytest.mark.parametrize(("model", "against"), CASES, ids=[f"{m.split('/')[-1]}-{r}" for m, r in CASES])
def test_model_bit_exact(model: str, against: str) -> None:
    assert_bit_exact(zoo_path(model), against, count=10)


@pytest.mark.zoo
@pytest.mark.parametrize("model", [m for m, _ in MODELS], ids=[m.split("/")[-1] for m, _ in MODELS])
def test_kernels_match_numpy_references(model: str) -> None:
    for numerics in ("tflite", "tflm"):
        assert_kernels_match_references(zoo_path(model), numerics, count=1)
