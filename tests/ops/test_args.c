// SPDX-License-Identifier: MIT
/*
 * Every operator refuses what it documents as invalid, with the documented
 * errno, and writes nothing when it does: NULL descriptors and pointers,
 * bad enums and type combinations, zero and negative sizes, leading
 * dimensions shorter than a row, misaligned pointers, extents that
 * overflow, and the per-operator rules.  Each test starts from a valid
 * call (checked to succeed) and breaks one thing at a time.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "check.h"

/* Storage for every test: big enough for each valid call below. */
typedef struct Buffers {
    float a[64], b[64], c[64], bias[8];
    int8_t a8[64], b8[64];
    int32_t c32[64];
} Buffers;

static LumenGemm valid_gemm(Buffers *bf)
{
    /* 4x4 times 4x4, everything dense. */
    return (LumenGemm) {
        .type = LUMEN_DTYPE_F32, .c_type = LUMEN_DTYPE_F32,
        .m = 4, .n = 4, .k = 4, .a = bf->a, .lda = 4, .b = bf->b, .ldb = 4,
        .c = bf->c, .ldc = 4, .alpha = 1,
    };
}

/* The call fails with err and C still holds its sentinel. */
#define EXPECT_GEMM_FAILS(err, g, bf) do { \
    for (int i_ = 0; i_ < 64; i_++) { \
        (bf)->c[i_] = 1234.5f; \
    } \
    EXPECT_EQ(-(err), lumen_gemm(&(g))); \
    for (int i_ = 0; i_ < 64; i_++) { \
        ASSERT_EQ(1234.5f, (bf)->c[i_]); \
    } \
} while (0)

TEST(gemm)
{
    Buffers bf = { 0 };
    LumenGemm g;

    g = valid_gemm(&bf);
    ASSERT_EQ(0, lumen_gemm(&g));
    EXPECT_EQ(-EINVAL, lumen_gemm(NULL));

    g = valid_gemm(&bf);
    g.type = 0;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.type = 99;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.c_type = LUMEN_DTYPE_F16;         /* f32 inputs give f32 only */
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.type = LUMEN_DTYPE_F16;
    g.c_type = LUMEN_DTYPE_BF16;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.type = LUMEN_DTYPE_I32;
    g.c_type = LUMEN_DTYPE_I32;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.act = 4;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.isa = 17;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);

    /* Sizes: zero, negative, absurd. */
    g = valid_gemm(&bf);
    g.m = 0;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.n = -4;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.k = 0;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.k = INT64_MIN;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);

    /* Leading dimensions shorter than a row, plain and transposed. */
    g = valid_gemm(&bf);
    g.lda = 3;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.m = 5;
    g.k = 3;
    g.trans_a = true;                   /* A is 3 x 5: lda >= 5 */
    g.lda = 4;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.ldb = -1;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.n = 5;
    g.k = 3;
    g.ldb = 5;
    g.trans_b = true;                   /* B is 5 x 3: ldb >= 3 ... */
    g.ldc = 4;                          /* ... but C needs ldc >= 5 */
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);

    /* Pointers: NULL and misaligned. */
    g = valid_gemm(&bf);
    g.a = NULL;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.b = (const char *)bf.b + 2;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.c = NULL;
    EXPECT_EQ(-EINVAL, lumen_gemm(&g));

    /* Extents that overflow: rows * ld past the address space. */
    g = valid_gemm(&bf);
    g.m = INT64_MAX / 2;
    g.k = 4;
    EXPECT_GEMM_FAILS(EOVERFLOW, g, &bf);
    g = valid_gemm(&bf);
    g.ldb = INT64_MAX / 3;
    EXPECT_GEMM_FAILS(EOVERFLOW, g, &bf);
    g = valid_gemm(&bf);
    g.lda = (int64_t)1 << 61;           /* 2^63 bytes of f32 */
    EXPECT_GEMM_FAILS(EOVERFLOW, g, &bf);

    /* Bias: kind and pointer must agree. */
    g = valid_gemm(&bf);
    g.bias = bf.bias;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.bias_kind = LUMEN_BIAS_ROW;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.bias_kind = 3;
    g.bias = bf.bias;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
    g = valid_gemm(&bf);
    g.bias_kind = LUMEN_BIAS_COL;
    g.bias = (const char *)bf.bias + 1;
    EXPECT_GEMM_FAILS(EINVAL, g, &bf);
}

