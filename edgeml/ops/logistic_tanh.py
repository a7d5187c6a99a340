"""LOGISTIC and TANH: int8. The two references compute them by different algorithms.

* TFLite builds a 256-entry table from float32 math at prepare time (1 / (1 + expf(-x)), tanhf(x))
  through the C library, like GELU.
* TFLite Micro rescales q - z_in into Q4.27 (multiplier from frexp(s_in * 2^27)), saturates
  beyond a radius, and evaluates gemmlowp's fixed-point logistic / tanh; the Q0.31 result is
  shifted down to 1/256 steps (logistic, output zero point -128) or 1/128 steps (tanh), whatever
  the output's declared scale.

onnxruntime (QLinearSigmoid, and the QDQ Sigmoid it fuses into) also builds a table: the 256
dequantized values through MLAS's logistic, Eigen's rational approximation evaluated with fused
multiply-adds on x86 (FMA3), then QuantizeLinear.

Either way the kernel is a table over the 256 input values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, Numerics, OpContext, OpSpec
from edgeml.ops.common import require_dtype
from edgeml.ops.elementwise import ELEMENTWISE_ROUNDING, per_tensor_quant
from edgeml.ops.lut import (
    c_lookup_s8,
    f32,
    float_lut_int8,
    float_reference_int8,
    input_values,
    libm_float,
    run_lookup,
)
from edgeml.quant import fixedpoint
from edgeml.quant.requant import fma32, multiply_by_quantized_multiplier, rounding_divide_by_pot

_INPUT_INTEGER_BITS = 4
LOGISTIC, TANH = 0, 1


@dataclass(frozen=True, eq=False)
class LogisticTanhParams:
    kind: int  # LOGISTIC or TANH
    numerics: Numerics
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    # TFLite Micro's fixed-point path
    input_multiplier: int
    input_left_shift: int
    input_range_radius: int
    table: np.ndarray


def _float_transform(kind: int):
    if kind == LOGISTIC:
        exp = libm_float("expf", math.exp)
        return lambda x: f32(1.0) / (f32(1.0) + exp(-x))
    return libm_float("tanhf", math.tanh)


def _prepare(ctx: OpContext, kind: int) -> LogisticTanhParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8)
    require_dtype(ctx, out, "output", DType.INT8)
    (s_in, z_in), (s_out, z_out) = per_tensor_quant(ctx, x, "input"), per_tensor_quant(ctx, out, "output")
    if ctx.numerics.is_onnx:
        if kind != LOGISTIC:
            raise ctx.unsupported("onnxruntime numerics cover LOGISTIC only")
        table = onnx_logistic_table(s_in, z_in, s_out, z_out)
        return LogisticTanhParams(kind, ctx.numerics, s_in, z_in, s_out, z_out, 0, 0, 0, table)
    if kind == LOGISTIC and (s_out != 1.0 / 256 or z_out != -128):
        raise ctx.unsupported(f"output must be quantized with scale 1/256 and zero point -128, not {s_out} {z_out}")
    if ctx.numerics is Numerics.TFLITE:
        table = float_lut_int8(s_in, z_in, s_out, z_out, _float_transform(kind))
        return LogisticTanhParams(kind, ctx.numerics, s_in, z_in, s_out, z_out, 0, 0, 0, table)
    multiplier, left_shift, radius = _fixed_point_input_scaling(ctx, s_in)
    table = _fixed_point_table(input_values(np.dtype(np.int8)), kind, z_in, multiplier, left_shift, radius,
                               int(ELEMENTWISE_ROUNDING)).astype(np.int8)
    return LogisticTanhParams(kind, ctx.numerics, s_in, z_in, s_out, z_out, multiplier, left_shift, radius, table)


# MLAS's logistic constants (Eigen's): clamp range, numerator and denominator coefficients.
_MLAS_LOGISTIC_RANGE = 18.0
_MLAS_ALPHA = (4.37031012579801e-11, 1.15627324459942e-07, 6.08574864600143e-05, 8.51377133304701e-03,
               2.48287947061529e-01)
_MLAS_BETA = (6.10247389755681e-13, 5.76102136993427e-09, 6.29106785017040e-06, 1.70198817374094e-03,
              1.16817656904453e-01, 9.93151921023180e-01)


def mlas_logistic(x: np.ndarray) -> np.ndarray:
    """MlasComputeLogistic's FMA3 kernel in float32: x clamped to +-18, p(x^2) * x / q(x^2) + 1/2 with
    both polynomials by Horner's rule in fused multiply-adds, clamped to [0, 1]."""
    v = np.clip(np.asarray(x, np.float32), f32(-_MLAS_LOGISTIC_RANGE), f32(_MLAS_LOGISTIC_RANGE)).astype(np.float32)
    v2 = (v * v).astype(np.float32)
    p = fma32(v2, f32(_MLAS_ALPHA[0]), f32(_MLAS_ALPHA[1]))
    for alpha in _MLAS_ALPHA[2:]:
        p = fma32(p, v2, f32(alpha))
    p = (p * v).astype(np.float32)
    q = fma32(v2, f32(_MLAS_BETA[0]), f32(_MLAS_BETA[1]))
    for beta in _MLAS_BETA[2:]:
        q = fma32(q, v2, f32(beta))
    return np.clip((p / q).astype(np.float32) + f32(0.5), f32(0.0), f32(1.0)).astype(np.float32)


