/*
 * Lumen operators: helpers shared by the operator sources (not installed)
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LUMEN_OPS_INTERNAL_H
#define LUMEN_OPS_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lumen-ops.h"

/*
 * Functions whose loops the compiler vectorises get one clone per x86-64
 * level; the dynamic loader picks the right one once (ifunc), so the
 * choice is not state of ours.  Elsewhere they are plain functions.
 * Cloned functions are static, and their names unique in the library:
 * clang 14 emits the ifunc of an exported one only where it is called, and
 * makes every resolver a global symbol.
 */
#if defined(__x86_64__) && !defined(LUMEN_OPS_NO_CLONES)
#define OPS_CLONES \
    __attribute__((target_clones("default", "arch=x86-64-v3", \
                                 "arch=x86-64-v4")))
#else
#define OPS_CLONES
#endif

/* Size in bytes of one element, 0 for an invalid type. */
static inline size_t ops_dtype_size(LumenDtype t)
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
    return 0;
}

int ops_check_matrix(const void *p, int64_t rows, int64_t cols, int64_t ld,
                     size_t esize);
int ops_check_dims(const int64_t *dims, int n, size_t esize, int64_t *count);
int ops_check_act(LumenAct act);
int ops_resolve_isa(LumenIsa want, LumenIsa *isa);
bool ops_have_f16c(void);

/*
 * n contiguous elements of an F32, F16 or BF16 array as floats: src itself
 * for F32, else converted into tmp (n floats).
 */
const float *ops_load_f32(const void *src, LumenDtype type, int64_t n,
                          float *tmp);
/* Stores n floats into an F32, F16 or BF16 array, rounding to its type. */
void ops_store_f32(void *dst, LumenDtype type, const float *src, int64_t n);

/* y = act(x) over n floats; y may be x. */
void ops_activate_f32(float *y, const float *x, int64_t n, LumenAct act);
void ops_relu_i32(int32_t *y, int64_t n);

/* Bit casts without aliasing trouble; they compile to nothing. */
static inline uint32_t ops_f32_bits(float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    return u;
}

static inline float ops_bits_f32(uint32_t u)
{
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

#endif /* LUMEN_OPS_INTERNAL_H */
