/*
 * Lumen operators: portable GEMM micro-kernels, and the choice of kernels
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The portable f32 kernel uses GCC's generic 16-byte vectors (SSE2 on any
 * x86-64, NEON on arm64) with the same body as the x86 kernels; the
 * portable int8 kernel is plain C that wraps in uint32_t, as specified.
 */
#include "gemm-kernels.h"

typedef float Vec4f __attribute__((vector_size(16)));

static inline Vec4f vec4f_load(const float *p)
{
    Vec4f v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void vec4f_store(float *p, Vec4f v)
{
    memcpy(p, &v, sizeof(v));
}

#define KERNEL_NAME gemm_f32_generic
#define KERNEL_ATTR
#define MR 4
#define NV 2
#define VL 4
#define VEC Vec4f
#define VZERO() ((Vec4f){ 0, 0, 0, 0 })
#define VBCAST(x) ((Vec4f){ (x), (x), (x), (x) })
#define VLOAD(p) vec4f_load(p)
#define VLOADU(p) vec4f_load(p)
#define VSTOREU(p, v) vec4f_store(p, v)
#define VFMA(acc, a, b) ((acc) + (a) * (b))
#define VMUL(a, b) ((a) * (b))
#include "gemm-kernel-f32.inc"

#define I8_MR 4
#define I8_NR 8

static void gemm_i8_generic(int64_t kp, const uint32_t *a, const uint32_t *b,
                            int32_t *c, int64_t ldc, int32_t alpha,
                            int32_t beta)
{
    uint32_t acc[I8_MR][I8_NR] = { { 0 } };

    for (int64_t q = 0; q < kp; q++) {
        for (int i = 0; i < I8_MR; i++) {
            int32_t a0 = (int16_t)(a[i] & 0xffff);
            int32_t a1 = (int16_t)(a[i] >> 16);

            for (int j = 0; j < I8_NR; j++) {
                int32_t b0 = (int16_t)(b[j] & 0xffff);
                int32_t b1 = (int16_t)(b[j] >> 16);

                /* |a0 b0 + a1 b1| <= 2^15: no overflow before the wrap. */
                acc[i][j] += (uint32_t)(a0 * b0 + a1 * b1);
            }
        }
        a += I8_MR;
        b += I8_NR;
    }
    for (int i = 0; i < I8_MR; i++) {
        for (int j = 0; j < I8_NR; j++) {
            uint32_t v = acc[i][j] * (uint32_t)alpha;

            if (beta) {
                v += (uint32_t)c[i * ldc + j] * (uint32_t)beta;
            }
            c[i * ldc + j] = (int32_t)v;
        }
    }
}

const GemmKernels gemm_kernels_generic = {
    .f32_blk = { .mr = MR, .nr = NV * VL, .mc = 128, .kc = 256, .nc = 2048 },
    .f32 = gemm_f32_generic,
    .i8_blk = { .mr = I8_MR, .nr = I8_NR, .mc = 128, .kc = 512, .nc = 2048 },
    .i8 = gemm_i8_generic,
};

const GemmKernels *gemm_kernels(LumenIsa isa)
{
#ifdef __x86_64__
    switch (isa) {
    case LUMEN_ISA_AVX512:
        return &gemm_kernels_avx512;
    case LUMEN_ISA_AVX2:
        return &gemm_kernels_avx2;
    default:
        break;
    }
#endif
    return &gemm_kernels_generic;
}
