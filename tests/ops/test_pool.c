// SPDX-License-Identifier: MIT
/*
 * Max and average pooling against the reference, exactly: max is exact
 * by nature, and avg is documented as the double-precision mean of the
 * real (unpadded) elements, rounded once to f32.
 */
#include <math.h>
#include <stdlib.h>

#include "kselftest_harness.h"

#include "check.h"
#include "ref.h"

typedef struct PoolCase {
    int64_t n, c, h, w, r, s, sh, sw, ph, pw;
} PoolCase;

static const PoolCase cases[] = {
    { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
    { 2, 3, 5, 5, 2, 2, 2, 2, 0, 0 },
    { 1, 2, 7, 9, 3, 3, 2, 2, 1, 1 },
    { 1, 1, 6, 6, 3, 3, 1, 1, 2, 2 },       /* windows mostly padding */
    { 2, 2, 8, 7, 3, 2, 3, 1, 1, 1 },
    { 1, 3, 7, 7, 7, 7, 1, 1, 0, 0 },       /* global pooling */
    { 3, 4, 13, 11, 4, 5, 3, 4, 3, 2 },
};

static int64_t run_case(const PoolCase *pc, LumenPoolOp op, uint64_t seed)
{
    Rng rng = { seed };
    int64_t p = (pc->h + 2 * pc->ph - pc->r) / pc->sh + 1;
    int64_t q = (pc->w + 2 * pc->pw - pc->s) / pc->sw + 1;
    int64_t xn = pc->n * pc->c * pc->h * pc->w, yn = pc->n * pc->c * p * q;
    float *x = matrix_new(&rng, LUMEN_DTYPE_F32, 1, xn, xn, -5, 5, false);
    float *y = matrix_new(&rng, LUMEN_DTYPE_F32, 1, yn, yn, 0, 0, false);
    double *ref = calloc(yn, sizeof(double));
    LumenPool2d pl = {
        .op = op, .n = pc->n, .c = pc->c, .h = pc->h, .w = pc->w,
        .r = pc->r, .s = pc->s, .stride_h = pc->sh, .stride_w = pc->sw,
        .pad_h = pc->ph, .pad_w = pc->pw, .x = x, .y = y,
    };
    int64_t bad, pp = 0, qq = 0;

    /* Negative values everywhere: padding read as 0 would win a max. */
    for (int64_t i = 0; i < xn; i++) {
        x[i] = op == LUMEN_POOL_MAX ? -1 - fabsf(x[i]) : x[i];
    }
    ref_pool2d(&pl, ref);
    for (int64_t i = 0; i < yn; i++) {
        ref[i] = (float)ref[i];
    }
    if (lumen_pool2d_out_size(&pl, &pp, &qq) || pp != p || qq != q ||
        lumen_pool2d(&pl)) {
        bad = -1;
    } else {
        bad = compare("y", y, LUMEN_DTYPE_F32, 1, yn, yn, ref, NULL, 0);
    }
    free(x);
    free(y);
    free(ref);
    return bad;
}

TEST(max_every_shape)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT_EQ(0, run_case(&cases[i], LUMEN_POOL_MAX, i)) {
            TH_LOG("case %zu", i);
        }
    }
}

TEST(avg_every_shape)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT_EQ(0, run_case(&cases[i], LUMEN_POOL_AVG, 10 + i)) {
            TH_LOG("case %zu", i);
        }
    }
}

/* Padding is not counted: a corner window of 2x2 real elements of 4. */
TEST(avg_excludes_padding)
{
    float x[4] = { 1, 2, 3, 4 }, y[4];
    LumenPool2d pl = {
        .op = LUMEN_POOL_AVG, .n = 1, .c = 1, .h = 2, .w = 2, .r = 3,
        .s = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
        .x = x, .y = y,
    };

    ASSERT_EQ(0, lumen_pool2d(&pl));
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(2.5f, y[i]);
    }
}

TEST(max_nan_and_signed_zero)
{
    float x[2][4] = { { 1, NAN, 3, -INFINITY }, { -0.0f, 0.0f, -1, -2 } };
    float y[2][2];
    LumenPool2d pl = {
        .op = LUMEN_POOL_MAX, .n = 1, .c = 2, .h = 1, .w = 4, .r = 1,
        .s = 2, .stride_h = 1, .stride_w = 2, .x = &x[0][0], .y = &y[0][0],
    };

    ASSERT_EQ(0, lumen_pool2d(&pl));
    EXPECT_TRUE(isnan(y[0][0]));                /* NaN propagates */
    EXPECT_EQ(3, y[0][1]);
    EXPECT_TRUE(y[1][0] == 0 && signbit(y[1][0])); /* the first of +-0 */
    EXPECT_EQ(-1, y[1][1]);
}

TEST_HARNESS_MAIN
