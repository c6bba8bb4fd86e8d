/*
 * lumen-ops-bench: the device's GEMM against OpenBLAS sgemm, on the host
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each device engine runs one operator at a time on one host thread, so
 * both sides run single-threaded: OpenBLAS is held to one thread by
 * OPENBLAS_NUM_THREADS=1 (set before the library starts, by re-executing
 * this program if need be, so that its idle worker threads do not spin
 * beside the measurement) and openblas_set_num_threads(1).
 *
 * For every shape the f32 GEMM is compared with cblas_sgemm on the same
 * data; the f16, bf16 and int8 GEMMs have no OpenBLAS peer in Debian's
 * build, so their ratio is against sgemm of the same shape, as a yardstick.
 * Every figure is the median of the timed runs, after one untimed run.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "lumen-ops.h"

#define MAX_SHAPES 16
#define MAX_RUNS 101

typedef struct Shape {
    int m, n, k;
} Shape;

typedef struct Options {
    int runs;
    LumenIsa isa;
    Shape shapes[MAX_SHAPES];
    int nshapes;
    bool f32, f16, bf16, i8;
    bool others;                /* the non-GEMM operators too */
} Options;

/* Operands of one shape in every type, filled once. */
typedef struct Operands {
    float *a, *b, *c_ours, *c_blas;
    uint16_t *a16, *b16, *c16;
    int8_t *a8, *b8;
    int32_t *c32;
    float *a8f, *b8f;           /* the int8 operands as floats, for sgemm */
} Operands;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
    qsort(t, n, sizeof(*t), cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (!p) {
        fprintf(stderr, "lumen-ops-bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

/* A small deterministic generator: the same data on every run. */
static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static float rng_unit(uint64_t *s)
{
    return (float)rng_next(s) / (1u << 31) * 2 - 1;
}

static void operands_fill(Operands *op, const Shape *sh)
{
    size_t na = (size_t)sh->m * sh->k, nb = (size_t)sh->k * sh->n;
    size_t nc = (size_t)sh->m * sh->n;
    uint64_t seed = 42;

    op->a = xmalloc(na * sizeof(float));
    op->b = xmalloc(nb * sizeof(float));
    op->c_ours = xmalloc(nc * sizeof(float));
    op->c_blas = xmalloc(nc * sizeof(float));
    op->a16 = xmalloc(na * sizeof(uint16_t));
    op->b16 = xmalloc(nb * sizeof(uint16_t));
    op->c16 = xmalloc(nc * sizeof(uint16_t));
    op->a8 = xmalloc(na);
    op->b8 = xmalloc(nb);
    op->c32 = xmalloc(nc * sizeof(int32_t));
    op->a8f = xmalloc(na * sizeof(float));
    op->b8f = xmalloc(nb * sizeof(float));
    for (size_t i = 0; i < na; i++) {
        op->a[i] = rng_unit(&seed);
        op->a8[i] = (int8_t)(rng_next(&seed) % 256 - 128);
        op->a8f[i] = op->a8[i];
    }
    for (size_t i = 0; i < nb; i++) {
        op->b[i] = rng_unit(&seed);
        op->b8[i] = (int8_t)(rng_next(&seed) % 256 - 128);
        op->b8f[i] = op->b8[i];
    }
}

static void operands_free(Operands *op)
{
    free(op->a);
    free(op->b);
    free(op->c_ours);
    free(op->c_blas);
    free(op->a16);
    free(op->b16);
    free(op->c16);
    free(op->a8);
    free(op->b8);
    free(op->c32);
    free(op->a8f);
    free(op->b8f);
}

static void sgemm(const Shape *sh, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, sh->m, sh->n,
                sh->k, 1.0f, a, sh->k, b, sh->n, 0.0f, c, sh->n);
}

/* Times g and sgemm on (sa, sb), alternating; medians in *ours, *blas. */
static void time_pair(const Options *o, const LumenGemm *g, const Shape *sh,
                      const float *sa, const float *sb, float *sc,
                      double *ours, double *blas)
{
    double to[MAX_RUNS], tb[MAX_RUNS];
    int ret;

    ret = lumen_gemm(g);        /* warm-up, and the error check */
    if (ret) {
        fprintf(stderr, "lumen-ops-bench: lumen_gemm: %s\n", strerror(-ret));
        exit(1);
    }
    sgemm(sh, sa, sb, sc);
    for (int r = 0; r < o->runs; r++) {
        double t0 = now();

        lumen_gemm(g);
        to[r] = now() - t0;
        t0 = now();
        sgemm(sh, sa, sb, sc);
        tb[r] = now() - t0;
    }
    *ours = median(to, o->runs);
    *blas = median(tb, o->runs);
}

/* max |x - ref| / max |ref|: a sanity check, not a test. */
static double rel_diff(const float *x, const float *ref, size_t n)
{
    double d = 0, m = 0;

    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)x[i] - ref[i]));
        m = fmax(m, fabs((double)ref[i]));
    }
    return m ? d / m : d;
}

