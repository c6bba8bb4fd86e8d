/*
 * Lumen device: the command core (decoder, executor, device MMU)
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Everything the device does to memory on behalf of a command lives here,
 * with no QEMU or glib dependency, so that the same code runs inside the
 * QEMU device model (tools/qemu/lumen-*.c provide the bus) and on the host
 * under unit tests and libFuzzer (tests/core, tests/fuzz-core), which
 * provide a bus over a plain buffer.
 *
 * Model.  A queue executes ring entries.  A ring entry of a kernel queue
 * runs in context 0 (bus addresses); an INDIRECT entry pushes an indirect
 * buffer (IB) frame that runs in the context the entry names, and IBs may
 * nest up to LUMEN_IB_MAX_DEPTH.  A direct queue (device 1.1) is bound to
 * a context c >= 1 (LUMEN_QUEUE_CTX, LumenExec.ring_ctx): its ring is read
 * through c's page tables (lumen_exec_fetch_entry()), its entries run in c
 * and a ring-level INDIRECT must name context 0 ("stay"), so that nothing
 * of such a queue ever leaves c.  The core executes one command per call of
 * lumen_exec_step(), keeping the IB stack in LumenQueueExec, so that the
 * caller can interleave queues, poll for cancellation between commands and
 * park a queue that is blocked in a WAIT without holding its engine.
 *
 * Threads.  One LumenExec and one LumenQueueExec are used by one thread at
 * a time.  LumenMmu is shared by every engine: roots and generations are
 * read and written with atomic accesses only.  Each engine has its own
 * LumenTlb.
 */
#ifndef LUMEN_CORE_H
#define LUMEN_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lumen_regs.h"

/*
 * Status of lumen_exec_step() beyond the LUMEN_ERR_* codes (which are all
 * below 256): the ring entry finished, more commands of it remain, or it
 * is blocked in a WAIT (call again later; nothing was consumed).
 */
#define LUMEN_STEP_DONE         0x100
#define LUMEN_STEP_MORE         0x101
#define LUMEN_STEP_BLOCKED      0x102
/* The bus says the queue was reset or disabled: abandon the entry. */
#define LUMEN_STEP_CANCELLED    0x103

/*
 * What the device reaches.  Provided by the caller; every callback gets
 * @opaque.  read/write move bytes at a bus address (system memory) and
 * return LUMEN_ERR_NONE, LUMEN_ERR_DMA, or LUMEN_STEP_CANCELLED (write
 * only: the queue was reset, nothing was written).  A write either happens
 * completely or not at all with respect to a reset: the caller guarantees
 * that once a reset has returned, no write of an older epoch lands.
 * Lengths are at most LUMEN_BUS_MAX_XFER.
 */
#define LUMEN_BUS_MAX_XFER      (64u * 1024)

typedef struct LumenBus {
    void *opaque;
    uint32_t (*read)(void *opaque, uint64_t addr, void *buf, uint64_t len);
    uint32_t (*write)(void *opaque, uint64_t addr, const void *buf,
                      uint64_t len);
    /* Has the queue been reset since the entry began?  Polled often. */
    bool (*cancelled)(void *opaque);
    /* Device time in ns (LUMEN_REG_TIMESTAMP). */
    uint64_t (*timestamp)(void *opaque);
    /*
     * Bracket every store to device memory (at most LUMEN_BUS_MAX_XFER
     * bytes), which the core makes directly through @devmem: write_begin
     * returns false if the queue was reset (then nothing is stored and the
     * step returns LUMEN_STEP_CANCELLED), so that no store of an older
     * epoch lands after a reset returned.  Between the two calls the core
     * calls no other callback.  Both may be NULL (never cancelled).
     */
    bool (*write_begin)(void *opaque);
    void (*write_end)(void *opaque);
    /* Device memory (BAR2), host-addressable, devmem_size bytes. */
    uint8_t *devmem;
    uint64_t devmem_size;
} LumenBus;

/* MMU state shared by all engines of a device. */
typedef struct LumenMmu {
    uint64_t root[LUMEN_NUM_CONTEXTS];  /* LUMEN_MMU_CTX_ROOT values */
    uint32_t gen[LUMEN_NUM_CONTEXTS];   /* bumped by each invalidation */
    /* Fault injection: translations left to fail (LUMEN_FI_MMU_FAULT). */
    uint32_t inject_faults;
} LumenMmu;

/* Root and invalidation, called by the register file (any thread). */
void lumen_mmu_reset(LumenMmu *mmu);
void lumen_mmu_set_root(LumenMmu *mmu, unsigned ctx, uint64_t root);
uint64_t lumen_mmu_get_root(LumenMmu *mmu, unsigned ctx);
void lumen_mmu_invalidate(LumenMmu *mmu, unsigned ctx);
void lumen_mmu_invalidate_all(LumenMmu *mmu);

