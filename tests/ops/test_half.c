// SPDX-License-Identifier: MIT
/*
 * f16 and bf16 conversions against the formats' definitions: every one of
 * the 2^16 values to f32, and to 16 bits every tie between neighbours,
 * every overflow and underflow boundary, a spread of every exponent and
 * NaN handling; the array forms (F16C where the host has it) must give the
 * scalar forms' bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "check.h"
#include "ref.h"

static uint32_t bits_of(float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    return u;
}

static float float_of(uint32_t u)
{
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

/* Same value and same sign (so +0 and -0 differ), or both NaN. */
static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

TEST(f16_to_f32_every_value)
{
    int bad = 0;

    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = lumen_f16_to_f32(h);
        bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);

        if (nan) {
            /* Documented: quiet, same sign, payload kept. */
            uint32_t want = (h & 0x8000) << 16 | 0x7fc00000 |
                            (h & 0x3ff) << 13;

            bad += bits_of(f) != want;
        } else {
            bad += !same(f, ref_f16_value(h));
        }
    }
    EXPECT_EQ(0, bad);
}

TEST(bf16_to_f32_every_value)
{
    int bad = 0;

    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = lumen_bf16_to_f32(h);

        /* bf16 is the top half of an f32: even a NaN keeps its bits. */
        bad += bits_of(f) != h << 16;
        bad += !same(f, ref_bf16_value(h));
    }
    EXPECT_EQ(0, bad);
}

/*
 * Every pair of neighbouring finite 16-bit values, positive and negative:
 * the neighbours themselves, their midpoint (a tie: to the even one), and
 * the floats just either side of the midpoint.  Midpoints need one bit
 * more than the 16-bit format, so they are exact in f32.
 */
static int check_ties(uint16_t (*conv)(float), double (*value)(uint16_t),
                      uint16_t (*round)(double), uint16_t max_finite)
{
    int bad = 0;

    for (uint32_t sign = 0; sign <= 0x8000; sign += 0x8000) {
        for (uint32_t h = 0; h < max_finite; h++) {
            double lo = value(sign | h), hi = value(sign | (h + 1));
            float mid = (float)((lo + hi) / 2);
            uint16_t even = (h & 1) ? sign | (h + 1) : sign | h;

            bad += conv((float)lo) != (sign | h);
            bad += conv(mid) != even;
            bad += conv(nextafterf(mid, 0)) != (sign | h);
            bad += conv(nextafterf(mid, sign ? -INFINITY : INFINITY)) !=
                   (sign | (h + 1));
            bad += round(mid) != even;      /* the reference agrees */
        }
    }
    return bad;
}

TEST(f32_to_f16_ties_and_neighbours)
{
    EXPECT_EQ(0, check_ties(lumen_f32_to_f16, ref_f16_value, ref_round_f16,
                            0x7bff));
}

TEST(f32_to_bf16_ties_and_neighbours)
{
    EXPECT_EQ(0, check_ties(lumen_f32_to_bf16, ref_bf16_value,
                            ref_round_bf16, 0x7f7f));
}

TEST(f32_to_f16_boundaries)
{
    /* Largest finite, the overflow threshold, the subnormal range. */
    EXPECT_EQ(0x7bff, lumen_f32_to_f16(65504.0f));
    EXPECT_EQ(0x7bff, lumen_f32_to_f16(nextafterf(65520.0f, 0)));
    EXPECT_EQ(0x7c00, lumen_f32_to_f16(65520.0f));
    EXPECT_EQ(0xfc00, lumen_f32_to_f16(-1e30f));
    EXPECT_EQ(0x7c00, lumen_f32_to_f16(INFINITY));
    EXPECT_EQ(0xfc00, lumen_f32_to_f16(-INFINITY));
    EXPECT_EQ(0x0400, lumen_f32_to_f16(0x1p-14f));   /* smallest normal */
    EXPECT_EQ(0x03ff, lumen_f32_to_f16(0x1.ff8p-15f));
    EXPECT_EQ(0x0001, lumen_f32_to_f16(0x1p-24f));   /* smallest subnormal */
    EXPECT_EQ(0x0000, lumen_f32_to_f16(0x1p-25f));   /* tie to even: 0 */
    EXPECT_EQ(0x0001, lumen_f32_to_f16(0x1.000002p-25f));
    EXPECT_EQ(0x0002, lumen_f32_to_f16(0x1.8p-24f)); /* 1.5: tie to 2 */
    EXPECT_EQ(0x8000, lumen_f32_to_f16(-0x1p-26f));
    EXPECT_EQ(0x0000, lumen_f32_to_f16(0x1p-149f));  /* f32 subnormal */
    EXPECT_EQ(0x8000, lumen_f32_to_f16(-0.0f));
    EXPECT_EQ(0x3c00, lumen_f32_to_f16(1.0f));
    EXPECT_EQ(0x3555, lumen_f32_to_f16(1.0f / 3));
}

