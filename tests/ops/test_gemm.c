// SPDX-License-Identifier: MIT
/*
 * lumen_gemm() against the reference, once per kernel ISA this host has:
 * every type, both transposes, padded leading dimensions, alpha and beta,
 * both biases, every activation, edge tiles and every cache-block edge.
 * Float results must be within the documented bound; int8 results and
 * float results on small-integer data (where every partial sum is exact)
 * must be exact.  Every case also checks that C's padding is untouched and
 * that beta == 0 ignores C (which is filled with NaN).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "check.h"
#include "ref.h"

typedef struct GemmCase {
    LumenDtype type, c_type;
    int64_t m, n, k;
    bool ta, tb;
    int64_t pad_a, pad_b, pad_c;
    float alpha, beta;
    int32_t ialpha, ibeta;
    LumenBias bias;
    LumenAct act;
    bool integers;      /* small integers: the result must be exact */
} GemmCase;

static const char *type_name(LumenDtype t)
{
    static const char *const names[] = {
        [LUMEN_DTYPE_F32] = "f32", [LUMEN_DTYPE_F16] = "f16",
        [LUMEN_DTYPE_BF16] = "bf16", [LUMEN_DTYPE_I8] = "i8",
        [LUMEN_DTYPE_I32] = "i32",
    };

    return names[t];
}

static void describe(const GemmCase *gc, char *buf, size_t len)
{
    snprintf(buf, len, "%s->%s %lldx%lldx%lld%s%s pad %lld/%lld/%lld "
             "alpha %g beta %g ialpha %d ibeta %d bias %d act %d%s",
             type_name(gc->type), type_name(gc->c_type), (long long)gc->m,
             (long long)gc->n, (long long)gc->k, gc->ta ? " At" : "",
             gc->tb ? " Bt" : "", (long long)gc->pad_a, (long long)gc->pad_b,
             (long long)gc->pad_c, gc->alpha, gc->beta, gc->ialpha, gc->ibeta,
             gc->bias, gc->act, gc->integers ? " integers" : "");
}

/* Runs one case: the number of wrong elements, or -1 on an error code. */
static int64_t run_case(LumenIsa isa, const GemmCase *gc, uint64_t seed)
{
    Rng rng = { seed };
    bool i8 = gc->type == LUMEN_DTYPE_I8, ints = i8 || gc->integers;
    double lo = i8 ? -128 : gc->integers ? -2 : -1;
    double hi = i8 ? 127 : gc->integers ? 2 : 1;
    int64_t ar = gc->ta ? gc->k : gc->m, ac = gc->ta ? gc->m : gc->k;
    int64_t br = gc->tb ? gc->n : gc->k, bc = gc->tb ? gc->k : gc->n;
    int64_t lda = ac + gc->pad_a, ldb = bc + gc->pad_b;
    int64_t ldc = gc->n + gc->pad_c, mn = gc->m * gc->n;
    int64_t blen = gc->bias == LUMEN_BIAS_ROW ? gc->n :
                   gc->bias == LUMEN_BIAS_COL ? gc->m : 0;
    void *a = matrix_new(&rng, gc->type, ar, ac, lda, lo, hi, ints);
    void *b = matrix_new(&rng, gc->type, br, bc, ldb, lo, hi, ints);
    void *c = matrix_new(&rng, gc->c_type, gc->m, gc->n, ldc,
                         i8 ? -100000 : lo, i8 ? 100000 : hi, ints);
    void *bias = blen ? matrix_new(&rng, gc->c_type, 1, blen, blen,
                                   i8 ? -100000 : lo, i8 ? 100000 : hi,
                                   ints) : NULL;
    double *ref = calloc(mn, sizeof(double));
    double *tol = calloc(mn, sizeof(double));
    double *mag = calloc(mn, sizeof(double));
    double *z = calloc(mn, sizeof(double));
    int32_t *iref = calloc(mn, sizeof(int32_t));
    LumenGemm g = {
        .type = gc->type, .c_type = gc->c_type, .trans_a = gc->ta,
        .trans_b = gc->tb, .m = gc->m, .n = gc->n, .k = gc->k,
        .a = a, .lda = lda, .b = b, .ldb = ldb, .c = c, .ldc = ldc,
        .bias_kind = gc->bias, .bias = bias, .act = gc->act,
        .alpha = gc->alpha, .beta = gc->beta, .ialpha = gc->ialpha,
        .ibeta = gc->ibeta, .isa = isa,
    };
    int64_t bad;

    if (!i8 && gc->beta == 0) {
        /* beta == 0 must not read C: NaN there would show. */
        matrix_set(c, gc->c_type, gc->m, gc->n, ldc, NAN);
    }
    if (i8) {
        ref_gemm_i8(&g, iref);
        for (int64_t i = 0; i < mn; i++) {
            ref[i] = iref[i];
        }
    } else {
        ref_gemm(&g, ref, mag, z);
        for (int64_t i = 0; i < mn; i++) {
            tol[i] = gc->integers ? 0 :
                     gemm_tol(gc->k, gc->c_type, gc->act, mag[i], z[i],
                              ref[i]);
        }
    }
    if (lumen_gemm(&g)) {
        bad = -1;
    } else {
        bad = compare("C", c, gc->c_type, gc->m, gc->n, ldc, ref, tol, 0);
        if (!padding_intact(c, gc->c_type, gc->m, gc->n, ldc)) {
            fprintf(stderr, "# the padding of C was written\n");
            bad++;
        }
    }
    free(a);
    free(b);
    free(c);
    free(bias);
    free(ref);
    free(tol);
    free(mag);
    free(z);
    free(iref);
    return bad;
}

