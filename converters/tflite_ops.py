"""TFLite builtin operator -> edgeml op name and attrs, one entry per supported operator.

Each parser reads the operator's builtin options table (fields by schema index) into the op's
attrs dataclass. Operators that only need their name map with no parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgeml.converters.flatbuffer import Table

from edgeml.ops.common import Activation
from edgeml.ops.fully_connected import FullyConnectedAttrs

OptionsParser = Callable[[Table | None], Any]


@dataclass(frozen=True)
class OpMapping:
    op: str  # edgeml op name
    parse: OptionsParser | None = None


def _activation(options: Table | None, field: int) -> Activation:
    return Activation(options.scalar(field, "b", 0)) if options else Activation.NONE


def _fully_connected(options: Table | None) -> FullyConnectedAttrs:
    if options is None:
        return FullyConnectedAttrs()
    weights_format = options.scalar(1, "b", 0)
    if weights_format != 0:
        raise ValueError(f"weights_format {weights_format} (shuffled weights) is not supported")
    return FullyConnectedAttrs(activation=_activation(options, 0), keep_num_dims=bool(options.scalar(2, "?", False)))


# Keyed by the BuiltinOperator code.
TFLITE_OPS: dict[int, OpMapping] = {
    9: OpMapping("FULLY_CONNECTED", _fully_connected),
    22: OpMapping("RESHAPE"),
    43: OpMapping("RESHAPE"),  # SQUEEZE
    70: OpMapping("RESHAPE"),  # EXPAND_DIMS
}
