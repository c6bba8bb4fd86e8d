// SPDX-License-Identifier: MIT
/*
 * Reference operators for the tests: obviously correct, not fast.  Every
 * sum is accumulated in double, where a product of two floats is exact,
 * so the reference's own error is far below any tolerance it is used
 * with.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ref.h"

/* value = (-1)^s 2^(e - bias) (1 + m / 2^mbits), or subnormal, Inf, NaN. */
static double ref_value(uint32_t bits, int ebits, int mbits)
{
    uint32_t m = bits & ((1u << mbits) - 1);
    uint32_t e = (bits >> mbits) & ((1u << ebits) - 1);
    int bias = (1 << (ebits - 1)) - 1;
    double sign = bits >> (ebits + mbits) ? -1.0 : 1.0;

    if (e == (1u << ebits) - 1) {
        return m ? NAN : sign * INFINITY;
    }
    if (e == 0) {
        return sign * ldexp(m, 1 - bias - mbits);
    }
    return sign * ldexp((1u << mbits) + m, (int)e - bias - mbits);
}

double ref_f16_value(uint16_t h)
{
    return ref_value(h, 5, 10);
}

double ref_bf16_value(uint16_t h)
{
    return ref_value(h, 8, 7);
}

/*
 * Rounds |x| to the format by value: find the spacing q of representable
 * numbers around x (the subnormal spacing below the normal range), round
 * x / q to the nearest integer with ties to even, then encode.
 */
static uint16_t ref_round(double x, int ebits, int mbits)
{
    int bias = (1 << (ebits - 1)) - 1, emin = 1 - bias, e;
    uint16_t sign = signbit(x) ? 1u << (ebits + mbits) : 0;
    uint16_t inf = ((1u << ebits) - 1) << mbits;
    double a = fabs(x), q, v;
    /* Halfway between the largest finite number and 2^(emax + 1). */
    double overflow = ldexp(2.0 - ldexp(1, -mbits - 1), bias);

    if (isnan(x)) {
        return sign | inf | 1u << (mbits - 1);
    }
    if (a >= overflow) {
        return sign | inf;
    }
    frexp(a, &e);               /* a in [2^(e-1), 2^e) */
    q = ldexp(1, (a < ldexp(1, emin) ? emin : e - 1) - mbits);
    v = nearbyint(a / q) * q;   /* default mode: ties to even */
    if (v < ldexp(1, emin)) {
        return sign | (uint16_t)(v / ldexp(1, emin - mbits));
    }
    frexp(v, &e);
    return sign | (uint16_t)((e - 1 + bias) << mbits) |
           (uint16_t)(v / ldexp(1, e - 1 - mbits) - (1u << mbits));
}

uint16_t ref_round_f16(double x)
{
    return ref_round(x, 5, 10);
}

uint16_t ref_round_bf16(double x)
{
    return ref_round(x, 8, 7);
}

double ref_elem(const void *p, LumenDtype t, int64_t i)
{
    switch (t) {
    case LUMEN_DTYPE_F32:
        return ((const float *)p)[i];
    case LUMEN_DTYPE_F16:
        return ref_f16_value(((const uint16_t *)p)[i]);
    case LUMEN_DTYPE_BF16:
        return ref_bf16_value(((const uint16_t *)p)[i]);
    case LUMEN_DTYPE_I8:
        return ((const int8_t *)p)[i];
    case LUMEN_DTYPE_I32:
        return ((const int32_t *)p)[i];
    }
    abort();
}

/* The argument t of sigmoid in x * sigmoid(t). */
double ref_sigmoid_arg(double x, LumenAct act)
{
    if (act == LUMEN_ACT_GELU) {
        /* 0.5 x (1 + tanh(u)) == x * sigmoid(2u) */
        return 2 * sqrt(2 / M_PI) * (x + 0.044715 * x * x * x);
    }
    return x;
}

double ref_act(double x, LumenAct act)
{
    switch (act) {
    case LUMEN_ACT_NONE:
        return x;
    case LUMEN_ACT_RELU:
        return x < 0 ? 0.0 : x;
    case LUMEN_ACT_GELU:
    case LUMEN_ACT_SILU:
        if (x == -INFINITY) {
            return -0.0;        /* the limit, as documented */
        }
        return x / (1 + exp(-ref_sigmoid_arg(x, act)));
    }
    abort();
}

static double gemm_a(const LumenGemm *g, int64_t i, int64_t k)
{
    return ref_elem(g->a, g->type, g->trans_a ? k * g->lda + i :
                                                i * g->lda + k);
}

static double gemm_b(const LumenGemm *g, int64_t k, int64_t j)
{
    return ref_elem(g->b, g->type, g->trans_b ? j * g->ldb + k :
                                                k * g->ldb + j);
}

