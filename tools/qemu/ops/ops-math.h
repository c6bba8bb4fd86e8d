/*
 * Lumen operators: exp and the activations, written to vectorise
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libm's expf is a call the compiler cannot vectorise (without
 * -ffast-math and libmvec), and its results differ between C libraries.
 * This one is branch-free straight-line code, so loops over it vectorise
 * at every ISA level, and its error (about 2 ulp) is fixed by this source.
 */
#ifndef LUMEN_OPS_MATH_H
#define LUMEN_OPS_MATH_H

#include <math.h>

#include "ops-internal.h"

/*
 * exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in
 * [-ln2 / 2, ln2 / 2], where a degree-7 Taylor polynomial is accurate to
 * 1e-8 relative.  ln 2 is split in a high part with few significant bits
 * (so that n * LN2_HI is exact) and a low part (Cody and Waite).
 * Saturation: exp(x) overflows to +Inf above X_MAX, underflows to +0
 * below -104, and NaN gives NaN.
 *
 * The argument is clamped to [-104, X_MAX] and +Inf selected afterwards,
 * rather than clamped at a value whose exp overflows: the compiler folds
 * the clamped path to a constant, and an overflowing constant would be
 * left as a possibly trapping operation that stops the loop from being
 * vectorised.
 */
static inline float ops_expf(float x)
{
    const float LOG2E = 0x1.715476p0f;
    const float LN2_HI = 0.693145751953125f;     /* 0x1.62e4p-1 */
    const float LN2_LO = 0.00000142860677f;      /* 0x1.7f7d1cp-20 */
    const float SHIFTER = 0x1.8p23f;   /* rounds to an integer in the ulp */
    const float X_MAX = 0x1.62e42ep6f; /* largest x with a finite exp(x) */

    /* Comparisons are false for NaN, so a NaN passes through untouched. */
    float xc = x < -104.0f ? -104.0f : x > X_MAX ? X_MAX : x;

    /* t's low mantissa bits hold n = round(x * log2 e), |n| <= 150. */
    float t = xc * LOG2E + SHIFTER;
    float n = t - SHIFTER;
    int32_t ni = (int32_t)(ops_f32_bits(t) - ops_f32_bits(SHIFTER));
    float r = xc - n * LN2_HI;

    r = r - n * LN2_LO;

    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;

    /*
     * 2^n in two factors, each a normal float for n in [-150, 128], so
     * that results in the subnormal range are rounded only once.
     */
    int32_t n1 = ni >> 1;         /* arithmetic shift: floor(ni / 2) */
    int32_t n2 = ni - n1;
    float s1 = ops_bits_f32((uint32_t)(n1 + 127) << 23);
    float s2 = ops_bits_f32((uint32_t)(n2 + 127) << 23);

    return x > X_MAX ? INFINITY : p * s1 * s2;
}

/*
 * x * sigmoid(t), where sigmoid(t) = 1 / (1 + e^-t) = e^t / (1 + e^t).
 * Taking the form whose exp has a non-positive argument means exp never
 * overflows, so x * sigmoid(t) keeps its tiny values for very negative t
 * instead of collapsing to x / Inf = 0, and there is no cancellation
 * anywhere (unlike 0.5 x (1 + tanh(t / 2))).  -Inf gives -0, the limit,
 * where the product would be -Inf * 0.
 */
static inline float ops_x_sigmoid(float x, float t)
{
    float e = ops_expf(-fabsf(t));
    float s = (t >= 0 ? 1.0f : e) / (1.0f + e);

    return x == -INFINITY ? -0.0f : x * s;
}

static inline float ops_relu(float x)
{
    /* Written so NaN and -0 pass through, like maxps(0, x). */
    return x < 0 ? 0.0f : x;
}

static inline float ops_silu(float x)
{
    return ops_x_sigmoid(x, x);
}

/*
 * GELU, tanh form: 0.5 x (1 + tanh(u)) = x * sigmoid(2u) with
 * u = sqrt(2/pi) (x + 0.044715 x^3), so t = 2u = x (K0 + K1 x^2).
 */
static inline float ops_gelu(float x)
{
    const float K0 = 1.5957691216057308f;       /* 2 sqrt(2 / pi) */
    const float K1 = 0.0713548162726009f;       /* K0 * 0.044715 */

    return ops_x_sigmoid(x, x * (K0 + K1 * x * x));
}

#endif /* LUMEN_OPS_MATH_H */
