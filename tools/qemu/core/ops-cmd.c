/*
 * Lumen device: operator commands (GEMM, element-wise, softmax, norms,
 * conv2d, pooling)
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An operator command points at a 128-byte descriptor.  Its checks come in
 * this order, after the command's own (exec.c):
 *   1. descriptor address 8-aligned                      else ALIGN
 *   2. the descriptor is read                            DMA, MMU_FAULT...
 *   3. mode bits, types, sizes, unused words             else BAD_DESC
 *   4. operand extents and work within the limits        else TOO_LARGE
 *   5. inputs gathered into host buffers, in descriptor order
 *   6. the operator library computes (its -EINVAL is BAD_DESC)
 *   7. outputs written back, row by row
 * Nothing is written before step 7, so a bad descriptor or a fault while
 * reading leaves memory as it was.
 */

#include <errno.h>
#include <stdlib.h>

#include "lumen-ops.h"
#include "operand.h"

/* Largest size word accepted for any dimension. */
#define LUMEN_DIM_MAX       0x7fffffffull

typedef struct LumenDesc {
    uint64_t w[LUMEN_DESC_WORDS];
} LumenDesc;

bool lumen_opcode_is_operator(uint8_t opcode)
{
    return opcode >= LUMEN_OP_GEMM && opcode <= LUMEN_OP_POOL2D;
}

/* Are words @first .. 15 zero? */
static bool lumen_desc_zero_from(const LumenDesc *d, unsigned first)
{
    for (unsigned i = first; i < LUMEN_DESC_WORDS; i++) {
        if (d->w[i]) {
            return false;
        }
    }
    return true;
}

static bool lumen_dim_ok(uint64_t v)
{
    return v >= 1 && v <= LUMEN_DIM_MAX;
}

static float lumen_f32_from_bits(uint32_t bits)
{
    float f;

    memcpy(&f, &bits, sizeof(f));
    return f;
}

/* Element size of a LUMEN_HW_DTYPE_*, 0 if unknown. */
static unsigned lumen_dtype_size(uint64_t type)
{
    switch (type) {
    case LUMEN_HW_DTYPE_F32:
    case LUMEN_HW_DTYPE_I32:
        return 4;
    case LUMEN_HW_DTYPE_F16:
    case LUMEN_HW_DTYPE_BF16:
        return 2;
    case LUMEN_HW_DTYPE_I8:
        return 1;
    }
    return 0;
}

/* a * b * c ... <= LUMEN_CORE_OP_MAX_MACS, without overflow. */
static bool lumen_work_ok(const uint64_t *f, unsigned n)
{
    uint64_t w = 1;

    for (unsigned i = 0; i < n; i++) {
        if (__builtin_mul_overflow(w, f[i], &w) ||
            w > LUMEN_CORE_OP_MAX_MACS) {
            return false;
        }
    }
    return true;
}

/* The product of @n factors, UINT64_MAX if it overflows (then too large). */
static uint64_t lumen_product(const uint64_t *f, unsigned n)
{
    uint64_t p = 1;

    for (unsigned i = 0; i < n; i++) {
        if (__builtin_mul_overflow(p, f[i], &p)) {
            return UINT64_MAX;
        }
    }
    return p;
}

static uint32_t lumen_ops_errno(int ret)
{
    switch (ret) {
    case 0:
        return LUMEN_ERR_NONE;
    case -ENOMEM:
    case -EOVERFLOW:
        return LUMEN_ERR_TOO_LARGE;
    default:
        return LUMEN_ERR_BAD_DESC;
    }
}

/*
 * Steps 4 to 7 for every operator: allocate, gather the operands marked
 * in @inputs (a bit per operand index), compute, write back @outputs.
 */
typedef int (*LumenCompute)(LumenOperands *ops, const void *args);