TEST(gemm_i8)
{
    Buffers bf = { 0 };
    LumenGemm g = {
        .type = LUMEN_DTYPE_I8, .c_type = LUMEN_DTYPE_I32,
        .m = 4, .n = 4, .k = 4, .a = bf.a8, .lda = 4, .b = bf.b8, .ldb = 4,
        .c = bf.c32, .ldc = 4, .ialpha = 1, .act = LUMEN_ACT_RELU,
    };

    ASSERT_EQ(0, lumen_gemm(&g));
    g.act = LUMEN_ACT_GELU;             /* meaningless on int32 */
    EXPECT_EQ(-EINVAL, lumen_gemm(&g));
    g.act = LUMEN_ACT_SILU;
    EXPECT_EQ(-EINVAL, lumen_gemm(&g));
    g.act = LUMEN_ACT_NONE;
    g.c_type = LUMEN_DTYPE_F32;
    EXPECT_EQ(-EINVAL, lumen_gemm(&g));
    g.c_type = LUMEN_DTYPE_I32;
    g.c = (char *)bf.c32 + 2;           /* int32 C misaligned */
    EXPECT_EQ(-EINVAL, lumen_gemm(&g));
}

static LumenEltwise valid_eltwise(Buffers *bf)
{
    return (LumenEltwise) {
        .op = LUMEN_ELT_ADD, .type = LUMEN_DTYPE_F32, .rows = 4, .cols = 4,
        .y = bf->c, .ldy = 4, .x = bf->a, .ldx = 4, .b = bf->b, .ldb = 4,
    };
}

