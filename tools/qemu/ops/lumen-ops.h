/*
 * Lumen inference operators: the arithmetic behind the device's GEMM,
 * element-wise, softmax, normalisation, convolution and pooling commands.
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * This library has no QEMU or glib dependency: the device model calls it
 * from its engine threads, and tests/ops and the host benchmark call it
 * directly.  Every call is independent (no global mutable state, no locks),
 * so any number of threads may run operators at once.
 *
 * Conventions shared by every operator (Documentation/operators.rst is the
 * full specification):
 *  - Matrices are row-major: element (i, j) of a matrix with leading
 *    dimension ld is at index i * ld + j.  Tensors of conv2d and pooling
 *    are dense NCHW.
 *  - Sizes and leading dimensions are int64_t so that a negative value is
 *    seen and rejected rather than wrapped into a huge size_t.  Every size
 *    must be at least 1: zero-sized operators are rejected too, because the
 *    device never has a reason to issue one.
 *  - Pointers must be aligned to their element type.
 *  - Return 0 on success or a negative errno: -EINVAL for an invalid
 *    argument, -EOVERFLOW when an extent does not fit in the address space,
 *    -EOPNOTSUPP for an instruction set this host lacks, -ENOMEM when the
 *    scratch memory of a GEMM or conv2d cannot be allocated.  An operator
 *    that fails has written nothing.
 *  - Outputs must not overlap inputs, except where an operator says that
 *    it works in place.  Overlap never makes an operator touch memory
 *    outside the extents described by its arguments; it only makes the
 *    values written unspecified.
 */
#ifndef LUMEN_OPS_H
#define LUMEN_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types.  0 is deliberately invalid: a zeroed descriptor is caught. */
typedef enum LumenDtype {
    LUMEN_DTYPE_F32 = 1,    /* IEEE 754 binary32 */
    LUMEN_DTYPE_F16 = 2,    /* IEEE 754 binary16, stored as uint16_t bits */
    LUMEN_DTYPE_BF16 = 3,   /* bfloat16 (top half of a binary32), uint16_t */
    LUMEN_DTYPE_I8 = 4,     /* two's-complement int8_t */
    LUMEN_DTYPE_I32 = 5,    /* two's-complement int32_t */
} LumenDtype;

/*
 * Activations, fused into GEMM and conv2d or run by lumen_eltwise():
 *   RELU  x < 0 ? +0 : x (NaN and -0 pass through)
 *   GELU  the tanh approximation 0.5 x (1 + tanh(u)) = x * sigmoid(2u),
 *         u = sqrt(2 / pi) * (x + 0.044715 x^3)
 *   SILU  x * sigmoid(x)
 * GELU and SiLU of -Inf are -0, their limit.
 */
typedef enum LumenAct {
    LUMEN_ACT_NONE = 0,
    LUMEN_ACT_RELU = 1,
    LUMEN_ACT_GELU = 2,
    LUMEN_ACT_SILU = 3,
} LumenAct;

/*
 * Which kernels to run.  AUTO picks the best this host supports; the others
 * exist so that tests and the benchmark can run every implementation on
 * one machine.  Asking for one the host lacks gives -EOPNOTSUPP.
 */
typedef enum LumenIsa {
    LUMEN_ISA_AUTO = 0,
    LUMEN_ISA_GENERIC = 1,  /* portable C, any host */
    LUMEN_ISA_AVX2 = 2,     /* x86-64-v3: AVX2 + FMA + F16C */
    LUMEN_ISA_AVX512 = 3,   /* x86-64-v4: AVX-512 F/BW/DQ/VL + FMA + F16C */
} LumenIsa;

/* The ISA that LUMEN_ISA_AUTO selects on this host. */
LumenIsa lumen_ops_best_isa(void);
/* Its name: "generic", "avx2" or "avx512" ("?" for an invalid value). */
const char *lumen_isa_name(LumenIsa isa);

