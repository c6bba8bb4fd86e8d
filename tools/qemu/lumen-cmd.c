/*
 * Lumen PCIe inference accelerator: commands
 *
 * Copyright (c) 2025 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Decodes one 64-byte ring entry, checks every field, and executes it.
 * The checks come in a fixed order, so that one bad entry always gives
 * the same error code: header reserved bytes (BAD_CMD), opcode
 * (BAD_OPCODE), flags and unused arguments (BAD_CMD), then the
 * command's own checks.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "lumen.h"

typedef struct LumenCmd {
    uint8_t opcode;
    uint8_t flags;
    uint64_t reserved;          /* header bytes 2..7 */
    uint64_t args[LUMEN_CMD_ARGS];
} LumenCmd;

static void lumen_cmd_decode(const uint8_t *raw, LumenCmd *cmd)
{
    cmd->opcode = raw[0];
    cmd->flags = raw[1];
    cmd->reserved = ldq_le_p(raw) >> 16;
    for (unsigned i = 0; i < LUMEN_CMD_ARGS; i++) {
        cmd->args[i] = ldq_le_p(raw + 8 * (i + 1));
    }
}

/* Are the arguments from @first on all zero? */
static bool lumen_args_zero_from(const LumenCmd *cmd, unsigned first)
{
    for (unsigned i = first; i < LUMEN_CMD_ARGS; i++) {
        if (cmd->args[i]) {
            return false;
        }
    }
    return true;
}

static uint32_t lumen_cmd_nop(const LumenCmd *cmd)
{
    if (cmd->flags || !lumen_args_zero_from(cmd, 0)) {
        return LUMEN_ERR_BAD_CMD;
    }
    return LUMEN_ERR_NONE;
}

static uint32_t lumen_cmd_fence(LumenState *s, const LumenCmd *cmd,
                                bool *raise_irq)
{
    uint64_t addr = cmd->args[0];
    uint32_t err;

    if (cmd->flags & ~LUMEN_FENCE_IRQ || !lumen_args_zero_from(cmd, 2)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (!QEMU_IS_ALIGNED(addr, sizeof(uint64_t))) {
        return LUMEN_ERR_ALIGN;
    }
    err = lumen_dma_write_u64(s, addr, cmd->args[1]);
    if (err == LUMEN_ERR_NONE) {
        *raise_irq = cmd->flags & LUMEN_FENCE_IRQ;
    }
    return err;
}

/* The checks of one side of a COPY that need no memory access. */
static uint32_t lumen_copy_check_side(unsigned flags, unsigned devmem_flag,
                                      unsigned sgl_flag, uint64_t addr,
                                      uint64_t sgl_count)
{
    if ((flags & devmem_flag) && (flags & sgl_flag)) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (!(flags & sgl_flag) && sgl_count) {
        return LUMEN_ERR_BAD_CMD;
    }
    if ((flags & devmem_flag) && addr) {
        return LUMEN_ERR_BAD_CMD;
    }
    return LUMEN_ERR_NONE;
}

static uint32_t lumen_cmd_copy(LumenState *s, const LumenCmd *cmd,
                               const LumenCancel *cancel)
{
    const unsigned known = LUMEN_COPY_SRC_DEVMEM | LUMEN_COPY_SRC_SGL |
                           LUMEN_COPY_DST_DEVMEM | LUMEN_COPY_DST_SGL;
    uint64_t count = cmd->args[4];
    uint32_t err;

    if (cmd->flags & ~known) {
        return LUMEN_ERR_BAD_CMD;
    }
    if (count == 0 || count > LUMEN_COPY_MAX_SIZE) {
        return LUMEN_ERR_BAD_CMD;
    }
    err = lumen_copy_check_side(cmd->flags, LUMEN_COPY_SRC_DEVMEM,
                                LUMEN_COPY_SRC_SGL, cmd->args[0],
                                cmd->args[5]);
    if (err == LUMEN_ERR_NONE) {
        err = lumen_copy_check_side(cmd->flags, LUMEN_COPY_DST_DEVMEM,
                                    LUMEN_COPY_DST_SGL, cmd->args[2],
                                    cmd->args[6]);
    }
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    return lumen_copy(s, cancel, cmd->flags, cmd->args);
}

/*
 * Execute the entry at bus address @entry_addr of queue @q.  Runs on an
 * engine thread without the lock.  Returns LUMEN_ERR_NONE, an error code
 * for the queue, or LUMEN_ERR_CANCELLED if @q's epoch moved on from
 * @epoch.  *raise_irq is set if the command asks for the queue's vector.
 */
uint32_t lumen_cmd_execute(LumenState *s, LumenQueue *q, uint64_t entry_addr,
                           uint32_t epoch, bool *raise_irq)
{
    const LumenCancel cancel = { .dev = s, .queue = q, .epoch = epoch };
    uint8_t raw[LUMEN_CMD_SIZE];
    LumenCmd cmd;
    uint32_t err;

    err = lumen_dma_read(s, entry_addr, raw, sizeof(raw));
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    lumen_cmd_decode(raw, &cmd);
    if (cmd.reserved) {
        return LUMEN_ERR_BAD_CMD;
    }

    switch (cmd.opcode) {
    case LUMEN_OP_NOP:
        return lumen_cmd_nop(&cmd);
    case LUMEN_OP_FENCE:
        return lumen_cmd_fence(s, &cmd, raise_irq);
    case LUMEN_OP_COPY:
        return lumen_cmd_copy(s, &cmd, &cancel);
    default:
        return LUMEN_ERR_BAD_OPCODE;
    }
}
