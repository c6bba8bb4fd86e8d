// SPDX-License-Identifier: MIT
/*
 * conv2d against the direct seven-loop reference: strides, paddings,
 * dilations, groups (up to depthwise), the 1x1 shortcut, bias and every
 * activation, and an input big enough to be split into several im2col
 * slices.  The bound is the GEMM's with K = (c / groups) * r * s.
 */
#include <math.h>
#include <stdlib.h>

#include "kselftest_harness.h"

#include "check.h"
#include "ref.h"

typedef struct ConvCase {
    int64_t n, c, h, w, k, r, s, groups;
    int64_t sh, sw, ph, pw, dh, dw;
} ConvCase;

static const ConvCase cases[] = {
    { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1 },
    { 2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1 },
    { 1, 4, 10, 11, 6, 3, 2, 2, 2, 3, 1, 0, 2, 1 },
    { 2, 5, 8, 8, 5, 3, 3, 5, 1, 1, 1, 1, 1, 1 },     /* depthwise */
    { 2, 8, 5, 6, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1 },     /* 1x1: no im2col */
    { 1, 8, 5, 6, 3, 1, 1, 1, 2, 2, 0, 0, 1, 1 },     /* 1x1, strided */
    { 1, 6, 9, 7, 4, 1, 1, 2, 1, 1, 0, 0, 3, 3 },     /* 1x1 grouped */
    { 1, 16, 28, 28, 32, 5, 5, 1, 1, 1, 2, 2, 1, 1 },
    { 3, 2, 6, 5, 2, 4, 4, 1, 3, 2, 3, 3, 1, 1 },     /* pad >= kernel/2 */
    { 1, 3, 12, 12, 2, 3, 3, 1, 1, 1, 0, 0, 4, 5 },   /* wide dilation */
};

static int64_t out_dim(int64_t in, int64_t k, int64_t st, int64_t pad,
                       int64_t dil)
{
    return (in + 2 * pad - dil * (k - 1) - 1) / st + 1;
}

static int64_t run_case(const ConvCase *cc, bool bias, LumenAct act,
                        uint64_t seed)
{
    Rng rng = { seed };
    int64_t p = out_dim(cc->h, cc->r, cc->sh, cc->ph, cc->dh);
    int64_t q = out_dim(cc->w, cc->s, cc->sw, cc->pw, cc->dw);
    int64_t xn = cc->n * cc->c * cc->h * cc->w;
    int64_t wn = cc->k * cc->c / cc->groups * cc->r * cc->s;
    int64_t yn = cc->n * cc->k * p * q, kk = cc->c / cc->groups * cc->r * cc->s;
    float *x = matrix_new(&rng, LUMEN_DTYPE_F32, 1, xn, xn, -1, 1, false);
    float *w = matrix_new(&rng, LUMEN_DTYPE_F32, 1, wn, wn, -1, 1, false);
    float *b = matrix_new(&rng, LUMEN_DTYPE_F32, 1, cc->k, cc->k, -1, 1,
                          false);
    float *y = matrix_new(&rng, LUMEN_DTYPE_F32, 1, yn, yn, 0, 0, false);
    double *ref = calloc(yn, sizeof(double)), *tol = calloc(yn, sizeof(double));
    double *mag = calloc(yn, sizeof(double)), *z = calloc(yn, sizeof(double));
    LumenConv2d cv = {
        .n = cc->n, .c = cc->c, .h = cc->h, .w = cc->w, .k = cc->k,
        .r = cc->r, .s = cc->s, .groups = cc->groups,
        .stride_h = cc->sh, .stride_w = cc->sw, .pad_h = cc->ph,
        .pad_w = cc->pw, .dil_h = cc->dh, .dil_w = cc->dw,
        .x = x, .weight = w, .bias = bias ? b : NULL, .y = y, .act = act,
    };
    int64_t bad, pp = 0, qq = 0;

    ref_conv2d(&cv, ref, mag, z);
    for (int64_t i = 0; i < yn; i++) {
        tol[i] = gemm_tol(kk, LUMEN_DTYPE_F32, act, mag[i], z[i], ref[i]);
    }
    if (lumen_conv2d_out_size(&cv, &pp, &qq) || pp != p || qq != q ||
        lumen_conv2d(&cv)) {
        bad = -1;
    } else {
        bad = compare("y", y, LUMEN_DTYPE_F32, 1, yn, yn, ref, tol, 0);
    }
    free(x);
    free(w);
    free(b);
    free(y);
    free(ref);
    free(tol);
    free(mag);
    free(z);
    return bad;
}

TEST(every_shape)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT_EQ(0, run_case(&cases[i], i & 1, LUMEN_ACT_NONE, i)) {
            TH_LOG("case %zu", i);
        }
    }
}

TEST(bias_and_every_activation)
{
    for (int act = LUMEN_ACT_NONE; act <= LUMEN_ACT_SILU; act++) {
        for (size_t i = 1; i < 5; i++) {
            EXPECT_EQ(0, run_case(&cases[i], true, (LumenAct)act, 50 + i)) {
                TH_LOG("case %zu act %d", i, act);
            }
        }
    }
}

/* 64 * 7 * 7 rows of im2col: the 16 MiB scratch holds a slice of pixels. */
TEST(im2col_in_slices)
{
    ConvCase cc = { 1, 64, 56, 56, 2, 7, 7, 1, 1, 1, 3, 3, 1, 1 };

    EXPECT_EQ(0, run_case(&cc, true, LUMEN_ACT_RELU, 99));
}

TEST_HARNESS_MAIN