static void report(const char *type, const Shape *sh, double ours,
                   double blas, const char *check)
{
    double flop = 2.0 * sh->m * sh->n * sh->k;

    printf("%5d x %5d x %5d  %-5s %10.1f %12.1f %10.2f   %s\n", sh->m, sh->n,
           sh->k, type, flop / ours / 1e9, flop / blas / 1e9, blas / ours,
           check);
}

static LumenGemm gemm_desc(const Options *o, const Shape *sh, LumenDtype t,
                           LumenDtype ct, const void *a, const void *b,
                           void *c)
{
    return (LumenGemm) {
        .type = t, .c_type = ct, .m = sh->m, .n = sh->n, .k = sh->k,
        .a = a, .lda = sh->k, .b = b, .ldb = sh->n, .c = c, .ldc = sh->n,
        .alpha = 1.0f, .beta = 0.0f, .ialpha = 1, .ibeta = 0, .isa = o->isa,
    };
}

static void bench_shape(const Options *o, const Shape *sh)
{
    size_t na = (size_t)sh->m * sh->k, nb = (size_t)sh->k * sh->n;
    size_t nc = (size_t)sh->m * sh->n;
    double ours, blas;
    char check[64];
    Operands op;
    LumenGemm g;

    operands_fill(&op, sh);
    if (o->f32) {
        g = gemm_desc(o, sh, LUMEN_DTYPE_F32, LUMEN_DTYPE_F32, op.a, op.b,
                      op.c_ours);
        time_pair(o, &g, sh, op.a, op.b, op.c_blas, &ours, &blas);
        snprintf(check, sizeof(check), "%.1e",
                 rel_diff(op.c_ours, op.c_blas, nc));
        report("f32", sh, ours, blas, check);
    }
    for (int h = 0; h < 2; h++) {
        bool bf = h == 0;
        LumenDtype t = bf ? LUMEN_DTYPE_BF16 : LUMEN_DTYPE_F16;

        if (bf ? !o->bf16 : !o->f16) {
            continue;
        }
        /* sgemm runs on the same values, rounded to 16 bits and back. */
        (bf ? lumen_f32_to_bf16_n : lumen_f32_to_f16_n)(op.a16, op.a, na);
        (bf ? lumen_f32_to_bf16_n : lumen_f32_to_f16_n)(op.b16, op.b, nb);
        (bf ? lumen_bf16_to_f32_n : lumen_f16_to_f32_n)(op.a, op.a16, na);
        (bf ? lumen_bf16_to_f32_n : lumen_f16_to_f32_n)(op.b, op.b16, nb);
        g = gemm_desc(o, sh, t, t, op.a16, op.b16, op.c16);
        time_pair(o, &g, sh, op.a, op.b, op.c_blas, &ours, &blas);
        (bf ? lumen_bf16_to_f32_n : lumen_f16_to_f32_n)(op.c_ours, op.c16, nc);
        snprintf(check, sizeof(check), "%.1e",
                 rel_diff(op.c_ours, op.c_blas, nc));
        report(bf ? "bf16" : "f16", sh, ours, blas, check);
    }
    if (o->i8) {
        size_t wrong = 0;

        g = gemm_desc(o, sh, LUMEN_DTYPE_I8, LUMEN_DTYPE_I32, op.a8, op.b8,
                      op.c32);
        time_pair(o, &g, sh, op.a8f, op.b8f, op.c_blas, &ours, &blas);
        /* sgemm is exact too while every partial sum stays below 2^24. */
        for (size_t i = 0; i < nc; i++) {
            wrong += (float)op.c32[i] != op.c_blas[i];
        }
        snprintf(check, sizeof(check), "%s",
                 wrong ? "differs" : "equal");
        report("i8", sh, ours, blas, check);
    }
    operands_free(&op);
}

/* Median seconds of one operator call, after one untimed call. */
#define TIME_OP(o, call, result) do { \
    double t_[MAX_RUNS]; \
    if (call) { \
        fprintf(stderr, "lumen-ops-bench: %s failed\n", #call); \
        exit(1); \
    } \
    for (int r_ = 0; r_ < (o)->runs; r_++) { \
        double t0_ = now(); \
        (void)(call); \
        t_[r_] = now() - t0_; \
    } \
    (result) = median(t_, (o)->runs); \
} while (0)

