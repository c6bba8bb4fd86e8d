// SPDX-License-Identifier: MIT
/*
 * The operator commands end to end: descriptors in memory, operands on
 * scattered pages of a user context, an INDIRECT from a ring entry, the
 * results compared with naive references written here (double-precision
 * loops straight from the definitions, no code shared with the operator
 * library).  Plus the descriptor checks (BAD_DESC), the size limits
 * (TOO_LARGE), faults on operands, and that strided outputs keep the
 * bytes between their rows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "fakebus.h"

#define CTX 1
#define IB_VA 0x7000000ull
#define DESC_VA 0x7100040ull

typedef struct Env {
    FakeDev *f;
    uint64_t next_va;
} Env;

static Env env_new(void)
{
    Env e = { .f = fake_new(), .next_va = 0x1000000 };
    uint64_t ib = fake_alloc(e.f, 4096), desc = fake_alloc(e.f, 4096);

    fake_map(e.f, CTX, IB_VA, ib, 0);
    fake_map(e.f, CTX, DESC_VA & ~4095ull, desc, 0);
    return e;
}

/* A buffer on scattered pages at an odd-ish (8-aligned + 8) offset. */
static uint64_t env_buf(Env *e, uint64_t bytes, bool writable)
{
    uint64_t va = e->next_va + 8;

    fake_map_scattered(e->f, CTX, va, bytes, writable ? LUMEN_PTE_WRITABLE : 0);
    e->next_va += ((bytes + 8 + 4095) & ~4095ull) + 4096;
    return va;
}

static void env_put(Env *e, uint64_t va, const void *data, uint64_t bytes)
{
    for (uint64_t i = 0; i < bytes; i++) {
        *fake_va_ptr(e->f, CTX, va + i) = ((const uint8_t *)data)[i];
    }
}

static void env_get(Env *e, uint64_t va, void *data, uint64_t bytes)
{
    for (uint64_t i = 0; i < bytes; i++) {
        ((uint8_t *)data)[i] = *fake_va_ptr(e->f, CTX, va + i);
    }
}

/* Upload floats (or any array) into a new buffer. */
static uint64_t env_upload(Env *e, const void *data, uint64_t bytes,
                           bool writable)
{
    uint64_t va = env_buf(e, bytes, writable);

    env_put(e, va, data, bytes);
    return va;
}

static uint32_t env_run(Env *e, uint8_t opcode, const uint64_t d[16])
{
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE], raw[128];

    for (int i = 0; i < 16; i++) {
        fake_st64(raw + 8 * i, d[i]);
    }
    env_put(e, DESC_VA, raw, 128);
    CMD(c, opcode, 0, DESC_VA);
    env_put(e, IB_VA, c, 64);
    CMD(entry, LUMEN_OP_INDIRECT, 0, IB_VA, 64, CTX);
    return fake_run(e->f, entry, 100, NULL);
}

static uint32_t f32_bits(float f)
{
    uint32_t u;

    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;

    memcpy(&f, &u, 4);
    return f;
}

/* Small integers to f16 and back, by the format's definition. */
static uint16_t f16_of_int(int v)
{
    unsigned m = v < 0 ? -v : v, e = 0;

    if (m == 0) {
        return v < 0 ? 0x8000 : 0;
    }
    while ((m >> e) > 1) {
        e++;
    }
    return (v < 0 ? 0x8000 : 0) | (e + 15) << 10 | ((m << (10 - e)) & 0x3ff);
}

static double f16_val(uint16_t h)
{
    int e = (h >> 10) & 0x1f;
    double m = h & 0x3ff;
    double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);

    return h & 0x8000 ? -v : v;
}

static uint32_t rng_state = 12345;

static int rnd(int lo, int hi)
{
    rng_state = rng_state * 1103515245 + 12345;
    return lo + (int)((rng_state >> 8) % (unsigned)(hi - lo + 1));
}

static double act_ref(int act, double v)
{
    switch (act) {
    case 1:
        return v < 0 ? 0 : v;
    case 2:
        /* 0.5 v (1 + tanh(u)) = v sigmoid(2u), without the cancellation. */
        return v / (1 + exp(-2 * sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    case 3:
        return v / (1 + exp(-v));
    }
    return v;
}

static bool close_to(double want, double got, double rel, double abs_tol)
{
    return fabs(want - got) <= rel * fabs(want) + abs_tol;
}

/* ---- GEMM ---------------------------------------------------------------- */

typedef struct GemmCase {
    int m, n, k, ta, tb, bias, act;
    float alpha, beta;
} GemmCase;

static void gemm_f32_case(struct __test_metadata *_metadata,
                          const GemmCase *gc)
{
    Env e = env_new();
    int m = gc->m, n = gc->n, k = gc->k;
    int ar = gc->ta ? k : m, ac = gc->ta ? m : k;
    int br = gc->tb ? n : k, bc = gc->tb ? k : n;
    int lda = ac + 3, ldb = bc + 1, ldc = n + 2;
    float *a = calloc(ar * lda, 4), *b = calloc(br * ldb, 4);
    float *c = calloc(m * ldc, 4), *bias = calloc(m + n, 4);
    float *out = calloc(m * ldc, 4);
    uint64_t va_a, va_b, va_c, va_bias = 0;

    for (int i = 0; i < ar * lda; i++) {
        a[i] = rnd(-4, 4);
    }
    for (int i = 0; i < br * ldb; i++) {
        b[i] = rnd(-4, 4);
    }
    for (int i = 0; i < m * ldc; i++) {
        c[i] = (i % ldc) >= n ? -77.0f : rnd(-9, 9);
    }
    for (int i = 0; i < m + n; i++) {
        bias[i] = rnd(-5, 5);
    }
    va_a = env_upload(&e, a, ((ar - 1) * lda + ac) * 4, false);
    va_b = env_upload(&e, b, ((br - 1) * ldb + bc) * 4, false);
    va_c = env_upload(&e, c, (m * ldc) * 4, true);
    if (gc->bias) {
        va_bias = env_upload(&e, bias, (m + n) * 4, false);
    }
    uint64_t d[16] = {
        [LUMEN_GEMM_W_MODE] = LUMEN_HW_DTYPE_F32 | LUMEN_HW_DTYPE_F32 << 8 |
            (gc->ta ? LUMEN_GEMM_TRANS_A : 0) |
            (gc->tb ? LUMEN_GEMM_TRANS_B : 0) |
            (uint64_t)gc->bias << 20 | (uint64_t)gc->act << 24,
        [LUMEN_GEMM_W_M] = m, [LUMEN_GEMM_W_N] = n, [LUMEN_GEMM_W_K] = k,
        [LUMEN_GEMM_W_A] = va_a, [LUMEN_GEMM_W_LDA] = lda,
        [LUMEN_GEMM_W_B] = va_b, [LUMEN_GEMM_W_LDB] = ldb,
        [LUMEN_GEMM_W_C] = va_c, [LUMEN_GEMM_W_LDC] = ldc,
        [LUMEN_GEMM_W_BIAS] = va_bias,
        [LUMEN_GEMM_W_SCALE] = f32_bits(gc->alpha) |
            (uint64_t)f32_bits(gc->beta) << 32,
    };
    ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_GEMM, d));
    env_get(&e, va_c, out, m * ldc * 4);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < ldc; j++) {
            double z = 0;

            if (j >= n) {
                /* Between C's rows: untouched. */
                ASSERT_EQ(-77.0f, out[i * ldc + j]);
                continue;
            }
            for (int l = 0; l < k; l++) {
                double av = gc->ta ? a[l * lda + i] : a[i * lda + l];
                double bv = gc->tb ? b[j * ldb + l] : b[l * ldb + j];

                z += av * bv;
            }
            z = gc->alpha * z + gc->beta * c[i * ldc + j];
            if (gc->bias == 1) {
                z += bias[j];
            } else if (gc->bias == 2) {
                z += bias[i];
            }
            z = act_ref(gc->act, z);
            ASSERT_TRUE(close_to(z, out[i * ldc + j], 1e-5, 1e-5))
                TH_LOG("C[%d][%d] = %g, want %g", i, j, out[i * ldc + j], z);
        }
    }
    free(a);
    free(b);
    free(c);
    free(bias);
    free(out);
    fake_free(e.f);
}

