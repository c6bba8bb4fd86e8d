/*
 * Lumen operators: conv2d, NCHW, as im2col + GEMM
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * For each image and group, output channel block Y_g (k/groups x p*q) is
 * W_g (k/groups x c/groups*r*s) times the im2col matrix of the group's
 * input channels (c/groups*r*s x p*q), whose column o holds the receptive
 * field of output pixel o, zero where it falls in the padding.  The GEMM
 * adds the bias per row (LUMEN_BIAS_COL) and fuses the activation, so all
 * the arithmetic (and its tolerance) is the GEMM's.  The im2col matrix is
 * built COL_FLOATS at a time, a slice of output pixels per GEMM; a 1x1,
 * stride 1, unpadded convolution needs none: its input already is that
 * matrix.
 */
#include <stdlib.h>

#include "ops-internal.h"

/* Bound on the im2col scratch (16 MiB), unless one column is larger. */
#define COL_FLOATS (4 << 20)

/* Largest size or step accepted: keeps every product below 2^62. */
#define MAX_PARAM INT32_MAX

static bool in_range(int64_t v, int64_t lo)
{
    return v >= lo && v <= MAX_PARAM;
}

/* Output extent of one spatial dimension, or 0 if there is none. */
static int64_t out_extent(int64_t in, int64_t kernel, int64_t stride,
                          int64_t pad, int64_t dil)
{
    int64_t span = in + 2 * pad - dil * (kernel - 1) - 1;

    return span < 0 ? 0 : span / stride + 1;
}

int lumen_conv2d_out_size(const LumenConv2d *cv, int64_t *p, int64_t *q)
{
    int64_t pp, qq;

    if (!cv || !p || !q) {
        return -EINVAL;
    }
    if (!in_range(cv->n, 1) || !in_range(cv->c, 1) || !in_range(cv->h, 1) ||
        !in_range(cv->w, 1) || !in_range(cv->k, 1) || !in_range(cv->r, 1) ||
        !in_range(cv->s, 1) || !in_range(cv->groups, 1) ||
        !in_range(cv->stride_h, 1) || !in_range(cv->stride_w, 1) ||
        !in_range(cv->pad_h, 0) || !in_range(cv->pad_w, 0) ||
        !in_range(cv->dil_h, 1) || !in_range(cv->dil_w, 1)) {
        return -EINVAL;
    }
    if (cv->c % cv->groups || cv->k % cv->groups) {
        return -EINVAL;
    }
    pp = out_extent(cv->h, cv->r, cv->stride_h, cv->pad_h, cv->dil_h);
    qq = out_extent(cv->w, cv->s, cv->stride_w, cv->pad_w, cv->dil_w);
    if (pp < 1 || qq < 1) {
        return -EINVAL;
    }
    *p = pp;
    *q = qq;
    return 0;
}

static int check_args(const LumenConv2d *cv, int64_t *p, int64_t *q)
{
    int64_t xn, wn, yn;
    int ret;

    ret = lumen_conv2d_out_size(cv, p, q);
    if (ret) {
        return ret;
    }
    ret = ops_check_dims((int64_t[]){ cv->n, cv->c, cv->h, cv->w }, 4,
                         sizeof(float), &xn);
    if (!ret) {
        ret = ops_check_dims((int64_t[]){ cv->k, cv->c / cv->groups, cv->r,
                                          cv->s }, 4, sizeof(float), &wn);
    }
    if (!ret) {
        ret = ops_check_dims((int64_t[]){ cv->n, cv->k, *p, *q }, 4,
                             sizeof(float), &yn);
    }
    if (!ret) {
        ret = ops_check_matrix(cv->x, 1, xn, xn, sizeof(float));
    }
    if (!ret) {
        ret = ops_check_matrix(cv->weight, 1, wn, wn, sizeof(float));
    }
    if (!ret) {
        ret = ops_check_matrix(cv->y, 1, yn, yn, sizeof(float));
    }
    if (!ret && cv->bias) {
        ret = ops_check_matrix(cv->bias, 1, cv->k, cv->k, sizeof(float));
    }
    if (!ret) {
        ret = ops_check_act(cv->act);
    }
    return ret;
}

/* ceil(a / b) for b > 0, and 0 for a <= 0. */
static int64_t ceil_div_pos(int64_t a, int64_t b)
{
    return a <= 0 ? 0 : (a + b - 1) / b;
}

/*
 * cols elements of one im2col row: output pixels o0 .. o0 + cols - 1 (q per
 * output row) seen through the kernel tap that reads input row iy(oy) and
 * column ox * stride_w + off.  Rather than test every element against the
 * padding, each output row's run is split into the zero columns on the
 * left, the columns inside the input (a plain copy when stride_w is 1),
 * and the zero columns on the right.
 */
