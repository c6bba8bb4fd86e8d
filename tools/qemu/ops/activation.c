/*
 * Lumen operators: activations over a row, shared by GEMM, conv2d and the
 * element-wise operator
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One loop per activation rather than a switch per element, so that each
 * loop vectorises.
 */
#include "ops-math.h"

OPS_CLONES
static void activation_apply(float *y, const float *x, int64_t n, LumenAct act)
{
    switch (act) {
    case LUMEN_ACT_NONE:
        if (y != x) {
            memmove(y, x, n * sizeof(*y));
        }
        break;
    case LUMEN_ACT_RELU:
        for (int64_t i = 0; i < n; i++) {
            y[i] = ops_relu(x[i]);
        }
        break;
    case LUMEN_ACT_GELU:
        for (int64_t i = 0; i < n; i++) {
            y[i] = ops_gelu(x[i]);
        }
        break;
    case LUMEN_ACT_SILU:
        for (int64_t i = 0; i < n; i++) {
            y[i] = ops_silu(x[i]);
        }
        break;
    }
}

void ops_activate_f32(float *y, const float *x, int64_t n, LumenAct act)
{
    activation_apply(y, x, n, act);
}

/* ReLU is the only activation int32 GEMM results may take. */
void ops_relu_i32(int32_t *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = y[i] < 0 ? 0 : y[i];
    }
}