TEST(eltwise)
{
    Buffers bf = { 0 };
    LumenEltwise e;

    e = valid_eltwise(&bf);
    ASSERT_EQ(0, lumen_eltwise(&e));
    EXPECT_EQ(-EINVAL, lumen_eltwise(NULL));
    e.op = 0;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.op = LUMEN_ELT_SILU + 1;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.type = LUMEN_DTYPE_I8;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.b = NULL;                         /* add needs b */
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.op = LUMEN_ELT_RELU;              /* unary takes no b */
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e.b = NULL;
    ASSERT_EQ(0, lumen_eltwise(&e));
    e.broadcast_b = true;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.rows = 0;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.cols = -1;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.ldx = 3;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.ldb = 3;                          /* too short for a full b ... */
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e.broadcast_b = true;               /* ... but ignored for a row */
    EXPECT_EQ(0, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.type = LUMEN_DTYPE_F16;
    e.y = (char *)bf.c + 1;
    EXPECT_EQ(-EINVAL, lumen_eltwise(&e));
    e = valid_eltwise(&bf);
    e.rows = INT64_MAX / 4;
    EXPECT_EQ(-EOVERFLOW, lumen_eltwise(&e));
}

TEST(rows)
{
    Buffers bf = { 0 };
    LumenRows r = {
        .rows = 4, .cols = 4, .y = bf.c, .ldy = 4, .x = bf.a, .ldx = 4,
        .gamma = bf.bias, .beta = bf.bias + 4, .eps = 1e-5f,
    };

    for (int i = 0; i < 16; i++) {
        bf.a[i] = (float)i;
    }
    ASSERT_EQ(0, lumen_layer_norm(&r));
    EXPECT_EQ(-EINVAL, lumen_layer_norm(NULL));
    EXPECT_EQ(-EINVAL, lumen_rms_norm(NULL));
    EXPECT_EQ(-EINVAL, lumen_softmax(NULL));
    EXPECT_EQ(-EINVAL, lumen_rms_norm(&r));     /* RMS norm has no beta */
    EXPECT_EQ(-EINVAL, lumen_softmax(&r));      /* nor softmax gamma */
    r.eps = -1e-5f;
    EXPECT_EQ(-EINVAL, lumen_layer_norm(&r));
    r.eps = NAN;
    EXPECT_EQ(-EINVAL, lumen_layer_norm(&r));
    r.eps = INFINITY;
    EXPECT_EQ(-EINVAL, lumen_layer_norm(&r));
    r.eps = 0;
    EXPECT_EQ(0, lumen_layer_norm(&r));
    r.beta = NULL;
    EXPECT_EQ(0, lumen_rms_norm(&r));
    r.gamma = NULL;
    EXPECT_EQ(0, lumen_softmax(&r));
    r.ldy = 2;
    EXPECT_EQ(-EINVAL, lumen_softmax(&r));
    r.ldy = 4;
    r.x = NULL;
    EXPECT_EQ(-EINVAL, lumen_rms_norm(&r));
    r.x = bf.a;
    r.rows = -2;
    EXPECT_EQ(-EINVAL, lumen_softmax(&r));
    r.rows = 4;
    r.gamma = (const float *)((const char *)bf.bias + 2);
    EXPECT_EQ(-EINVAL, lumen_rms_norm(&r));
}

static LumenConv2d valid_conv(Buffers *bf)
{
    /* 1 x 2 x 3 x 3 input, 2 x 1 x 2 x 2 weight in 2 groups: 1x2x2x2. */
    return (LumenConv2d) {
        .n = 1, .c = 2, .h = 3, .w = 3, .k = 2, .r = 2, .s = 2,
        .groups = 2, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
        .x = bf->a, .weight = bf->b, .bias = bf->bias, .y = bf->c,
    };
}

TEST(conv2d)
{
    Buffers bf = { 0 };
    LumenConv2d cv;
    int64_t p, q;

    cv = valid_conv(&bf);
    ASSERT_EQ(0, lumen_conv2d(&cv));
    ASSERT_EQ(0, lumen_conv2d_out_size(&cv, &p, &q));
    EXPECT_EQ(2, p);
    EXPECT_EQ(2, q);
    EXPECT_EQ(-EINVAL, lumen_conv2d(NULL));
    EXPECT_EQ(-EINVAL, lumen_conv2d_out_size(&cv, NULL, &q));
    cv.groups = 3;                      /* divides neither c nor k */
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.k = 3;                           /* not divisible by groups */
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.stride_w = 0;
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.pad_h = -1;
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.dil_h = 0;
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.r = 4;                           /* kernel taller than the input */
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.dil_w = 3;                       /* dilated kernel too wide */
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.act = 7;
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.weight = NULL;
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.bias = (const float *)((const char *)bf.bias + 1);
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.n = (int64_t)INT32_MAX + 1;      /* beyond the parameter range */
    EXPECT_EQ(-EINVAL, lumen_conv2d(&cv));
    cv = valid_conv(&bf);
    cv.n = INT32_MAX;
    cv.c = 2;
    cv.h = INT32_MAX;
    cv.w = INT32_MAX;                   /* 2^95 elements */
    EXPECT_EQ(-EOVERFLOW, lumen_conv2d(&cv));
}

TEST(pool2d)
{
    Buffers bf = { 0 };
    LumenPool2d pl = {
        .op = LUMEN_POOL_MAX, .n = 1, .c = 2, .h = 4, .w = 4, .r = 2,
        .s = 2, .stride_h = 2, .stride_w = 2, .x = bf.a, .y = bf.c,
    };
    int64_t p, q;

    ASSERT_EQ(0, lumen_pool2d(&pl));
    ASSERT_EQ(0, lumen_pool2d_out_size(&pl, &p, &q));
    EXPECT_EQ(2, p);
    EXPECT_EQ(2, q);
    EXPECT_EQ(-EINVAL, lumen_pool2d(NULL));
    pl.op = 0;
    EXPECT_EQ(-EINVAL, lumen_pool2d(&pl));
    pl.op = LUMEN_POOL_AVG;
    pl.pad_h = 2;                       /* a window could be all padding */
    EXPECT_EQ(-EINVAL, lumen_pool2d(&pl));
    pl.pad_h = 1;
    EXPECT_EQ(0, lumen_pool2d(&pl));
    pl.r = 7;                           /* taller than padded input */
    EXPECT_EQ(-EINVAL, lumen_pool2d(&pl));
    pl.r = 2;
    pl.stride_h = -2;
    EXPECT_EQ(-EINVAL, lumen_pool2d(&pl));
    pl.stride_h = 2;
    pl.y = NULL;
    EXPECT_EQ(-EINVAL, lumen_pool2d(&pl));
    pl.y = bf.c;
    pl.n = INT32_MAX;
    pl.c = INT32_MAX;
    pl.h = INT32_MAX;
    EXPECT_EQ(-EOVERFLOW, lumen_pool2d(&pl));
}

/* An ISA this host lacks is refused, not emulated. */
TEST(unavailable_isa)
{
    Buffers bf = { 0 };
    LumenGemm g = valid_gemm(&bf);

    if (lumen_ops_best_isa() == LUMEN_ISA_AVX512) {
        SKIP(return, "this host has every ISA");
    }
    g.isa = LUMEN_ISA_AVX512;
    EXPECT_EQ(-EOPNOTSUPP, lumen_gemm(&g));
}

TEST_HARNESS_MAIN
