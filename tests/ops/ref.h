/* SPDX-License-Identifier: MIT */
/*
 * Plain reference implementations of Lumen's operators, used only by the
 * tests: naive loops straight from each operator's definition in
 * Documentation/operators.rst, in double precision, sharing no code with
 * tools/qemu/ops.  They read their operands through the same descriptors
 * as the operators, so call them before the operator overwrites anything.
 */
#ifndef LUMEN_TESTS_OPS_REF_H
#define LUMEN_TESTS_OPS_REF_H

#include <stdint.h>

#include "lumen-ops.h"

/* The value of a 16-bit float, from the format's definition. */
double ref_f16_value(uint16_t h);
double ref_bf16_value(uint16_t h);
/* The nearest 16-bit float to x (ties to even), found by value. */
uint16_t ref_round_f16(double x);
uint16_t ref_round_bf16(double x);

/* Element i of an array of type t, as a double. */
double ref_elem(const void *p, LumenDtype t, int64_t i);

/* An activation, as documented; gelu_arg/silu_arg give its t. */
double ref_act(double x, LumenAct act);
double ref_sigmoid_arg(double x, LumenAct act);

/*
 * GEMM: out[i * n + j] = act(alpha * sum_k op(A)(i,k) op(B)(k,j)
 * + beta * C + bias), and mag[i * n + j] = |alpha| sum |a b| + |beta C| +
 * |bias| (the scale of the rounding errors), and z the pre-activation
 * value.  Any of mag, z may be NULL.
 */
void ref_gemm(const LumenGemm *g, double *out, double *mag, double *z);
/* int8: the exact result modulo 2^32. */
void ref_gemm_i8(const LumenGemm *g, int32_t *out);

void ref_eltwise(const LumenEltwise *e, double *out);
/* softmax; range[i] = max - min of row i. */
void ref_softmax(const LumenRows *r, double *out, double *range);
/* mag = |normalised x * gamma| + |beta| per element. */
void ref_layer_norm(const LumenRows *r, double *out, double *mag);
void ref_rms_norm(const LumenRows *r, double *out);
/* out, mag and z as for ref_gemm, over the dense n x k x p x q output. */
void ref_conv2d(const LumenConv2d *cv, double *out, double *mag, double *z);
void ref_pool2d(const LumenPool2d *pl, double *out);

#endif /* LUMEN_TESTS_OPS_REF_H */