#define RUN_CASE(isa, gc, seed) do { \
    char desc_[256]; \
    describe(gc, desc_, sizeof(desc_)); \
    EXPECT_EQ(0, run_case(isa, gc, seed)) { \
        TH_LOG("%s (isa %s, seed %llu)", desc_, lumen_isa_name(isa), \
               (unsigned long long)(seed)); \
    } \
} while (0)

/* The float type combinations: A/B type, C type. */
static const LumenDtype float_types[][2] = {
    { LUMEN_DTYPE_F32, LUMEN_DTYPE_F32 },
    { LUMEN_DTYPE_F16, LUMEN_DTYPE_F16 },
    { LUMEN_DTYPE_F16, LUMEN_DTYPE_F32 },
    { LUMEN_DTYPE_BF16, LUMEN_DTYPE_BF16 },
    { LUMEN_DTYPE_BF16, LUMEN_DTYPE_F32 },
};
#define N_FLOAT_TYPES (sizeof(float_types) / sizeof(float_types[0]))

/*
 * Shapes around every kernel's tile (4x8, 6x16, 14x32), odd sizes, k
 * across the kc blocks (256, 384), m across mc, a single row or column.
 */
static const int64_t shapes[][3] = {
    { 1, 1, 1 }, { 1, 7, 1 }, { 7, 1, 3 }, { 2, 3, 4 }, { 4, 8, 5 },
    { 5, 17, 9 }, { 6, 16, 8 }, { 13, 31, 7 }, { 14, 32, 16 },
    { 15, 33, 17 }, { 7, 15, 383 }, { 29, 47, 385 }, { 64, 64, 64 },
    { 3, 5, 1000 }, { 31, 2, 769 }, { 113, 37, 20 }, { 97, 130, 50 },
    { 1, 200, 300 }, { 200, 1, 300 }, { 57, 65, 257 },
};
#define N_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

static const int64_t pads[] = { 0, 0, 1, 3, 17 };
static const float alphas[] = { 1.0f, 0.5f, -1.25f, 2.0f };
static const float betas[] = { 0.0f, 0.0f, 1.0f, -0.5f };
static const int32_t ialphas[] = { 1, -3, 7 };
static const int32_t ibetas[] = { 0, 1, -2 };

#define PICK(rng, array) \
    ((array)[rng_next(rng) % (sizeof(array) / sizeof((array)[0]))])

