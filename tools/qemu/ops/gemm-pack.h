/*
 * Lumen operators: packing GEMM operands into kernel panels
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LUMEN_GEMM_PACK_H
#define LUMEN_GEMM_PACK_H

#include "ops-internal.h"

/*
 * A block of len x kc elements to pack: element (i, p), i across the
 * panels' width (a row of op(A), a column of op(B)) and p along k, is at
 * base[i * is + p * ps] in elements of type; exactly one stride is 1 unless
 * the block is a single row or column.
 */
typedef struct GemmBlock {
    const void *base;
    LumenDtype type;
    int64_t is, ps;
    int64_t len, kc;
} GemmBlock;

/*
 * Packs an F32, F16 or BF16 block into ceil(len / w) f32 panels of kc x w
 * (gemm-kernels.h), converting on the way.  tmp holds
 * max(len, 4 * kc) floats.
 */
void gemm_pack_f32(float *dst, const GemmBlock *blk, int w, float *tmp);

/*
 * Packs an I8 block into ceil(len / w) panels of ceil(kc / 2) x w pairs.
 * tmp holds kc + 1 int16_t.
 */
void gemm_pack_i8(uint32_t *dst, const GemmBlock *blk, int w, int16_t *tmp);

#endif /* LUMEN_GEMM_PACK_H */
