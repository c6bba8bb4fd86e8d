/*
 * Lumen device: the device MMU and every memory access of a command
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Context 0 is a bypass: an address is a bus address, or with
 * LUMEN_CTX0_DEVMEM an offset into device memory.  Contexts 1..63 walk
 * their 4-level page tables (lumen_regs.h has the format), through a
 * per-engine TLB of leaf PTEs.
 *
 * A TLB entry is tagged with its context and with the context's
 * generation when it was filled; an invalidation bumps the generation, so
 * every engine's entries of that context go stale at once without the
 * register file touching the TLBs (which belong to the engine threads).
 * The generation is read before the walk, so an entry filled from tables
 * that an invalidation raced with is stale from the start.
 *
 * Translation works on runs: consecutive pages that are physically
 * consecutive (and of the same kind) merge, so a copy moves up to
 * LUMEN_BUS_MAX_XFER bytes per bus access, never a byte or a page at a
 * time.
 */

#include <stdlib.h>

#include "core-internal.h"

#define LUMEN_VA_LIMIT      (1ull << LUMEN_VA_BITS)
#define LUMEN_PAGE_MASK     (LUMEN_PAGE_SIZE - 1)
#define LUMEN_PT_INDEX_BITS 9
/* Bits a table (non-leaf) entry and a leaf may have. */
#define LUMEN_PTE_TABLE_BITS    (LUMEN_PTE_ADDR_MASK | LUMEN_PTE_VALID)
#define LUMEN_PTE_LEAF_BITS     (LUMEN_PTE_TABLE_BITS | LUMEN_PTE_WRITABLE | \
                                 LUMEN_PTE_DEVMEM)

/* ---- Roots and invalidation (register file, any thread) ------------------ */