static uint32_t lumen_op_run(LumenExec *x, unsigned ctx, LumenOperands *ops,
                             unsigned inputs, unsigned outputs,
                             LumenCompute compute, const void *args)
{
    uint32_t err = lumen_operands_alloc(ops);

    for (unsigned i = 0; err == LUMEN_ERR_NONE && i < ops->n; i++) {
        if (inputs & (1u << i)) {
            err = lumen_operand_gather(x, ctx, &ops->o[i]);
        }
    }
    if (err == LUMEN_ERR_NONE) {
        err = lumen_ops_errno(compute(ops, args));
    }
    if (err == LUMEN_ERR_NONE && lumen_exec_cancelled(x)) {
        err = LUMEN_STEP_CANCELLED;
    }
    for (unsigned i = 0; err == LUMEN_ERR_NONE && i < ops->n; i++) {
        if (outputs & (1u << i)) {
            err = lumen_operand_scatter(x, ctx, &ops->o[i]);
        }
    }
    lumen_operands_free(ops);
    return err;
}

/* ---- GEMM ---------------------------------------------------------------- */

enum { GEMM_A, GEMM_B, GEMM_C, GEMM_BIAS };

static int lumen_gemm_compute(LumenOperands *ops, const void *args)
{
    LumenGemm g = *(const LumenGemm *)args;

    g.a = ops->o[GEMM_A].buf;
    g.b = ops->o[GEMM_B].buf;
    g.c = ops->o[GEMM_C].buf;
    g.bias = ops->o[GEMM_BIAS].buf;
    return lumen_gemm(&g);
}

/* Is (type of A and B, type of C) a combination GEMM supports? */
static bool lumen_gemm_types_ok(uint64_t type, uint64_t c_type)
{
    switch (type) {
    case LUMEN_HW_DTYPE_F32:
        return c_type == LUMEN_HW_DTYPE_F32;
    case LUMEN_HW_DTYPE_F16:
    case LUMEN_HW_DTYPE_BF16:
        return c_type == type || c_type == LUMEN_HW_DTYPE_F32;
    case LUMEN_HW_DTYPE_I8:
        return c_type == LUMEN_HW_DTYPE_I32;
    }
    return false;
}

static uint32_t lumen_op_gemm(LumenExec *x, unsigned ctx, const LumenDesc *d)
{
    uint64_t mode = d->w[LUMEN_GEMM_W_MODE];
    uint64_t m = d->w[LUMEN_GEMM_W_M], n = d->w[LUMEN_GEMM_W_N];
    uint64_t k = d->w[LUMEN_GEMM_W_K];
    uint64_t lda = d->w[LUMEN_GEMM_W_LDA], ldb = d->w[LUMEN_GEMM_W_LDB];
    uint64_t ldc = d->w[LUMEN_GEMM_W_LDC], bias = d->w[LUMEN_GEMM_W_BIAS];
    uint64_t scale = d->w[LUMEN_GEMM_W_SCALE];
    uint64_t type = LUMEN_GEMM_TYPE(mode), c_type = LUMEN_GEMM_C_TYPE(mode);
    uint64_t bias_kind = LUMEN_GEMM_BIAS(mode);
    bool ta = mode & LUMEN_GEMM_TRANS_A, tb = mode & LUMEN_GEMM_TRANS_B;
    unsigned es = lumen_dtype_size(type), ces = lumen_dtype_size(c_type);
    LumenOperands ops = { .n = 0 };
    bool read_c;
    LumenGemm g;

    if ((mode & ~LUMEN_GEMM_MODE_MASK) || !lumen_gemm_types_ok(type, c_type) ||
        bias_kind > LUMEN_BIAS_COL || LUMEN_GEMM_ACT(mode) > LUMEN_ACT_SILU ||
        !lumen_desc_zero_from(d, LUMEN_GEMM_W_SCALE + 1)) {
        return LUMEN_ERR_BAD_DESC;
    }
    if (!lumen_dim_ok(m) || !lumen_dim_ok(n) || !lumen_dim_ok(k) ||
        lda < (ta ? m : k) || ldb < (tb ? k : n) || ldc < n ||
        (bias_kind == LUMEN_BIAS_NONE) != (bias == 0)) {
        return LUMEN_ERR_BAD_DESC;
    }
    g = (LumenGemm) {
        .type = type, .c_type = c_type, .trans_a = ta, .trans_b = tb,
        .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc,
        .bias_kind = bias_kind, .act = LUMEN_GEMM_ACT(mode),
        .isa = LUMEN_ISA_AUTO,
    };
    if (type == LUMEN_HW_DTYPE_I8) {
        g.ialpha = (int32_t)(uint32_t)scale;
        g.ibeta = (int32_t)(uint32_t)(scale >> 32);
        read_c = g.ibeta != 0;
    } else {
        g.alpha = lumen_f32_from_bits(scale);
        g.beta = lumen_f32_from_bits(scale >> 32);
        read_c = g.beta != 0.0f;    /* a NaN beta reads C too */
    }
    if (!lumen_work_ok((uint64_t[]) { m, n, k }, 3)) {
        return LUMEN_ERR_TOO_LARGE;
    }

    lumen_operand_matrix(&ops, d->w[LUMEN_GEMM_W_A], ta ? k : m, ta ? m : k,
                         lda, es);
    lumen_operand_matrix(&ops, d->w[LUMEN_GEMM_W_B], tb ? n : k, tb ? k : n,
                         ldb, es);
    lumen_operand_matrix(&ops, d->w[LUMEN_GEMM_W_C], m, n, ldc, ces);
    lumen_operand_dense(&ops, bias, bias_kind == LUMEN_BIAS_COL ? m : n, ces,
                        bias_kind != LUMEN_BIAS_NONE);
    /* The host copies are compact. */
    g.lda = ops.o[GEMM_A].cols;
    g.ldb = ops.o[GEMM_B].cols;
    g.ldc = n;
    return lumen_op_run(x, ctx, &ops,
                        1u << GEMM_A | 1u << GEMM_B | 1u << GEMM_BIAS |
                        (read_c ? 1u << GEMM_C : 0), 1u << GEMM_C,
                        lumen_gemm_compute, &g);
}