static double gemm_bias(const LumenGemm *g, int64_t i, int64_t j)
{
    switch (g->bias_kind) {
    case LUMEN_BIAS_ROW:
        return ref_elem(g->bias, g->c_type, j);
    case LUMEN_BIAS_COL:
        return ref_elem(g->bias, g->c_type, i);
    default:
        return 0;
    }
}

void ref_gemm(const LumenGemm *g, double *out, double *mag, double *z)
{
    for (int64_t i = 0; i < g->m; i++) {
        for (int64_t j = 0; j < g->n; j++) {
            double s = 0, sa = 0, v, m, c = 0, bias = gemm_bias(g, i, j);

            for (int64_t k = 0; k < g->k; k++) {
                double p = gemm_a(g, i, k) * gemm_b(g, k, j);

                s += p;
                sa += fabs(p);
            }
            if (g->beta != 0) {
                c = g->beta * ref_elem(g->c, g->c_type, i * g->ldc + j);
            }
            v = g->alpha * s + c + bias;
            m = fabs(g->alpha) * sa + fabs(c) + fabs(bias);
            out[i * g->n + j] = ref_act(v, g->act);
            if (mag) {
                mag[i * g->n + j] = m;
            }
            if (z) {
                z[i * g->n + j] = v;
            }
        }
    }
}

void ref_gemm_i8(const LumenGemm *g, int32_t *out)
{
    for (int64_t i = 0; i < g->m; i++) {
        for (int64_t j = 0; j < g->n; j++) {
            /* uint64_t wraps mod 2^64, so its low 32 bits are exact. */
            uint64_t s = 0, v;

            for (int64_t k = 0; k < g->k; k++) {
                s += (uint64_t)(int64_t)(gemm_a(g, i, k) * gemm_b(g, k, j));
            }
            v = (uint64_t)(int64_t)g->ialpha * s;
            if (g->ibeta) {
                v += (uint64_t)(int64_t)g->ibeta *
                     (uint64_t)(int64_t)((const int32_t *)g->c)[i * g->ldc + j];
            }
            v += (uint64_t)(int64_t)gemm_bias(g, i, j);
            out[i * g->n + j] = (int32_t)(uint32_t)v;
            if (g->act == LUMEN_ACT_RELU && out[i * g->n + j] < 0) {
                out[i * g->n + j] = 0;
            }
        }
    }
}

void ref_eltwise(const LumenEltwise *e, double *out)
{
    for (int64_t i = 0; i < e->rows; i++) {
        for (int64_t j = 0; j < e->cols; j++) {
            double x = ref_elem(e->x, e->type, i * e->ldx + j), b = 0, v = 0;

            if (e->op == LUMEN_ELT_ADD || e->op == LUMEN_ELT_MUL) {
                b = ref_elem(e->b, e->type,
                             e->broadcast_b ? j : i * e->ldb + j);
            }
            switch (e->op) {
            case LUMEN_ELT_ADD:
                v = x + b;
                break;
            case LUMEN_ELT_MUL:
                v = x * b;
                break;
            case LUMEN_ELT_RELU:
                v = ref_act(x, LUMEN_ACT_RELU);
                break;
            case LUMEN_ELT_GELU:
                v = ref_act(x, LUMEN_ACT_GELU);
                break;
            case LUMEN_ELT_SILU:
                v = ref_act(x, LUMEN_ACT_SILU);
                break;
            }
            out[i * e->cols + j] = v;
        }
    }
}

void ref_softmax(const LumenRows *r, double *out, double *range)
{
    for (int64_t i = 0; i < r->rows; i++) {
        const float *x = r->x + i * r->ldx;
        double max = -INFINITY, min = INFINITY, sum = 0;
        bool nan = false;

        for (int64_t j = 0; j < r->cols; j++) {
            nan |= isnan(x[j]);
            max = fmax(max, x[j]);
            min = fmin(min, x[j]);
        }
        for (int64_t j = 0; j < r->cols; j++) {
            sum += exp(x[j] - max);
        }
        for (int64_t j = 0; j < r->cols; j++) {
            out[i * r->cols + j] = nan ? NAN : exp(x[j] - max) / sum;
        }
        range[i] = max - min;
    }
}