/* A case with every option drawn from rng. */
static GemmCase random_case(Rng *rng, LumenDtype t, LumenDtype ct,
                            const int64_t *shape)
{
    bool i8 = t == LUMEN_DTYPE_I8;

    return (GemmCase) {
        .type = t, .c_type = ct,
        .m = shape[0], .n = shape[1], .k = shape[2],
        .ta = rng_next(rng) & 1, .tb = rng_next(rng) & 1,
        .pad_a = PICK(rng, pads), .pad_b = PICK(rng, pads),
        .pad_c = PICK(rng, pads),
        .alpha = PICK(rng, alphas), .beta = PICK(rng, betas),
        .ialpha = PICK(rng, ialphas), .ibeta = PICK(rng, ibetas),
        .bias = (LumenBias)(rng_next(rng) % 3),
        .act = (LumenAct)(rng_next(rng) % (i8 ? 2 : 4)),
    };
}

FIXTURE(gemm) {
    LumenIsa isa;
};

FIXTURE_VARIANT(gemm) {
    LumenIsa isa;
};

FIXTURE_VARIANT_ADD(gemm, generic) {
    .isa = LUMEN_ISA_GENERIC,
};

FIXTURE_VARIANT_ADD(gemm, avx2) {
    .isa = LUMEN_ISA_AVX2,
};

FIXTURE_VARIANT_ADD(gemm, avx512) {
    .isa = LUMEN_ISA_AVX512,
};

FIXTURE_SETUP(gemm)
{
    if (!isa_available(variant->isa)) {
        SKIP(return, "this host has no %s", lumen_isa_name(variant->isa));
    }
    self->isa = variant->isa;
}

FIXTURE_TEARDOWN(gemm)
{
}

/* Every float type over every shape, options drawn at random. */
TEST_F(gemm, float_shapes)
{
    for (size_t t = 0; t < N_FLOAT_TYPES; t++) {
        for (size_t s = 0; s < N_SHAPES; s++) {
            uint64_t seed = t * 1000 + s;
            Rng rng = { seed };
            GemmCase gc = random_case(&rng, float_types[t][0],
                                      float_types[t][1], shapes[s]);

            RUN_CASE(self->isa, &gc, seed);
        }
    }
}

TEST_F(gemm, i8_shapes)
{
    for (size_t s = 0; s < N_SHAPES; s++) {
        Rng rng = { 5000 + s };
        GemmCase gc = random_case(&rng, LUMEN_DTYPE_I8, LUMEN_DTYPE_I32,
                                  shapes[s]);

        RUN_CASE(self->isa, &gc, 5000 + s);
    }
}

TEST_F(gemm, every_transpose)
{
    static const int64_t shape[][3] = { { 23, 41, 57 }, { 1, 9, 400 } };

    for (size_t t = 0; t <= N_FLOAT_TYPES; t++) {
        for (int tr = 0; tr < 4; tr++) {
            for (size_t s = 0; s < 2; s++) {
                bool i8 = t == N_FLOAT_TYPES;
                GemmCase gc = {
                    .type = i8 ? LUMEN_DTYPE_I8 : float_types[t][0],
                    .c_type = i8 ? LUMEN_DTYPE_I32 : float_types[t][1],
                    .m = shape[s][0], .n = shape[s][1], .k = shape[s][2],
                    .ta = tr & 1, .tb = tr & 2, .pad_a = 2, .pad_b = 5,
                    .alpha = 1, .ialpha = 1,
                };

                RUN_CASE(self->isa, &gc, 100 + tr);
            }
        }
    }
}

TEST_F(gemm, every_activation_and_bias)
{
    for (size_t t = 0; t <= N_FLOAT_TYPES; t++) {
        bool i8 = t == N_FLOAT_TYPES;

        for (int act = LUMEN_ACT_NONE; act <= LUMEN_ACT_SILU; act++) {
            for (int bias = LUMEN_BIAS_NONE; bias <= LUMEN_BIAS_COL; bias++) {
                GemmCase gc = {
                    .type = i8 ? LUMEN_DTYPE_I8 : float_types[t][0],
                    .c_type = i8 ? LUMEN_DTYPE_I32 : float_types[t][1],
                    .m = 19, .n = 37, .k = 45, .tb = true,
                    .alpha = 1.5f, .beta = 0.5f, .ialpha = 2, .ibeta = 1,
                    .bias = (LumenBias)bias, .act = (LumenAct)act,
                };

                if (i8 && act > LUMEN_ACT_RELU) {
                    continue;   /* rejected: see test_args */
                }
                RUN_CASE(self->isa, &gc, 200 + act * 3 + bias);
            }
        }
    }
}

