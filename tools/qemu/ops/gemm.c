/*
 * Lumen operators: GEMM, the blocked driver
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The classic Goto/BLIS decomposition.  For each nc-wide block of columns
 * and each kc-deep slice of k, the kc x nc block of op(B) is packed once;
 * for each mc-high block of rows the mc x kc block of op(A) is packed, and
 * the micro-kernel sweeps the block in mr x nr tiles, B's sliver staying
 * in L1 while A's panels stream from L2.  Packing converts f16/bf16 to
 * f32, so one f32 kernel serves the three float types.
 *
 * With an f32 C, C itself accumulates across the k slices (beta applies
 * on the first slice only).  With an f16/bf16 C that would round every
 * partial sum to 16 bits, so the slices accumulate in an f32 scratch of at
 * most ACC_FLOATS and C is read (for beta) and written once, at the end.
 * The bias and the activation are applied to each block right after its
 * last slice, while it is still in cache.
 */
#include <stdlib.h>

#include "gemm-kernels.h"
#include "gemm-pack.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bound on the f32 accumulator for 16-bit C (4 MiB). */
#define ACC_FLOATS (1 << 20)

static int64_t round_up(int64_t v, int64_t to)
{
    return (v + to - 1) / to * to;
}

static int check_types(const LumenGemm *g)
{
    switch (g->type) {
    case LUMEN_DTYPE_F32:
        return g->c_type == LUMEN_DTYPE_F32 ? 0 : -EINVAL;
    case LUMEN_DTYPE_F16:
    case LUMEN_DTYPE_BF16:
        return g->c_type == g->type || g->c_type == LUMEN_DTYPE_F32 ?
               0 : -EINVAL;
    case LUMEN_DTYPE_I8:
        /* GELU and SiLU have no meaning on raw int32 accumulators. */
        return g->c_type == LUMEN_DTYPE_I32 &&
               (g->act == LUMEN_ACT_NONE || g->act == LUMEN_ACT_RELU) ?
               0 : -EINVAL;
    default:
        return -EINVAL;
    }
}

static int check_args(const LumenGemm *g)
{
    size_t ab = ops_dtype_size(g->type), cs = ops_dtype_size(g->c_type);
    int ret;

    ret = ops_check_act(g->act);
    if (ret) {
        return ret;
    }
    ret = check_types(g);
    if (ret) {
        return ret;
    }
    if (g->m < 1 || g->n < 1 || g->k < 1) {
        return -EINVAL;
    }
    ret = ops_check_matrix(g->a, g->trans_a ? g->k : g->m,
                           g->trans_a ? g->m : g->k, g->lda, ab);
    if (ret) {
        return ret;
    }
    ret = ops_check_matrix(g->b, g->trans_b ? g->n : g->k,
                           g->trans_b ? g->k : g->n, g->ldb, ab);
    if (ret) {
        return ret;
    }
    ret = ops_check_matrix(g->c, g->m, g->n, g->ldc, cs);
    if (ret) {
        return ret;
    }
    switch (g->bias_kind) {
    case LUMEN_BIAS_NONE:
        return g->bias ? -EINVAL : 0;
    case LUMEN_BIAS_ROW:
        return ops_check_matrix(g->bias, 1, g->n, g->n, cs);
    case LUMEN_BIAS_COL:
        return ops_check_matrix(g->bias, 1, g->m, g->m, cs);
    }
    return -EINVAL;
}

/* The block of op(A) at rows i0.., k p0.., as the packer sees it. */
static GemmBlock a_block(const LumenGemm *g, int64_t i0, int64_t p0,
                         int64_t mb, int64_t kb)
{
    int64_t is = g->trans_a ? 1 : g->lda, ps = g->trans_a ? g->lda : 1;

    return (GemmBlock) {
        .base = (const char *)g->a + (i0 * is + p0 * ps) *
                                     ops_dtype_size(g->type),
        .type = g->type, .is = is, .ps = ps, .len = mb, .kc = kb,
    };
}

