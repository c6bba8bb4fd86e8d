// SPDX-License-Identifier: MIT
/*
 * lumen_eltwise() against the reference.  add, mul and ReLU must be
 * correctly rounded, hence exact against the reference rounded once to
 * the type (double rounding through f32 is innocuous for these: f32 has
 * at least 2p + 2 bits for p = 11 and 8); GELU and SiLU must be within the
 * documented bound.  Shapes cross the 512-element chunks of 16-bit rows;
 * rows are padded, b is full or broadcast, and y may be x or b.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "check.h"
#include "ref.h"

static const LumenDtype types[] = {
    LUMEN_DTYPE_F32, LUMEN_DTYPE_F16, LUMEN_DTYPE_BF16,
};

static const int64_t shapes[][2] = {
    { 1, 1 }, { 3, 17 }, { 7, 513 }, { 2, 1030 }, { 64, 64 },
};

/* Values no random draw reaches: signed zeros, limits, subnormals. */
static const double specials[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, 1e30, -1e30, 1e-40, -1e-40,
    88.0, 89.5, -87.0, -88.5, -104.5, -110.0, 20.0, -20.0, 3e-8, -5.0,
};
#define N_SPECIALS (sizeof(specials) / sizeof(specials[0]))

static LumenAct op_act(LumenEltwiseOp op)
{
    return op == LUMEN_ELT_GELU ? LUMEN_ACT_GELU :
           op == LUMEN_ELT_SILU ? LUMEN_ACT_SILU : LUMEN_ACT_NONE;
}

/* The reference value rounded once to t. */
static double round_to(LumenDtype t, double v)
{
    switch (t) {
    case LUMEN_DTYPE_F16:
        return ref_f16_value(ref_round_f16(v));
    case LUMEN_DTYPE_BF16:
        return ref_bf16_value(ref_round_bf16(v));
    default:
        return (float)v;
    }
}

/* How y aliases the inputs. */
enum { SEPARATE, Y_IS_X, Y_IS_B };

static int64_t run_case(LumenDtype t, LumenEltwiseOp op, int64_t rows,
                        int64_t cols, bool bcast, int alias, uint64_t seed)
{
    Rng rng = { seed };
    bool binary = op == LUMEN_ELT_ADD || op == LUMEN_ELT_MUL;
    double range = binary ? 4 : 12;
    int64_t ld = cols + (seed % 3) * 5, n = rows * cols;
    void *x = matrix_new(&rng, t, rows, cols, ld, -range, range, false);
    void *b = binary ? matrix_new(&rng, t, bcast ? 1 : rows, cols,
                                  bcast ? cols : ld, -range, range, false) :
              NULL;
    void *y = alias == Y_IS_X ? x : alias == Y_IS_B ? b :
              matrix_new(&rng, t, rows, cols, ld, 0, 0, false);
    double *ref = calloc(n, sizeof(double)), *tol = calloc(n, sizeof(double));
    LumenEltwise e = {
        .op = op, .type = t, .rows = rows, .cols = cols,
        .y = y, .ldy = ld, .x = x, .ldx = ld, .b = b, .ldb = ld,
        .broadcast_b = bcast,
    };
    int64_t bad;

    /* Sprinkle the special values over x (and b). */
    for (size_t i = 0; i < N_SPECIALS && i < (size_t)n; i++) {
        matrix_set((char *)x + (i * 7 % n / cols * ld + i * 7 % n % cols) *
                   dtype_size(t), t, 1, 1, 1, specials[i]);
    }
    ref_eltwise(&e, ref);
    for (int64_t i = 0; i < n; i++) {
        double xv = ref_elem(x, t, i / cols * ld + i % cols);

        if (op_act(op) == LUMEN_ACT_NONE) {
            ref[i] = round_to(t, ref[i]);       /* exact: tol 0 */
        } else {
            tol[i] = round_tol(t, act_tol(op_act(op), xv, ref[i]), ref[i]);
        }
    }
    if (lumen_eltwise(&e)) {
        bad = -1;
    } else {
        bad = compare("y", y, t, rows, cols, ld, ref, tol, 0);
        bad += !padding_intact(y, t, rows, cols, ld);
    }
    if (alias == SEPARATE) {
        free(y);
    }
    free(x);
    free(b);
    free(ref);
    free(tol);
    return bad;
}

TEST(every_op_type_and_shape)
{
    for (size_t t = 0; t < 3; t++) {
        for (int op = LUMEN_ELT_ADD; op <= LUMEN_ELT_SILU; op++) {
            for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
                uint64_t seed = t * 100 + op * 10 + s;

                EXPECT_EQ(0, run_case(types[t], op, shapes[s][0],
                                      shapes[s][1], false, SEPARATE, seed)) {
                    TH_LOG("type %d op %d shape %lldx%lld", types[t], op,
                           (long long)shapes[s][0], (long long)shapes[s][1]);
                }
            }
        }
    }
}

TEST(broadcast_row)
{
    for (size_t t = 0; t < 3; t++) {
        for (int op = LUMEN_ELT_ADD; op <= LUMEN_ELT_MUL; op++) {
            EXPECT_EQ(0, run_case(types[t], op, 9, 700, true, SEPARATE, 1));
            EXPECT_EQ(0, run_case(types[t], op, 5, 3, true, SEPARATE, 2));
        }
    }
}

TEST(in_place)
{
    for (size_t t = 0; t < 3; t++) {
        for (int op = LUMEN_ELT_ADD; op <= LUMEN_ELT_SILU; op++) {
            EXPECT_EQ(0, run_case(types[t], op, 6, 600, false, Y_IS_X, 3));
            if (op <= LUMEN_ELT_MUL) {
                EXPECT_EQ(0, run_case(types[t], op, 6, 600, false, Y_IS_B,
                                      4));
            }
        }
    }
}

/* Documented signs and specials, which compare() does not look at. */
TEST(signs_and_limits)
{
    float x[6] = { -0.0f, NAN, -INFINITY, INFINITY, -1e-45f, -200.0f };
    float y[6];
    LumenEltwise e = {
        .op = LUMEN_ELT_RELU, .type = LUMEN_DTYPE_F32, .rows = 1, .cols = 6,
        .y = y, .ldy = 6, .x = x, .ldx = 6,
    };

    ASSERT_EQ(0, lumen_eltwise(&e));
    EXPECT_TRUE(y[0] == 0 && signbit(y[0]));    /* -0 passes through */
    EXPECT_TRUE(isnan(y[1]));                   /* NaN passes through */
    EXPECT_TRUE(y[2] == 0 && !signbit(y[2]));
    EXPECT_EQ(INFINITY, y[3]);
    EXPECT_TRUE(y[4] == 0 && !signbit(y[4]));
    for (int op = LUMEN_ELT_GELU; op <= LUMEN_ELT_SILU; op++) {
        e.op = op;
        ASSERT_EQ(0, lumen_eltwise(&e));
        EXPECT_TRUE(y[0] == 0 && signbit(y[0]));
        EXPECT_TRUE(isnan(y[1]));
        EXPECT_TRUE(y[2] == 0 && signbit(y[2])); /* -Inf: the limit, -0 */
        EXPECT_EQ(INFINITY, y[3]);
        EXPECT_TRUE(y[5] == 0 && signbit(y[5]));
    }
}

TEST_HARNESS_MAIN
