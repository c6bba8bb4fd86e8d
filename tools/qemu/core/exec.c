/*
 * Lumen device: command decoding and execution
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One call of lumen_exec_step() executes one command: the ring entry
 * itself, or the next command of the innermost indirect buffer (IB).
 *
 * The checks come in a fixed order, so that one bad command always gives
 * the same error code:
 *   1. header bytes 2..7 zero                         else BAD_CMD
 *   2. opcode known                                   else BAD_OPCODE
 *   3. an operator on a compute engine                else WRONG_ENGINE
 *   4. no unknown flag, unused argument words zero    else BAD_CMD
 *   5. field values (sizes, counts, contexts)         else BAD_CMD
 *   6. address alignment                              else ALIGN
 *   7. IB nesting                                     else IB_LIMIT
 *   8. the memory accesses, in order                  DMA, DEVMEM_RANGE,
 *                                                     MMU_FAULT
 * Operators check their descriptor between 7 and 8 (ops-cmd.c).
 */

#include "core-internal.h"

/* Internal result of INDIRECT: push the frame in LumenPush. */
#define LUMEN_INT_PUSH      0x200

typedef struct LumenPush {
    uint64_t addr;
    uint64_t size;
    unsigned ctx;
} LumenPush;

void lumen_queue_exec_reset(LumenQueueExec *qx)
{
    memset(qx, 0, sizeof(*qx));
}

static void lumen_cmd_decode(const uint8_t *raw, LumenCmd *cmd)
{
    cmd->opcode = raw[0];
    cmd->flags = raw[1];
    cmd->reserved = lumen_ldq_le(raw) >> 16;
    for (unsigned i = 0; i < LUMEN_CMD_ARGS; i++) {
        cmd->args[i] = lumen_ldq_le(raw + 8 * (i + 1));
    }
}

/* Step 4: only @flags allowed, argument words from @nargs on zero. */
static bool lumen_cmd_format_ok(const LumenCmd *cmd, unsigned flags,
                                unsigned nargs)
{
    if (cmd->flags & ~flags) {
        return false;
    }
    for (unsigned i = nargs; i < LUMEN_CMD_ARGS; i++) {
        if (cmd->args[i]) {
            return false;
        }
    }
    return true;
}

/* FENCE and TIMESTAMP: store a 64-bit value at an 8-aligned address. */
static uint32_t lumen_cmd_store(LumenExec *x, unsigned ctx, uint64_t addr,
                                uint64_t val)
{
    if (!LUMEN_IS_ALIGNED(addr, 8)) {
        return LUMEN_ERR_ALIGN;
    }
    return lumen_mem_write_u64(x, ctx, addr, val);
}

static uint32_t lumen_cmd_fence(LumenExec *x, unsigned ctx,
                                const LumenCmd *cmd)
{
    uint32_t err;

    if (!lumen_cmd_format_ok(cmd, LUMEN_FENCE_IRQ, 2)) {
        return LUMEN_ERR_BAD_CMD;
    }
    err = lumen_cmd_store(x, ctx, cmd->args[0], cmd->args[1]);
    if (err == LUMEN_ERR_NONE) {
        x->raise_irq = cmd->flags & LUMEN_FENCE_IRQ;
    }
    return err;
}