/* ---- Element-wise -------------------------------------------------------- */

enum { ELT_Y, ELT_X, ELT_B };

static int lumen_eltwise_compute(LumenOperands *ops, const void *args)
{
    LumenEltwise e = *(const LumenEltwise *)args;

    e.y = ops->o[ELT_Y].buf;
    e.x = ops->o[ELT_X].buf;
    e.b = ops->o[ELT_B].buf;
    return lumen_eltwise(&e);
}

static uint32_t lumen_op_eltwise(LumenExec *x, unsigned ctx,
                                 const LumenDesc *d)
{
    uint64_t mode = d->w[LUMEN_ELT_W_MODE];
    uint64_t op = LUMEN_ELT_OP(mode), type = LUMEN_ELT_TYPE(mode);
    bool bcast = mode & LUMEN_ELT_BROADCAST;
    bool binary = op == LUMEN_ELT_ADD || op == LUMEN_ELT_MUL;
    uint64_t rows = d->w[LUMEN_ELT_W_ROWS], cols = d->w[LUMEN_ELT_W_COLS];
    uint64_t ldy = d->w[LUMEN_ELT_W_LDY], ldx = d->w[LUMEN_ELT_W_LDX];
    uint64_t b = d->w[LUMEN_ELT_W_B], ldb = d->w[LUMEN_ELT_W_LDB];
    unsigned es = lumen_dtype_size(type);
    LumenOperands ops = { .n = 0 };
    LumenEltwise e;

    if ((mode & ~LUMEN_ELT_MODE_MASK) || op < LUMEN_ELT_ADD ||
        op > LUMEN_ELT_SILU || (type != LUMEN_HW_DTYPE_F32 &&
        type != LUMEN_HW_DTYPE_F16 && type != LUMEN_HW_DTYPE_BF16) ||
        !lumen_desc_zero_from(d, LUMEN_ELT_W_LDB + 1)) {
        return LUMEN_ERR_BAD_DESC;
    }
    if (!lumen_dim_ok(rows) || !lumen_dim_ok(cols) || ldy < cols ||
        ldx < cols) {
        return LUMEN_ERR_BAD_DESC;
    }
    /* b and ldb: unused by unary ops, ldb unused with a broadcast row. */
    if (binary ? (bcast ? ldb != 0 : ldb < cols)
               : (bcast || b != 0 || ldb != 0)) {
        return LUMEN_ERR_BAD_DESC;
    }
    e = (LumenEltwise) {
        .op = op, .type = type, .rows = rows, .cols = cols,
        .ldy = cols, .ldx = cols, .ldb = cols, .broadcast_b = bcast,
    };
    lumen_operand_matrix(&ops, d->w[LUMEN_ELT_W_Y], rows, cols, ldy, es);
    lumen_operand_matrix(&ops, d->w[LUMEN_ELT_W_X], rows, cols, ldx, es);
    if (bcast) {
        lumen_operand_dense(&ops, b, cols, es, true);
    } else {
        lumen_operand_matrix(&ops, b, rows, cols, ldb, es);
        ops.o[ELT_B].present = binary;
    }
    return lumen_op_run(x, ctx, &ops, 1u << ELT_X | 1u << ELT_B, 1u << ELT_Y,
                        lumen_eltwise_compute, &e);
}

