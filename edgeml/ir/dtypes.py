"""Element types of the IR and their numpy equivalents."""

from __future__ import annotations

import enum

import numpy as np


class DType(enum.Enum):
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    BOOL = "bool"
    # 1-bit values packed 8 per byte along the last axis (binary nets); stored as uint8.
    INT1_PACKED = "int1_packed"

    @property
    def np(self) -> np.dtype:
        return np.dtype("uint8") if self is DType.INT1_PACKED else np.dtype(self.value)

    @property
    def is_float(self) -> bool:
        return self is DType.FLOAT32

    @property
    def is_integer(self) -> bool:
        return not self.is_float and self is not DType.BOOL

    def nbytes(self, num_elements: int, last_dim: int | None = None) -> int:
        if self is DType.INT1_PACKED:
            if not last_dim:
                return (num_elements + 7) // 8
            rows = num_elements // last_dim
            return rows * ((last_dim + 7) // 8)
        return num_elements * self.np.itemsize

    @classmethod
    def from_numpy(cls, dtype: np.dtype) -> DType:
        return cls(np.dtype(dtype).name)
