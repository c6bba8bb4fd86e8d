// SPDX-License-Identifier: MIT
/*
 * Softmax, layer norm and RMS norm against the reference, within the
 * documented bounds, on padded rows, in place, with and without gamma and
 * beta, and on the rows that break naive formulas: huge logits, a large
 * mean beside a small spread, constant rows, -Inf and NaN.
 */
#include <math.h>
#include <stdlib.h>

#include "kselftest_harness.h"

#include "check.h"
#include "ref.h"

static const int64_t shapes[][2] = {
    { 1, 1 }, { 1, 7 }, { 5, 33 }, { 3, 1000 }, { 2, 4097 }, { 40, 64 },
};
#define N_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

enum { SOFTMAX, LAYER_NORM, RMS_NORM };

typedef struct RowsCase {
    int op;
    int64_t rows, cols, pad;
    double lo, hi;      /* x uniform in [lo, hi] */
    bool in_place, gamma, beta;
    float eps;
} RowsCase;

static int64_t run_case(const RowsCase *rc, uint64_t seed)
{
    Rng rng = { seed };
    int64_t ld = rc->cols + rc->pad, n = rc->rows * rc->cols;
    float *x = matrix_new(&rng, LUMEN_DTYPE_F32, rc->rows, rc->cols, ld,
                          rc->lo, rc->hi, false);
    float *y = rc->in_place ? x :
               matrix_new(&rng, LUMEN_DTYPE_F32, rc->rows, rc->cols, ld,
                          0, 0, false);
    float *gamma = rc->gamma ? matrix_new(&rng, LUMEN_DTYPE_F32, 1, rc->cols,
                                          rc->cols, -2, 2, false) : NULL;
    float *beta = rc->beta ? matrix_new(&rng, LUMEN_DTYPE_F32, 1, rc->cols,
                                        rc->cols, -2, 2, false) : NULL;
    double *ref = calloc(n, sizeof(double)), *tol = calloc(n, sizeof(double));
    double *aux = calloc(n, sizeof(double));
    LumenRows r = {
        .rows = rc->rows, .cols = rc->cols, .y = y, .ldy = ld, .x = x,
        .ldx = ld, .gamma = gamma, .beta = beta, .eps = rc->eps,
    };
    int64_t bad;
    int ret;

    switch (rc->op) {
    case SOFTMAX:
        ref_softmax(&r, ref, aux);
        for (int64_t i = 0; i < n; i++) {
            /* (8 + row range) eps relative, 2^-149 absolute */
            tol[i] = (8 + aux[i / rc->cols]) * EPS_F32 * ref[i] + 0x1p-149;
        }
        ret = lumen_softmax(&r);
        break;
    case LAYER_NORM:
        ref_layer_norm(&r, ref, aux);
        for (int64_t i = 0; i < n; i++) {
            tol[i] = 2 * EPS_F32 * aux[i] + 0x1p-149;
        }
        ret = lumen_layer_norm(&r);
        break;
    default:
        ref_rms_norm(&r, ref);
        for (int64_t i = 0; i < n; i++) {
            tol[i] = 2 * EPS_F32 * fabs(ref[i]) + 0x1p-149;
        }
        ret = lumen_rms_norm(&r);
        break;
    }
    if (ret) {
        bad = -1;
    } else {
        bad = compare("y", y, LUMEN_DTYPE_F32, rc->rows, rc->cols, ld, ref,
                      tol, 0);
        bad += !padding_intact(y, LUMEN_DTYPE_F32, rc->rows, rc->cols, ld);
    }
    if (!rc->in_place) {
        free(y);
    }
    free(x);
    free(gamma);
    free(beta);
    free(ref);
    free(tol);
    free(aux);
    return bad;
}

#define RUN_CASE(rc, seed) \
    EXPECT_EQ(0, run_case(rc, seed)) { \
        TH_LOG("op %d %lldx%lld pad %lld x in [%g, %g]%s%s%s eps %g", \
               (rc)->op, (long long)(rc)->rows, (long long)(rc)->cols, \
               (long long)(rc)->pad, (rc)->lo, (rc)->hi, \
               (rc)->in_place ? " in place" : "", \
               (rc)->gamma ? " gamma" : "", (rc)->beta ? " beta" : "", \
               (rc)->eps); \
    }

