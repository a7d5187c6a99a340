"""Quantization parameters of a tensor: real = scale * (q - zero_point)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class QuantParams:
    # Scales as stored by the source (TFLite keeps float32); arithmetic widens them to double.
    scale: np.ndarray
    zero_point: np.ndarray
    # None for per-tensor parameters, else the channel axis of the tensor.
    axis: int | None = None

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    @property
    def single_scale(self) -> float:
        return float(self.scale.reshape(-1)[0])

    @property
    def single_zero_point(self) -> int:
        return int(self.zero_point.reshape(-1)[0])

    def channel_scales(self, channels: int) -> np.ndarray:
        """Scales broadcast to `channels` entries (per-tensor repeats its one scale), as double."""
        scale = np.asarray(self.scale, dtype=np.float64).reshape(-1)
        return np.broadcast_to(scale, (channels,)).copy() if scale.size == 1 else scale.copy()

    def describe(self) -> str:
        if self.scale.size == 1:
            return f"scale={self.single_scale:.6g} zp={self.single_zero_point}"
        return f"per-channel axis={self.axis} ({self.scale.size} scales)"


def per_tensor(scale: float, zero_point: int) -> QuantParams:
    return QuantParams(np.array([scale], np.float32), np.array([zero_point], np.int64))