void lumen_mmu_reset(LumenMmu *mmu)
{
    for (unsigned c = 0; c < LUMEN_NUM_CONTEXTS; c++) {
        __atomic_store_n(&mmu->root[c], 0, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&mmu->inject_faults, 0, __ATOMIC_RELAXED);
    /* Bumped, not zeroed: a TLB entry of generation 0 must not revive. */
    lumen_mmu_invalidate_all(mmu);
}

void lumen_mmu_set_root(LumenMmu *mmu, unsigned ctx, uint64_t root)
{
    /* Context 0 has no tables: its root reads 0 and ignores writes. */
    if (ctx == 0 || ctx >= LUMEN_NUM_CONTEXTS) {
        return;
    }
    __atomic_store_n(&mmu->root[ctx], root, __ATOMIC_RELEASE);
}

uint64_t lumen_mmu_get_root(LumenMmu *mmu, unsigned ctx)
{
    if (ctx == 0 || ctx >= LUMEN_NUM_CONTEXTS) {
        return 0;
    }
    return __atomic_load_n(&mmu->root[ctx], __ATOMIC_ACQUIRE);
}

void lumen_mmu_invalidate(LumenMmu *mmu, unsigned ctx)
{
    if (ctx < LUMEN_NUM_CONTEXTS) {
        __atomic_fetch_add(&mmu->gen[ctx], 1, __ATOMIC_SEQ_CST);
    }
}

void lumen_mmu_invalidate_all(LumenMmu *mmu)
{
    for (unsigned c = 0; c < LUMEN_NUM_CONTEXTS; c++) {
        lumen_mmu_invalidate(mmu, c);
    }
}

void lumen_tlb_flush(LumenTlb *tlb)
{
    memset(tlb, 0, sizeof(*tlb));
}

/* ---- Faults -------------------------------------------------------------- */

static uint32_t lumen_fault(LumenExec *x, unsigned ctx, uint64_t va,
                            bool write, unsigned reason)
{
    x->fault_va = va;
    x->fault_info = reason | (write ? LUMEN_FAULT_INFO_WRITE : 0) |
                    (uint32_t)(ctx & 0xff) << 16 |
                    (uint32_t)(x->queue & 0xff) << 24;
    if (x->stats) {
        x->stats->faults++;
    }
    return LUMEN_ERR_MMU_FAULT;
}

/* Take one injected fault, if any are pending (LUMEN_FI_MMU_FAULT). */
static bool lumen_take_injected_fault(LumenMmu *mmu)
{
    uint32_t n = __atomic_load_n(&mmu->inject_faults, __ATOMIC_RELAXED);

    while (n) {
        if (__atomic_compare_exchange_n(&mmu->inject_faults, &n, n - 1, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            return true;
        }
    }
    return false;
}

/* ---- Page walk and TLB --------------------------------------------------- */

/*
 * Walk @ctx's tables for virtual page @vpn.  Returns 0 and the leaf PTE,
 * or a LUMEN_FAULT_* reason.
 */
static unsigned lumen_walk(LumenExec *x, unsigned ctx, uint64_t vpn,
                           uint64_t *leaf)
{
    uint64_t root = lumen_mmu_get_root(x->mmu, ctx);
    uint64_t table;

    if (!(root & LUMEN_MMU_ROOT_VALID) || (root & ~LUMEN_PTE_TABLE_BITS)) {
        return LUMEN_FAULT_BAD_CONTEXT;
    }
    table = root & LUMEN_PTE_ADDR_MASK;

    for (int level = LUMEN_PT_LEVELS - 1; level >= 0; level--) {
        unsigned index = (vpn >> (level * LUMEN_PT_INDEX_BITS)) &
                         (LUMEN_PT_ENTRIES - 1);
        uint8_t raw[8];
        uint64_t pte;

        if (x->bus->read(x->bus->opaque, table + index * 8, raw, 8) !=
            LUMEN_ERR_NONE) {
            return LUMEN_FAULT_BAD_PTE;
        }
        pte = lumen_ldq_le(raw);
        if (!(pte & LUMEN_PTE_VALID)) {
            return LUMEN_FAULT_NOT_PRESENT;
        }
        if (pte & ~(level ? LUMEN_PTE_TABLE_BITS : LUMEN_PTE_LEAF_BITS)) {
            return LUMEN_FAULT_BAD_PTE;
        }
        table = pte & LUMEN_PTE_ADDR_MASK;
        *leaf = pte;
    }
    return 0;
}

static LumenTlbEntry *lumen_tlb_slot(LumenTlb *tlb, unsigned ctx,
                                     uint64_t vpn)
{
    uint64_t h = vpn ^ (vpn >> 8) ^ (uint64_t)ctx * 0x9e37;

    return &tlb->e[h & (LUMEN_TLB_ENTRIES - 1)];
}

/* The leaf PTE of @vpn, from the TLB or a walk; 0 or a fault reason. */
static unsigned lumen_lookup(LumenExec *x, unsigned ctx, uint64_t vpn,
                             uint64_t *pte)
{
    uint32_t gen = __atomic_load_n(&x->mmu->gen[ctx], __ATOMIC_ACQUIRE);
    LumenTlbEntry *e = x->tlb ? lumen_tlb_slot(x->tlb, ctx, vpn) : NULL;
    unsigned reason;

    if (e && e->valid && e->vpn == vpn && e->ctx == ctx && e->gen == gen) {
        *pte = e->pte;
        return 0;
    }
    reason = lumen_walk(x, ctx, vpn, pte);
    if (reason == 0 && e) {
        *e = (LumenTlbEntry) {
            .vpn = vpn, .pte = *pte, .gen = gen, .ctx = ctx, .valid = true,
        };
    }
    return reason;
}

/* Checks of a leaf for this access; 0 or a fault reason. */
static unsigned lumen_leaf_check(LumenExec *x, uint64_t pte, bool write)
{
    if (write && !(pte & LUMEN_PTE_WRITABLE)) {
        return LUMEN_FAULT_READ_ONLY;
    }
    if ((pte & LUMEN_PTE_DEVMEM) &&
        (x->bus->devmem_size < LUMEN_PAGE_SIZE ||
         (pte & LUMEN_PTE_ADDR_MASK) > x->bus->devmem_size - LUMEN_PAGE_SIZE)) {
        return LUMEN_FAULT_DEVMEM_RANGE;
    }
    return 0;
}

/* ---- Translation --------------------------------------------------------- */

uint32_t lumen_range_check(LumenExec *x, unsigned ctx, uint64_t va,
                           uint64_t len, bool write)
{
    if (len == 0) {
        return LUMEN_ERR_NONE;
    }
    if (ctx == 0) {
        if (va & LUMEN_CTX0_DEVMEM) {
            uint64_t off = va & ~LUMEN_CTX0_DEVMEM;

            if (len > x->bus->devmem_size || off > x->bus->devmem_size - len) {
                return LUMEN_ERR_DEVMEM_RANGE;
            }
            return LUMEN_ERR_NONE;
        }
        /* A bus range may not wrap, nor run into the DEVMEM form. */
        if (len > LUMEN_CTX0_DEVMEM || va > LUMEN_CTX0_DEVMEM - len) {
            return LUMEN_ERR_DMA;
        }
        return LUMEN_ERR_NONE;
    }
    if (va >= LUMEN_VA_LIMIT) {
        return lumen_fault(x, ctx, va, write, LUMEN_FAULT_VA_RANGE);
    }
    if (len > LUMEN_VA_LIMIT - va) {
        return lumen_fault(x, ctx, LUMEN_VA_LIMIT, write, LUMEN_FAULT_VA_RANGE);
    }
    return LUMEN_ERR_NONE;
}

uint32_t lumen_translate(LumenExec *x, unsigned ctx, uint64_t va,
                         uint64_t maxlen, bool write, LumenRun *run)
{
    uint64_t vpn = va >> LUMEN_PAGE_SHIFT;
    uint64_t pte, base, len;
    unsigned reason;

    if (ctx == 0) {
        run->devmem = va & LUMEN_CTX0_DEVMEM;
        run->addr = va & ~LUMEN_CTX0_DEVMEM;
        run->len = maxlen;
        return LUMEN_ERR_NONE;
    }

    if (ctx >= LUMEN_NUM_CONTEXTS) {
        /* Not reachable from commands (INDIRECT checks it); defensive. */
        return lumen_fault(x, ctx, va, write, LUMEN_FAULT_BAD_CONTEXT);
    }
    if (lumen_take_injected_fault(x->mmu)) {
        return lumen_fault(x, ctx, va, write, LUMEN_FAULT_INJECTED);
    }
    reason = lumen_lookup(x, ctx, vpn, &pte);
    if (reason == 0) {
        reason = lumen_leaf_check(x, pte, write);
    }
    if (reason) {
        return lumen_fault(x, ctx, va, write, reason);
    }

    run->devmem = pte & LUMEN_PTE_DEVMEM;
    base = pte & LUMEN_PTE_ADDR_MASK;
    run->addr = base + (va & LUMEN_PAGE_MASK);
    len = LUMEN_MIN(LUMEN_PAGE_SIZE - (va & LUMEN_PAGE_MASK), maxlen);

    /*
     * Extend over following pages while they continue the run.  A page
     * that would fault just ends the run: the fault is reported when the
     * caller gets there, after the bytes before it.
     */
    while (len < maxlen) {
        uint64_t next;

        vpn++;
        base += LUMEN_PAGE_SIZE;
        if (lumen_lookup(x, ctx, vpn, &next) ||
            lumen_leaf_check(x, next, write) ||
            (next & LUMEN_PTE_ADDR_MASK) != base ||
            !(next & LUMEN_PTE_DEVMEM) != !run->devmem) {
            break;
        }
        len += LUMEN_MIN(LUMEN_PAGE_SIZE, maxlen - len);
    }
    run->len = len;
    return LUMEN_ERR_NONE;
}

/* ---- Range accessors ----------------------------------------------------- */

static void lumen_count_bytes(LumenExec *x, uint64_t n)
{
    if (x->stats) {
        x->stats->bytes += n;
    }
}

static uint32_t lumen_run_read(LumenExec *x, const LumenRun *run, void *buf)
{
    if (run->devmem) {
        /* memmove: a copy within device memory may overlap. */
        memmove(buf, x->bus->devmem + run->addr, run->len);
        return LUMEN_ERR_NONE;
    }
    return x->bus->read(x->bus->opaque, run->addr, buf, run->len);
}

/*
 * A store to device memory, bracketed by the bus so that it cannot land
 * after a queue reset has returned (lumen-core.h).
 */
static bool lumen_devmem_begin(LumenExec *x)
{
    return !x->bus->write_begin || x->bus->write_begin(x->bus->opaque);
}

static void lumen_devmem_end(LumenExec *x)
{
    if (x->bus->write_end) {
        x->bus->write_end(x->bus->opaque);
    }
}

static uint32_t lumen_run_write(LumenExec *x, const LumenRun *run,
                                const void *buf)
{
    if (run->devmem) {
        if (!lumen_devmem_begin(x)) {
            return LUMEN_STEP_CANCELLED;
        }
        memmove(x->bus->devmem + run->addr, buf, run->len);
        lumen_devmem_end(x);
        return LUMEN_ERR_NONE;
    }
    return x->bus->write(x->bus->opaque, run->addr, buf, run->len);
}

static uint32_t lumen_mem_access(LumenExec *x, unsigned ctx, uint64_t va,
                                 void *buf, uint64_t len, bool write,
                                 bool count)
{
    uint8_t *p = buf;
    uint64_t done = 0;
    uint32_t err;

    err = lumen_range_check(x, ctx, va, len, write);
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    while (done < len) {
        LumenRun run;

        if (done && lumen_exec_cancelled(x)) {
            return LUMEN_STEP_CANCELLED;
        }
        err = lumen_translate(x, ctx, va + done,
                              LUMEN_MIN(len - done, LUMEN_BUS_MAX_XFER),
                              write, &run);
        if (err == LUMEN_ERR_NONE) {
            err = write ? lumen_run_write(x, &run, p + done)
                        : lumen_run_read(x, &run, p + done);
        }
        if (err != LUMEN_ERR_NONE) {
            return err;
        }
        if (count) {
            lumen_count_bytes(x, run.len);
        }
        done += run.len;
    }
    return LUMEN_ERR_NONE;
}

uint32_t lumen_mem_read(LumenExec *x, unsigned ctx, uint64_t va, void *buf,
                        uint64_t len)
{
    return lumen_mem_access(x, ctx, va, buf, len, false, true);
}

uint32_t lumen_mem_write(LumenExec *x, unsigned ctx, uint64_t va,
                         const void *buf, uint64_t len)
{
    return lumen_mem_access(x, ctx, va, (void *)buf, len, true, true);
}

uint32_t lumen_mem_fetch(LumenExec *x, unsigned ctx, uint64_t va,
                         void *buf, uint64_t len)
{
    return lumen_mem_access(x, ctx, va, buf, len, false, false);
}

/*
 * The 8 bytes at an 8-aligned @va are one run (they never cross a page).
 * In device memory they are accessed with one atomic 64-bit access, so
 * that a FENCE value is seen whole and after the data written before it.
 */
static uint32_t lumen_translate_u64(LumenExec *x, unsigned ctx, uint64_t va,
                                    bool write, LumenRun *run)
{
    uint32_t err = lumen_range_check(x, ctx, va, 8, write);

    if (err == LUMEN_ERR_NONE) {
        err = lumen_translate(x, ctx, va, 8, write, run);
    }
    return err;
}

uint32_t lumen_mem_read_u64(LumenExec *x, unsigned ctx, uint64_t va,
                            uint64_t *val)
{
    uint8_t raw[8];
    LumenRun run;
    uint32_t err = lumen_translate_u64(x, ctx, va, false, &run);

    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    if (run.devmem && LUMEN_IS_ALIGNED((uintptr_t)(x->bus->devmem + run.addr),
                                       8)) {
        uint64_t v = __atomic_load_n((uint64_t *)(x->bus->devmem + run.addr),
                                     __ATOMIC_ACQUIRE);
        memcpy(raw, &v, 8);
    } else {
        err = lumen_run_read(x, &run, raw);
        if (err != LUMEN_ERR_NONE) {
            return err;
        }
    }
    lumen_count_bytes(x, 8);
    *val = lumen_ldq_le(raw);
    return LUMEN_ERR_NONE;
}

uint32_t lumen_mem_write_u64(LumenExec *x, unsigned ctx, uint64_t va,
                             uint64_t val)
{
    uint8_t raw[8];
    LumenRun run;
    uint32_t err = lumen_translate_u64(x, ctx, va, true, &run);

    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    lumen_stq_le(raw, val);
    if (run.devmem && LUMEN_IS_ALIGNED((uintptr_t)(x->bus->devmem + run.addr),
                                       8)) {
        uint64_t v;

        memcpy(&v, raw, 8);
        if (!lumen_devmem_begin(x)) {
            return LUMEN_STEP_CANCELLED;
        }
        __atomic_store_n((uint64_t *)(x->bus->devmem + run.addr), v,
                         __ATOMIC_RELEASE);
        lumen_devmem_end(x);
    } else {
        err = lumen_run_write(x, &run, raw);
        if (err != LUMEN_ERR_NONE) {
            return err;
        }
    }
    lumen_count_bytes(x, 8);
    return LUMEN_ERR_NONE;
}

/*
 * FILL: byte i of the destination is byte i % 8 of @pattern (little
 * endian).  A buffer holds the pattern repeated, one word longer than a
 * chunk, so that a chunk starting at any phase is a slice of it.
 */
uint32_t lumen_mem_fill(LumenExec *x, unsigned ctx, uint64_t va,
                        uint64_t len, uint64_t pattern)
{
    uint64_t done = 0;
    uint8_t *buf;
    uint32_t err;

    err = lumen_range_check(x, ctx, va, len, true);
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    buf = malloc(LUMEN_BUS_MAX_XFER + 8);
    if (!buf) {
        return LUMEN_ERR_DMA;
    }
    for (unsigned i = 0; i < LUMEN_BUS_MAX_XFER + 8; i += 8) {
        lumen_stq_le(buf + i, pattern);
    }
    while (done < len) {
        LumenRun run;

        if (done && lumen_exec_cancelled(x)) {
            err = LUMEN_STEP_CANCELLED;
            break;
        }
        err = lumen_translate(x, ctx, va + done,
                              LUMEN_MIN(len - done, LUMEN_BUS_MAX_XFER),
                              true, &run);
        if (err == LUMEN_ERR_NONE) {
            err = lumen_run_write(x, &run, buf + done % 8);
        }
        if (err != LUMEN_ERR_NONE) {
            break;
        }
        lumen_count_bytes(x, run.len);
        done += run.len;
    }
    free(buf);
    return err;
}

/*
 * COPY: run by run.  Device memory is read in place (straight into a bus
 * write, or a memmove within device memory); otherwise the data goes
 * through a bounce buffer, so that every store to device memory is one
 * bracketed memmove and no bus read ever writes into device memory.
 * Overlapping source and destination give unspecified data (never an
 * access outside them).
 */
uint32_t lumen_mem_copy(LumenExec *x, unsigned ctx, uint64_t src,
                        uint64_t dst, uint64_t len)
{
    uint8_t *bounce = NULL;
    uint64_t done = 0;
    uint32_t err;

    err = lumen_range_check(x, ctx, src, len, false);
    if (err == LUMEN_ERR_NONE) {
        err = lumen_range_check(x, ctx, dst, len, true);
    }
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    while (done < len) {
        LumenRun from, to;

        if (done && lumen_exec_cancelled(x)) {
            err = LUMEN_STEP_CANCELLED;
            break;
        }
        err = lumen_translate(x, ctx, src + done,
                              LUMEN_MIN(len - done, LUMEN_BUS_MAX_XFER),
                              false, &from);
        if (err != LUMEN_ERR_NONE) {
            break;
        }
        err = lumen_translate(x, ctx, dst + done, from.len, true, &to);
        if (err != LUMEN_ERR_NONE) {
            break;
        }
        from.len = to.len;

        if (from.devmem) {
            err = lumen_run_write(x, &to, x->bus->devmem + from.addr);
        } else {
            if (!bounce) {
                bounce = malloc(LUMEN_BUS_MAX_XFER);
                if (!bounce) {
                    err = LUMEN_ERR_DMA;
                    break;
                }
            }
            err = lumen_run_read(x, &from, bounce);
            if (err == LUMEN_ERR_NONE) {
                err = lumen_run_write(x, &to, bounce);
            }
        }
        if (err != LUMEN_ERR_NONE) {
            break;
        }
        lumen_count_bytes(x, 2 * to.len);
        done += to.len;
    }
    free(bounce);
    return err;
}
