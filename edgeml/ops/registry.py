"""The explicit list of operators edgeml supports. One line per op module."""

from __future__ import annotations

from edgeml.errors import UnsupportedOpError
from edgeml.ops import fully_connected, reshape
from edgeml.ops.base import OpSpec

_SPECS: tuple[OpSpec, ...] = (
    fully_connected.SPEC,
    reshape.SPEC,
)

REGISTRY: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}


def get_spec(op: str) -> OpSpec:
    try:
        return REGISTRY[op]
    except KeyError:
        raise UnsupportedOpError(f"operator {op} has no OpSpec in edgeml") from None
