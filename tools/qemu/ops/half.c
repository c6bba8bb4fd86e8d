/*
 * Lumen operators: conversions between binary32 and the 16-bit types
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The scalar conversions are integer-only, so they neither depend on the
 * host's rounding mode nor on denormals-are-zero / flush-to-zero, and they
 * give exactly the bits x86's F16C instructions give (tests/ops checks all
 * 2^16 halves and a large sample of floats against the hardware), so the
 * vectorised array conversions below may use either.
 */
#include "ops-internal.h"

#ifdef __x86_64__
#include <immintrin.h>
#endif

/*
 * The scalar conversions are static inline so that the array loops below
 * inline them (a call to an exported function cannot be inlined under
 * -fPIC) and vectorise; the exported functions wrap them.
 */
static inline float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;

    if (exp == 0x1f) {
        /* Inf stays Inf; a NaN keeps its payload and becomes quiet. */
        return ops_bits_f32(sign | 0x7f800000 | (man ? 0x400000 : 0) |
                            (man << 13));
    }
    if (exp == 0) {
        if (man == 0) {
            return ops_bits_f32(sign);
        }
        /* Subnormal: normalise, the exponent drops one per shift. */
        exp = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            exp--;
        }
        return ops_bits_f32(sign | (exp << 23) | ((man & 0x3ff) << 13));
    }
    return ops_bits_f32(sign | ((exp + 127 - 15) << 23) | (man << 13));
}

/* Shift right by 1 <= s <= 31, rounding to nearest, ties to even. */
static uint32_t shift_right_rne(uint32_t v, unsigned s)
{
    uint32_t q = v >> s;
    uint32_t rem = v & ((1u << s) - 1);
    uint32_t half = 1u << (s - 1);

    return q + (rem > half || (rem == half && (q & 1)));
}

static inline uint16_t f32_to_f16(float f)
{
    uint32_t x = ops_f32_bits(f);
    uint16_t sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7fffffff;
    uint32_t exp = ax >> 23;

    if (ax > 0x7f800000) {
        /* NaN: quiet, top nine payload bits kept (as F16C does). */
        return sign | 0x7e00 | ((ax >> 13) & 0x1ff);
    }
    if (ax >= 0x477ff000) {
        /* >= 65520, halfway past 65504 (odd mantissa): rounds to Inf. */
        return sign | 0x7c00;
    }
    if (exp >= 113) {
        /*
         * Normal half: rebias the exponent and round the mantissa; a carry
         * out of the mantissa correctly bumps the exponent.
         */
        return sign | shift_right_rne(ax - ((127u - 15) << 23), 13);
    }
    if (exp < 102) {
        /* Below half the smallest subnormal (2^-25), or a float subnormal. */
        return sign;
    }
    /*
     * Half subnormal: the result counts units of 2^-24, i.e. the 24-bit
     * significand shifted right by 126 - exp (14 .. 24).  Rounding up to
     * 0x400 yields the smallest normal, which is the right encoding.
     */
    return sign | shift_right_rne((ax & 0x7fffff) | 0x800000, 126 - exp);
}

static inline float bf16_to_f32(uint16_t h)
{
    return ops_bits_f32((uint32_t)h << 16);
}

static inline uint16_t f32_to_bf16(float f)
{
    uint32_t x = ops_f32_bits(f);

    if ((x & 0x7fffffff) > 0x7f800000) {
        return (x >> 16) | 0x40;        /* NaN: quiet, payload top kept */
    }
    /* Round to nearest even; a carry may rightly reach the exponent. */
    return (x + 0x7fff + ((x >> 16) & 1)) >> 16;
}

float lumen_f16_to_f32(uint16_t h)
{
    return f16_to_f32(h);
}

uint16_t lumen_f32_to_f16(float f)
{
    return f32_to_f16(f);
}

float lumen_bf16_to_f32(uint16_t h)
{
    return bf16_to_f32(h);
}

uint16_t lumen_f32_to_bf16(float f)
{
    return f32_to_bf16(f);
}

#ifdef __x86_64__
__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(float *dst, const uint16_t *src, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) {
        dst[i] = f16_to_f32(src[i]);
    }
}

__attribute__((target("avx,f16c")))
static void f32_to_f16_f16c(uint16_t *dst, const float *src, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m256 f = _mm256_loadu_ps(src + i);
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT |
                                            _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) {
        dst[i] = f32_to_f16(src[i]);
    }
}
#endif

void lumen_f16_to_f32_n(float *dst, const uint16_t *src, size_t n)
{
#ifdef __x86_64__
    if (ops_have_f16c()) {
        f16_to_f32_f16c(dst, src, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        dst[i] = f16_to_f32(src[i]);
    }
}

void lumen_f32_to_f16_n(uint16_t *dst, const float *src, size_t n)
{
#ifdef __x86_64__
    if (ops_have_f16c()) {
        f32_to_f16_f16c(dst, src, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        dst[i] = f32_to_f16(src[i]);
    }
}

/* bf16 is plain integer work the compiler vectorises by itself. */
OPS_CLONES
static void half_bf16_to_f32_array(float *dst, const uint16_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = bf16_to_f32(src[i]);
    }
}

OPS_CLONES
static void half_f32_to_bf16_array(uint16_t *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = f32_to_bf16(src[i]);
    }
}

void lumen_bf16_to_f32_n(float *dst, const uint16_t *src, size_t n)
{
    half_bf16_to_f32_array(dst, src, n);
}

void lumen_f32_to_bf16_n(uint16_t *dst, const float *src, size_t n)
{
    half_f32_to_bf16_array(dst, src, n);
}

const float *ops_load_f32(const void *src, LumenDtype type, int64_t n,
                          float *tmp)
{
    switch (type) {
    case LUMEN_DTYPE_F16:
        lumen_f16_to_f32_n(tmp, src, n);
        return tmp;
    case LUMEN_DTYPE_BF16:
        lumen_bf16_to_f32_n(tmp, src, n);
        return tmp;
    default:
        return src;
    }
}

void ops_store_f32(void *dst, LumenDtype type, const float *src, int64_t n)
{
    switch (type) {
    case LUMEN_DTYPE_F16:
        lumen_f32_to_f16_n(dst, src, n);
        break;
    case LUMEN_DTYPE_BF16:
        lumen_f32_to_bf16_n(dst, src, n);
        break;
    default:
        if (dst != src) {
            memmove(dst, src, n * sizeof(float));
        }
        break;
    }
}