TEST_F(gemm, alpha_beta)
{
    static const float ab[][2] = {
        { 1, 0 }, { 0.5f, -2 }, { -1, 1 }, { 0, 1 }, { 2, 0.25f }, { 0, 0 },
    };
    static const int32_t iab[][2] = {
        { 1, 0 }, { -2, 3 }, { 0, 1 }, { 5, -1 }, { 0, 0 }, { 1, 1 },
    };

    for (size_t t = 0; t <= N_FLOAT_TYPES; t++) {
        for (size_t i = 0; i < 6; i++) {
            bool i8 = t == N_FLOAT_TYPES;
            GemmCase gc = {
                .type = i8 ? LUMEN_DTYPE_I8 : float_types[t][0],
                .c_type = i8 ? LUMEN_DTYPE_I32 : float_types[t][1],
                .m = 33, .n = 35, .k = 29, .pad_c = 4,
                .alpha = ab[i][0], .beta = ab[i][1],
                .ialpha = iab[i][0], .ibeta = iab[i][1],
            };

            RUN_CASE(self->isa, &gc, 300 + i);
        }
    }
}

/*
 * Small integers make every product and partial sum exact in f32 (and the
 * final value exact in the output type), whatever the order of
 * accumulation: any indexing or blocking slip shows as a wrong integer,
 * even where K is so large that the error bound would hide it.
 */
TEST_F(gemm, exact_on_integers)
{
    static const struct {
        LumenDtype t, ct;
        int64_t m, n, k;
    } cases[] = {
        { LUMEN_DTYPE_F32, LUMEN_DTYPE_F32, 9, 10, 4096 },
        { LUMEN_DTYPE_F32, LUMEN_DTYPE_F32, 33, 67, 2049 },
        { LUMEN_DTYPE_F32, LUMEN_DTYPE_F32, 150, 70, 777 },
        { LUMEN_DTYPE_F16, LUMEN_DTYPE_F32, 17, 20, 4099 },
        { LUMEN_DTYPE_BF16, LUMEN_DTYPE_F32, 18, 21, 3000 },
        { LUMEN_DTYPE_F16, LUMEN_DTYPE_F16, 40, 50, 32 },
        { LUMEN_DTYPE_BF16, LUMEN_DTYPE_BF16, 41, 51, 31 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int v = 0; v < 4; v++) {
            GemmCase gc = {
                .type = cases[i].t, .c_type = cases[i].ct,
                .m = cases[i].m, .n = cases[i].n, .k = cases[i].k,
                .ta = v & 1, .tb = v & 2, .pad_a = 1, .pad_b = 2,
                .alpha = 1, .beta = v == 3 ? 2.0f : (float)(v & 1),
                .bias = (LumenBias)(v % 3),
                .act = v & 2 ? LUMEN_ACT_RELU : LUMEN_ACT_NONE,
                .integers = true,
            };

            RUN_CASE(self->isa, &gc, 400 + i * 4 + v);
        }
    }
}

TEST_F(gemm, large_k)
{
    for (size_t t = 0; t <= N_FLOAT_TYPES; t++) {
        bool i8 = t == N_FLOAT_TYPES;
        GemmCase gc = {
            .type = i8 ? LUMEN_DTYPE_I8 : float_types[t][0],
            .c_type = i8 ? LUMEN_DTYPE_I32 : float_types[t][1],
            .m = 5, .n = 7, .k = 8193, .ta = true,
            .alpha = 1, .beta = 1, .ialpha = 1, .ibeta = 1,
            .bias = LUMEN_BIAS_ROW,
        };

        RUN_CASE(self->isa, &gc, 500 + t);
    }
}