/* The block of op(B) at k p0.., columns j0.. (is runs along columns). */
static GemmBlock b_block(const LumenGemm *g, int64_t p0, int64_t j0,
                         int64_t kb, int64_t nb)
{
    int64_t is = g->trans_b ? g->ldb : 1, ps = g->trans_b ? 1 : g->ldb;

    return (GemmBlock) {
        .base = (const char *)g->b + (j0 * is + p0 * ps) *
                                     ops_dtype_size(g->type),
        .type = g->type, .is = is, .ps = ps, .len = nb, .kc = kb,
    };
}

/* Per-call scratch, one allocation: no state outlives a call. */
typedef struct GemmWork {
    void *mem;
    float *pa, *pb;             /* packed panels (u32 words for I8) */
    float *acc;                 /* f32 accumulator for 16-bit C */
    float *tmp;                 /* conversion runs, edge tiles */
    float *bias;                /* the bias converted to f32 */
} GemmWork;

/* Carves sizes (in 4-byte words, each rounded to 64 bytes) from one block. */
static int work_alloc(GemmWork *w, int64_t pa, int64_t pb, int64_t acc,
                      int64_t tmp, int64_t bias)
{
    int64_t sizes[] = { pa, pb, acc, tmp, bias };
    float **ptrs[] = { &w->pa, &w->pb, &w->acc, &w->tmp, &w->bias };
    int64_t total = 0;

    for (int i = 0; i < 5; i++) {
        total += round_up(sizes[i], 16);
    }
    w->mem = aligned_alloc(64, total * sizeof(float));
    if (!w->mem) {
        return -ENOMEM;
    }
    total = 0;
    for (int i = 0; i < 5; i++) {
        *ptrs[i] = (float *)w->mem + total;
        total += round_up(sizes[i], 16);
    }
    return 0;
}

/*
 * One mb x nb block of alpha * A * B (+ beta * C) through the kernel; edge
 * tiles go through a full-size buffer and are merged element by element.
 */
static void macro_f32(const GemmKernels *kern, const GemmWork *w, int64_t mb,
                      int64_t nb, int64_t kb, float *c, int64_t ldc,
                      float alpha, float beta)
{
    int mr = kern->f32_blk.mr, nr = kern->f32_blk.nr;

    for (int64_t jr = 0; jr < nb; jr += nr) {
        const float *b = w->pb + jr * kb;
        int64_t nt = MIN(nr, nb - jr);

        for (int64_t ir = 0; ir < mb; ir += mr) {
            const float *a = w->pa + ir * kb;
            int64_t mt = MIN(mr, mb - ir);
            float *ct = c + ir * ldc + jr;

            if (mt == mr && nt == nr) {
                kern->f32(kb, a, b, ct, ldc, alpha, beta);
                continue;
            }
            kern->f32(kb, a, b, w->tmp, nr, 1.0f, 0.0f);
            for (int64_t i = 0; i < mt; i++) {
                for (int64_t j = 0; j < nt; j++) {
                    float v = alpha * w->tmp[i * nr + j];

                    ct[i * ldc + j] = beta == 0 ? v :
                                      v + beta * ct[i * ldc + j];
                }
            }
        }
    }
}

/*
 * After a block's last k slice: C = act(acc + beta * C + bias) for 16-bit
 * C, act(C + bias) in place for f32 C.  bias_row is the block's part of a
 * row bias, already in f32.
 */
static void epilogue_f32(const LumenGemm *g, const GemmWork *w, int64_t ic,
                         int64_t jc, int64_t mb, int64_t nb, float *acc,
                         int64_t ldacc, const float *bias_row)
{
    size_t cs = ops_dtype_size(g->c_type);
    bool direct = g->c_type == LUMEN_DTYPE_F32;

    if (direct && g->bias_kind == LUMEN_BIAS_NONE &&
        g->act == LUMEN_ACT_NONE) {
        return;
    }
    for (int64_t i = 0; i < mb; i++) {
        float *row = acc + i * ldacc;
        void *crow = (char *)g->c + ((ic + i) * g->ldc + jc) * cs;

        if (!direct && g->beta != 0) {
            const float *old = ops_load_f32(crow, g->c_type, nb, w->tmp);

            for (int64_t j = 0; j < nb; j++) {
                row[j] += g->beta * old[j];
            }
        }
        if (g->bias_kind == LUMEN_BIAS_ROW) {
            for (int64_t j = 0; j < nb; j++) {
                row[j] += bias_row[j];
            }
        } else if (g->bias_kind == LUMEN_BIAS_COL) {
            float bi = *ops_load_f32((const char *)g->bias + (ic + i) * cs,
                                     g->c_type, 1, w->tmp);

            for (int64_t j = 0; j < nb; j++) {
                row[j] += bi;
            }
        }
        ops_activate_f32(row, row, nb, g->act);
        if (!direct) {
            ops_store_f32(crow, g->c_type, row, nb);
        }
    }
}

