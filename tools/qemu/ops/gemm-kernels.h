/*
 * Lumen operators: the contract between the GEMM driver and its kernels
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The driver (gemm.c) cuts the product into cache-sized blocks and packs
 * them (gemm-pack.c) into the panel layouts below; a micro-kernel then
 * computes one mr x nr tile of C from one A panel and one B panel, keeping
 * the whole tile in registers for the length of the panel.
 *
 * f32 panels (also used for f16 and bf16, converted while packing):
 *   A panel: kc steps of mr floats, a[p * mr + i] = op(A)(i, p)
 *   B panel: kc steps of nr floats, b[p * nr + j] = op(B)(p, j)
 * i8 panels hold pairs of k in one 32-bit word, low half first, so that
 * one "multiply pairs and add" instruction (pmaddwd) does two k steps:
 *   A panel: kp = ceil(kc / 2) steps of mr words,
 *            a[q * mr + i] = lo16(A(i, 2q)) | hi16(A(i, 2q + 1))
 *   B panel: b[q * nr + j] = lo16(B(2q, j)) | hi16(B(2q + 1, j))
 * A missing row, column or odd last k of a panel is packed as zero.
 */
#ifndef LUMEN_GEMM_KERNELS_H
#define LUMEN_GEMM_KERNELS_H

#include "ops-internal.h"

/*
 * Both kernels compute one full mr x nr tile:
 *   C = alpha * (A panel x B panel)              when beta == 0 (C not read)
 *   C = alpha * (A panel x B panel) + beta * C   otherwise
 * The i8 kernel does it in 32-bit arithmetic that wraps.  B panels are
 * aligned to 64 bytes; C may have any alignment its type allows.
 */
typedef void GemmF32Kernel(int64_t kc, const float *a, const float *b,
                           float *c, int64_t ldc, float alpha, float beta);
typedef void GemmI8Kernel(int64_t kp, const uint32_t *a, const uint32_t *b,
                          int32_t *c, int64_t ldc, int32_t alpha,
                          int32_t beta);

/*
 * A kernel and the block sizes it was tuned with: mc rows of A (a multiple
 * of mr) times kc steps of k stay in L2 while a kc x nr sliver of B stays
 * in L1; nc columns of B (a multiple of nr) are packed at once.
 */
typedef struct GemmBlocking {
    int mr, nr;
    int64_t mc, kc, nc;
} GemmBlocking;

typedef struct GemmKernels {
    GemmBlocking f32_blk;
    GemmF32Kernel *f32;
    GemmBlocking i8_blk;        /* kc counts k, and is even */
    GemmI8Kernel *i8;
} GemmKernels;

/* The largest mr * nr of any kernel, for the driver's edge-tile buffer. */
#define GEMM_MAX_TILE (16 * 64)

const GemmKernels *gemm_kernels(LumenIsa isa);

extern const GemmKernels gemm_kernels_generic;
#ifdef __x86_64__
extern const GemmKernels gemm_kernels_avx2;
extern const GemmKernels gemm_kernels_avx512;
#endif

#endif /* LUMEN_GEMM_KERNELS_H */
