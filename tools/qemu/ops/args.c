/*
 * Lumen operators: argument checks shared by every operator
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The device validates commands before it calls an operator, but the
 * operators still refuse anything that could make them index outside the
 * memory their arguments describe: negative or zero sizes, leading
 * dimensions shorter than a row, extents that overflow, misaligned or
 * NULL pointers.
 */
#include "ops-internal.h"

/* Does [p, p + bytes) fit in the address space (and in ptrdiff_t)? */
static bool extent_fits(const void *p, uint64_t elems, size_t esize)
{
    uint64_t bytes;

    if (__builtin_mul_overflow(elems, (uint64_t)esize, &bytes) ||
        bytes > PTRDIFF_MAX) {
        return false;
    }
    return (uintptr_t)p <= UINTPTR_MAX - bytes;
}

/*
 * A rows x cols matrix of esize-byte elements at p with leading dimension
 * ld: 0, -EINVAL or -EOVERFLOW.
 */
int ops_check_matrix(const void *p, int64_t rows, int64_t cols, int64_t ld,
                     size_t esize)
{
    uint64_t elems;

    if (!p || (uintptr_t)p % esize || rows < 1 || cols < 1 || ld < cols) {
        return -EINVAL;
    }
    /* The last element is at (rows - 1) * ld + cols - 1. */
    if (__builtin_mul_overflow((uint64_t)(rows - 1), (uint64_t)ld, &elems) ||
        __builtin_add_overflow(elems, (uint64_t)cols, &elems) ||
        !extent_fits(p, elems, esize)) {
        return -EOVERFLOW;
    }
    return 0;
}

/*
 * A dense tensor of n dimensions, each >= 1, whose byte size fits:
 * 0 and its element count in *count, -EINVAL or -EOVERFLOW.  The caller
 * checks each pointer as a one-row matrix of *count elements.
 */
int ops_check_dims(const int64_t *dims, int n, size_t esize, int64_t *count)
{
    uint64_t elems = 1;

    for (int i = 0; i < n; i++) {
        if (dims[i] < 1) {
            return -EINVAL;
        }
    }
    for (int i = 0; i < n; i++) {
        if (__builtin_mul_overflow(elems, (uint64_t)dims[i], &elems) ||
            !extent_fits(NULL, elems, esize)) {
            return -EOVERFLOW;
        }
    }
    *count = (int64_t)elems;
    return 0;
}

int ops_check_act(LumenAct act)
{
    switch (act) {
    case LUMEN_ACT_NONE:
    case LUMEN_ACT_RELU:
    case LUMEN_ACT_GELU:
    case LUMEN_ACT_SILU:
        return 0;
    }
    return -EINVAL;
}