TEST(gemm_f32)
{
    static const GemmCase cases[] = {
        { 5, 7, 9, 0, 0, 0, 0, 1.0f, 0.0f },
        { 5, 7, 9, 1, 0, 1, 1, 1.5f, 0.5f },
        { 5, 7, 9, 0, 1, 2, 0, -2.0f, 1.0f },
        { 13, 3, 33, 1, 1, 1, 2, 0.25f, -1.0f },
        { 1, 1, 1, 0, 0, 0, 3, 1.0f, 0.0f },
        { 40, 37, 70, 0, 0, 2, 1, 1.0f, 2.0f },
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gemm_f32_case(_metadata, &cases[i]);
    }
}

/* beta == 0: C is not read, so NaN in it does not propagate. */
TEST(gemm_beta0_does_not_read_c)
{
    Env e = env_new();
    float a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 0, 0, 1 }, c[4], out[4];
    uint64_t va_a = env_upload(&e, a, 16, false);
    uint64_t va_b = env_upload(&e, b, 16, false);
    uint64_t va_c;

    for (int i = 0; i < 4; i++) {
        c[i] = NAN;
    }
    va_c = env_upload(&e, c, 16, true);
    uint64_t d[16] = {
        [LUMEN_GEMM_W_MODE] = LUMEN_HW_DTYPE_F32 | LUMEN_HW_DTYPE_F32 << 8,
        [LUMEN_GEMM_W_M] = 2, [LUMEN_GEMM_W_N] = 2, [LUMEN_GEMM_W_K] = 2,
        [LUMEN_GEMM_W_A] = va_a, [LUMEN_GEMM_W_LDA] = 2,
        [LUMEN_GEMM_W_B] = va_b, [LUMEN_GEMM_W_LDB] = 2,
        [LUMEN_GEMM_W_C] = va_c, [LUMEN_GEMM_W_LDC] = 2,
        [LUMEN_GEMM_W_SCALE] = f32_bits(1.0f),
    };
    ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_GEMM, d));
    env_get(&e, va_c, out, 16);
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(a[i], out[i]);
    }
    fake_free(e.f);
}

TEST(gemm_i8)
{
    Env e = env_new();
    int m = 6, n = 5, k = 40;
    int8_t a[6 * 40], b[40 * 5];
    int32_t c[30], bias[6], out[30];
    uint64_t va_a, va_b, va_c, va_bias;

    for (int i = 0; i < m * k; i++) {
        a[i] = rnd(-128, 127);
    }
    for (int i = 0; i < k * n; i++) {
        b[i] = rnd(-128, 127);
    }
    for (int i = 0; i < m * n; i++) {
        c[i] = rnd(-100000, 100000);
    }
    for (int i = 0; i < m; i++) {
        bias[i] = rnd(-1000, 1000);
    }
    va_a = env_upload(&e, a, sizeof(a), false);
    va_b = env_upload(&e, b, sizeof(b), false);
    va_c = env_upload(&e, c, sizeof(c), true);
    va_bias = env_upload(&e, bias, sizeof(bias), false);
    uint64_t d[16] = {
        [LUMEN_GEMM_W_MODE] = LUMEN_HW_DTYPE_I8 | LUMEN_HW_DTYPE_I32 << 8 |
            2 << 20 | 1 << 24,
        [LUMEN_GEMM_W_M] = m, [LUMEN_GEMM_W_N] = n, [LUMEN_GEMM_W_K] = k,
        [LUMEN_GEMM_W_A] = va_a, [LUMEN_GEMM_W_LDA] = k,
        [LUMEN_GEMM_W_B] = va_b, [LUMEN_GEMM_W_LDB] = n,
        [LUMEN_GEMM_W_C] = va_c, [LUMEN_GEMM_W_LDC] = n,
        [LUMEN_GEMM_W_BIAS] = va_bias,
        [LUMEN_GEMM_W_SCALE] = 3 | (uint64_t)(uint32_t)-2 << 32,
    };
    ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_GEMM, d));
    env_get(&e, va_c, out, sizeof(out));
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            int64_t z = 0;

            for (int l = 0; l < k; l++) {
                z += a[i * k + l] * b[l * n + j];
            }
            z = 3 * z - 2 * (int64_t)c[i * n + j] + bias[i];
            z = z < 0 ? 0 : z;
            ASSERT_EQ((int32_t)z, out[i * n + j]);
        }
    }
    fake_free(e.f);
}