static uint32_t lumen_cmd_timestamp(LumenExec *x, unsigned ctx,
                                    const LumenCmd *cmd)
{
    if (!lumen_cmd_format_ok(cmd, 0, 1)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (!LUMEN_IS_ALIGNED(cmd->args[0], 8)) {
        return LUMEN_ERR_ALIGN;
    }
    return lumen_mem_write_u64(x, ctx, cmd->args[0],
                               x->bus->timestamp(x->bus->opaque));
}

/* WAIT: blocked (nothing consumed) while the u64 at arg0 < arg1. */
static uint32_t lumen_cmd_wait(LumenExec *x, unsigned ctx,
                               const LumenCmd *cmd)
{
    uint64_t val;
    uint32_t err;

    if (!lumen_cmd_format_ok(cmd, 0, 2)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (!LUMEN_IS_ALIGNED(cmd->args[0], 8)) {
        return LUMEN_ERR_ALIGN;
    }
    err = lumen_mem_read_u64(x, ctx, cmd->args[0], &val);
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    return val < cmd->args[1] ? LUMEN_STEP_BLOCKED : LUMEN_ERR_NONE;
}

static uint32_t lumen_cmd_indirect(LumenExec *x, const LumenQueueExec *qx,
                                   unsigned ctx, const LumenCmd *cmd,
                                   LumenPush *push)
{
    uint64_t addr = cmd->args[0], size = cmd->args[1], ib_ctx = cmd->args[2];
    /*
     * Only a ring entry of a kernel queue may switch contexts: an IB, and
     * every command of a direct queue, stays in its own (arg2 == 0).
     */
    bool stay = qx->depth > 0 || x->ring_ctx != 0;
    uint32_t err;

    if (!lumen_cmd_format_ok(cmd, 0, 3)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (size < LUMEN_IB_ALIGN || size > LUMEN_IB_MAX_SIZE ||
        !LUMEN_IS_ALIGNED(size, LUMEN_IB_ALIGN)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (stay ? ib_ctx != 0 : ib_ctx >= LUMEN_NUM_CONTEXTS) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (!LUMEN_IS_ALIGNED(addr, LUMEN_IB_ALIGN)) {
        return LUMEN_ERR_ALIGN;
    }
    if (qx->depth >= LUMEN_IB_MAX_DEPTH) {
        return LUMEN_ERR_IB_LIMIT;
    }
    push->ctx = stay ? ctx : ib_ctx;
    /* The whole IB must be addressable: no wrap, below 2^48, in devmem. */
    err = lumen_range_check(x, push->ctx, addr, size, false);
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    push->addr = addr;
    push->size = size;
    return LUMEN_INT_PUSH;
}

/* Is a 2D extent ((height - 1) * pitch + width) representable? */
static bool lumen_extent_2d(uint64_t width, uint64_t height, uint64_t pitch)
{
    uint64_t rows = height - 1;

    return !(rows && pitch > (UINT64_MAX - width) / rows);
}

static uint32_t lumen_cmd_copy_2d(LumenExec *x, unsigned ctx,
                                  const LumenCmd *cmd)
{
    uint64_t src = cmd->args[0], dst = cmd->args[1];
    uint64_t width = cmd->args[2], height = cmd->args[3];
    uint64_t spitch = cmd->args[4], dpitch = cmd->args[5];
    uint32_t err;

    if (!lumen_cmd_format_ok(cmd, LUMEN_COPY_2D, 6)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (width == 0 || height == 0 || spitch < width || dpitch < width ||
        width > LUMEN_COPY_MAX_SIZE || height > LUMEN_COPY_MAX_SIZE / width ||
        !lumen_extent_2d(width, height, spitch) ||
        !lumen_extent_2d(width, height, dpitch)) {
        return LUMEN_ERR_BAD_CMD;
    }
    /* Both extents addressable before the first byte moves. */
    err = lumen_range_check(x, ctx, src, (height - 1) * spitch + width, false);
    if (err == LUMEN_ERR_NONE) {
        err = lumen_range_check(x, ctx, dst, (height - 1) * dpitch + width,
                                true);
    }
    for (uint64_t row = 0; err == LUMEN_ERR_NONE && row < height; row++) {
        if (row && lumen_exec_cancelled(x)) {
            return LUMEN_STEP_CANCELLED;
        }
        err = lumen_mem_copy(x, ctx, src + row * spitch, dst + row * dpitch,
                             width);
    }
    return err;
}

static uint32_t lumen_cmd_copy(LumenExec *x, unsigned ctx,
                               const LumenCmd *cmd)
{
    uint64_t size = cmd->args[2];

    if (cmd->flags & LUMEN_COPY_2D) {
        return lumen_cmd_copy_2d(x, ctx, cmd);
    }
    if (!lumen_cmd_format_ok(cmd, 0, 3)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (size == 0 || size > LUMEN_COPY_MAX_SIZE) {
        return LUMEN_ERR_BAD_CMD;
    }
    return lumen_mem_copy(x, ctx, cmd->args[0], cmd->args[1], size);
}

static uint32_t lumen_cmd_fill(LumenExec *x, unsigned ctx,
                               const LumenCmd *cmd)
{
    uint64_t size = cmd->args[1];

    if (!lumen_cmd_format_ok(cmd, 0, 3)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (size == 0 || size > LUMEN_COPY_MAX_SIZE) {
        return LUMEN_ERR_BAD_CMD;
    }
    return lumen_mem_fill(x, ctx, cmd->args[0], size, cmd->args[2]);
}

static uint32_t lumen_cmd_exec(LumenExec *x, const LumenQueueExec *qx,
                               unsigned ctx, const LumenCmd *cmd,
                               LumenPush *push)
{
    if (cmd->reserved) {
        return LUMEN_ERR_BAD_CMD;
    }
    switch (cmd->opcode) {
    case LUMEN_OP_NOP:
        return lumen_cmd_format_ok(cmd, 0, 0) ? LUMEN_ERR_NONE
                                              : LUMEN_ERR_BAD_CMD;
    case LUMEN_OP_FENCE:
        return lumen_cmd_fence(x, ctx, cmd);
    case LUMEN_OP_WAIT:
        return lumen_cmd_wait(x, ctx, cmd);
    case LUMEN_OP_TIMESTAMP:
        return lumen_cmd_timestamp(x, ctx, cmd);
    case LUMEN_OP_INDIRECT:
        return lumen_cmd_indirect(x, qx, ctx, cmd, push);
    case LUMEN_OP_COPY:
        return lumen_cmd_copy(x, ctx, cmd);
    case LUMEN_OP_FILL:
        return lumen_cmd_fill(x, ctx, cmd);
    }
    if (!lumen_opcode_is_operator(cmd->opcode)) {
        return LUMEN_ERR_BAD_OPCODE;
    }
    if (!x->compute) {
        return LUMEN_ERR_WRONG_ENGINE;
    }
    if (!lumen_cmd_format_ok(cmd, 0, 1)) {
        return LUMEN_ERR_BAD_CMD;
    }
    return lumen_exec_operator(x, ctx, cmd);
}

uint32_t lumen_exec_fetch_entry(LumenExec *x, uint64_t addr,
                                uint8_t entry[LUMEN_CMD_SIZE])
{
    x->fault_va = 0;
    x->fault_info = 0;
    if (x->ring_ctx == 0) {
        /* A kernel queue's ring: bus memory, as in device 1.0. */
        return x->bus->read(x->bus->opaque, addr, entry, LUMEN_CMD_SIZE);
    }
    /* 64-byte aligned in a 4 KiB aligned ring: never crosses a page. */
    return lumen_mem_fetch(x, x->ring_ctx, addr, entry, LUMEN_CMD_SIZE);
}

uint32_t lumen_exec_step(LumenExec *x, LumenQueueExec *qx,
                         const uint8_t entry[LUMEN_CMD_SIZE])
{
    uint8_t raw[LUMEN_CMD_SIZE];
    const uint8_t *bytes = entry;
    unsigned ctx = x->ring_ctx;
    LumenPush push = { 0 };
    LumenCmd cmd;
    uint32_t ret;

    x->raise_irq = false;
    x->fault_va = 0;
    x->fault_info = 0;

    if (qx->depth > 0) {
        const LumenFrame *f = &qx->frames[qx->depth - 1];

        if (qx->commands >= LUMEN_IB_MAX_COMMANDS) {
            return LUMEN_ERR_IB_LIMIT;
        }
        ctx = qx->ctx;
        ret = lumen_mem_fetch(x, ctx, f->addr, raw, sizeof(raw));
        if (ret != LUMEN_ERR_NONE) {
            return ret;
        }
        bytes = raw;
    }

    lumen_cmd_decode(bytes, &cmd);
    ret = lumen_cmd_exec(x, qx, ctx, &cmd, &push);
    /*
     * Blocked, failed or cancelled: qx stays on this command, so that the
     * caller can report its context (qx->ctx) and address
     * (qx->frames[qx->depth - 1].addr); a retry runs it again.
     */
    if (ret != LUMEN_ERR_NONE && ret != LUMEN_INT_PUSH) {
        return ret;
    }

    /* The command retired: account for it, then move on. */
    if (x->stats) {
        x->stats->commands++;
    }
    if (qx->depth > 0) {
        qx->commands++;
        qx->frames[qx->depth - 1].addr += LUMEN_CMD_SIZE;
    }
    if (ret == LUMEN_INT_PUSH) {
        qx->ctx = push.ctx;
        qx->frames[qx->depth++] = (LumenFrame) {
            .addr = push.addr, .end = push.addr + push.size,
        };
    }
    while (qx->depth > 0 &&
           qx->frames[qx->depth - 1].addr == qx->frames[qx->depth - 1].end) {
        qx->depth--;
    }
    if (qx->depth == 0) {
        lumen_queue_exec_reset(qx);
        return LUMEN_STEP_DONE;
    }
    return LUMEN_STEP_MORE;
}
