/*
 * Lumen operators: packing GEMM operands into kernel panels
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Packing copies each block once into the order the micro-kernel reads it,
 * so that the kernel's loads are sequential and aligned whatever the
 * operand's transposition or leading dimension, and so that f16 and bf16
 * are converted to f32 once per block rather than once per use.  The
 * source is always read along its contiguous direction.
 */
#include "gemm-pack.h"

#ifdef __x86_64__
#include <xmmintrin.h>
#endif

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* n contiguous elements from element index off of blk, as floats. */
static const float *load_run(const GemmBlock *blk, int64_t off, int64_t n,
                             float *tmp)
{
    size_t esize = ops_dtype_size(blk->type);

    return ops_load_f32((const char *)blk->base + off * esize, blk->type, n,
                        tmp);
}

/*
 * A block read along k is a run of kc elements from each of many rows,
 * usually a page or more apart: the hardware prefetchers do not follow
 * runs that short, so ask for the row that will be packed PREFETCH_ROWS
 * later.  This halves the packing time of a large A that lives in DRAM.
 */
#define PREFETCH_ROWS 8

static void prefetch_row(const GemmBlock *blk, int64_t i)
{
    size_t esize = ops_dtype_size(blk->type);
    const char *row;

    if (i >= blk->len) {
        return;                 /* not even form a pointer past the block */
    }
    row = (const char *)blk->base + i * blk->is * esize;
    for (int64_t off = 0; off < blk->kc * (int64_t)esize; off += 64) {
        __builtin_prefetch(row + off);
    }
}

/*
 * Four k-runs into four adjacent columns of a panel of width w: a 4 x 4
 * in-register transpose per four k steps (SSE is baseline on x86-64).
 */
static void transpose_4_rows(float *d, int w, const float *const run[4],
                             int64_t kc)
{
    int64_t p = 0;

#ifdef __x86_64__
    for (; p + 4 <= kc; p += 4) {
        __m128 r0 = _mm_loadu_ps(run[0] + p), r1 = _mm_loadu_ps(run[1] + p);
        __m128 r2 = _mm_loadu_ps(run[2] + p), r3 = _mm_loadu_ps(run[3] + p);

        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(d + (p + 0) * w, r0);
        _mm_storeu_ps(d + (p + 1) * w, r1);
        _mm_storeu_ps(d + (p + 2) * w, r2);
        _mm_storeu_ps(d + (p + 3) * w, r3);
    }
#endif
    for (; p < kc; p++) {
        for (int r = 0; r < 4; r++) {
            d[p * w + r] = run[r][p];
        }
    }
}

void gemm_pack_f32(float *dst, const GemmBlock *blk, int w, float *tmp)
{
    int64_t len = blk->len, kc = blk->kc;
    int64_t panels = (len + w - 1) / w;
    int64_t panel_size = kc * w;

    if (blk->ps != 1) {
        /*
         * Contiguous along the width (op(A) transposed, op(B) plain): each
         * k step is one run spread over every panel.
         */
        for (int64_t p = 0; p < kc; p++) {
            const float *run = load_run(blk, p * blk->ps, len, tmp);

            /* Loops, not memcpy(): a call per w floats costs too much. */
            for (int64_t k = 0; k < panels; k++) {
                float *d = dst + k * panel_size + p * w;
                const float *r = run + k * w;
                int64_t n = MIN(w, len - k * w);

                for (int64_t j = 0; j < n; j++) {
                    d[j] = r[j];
                }
                for (int64_t j = n; j < w; j++) {
                    d[j] = 0;
                }
            }
        }
        return;
    }

    /* Contiguous along k: rows of the width, in groups of four. */
    for (int64_t k = 0; k < panels; k++) {
        int64_t i0 = k * w, wi = MIN(w, len - i0);
        float *d = dst + k * panel_size;
        int64_t c = 0;

        for (; c + 4 <= wi; c += 4) {
            const float *run[4];

            for (int r = 0; r < 4; r++) {
                prefetch_row(blk, i0 + c + r + PREFETCH_ROWS);
                run[r] = load_run(blk, (i0 + c + r) * blk->is, kc,
                                  tmp + r * kc);
            }
            transpose_4_rows(d + c, w, run, kc);
        }
        for (; c < wi; c++) {
            const float *run = load_run(blk, (i0 + c) * blk->is, kc, tmp);

            prefetch_row(blk, i0 + c + PREFETCH_ROWS);
            for (int64_t p = 0; p < kc; p++) {
                d[p * w + c] = run[p];
            }
        }
        for (; c < w; c++) {
            for (int64_t p = 0; p < kc; p++) {
                d[p * w + c] = 0;
            }
        }
    }
}

/* Sign-extends to 16 bits: the kernels multiply 16-bit halves. */
static inline uint32_t i8_half(int8_t v)
{
    return (uint16_t)(int16_t)v;
}

/* One k pair of n columns: rows r0 and r1 (NULL past an odd kc). */
static void pair_rows(uint32_t *d, const int8_t *r0, const int8_t *r1,
                      int64_t n)
{
    if (r1) {
        for (int64_t j = 0; j < n; j++) {
            d[j] = i8_half(r0[j]) | i8_half(r1[j]) << 16;
        }
    } else {
        for (int64_t j = 0; j < n; j++) {
            d[j] = i8_half(r0[j]);
        }
    }
}

void gemm_pack_i8(uint32_t *dst, const GemmBlock *blk, int w, int16_t *tmp)
{
    const int8_t *src = blk->base;
    int64_t len = blk->len, kc = blk->kc;
    int64_t panels = (len + w - 1) / w;
    int64_t kp = (kc + 1) / 2;
    int64_t panel_size = kp * w;

    if (blk->ps != 1) {
        /* Contiguous along the width: rows 2q and 2q + 1 make step q. */
        for (int64_t q = 0; q < kp; q++) {
            const int8_t *r0 = src + 2 * q * blk->ps;
            const int8_t *r1 = 2 * q + 1 < kc ? r0 + blk->ps : NULL;

            for (int64_t k = 0; k < panels; k++) {
                uint32_t *d = dst + k * panel_size + q * w;
                int64_t n = MIN(w, len - k * w);

                pair_rows(d, r0 + k * w, r1 ? r1 + k * w : NULL, n);
                for (int64_t j = n; j < w; j++) {
                    d[j] = 0;
                }
            }
        }
        return;
    }

    /*
     * Contiguous along k: widened to int16, a run already is its sequence
     * of little-endian pair words.
     */
    for (int64_t i = 0; i < len; i++) {
        const int8_t *run = src + i * blk->is;
        uint32_t *d = dst + i / w * panel_size + i % w;

        prefetch_row(blk, i + PREFETCH_ROWS);
        for (int64_t p = 0; p < kc; p++) {
            tmp[p] = run[p];
        }
        tmp[kc] = 0;            /* the odd last k pairs with zero */
        for (int64_t q = 0; q < kp; q++) {
            uint32_t word;

            memcpy(&word, tmp + 2 * q, sizeof(word));
            d[q * w] = word;
        }
    }
    for (int64_t i = len; i < panels * w; i++) {
        uint32_t *d = dst + i / w * panel_size + i % w;

        for (int64_t q = 0; q < kp; q++) {
            d[q * w] = 0;
        }
    }
}