/* f16 and bf16 on small integers: every result is exact. */
TEST(gemm_f16_bf16)
{
    for (int t = 0; t < 4; t++) {
        Env e = env_new();
        bool bf = t & 1, c32 = t & 2;
        int m = 4, n = 6, k = 3;
        uint16_t a[12], b[18], out16[24];
        float out32[24];
        int ai[12], bi[18];
        uint64_t va_a, va_b, va_c;
        unsigned type = bf ? LUMEN_HW_DTYPE_BF16 : LUMEN_HW_DTYPE_F16;

        for (int i = 0; i < 12; i++) {
            ai[i] = rnd(-3, 3);
            a[i] = bf ? f32_bits(ai[i]) >> 16 : f16_of_int(ai[i]);
        }
        for (int i = 0; i < 18; i++) {
            bi[i] = rnd(-3, 3);
            b[i] = bf ? f32_bits(bi[i]) >> 16 : f16_of_int(bi[i]);
        }
        va_a = env_upload(&e, a, sizeof(a), false);
        va_b = env_upload(&e, b, sizeof(b), false);
        va_c = env_buf(&e, 24 * 4, true);
        uint64_t d[16] = {
            [LUMEN_GEMM_W_MODE] = type |
                (uint64_t)(c32 ? LUMEN_HW_DTYPE_F32 : type) << 8,
            [LUMEN_GEMM_W_M] = m, [LUMEN_GEMM_W_N] = n, [LUMEN_GEMM_W_K] = k,
            [LUMEN_GEMM_W_A] = va_a, [LUMEN_GEMM_W_LDA] = k,
            [LUMEN_GEMM_W_B] = va_b, [LUMEN_GEMM_W_LDB] = n,
            [LUMEN_GEMM_W_C] = va_c, [LUMEN_GEMM_W_LDC] = n,
            [LUMEN_GEMM_W_SCALE] = f32_bits(1.0f),
        };
        ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_GEMM, d));
        if (c32) {
            env_get(&e, va_c, out32, m * n * 4);
        } else {
            env_get(&e, va_c, out16, m * n * 2);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int z = 0;
                double got;

                for (int l = 0; l < k; l++) {
                    z += ai[i * k + l] * bi[l * n + j];
                }
                got = c32 ? out32[i * n + j] :
                      bf ? bits_f32((uint32_t)out16[i * n + j] << 16) :
                      f16_val(out16[i * n + j]);
                ASSERT_EQ(z, got) TH_LOG("type %d [%d][%d]", t, i, j);
            }
        }
        fake_free(e.f);
    }
}

/* ---- Element-wise ------------------------------------------------------- */

TEST(eltwise_f32)
{
    for (int op = 1; op <= 5; op++) {
        for (int bcast = 0; bcast < 2; bcast++) {
            Env e = env_new();
            int rows = 7, cols = 19, ldx = 21, ldy = 20, ldb = 23;
            bool binary = op <= 2;
            float *x = calloc(rows * ldx, 4), *b = calloc(rows * ldb, 4);
            float *y = calloc(rows * ldy, 4);
            uint64_t va_x, va_b = 0, va_y;

            if (bcast && !binary) {
                free(x);
                free(b);
                free(y);
                fake_free(e.f);
                continue;
            }
            for (int i = 0; i < rows * ldx; i++) {
                x[i] = rnd(-300, 300) / 37.0f;
            }
            for (int i = 0; i < rows * ldb; i++) {
                b[i] = rnd(-300, 300) / 29.0f;
            }
            for (int i = 0; i < rows * ldy; i++) {
                y[i] = 555.0f;
            }
            va_x = env_upload(&e, x, rows * ldx * 4, false);
            if (binary) {
                va_b = env_upload(&e, b, bcast ? cols * 4 : rows * ldb * 4,
                                  false);
            }
            va_y = env_upload(&e, y, rows * ldy * 4, true);
            uint64_t d[16] = {
                [LUMEN_ELT_W_MODE] = op | LUMEN_HW_DTYPE_F32 << 8 |
                    (bcast ? LUMEN_ELT_BROADCAST : 0),
                [LUMEN_ELT_W_ROWS] = rows, [LUMEN_ELT_W_COLS] = cols,
                [LUMEN_ELT_W_Y] = va_y, [LUMEN_ELT_W_LDY] = ldy,
                [LUMEN_ELT_W_X] = va_x, [LUMEN_ELT_W_LDX] = ldx,
                [LUMEN_ELT_W_B] = va_b,
                [LUMEN_ELT_W_LDB] = binary && !bcast ? ldb : 0,
            };
            ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_ELTWISE, d));
            env_get(&e, va_y, y, rows * ldy * 4);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < ldy; j++) {
                    double xv = x[i * ldx + j], want;
                    double bv = bcast ? b[j] : b[i * ldb + j];

                    if (j >= cols) {
                        ASSERT_EQ(555.0f, y[i * ldy + j]);
                        continue;
                    }
                    want = op == 1 ? (float)(xv + bv) :
                           op == 2 ? (float)(xv * bv) :
                           act_ref(op - 2, xv);
                    ASSERT_TRUE(close_to(want, y[i * ldy + j],
                                         op <= 3 ? 0 : 1e-5, 1e-30))
                        TH_LOG("op %d [%d][%d] %g want %g", op, i, j,
                               y[i * ldy + j], want);
                }
            }
            free(x);
            free(b);
            free(y);
            fake_free(e.f);
        }
    }
}

/* In place (y == x) and f16. */
TEST(eltwise_in_place_f16)
{
    Env e = env_new();
    uint16_t x[40], b[40], out[40];
    int xi[40], bi[40];
    uint64_t va_x, va_b;

    for (int i = 0; i < 40; i++) {
        xi[i] = rnd(-50, 50);
        bi[i] = rnd(-50, 50);
        x[i] = f16_of_int(xi[i]);
        b[i] = f16_of_int(bi[i]);
    }
    va_x = env_upload(&e, x, sizeof(x), true);
    va_b = env_upload(&e, b, sizeof(b), false);
    uint64_t d[16] = {
        [LUMEN_ELT_W_MODE] = 1 | LUMEN_HW_DTYPE_F16 << 8,
        [LUMEN_ELT_W_ROWS] = 4, [LUMEN_ELT_W_COLS] = 10,
        [LUMEN_ELT_W_Y] = va_x, [LUMEN_ELT_W_LDY] = 10,
        [LUMEN_ELT_W_X] = va_x, [LUMEN_ELT_W_LDX] = 10,
        [LUMEN_ELT_W_B] = va_b, [LUMEN_ELT_W_LDB] = 10,
    };
    ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_ELTWISE, d));
    env_get(&e, va_x, out, sizeof(out));
    for (int i = 0; i < 40; i++) {
        ASSERT_EQ(xi[i] + bi[i], f16_val(out[i]));
    }
    fake_free(e.f);
}

