"""Generated C compiled for the host against the numba kernels and the numpy references.

assert_c_matches(graph, numerics, batches) plans the graph exactly as the runtime does, emits
model.c, compiles it with gcc (-Wall -Wextra -Werror -Wconversion) against firmware/, and checks
every output byte of every batch, and every op's output, against numba and the numpy reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from edgeml.codegen.host_build import HostModel
from edgeml.codegen.model_c import generate
from edgeml.ir.graph import Graph
from edgeml.ops.registry import REGISTRY
from edgeml.plan.memory import plan_memory
from edgeml.runtime.executor import Runner, run_reference
from edgeml.runtime.program import prepare_program


def host_model(graph: Graph, numerics: str, prefix: str = "model") -> tuple[HostModel, Runner]:
    program = prepare_program(graph, numerics)
    plan = plan_memory(graph, numerics=program.numerics)
    return HostModel(graph, generate(program, plan, prefix)), Runner(program, plan)


def skip_without_c_kernels(graph: Graph) -> None:
    """Skip, visibly, a whole-model check while some of its ops have no C kernel yet."""
    missing = sorted({node.op for node in graph.nodes
                      if (spec := REGISTRY.get(node.op)) is not None and spec.c_emit is None})
    if missing:
        pytest.skip(f"{graph.name}: no C kernel yet for {', '.join(missing)}")


def assert_c_matches(graph: Graph, numerics: str, batches: Sequence[Sequence[np.ndarray]]) -> None:
    skip_without_c_kernels(graph)
    c_model, runner = host_model(graph, numerics)
    program = runner.program
    for b, inputs in enumerate(batches):
        numba_result = runner.run(inputs, keep_tensors=True)
        reference = run_reference(program, inputs)
        c_outputs, traced = c_model.run(inputs, trace=True)
        # First divergent op by execution order, named, before the outputs are compared.
        for node_index in runner.plan.order:
            node = graph.nodes[node_index]
            if node_index not in traced:
                continue  # an alias step the generator skipped
            expected = numba_result.tensors[node.outputs[0]]
            got = np.frombuffer(traced[node_index], dtype=expected.dtype).reshape(expected.shape)
            if not np.array_equal(got, expected):
                diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
                raise AssertionError(
                    f"{graph.name} ({numerics}) batch {b}: C differs from numba first at "
                    f"{graph.node_label(node_index)}: {int((diff > 0).sum())} of {diff.size} elements, "
                    f"max |d| = {int(diff.max())}")
        for k, (c_out, n_out, r_out) in enumerate(zip(c_outputs, numba_result.outputs, reference.outputs,
                                                      strict=True)):
            assert np.array_equal(n_out, r_out), f"{graph.name} output {k}: numba != numpy reference"
            assert np.array_equal(c_out, n_out), f"{graph.name} output {k}: C != numba"