TEST(f32_to_bf16_boundaries)
{
    EXPECT_EQ(0x7f7f, lumen_f32_to_bf16(0x1.fep127f)); /* largest finite */
    EXPECT_EQ(0x7f80, lumen_f32_to_bf16(0x1.ffp127f)); /* ties up to Inf */
    EXPECT_EQ(0x7f7f, lumen_f32_to_bf16(nextafterf(0x1.ffp127f, 0)));
    EXPECT_EQ(0x7f80, lumen_f32_to_bf16(INFINITY));
    EXPECT_EQ(0xff80, lumen_f32_to_bf16(-INFINITY));
    EXPECT_EQ(0x0001, lumen_f32_to_bf16(0x1p-133f));  /* subnormals kept */
    EXPECT_EQ(0x0000, lumen_f32_to_bf16(0x1p-134f));  /* tie to even */
    EXPECT_EQ(0x0080, lumen_f32_to_bf16(0x1p-126f));
    EXPECT_EQ(0x8000, lumen_f32_to_bf16(-0.0f));
    EXPECT_EQ(0x3f80, lumen_f32_to_bf16(1.0f));
    EXPECT_EQ(0x3eab, lumen_f32_to_bf16(1.0f / 3));
}

/* Documented: quiet, same sign, the top payload bits kept. */
TEST(nan_to_16_bits)
{
    static const uint32_t nans[] = {
        0x7f800001, 0x7fc00000, 0xffc00001, 0x7fbfffff, 0xff812345,
        0x7fffffff, 0x7fa00000,
    };

    for (size_t i = 0; i < sizeof(nans) / sizeof(nans[0]); i++) {
        float f = float_of(nans[i]);
        uint32_t x = nans[i];

        EXPECT_EQ((x >> 16 & 0x8000) | 0x7e00 | (x >> 13 & 0x1ff),
                  lumen_f32_to_f16(f));
        EXPECT_EQ((x >> 16) | 0x40, lumen_f32_to_bf16(f));
    }
}

/* A spread of every f32 exponent against the reference rounding. */
TEST(f32_to_16_bits_every_exponent)
{
    Rng rng = { 7 };
    int bad = 0;

    for (uint32_t e = 0; e < 255; e++) {
        for (int i = 0; i < 2000; i++) {
            uint32_t man = i < 3 ? (uint32_t[]){ 0, 1, 0x7fffff }[i] :
                           (uint32_t)rng_next(&rng) & 0x7fffff;
            uint32_t sign = (uint32_t)(i & 1) << 31;
            float f = float_of(sign | e << 23 | man);

            bad += lumen_f32_to_f16(f) != ref_round_f16(f);
            bad += lumen_f32_to_bf16(f) != ref_round_bf16(f);
        }
    }
    EXPECT_EQ(0, bad);
}

/* The array forms (vectorised, F16C where present) give the same bits. */
TEST(arrays_match_scalars)
{
    enum { N = 1 << 20 };
    uint16_t *h = malloc(N * sizeof(*h)), *h2 = malloc(N * sizeof(*h2));
    float *f = malloc(N * sizeof(*f)), *f2 = malloc(N * sizeof(*f2));
    Rng rng = { 11 };
    int bad = 0;

    ASSERT_TRUE(h && h2 && f && f2);
    for (size_t i = 0; i < N; i++) {
        h[i] = (uint16_t)i;     /* every half, sixteen times over */
        f[i] = float_of((uint32_t)rng_next(&rng));
    }
    /* Odd lengths and offsets: the vector loops' tails. */
    for (size_t len = N - 13; len; len /= 7) {
        lumen_f16_to_f32_n(f2 + 3, h + 3, len);
        for (size_t i = 0; i < len; i++) {
            bad += bits_of(f2[i + 3]) != bits_of(lumen_f16_to_f32(h[i + 3]));
        }
        lumen_bf16_to_f32_n(f2 + 1, h + 1, len);
        for (size_t i = 0; i < len; i++) {
            bad += bits_of(f2[i + 1]) != bits_of(lumen_bf16_to_f32(h[i + 1]));
        }
        lumen_f32_to_f16_n(h2 + 5, f + 5, len);
        for (size_t i = 0; i < len; i++) {
            bad += h2[i + 5] != lumen_f32_to_f16(f[i + 5]);
        }
        lumen_f32_to_bf16_n(h2 + 2, f + 2, len);
        for (size_t i = 0; i < len; i++) {
            bad += h2[i + 2] != lumen_f32_to_bf16(f[i + 2]);
        }
    }
    EXPECT_EQ(0, bad);
    free(h);
    free(h2);
    free(f);
    free(f2);
}

TEST_HARNESS_MAIN