/* ---- Softmax and norms --------------------------------------------------- */

TEST(rows_ops)
{
    static const uint8_t ops[] = { LUMEN_OP_SOFTMAX, LUMEN_OP_LAYER_NORM,
                                   LUMEN_OP_RMS_NORM };

    for (int o = 0; o < 3; o++) {
        for (int affine = 0; affine < 2; affine++) {
            Env e = env_new();
            int rows = 5, cols = 33, ldx = 40, ldy = 35;
            float *x = calloc(rows * ldx, 4), *y = calloc(rows * ldy, 4);
            float g[33], bt[33], eps = 1e-3f;
            uint64_t va_x, va_y, va_g = 0, va_bt = 0;
            uint8_t op = ops[o];

            if (op == LUMEN_OP_SOFTMAX && affine) {
                free(x);
                free(y);
                fake_free(e.f);
                continue;
            }
            for (int i = 0; i < rows * ldx; i++) {
                x[i] = rnd(-1000, 1000) / 100.0f;
            }
            for (int i = 0; i < rows * ldy; i++) {
                y[i] = -3.0f;
            }
            for (int j = 0; j < cols; j++) {
                g[j] = rnd(1, 100) / 50.0f;
                bt[j] = rnd(-100, 100) / 50.0f;
            }
            va_x = env_upload(&e, x, rows * ldx * 4, false);
            va_y = env_upload(&e, y, rows * ldy * 4, true);
            if (affine) {
                va_g = env_upload(&e, g, sizeof(g), false);
                if (op == LUMEN_OP_LAYER_NORM) {
                    va_bt = env_upload(&e, bt, sizeof(bt), false);
                }
            }
            uint64_t d[16] = {
                [LUMEN_ROWS_W_ROWS] = rows, [LUMEN_ROWS_W_COLS] = cols,
                [LUMEN_ROWS_W_Y] = va_y, [LUMEN_ROWS_W_LDY] = ldy,
                [LUMEN_ROWS_W_X] = va_x, [LUMEN_ROWS_W_LDX] = ldx,
                [LUMEN_ROWS_W_GAMMA] = va_g, [LUMEN_ROWS_W_BETA] = va_bt,
                [LUMEN_ROWS_W_EPS] = op == LUMEN_OP_SOFTMAX ? 0 : f32_bits(eps),
            };
            ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, op, d));
            env_get(&e, va_y, y, rows * ldy * 4);
            for (int i = 0; i < rows; i++) {
                const float *xr = x + i * ldx;
                double mx = -INFINITY, sum = 0, mean = 0, var = 0, ms = 0;

                for (int j = 0; j < cols; j++) {
                    mx = fmax(mx, xr[j]);
                    mean += xr[j] / (double)cols;
                    ms += (double)xr[j] * xr[j] / cols;
                }
                for (int j = 0; j < cols; j++) {
                    sum += exp(xr[j] - mx);
                    var += (xr[j] - mean) * (xr[j] - mean) / cols;
                }
                for (int j = 0; j < ldy; j++) {
                    double want;

                    if (j >= cols) {
                        ASSERT_EQ(-3.0f, y[i * ldy + j]);
                        continue;
                    }
                    if (op == LUMEN_OP_SOFTMAX) {
                        want = exp(xr[j] - mx) / sum;
                    } else if (op == LUMEN_OP_LAYER_NORM) {
                        want = (xr[j] - mean) / sqrt(var + eps) *
                               (affine ? g[j] : 1) + (affine ? bt[j] : 0);
                    } else {
                        want = xr[j] / sqrt(ms + eps) * (affine ? g[j] : 1);
                    }
                    ASSERT_TRUE(close_to(want, y[i * ldy + j], 1e-5, 1e-6))
                        TH_LOG("op %#x [%d][%d] %g want %g", op, i, j,
                               y[i * ldy + j], want);
                }
            }
            free(x);
            free(y);
            fake_free(e.f);
        }
    }
}

/* ---- conv2d and pooling -------------------------------------------------- */

typedef struct ConvCase {
    int n, c, h, w, k, r, s, g, sh, sw, ph, pw, dh, dw, bias, act;
} ConvCase;

TEST(conv2d)
{
    static const ConvCase cases[] = {
        { 1, 1, 5, 5, 1, 3, 3, 1, 1, 1, 0, 0, 1, 1, 0, 0 },
        { 2, 4, 7, 6, 6, 3, 2, 2, 2, 1, 1, 1, 1, 2, 1, 1 },
        { 1, 3, 9, 8, 4, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0 },
        { 1, 4, 6, 6, 4, 3, 3, 4, 1, 2, 2, 1, 2, 1, 0, 3 },
    };

    for (unsigned t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        const ConvCase *cc = &cases[t];
        Env e = env_new();
        int cg = cc->c / cc->g, kg = cc->k / cc->g;
        int p = (cc->h + 2 * cc->ph - cc->dh * (cc->r - 1) - 1) / cc->sh + 1;
        int q = (cc->w + 2 * cc->pw - cc->dw * (cc->s - 1) - 1) / cc->sw + 1;
        int xn = cc->n * cc->c * cc->h * cc->w, wn = cc->k * cg * cc->r * cc->s;
        int yn = cc->n * cc->k * p * q;
        float *x = malloc(xn * 4), *wt = malloc(wn * 4), *y = malloc(yn * 4);
        float bias[8];
        uint64_t va_x, va_w, va_b = 0, va_y;

        for (int i = 0; i < xn; i++) {
            x[i] = rnd(-8, 8) / 4.0f;
        }
        for (int i = 0; i < wn; i++) {
            wt[i] = rnd(-8, 8) / 8.0f;
        }
        for (int i = 0; i < cc->k; i++) {
            bias[i] = rnd(-4, 4);
        }
        va_x = env_upload(&e, x, xn * 4, false);
        va_w = env_upload(&e, wt, wn * 4, false);
        if (cc->bias) {
            va_b = env_upload(&e, bias, cc->k * 4, false);
        }
        va_y = env_buf(&e, yn * 4, true);
        uint64_t d[16] = {
            [LUMEN_CONV_W_MODE] = cc->act,
            [LUMEN_CONV_W_N] = cc->n, [LUMEN_CONV_W_C] = cc->c,
            [LUMEN_CONV_W_H] = cc->h, [LUMEN_CONV_W_W] = cc->w,
            [LUMEN_CONV_W_K] = cc->k, [LUMEN_CONV_W_R] = cc->r,
            [LUMEN_CONV_W_S] = cc->s, [LUMEN_CONV_W_GROUPS] = cc->g,
            [LUMEN_CONV_W_STRIDE] = LUMEN_PAIR(cc->sh, cc->sw),
            [LUMEN_CONV_W_PAD] = LUMEN_PAIR(cc->ph, cc->pw),
            [LUMEN_CONV_W_DILATION] = LUMEN_PAIR(cc->dh, cc->dw),
            [LUMEN_CONV_W_X] = va_x, [LUMEN_CONV_W_WEIGHT] = va_w,
            [LUMEN_CONV_W_BIAS] = va_b, [LUMEN_CONV_W_Y] = va_y,
        };
        ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_CONV2D, d));
        env_get(&e, va_y, y, yn * 4);
        for (int ni = 0; ni < cc->n; ni++)
        for (int o = 0; o < cc->k; o++)
        for (int pi = 0; pi < p; pi++)
        for (int qi = 0; qi < q; qi++) {
            int grp = o / kg;
            double z = cc->bias ? bias[o] : 0;

            for (int ci = 0; ci < cg; ci++)
            for (int ri = 0; ri < cc->r; ri++)
            for (int si = 0; si < cc->s; si++) {
                int hi = pi * cc->sh - cc->ph + ri * cc->dh;
                int wi = qi * cc->sw - cc->pw + si * cc->dw;
                int ch = grp * cg + ci;

                if (hi < 0 || hi >= cc->h || wi < 0 || wi >= cc->w) {
                    continue;
                }
                z += x[((ni * cc->c + ch) * cc->h + hi) * cc->w + wi] *
                     wt[((o * cg + ci) * cc->r + ri) * cc->s + si];
            }
            z = act_ref(cc->act, z);
            ASSERT_TRUE(close_to(z, y[((ni * cc->k + o) * p + pi) * q + qi],
                                 1e-5, 1e-5))
                TH_LOG("case %u", t);
        }
        free(x);
        free(wt);
        free(y);
        fake_free(e.f);
    }
}

