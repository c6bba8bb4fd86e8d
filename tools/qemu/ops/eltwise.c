/*
 * Lumen operators: element-wise add, mul and activations
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * f16 and bf16 rows are converted to f32 in chunks on the stack, computed
 * in f32 and rounded once on the way out, so every type shares the f32
 * loops and no call allocates.
 */
#include "ops-internal.h"

/* Elements per chunk of a 16-bit row: 3 x 2 KiB of stack. */
#define CHUNK 512

static bool is_binary(LumenEltwiseOp op)
{
    return op == LUMEN_ELT_ADD || op == LUMEN_ELT_MUL;
}

static int check_args(const LumenEltwise *e)
{
    size_t es;
    int ret;

    switch (e->op) {
    case LUMEN_ELT_ADD:
    case LUMEN_ELT_MUL:
    case LUMEN_ELT_RELU:
    case LUMEN_ELT_GELU:
    case LUMEN_ELT_SILU:
        break;
    default:
        return -EINVAL;
    }
    if (e->type != LUMEN_DTYPE_F32 && e->type != LUMEN_DTYPE_F16 &&
        e->type != LUMEN_DTYPE_BF16) {
        return -EINVAL;
    }
    es = ops_dtype_size(e->type);
    ret = ops_check_matrix(e->y, e->rows, e->cols, e->ldy, es);
    if (ret) {
        return ret;
    }
    ret = ops_check_matrix(e->x, e->rows, e->cols, e->ldx, es);
    if (ret) {
        return ret;
    }
    if (!is_binary(e->op)) {
        return e->b || e->broadcast_b ? -EINVAL : 0;
    }
    if (e->broadcast_b) {
        return ops_check_matrix(e->b, 1, e->cols, e->cols, es);
    }
    return ops_check_matrix(e->b, e->rows, e->cols, e->ldb, es);
}

/* y may be x or b: every element is read before it is written. */
OPS_CLONES
static void eltwise_add_f32(float *y, const float *x, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = x[i] + b[i];
    }
}

OPS_CLONES
static void eltwise_mul_f32(float *y, const float *x, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = x[i] * b[i];
    }
}

static void row_f32(LumenEltwiseOp op, float *y, const float *x,
                    const float *b, int64_t n)
{
    switch (op) {
    case LUMEN_ELT_ADD:
        eltwise_add_f32(y, x, b, n);
        break;
    case LUMEN_ELT_MUL:
        eltwise_mul_f32(y, x, b, n);
        break;
    case LUMEN_ELT_RELU:
        ops_activate_f32(y, x, n, LUMEN_ACT_RELU);
        break;
    case LUMEN_ELT_GELU:
        ops_activate_f32(y, x, n, LUMEN_ACT_GELU);
        break;
    case LUMEN_ELT_SILU:
        ops_activate_f32(y, x, n, LUMEN_ACT_SILU);
        break;
    }
}

/* One row of a 16-bit operator, CHUNK elements at a time. */
static void row_16(const LumenEltwise *e, void *y, const void *x,
                   const void *b)
{
    float xf[CHUNK], bf[CHUNK], yf[CHUNK];

    for (int64_t j = 0; j < e->cols; j += CHUNK) {
        int64_t n = e->cols - j < CHUNK ? e->cols - j : CHUNK;
        const float *xs = ops_load_f32((const uint16_t *)x + j, e->type, n,
                                       xf);
        const float *bs = b ? ops_load_f32((const uint16_t *)b + j, e->type,
                                           n, bf) : NULL;

        row_f32(e->op, yf, xs, bs, n);
        ops_store_f32((uint16_t *)y + j, e->type, yf, n);
    }
}

int lumen_eltwise(const LumenEltwise *e)
{
    size_t es;
    int ret;

    if (!e) {
        return -EINVAL;
    }
    ret = check_args(e);
    if (ret) {
        return ret;
    }
    es = ops_dtype_size(e->type);
    for (int64_t i = 0; i < e->rows; i++) {
        void *y = (char *)e->y + i * e->ldy * es;
        const void *x = (const char *)e->x + i * e->ldx * es;
        const void *b = NULL;

        if (is_binary(e->op)) {
            b = (const char *)e->b + (e->broadcast_b ? 0 : i * e->ldb * es);
        }
        if (e->type == LUMEN_DTYPE_F32) {
            row_f32(e->op, y, x, b, e->cols);
        } else {
            row_16(e, y, x, b);
        }
    }
    return 0;
}
