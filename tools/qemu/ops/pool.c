/*
 * Lumen operators: max and average pooling, NCHW
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each window is clipped to the input, so padding never contributes: max
 * sees only real elements, and avg divides by how many there are
 * (count_include_pad = false, as ONNX's default).  The average is summed in
 * double and rounded once.
 */
#include <math.h>

#include "ops-internal.h"

#define MAX_PARAM INT32_MAX

static bool in_range(int64_t v, int64_t lo)
{
    return v >= lo && v <= MAX_PARAM;
}

int lumen_pool2d_out_size(const LumenPool2d *pl, int64_t *p, int64_t *q)
{
    if (!pl || !p || !q) {
        return -EINVAL;
    }
    if (!in_range(pl->n, 1) || !in_range(pl->c, 1) || !in_range(pl->h, 1) ||
        !in_range(pl->w, 1) || !in_range(pl->r, 1) || !in_range(pl->s, 1) ||
        !in_range(pl->stride_h, 1) || !in_range(pl->stride_w, 1) ||
        !in_range(pl->pad_h, 0) || !in_range(pl->pad_w, 0)) {
        return -EINVAL;
    }
    /* A window wholly in the padding would have nothing to pool. */
    if (pl->pad_h >= pl->r || pl->pad_w >= pl->s) {
        return -EINVAL;
    }
    if (pl->h + 2 * pl->pad_h < pl->r || pl->w + 2 * pl->pad_w < pl->s) {
        return -EINVAL;
    }
    *p = (pl->h + 2 * pl->pad_h - pl->r) / pl->stride_h + 1;
    *q = (pl->w + 2 * pl->pad_w - pl->s) / pl->stride_w + 1;
    return 0;
}

static int check_args(const LumenPool2d *pl, int64_t *p, int64_t *q)
{
    int64_t xn, yn;
    int ret;

    ret = lumen_pool2d_out_size(pl, p, q);
    if (ret) {
        return ret;
    }
    if (pl->op != LUMEN_POOL_MAX && pl->op != LUMEN_POOL_AVG) {
        return -EINVAL;
    }
    ret = ops_check_dims((int64_t[]){ pl->n, pl->c, pl->h, pl->w }, 4,
                         sizeof(float), &xn);
    if (!ret) {
        ret = ops_check_dims((int64_t[]){ pl->n, pl->c, *p, *q }, 4,
                             sizeof(float), &yn);
    }
    if (!ret) {
        ret = ops_check_matrix(pl->x, 1, xn, xn, sizeof(float));
    }
    if (!ret) {
        ret = ops_check_matrix(pl->y, 1, yn, yn, sizeof(float));
    }
    return ret;
}

/*
 * The max over rows y0..y1-1, columns x0..x1-1 of plane (width w).  Kept
 * free of data-dependent branches (a NaN is noted apart, and the
 * comparison is a maxss), which random data would mispredict half the time.
 * Ties keep the first element (+0 vs -0).
 */
static float window_max(const float *plane, int64_t w, int64_t y0, int64_t y1,
                        int64_t x0, int64_t x1)
{
    float m = plane[y0 * w + x0];
    bool nan = false;

    for (int64_t iy = y0; iy < y1; iy++) {
        for (int64_t ix = x0; ix < x1; ix++) {
            float v = plane[iy * w + ix];

            nan |= v != v;
            m = v > m ? v : m;
        }
    }
    return nan ? NAN : m;
}

static float window_avg(const float *plane, int64_t w, int64_t y0, int64_t y1,
                        int64_t x0, int64_t x1)
{
    double sum = 0;

    for (int64_t iy = y0; iy < y1; iy++) {
        for (int64_t ix = x0; ix < x1; ix++) {
            sum += plane[iy * w + ix];
        }
    }
    return (float)(sum / ((y1 - y0) * (x1 - x0)));
}

static int64_t clip(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int lumen_pool2d(const LumenPool2d *pl)
{
    int64_t p, q;
    int ret;

    ret = check_args(pl, &p, &q);
    if (ret) {
        return ret;
    }
    for (int64_t plane = 0; plane < pl->n * pl->c; plane++) {
        const float *x = pl->x + plane * pl->h * pl->w;
        float *y = pl->y + plane * p * q;

        for (int64_t oy = 0; oy < p; oy++) {
            int64_t top = oy * pl->stride_h - pl->pad_h;
            int64_t y0 = clip(top, 0, pl->h), y1 = clip(top + pl->r, 0, pl->h);

            for (int64_t ox = 0; ox < q; ox++) {
                int64_t left = ox * pl->stride_w - pl->pad_w;
                int64_t x0 = clip(left, 0, pl->w);
                int64_t x1 = clip(left + pl->s, 0, pl->w);

                y[oy * q + ox] = pl->op == LUMEN_POOL_MAX ?
                                 window_max(x, pl->w, y0, y1, x0, x1) :
                                 window_avg(x, pl->w, y0, y1, x0, x1);
            }
        }
    }
    return 0;
}