/* ---- Softmax, layer norm, RMS norm --------------------------------------- */

enum { ROWS_Y, ROWS_X, ROWS_GAMMA, ROWS_BETA };

typedef struct LumenRowsArgs {
    LumenRows r;
    int (*fn)(const LumenRows *r);
} LumenRowsArgs;

static int lumen_rows_compute(LumenOperands *ops, const void *args)
{
    const LumenRowsArgs *a = args;
    LumenRows r = a->r;

    r.y = ops->o[ROWS_Y].buf;
    r.x = ops->o[ROWS_X].buf;
    r.gamma = ops->o[ROWS_GAMMA].buf;
    r.beta = ops->o[ROWS_BETA].buf;
    return a->fn(&r);
}

static uint32_t lumen_op_rows(LumenExec *x, unsigned ctx, const LumenDesc *d,
                              uint8_t opcode)
{
    uint64_t rows = d->w[LUMEN_ROWS_W_ROWS], cols = d->w[LUMEN_ROWS_W_COLS];
    uint64_t ldy = d->w[LUMEN_ROWS_W_LDY], ldx = d->w[LUMEN_ROWS_W_LDX];
    uint64_t gamma = d->w[LUMEN_ROWS_W_GAMMA], beta = d->w[LUMEN_ROWS_W_BETA];
    uint64_t eps = d->w[LUMEN_ROWS_W_EPS];
    bool norm = opcode != LUMEN_OP_SOFTMAX;
    LumenOperands ops = { .n = 0 };
    LumenRowsArgs a;

    if (d->w[LUMEN_ROWS_W_MODE] ||
        !lumen_desc_zero_from(d, LUMEN_ROWS_W_EPS + 1) || (eps >> 32) ||
        (!norm && (gamma || eps)) || (opcode != LUMEN_OP_LAYER_NORM && beta)) {
        return LUMEN_ERR_BAD_DESC;
    }
    if (!lumen_dim_ok(rows) || !lumen_dim_ok(cols) || ldy < cols ||
        ldx < cols) {
        return LUMEN_ERR_BAD_DESC;
    }
    a = (LumenRowsArgs) {
        .r = {
            .rows = rows, .cols = cols, .ldy = cols, .ldx = cols,
            .eps = lumen_f32_from_bits(eps),
        },
        .fn = opcode == LUMEN_OP_SOFTMAX ? lumen_softmax :
              opcode == LUMEN_OP_LAYER_NORM ? lumen_layer_norm :
              lumen_rms_norm,
    };
    lumen_operand_matrix(&ops, d->w[LUMEN_ROWS_W_Y], rows, cols, ldy, 4);
    lumen_operand_matrix(&ops, d->w[LUMEN_ROWS_W_X], rows, cols, ldx, 4);
    lumen_operand_dense(&ops, gamma, cols, 4, gamma != 0);
    lumen_operand_dense(&ops, beta, cols, 4, beta != 0);
    return lumen_op_run(x, ctx, &ops,
                        1u << ROWS_X | 1u << ROWS_GAMMA | 1u << ROWS_BETA,
                        1u << ROWS_Y, lumen_rows_compute, &a);
}

/* ---- conv2d -------------------------------------------------------------- */

enum { CONV_X, CONV_W, CONV_BIAS, CONV_Y };