TEST(pool2d)
{
    for (int mode = 1; mode <= 2; mode++) {
        Env e = env_new();
        int n = 2, c = 3, h = 7, w = 9, r = 3, s = 2, sh = 2, sw = 3;
        int ph = 1, pw = 1;
        int p = (h + 2 * ph - r) / sh + 1, q = (w + 2 * pw - s) / sw + 1;
        int xn = n * c * h * w, yn = n * c * p * q;
        float *x = malloc(xn * 4), *y = malloc(yn * 4);
        uint64_t va_x, va_y;

        for (int i = 0; i < xn; i++) {
            x[i] = rnd(-100, 100) / 8.0f;
        }
        va_x = env_upload(&e, x, xn * 4, false);
        va_y = env_buf(&e, yn * 4, true);
        uint64_t d[16] = {
            [LUMEN_POOL_W_MODE] = mode,
            [LUMEN_POOL_W_N] = n, [LUMEN_POOL_W_C] = c,
            [LUMEN_POOL_W_H] = h, [LUMEN_POOL_W_W] = w,
            [LUMEN_POOL_W_R] = r, [LUMEN_POOL_W_S] = s,
            [LUMEN_POOL_W_STRIDE] = LUMEN_PAIR(sh, sw),
            [LUMEN_POOL_W_PAD] = LUMEN_PAIR(ph, pw),
            [LUMEN_POOL_W_X] = va_x, [LUMEN_POOL_W_Y] = va_y,
        };
        ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_POOL2D, d));
        env_get(&e, va_y, y, yn * 4);
        for (int pl = 0; pl < n * c; pl++)
        for (int pi = 0; pi < p; pi++)
        for (int qi = 0; qi < q; qi++) {
            double acc = mode == 1 ? -INFINITY : 0;
            int cnt = 0;

            for (int ri = 0; ri < r; ri++)
            for (int si = 0; si < s; si++) {
                int hi = pi * sh - ph + ri, wi = qi * sw - pw + si;

                if (hi < 0 || hi >= h || wi < 0 || wi >= w) {
                    continue;
                }
                double v = x[(pl * h + hi) * w + wi];
                acc = mode == 1 ? fmax(acc, v) : acc + v;
                cnt++;
            }
            if (mode == 2) {
                acc /= cnt;
            }
            ASSERT_EQ((float)acc, y[(pl * p + pi) * q + qi]);
        }
        free(x);
        free(y);
        fake_free(e.f);
    }
}

/* ---- Descriptor checks --------------------------------------------------- */

static void valid_gemm(uint64_t d[16], uint64_t buf)
{
    memset(d, 0, 16 * 8);
    d[LUMEN_GEMM_W_MODE] = LUMEN_HW_DTYPE_F32 | LUMEN_HW_DTYPE_F32 << 8;
    d[LUMEN_GEMM_W_M] = d[LUMEN_GEMM_W_N] = d[LUMEN_GEMM_W_K] = 4;
    d[LUMEN_GEMM_W_LDA] = d[LUMEN_GEMM_W_LDB] = d[LUMEN_GEMM_W_LDC] = 4;
    d[LUMEN_GEMM_W_A] = buf;
    d[LUMEN_GEMM_W_B] = buf + 64;
    d[LUMEN_GEMM_W_C] = buf + 128;
    d[LUMEN_GEMM_W_SCALE] = f32_bits(1.0f);
}

static void valid_elt(uint64_t d[16], uint64_t buf)
{
    memset(d, 0, 16 * 8);
    d[LUMEN_ELT_W_MODE] = 1 | LUMEN_HW_DTYPE_F32 << 8;
    d[LUMEN_ELT_W_ROWS] = d[LUMEN_ELT_W_COLS] = 4;
    d[LUMEN_ELT_W_LDY] = d[LUMEN_ELT_W_LDX] = d[LUMEN_ELT_W_LDB] = 4;
    d[LUMEN_ELT_W_Y] = buf + 128;
    d[LUMEN_ELT_W_X] = buf;
    d[LUMEN_ELT_W_B] = buf + 64;
}

static void valid_rows(uint64_t d[16], uint64_t buf)
{
    memset(d, 0, 16 * 8);
    d[LUMEN_ROWS_W_ROWS] = d[LUMEN_ROWS_W_COLS] = 4;
    d[LUMEN_ROWS_W_LDY] = d[LUMEN_ROWS_W_LDX] = 4;
    d[LUMEN_ROWS_W_Y] = buf + 128;
    d[LUMEN_ROWS_W_X] = buf;
}

