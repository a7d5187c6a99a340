"""A Program: a graph whose nodes are prepared for one choice of numerics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeml.errors import ModelFormatError, UnsupportedOpError
from edgeml.ir.graph import Graph, Node
from edgeml.ops.base import Numerics, OpContext, OpSpec
from edgeml.ops.registry import REGISTRY


@dataclass(eq=False)
class PreparedNode:
    index: int
    node: Node
    spec: OpSpec
    params: Any


@dataclass(eq=False)
class Program:
    graph: Graph
    numerics: Numerics
    steps: list[PreparedNode]


def prepare_program(graph: Graph, numerics: Numerics | str) -> Program:
    """Prepare every node; report every unsupported op or variant at once."""
    numerics = Numerics(numerics)
    steps: list[PreparedNode] = []
    problems: list[str] = []
    for index, node in enumerate(graph.nodes):
        spec = REGISTRY.get(node.op)
        if spec is None:
            problems.append(f"{graph.node_label(index)}: no OpSpec")
            continue
        try:
            params = spec.prepare(OpContext(graph, node, numerics))
        except UnsupportedOpError as exc:
            problems.append(str(exc))
            continue
        except (ValueError, IndexError, KeyError, ArithmeticError) as exc:
            # Parameters no valid model has (a corrupted file that still parses).
            where = graph.source_path or graph.name
            raise ModelFormatError(f"{where}: {graph.node_label(index)} has invalid parameters: {exc}") from None
        steps.append(PreparedNode(index, node, spec, params))
    if problems:
        where = graph.source_path or graph.name
        raise UnsupportedOpError(
            f"{where}: {len(problems)} unsupported operator(s) for {numerics.value} numerics:\n  "
            + "\n  ".join(problems)
        )
    return Program(graph, numerics, steps)
