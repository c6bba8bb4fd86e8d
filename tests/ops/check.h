/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the operator tests: a deterministic random source,
 * typed buffers, and the documented tolerances (Documentation/operators.rst,
 * "Numerics"), written once here so that every test checks exactly them.
 */
#ifndef LUMEN_TESTS_OPS_CHECK_H
#define LUMEN_TESTS_OPS_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "lumen-ops.h"

/* FLT_EPSILON, the spacing of f32 numbers in [1, 2). */
#define EPS_F32 0x1p-23

typedef struct Rng {
    uint64_t s;
} Rng;

uint64_t rng_next(Rng *r);
/* Uniform in [lo, hi]. */
double rng_uniform(Rng *r, double lo, double hi);
int64_t rng_range(Rng *r, int64_t lo, int64_t hi);

size_t dtype_size(LumenDtype t);

/*
 * Allocates a rows x ld matrix of type t whose elements are uniform in
 * [lo, hi] (integers only, if integers), rounded to t.  The padding
 * beyond cols in each row gets a sentinel: NaN for float types, so that
 * reading it poisons a result, and 0x5a bytes for integer types.
 */
void *matrix_new(Rng *r, LumenDtype t, int64_t rows, int64_t cols,
                 int64_t ld, double lo, double hi, bool integers);
/* Is the padding of such a matrix still the sentinel? */
bool padding_intact(const void *p, LumenDtype t, int64_t rows, int64_t cols,
                    int64_t ld);
/* Sets every element of rows x cols at ld to the value v (NaN allowed). */
void matrix_set(void *p, LumenDtype t, int64_t rows, int64_t cols,
                int64_t ld, double v);

/* Machine epsilon of an output type, and half its smallest subnormal. */
double type_eps(LumenDtype t);
double type_tiny(LumenDtype t);

/*
 * The documented bound on an activation's own error in f32, at x whose
 * exact result is y: (5 |t| + 8) eps |y| + (|x| + 1) 2^-149 for GELU and
 * SiLU (t the sigmoid's argument), 0 for none and ReLU.
 */
double act_tol(LumenAct act, double x, double y);
/* A bound on |act'|: how much an error in the input can grow. */
double act_gain(LumenAct act);
/* The documented bound for GEMM (and conv2d) element with these terms. */
double gemm_tol(int64_t k, LumenDtype c_type, LumenAct act, double mag,
                double z, double y);
/* Rounding a correct f32 result y (within tol) to the output type. */
double round_tol(LumenDtype t, double tol, double y);

/*
 * Compares rows x cols of type t at ld with ref (dense), each within
 * tol[i] (or tol0 when tol is NULL).  A NaN must meet a NaN, an infinity
 * the same infinity.  Logs the first few mismatches with what; returns
 * how many there were.
 */
int64_t compare(const char *what, const void *got, LumenDtype t,
                int64_t rows, int64_t cols, int64_t ld, const double *ref,
                const double *tol, double tol0);

/* Is isa available here (so that its test runs rather than skips)? */
bool isa_available(LumenIsa isa);

#endif /* LUMEN_TESTS_OPS_CHECK_H */