static void im2col_row(float *dst, const LumenConv2d *cv, const float *plane,
                       int64_t q, int64_t o0, int64_t cols, int64_t ry,
                       int64_t off)
{
    /* Output columns whose input column lies in [0, w). */
    int64_t lo = ceil_div_pos(-off, cv->stride_w);
    int64_t hi = cv->w - 1 - off < 0 ? 0 : (cv->w - 1 - off) / cv->stride_w + 1;

    for (int64_t o = o0; o < o0 + cols;) {
        int64_t oy = o / q, ox0 = o % q;
        int64_t run = q - ox0 < o0 + cols - o ? q - ox0 : o0 + cols - o;
        int64_t iy = oy * cv->stride_h - cv->pad_h + ry * cv->dil_h;
        int64_t a = lo - ox0, b = hi - ox0;

        a = a < 0 ? 0 : a > run ? run : a;
        b = b < a ? a : b > run ? run : b;
        if (iy < 0 || iy >= cv->h) {
            a = b = run;                /* the whole run is padding */
        }
        for (int64_t j = 0; j < a; j++) {
            dst[j] = 0.0f;
        }
        if (a < b) {
            const float *src = plane + iy * cv->w + ox0 * cv->stride_w + off;

            for (int64_t j = a; j < b; j++) {
                dst[j] = src[j * cv->stride_w];
            }
        }
        for (int64_t j = b; j < run; j++) {
            dst[j] = 0.0f;
        }
        dst += run;
        o += run;
    }
}

/*
 * Rows (ci, ry, sx) of the im2col matrix of one group of one image, for
 * output pixels o0 .. o0 + cols - 1.
 */
static void im2col(float *col, const LumenConv2d *cv, const float *x,
                   int64_t q, int64_t o0, int64_t cols)
{
    int64_t cg = cv->c / cv->groups;

    for (int64_t ci = 0; ci < cg; ci++) {
        const float *plane = x + ci * cv->h * cv->w;

        for (int64_t ry = 0; ry < cv->r; ry++) {
            for (int64_t sx = 0; sx < cv->s; sx++) {
                im2col_row(col, cv, plane, q, o0, cols, ry,
                           sx * cv->dil_w - cv->pad_w);
                col += cols;
            }
        }
    }
}

int lumen_conv2d(const LumenConv2d *cv)
{
    int64_t p, q, cg, kg, crs, pq, slice;
    bool direct;
    float *col = NULL;
    int ret;

    ret = check_args(cv, &p, &q);
    if (ret) {
        return ret;
    }
    cg = cv->c / cv->groups;
    kg = cv->k / cv->groups;
    crs = cg * cv->r * cv->s;
    pq = p * q;
    direct = cv->r == 1 && cv->s == 1 && cv->stride_h == 1 &&
             cv->stride_w == 1 && cv->pad_h == 0 && cv->pad_w == 0;
    slice = direct ? pq : COL_FLOATS / crs;
    slice = slice < 1 ? 1 : slice > pq ? pq : slice;
    if (!direct) {
        col = malloc(crs * slice * sizeof(float));
        if (!col) {
            return -ENOMEM;
        }
    }
    for (int64_t img = 0; img < cv->n && !ret; img++) {
        for (int64_t g = 0; g < cv->groups && !ret; g++) {
            const float *x = cv->x + (img * cv->c + g * cg) * cv->h * cv->w;
            float *y = cv->y + (img * cv->k + g * kg) * pq;

            for (int64_t o0 = 0; o0 < pq && !ret; o0 += slice) {
                int64_t cols = pq - o0 < slice ? pq - o0 : slice;
                LumenGemm gm = {
                    .type = LUMEN_DTYPE_F32, .c_type = LUMEN_DTYPE_F32,
                    .m = kg, .n = cols, .k = crs,
                    .a = cv->weight + g * kg * crs, .lda = crs,
                    .b = direct ? x + o0 : col, .ldb = direct ? pq : cols,
                    .c = y + o0, .ldc = pq,
                    .bias_kind = cv->bias ? LUMEN_BIAS_COL : LUMEN_BIAS_NONE,
                    .bias = cv->bias ? cv->bias + g * kg : NULL,
                    .act = cv->act, .alpha = 1.0f, .beta = 0.0f,
                    .isa = cv->isa,
                };

                if (!direct) {
                    im2col(col, cv, x, q, o0, cols);
                }
                ret = lumen_gemm(&gm);
            }
        }
    }
    free(col);
    return ret;
}
