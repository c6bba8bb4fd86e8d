/*
 * Lumen operators: layer norm and RMS norm over rows
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The statistics are computed in double, the variance in two passes
 * (sum of squared deviations from the mean, not E[x^2] - E[x]^2, which
 * cancels catastrophically when |mean| >> stddev), and the normalised value
 * is formed in double and rounded once to f32 before gamma and beta.
 */
#include <math.h>

#include "ops-internal.h"

/* Sums in eight double lanes, in a fixed order on every ISA. */
OPS_CLONES
static double norm_row_sum(const float *x, int64_t n, double shift,
                           bool square)
{
    double lane[8] = { 0 };
    double sum = 0;
    int64_t i = 0;

    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            double d = x[i + l] - shift;

            lane[l] += square ? d * d : d;
        }
    }
    for (int l = 0; l < 8; l++) {
        sum += lane[l];
    }
    for (; i < n; i++) {
        double d = x[i] - shift;

        sum += square ? d * d : d;
    }
    return sum;
}

/* y = (float)((x - shift) * scale), then * gamma, then + beta. */
OPS_CLONES
static void norm_row_normalise(float *y, const float *x, int64_t n,
                               double shift, double scale,
                               const float *gamma, const float *beta)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = (float)((x[i] - shift) * scale);
    }
    if (gamma) {
        for (int64_t i = 0; i < n; i++) {
            y[i] *= gamma[i];
        }
    }
    if (beta) {
        for (int64_t i = 0; i < n; i++) {
            y[i] += beta[i];
        }
    }
}

static int check_args(const LumenRows *r, bool rms)
{
    int ret;

    ret = ops_check_matrix(r->y, r->rows, r->cols, r->ldy, sizeof(float));
    if (!ret) {
        ret = ops_check_matrix(r->x, r->rows, r->cols, r->ldx, sizeof(float));
    }
    if (!ret && r->gamma) {
        ret = ops_check_matrix(r->gamma, 1, r->cols, r->cols, sizeof(float));
    }
    if (!ret && r->beta) {
        ret = rms ? -EINVAL :
              ops_check_matrix(r->beta, 1, r->cols, r->cols, sizeof(float));
    }
    if (!ret && !(r->eps >= 0 && r->eps < INFINITY)) {
        ret = -EINVAL;          /* negative, infinite or NaN */
    }
    return ret;
}

int lumen_layer_norm(const LumenRows *r)
{
    int ret;

    if (!r) {
        return -EINVAL;
    }
    ret = check_args(r, false);
    if (ret) {
        return ret;
    }
    for (int64_t i = 0; i < r->rows; i++) {
        const float *x = r->x + i * r->ldx;
        double mean = norm_row_sum(x, r->cols, 0, false) / r->cols;
        double var = norm_row_sum(x, r->cols, mean, true) / r->cols;

        norm_row_normalise(r->y + i * r->ldy, x, r->cols, mean,
                           1 / sqrt(var + r->eps), r->gamma, r->beta);
    }
    return 0;
}

int lumen_rms_norm(const LumenRows *r)
{
    int ret;

    if (!r) {
        return -EINVAL;
    }
    ret = check_args(r, true);
    if (ret) {
        return ret;
    }
    for (int64_t i = 0; i < r->rows; i++) {
        const float *x = r->x + i * r->ldx;
        double ms = norm_row_sum(x, r->cols, 0, true) / r->cols;

        norm_row_normalise(r->y + i * r->ldy, x, r->cols, 0,
                           1 / sqrt(ms + r->eps), r->gamma, NULL);
    }
    return 0;
}