static int lumen_conv_compute(LumenOperands *ops, const void *args)
{
    LumenConv2d cv = *(const LumenConv2d *)args;

    cv.x = ops->o[CONV_X].buf;
    cv.weight = ops->o[CONV_W].buf;
    cv.bias = ops->o[CONV_BIAS].buf;
    cv.y = ops->o[CONV_Y].buf;
    return lumen_conv2d(&cv);
}

/* The halves of a LUMEN_PAIR word, each within [lo, LUMEN_DIM_MAX]. */
static bool lumen_pair(uint64_t w, uint64_t lo, int64_t *h, int64_t *wd)
{
    uint64_t a = w & 0xffffffffu, b = w >> 32;

    *h = a;
    *wd = b;
    return a >= lo && a <= LUMEN_DIM_MAX && b >= lo && b <= LUMEN_DIM_MAX;
}

static uint32_t lumen_op_conv2d(LumenExec *x, unsigned ctx,
                                const LumenDesc *d)
{
    uint64_t mode = d->w[LUMEN_CONV_W_MODE], bias = d->w[LUMEN_CONV_W_BIAS];
    LumenOperands ops = { .n = 0 };
    int64_t p, q;
    LumenConv2d cv;
    int ret;

    for (unsigned i = LUMEN_CONV_W_N; i <= LUMEN_CONV_W_GROUPS; i++) {
        if (!lumen_dim_ok(d->w[i])) {
            return LUMEN_ERR_BAD_DESC;
        }
    }
    cv = (LumenConv2d) {
        .n = d->w[LUMEN_CONV_W_N], .c = d->w[LUMEN_CONV_W_C],
        .h = d->w[LUMEN_CONV_W_H], .w = d->w[LUMEN_CONV_W_W],
        .k = d->w[LUMEN_CONV_W_K], .r = d->w[LUMEN_CONV_W_R],
        .s = d->w[LUMEN_CONV_W_S], .groups = d->w[LUMEN_CONV_W_GROUPS],
        .act = mode & 0xf, .isa = LUMEN_ISA_AUTO,
    };
    if ((mode & ~0xfull) || cv.act > LUMEN_ACT_SILU ||
        !lumen_pair(d->w[LUMEN_CONV_W_STRIDE], 1, &cv.stride_h, &cv.stride_w) ||
        !lumen_pair(d->w[LUMEN_CONV_W_PAD], 0, &cv.pad_h, &cv.pad_w) ||
        !lumen_pair(d->w[LUMEN_CONV_W_DILATION], 1, &cv.dil_h, &cv.dil_w)) {
        return LUMEN_ERR_BAD_DESC;
    }
    ret = lumen_conv2d_out_size(&cv, &p, &q);
    if (ret) {
        return lumen_ops_errno(ret);
    }
    /* Each output element takes (c / groups) * r * s MACs. */
    if (!lumen_work_ok((uint64_t[]) { cv.n, cv.k, p, q, cv.c / cv.groups,
                                      cv.r, cv.s }, 7)) {
        return LUMEN_ERR_TOO_LARGE;
    }
    lumen_operand_dense(&ops, d->w[LUMEN_CONV_W_X],
                        lumen_product((uint64_t[]) { cv.n, cv.c, cv.h, cv.w },
                                      4), 4, true);
    lumen_operand_dense(&ops, d->w[LUMEN_CONV_W_WEIGHT],
                        lumen_product((uint64_t[]) { cv.k, cv.c / cv.groups,
                                                     cv.r, cv.s }, 4), 4, true);
    lumen_operand_dense(&ops, bias, cv.k, 4, bias != 0);
    lumen_operand_dense(&ops, d->w[LUMEN_CONV_W_Y],
                        lumen_product((uint64_t[]) { cv.n, cv.k, p, q }, 4), 4,
                        true);
    return lumen_op_run(x, ctx, &ops,
                        1u << CONV_X | 1u << CONV_W | 1u << CONV_BIAS,
                        1u << CONV_Y, lumen_conv_compute, &cv);
}

/* ---- Pooling ------------------------------------------------------------- */

enum { POOL_X, POOL_Y };

