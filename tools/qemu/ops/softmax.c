/*
 * Lumen operators: softmax over rows
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Numerically stable: the row's maximum is subtracted before exp, so no
 * exp overflows and the largest term is exactly 1.  The sum of the exps is
 * accumulated in double (in eight lanes, a fixed order independent of the
 * ISA), so its error does not grow with the row length.
 */
#include "ops-math.h"

/*
 * In eight independent lanes, so that the loop is not one long chain of
 * dependent comparisons (the compiler may not reorder a running max by
 * itself, because of NaN and signed zeros).  A NaN never wins; which of +0
 * and -0 wins changes no exp(x - m).
 */
OPS_CLONES
static float softmax_row_max(const float *x, int64_t n)
{
    float lane[8], m = -INFINITY;
    int64_t i = 0;

    for (int l = 0; l < 8; l++) {
        lane[l] = -INFINITY;
    }
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
        }
    }
    for (; i < n; i++) {
        m = x[i] > m ? x[i] : m;
    }
    for (int l = 0; l < 8; l++) {
        m = lane[l] > m ? lane[l] : m;
    }
    return m;
}

OPS_CLONES
static void softmax_row_exp(float *y, const float *x, float m, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = ops_expf(x[i] - m);
    }
}

OPS_CLONES
static double softmax_row_sum(const float *y, int64_t n)
{
    double lane[8] = { 0 };
    double sum = 0;
    int64_t i = 0;

    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            lane[l] += y[i + l];
        }
    }
    for (int l = 0; l < 8; l++) {
        sum += lane[l];
    }
    for (; i < n; i++) {
        sum += y[i];
    }
    return sum;
}

OPS_CLONES
static void softmax_row_scale(float *y, float s, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] *= s;
    }
}

int lumen_softmax(const LumenRows *r)
{
    int ret;

    if (!r) {
        return -EINVAL;
    }
    ret = ops_check_matrix(r->y, r->rows, r->cols, r->ldy, sizeof(float));
    if (!ret) {
        ret = ops_check_matrix(r->x, r->rows, r->cols, r->ldx, sizeof(float));
    }
    if (ret) {
        return ret;
    }
    if (r->gamma || r->beta) {
        return -EINVAL;
    }
    for (int64_t i = 0; i < r->rows; i++) {
        const float *x = r->x + i * r->ldx;
        float *y = r->y + i * r->ldy;
        float m;
        double sum;

        /*
         * A NaN never wins the comparison in softmax_row_max(), but
         * exp(NaN - m) carries it into the sum, so a row holding a NaN (or
         * +Inf, since Inf - Inf is NaN) comes out all NaN.
         */
        m = softmax_row_max(x, r->cols);
        softmax_row_exp(y, x, m, r->cols);
        sum = softmax_row_sum(y, r->cols);
        softmax_row_scale(y, (float)(1.0 / sum), r->cols);
    }
    return 0;
}