static void valid_conv(uint64_t d[16], uint64_t buf)
{
    memset(d, 0, 16 * 8);
    for (int i = LUMEN_CONV_W_N; i <= LUMEN_CONV_W_GROUPS; i++) {
        d[i] = 1;
    }
    d[LUMEN_CONV_W_H] = d[LUMEN_CONV_W_W] = 3;
    d[LUMEN_CONV_W_STRIDE] = d[LUMEN_CONV_W_DILATION] = LUMEN_PAIR(1, 1);
    d[LUMEN_CONV_W_X] = buf;
    d[LUMEN_CONV_W_WEIGHT] = buf + 64;
    d[LUMEN_CONV_W_Y] = buf + 128;
}

static void valid_pool(uint64_t d[16], uint64_t buf)
{
    memset(d, 0, 16 * 8);
    d[LUMEN_POOL_W_MODE] = 1;  /* max */
    for (int i = LUMEN_POOL_W_N; i <= LUMEN_POOL_W_S; i++) {
        d[i] = 1;
    }
    d[LUMEN_POOL_W_H] = d[LUMEN_POOL_W_W] = 3;
    d[LUMEN_POOL_W_STRIDE] = LUMEN_PAIR(1, 1);
    d[LUMEN_POOL_W_X] = buf;
    d[LUMEN_POOL_W_Y] = buf + 128;
}

typedef struct DescCase {
    const char *what;
    uint8_t op;
    void (*valid)(uint64_t d[16], uint64_t buf);
    int word;
    uint64_t value;
    uint32_t err;
} DescCase;

static const DescCase desc_cases[] = {
    { "gemm mode bit 18", LUMEN_OP_GEMM, valid_gemm, 0, 0x0101 | 1 << 18,
      LUMEN_ERR_BAD_DESC },
    { "gemm mode bit 28", LUMEN_OP_GEMM, valid_gemm, 0, 0x0101 | 1 << 28,
      LUMEN_ERR_BAD_DESC },
    { "gemm type 0", LUMEN_OP_GEMM, valid_gemm, 0, 0x0100,
      LUMEN_ERR_BAD_DESC },
    { "gemm type 6", LUMEN_OP_GEMM, valid_gemm, 0, 0x0106,
      LUMEN_ERR_BAD_DESC },
    { "gemm f32 -> f16", LUMEN_OP_GEMM, valid_gemm, 0, 0x0201,
      LUMEN_ERR_BAD_DESC },
    { "gemm i8 -> f32", LUMEN_OP_GEMM, valid_gemm, 0, 0x0104,
      LUMEN_ERR_BAD_DESC },
    { "gemm f16 -> bf16", LUMEN_OP_GEMM, valid_gemm, 0, 0x0302,
      LUMEN_ERR_BAD_DESC },
    { "gemm bias kind 3", LUMEN_OP_GEMM, valid_gemm, 0, 0x0101 | 3 << 20,
      LUMEN_ERR_BAD_DESC },
    { "gemm bias kind without address", LUMEN_OP_GEMM, valid_gemm, 0,
      0x0101 | 1 << 20, LUMEN_ERR_BAD_DESC },
    { "gemm bias address without kind", LUMEN_OP_GEMM, valid_gemm, 10,
      0x1000, LUMEN_ERR_BAD_DESC },
    { "gemm act 4", LUMEN_OP_GEMM, valid_gemm, 0, 0x0101 | 4 << 24,
      LUMEN_ERR_BAD_DESC },
    { "gemm i8 gelu", LUMEN_OP_GEMM, valid_gemm, 0, 0x0504 | 2 << 24,
      LUMEN_ERR_BAD_DESC },
    { "gemm m 0", LUMEN_OP_GEMM, valid_gemm, 1, 0, LUMEN_ERR_BAD_DESC },
    { "gemm k 2^31", LUMEN_OP_GEMM, valid_gemm, 3, 1ull << 31,
      LUMEN_ERR_BAD_DESC },
    { "gemm lda < k", LUMEN_OP_GEMM, valid_gemm, 5, 3, LUMEN_ERR_BAD_DESC },
    { "gemm ldb < n", LUMEN_OP_GEMM, valid_gemm, 7, 3, LUMEN_ERR_BAD_DESC },
    { "gemm ldc < n", LUMEN_OP_GEMM, valid_gemm, 9, 0, LUMEN_ERR_BAD_DESC },
    { "gemm word 12", LUMEN_OP_GEMM, valid_gemm, 12, 1, LUMEN_ERR_BAD_DESC },
    { "gemm word 15", LUMEN_OP_GEMM, valid_gemm, 15, 1ull << 63,
      LUMEN_ERR_BAD_DESC },
    { "gemm ldc extent", LUMEN_OP_GEMM, valid_gemm, 9, 1ull << 40,
      LUMEN_ERR_TOO_LARGE },
    { "elt op 0", LUMEN_OP_ELTWISE, valid_elt, 0, 0x100, LUMEN_ERR_BAD_DESC },
    { "elt op 6", LUMEN_OP_ELTWISE, valid_elt, 0, 0x106, LUMEN_ERR_BAD_DESC },
    { "elt type i8", LUMEN_OP_ELTWISE, valid_elt, 0, 0x401,
      LUMEN_ERR_BAD_DESC },
    { "elt mode bit 17", LUMEN_OP_ELTWISE, valid_elt, 0, 0x101 | 1 << 17,
      LUMEN_ERR_BAD_DESC },
    { "elt broadcast with ldb", LUMEN_OP_ELTWISE, valid_elt, 0,
      0x101 | LUMEN_ELT_BROADCAST, LUMEN_ERR_BAD_DESC },
    { "elt relu with b", LUMEN_OP_ELTWISE, valid_elt, 0, 0x103,
      LUMEN_ERR_BAD_DESC },
    { "elt ldx < cols", LUMEN_OP_ELTWISE, valid_elt, 6, 3,
      LUMEN_ERR_BAD_DESC },
    { "elt cols 0", LUMEN_OP_ELTWISE, valid_elt, 2, 0, LUMEN_ERR_BAD_DESC },
    { "elt word 9", LUMEN_OP_ELTWISE, valid_elt, 9, 1, LUMEN_ERR_BAD_DESC },
    { "elt huge ldy", LUMEN_OP_ELTWISE, valid_elt, 4, 1ull << 30,
      LUMEN_ERR_TOO_LARGE },
    { "elt rows*ldx overflow", LUMEN_OP_ELTWISE, valid_elt, 6, 1ull << 62,
      LUMEN_ERR_TOO_LARGE },
    { "softmax mode", LUMEN_OP_SOFTMAX, valid_rows, 0, 1, LUMEN_ERR_BAD_DESC },
    { "softmax gamma", LUMEN_OP_SOFTMAX, valid_rows, 7, 0x1000,
      LUMEN_ERR_BAD_DESC },
    { "softmax eps", LUMEN_OP_SOFTMAX, valid_rows, 9, 1, LUMEN_ERR_BAD_DESC },
    { "softmax word 10", LUMEN_OP_SOFTMAX, valid_rows, 10, 1,
      LUMEN_ERR_BAD_DESC },
    { "rms norm beta", LUMEN_OP_RMS_NORM, valid_rows, 8, 0x1000,
      LUMEN_ERR_BAD_DESC },
    { "layer norm eps high half", LUMEN_OP_LAYER_NORM, valid_rows, 9,
      1ull << 32, LUMEN_ERR_BAD_DESC },
    { "layer norm eps NaN", LUMEN_OP_LAYER_NORM, valid_rows, 9, 0x7fc00000,
      LUMEN_ERR_BAD_DESC },
    { "layer norm eps < 0", LUMEN_OP_LAYER_NORM, valid_rows, 9, 0xbf800000,
      LUMEN_ERR_BAD_DESC },
    { "rms norm rows 0", LUMEN_OP_RMS_NORM, valid_rows, 1, 0,
      LUMEN_ERR_BAD_DESC },
    { "conv act 4", LUMEN_OP_CONV2D, valid_conv, 0, 4, LUMEN_ERR_BAD_DESC },
    { "conv mode bit 4", LUMEN_OP_CONV2D, valid_conv, 0, 16,
      LUMEN_ERR_BAD_DESC },
    { "conv groups 2 of c 1", LUMEN_OP_CONV2D, valid_conv, 8, 2,
      LUMEN_ERR_BAD_DESC },
    { "conv stride 0", LUMEN_OP_CONV2D, valid_conv, 9, LUMEN_PAIR(0, 1),
      LUMEN_ERR_BAD_DESC },
    { "conv dilation w 0", LUMEN_OP_CONV2D, valid_conv, 11, LUMEN_PAIR(1, 0),
      LUMEN_ERR_BAD_DESC },
    { "conv kernel larger than input", LUMEN_OP_CONV2D, valid_conv, 6, 5,
      LUMEN_ERR_BAD_DESC },
    { "conv pad 2^31", LUMEN_OP_CONV2D, valid_conv, 10, LUMEN_PAIR(1u << 31, 0),
      LUMEN_ERR_BAD_DESC },
    { "conv huge input", LUMEN_OP_CONV2D, valid_conv, 3, 0x7fffffff,
      LUMEN_ERR_TOO_LARGE },
    { "conv huge batch", LUMEN_OP_CONV2D, valid_conv, 1, 0x7fffffff,
      LUMEN_ERR_TOO_LARGE },
    { "pool mode 0", LUMEN_OP_POOL2D, valid_pool, 0, 0, LUMEN_ERR_BAD_DESC },
    { "pool mode 3", LUMEN_OP_POOL2D, valid_pool, 0, 3, LUMEN_ERR_BAD_DESC },
    { "pool pad >= window", LUMEN_OP_POOL2D, valid_pool, 8, LUMEN_PAIR(1, 0),
      LUMEN_ERR_BAD_DESC },
    { "pool word 11", LUMEN_OP_POOL2D, valid_pool, 11, 1,
      LUMEN_ERR_BAD_DESC },
    { "pool huge", LUMEN_OP_POOL2D, valid_pool, 4, 0x7fffffff,
      LUMEN_ERR_TOO_LARGE },
};

