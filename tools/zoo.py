"""The models the tools measure: the zoo (EDGEML_ZOO, default ../shared/models) and the bundled ones."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO = Path(os.environ.get("EDGEML_ZOO", ROOT.parent / "shared" / "models"))
BUNDLED = ROOT / "edgeml" / "models"

# Short name -> path relative to the zoo (or absolute, for bundled models).
WHOLE_MODELS: dict[str, str] = {
    "kws": "mlperf_tiny/kws_ref_model.tflite",
    "vww": "mlperf_tiny/vww_96_int8.tflite",
    "resnet8": "mlperf_tiny/pretrainedResnet_quant.tflite",
    "resnet_large": "mlperf_tiny/pretrainedResnet_large_int8.tflite",
    "ad01": "mlperf_tiny/ad01_int8.tflite",
    "str_ww": "mlperf_tiny/str_ww_ref_model.tflite",
    "toycar": "mlperf_tiny/model_ToyCar_quant_fullint_micro.tflite",
    "hello_world": "tflm_examples/hello_world_int8.tflite",
    "simple_add": "tflm_examples/simple_add_model.tflite",
    "micro_speech": "tflm_examples/micro_speech_quantized.tflite",
    "person_detect": "tflm_examples/person_detect.tflite",
    "mobilenet_v2": "tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite",
    "transformer": str(BUNDLED / "tiny_transformer_int8.tflite"),
    "transformer_gelu": str(BUNDLED / "tiny_transformer_gelu_int8.tflite"),
}


def model_path(relative: str) -> Path:
    path = Path(relative)
    return path if path.is_absolute() else ZOO / relative


def expand(patterns: list[str]) -> list[Path]:
    """Paths matching each pattern (glob), zoo-relative unless absolute, in pattern order."""
    paths: list[Path] = []
    for pattern in patterns:
        path = model_path(pattern)
        paths += sorted(path.parent.glob(path.name))
    return paths