static int lumen_pool_compute(LumenOperands *ops, const void *args)
{
    LumenPool2d pl = *(const LumenPool2d *)args;

    pl.x = ops->o[POOL_X].buf;
    pl.y = ops->o[POOL_Y].buf;
    return lumen_pool2d(&pl);
}

static uint32_t lumen_op_pool2d(LumenExec *x, unsigned ctx,
                                const LumenDesc *d)
{
    uint64_t mode = d->w[LUMEN_POOL_W_MODE];
    LumenOperands ops = { .n = 0 };
    int64_t p, q;
    LumenPool2d pl;
    int ret;

    if ((mode != LUMEN_POOL_MAX && mode != LUMEN_POOL_AVG) ||
        !lumen_desc_zero_from(d, LUMEN_POOL_W_Y + 1)) {
        return LUMEN_ERR_BAD_DESC;
    }
    for (unsigned i = LUMEN_POOL_W_N; i <= LUMEN_POOL_W_S; i++) {
        if (!lumen_dim_ok(d->w[i])) {
            return LUMEN_ERR_BAD_DESC;
        }
    }
    pl = (LumenPool2d) {
        .op = mode,
        .n = d->w[LUMEN_POOL_W_N], .c = d->w[LUMEN_POOL_W_C],
        .h = d->w[LUMEN_POOL_W_H], .w = d->w[LUMEN_POOL_W_W],
        .r = d->w[LUMEN_POOL_W_R], .s = d->w[LUMEN_POOL_W_S],
    };
    if (!lumen_pair(d->w[LUMEN_POOL_W_STRIDE], 1, &pl.stride_h, &pl.stride_w) ||
        !lumen_pair(d->w[LUMEN_POOL_W_PAD], 0, &pl.pad_h, &pl.pad_w)) {
        return LUMEN_ERR_BAD_DESC;
    }
    ret = lumen_pool2d_out_size(&pl, &p, &q);
    if (ret) {
        return lumen_ops_errno(ret);
    }
    if (!lumen_work_ok((uint64_t[]) { pl.n, pl.c, p, q, pl.r, pl.s }, 6)) {
        return LUMEN_ERR_TOO_LARGE;
    }
    lumen_operand_dense(&ops, d->w[LUMEN_POOL_W_X],
                        lumen_product((uint64_t[]) { pl.n, pl.c, pl.h, pl.w },
                                      4), 4, true);
    lumen_operand_dense(&ops, d->w[LUMEN_POOL_W_Y],
                        lumen_product((uint64_t[]) { pl.n, pl.c, p, q }, 4), 4,
                        true);
    return lumen_op_run(x, ctx, &ops, 1u << POOL_X, 1u << POOL_Y,
                        lumen_pool_compute, &pl);
}

/* ---- Dispatch ------------------------------------------------------------ */

uint32_t lumen_exec_operator(LumenExec *x, unsigned ctx, const LumenCmd *cmd)
{
    uint8_t raw[LUMEN_DESC_SIZE];
    LumenDesc d;
    uint32_t err;

    if (!LUMEN_IS_ALIGNED(cmd->args[0], 8)) {
        return LUMEN_ERR_ALIGN;
    }
    err = lumen_mem_read(x, ctx, cmd->args[0], raw, sizeof(raw));
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    for (unsigned i = 0; i < LUMEN_DESC_WORDS; i++) {
        d.w[i] = lumen_ldq_le(raw + 8 * i);
    }

    switch (cmd->opcode) {
    case LUMEN_OP_GEMM:
        return lumen_op_gemm(x, ctx, &d);
    case LUMEN_OP_ELTWISE:
        return lumen_op_eltwise(x, ctx, &d);
    case LUMEN_OP_SOFTMAX:
    case LUMEN_OP_LAYER_NORM:
    case LUMEN_OP_RMS_NORM:
        return lumen_op_rows(x, ctx, &d, cmd->opcode);
    case LUMEN_OP_CONV2D:
        return lumen_op_conv2d(x, ctx, &d);
    case LUMEN_OP_POOL2D:
        return lumen_op_pool2d(x, ctx, &d);
    }
    return LUMEN_ERR_BAD_OPCODE;
}