TEST(softmax_shapes)
{
    for (size_t s = 0; s < N_SHAPES; s++) {
        RowsCase rc = {
            .op = SOFTMAX, .rows = shapes[s][0], .cols = shapes[s][1],
            .pad = s % 3, .lo = -10, .hi = 10, .in_place = s & 1,
        };

        RUN_CASE(&rc, s);
    }
}

/* Logits that would overflow exp without subtracting the maximum. */
TEST(softmax_huge_logits)
{
    RowsCase rc = {
        .op = SOFTMAX, .rows = 4, .cols = 300, .lo = 1000, .hi = 1030,
    };

    RUN_CASE(&rc, 10);
    rc.lo = -1e4;
    rc.hi = -1e4 + 50;
    RUN_CASE(&rc, 11);
}

TEST(softmax_special_rows)
{
    float x[4][5] = {
        { 3, 3, 3, 3, 3 },
        { -INFINITY, 1, -INFINITY, 2, -INFINITY },
        { 1, NAN, 2, 3, 4 },
        { 1, INFINITY, 2, 3, 4 },
    };
    float y[4][5];
    LumenRows r = {
        .rows = 4, .cols = 5, .y = &y[0][0], .ldy = 5, .x = &x[0][0],
        .ldx = 5,
    };

    ASSERT_EQ(0, lumen_softmax(&r));
    for (int j = 0; j < 5; j++) {
        EXPECT_EQ(0.2f, y[0][j]);       /* exp(0) / 5, exactly rounded */
        EXPECT_TRUE(isnan(y[2][j]));    /* documented: NaN row */
        EXPECT_TRUE(isnan(y[3][j]));    /* documented: Inf - Inf */
    }
    EXPECT_EQ(0, y[1][0]);
    EXPECT_EQ(0, y[1][2]);
    EXPECT_EQ(0, y[1][4]);
    EXPECT_TRUE(fabs(y[1][1] - 1 / (1 + M_E)) <= 10 * EPS_F32);
    EXPECT_TRUE(fabs(y[1][3] - M_E / (1 + M_E)) <= 10 * EPS_F32);
}

TEST(layer_norm_shapes)
{
    for (size_t s = 0; s < N_SHAPES; s++) {
        for (int v = 0; v < 4; v++) {
            RowsCase rc = {
                .op = LAYER_NORM, .rows = shapes[s][0], .cols = shapes[s][1],
                .pad = v, .lo = -3, .hi = 5, .in_place = v == 2,
                .gamma = v & 1, .beta = v & 2, .eps = v == 3 ? 0 : 1e-5f,
            };

            if (rc.cols == 1 && rc.eps == 0) {
                continue;       /* variance 0, eps 0: NaN by definition */
            }
            RUN_CASE(&rc, s * 4 + v);
        }
    }
}

/*
 * A mean of 1000 beside a spread of 0.01: E[x^2] - E[x]^2 in f32 would
 * lose every digit; the two-pass double statistics keep them.
 */
TEST(layer_norm_large_mean)
{
    RowsCase rc = {
        .op = LAYER_NORM, .rows = 3, .cols = 777, .lo = 1000,
        .hi = 1000.01, .gamma = true, .beta = true, .eps = 1e-12f,
    };

    RUN_CASE(&rc, 20);
}

TEST(rms_norm_shapes)
{
    for (size_t s = 0; s < N_SHAPES; s++) {
        for (int v = 0; v < 3; v++) {
            RowsCase rc = {
                .op = RMS_NORM, .rows = shapes[s][0], .cols = shapes[s][1],
                .pad = v * 2, .lo = -4, .hi = 3, .in_place = v == 1,
                .gamma = v != 2, .eps = v == 2 ? 0 : 1e-6f,
            };

            RUN_CASE(&rc, 30 + s * 3 + v);
        }
    }
}

/* A constant row: variance exactly 0, so the output is exactly beta. */
TEST(norm_constant_row)
{
    float x[8] = { 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f };
    float beta[8] = { 1, -1, 0.5f, 7, 0, 3, 2, 1 };
    float y[8];
    LumenRows r = {
        .rows = 1, .cols = 8, .y = y, .ldy = 8, .x = x, .ldx = 8,
        .beta = beta, .eps = 1e-5f,
    };

    ASSERT_EQ(0, lumen_layer_norm(&r));
    for (int j = 0; j < 8; j++) {
        EXPECT_EQ(beta[j], y[j]);
    }
}

TEST_HARNESS_MAIN