/*
 * The other operators, for scale: no peer, just elements (or, for conv2d,
 * flops) per second on shapes of a small transformer and a ResNet layer.
 */
static void bench_others(const Options *o)
{
    enum { ROWS = 1024, COLS = 4096, N = ROWS * COLS };
    float *x = xmalloc(N * sizeof(float)), *y = xmalloc(N * sizeof(float));
    float *w = xmalloc(64 * 64 * 9 * sizeof(float));
    uint64_t seed = 7;
    double t;

    for (int i = 0; i < N; i++) {
        x[i] = rng_unit(&seed) * 8;
    }
    for (int i = 0; i < 64 * 64 * 9; i++) {
        w[i] = rng_unit(&seed);
    }
    printf("\noperator (f32, %d x %d unless said)      time/ms    "
           "Gelem/s\n", ROWS, COLS);
    for (int op = LUMEN_ELT_ADD; op <= LUMEN_ELT_SILU; op++) {
        static const char *const names[] = {
            "", "add (broadcast row)", "mul (broadcast row)", "relu",
            "gelu", "silu",
        };
        bool binary = op <= LUMEN_ELT_MUL;
        LumenEltwise e = {
            .op = op, .type = LUMEN_DTYPE_F32, .rows = ROWS, .cols = COLS,
            .y = y, .ldy = COLS, .x = x, .ldx = COLS,
            .b = binary ? x : NULL, .broadcast_b = binary,
        };

        TIME_OP(o, lumen_eltwise(&e), t);
        printf("eltwise %-32s %8.2f %10.2f\n", names[op], t * 1e3,
               N / t / 1e9);
    }
    {
        LumenRows r = {
            .rows = ROWS, .cols = COLS, .y = y, .ldy = COLS, .x = x,
            .ldx = COLS, .eps = 0.00001f,
        };

        TIME_OP(o, lumen_softmax(&r), t);
        printf("%-40s %8.2f %10.2f\n", "softmax", t * 1e3, N / t / 1e9);
        TIME_OP(o, lumen_layer_norm(&r), t);
        printf("%-40s %8.2f %10.2f\n", "layer norm", t * 1e3, N / t / 1e9);
        TIME_OP(o, lumen_rms_norm(&r), t);
        printf("%-40s %8.2f %10.2f\n", "RMS norm", t * 1e3, N / t / 1e9);
    }
    {
        /* A ResNet-18 layer: 64 -> 64 channels, 3x3, 56 x 56. */
        LumenConv2d cv = {
            .n = 1, .c = 64, .h = 56, .w = 56, .k = 64, .r = 3, .s = 3,
            .groups = 1, .stride_h = 1, .stride_w = 1, .pad_h = 1,
            .pad_w = 1, .dil_h = 1, .dil_w = 1, .x = x, .weight = w,
            .y = y, .act = LUMEN_ACT_RELU, .isa = o->isa,
        };
        LumenPool2d pl = {
            .op = LUMEN_POOL_MAX, .n = 1, .c = 64, .h = 112, .w = 112,
            .r = 3, .s = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1,
            .pad_w = 1, .x = x, .y = y,
        };
        double flop = 2.0 * 64 * 56 * 56 * 64 * 9;

        TIME_OP(o, lumen_conv2d(&cv), t);
        printf("%-40s %8.2f %10.2f  (%.1f GFLOP/s)\n",
               "conv2d 1x64x56x56, 64x3x3, pad 1, relu", t * 1e3,
               64 * 56 * 56 / t / 1e9, flop / t / 1e9);
        TIME_OP(o, lumen_pool2d(&pl), t);
        printf("%-40s %8.2f %10.2f\n", "max pool 1x64x112x112, 3x3/2",
               t * 1e3, 64 * 56 * 56 / t / 1e9);
    }
    free(x);
    free(y);
    free(w);
}

static const char *env_or_unset(const char *name)
{
    const char *v = getenv(name);

    return v ? v : "(unset)";
}