/* Each bad descriptor: its error, and the output buffer untouched. */
TEST(bad_descriptors)
{
    Env e = env_new();
    uint64_t buf = env_buf(&e, 4096, true);
    uint8_t before[4096], after[4096];
    uint64_t d[16];

    for (int i = 0; i < 4096; i++) {
        before[i] = i * 7;
    }
    for (unsigned i = 0; i < sizeof(desc_cases) / sizeof(desc_cases[0]); i++) {
        const DescCase *dc = &desc_cases[i];

        env_put(&e, buf, before, sizeof(before));
        dc->valid(d, buf);
        /* The valid descriptor works, ... */
        ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, dc->op, d)) TH_LOG("%s",
                                                                  dc->what);
        env_put(&e, buf, before, sizeof(before));
        /* ... one word changed gives the error and writes nothing. */
        d[dc->word] = dc->value;
        EXPECT_EQ(dc->err, env_run(&e, dc->op, d)) TH_LOG("%s", dc->what);
        env_get(&e, buf, after, sizeof(after));
        EXPECT_EQ(0, memcmp(before, after, sizeof(before))) TH_LOG("%s",
                                                                   dc->what);
    }
    fake_free(e.f);
}

/*
 * Operands within LUMEN_OP_MAX_BYTES but too much work: a 7000 x 7000
 * image (196 MB) with a 100 x 100 kernel is 4.8e11 multiply-adds.
 */
TEST(too_large_work)
{
    Env e = env_new();
    uint64_t d[16];

    valid_conv(d, 0x1000000);
    d[LUMEN_CONV_W_H] = d[LUMEN_CONV_W_W] = 7000;
    d[LUMEN_CONV_W_R] = d[LUMEN_CONV_W_S] = 100;
    EXPECT_EQ(LUMEN_ERR_TOO_LARGE, env_run(&e, LUMEN_OP_CONV2D, d));
    valid_pool(d, 0x1000000);
    d[LUMEN_POOL_W_H] = d[LUMEN_POOL_W_W] = 7000;
    d[LUMEN_POOL_W_R] = d[LUMEN_POOL_W_S] = 100;
    EXPECT_EQ(LUMEN_ERR_TOO_LARGE, env_run(&e, LUMEN_OP_POOL2D, d));
    /* GEMM: 8192^3 = 2^39 multiply-adds. */
    valid_gemm(d, 0x1000000);
    d[LUMEN_GEMM_W_M] = d[LUMEN_GEMM_W_N] = d[LUMEN_GEMM_W_K] = 8192;
    d[LUMEN_GEMM_W_LDA] = d[LUMEN_GEMM_W_LDB] = d[LUMEN_GEMM_W_LDC] = 8192;
    EXPECT_EQ(LUMEN_ERR_TOO_LARGE, env_run(&e, LUMEN_OP_GEMM, d));
    fake_free(e.f);
}