def onnx_logistic_table(s_in: float, z_in: int, s_out: float, z_out: int) -> np.ndarray:
    """QLinearSigmoid's table over the 256 int8 values: float32(q - z) * s, MLAS's logistic, then
    QuantizeLinear (division, half to even, saturation). Only q - z enters and the zero point is added
    after rounding, so a uint8 model's table is this one moved by 128."""
    values = input_values(np.dtype(np.int8))
    real = (values - z_in).astype(np.float32) * f32(s_in)
    y = mlas_logistic(real) / f32(s_out)
    lo, hi = -128 - z_out, 127 - z_out
    return (np.rint(np.clip(y, lo, hi)).astype(np.int64) + z_out).astype(np.int8)


def _fixed_point_input_scaling(ctx: OpContext, input_scale: float) -> tuple[int, int, int]:
    """TFLite Micro: (multiplier, left shift) taking q - z_in to Q4.27, and the saturation radius."""
    mantissa, left_shift = math.frexp(input_scale * float(1 << (31 - _INPUT_INTEGER_BITS)))
    multiplier = math.floor(mantissa * (1 << 31) + 0.5)
    if multiplier >= 1 << 31 or not 0 <= left_shift <= 62:
        raise ctx.unsupported(f"input scale {input_scale} is out of range for the fixed-point path")
    max_input = ((1 << _INPUT_INTEGER_BITS) - 1) * float(1 << (31 - _INPUT_INTEGER_BITS)) / float(1 << left_shift)
    return multiplier, left_shift, math.floor(max_input)


@njit(cache=True)
def fixed_point_one(q, kind, input_zero_point, multiplier, left_shift, radius, rounding):
    """TFLite Micro's reference_integer_ops::Logistic / Tanh for one int8 value."""
    value = q - input_zero_point
    if value <= -radius:
        return -128
    if value >= radius:
        return 127
    x = multiply_by_quantized_multiplier(value, multiplier, left_shift, rounding)  # Q4.27
    if kind == LOGISTIC:
        result = rounding_divide_by_pot(fixedpoint.logistic(x, 4), 23) - 128
    else:
        result = rounding_divide_by_pot(fixedpoint.tanh(x, 4), 24)
    return min(max(result, -128), 127)


@njit(cache=True)
def _fixed_point_table(values, kind, input_zero_point, multiplier, left_shift, radius, rounding):
    out = np.empty(values.shape[0], np.int64)
    for k in range(values.shape[0]):
        out[k] = fixed_point_one(values[k], kind, input_zero_point, multiplier, left_shift, radius, rounding)
    return out


def prepare_logistic(ctx: OpContext) -> LogisticTanhParams:
    return _prepare(ctx, LOGISTIC)


def prepare_tanh(ctx: OpContext) -> LogisticTanhParams:
    return _prepare(ctx, TANH)


def reference(p: LogisticTanhParams, inputs) -> list[np.ndarray]:
    x = inputs[0]
    if p.numerics.is_onnx:
        return [onnx_logistic_table(p.input_scale, p.input_zero_point, p.output_scale,
                                    p.output_zero_point)[x.astype(np.int64) + 128]]
    if p.numerics is Numerics.TFLITE:
        return [float_reference_int8(x, p.input_scale, p.input_zero_point, p.output_scale, p.output_zero_point,
                                     _float_transform(p.kind))]
    flat = [fixed_point_one(int(q), p.kind, p.input_zero_point, p.input_multiplier, p.input_left_shift,
                            p.input_range_radius, int(ELEMENTWISE_ROUNDING)) for q in x.reshape(-1)]
    return [np.array(flat, np.int8).reshape(x.shape)]


def kernel(p: LogisticTanhParams, inputs, outputs) -> None:
    run_lookup(p.table, inputs[0], outputs[0])


def c_emit(p: LogisticTanhParams, ctx: OpContext) -> CCall:
    """Either reference's table: the C kernel is the same gather."""
    return c_lookup_s8(ctx, "logistic_tanh", p.table)


LOGISTIC_SPEC = OpSpec(name="LOGISTIC", prepare=prepare_logistic, reference=reference, kernel=kernel,
                       inplace=((0, 0),), c_emit=c_emit, numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
TANH_SPEC = OpSpec(name="TANH", prepare=prepare_tanh, reference=reference, kernel=kernel, inplace=((0, 0),),
                   c_emit=c_emit)