static int gemm_float(const LumenGemm *g, const GemmKernels *kern)
{
    const GemmBlocking *blk = &kern->f32_blk;
    bool direct = g->c_type == LUMEN_DTYPE_F32;
    int64_t m = g->m, n = g->n, k = g->k;
    int64_t kc = MIN(blk->kc, k);
    int64_t nc = MIN(blk->nc, round_up(n, blk->nr));
    int64_t mc = MIN(blk->mc, round_up(m, blk->mr));
    /* Rows per pass: all of them, or as many as the accumulator holds. */
    int64_t mw = direct ? m : MAX(mc, ACC_FLOATS / nc / mc * mc);
    int64_t tmp = MAX(MAX(nc, mc), MAX(4 * kc, blk->mr * blk->nr));
    GemmWork w;
    int ret;

    ret = work_alloc(&w, mc * kc, kc * nc, direct ? 0 : MIN(mw, m) * nc,
                     tmp, nc);
    if (ret) {
        return ret;
    }
    for (int64_t m0 = 0; m0 < m; m0 += mw) {
        int64_t m1 = MIN(m0 + mw, m);

        for (int64_t jc = 0; jc < n; jc += nc) {
            int64_t nb = MIN(nc, n - jc);
            const float *bias_row = NULL;

            if (g->bias_kind == LUMEN_BIAS_ROW) {
                size_t cs = ops_dtype_size(g->c_type);

                bias_row = ops_load_f32((const char *)g->bias + jc * cs,
                                        g->c_type, nb, w.bias);
            }
            for (int64_t pc = 0; pc < k; pc += kc) {
                int64_t kb = MIN(kc, k - pc);
                GemmBlock bb = b_block(g, pc, jc, kb, nb);

                gemm_pack_f32(w.pb, &bb, blk->nr, w.tmp);
                for (int64_t ic = m0; ic < m1; ic += mc) {
                    int64_t mb = MIN(mc, m1 - ic);
                    GemmBlock ab = a_block(g, ic, pc, mb, kb);
                    float *c, beta;
                    int64_t ldc;

                    gemm_pack_f32(w.pa, &ab, blk->mr, w.tmp);
                    if (direct) {
                        c = (float *)g->c + ic * g->ldc + jc;
                        ldc = g->ldc;
                        beta = pc == 0 ? g->beta : 1.0f;
                    } else {
                        c = w.acc + (ic - m0) * nc;
                        ldc = nc;
                        beta = pc == 0 ? 0.0f : 1.0f;
                    }
                    macro_f32(kern, &w, mb, nb, kb, c, ldc, g->alpha, beta);
                    if (pc + kb == k) {
                        epilogue_f32(g, &w, ic, jc, mb, nb, c, ldc,
                                     bias_row);
                    }
                }
            }
        }
    }
    free(w.mem);
    return 0;
}