static void print_header(const Options *o)
{
    char line[256], model[256] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    LumenIsa isa = o->isa ? o->isa : lumen_ops_best_isa();

    while (f && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    printf("lumen-ops-bench: GEMM, one thread each, median of %d runs\n",
           o->runs);
    printf("host CPU:    %s\n", model);
    printf("lumen ops:   %s kernels%s\n", lumen_isa_name(isa),
           o->isa ? " (forced)" : "");
    printf("OpenBLAS:    %s\n", openblas_get_config());
    printf("             core type in use: %s\n", openblas_get_corename());
    printf("environment: OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s "
           "OPENBLAS_NUM_THREADS=%s\n\n", env_or_unset("OPENBLAS_CORETYPE"),
           env_or_unset("OPENBLAS_L2_SIZE"),
           env_or_unset("OPENBLAS_NUM_THREADS"));
    printf("    M x     N x     K  type  lumen GFLOP/s sgemm GFLOP/s "
           "lumen/sgemm  check\n");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lumen-ops-bench [-r RUNS] [-i ISA] [-s MxNxK]... "
            "[-t TYPES]\n"
            "  -r, --runs N      timed runs per figure (default 5, max %d)\n"
            "  -i, --isa ISA     auto, generic, avx2 or avx512 (default "
            "auto)\n"
            "  -s, --shape MxNxK a GEMM shape, repeatable (default "
            "1024x1024x1024,\n"
            "                    4096x64x4096 and 64x4096x4096)\n"
            "  -t, --types LIST  comma-separated f32,bf16,f16,i8 (default "
            "all)\n"
            "  -o, --others      also time the other operators\n", MAX_RUNS);
}

static bool parse_isa(const char *s, LumenIsa *isa)
{
    for (LumenIsa i = LUMEN_ISA_AUTO; i <= LUMEN_ISA_AVX512; i++) {
        if (!strcmp(s, lumen_isa_name(i))) {
            *isa = i;
            return true;
        }
    }
    return false;
}

static bool parse_types(char *s, Options *o)
{
    o->f32 = o->f16 = o->bf16 = o->i8 = false;
    for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
        if (!strcmp(t, "f32")) {
            o->f32 = true;
        } else if (!strcmp(t, "f16")) {
            o->f16 = true;
        } else if (!strcmp(t, "bf16")) {
            o->bf16 = true;
        } else if (!strcmp(t, "i8")) {
            o->i8 = true;
        } else {
            return false;
        }
    }
    return true;
}

static bool parse_args(int argc, char **argv, Options *o)
{
    static const struct option longopts[] = {
        { "runs", required_argument, NULL, 'r' },
        { "isa", required_argument, NULL, 'i' },
        { "shape", required_argument, NULL, 's' },
        { "types", required_argument, NULL, 't' },
        { "others", no_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    int c;

    while ((c = getopt_long(argc, argv, "r:i:s:t:oh", longopts, NULL)) != -1) {
        Shape *sh = &o->shapes[o->nshapes];
        char end;

        switch (c) {
        case 'r':
            o->runs = atoi(optarg);
            if (o->runs < 1 || o->runs > MAX_RUNS) {
                return false;
            }
            break;
        case 'i':
            if (!parse_isa(optarg, &o->isa)) {
                return false;
            }
            break;
        case 's':
            if (o->nshapes == MAX_SHAPES ||
                sscanf(optarg, "%dx%dx%d%c", &sh->m, &sh->n, &sh->k,
                       &end) != 3 || sh->m < 1 || sh->n < 1 || sh->k < 1) {
                return false;
            }
            o->nshapes++;
            break;
        case 't':
            if (!parse_types(optarg, o)) {
                return false;
            }
            break;
        case 'o':
            o->others = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return false;
        }
    }
    return optind == argc;
}

int main(int argc, char **argv)
{
    static const Shape defaults[] = {
        { 1024, 1024, 1024 }, { 4096, 64, 4096 }, { 64, 4096, 4096 },
    };
    Options o = { .runs = 5, .f32 = true, .f16 = true, .bf16 = true,
                  .i8 = true };
    const char *threads = getenv("OPENBLAS_NUM_THREADS");

    if (!threads || strcmp(threads, "1")) {
        /* OpenBLAS reads it when the library loads: start again with it. */
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "lumen-ops-bench: cannot re-execute (%s); "
                "OpenBLAS keeps its idle threads\n", strerror(errno));
    }
    openblas_set_num_threads(1);
    if (!parse_args(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (o.isa) {
        LumenIsa best = lumen_ops_best_isa();

        if (o.isa > best) {
            fprintf(stderr, "lumen-ops-bench: this host has no %s\n",
                    lumen_isa_name(o.isa));
            return 1;
        }
    }
    if (!o.nshapes) {
        memcpy(o.shapes, defaults, sizeof(defaults));
        o.nshapes = sizeof(defaults) / sizeof(defaults[0]);
    }
    print_header(&o);
    for (int i = 0; i < o.nshapes; i++) {
        bench_shape(&o, &o.shapes[i]);
    }
    if (o.others) {
        bench_others(&o);
    }
    return 0;
}