/* A per-engine TLB of leaf PTEs, tagged with context and generation. */
#define LUMEN_TLB_ENTRIES       256

typedef struct LumenTlbEntry {
    uint64_t vpn;               /* VA >> 12 */
    uint64_t pte;               /* the leaf PTE */
    uint32_t gen;               /* LumenMmu.gen[ctx] when filled */
    uint8_t ctx;
    bool valid;
} LumenTlbEntry;

typedef struct LumenTlb {
    LumenTlbEntry e[LUMEN_TLB_ENTRIES];
} LumenTlb;

void lumen_tlb_flush(LumenTlb *tlb);

/* Counters an engine accumulates (LUMEN_PERF_*). */
typedef struct LumenStats {
    uint64_t commands;
    uint64_t bytes;
    uint64_t faults;
} LumenStats;

/* One engine executing for one queue. */
typedef struct LumenExec {
    const LumenBus *bus;
    LumenMmu *mmu;
    LumenTlb *tlb;
    unsigned queue;             /* for fault reports */
    /*
     * The queue's LUMEN_QUEUE_CTX: 0 for a kernel queue, else the context
     * its ring is read in and its ring entries run in (below
     * LUMEN_NUM_CONTEXTS; the register file refuses other values).
     */
    unsigned ring_ctx;
    bool compute;               /* false on the DMA engine: no operators */
    LumenStats *stats;          /* the engine's counters */

    /* Outputs of the last step. */
    bool raise_irq;             /* a FENCE asked for the queue's vector */
    uint64_t fault_va;          /* valid when the step returned */
    uint32_t fault_info;        /* LUMEN_ERR_MMU_FAULT (LUMEN_FAULT_INFO_*) */
} LumenExec;

/* The IB stack of one queue: the progress of its current ring entry. */
typedef struct LumenFrame {
    uint64_t addr;              /* next command */
    uint64_t end;               /* end of the IB */
} LumenFrame;

typedef struct LumenQueueExec {
    unsigned depth;             /* IB frames in use; 0: at the ring entry */
    unsigned ctx;               /* context of the frames */
    uint32_t commands;          /* executed in this entry (budget) */
    LumenFrame frames[LUMEN_IB_MAX_DEPTH];
} LumenQueueExec;

/* Forget any partly executed entry (new entry, or queue reset). */
void lumen_queue_exec_reset(LumenQueueExec *qx);

/*
 * Read the ring entry at @addr (RING_BASE + 64 * HEAD) of the queue
 * x->ring_ctx says.  Context 0: @addr is a bus address, read as it is.
 * Context c >= 1: @addr is a VA of c, translated through c's page tables
 * and the engine's TLB like any data access (the caller checked at
 * enable that the ring lies below 2^48).  Returns LUMEN_ERR_NONE,
 * LUMEN_ERR_DMA, or LUMEN_ERR_MMU_FAULT with x->fault_* filled in (the
 * VA is @addr, the context c).
 */
uint32_t lumen_exec_fetch_entry(LumenExec *x, uint64_t addr,
                                uint8_t entry[LUMEN_CMD_SIZE]);

/*
 * Execute the next command of the queue's current ring entry, whose 64
 * bytes the caller read from the ring (they are only looked at when
 * qx->depth == 0).  The ring entry runs in context x->ring_ctx.  Returns
 * LUMEN_STEP_DONE when the entry has finished (qx is reset),
 * LUMEN_STEP_MORE when commands of its IBs remain, LUMEN_STEP_BLOCKED
 * when a WAIT is not satisfied yet (retry later; no state changed),
 * LUMEN_STEP_CANCELLED, or a LUMEN_ERR_* code: the queue must stop with
 * that error (for LUMEN_ERR_MMU_FAULT, x->fault_* say where).  After an
 * error, BLOCKED or CANCELLED, qx still describes the command that did
 * not retire: its context is qx->ctx (when qx->depth > 0, else
 * x->ring_ctx) and, inside an IB, its address
 * qx->frames[qx->depth - 1].addr.  A BLOCKED step is retried as it is;
 * after an error or CANCELLED, reset qx before the queue runs again.
 * Never loops on guest data: each call does a bounded amount of work
 * apart from one operator or one copy of at most LUMEN_COPY_MAX_SIZE
 * bytes, which polls bus->cancelled between chunks.
 */
uint32_t lumen_exec_step(LumenExec *x, LumenQueueExec *qx,
                         const uint8_t entry[LUMEN_CMD_SIZE]);

#endif /* LUMEN_CORE_H */
