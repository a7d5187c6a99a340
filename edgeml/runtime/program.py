"""A Program: a graph whose nodes are prepared for one choice of numerics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeml.errors import ModelFormatError, UnsupportedOpError
from edgeml.ir.graph import Graph, Node, TensorKind, Unsupported
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
    where = graph.source_path or graph.name
    _check_numerics_fit(graph, numerics, where)
    steps: list[PreparedNode] = []
    problems: list[str] = []
    for index, node in enumerate(graph.nodes):
        spec = REGISTRY.get(node.op)
        if spec is None:
            reason = node.attrs.reason if isinstance(node.attrs, Unsupported) else "no OpSpec"
            problems.append(f"{graph.node_label(index)}: {reason}")
            continue
        if numerics not in spec.numerics:
            problems.append(f"{graph.node_label(index)}: edgeml has no {numerics.value} arithmetic for {node.op}")
            continue
        try:
            params = spec.prepare(OpContext(graph, node, numerics))
        except UnsupportedOpError as exc:
            problems.append(str(exc))
            continue
        except (ValueError, IndexError, KeyError, ArithmeticError) as exc:
            # Parameters no valid model has (a corrupted file that still parses).
            raise ModelFormatError(f"{where}: {graph.node_label(index)} has invalid parameters: {exc}") from None
        steps.append(PreparedNode(index, node, spec, params))
    if problems:
        _refuse_float_models(graph)
        raise UnsupportedOpError(
            f"{where}: {len(problems)} unsupported operator(s) for {numerics.value} numerics:\n  "
            + "\n  ".join(problems)
            + "\n`edgeml inspect` lists the model's ops."
        )
    return Program(graph, numerics, steps)


def _check_numerics_fit(graph: Graph, numerics: Numerics, where: str) -> None:
    """An ONNX model's arithmetic is onnxruntime's; a TFLite model's is TFLite's or TFLite Micro's."""
    onnx_model = graph.native_numerics == Numerics.ONNXRUNTIME.value
    if onnx_model != numerics.is_onnx:
        fits = "onnxruntime" if onnx_model else "tflite or tflm"
        raise UnsupportedOpError(f"{where}: {numerics.value} numerics do not apply to this model; its reference "
                                 f"is {fits} (--reference {fits.split()[0]})")


def _refuse_float_models(graph: Graph) -> None:
    """A float model that edgeml cannot run gets one sentence, not one complaint per op."""
    activations = [t for t in graph.tensors if t.kind is TensorKind.ACTIVATION]
    if activations and all(t.dtype.is_float for t in activations):
        raise UnsupportedOpError(
            f"{graph.source_path or graph.name}: the model computes in float32; edgeml runs integer-quantized "
            "(int8/int16) models: quantize it first (edgeml quantize MODEL --calibration DATA -o OUT.onnx)"
        )
