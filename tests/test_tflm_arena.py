"""The smallest TFLite Micro arena: found by search in child processes, exact to the byte."""

from __future__ import annotations

import pytest
from conftest import BUNDLED, zoo_path

from edgeml.errors import EdgemlError
from edgeml.references.tflm_arena import tflm_runs_with_arena, tflm_smallest_arena

# Measured for the design notes with 16-byte steps: the first multiple of 16 at or above the exact smallest.
DESIGN_NOTES = {"ad01": 4640, "kws": 24272}
MODELS = {"ad01": "mlperf_tiny/ad01_int8.tflite", "kws": "mlperf_tiny/kws_ref_model.tflite"}


@pytest.mark.zoo
@pytest.mark.parametrize("name", sorted(MODELS))
def test_smallest_arena_runs_and_anything_smaller_fails(name):
    path = zoo_path(MODELS[name])
    arena = tflm_smallest_arena(path)
    smallest = arena.arena_bytes
    # Checked again, each size in a fresh process: the search's long-lived child carries nothing over.
    assert tflm_runs_with_arena(path, smallest)
    assert not tflm_runs_with_arena(path, smallest - 1)
    assert not tflm_runs_with_arena(path, smallest - 16)
    assert tflm_smallest_arena(path).arena_bytes == smallest
    assert 0 <= DESIGN_NOTES[name] - smallest < 16
    assert arena.recorded_bytes == arena.head_bytes + arena.tail_bytes <= smallest
    assert "Arena allocation total" in arena.print_allocations and arena.allocations
    assert arena.seconds < 5


@pytest.mark.zoo
def test_a_crash_is_a_failed_probe_not_a_dead_caller():
    # TFLM's LSTM kernel dereferences a null tensor (SIGSEGV) when the arena is too small.
    path = zoo_path("tflm_examples/micro_speech_lstm.tflite")
    assert not tflm_runs_with_arena(path, 4000)
    with pytest.raises(EdgemlError, match=r"micro_speech_lstm.*4000-byte arena.*crashed"):
        tflm_smallest_arena(path, hi=4000)


def test_unsupported_op_names_the_model_and_op():
    path = BUNDLED / "tiny_transformer_gelu_int8.tflite"
    with pytest.raises(EdgemlError, match=r"tiny_transformer_gelu_int8.*cannot run.*GELU"):
        tflm_smallest_arena(path)


@pytest.mark.zoo
def test_an_arena_too_small_even_at_hi_is_a_clear_error():
    path = zoo_path(MODELS["kws"])
    with pytest.raises(EdgemlError, match=r"kws_ref_model.*20000-byte arena.*failed to allocate"):
        tflm_smallest_arena(path, hi=20000)


@pytest.mark.zoo
def test_a_probe_that_hangs_past_the_timeout_fails():
    path = zoo_path("tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite")  # invoke takes ~0.2 s
    with pytest.raises(EdgemlError, match="timed out"):
        tflm_smallest_arena(path, timeout=0.02)