/*
 * GEMM: C = act(alpha * op(A) * op(B) + beta * C + bias).
 *
 * op(A) is m x k, op(B) is k x n, C is m x n.  op(X) is X, or X transposed
 * when trans_x is set, so a transposed A is stored k x m (lda >= m).
 *
 *   type      A, B    C (c_type)        accumulation     alpha, beta
 *   F32       f32     F32               f32              alpha, beta
 *   F16       f16     F16 or F32        f32              alpha, beta
 *   BF16      bf16    BF16 or F32       f32              alpha, beta
 *   I8        i8      I32               i32, mod 2^32    ialpha, ibeta
 *
 * The bias has C's type: n elements added to every row (LUMEN_BIAS_ROW) or
 * m elements added to every column (LUMEN_BIAS_COL).  beta == 0 (or
 * ibeta == 0) means C's old contents are not read at all, so NaNs or
 * garbage in it do not propagate.  For I8 the whole expression is computed
 * in 32-bit two's complement arithmetic that wraps, and act may only be
 * NONE or RELU.
 */
typedef enum LumenBias {
    LUMEN_BIAS_NONE = 0,
    LUMEN_BIAS_ROW = 1,     /* bias[j] added to C[i][j]; n elements */
    LUMEN_BIAS_COL = 2,     /* bias[i] added to C[i][j]; m elements */
} LumenBias;

typedef struct LumenGemm {
    LumenDtype type;      /* of A and B */
    LumenDtype c_type;    /* of C and of the bias */
    bool trans_a, trans_b;
    int64_t m, n, k;
    const void *a;
    int64_t lda;
    const void *b;
    int64_t ldb;
    void *c;
    int64_t ldc;
    LumenBias bias_kind;
    const void *bias;           /* NULL when bias_kind is NONE */
    LumenAct act;
    float alpha, beta;          /* F32, F16, BF16 */
    int32_t ialpha, ibeta;      /* I8 */
    LumenIsa isa;         /* LUMEN_ISA_AUTO unless testing */
} LumenGemm;

int lumen_gemm(const LumenGemm *g);

/*
 * Element-wise: y = x + b, x * b, relu(x), gelu(x) or silu(x) over a
 * rows x cols matrix, in F32, F16 or BF16 (all operands of one type; the
 * arithmetic is f32, then rounded once to the type).  For ADD and MUL, b is
 * either a rows x cols matrix (leading dimension ldb) or, with
 * broadcast_b, one row of cols elements applied to every row (ldb is then
 * ignored).  Works in place: y may be x (ldy == ldx) or b (same shape).
 */
typedef enum LumenEltwiseOp {
    LUMEN_ELT_ADD = 1,
    LUMEN_ELT_MUL = 2,
    LUMEN_ELT_RELU = 3,
    LUMEN_ELT_GELU = 4,
    LUMEN_ELT_SILU = 5,
} LumenEltwiseOp;

typedef struct LumenEltwise {
    LumenEltwiseOp op;
    LumenDtype type;
    int64_t rows, cols;
    void *y;
    int64_t ldy;
    const void *x;
    int64_t ldx;
    const void *b;              /* ADD, MUL only; NULL otherwise */
    int64_t ldb;
    bool broadcast_b;
} LumenEltwise;

int lumen_eltwise(const LumenEltwise *e);

/*
 * Row-wise F32 operators over a rows x cols matrix; all work in place
 * (y == x with ldy == ldx).
 *
 * softmax:    y[i][j] = exp(x[i][j] - max_i) / sum_j exp(x[i][j] - max_i)
 * layer norm: y = (x - mean) / sqrt(var + eps) * gamma + beta, with the
 *             biased (population) variance of the row
 * RMS norm:   y = x / sqrt(mean(x^2) + eps) * gamma
 *
 * gamma and beta are cols elements each; NULL means all ones / all zeros.
 * eps must be finite and >= 0; beta must be NULL for RMS norm.
 */
