/*
 * Lumen device: operator operands in device memory and their host copies
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An operator reads all its inputs into host buffers, computes, and only
 * then writes its outputs back, row by row.  So an output may alias an
 * input (in-place operators) with a defined result, and the bytes between
 * the rows of a strided output are never written (another queue may own
 * them).
 */

#include <stdlib.h>

#include "operand.h"

static LumenOperand *lumen_operand_add(LumenOperands *ops)
{
    LumenOperand *op = &ops->o[ops->n++];

    *op = (LumenOperand) { 0 };
    return op;
}

LumenOperand *lumen_operand_matrix(LumenOperands *ops, uint64_t addr,
                                   uint64_t rows, uint64_t cols, uint64_t ld,
                                   unsigned es)
{
    LumenOperand *op = lumen_operand_add(ops);

    *op = (LumenOperand) {
        .addr = addr, .rows = rows, .cols = cols, .ld = ld, .es = es,
        .present = true,
    };
    return op;
}

LumenOperand *lumen_operand_dense(LumenOperands *ops, uint64_t addr,
                                  uint64_t count, unsigned es, bool present)
{
    LumenOperand *op = lumen_operand_matrix(ops, addr, 1, count, count, es);

    op->present = present;
    return op;
}

/* Extent in bytes: ((rows - 1) * ld + cols) * es; false on overflow. */
static bool lumen_operand_extent(const LumenOperand *op, uint64_t *bytes)
{
    uint64_t elems;

    return !__builtin_mul_overflow(op->rows - 1, op->ld, &elems) &&
           !__builtin_add_overflow(elems, op->cols, &elems) &&
           !__builtin_mul_overflow(elems, (uint64_t)op->es, bytes);
}

uint32_t lumen_operands_alloc(LumenOperands *ops)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < ops->n; i++) {
        uint64_t bytes;

        if (!ops->o[i].present) {
            continue;
        }
        if (!lumen_operand_extent(&ops->o[i], &bytes) ||
            __builtin_add_overflow(total, bytes, &total) ||
            total > LUMEN_CORE_OP_MAX_BYTES) {
            return LUMEN_ERR_TOO_LARGE;
        }
    }
    for (unsigned i = 0; i < ops->n; i++) {
        LumenOperand *op = &ops->o[i];
        /* Fits: rows * cols * es <= extent <= the limit. */
        size_t bytes = op->rows * op->cols * op->es;

        if (op->present &&
            posix_memalign(&op->buf, 64, bytes ? bytes : 1) != 0) {
            op->buf = NULL;
            return LUMEN_ERR_TOO_LARGE;
        }
    }
    return LUMEN_ERR_NONE;
}

void lumen_operands_free(LumenOperands *ops)
{
    for (unsigned i = 0; i < ops->n; i++) {
        free(ops->o[i].buf);
        ops->o[i].buf = NULL;
    }
}

/*
 * One access per row, or one for the whole operand when its rows are
 * contiguous.  The range accessors poll for cancellation between chunks;
 * rows are polled here.
 */
static uint32_t lumen_operand_move(LumenExec *x, unsigned ctx,
                                   const LumenOperand *op, bool write)
{
    uint64_t row_bytes = op->cols * op->es;
    uint64_t rows = op->rows;
    uint8_t *buf = op->buf;
    uint64_t extent;
    uint32_t err;

    /* The whole extent is addressable before the first row moves. */
    if (!lumen_operand_extent(op, &extent)) {
        return LUMEN_ERR_TOO_LARGE;     /* not reached: checked at alloc */
    }
    err = lumen_range_check(x, ctx, op->addr, extent, write);
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    if (op->ld == op->cols) {
        row_bytes *= rows;
        rows = 1;
    }
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t addr = op->addr + i * op->ld * op->es;

        if (i && lumen_exec_cancelled(x)) {
            return LUMEN_STEP_CANCELLED;
        }
        err = write ? lumen_mem_write(x, ctx, addr, buf + i * row_bytes,
                                      row_bytes)
                    : lumen_mem_read(x, ctx, addr, buf + i * row_bytes,
                                     row_bytes);
        if (err != LUMEN_ERR_NONE) {
            return err;
        }
    }
    return LUMEN_ERR_NONE;
}

uint32_t lumen_operand_gather(LumenExec *x, unsigned ctx,
                              const LumenOperand *op)
{
    return op->present ? lumen_operand_move(x, ctx, op, false)
                       : LUMEN_ERR_NONE;
}

uint32_t lumen_operand_scatter(LumenExec *x, unsigned ctx,
                               const LumenOperand *op)
{
    return op->present ? lumen_operand_move(x, ctx, op, true)
                       : LUMEN_ERR_NONE;
}
