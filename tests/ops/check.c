// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the operator tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ref.h"

/* splitmix64: tiny, and the same sequence on every host. */
uint64_t rng_next(Rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rng_uniform(Rng *r, double lo, double hi)
{
    return lo + (hi - lo) * ((rng_next(r) >> 11) * 0x1p-53);
}

int64_t rng_range(Rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

size_t dtype_size(LumenDtype t)
{
    switch (t) {
    case LUMEN_DTYPE_F32:
    case LUMEN_DTYPE_I32:
        return 4;
    case LUMEN_DTYPE_F16:
    case LUMEN_DTYPE_BF16:
        return 2;
    case LUMEN_DTYPE_I8:
        return 1;
    }
    abort();
}

static bool is_float(LumenDtype t)
{
    return t == LUMEN_DTYPE_F32 || t == LUMEN_DTYPE_F16 ||
           t == LUMEN_DTYPE_BF16;
}

static void store(void *p, LumenDtype t, int64_t i, double v)
{
    switch (t) {
    case LUMEN_DTYPE_F32:
        ((float *)p)[i] = (float)v;
        break;
    case LUMEN_DTYPE_F16:
        ((uint16_t *)p)[i] = ref_round_f16(v);
        break;
    case LUMEN_DTYPE_BF16:
        ((uint16_t *)p)[i] = ref_round_bf16(v);
        break;
    case LUMEN_DTYPE_I8:
        ((int8_t *)p)[i] = (int8_t)v;
        break;
    case LUMEN_DTYPE_I32:
        ((int32_t *)p)[i] = (int32_t)v;
        break;
    }
}

void *matrix_new(Rng *r, LumenDtype t, int64_t rows, int64_t cols,
                 int64_t ld, double lo, double hi, bool integers)
{
    size_t es = dtype_size(t);
    char *p = malloc(rows * ld * es);

    if (!p) {
        abort();
    }
    memset(p, 0x5a, rows * ld * es);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < ld; j++) {
            double v = integers ? (double)rng_range(r, (int64_t)lo,
                                                    (int64_t)hi) :
                                  rng_uniform(r, lo, hi);

            if (j < cols) {
                store(p, t, i * ld + j, v);
            } else if (is_float(t)) {
                store(p, t, i * ld + j, NAN);
            }
        }
    }
    return p;
}

bool padding_intact(const void *p, LumenDtype t, int64_t rows, int64_t cols,
                    int64_t ld)
{
    size_t es = dtype_size(t);

    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = cols; j < ld; j++) {
            const unsigned char *e = (const unsigned char *)p +
                                     (i * ld + j) * es;

            if (is_float(t)) {
                if (!isnan(ref_elem(p, t, i * ld + j))) {
                    return false;
                }
                continue;
            }
            for (size_t b = 0; b < es; b++) {
                if (e[b] != 0x5a) {
                    return false;
                }
            }
        }
    }
    return true;
}

void matrix_set(void *p, LumenDtype t, int64_t rows, int64_t cols,
                int64_t ld, double v)
{
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) {
            store(p, t, i * ld + j, v);
        }
    }
}

double type_eps(LumenDtype t)
{
    switch (t) {
    case LUMEN_DTYPE_F16:
        return 0x1p-10;
    case LUMEN_DTYPE_BF16:
        return 0x1p-7;
    default:
        return EPS_F32;
    }
}

double type_tiny(LumenDtype t)
{
    switch (t) {
    case LUMEN_DTYPE_F16:
        return 0x1p-25;
    case LUMEN_DTYPE_BF16:
        return 0x1p-134;
    default:
        return 0x1p-150;
    }
}

double act_tol(LumenAct act, double x, double y)
{
    if ((act != LUMEN_ACT_GELU && act != LUMEN_ACT_SILU) || !isfinite(x)) {
        return 0;               /* exact: +-Inf, -0 or NaN */
    }
    return (5 * fabs(ref_sigmoid_arg(x, act)) + 8) * EPS_F32 * fabs(y) +
           (fabs(x) + 1) * 0x1p-149;
}

double act_gain(LumenAct act)
{
    switch (act) {
    case LUMEN_ACT_GELU:
        return 1.13;            /* max |gelu'| = 1.1289... */
    case LUMEN_ACT_SILU:
        return 1.1;             /* max |silu'| = 1.0998... */
    default:
        return 1;
    }
}

double round_tol(LumenDtype t, double tol, double y)
{
    if (t == LUMEN_DTYPE_F32) {
        return tol;
    }
    return tol * (1 + type_eps(t)) + type_eps(t) / 2 * fabs(y) +
           type_tiny(t);
}

double gemm_tol(int64_t k, LumenDtype c_type, LumenAct act, double mag,
                double z, double y)
{
    double tz = (k + 8) * EPS_F32 * mag;

    return round_tol(c_type, act_gain(act) * tz + act_tol(act, z, y), y);
}

int64_t compare(const char *what, const void *got, LumenDtype t,
                int64_t rows, int64_t cols, int64_t ld, const double *ref,
                const double *tol, double tol0)
{
    int64_t bad = 0;

    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) {
            double g = ref_elem(got, t, i * ld + j), r = ref[i * cols + j];
            double tl = tol ? tol[i * cols + j] : tol0;
            bool ok;

            if (isnan(r) || isnan(g)) {
                ok = isnan(r) && isnan(g);
            } else if (isinf(r) || isinf(g)) {
                ok = g == r;
            } else {
                ok = fabs(g - r) <= tl;
            }
            if (!ok && bad++ < 5) {
                fprintf(stderr, "# %s: [%lld][%lld] got %.9g, want %.9g "
                        "(diff %.3g, tolerance %.3g)\n", what, (long long)i,
                        (long long)j, g, r, fabs(g - r), tl);
            }
        }
    }
    if (bad > 5) {
        fprintf(stderr, "# %s: %lld mismatches in all\n", what,
                (long long)bad);
    }
    return bad;
}

bool isa_available(LumenIsa isa)
{
    return isa <= lumen_ops_best_isa();
}