/* An unreadable operand faults before anything is written. */
TEST(operand_faults)
{
    Env e = env_new();
    uint64_t buf = env_buf(&e, 4096, true), ro = env_buf(&e, 4096, false);
    uint8_t before[4096], after[4096];
    uint64_t d[16];

    for (int i = 0; i < 4096; i++) {
        before[i] = i * 3;
    }
    env_put(&e, buf, before, sizeof(before));
    valid_gemm(d, buf);
    d[LUMEN_GEMM_W_B] = 0x5000000;  /* unmapped */
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, env_run(&e, LUMEN_OP_GEMM, d));
    EXPECT_EQ(0x5000000, e.f->x.fault_va);
    EXPECT_EQ(LUMEN_FAULT_NOT_PRESENT | CTX << 16 | 5 << 24,
              e.f->x.fault_info);
    env_get(&e, buf, after, sizeof(after));
    EXPECT_EQ(0, memcmp(before, after, sizeof(before)));

    /* The output read-only: a write fault. */
    valid_gemm(d, buf);
    d[LUMEN_GEMM_W_C] = ro;
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, env_run(&e, LUMEN_OP_GEMM, d));
    EXPECT_EQ(ro, e.f->x.fault_va);
    EXPECT_EQ(LUMEN_FAULT_READ_ONLY | LUMEN_FAULT_INFO_WRITE | CTX << 16 |
              5 << 24, e.f->x.fault_info);

    /* The descriptor itself unmapped, and misaligned. */
    {
        uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];

        CMD(c, LUMEN_OP_SOFTMAX, 0, 0x6000000);
        env_put(&e, IB_VA, c, 64);
        CMD(entry, LUMEN_OP_INDIRECT, 0, IB_VA, 64, CTX);
        EXPECT_EQ(LUMEN_ERR_MMU_FAULT, fake_run(e.f, entry, 10, NULL));
        EXPECT_EQ(0x6000000, e.f->x.fault_va);
        CMD(c, LUMEN_OP_SOFTMAX, 0, DESC_VA + 4);
        env_put(&e, IB_VA, c, 64);
        EXPECT_EQ(LUMEN_ERR_ALIGN, fake_run(e.f, entry, 10, NULL));
    }
    fake_free(e.f);
}

/* Only the rows of a strided operand are accessed: gaps may be unmapped. */
TEST(strided_operands_skip_gaps)
{
    Env e = env_new();
    uint64_t x = 0x3000000, y = 0x3100000;
    float xv[8] = { -1, 2, -3, 4, 5, -6, 7, -8 }, out[4];
    uint64_t d[16] = { 0 };

    /* Rows 8 KiB apart (ld = 2048 floats); the page between is unmapped. */
    fake_map(e.f, CTX, x, fake_alloc(e.f, 4096), 0);
    fake_map(e.f, CTX, x + 8192, fake_alloc(e.f, 4096), 0);
    fake_map(e.f, CTX, y, fake_alloc(e.f, 4096), LUMEN_PTE_WRITABLE);
    fake_map(e.f, CTX, y + 8192, fake_alloc(e.f, 4096), LUMEN_PTE_WRITABLE);
    env_put(&e, x, xv, 16);
    env_put(&e, x + 8192, xv + 4, 16);
    d[LUMEN_ELT_W_MODE] = 3 | LUMEN_HW_DTYPE_F32 << 8;     /* relu */
    d[LUMEN_ELT_W_ROWS] = 2;
    d[LUMEN_ELT_W_COLS] = 4;
    d[LUMEN_ELT_W_Y] = y;
    d[LUMEN_ELT_W_LDY] = 2048;
    d[LUMEN_ELT_W_X] = x;
    d[LUMEN_ELT_W_LDX] = 2048;
    ASSERT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_ELTWISE, d));
    env_get(&e, y, out, 16);
    EXPECT_EQ(0, out[0]);
    EXPECT_EQ(2, out[1]);
    env_get(&e, y + 8192, out, 16);
    EXPECT_EQ(5, out[0]);
    EXPECT_EQ(7, out[2]);
    EXPECT_EQ(0, out[3]);

    /* An output extent reaching 2^48 faults before any row is written. */
    d[LUMEN_ELT_W_Y] = (1ull << 48) - 8192;
    fake_map(e.f, CTX, (1ull << 48) - 8192, fake_alloc(e.f, 4096),
             LUMEN_PTE_WRITABLE);
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, env_run(&e, LUMEN_OP_ELTWISE, d));
    EXPECT_EQ(1ull << 48, e.f->x.fault_va);
    EXPECT_EQ(LUMEN_FAULT_VA_RANGE | LUMEN_FAULT_INFO_WRITE | CTX << 16 |
              5 << 24, e.f->x.fault_info);
    EXPECT_EQ(0, *fake_va_ptr(e.f, CTX, (1ull << 48) - 8192));
    fake_free(e.f);
}

/* A reset while an operator computes: nothing is written. */
TEST(operator_cancelled_before_write)
{
    Env e = env_new();
    uint64_t buf = env_buf(&e, 4096, true);
    uint8_t before[4096], after[4096];
    uint64_t d[16];

    for (int i = 0; i < 4096; i++) {
        before[i] = i * 5;
    }
    env_put(&e, buf, before, sizeof(before));
    valid_gemm(d, buf);
    /* Operand gathers are single chunks: the first poll is after compute. */
    e.f->cancel_after = 0;
    EXPECT_EQ(LUMEN_STEP_CANCELLED, env_run(&e, LUMEN_OP_GEMM, d));
    env_get(&e, buf, after, sizeof(after));
    EXPECT_EQ(0, memcmp(before, after, sizeof(before)));

    /* An output in device memory: write_begin refuses, nothing lands. */
    e.f->cancel_after = -1;
    e.f->deny_devmem = true;
    fake_map(e.f, CTX, 0x4000000, 0x10000,
             LUMEN_PTE_DEVMEM | LUMEN_PTE_WRITABLE);
    d[LUMEN_GEMM_W_C] = 0x4000000;
    EXPECT_EQ(LUMEN_STEP_CANCELLED, env_run(&e, LUMEN_OP_GEMM, d));
    for (int i = 0; i < 64; i++) {
        ASSERT_EQ(0, e.f->devmem[0x10000 + i]);
    }
    e.f->deny_devmem = false;
    EXPECT_EQ(LUMEN_STEP_DONE, env_run(&e, LUMEN_OP_GEMM, d));
    EXPECT_EQ(0, e.f->violations);
    fake_free(e.f);
}

TEST_HARNESS_MAIN
