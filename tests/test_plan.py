"""Memory planning: lifetimes, planners, the verifier and the scheduler."""

from __future__ import annotations

import pytest
from conftest import BUNDLED, zoo_path
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeml.api import load
from edgeml.ir.dtypes import DType
from edgeml.ir.graph import Graph, Node, Tensor
from edgeml.ir.quant import per_tensor
from edgeml.plan.arena import ALIGNMENT, Placement, best_fit, exact, greedy_by_size
from edgeml.plan.lifetimes import Buffer, PlanError, compute_buffers, lower_bound
from edgeml.plan.memory import plan_memory
from edgeml.plan.schedule import _peak_of, memory_aware_order, model_order
from edgeml.plan.verify import verify_placement

buffer_sets = st.lists(
    st.tuples(st.integers(1, 5000), st.integers(0, 12), st.integers(0, 6)), min_size=1, max_size=10
).map(lambda items: [Buffer(id=i, size=s, first=f, last=f + d) for i, (s, f, d) in enumerate(items)])


@settings(max_examples=120, deadline=None)
@given(buffer_sets)
def test_every_planner_gives_a_verified_plan_at_or_above_the_lower_bound(buffers: list[Buffer]) -> None:
    bound, _ = lower_bound(buffers, 20)
    results = [greedy_by_size(buffers), best_fit(buffers)]
    results.append(exact(buffers, incumbent=min(results, key=lambda p: p.arena_bytes), lower=bound,
                         node_budget=5_000))
    for placement in results:
        verify_placement(buffers, placement)
        assert placement.arena_bytes >= bound
    assert results[2].arena_bytes <= min(results[0].arena_bytes, results[1].arena_bytes)


def test_verifier_rejects_overlap_misalignment_and_a_wrong_total() -> None:
    a, b = Buffer(0, 64, 0, 2), Buffer(1, 64, 1, 3)
    with pytest.raises(PlanError, match="overlap"):
        verify_placement([a, b], Placement({0: 0, 1: 32}, 96, "test"))
    with pytest.raises(PlanError, match="aligned"):
        verify_placement([a, b], Placement({0: 0, 1: 72}, 144, "test"))
    with pytest.raises(PlanError, match="past the reported arena"):
        verify_placement([a, b], Placement({0: 0, 1: 64}, 96, "test"))
    verify_placement([a, b], Placement({0: 0, 1: 64}, 128, "test"))
    # Disjoint lifetimes may share bytes.
    verify_placement([Buffer(0, 64, 0, 1), Buffer(1, 64, 2, 3)], Placement({0: 0, 1: 0}, 64, "test"))


def test_exact_beats_greedy_on_a_known_case() -> None:
    # Greedy-by-size puts the two 32-byte buffers side by side under the long-lived 48-byte one's
    # neighbour; the optimum stacks them in the gap (classic counter-example, sizes in 16-byte units).
    buffers = [Buffer(0, 48, 0, 1), Buffer(1, 32, 1, 2), Buffer(2, 32, 2, 3), Buffer(3, 48, 3, 4),
               Buffer(4, 16, 0, 4)]
    bound, _ = lower_bound(buffers, 5)
    best = exact(buffers, lower=bound)
    verify_placement(buffers, best)
    assert best.arena_bytes == bound == 96
    assert greedy_by_size(buffers).arena_bytes >= best.arena_bytes


# Lower bounds for the model's own order, as measured independently (DESIGN.md): bytes.
KNOWN_LOWER_BOUNDS = {
    "mlperf_tiny/kws_ref_model.tflite": 16000,
    "mlperf_tiny/vww_96_int8.tflite": 55296,
    "mlperf_tiny/pretrainedResnet_quant.tflite": 49152,
    "mlperf_tiny/ad01_int8.tflite": 768,
}


@pytest.mark.zoo
@pytest.mark.parametrize("model", sorted(KNOWN_LOWER_BOUNDS), ids=lambda m: m.split("/")[-1])
def test_zoo_plans_reach_the_known_lower_bound(model: str) -> None:
    graph = load(zoo_path(model))
    plan = plan_memory(graph, scheduler="model", inplace=False)
    assert plan.lower_bound_bytes == KNOWN_LOWER_BOUNDS[model]
    assert plan.arena_bytes <= plan.lower_bound_bytes * 1.02
    baseline = plan_memory(graph, scheduler="model", planner="greedy_by_size", inplace=False)
    assert plan.arena_bytes <= baseline.arena_bytes


def test_bundled_transformer_plan_is_verified() -> None:
    graph = load(BUNDLED / "tiny_transformer_int8.tflite")
    plan = plan_memory(graph)
    assert plan.arena_bytes >= max(plan.live_bytes)
    assert sorted(plan.order) == list(range(len(graph.nodes)))


def _branchy_graph() -> Graph:
    """x -> big1 -> small1 ; x -> big2 -> small2 ; ADD(small1, small2). Running each branch to its
    end before starting the other keeps only one big tensor live."""
    q = per_tensor(0.1, 0)

    def t(name: str, n: int) -> Tensor:
        return Tensor(name, (1, n), DType.INT8, q)

    g = Graph("branchy", tensors=[t("x", 16), t("big1", 1000), t("big2", 1000), t("small1", 16),
                                  t("small2", 16), t("y", 16)], inputs=[0], outputs=[5])
    g.nodes = [Node("RESHAPE", [0], [1]), Node("RESHAPE", [0], [2]), Node("RESHAPE", [1], [3]),
               Node("RESHAPE", [2], [4]), Node("ADD", [3, 4], [5])]
    return g


def test_memory_aware_order_lowers_the_peak_of_a_branchy_graph() -> None:
    graph = _branchy_graph()
    own = model_order(graph)
    better = memory_aware_order(graph)
    assert _peak_of(graph, better) < _peak_of(graph, own)
    assert sorted(better) == own
    compute_buffers(graph, better)  # a valid order


def test_an_order_that_breaks_dependencies_is_refused() -> None:
    with pytest.raises(PlanError, match="before tensor"):
        compute_buffers(_branchy_graph(), [2, 0, 1, 3, 4])


def test_offsets_are_aligned_like_tflm() -> None:
    buffers = [Buffer(0, 5, 0, 1), Buffer(1, 7, 1, 2), Buffer(2, 3, 0, 2)]
    for placement in (greedy_by_size(buffers), best_fit(buffers), exact(buffers)):
        verify_placement(buffers, placement)
        assert all(offset % ALIGNMENT == 0 for offset in placement.offsets.values())


@pytest.mark.zoo
@pytest.mark.parametrize("model", ["mlperf_tiny/kws_ref_model.tflite", "mlperf_tiny/pretrainedResnet_quant.tflite"],
                         ids=lambda m: m.split("/")[-1])
def test_in_place_plans_go_below_the_lower_bound_and_stay_bit_exact(model: str) -> None:
    from conftest import assert_bit_exact

    from edgeml.ops.base import Numerics
    from edgeml.runtime.executor import Runner
    from edgeml.runtime.program import prepare_program

    path = zoo_path(model)
    graph = load(path)
    plan = plan_memory(graph)
    assert plan.arena_bytes < plan.lower_bound_bytes
    runner = Runner(prepare_program(graph, Numerics.TFLITE))
    assert runner.plan.arena_bytes == plan.arena_bytes and runner.arena.nbytes == plan.arena_bytes
    # The host runtime runs in exactly this arena: a wrong in-place decision would show here.
    assert_bit_exact(path, "tflite", count=3)
    assert_bit_exact(path, "tflm", count=3)
