"""Pooling, softmax, mean, pad, transpose, strided slice and batch matmul.

Four layers: the zoo's single-op integration models (PAD, STRIDED_SLICE) against both references;
small one-op models made by tools/make_op_models.py (tests/data) against both references, on
random and on hand-shaped inputs; the numba kernels against the numpy references; and the
gemmlowp fixed-point primitives against real arithmetic.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED, ROOT, assert_bit_exact, assert_kernels_match_references, zoo_path

from edgeml.api import load
from edgeml.compare import compare
from edgeml.errors import UnsupportedOpError
from edgeml.ops.base import Numerics
from edgeml.ops.mean import fold_count_into_multiplier
from edgeml.ops.softmax import input_radius, preprocess_softmax_scaling
from edgeml.quant.fixedpoint import (
    count_leading_zeros32,
    exp_on_negative_values,
    get_reciprocal,
    one_over_one_plus_x_for_x_in_0_1,
    rounding_half_sum,
    saturating_rounding_multiply_by_pot,
    wrap_int32,
)
from edgeml.quant.requant import INT32_MAX, INT32_MIN, Rounding, multiply_by_quantized_multiplier
from edgeml.runtime.program import prepare_program

DATA = ROOT / "tests" / "data"

INTEGRATION = ([f"tflm_integration_tests/pad{i}.tflite" for i in range(19)]
               + [f"tflm_integration_tests/strided_slice{i}.tflite" for i in range(34)])

# tools/make_op_models.py outputs that both references run.
BOTH = [
    "softmax_logits", "softmax_tiny_range", "softmax_huge_range", "softmax_attention", "softmax_beta",
    "softmax_extreme_scale", "mean_hw", "mean_last_axis", "mean_axis0_drop", "avg_pool_same", "avg_pool_valid",
    "max_pool_same", "batch_matmul", "batch_matmul_adj_y", "batch_matmul_adj_x", "batch_matmul_broadcast",
    "transpose_rank5", "transpose_heads", "strided_slice_masks", "strided_slice_shrink_newaxis",
    "strided_slice_negative", "pad_int8", "padv2_constant", "concat_channels", "concat_axis1",
    "avg_pool_int16", "max_pool_int16", "mean_int16", "transpose_int16", "softmax_attention_int16",
    "softmax_logits_int16",
]
# Masks TFLite Micro does not read (ellipsis, new axis, offset): it refuses these models, so must edgeml.
TFLITE_ONLY = ["strided_slice_ellipsis", "strided_slice_new_axis", "strided_slice_offset"]


def data_path(name: str) -> Path:
    path = DATA / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} missing: run tools/make_op_models.py")
    return path


# --- the zoo --------------------------------------------------------------------------------------


@pytest.mark.zoo
@pytest.mark.parametrize("model", INTEGRATION, ids=[m.split("/")[-1] for m in INTEGRATION])
def test_zoo_model_bit_exact_with_both_references(model: str) -> None:
    path = zoo_path(model)
    for against in ("tflite", "tflm"):
        assert_bit_exact(path, against, count=3)


# The bundled transformers use BATCH_MATMUL, TRANSPOSE, MEAN and SOFTMAX; TFLite Micro refuses the
# GELU variant's graph, so it is compared with TFLite only.
TRANSFORMERS = [("tiny_transformer_int8", ("tflite", "tflm")), ("tiny_transformer_gelu_int8", ("tflite",))]


@pytest.mark.parametrize(("name", "references"), TRANSFORMERS, ids=[n for n, _ in TRANSFORMERS])
def test_bundled_transformer_bit_exact(name: str, references: tuple[str, ...]) -> None:
    path = BUNDLED / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} missing")
    for against in references:
        assert_bit_exact(path, against, count=10)
        assert_kernels_match_references(path, against, count=1)


# --- one-op models --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOTH)
def test_op_model_bit_exact_with_both_references(name: str) -> None:
    for against in ("tflite", "tflm"):
        assert_bit_exact(data_path(name), against, count=5)


@pytest.mark.parametrize("name", TFLITE_ONLY)
def test_tflite_only_masks(name: str) -> None:
    path = data_path(name)
    assert_bit_exact(path, "tflite", count=5)
    with pytest.raises(UnsupportedOpError, match="STRIDED_SLICE"):
        prepare_program(load(path), Numerics.TFLM)


@pytest.mark.parametrize("name", BOTH + TFLITE_ONLY)
def test_kernels_match_numpy_references(name: str) -> None:
    numerics = ("tflite",) if name in TFLITE_ONLY else ("tflite", "tflm")
    for n in numerics:
        assert_kernels_match_references(data_path(name), n, count=2)


def _near_max_inputs(graph, count: int, spread: float, seed: int) -> list[list[np.ndarray]]:
    """Rows whose values sit within `spread` (a fraction of the type's range) of a random maximum:
    the middle of exp()'s range, which uniform inputs rarely reach."""
    rng = np.random.default_rng(seed)
    tensor = graph.tensors[graph.inputs[0]]
    info = np.iinfo(tensor.dtype.np)
    width = max(1, int(spread * (int(info.max) - int(info.min))))
    batches = []
    for _ in range(count):
        top = rng.integers(int(info.min) + width, int(info.max) + 1, (*tensor.shape[:-1], 1))
        values = top - rng.integers(0, width + 1, tensor.shape)
        batches.append([values.astype(tensor.dtype.np)])
    return batches


@pytest.mark.parametrize("name", ["softmax_logits", "softmax_tiny_range", "softmax_attention", "softmax_beta",
                                  "softmax_attention_int16", "softmax_logits_int16"])
@pytest.mark.parametrize("spread", [0.01, 0.08, 0.3, 0.9])
def test_softmax_on_close_logits(name: str, spread: float) -> None:
    graph = load(data_path(name))
    for against in ("tflite", "tflm"):
        report = compare(graph, against, _near_max_inputs(graph, 25, spread, seed=int(spread * 100)))
        assert report.mismatched_inputs == 0, report


def test_int16_softmax_tables_differ_between_references() -> None:
    # TFLite fills its 1/(1+x) table in double, TFLite Micro in float: a couple of entries differ,
    # and each side must reproduce its own (checked against both references above).
    graph = load(data_path("softmax_attention_int16"))
    tflite, tflm = (prepare_program(graph, Numerics(n)).steps[0].params for n in ("tflite", "tflm"))
    assert 0 < np.sum(tflite.one_over_one_plus_x_lut != tflm.one_over_one_plus_x_lut) < 10


def test_mean_on_extreme_inputs() -> None:
    # All -128 / all 127 / alternating: the sums at the ends of the int32 range of each row.
    graph = load(data_path("mean_last_axis"))
    shape = graph.tensors[graph.inputs[0]].shape
    batches = [[np.full(shape, v, np.int8)] for v in (-128, 127, 0, 1, -1)]
    batches.append([np.resize(np.array([-128, 127], np.int8), shape)])
    for against in ("tflite", "tflm"):
        assert compare(graph, against, batches).mismatched_inputs == 0


# --- semantics that the models above cannot isolate ------------------------------------------------


def test_mean_double_rounding_rounds_away_at_a_quarter() -> None:
    # The folded multiplier of a mean of 2 values with equal scales: 2^30 with shift -1.
    multiplier, shift = fold_count_into_multiplier(1 << 30, 1, 2)
    assert (multiplier, shift) == (1 << 30, 0)
    multiplier, shift = fold_count_into_multiplier(1 << 30, 1, 49)
    assert shift == -4 and multiplier == ((1 << 30) << 5) // 49
    # With shift -1 the double rounding turns 1/4 into 1 (0.5 rounded up, then halved rounding up);
    # a single rounding gives 0.
    assert multiply_by_quantized_multiplier(1, 1 << 30, -1, int(Rounding.DOUBLE)) == 1
    assert multiply_by_quantized_multiplier(1, 1 << 30, -1, int(Rounding.SINGLE)) == 0


def test_softmax_scaling_caps_differ_between_references() -> None:
    # beta * scale * 2^26 is capped at 2^30 - 1 in TFLite, at 2^31 - 1 in TFLite Micro.
    assert preprocess_softmax_scaling(1.0, 30.0, Rounding.SINGLE) == (INT32_MAX - 1, 30)
    assert preprocess_softmax_scaling(1.0, 30.0, Rounding.DOUBLE) == (30 << 26, 31)
    assert preprocess_softmax_scaling(1.0, 40.0, Rounding.DOUBLE) == (INT32_MAX, 31)
    assert input_radius(30) == 1 and input_radius(0) == 31 << 26


# --- fixed-point primitives -----------------------------------------------------------------------


@pytest.mark.parametrize("integer_bits", [0, 3, 5, 12])
def test_exp_on_negative_values_tracks_exp(integer_bits: int) -> None:
    rng = np.random.default_rng(integer_bits)
    lo = -(1 << 31) if integer_bits else -(1 << 29)
    for raw in [0, -1, lo, *rng.integers(lo, 0, 300).tolist()]:
        x = raw / 2 ** (31 - integer_bits)
        got = exp_on_negative_values(raw, integer_bits) / 2**31
        assert abs(got - math.exp(x)) < 2e-6, (raw, integer_bits)


def test_one_over_one_plus_x_and_reciprocal() -> None:
    for raw in [0, 1, 1 << 30, INT32_MAX - 1, *np.random.default_rng(1).integers(0, INT32_MAX, 300).tolist()]:
        got = one_over_one_plus_x_for_x_in_0_1(raw) / 2**31
        assert abs(got - 1 / (1 + raw / 2**31)) < 1e-8
    for total in [1 << 19, 3 << 19, (1 << 31) - 1, 12345]:
        scale, bits_over_unit = get_reciprocal(total, 12)
        value = total / 2**19  # Q12.19
        assert abs(scale / 2**31 * 2.0**-bits_over_unit - 1 / value) < 1e-6 / value


def test_small_primitives() -> None:
    assert count_leading_zeros32(0) == 32 and count_leading_zeros32(1) == 31 and count_leading_zeros32(-1) == 0
    assert wrap_int32(1 << 31) == INT32_MIN and wrap_int32(-(1 << 31) - 1) == INT32_MAX
    assert rounding_half_sum(1, 2) == 2 and rounding_half_sum(-1, -2) == -2 and rounding_half_sum(-1, 1) == 0
    assert saturating_rounding_multiply_by_pot(1 << 29, 2) == INT32_MAX
    assert saturating_rounding_multiply_by_pot(-(1 << 29), 2) == INT32_MIN
    assert saturating_rounding_multiply_by_pot(5, -1) == 3 and saturating_rounding_multiply_by_pot(-5, -1) == -3
