/*
 * Lumen device: operator operands in device memory and their host copies
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An operand is a rows x cols matrix of es-byte elements at a device
 * address, rows ld elements apart (a dense tensor is one row).  Its
 * extent, the bytes from its first to its last element, is what counts
 * against LUMEN_OP_MAX_BYTES; only its rows are accessed, never the gaps
 * between them.  The operator library works on compact host copies
 * (ld == cols), so an operand's host buffer is rows * cols elements.
 */
#ifndef LUMEN_CORE_OPERAND_H
#define LUMEN_CORE_OPERAND_H

#include "core-internal.h"

typedef struct LumenOperand {
    uint64_t addr;              /* device address in the command's context */
    uint64_t rows, cols, ld;    /* elements */
    unsigned es;                /* element size in bytes */
    bool present;               /* false: an absent optional operand */
    void *buf;                  /* host copy, 64-byte aligned */
} LumenOperand;

/* The most operands any operator has (conv2d: x, weight, bias, y). */
#define LUMEN_OPERANDS_MAX  6

typedef struct LumenOperands {
    LumenOperand o[LUMEN_OPERANDS_MAX];
    unsigned n;
} LumenOperands;

/* Add a matrix operand; returns it for the caller to refer to. */
LumenOperand *lumen_operand_matrix(LumenOperands *ops, uint64_t addr,
                                   uint64_t rows, uint64_t cols, uint64_t ld,
                                   unsigned es);
/* A dense tensor of @count elements; absent when !@present. */
LumenOperand *lumen_operand_dense(LumenOperands *ops, uint64_t addr,
                                  uint64_t count, unsigned es, bool present);

/*
 * Sum the extents: LUMEN_ERR_TOO_LARGE beyond LUMEN_OP_MAX_BYTES (or on
 * overflow); then allocate the host buffers (TOO_LARGE if the host has no
 * memory for them).
 */
uint32_t lumen_operands_alloc(LumenOperands *ops);
void lumen_operands_free(LumenOperands *ops);

/* Copy an operand from device memory into its host buffer, and back. */
uint32_t lumen_operand_gather(LumenExec *x, unsigned ctx,
                              const LumenOperand *op);
uint32_t lumen_operand_scatter(LumenExec *x, unsigned ctx,
                               const LumenOperand *op);

#endif /* LUMEN_CORE_OPERAND_H */