void ref_layer_norm(const LumenRows *r, double *out, double *mag)
{
    for (int64_t i = 0; i < r->rows; i++) {
        const float *x = r->x + i * r->ldx;
        double mean = 0, var = 0;

        for (int64_t j = 0; j < r->cols; j++) {
            mean += x[j];
        }
        mean /= r->cols;
        for (int64_t j = 0; j < r->cols; j++) {
            var += (x[j] - mean) * (x[j] - mean);
        }
        var /= r->cols;
        for (int64_t j = 0; j < r->cols; j++) {
            double xg = (x[j] - mean) / sqrt(var + r->eps);
            double b = r->beta ? r->beta[j] : 0;

            xg *= r->gamma ? r->gamma[j] : 1;
            out[i * r->cols + j] = xg + b;
            mag[i * r->cols + j] = fabs(xg) + fabs(b);
        }
    }
}

void ref_rms_norm(const LumenRows *r, double *out)
{
    for (int64_t i = 0; i < r->rows; i++) {
        const float *x = r->x + i * r->ldx;
        double ms = 0;

        for (int64_t j = 0; j < r->cols; j++) {
            ms += (double)x[j] * x[j];
        }
        ms /= r->cols;
        for (int64_t j = 0; j < r->cols; j++) {
            out[i * r->cols + j] = x[j] / sqrt(ms + r->eps) *
                                   (r->gamma ? r->gamma[j] : 1);
        }
    }
}

void ref_conv2d(const LumenConv2d *cv, double *out, double *mag, double *z)
{
    int64_t p, q, cg = cv->c / cv->groups, kg = cv->k / cv->groups;

    p = (cv->h + 2 * cv->pad_h - cv->dil_h * (cv->r - 1) - 1) / cv->stride_h;
    q = (cv->w + 2 * cv->pad_w - cv->dil_w * (cv->s - 1) - 1) / cv->stride_w;
    p++;
    q++;
    for (int64_t n = 0; n < cv->n; n++) {
        for (int64_t ko = 0; ko < cv->k; ko++) {
            int64_t g = ko / kg;

            for (int64_t oy = 0; oy < p; oy++) {
                for (int64_t ox = 0; ox < q; ox++) {
                    double s = 0, sa = 0, b = cv->bias ? cv->bias[ko] : 0;
                    int64_t o = ((n * cv->k + ko) * p + oy) * q + ox;

                    for (int64_t ci = 0; ci < cg; ci++) {
                        for (int64_t ry = 0; ry < cv->r; ry++) {
                            for (int64_t sx = 0; sx < cv->s; sx++) {
                                int64_t iy = oy * cv->stride_h - cv->pad_h +
                                             ry * cv->dil_h;
                                int64_t ix = ox * cv->stride_w - cv->pad_w +
                                             sx * cv->dil_w;
                                double w, x, prod;

                                if (iy < 0 || iy >= cv->h || ix < 0 ||
                                    ix >= cv->w) {
                                    continue;
                                }
                                w = cv->weight[((ko * cg + ci) * cv->r + ry) *
                                               cv->s + sx];
                                x = cv->x[((n * cv->c + g * cg + ci) * cv->h +
                                           iy) * cv->w + ix];
                                prod = w * x;
                                s += prod;
                                sa += fabs(prod);
                            }
                        }
                    }
                    out[o] = ref_act(s + b, cv->act);
                    mag[o] = sa + fabs(b);
                    z[o] = s + b;
                }
            }
        }
    }
}

void ref_pool2d(const LumenPool2d *pl, double *out)
{
    int64_t p = (pl->h + 2 * pl->pad_h - pl->r) / pl->stride_h + 1;
    int64_t q = (pl->w + 2 * pl->pad_w - pl->s) / pl->stride_w + 1;

    for (int64_t plane = 0; plane < pl->n * pl->c; plane++) {
        const float *x = pl->x + plane * pl->h * pl->w;

        for (int64_t oy = 0; oy < p; oy++) {
            for (int64_t ox = 0; ox < q; ox++) {
                double max = NAN, sum = 0;
                int64_t count = 0;
                bool nan = false;

                for (int64_t ry = 0; ry < pl->r; ry++) {
                    for (int64_t sx = 0; sx < pl->s; sx++) {
                        int64_t iy = oy * pl->stride_h - pl->pad_h + ry;
                        int64_t ix = ox * pl->stride_w - pl->pad_w + sx;
                        double v;

                        if (iy < 0 || iy >= pl->h || ix < 0 || ix >= pl->w) {
                            continue;   /* padding takes no part */
                        }
                        v = x[iy * pl->w + ix];
                        nan |= isnan(v);
                        /* The first of equal maxima wins (+0 vs -0). */
                        if (count == 0 || v > max) {
                            max = v;
                        }
                        sum += v;
                        count++;
                    }
                }
                out[plane * p * q + oy * q + ox] =
                    pl->op == LUMEN_POOL_MAX ? (nan ? NAN : max) :
                                               sum / count;
            }
        }
    }
}