/* The int8 counterpart of macro_f32(), in wrapping 32-bit arithmetic. */
static void macro_i8(const GemmKernels *kern, const GemmWork *w, int64_t mb,
                     int64_t nb, int64_t kp, int32_t *c, int64_t ldc,
                     int32_t alpha, int32_t beta)
{
    const uint32_t *pa = (const uint32_t *)w->pa;
    const uint32_t *pb = (const uint32_t *)w->pb;
    int32_t *tile = (int32_t *)w->tmp;
    int mr = kern->i8_blk.mr, nr = kern->i8_blk.nr;

    for (int64_t jr = 0; jr < nb; jr += nr) {
        const uint32_t *b = pb + jr * kp;
        int64_t nt = MIN(nr, nb - jr);

        for (int64_t ir = 0; ir < mb; ir += mr) {
            const uint32_t *a = pa + ir * kp;
            int64_t mt = MIN(mr, mb - ir);
            int32_t *ct = c + ir * ldc + jr;

            if (mt == mr && nt == nr) {
                kern->i8(kp, a, b, ct, ldc, alpha, beta);
                continue;
            }
            kern->i8(kp, a, b, tile, nr, 1, 0);
            for (int64_t i = 0; i < mt; i++) {
                for (int64_t j = 0; j < nt; j++) {
                    uint32_t v = (uint32_t)tile[i * nr + j] * (uint32_t)alpha;

                    if (beta) {
                        v += (uint32_t)ct[i * ldc + j] * (uint32_t)beta;
                    }
                    ct[i * ldc + j] = (int32_t)v;
                }
            }
        }
    }
}

static void epilogue_i8(const LumenGemm *g, int64_t ic, int64_t jc,
                        int64_t mb, int64_t nb)
{
    const int32_t *bias = g->bias;

    if (g->bias_kind == LUMEN_BIAS_NONE && g->act == LUMEN_ACT_NONE) {
        return;
    }
    for (int64_t i = ic; i < ic + mb; i++) {
        int32_t *row = (int32_t *)g->c + i * g->ldc + jc;

        for (int64_t j = 0; j < nb; j++) {
            uint32_t add = g->bias_kind == LUMEN_BIAS_ROW ? bias[jc + j] :
                           g->bias_kind == LUMEN_BIAS_COL ? bias[i] : 0;

            row[j] = (int32_t)((uint32_t)row[j] + add);
        }
        if (g->act == LUMEN_ACT_RELU) {
            ops_relu_i32(row, nb);
        }
    }
}

static int gemm_i8(const LumenGemm *g, const GemmKernels *kern)
{
    const GemmBlocking *blk = &kern->i8_blk;
    int64_t m = g->m, n = g->n, k = g->k;
    int64_t kc = MIN(blk->kc, k);           /* blk->kc is even */
    int64_t nc = MIN(blk->nc, round_up(n, blk->nr));
    int64_t mc = MIN(blk->mc, round_up(m, blk->mr));
    int64_t kpc = (kc + 1) / 2;
    GemmWork w;
    int ret;

    /* tmp: an edge tile, or a k run widened to int16 (kc + 1 halves). */
    ret = work_alloc(&w, mc * kpc, kpc * nc, 0,
                     MAX(blk->mr * blk->nr, kpc + 1), 0);
    if (ret) {
        return ret;
    }
    for (int64_t jc = 0; jc < n; jc += nc) {
        int64_t nb = MIN(nc, n - jc);

        for (int64_t pc = 0; pc < k; pc += kc) {
            int64_t kb = MIN(kc, k - pc);
            GemmBlock bb = b_block(g, pc, jc, kb, nb);

            gemm_pack_i8((uint32_t *)w.pb, &bb, blk->nr, (int16_t *)w.tmp);
            for (int64_t ic = 0; ic < m; ic += mc) {
                int64_t mb = MIN(mc, m - ic);
                GemmBlock ab = a_block(g, ic, pc, mb, kb);
                int32_t *c = (int32_t *)g->c + ic * g->ldc + jc;

                gemm_pack_i8((uint32_t *)w.pa, &ab, blk->mr, (int16_t *)w.tmp);
                macro_i8(kern, &w, mb, nb, (kb + 1) / 2, c, g->ldc,
                         g->ialpha, pc == 0 ? g->ibeta : 1);
                if (pc + kb == k) {
                    epilogue_i8(g, ic, jc, mb, nb);
                }
            }
        }
    }
    free(w.mem);
    return 0;
}

int lumen_gemm(const LumenGemm *g)
{
    LumenIsa isa;
    int ret;

    if (!g) {
        return -EINVAL;
    }
    ret = check_args(g);
    if (ret) {
        return ret;
    }
    ret = ops_resolve_isa(g->isa, &isa);
    if (ret) {
        return ret;
    }
    if (g->type == LUMEN_DTYPE_I8) {
        return gemm_i8(g, gemm_kernels(isa));
    }
    return gemm_float(g, gemm_kernels(isa));
}