/*
 * Past the largest cache blocks: n beyond nc (4096), m beyond mc and, for
 * a 16-bit C, beyond the rows one pass of the f32 accumulator holds.
 */
TEST_F(gemm, block_edges)
{
    for (size_t t = 0; t <= N_FLOAT_TYPES; t++) {
        bool i8 = t == N_FLOAT_TYPES;
        GemmCase gc = {
            .type = i8 ? LUMEN_DTYPE_I8 : float_types[t][0],
            .c_type = i8 ? LUMEN_DTYPE_I32 : float_types[t][1],
            .m = 300, .n = 4100, .k = 3, .pad_c = 1,
            .alpha = 1, .beta = 0.5f, .ialpha = 1, .ibeta = 2,
            .bias = LUMEN_BIAS_COL, .act = LUMEN_ACT_RELU,
        };

        RUN_CASE(self->isa, &gc, 600 + t);
        gc.m = 250;
        gc.n = 70;
        gc.k = 1100;
        gc.ta = true;
        RUN_CASE(self->isa, &gc, 610 + t);
    }
}

/* int8 arithmetic wraps modulo 2^32, exactly as documented. */
TEST_F(gemm, i8_wraps)
{
    GemmCase gc = {
        .type = LUMEN_DTYPE_I8, .c_type = LUMEN_DTYPE_I32,
        .m = 17, .n = 33, .k = 1001,
        .ialpha = 0x7fffffff, .ibeta = -0x7ffffff1,
        .bias = LUMEN_BIAS_ROW, .act = LUMEN_ACT_NONE,
    };

    RUN_CASE(self->isa, &gc, 700);
    gc.act = LUMEN_ACT_RELU;
    gc.ialpha = 65537;
    RUN_CASE(self->isa, &gc, 701);
}

/* Each call is independent: threads give the single-threaded bits. */
typedef struct ThreadJob {
    LumenGemm g;
    int ret;
} ThreadJob;

static void *gemm_thread(void *arg)
{
    ThreadJob *job = arg;

    for (int i = 0; i < 4 && !job->ret; i++) {
        job->ret = lumen_gemm(&job->g);
    }
    return NULL;
}

TEST_F(gemm, concurrent_calls)
{
    enum { THREADS = 4, M = 70, N = 90, K = 500 };
    ThreadJob jobs[THREADS];
    pthread_t tid[THREADS];
    float *expect[THREADS];
    Rng rng = { 800 };

    for (int t = 0; t < THREADS; t++) {
        LumenDtype type = t & 1 ? LUMEN_DTYPE_BF16 : LUMEN_DTYPE_F32;

        jobs[t].g = (LumenGemm) {
            .type = type, .c_type = LUMEN_DTYPE_F32, .m = M, .n = N, .k = K,
            .a = matrix_new(&rng, type, M, K, K, -1, 1, false), .lda = K,
            .b = matrix_new(&rng, type, K, N, N, -1, 1, false), .ldb = N,
            .c = calloc(M * N, sizeof(float)), .ldc = N,
            .act = LUMEN_ACT_GELU, .alpha = 1, .isa = self->isa,
        };
        jobs[t].ret = 0;
        expect[t] = calloc(M * N, sizeof(float));
        ASSERT_EQ(0, lumen_gemm(&jobs[t].g));
        memcpy(expect[t], jobs[t].g.c, M * N * sizeof(float));
        memset(jobs[t].g.c, 0, M * N * sizeof(float));
    }
    for (int t = 0; t < THREADS; t++) {
        ASSERT_EQ(0, pthread_create(&tid[t], NULL, gemm_thread, &jobs[t]));
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
        EXPECT_EQ(0, jobs[t].ret);
        EXPECT_EQ(0, memcmp(expect[t], jobs[t].g.c, M * N * sizeof(float)));
        free((void *)jobs[t].g.a);
        free((void *)jobs[t].g.b);
        free(jobs[t].g.c);
        free(expect[t]);
    }
}

TEST_HARNESS_MAIN
