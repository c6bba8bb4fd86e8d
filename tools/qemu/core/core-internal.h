/*
 * Lumen device: internals shared by the files of the command core
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Not part of the core's API (lumen-core.h): the QEMU glue never includes
 * this.  mmu.c provides address translation and the range accessors that
 * every command uses; exec.c decodes commands; ops-cmd.c runs operators.
 */
#ifndef LUMEN_CORE_INTERNAL_H
#define LUMEN_CORE_INTERNAL_H

#include <string.h>

#include "lumen-core.h"

/*
 * The operator limits.  The host fuzzer builds the core with smaller ones
 * (-D...) so that every input runs in milliseconds; the device model and
 * the tests use the architectural values.
 */
#ifndef LUMEN_CORE_OP_MAX_BYTES
#define LUMEN_CORE_OP_MAX_BYTES LUMEN_OP_MAX_BYTES
#endif
#ifndef LUMEN_CORE_OP_MAX_MACS
#define LUMEN_CORE_OP_MAX_MACS  LUMEN_OP_MAX_MACS
#endif

#define LUMEN_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define LUMEN_IS_ALIGNED(x, a)  (((x) & ((a) - 1)) == 0)

/* Little-endian loads and stores, independent of the host's byte order. */
static inline uint64_t lumen_ldq_le(const void *p)
{
    const uint8_t *b = p;
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = v << 8 | b[i];
    }
    return v;
}

static inline void lumen_stq_le(void *p, uint64_t v)
{
    uint8_t *b = p;

    for (int i = 0; i < 8; i++) {
        b[i] = v >> (8 * i);
    }
}

/* A decoded command: header fields and argument words. */
typedef struct LumenCmd {
    uint8_t opcode;
    uint8_t flags;
    uint64_t reserved;          /* header bytes 2..7 */
    uint64_t args[LUMEN_CMD_ARGS];
} LumenCmd;

/*
 * One translated run: @len bytes at bus address @addr, or at offset @addr
 * of device memory when @devmem, that back consecutive VAs.
 */
typedef struct LumenRun {
    bool devmem;
    uint64_t addr;
    uint64_t len;
} LumenRun;

/*
 * Translate [va, va + maxlen) of context @ctx for a read or a write, as
 * far as it is one run (at least one byte, at most @maxlen).  Returns
 * LUMEN_ERR_NONE, or an error with x->fault_* filled in for
 * LUMEN_ERR_MMU_FAULT.  The caller has checked the whole range with
 * lumen_range_check().
 */
uint32_t lumen_translate(LumenExec *x, unsigned ctx, uint64_t va,
                         uint64_t maxlen, bool write, LumenRun *run);

/*
 * Checks of a whole range that need no page walk: in context 0 that a bus
 * range does not wrap and that a device-memory range fits; in other
 * contexts that it lies below 2^48 (else an MMU fault, VA_RANGE).
 */
uint32_t lumen_range_check(LumenExec *x, unsigned ctx, uint64_t va,
                           uint64_t len, bool write);

/*
 * Range accessors in context @ctx: chunks of at most LUMEN_BUS_MAX_XFER,
 * bus->cancelled polled between chunks (LUMEN_STEP_CANCELLED), bytes
 * counted in x->stats.  A failure may leave part of a write done.
 */
uint32_t lumen_mem_read(LumenExec *x, unsigned ctx, uint64_t va, void *buf,
                        uint64_t len);
uint32_t lumen_mem_write(LumenExec *x, unsigned ctx, uint64_t va,
                         const void *buf, uint64_t len);
uint32_t lumen_mem_fill(LumenExec *x, unsigned ctx, uint64_t va,
                        uint64_t len, uint64_t pattern);
uint32_t lumen_mem_copy(LumenExec *x, unsigned ctx, uint64_t src,
                        uint64_t dst, uint64_t len);
/* One aligned 64-bit access (FENCE, WAIT, TIMESTAMP). */
uint32_t lumen_mem_read_u64(LumenExec *x, unsigned ctx, uint64_t va,
                            uint64_t *val);
uint32_t lumen_mem_write_u64(LumenExec *x, unsigned ctx, uint64_t va,
                             uint64_t val);
/* Fetch a command of an IB: not counted as data bytes. */
uint32_t lumen_mem_fetch(LumenExec *x, unsigned ctx, uint64_t va,
                         void *buf, uint64_t len);

/* Is the queue's entry cancelled (queue reset or disabled)? */
static inline bool lumen_exec_cancelled(const LumenExec *x)
{
    return x->bus->cancelled && x->bus->cancelled(x->bus->opaque);
}

/* Operators (ops-cmd.c): @cmd's header and opcode are checked. */
uint32_t lumen_exec_operator(LumenExec *x, unsigned ctx, const LumenCmd *cmd);
bool lumen_opcode_is_operator(uint8_t opcode);

#endif /* LUMEN_CORE_INTERNAL_H */
