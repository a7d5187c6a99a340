"""One-input ops over 8- or 16-bit integers as a lookup table of every input value's result.

The table is built at prepare time by the op's own scalar arithmetic; the kernel is a gather.
TFLite builds some int8 tables itself from float32 math (LUTPopulateInt8), calling the C library's
float functions (expf, tanhf, erfcf), which are not correctly rounded; `libm_float` calls the same
functions through ctypes so the tables come out identical.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from functools import cache

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CArray, CCall
from edgeml.ops.base import OpContext

f32 = np.float32


def input_values(dtype: np.dtype) -> np.ndarray:
    """Every value of an 8- or 16-bit integer type, ascending, as int64."""
    info = np.iinfo(dtype)
    return np.arange(int(info.min), int(info.max) + 1, dtype=np.int64)


@njit(cache=True)
def _lookup(x, table, x_min, out):
    for i in range(x.shape[0]):
        out[i] = table[np.int64(x[i]) - x_min]


def run_lookup(table: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """out = table[x - min(x's type)], element by element (tables of 256 or 65536 entries)."""
    _lookup(x.reshape(-1), table, -(table.shape[0] // 2), out.reshape(-1))


def c_lookup_s8(ctx: OpContext, module: str, table: np.ndarray, **fields) -> CCall:
    """An int8 -> int8 table op in C: edg_<module>_s8 with params {count, table, ...fields}."""
    if ctx.input(0).dtype.np != np.int8 or ctx.output().dtype.np != np.int8 or table.size != 256:
        raise ctx.unsupported("the C kernel is an int8 -> int8 table")
    return CCall(module=module, function=f"edg_{module}_s8", params_type=f"edg_{module}_params_t",
                 fields={"count": ctx.output().num_elements, "table": CArray(table, np.int8), **fields})


@cache
def _c_function(name: str):
    try:
        function = getattr(ctypes.CDLL(ctypes.util.find_library("m")), name)
    except (OSError, AttributeError, TypeError):
        return None
    function.restype = ctypes.c_float
    function.argtypes = [ctypes.c_float]
    return function


def libm_float(name: str, fallback: Callable[[float], float]) -> Callable[[np.float32], np.float32]:
    """The C library's float function `name` (e.g. "expf"); else the double `fallback` rounded to float32."""
    c_function = _c_function(name)
    if c_function is not None:
        return lambda x: f32(c_function(float(x)))
    return lambda x: f32(fallback(float(x)))


def quantize_float_result(value: np.float32, inverse_scale: np.float32, zero_point: int) -> int:
    """int8(clamp(int32(roundf(value * inverse_scale) + zero_point))), as LUTPopulateInt8 does.

    x86 converts an out-of-range or NaN float to INT32_MIN.
    """
    scaled = float(f32(value) * inverse_scale)
    if math.isfinite(scaled):
        rounded = math.floor(abs(scaled) + 0.5) * (1 if scaled >= 0 else -1)
        total = float(f32(rounded) + f32(zero_point))
    else:
        total = math.nan
    quantized = int(total) if -(2.0**31) <= total < 2.0**31 else -(2**31)
    return min(max(quantized, -128), 127)


def float_lut_int8(input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int,
                   transform: Callable[[np.float32], np.float32]) -> np.ndarray:
    """TFLite's LUTPopulateInt8: the int8 table (indexed by q + 128) of a float32 function."""
    inverse_scale = f32(1.0) / f32(output_scale)
    table = np.empty(256, np.int8)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        for k, q in enumerate(range(-128, 128)):
            x = f32(input_scale) * f32(q - input_zero_point)
            table[k] = quantize_float_result(transform(x), inverse_scale, output_zero_point)
    return table


def float_reference_int8(x: np.ndarray, input_scale: float, input_zero_point: int, output_scale: float,
                         output_zero_point: int, transform: Callable[[np.float32], np.float32]) -> np.ndarray:
    """The same float math element by element (no table): the numpy reference of float-table ops."""
    inverse_scale = f32(1.0) / f32(output_scale)
    out = np.empty(x.size, np.int8)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        for i, q in enumerate(x.reshape(-1)):
            value = transform(f32(input_scale) * f32(int(q) - input_zero_point))
            out[i] = quantize_float_result(value, inverse_scale, output_zero_point)
    return out.reshape(x.shape)