typedef struct LumenRows {
    int64_t rows, cols;
    float *y;
    int64_t ldy;
    const float *x;
    int64_t ldx;
    const float *gamma;         /* norms only */
    const float *beta;          /* layer norm only */
    float eps;                  /* norms only */
} LumenRows;

int lumen_softmax(const LumenRows *r);
int lumen_layer_norm(const LumenRows *r);
int lumen_rms_norm(const LumenRows *r);

/*
 * conv2d, F32, dense NCHW:
 *   x      n x c x h x w
 *   weight k x (c / groups) x r x s
 *   bias   k elements, or NULL
 *   y      n x k x p x q, p = (h + 2 pad_h - dil_h (r - 1) - 1) / stride_h + 1
 *                         q = (w + 2 pad_w - dil_w (s - 1) - 1) / stride_w + 1
 * Output channel o of group g = o / (k / groups) reads input channels
 * g * c / groups .. (g + 1) * c / groups - 1.  Padding is symmetric and
 * reads as zero.  act is applied after the bias.  groups must divide c and
 * k; strides and dilations are >= 1, paddings >= 0, and p, q >= 1.
 */
typedef struct LumenConv2d {
    int64_t n, c, h, w;
    int64_t k, r, s;
    int64_t groups;
    int64_t stride_h, stride_w;
    int64_t pad_h, pad_w;
    int64_t dil_h, dil_w;
    const float *x;
    const float *weight;
    const float *bias;
    float *y;
    LumenAct act;
    LumenIsa isa;         /* of the GEMM underneath */
} LumenConv2d;

/* The output height and width of a conv2d, validating its arguments. */
int lumen_conv2d_out_size(const LumenConv2d *cv, int64_t *p,
                          int64_t *q);
int lumen_conv2d(const LumenConv2d *cv);

/*
 * Max and average pooling, F32, dense NCHW: x is n x c x h x w, y is
 * n x c x p x q with p = (h + 2 pad_h - r) / stride_h + 1 (q likewise).
 * Padding never takes part: max ignores it, and avg divides by the number
 * of real input elements under the window (count_include_pad = false).
 * pad_h < r and pad_w < s, so every window holds at least one element.
 * Max propagates NaN: a window holding a NaN gives NaN.
 */
typedef enum LumenPoolOp {
    LUMEN_POOL_MAX = 1,
    LUMEN_POOL_AVG = 2,
} LumenPoolOp;

typedef struct LumenPool2d {
    LumenPoolOp op;
    int64_t n, c, h, w;
    int64_t r, s;
    int64_t stride_h, stride_w;
    int64_t pad_h, pad_w;
    const float *x;
    float *y;
} LumenPool2d;

int lumen_pool2d_out_size(const LumenPool2d *pl, int64_t *p,
                          int64_t *q);
int lumen_pool2d(const LumenPool2d *pl);

/*
 * Conversions between f32 and the 16-bit types.  To f32 is exact.  From
 * f32 rounds to nearest, ties to even; overflow gives infinity, values
 * below the smallest subnormal round to a signed zero, subnormals are kept
 * (never flushed), and a NaN stays a NaN of the same sign with its top
 * payload bits kept and the quiet bit set.
 */
float lumen_f16_to_f32(uint16_t h);
uint16_t lumen_f32_to_f16(float f);
float lumen_bf16_to_f32(uint16_t h);
uint16_t lumen_f32_to_bf16(float f);

/* The same over arrays of n elements (vectorised where the host can). */
void lumen_f16_to_f32_n(float *dst, const uint16_t *src, size_t n);
void lumen_f32_to_f16_n(uint16_t *dst, const float *src, size_t n);
void lumen_bf16_to_f32_n(float *dst, const uint16_t *src, size_t n);
void lumen_f32_to_bf16_n(uint16_t *dst, const float *src, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* LUMEN_OPS_H */
