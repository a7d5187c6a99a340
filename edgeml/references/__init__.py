"""Reference runtimes edgeml is compared against: TFLite's reference kernels and TFLite Micro."""

from __future__ import annotations

from edgeml.references.base import ReferenceRun, ReferenceRuntime, get_reference

__all__ = ["ReferenceRun", "ReferenceRuntime", "get_reference"]
