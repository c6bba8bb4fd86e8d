/*
 * Lumen operators: GEMM micro-kernels for x86-64-v3 (AVX2) and -v4 (AVX-512)
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each kernel is compiled for its ISA through a target attribute, so this
 * file builds with the compiler's default flags and the driver picks a
 * kernel at run time (gemm_kernels()).
 *
 * Tile shapes: AVX2 has 16 vector registers, so 6 x 16 floats (12
 * accumulators); AVX-512 has 32, so 14 x 32 (28).  On CPUs that split
 * 512-bit operations in two (AMD Zen 4) both reach the same peak, but the
 * wider tile halves the instructions per flop and the loads per flop.
 * Block sizes were measured on a Zen 4 (32 KiB L1d, 1 MiB L2) with
 * lumen-ops-bench: a long kc matters most, since it makes the runs that
 * packing reads from each row of a large row-major A long enough to
 * stream, and it spreads the cost of loading and storing C over more
 * flops; the mc x kc block of A (168 KiB) then sits in L2 and the
 * kc x nc block of B in L3.
 */
#ifdef __x86_64__

#include <immintrin.h>

#include "gemm-kernels.h"

#define TARGET_AVX2 "avx2,fma,f16c"
#define TARGET_AVX512 "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl"

/* f32, AVX2 */
#define KERNEL_NAME gemm_f32_avx2
#define KERNEL_ATTR __attribute__((target(TARGET_AVX2)))
#define MR 6
#define NV 2
#define VL 8
#define VEC __m256
#define VZERO() _mm256_setzero_ps()
#define VBCAST(x) _mm256_set1_ps(x)
#define VLOAD(p) _mm256_load_ps(p)
#define VLOADU(p) _mm256_loadu_ps(p)
#define VSTOREU(p, v) _mm256_storeu_ps(p, v)
#define VFMA(acc, a, b) _mm256_fmadd_ps(a, b, acc)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#include "gemm-kernel-f32.inc"
#undef KERNEL_NAME
#undef MR
#undef NV
#undef VL
#undef VEC
#undef VZERO
#undef VBCAST
#undef VLOAD
#undef VLOADU
#undef VSTOREU
#undef VFMA
#undef VMUL

/* i8, AVX2 */
#define KERNEL_NAME gemm_i8_avx2
#define MR 6
#define NV 2
#define VL 8
#define VEC __m256i
#define VZERO() _mm256_setzero_si256()
#define VBCAST(x) _mm256_set1_epi32(x)
#define VLOAD(p) _mm256_load_si256((const __m256i *)(p))
#define VLOADU(p) _mm256_loadu_si256((const __m256i *)(p))
#define VSTOREU(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define VMADD(acc, a, b) _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
#define VADD(a, b) _mm256_add_epi32(a, b)
#define VMUL(a, b) _mm256_mullo_epi32(a, b)
#include "gemm-kernel-i8.inc"
#undef KERNEL_NAME
#undef KERNEL_ATTR
#undef MR
#undef NV
#undef VL
#undef VEC
#undef VZERO
#undef VBCAST
#undef VLOAD
#undef VLOADU
#undef VSTOREU
#undef VMADD
#undef VADD
#undef VMUL

/* f32, AVX-512 */
#define KERNEL_NAME gemm_f32_avx512
#define KERNEL_ATTR __attribute__((target(TARGET_AVX512)))
#define MR 14
#define NV 2
#define VL 16
#define VEC __m512
#define VZERO() _mm512_setzero_ps()
#define VBCAST(x) _mm512_set1_ps(x)
#define VLOAD(p) _mm512_load_ps(p)
#define VLOADU(p) _mm512_loadu_ps(p)
#define VSTOREU(p, v) _mm512_storeu_ps(p, v)
#define VFMA(acc, a, b) _mm512_fmadd_ps(a, b, acc)
#define VMUL(a, b) _mm512_mul_ps(a, b)
#include "gemm-kernel-f32.inc"
#undef KERNEL_NAME
#undef MR
#undef NV
#undef VL
#undef VEC
#undef VZERO
#undef VBCAST
#undef VLOAD
#undef VLOADU
#undef VSTOREU
#undef VFMA
#undef VMUL

/* i8, AVX-512 */
#define KERNEL_NAME gemm_i8_avx512
#define MR 14
#define NV 2
#define VL 16
#define VEC __m512i
#define VZERO() _mm512_setzero_si512()
#define VBCAST(x) _mm512_set1_epi32(x)
#define VLOAD(p) _mm512_load_si512(p)
#define VLOADU(p) _mm512_loadu_si512(p)
#define VSTOREU(p, v) _mm512_storeu_si512(p, v)
#define VMADD(acc, a, b) _mm512_add_epi32(acc, _mm512_madd_epi16(a, b))
#define VADD(a, b) _mm512_add_epi32(a, b)
#define VMUL(a, b) _mm512_mullo_epi32(a, b)
#include "gemm-kernel-i8.inc"

const GemmKernels gemm_kernels_avx2 = {
    .f32_blk = { .mr = 6, .nr = 16, .mc = 96, .kc = 384, .nc = 4096 },
    .f32 = gemm_f32_avx2,
    .i8_blk = { .mr = 6, .nr = 16, .mc = 48, .kc = 1024, .nc = 4096 },
    .i8 = gemm_i8_avx2,
};

const GemmKernels gemm_kernels_avx512 = {
    .f32_blk = { .mr = 14, .nr = 32, .mc = 112, .kc = 384, .nc = 4096 },
    .f32 = gemm_f32_avx512,
    .i8_blk = { .mr = 14, .nr = 32, .mc = 56, .kc = 1024, .nc = 4096 },
    .i8 = gemm_i8_avx512,
};

#endif /* __x86_64__ */
