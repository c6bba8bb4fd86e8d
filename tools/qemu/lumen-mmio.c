/*
 * Lumen PCIe inference accelerator: registers (BAR0) and doorbells (BAR4)
 *
 * Copyright (c) 2025-2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * 32-bit registers take aligned 32-bit accesses; 64-bit registers take an
 * aligned 64-bit access or 32-bit accesses to either half.  A 64-bit
 * access to a pair of 32-bit registers acts on both, lower address first.
 * Other sizes and unaligned accesses are refused by the memory core.
 * Offsets that name no register read as zero and ignore writes; those
 * accesses, writes to read-only registers and invalid values are logged
 * as guest errors.  Without fault-injection=on the fault-injection block
 * reads as zero and ignores writes.
 *
 * The two MemoryRegionOps handlers take LumenState.lock; every other
 * function in this file runs with it held.
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/bitops.h"
#include "qemu/log.h"
#include "qemu/timer.h"
#include "lumen.h"

/* Queue @q's register block, if @addr falls in one. */
static LumenQueue *lumen_queue_at(LumenState *s, hwaddr addr, hwaddr *reg)
{
    hwaddr end = LUMEN_QUEUE_BASE + (hwaddr)s->num_queues * LUMEN_QUEUE_STRIDE;

    if (addr < LUMEN_QUEUE_BASE || addr >= end) {
        return NULL;
    }
    *reg = (addr - LUMEN_QUEUE_BASE) % LUMEN_QUEUE_STRIDE;
    return &s->queues[(addr - LUMEN_QUEUE_BASE) / LUMEN_QUEUE_STRIDE];
}

/* Engine @e's performance counter block, if @addr falls in one. */
static LumenEngine *lumen_perf_at(LumenState *s, hwaddr addr, hwaddr *reg)
{
    hwaddr end = LUMEN_PERF_BASE + (hwaddr)s->num_engines * LUMEN_PERF_STRIDE;

    if (addr < LUMEN_PERF_BASE || addr >= end) {
        return NULL;
    }
    *reg = (addr - LUMEN_PERF_BASE) % LUMEN_PERF_STRIDE;
    if (*reg > LUMEN_PERF_FAULTS + 4) {
        return NULL;
    }
    return &s->engines[(addr - LUMEN_PERF_BASE) / LUMEN_PERF_STRIDE];
}

/*
 * The queue whose LUMEN_QUEUE_CTX register is at @addr, or -1.  The block
 * has room for LUMEN_MAX_QUEUES; registers of absent queues are undefined.
 */
static int lumen_queue_ctx_at(hwaddr addr)
{
    if (addr < LUMEN_QUEUE_CTX_BASE ||
        addr >= LUMEN_QUEUE_CTX(LUMEN_MAX_QUEUES)) {
        return -1;
    }
    return (addr - LUMEN_QUEUE_CTX_BASE) / 4;
}

/* The context whose root register is at @addr, or -1. */
static int lumen_root_at(hwaddr addr)
{
    if (addr < LUMEN_MMU_CTX_ROOT_BASE ||
        addr >= LUMEN_MMU_CTX_ROOT(LUMEN_NUM_CONTEXTS)) {
        return -1;
    }
    return (addr - LUMEN_MMU_CTX_ROOT_BASE) / 8;
}

/* Does the 8-byte aligned offset @addr hold a 64-bit register? */
static bool lumen_is_reg64(LumenState *s, hwaddr addr)
{
    hwaddr reg;

    if (lumen_queue_at(s, addr, &reg)) {
        return reg == LUMEN_Q_RING_BASE || reg == LUMEN_Q_COMPLETED ||
               reg == LUMEN_Q_FAULT_VA;
    }
    if (lumen_perf_at(s, addr, &reg) || lumen_root_at(addr) >= 0) {
        return true;
    }
    switch (addr) {
    case LUMEN_REG_DEVMEM_SIZE:
    case LUMEN_REG_ERROR_QUEUES:
    case LUMEN_REG_TIMESTAMP:
    case LUMEN_REG_IRQ_STATUS:
    case LUMEN_REG_IRQ_MASK:
    case LUMEN_REG_FAULT_VA:
        return true;
    }
    return false;
}

static uint64_t lumen_queue_bits(LumenState *s)
{
    return MAKE_64BIT_MASK(0, s->num_queues);
}

static void lumen_log_undefined(hwaddr addr, const char *access)
{
    qemu_log_mask(LOG_GUEST_ERROR, "lumen: %s of undefined register 0x%"
                  HWADDR_PRIx "\n", access, addr);
}

static void lumen_log_read_only(hwaddr addr)
{
    qemu_log_mask(LOG_GUEST_ERROR, "lumen: write to read-only register 0x%"
                  HWADDR_PRIx " ignored\n", addr);
}

static void lumen_log_busy(LumenState *s, LumenQueue *q, hwaddr addr)
{
    qemu_log_mask(LOG_GUEST_ERROR, "lumen: write to register 0x%" HWADDR_PRIx
                  " of enabled queue %u ignored\n", addr,
                  lumen_queue_index(s, q));
}

/* ---- Queues ------------------------------------------------------------- */

/*
 * The ring of a kernel queue is a bus range that must not wrap; the ring
 * of a direct queue is a VA range of its context, which must lie below
 * 2^48 (so that no fetch can fault with LUMEN_FAULT_VA_RANGE).
 */
static bool lumen_ring_valid(const LumenQueue *q)
{
    uint64_t bytes = (uint64_t)q->ring_size * LUMEN_CMD_SIZE;

    if (!QEMU_IS_ALIGNED(q->ring_base, 4 * KiB) ||
        !is_power_of_2(q->ring_size) ||
        q->ring_size < LUMEN_RING_MIN_ENTRIES ||
        q->ring_size > LUMEN_RING_MAX_ENTRIES) {
        return false;
    }
    if (q->ring_ctx) {
        return q->ring_base < BIT_ULL(LUMEN_VA_BITS) &&
               bytes <= BIT_ULL(LUMEN_VA_BITS) - q->ring_base;
    }
    return q->ring_base + bytes - 1 > q->ring_base;
}

static uint32_t lumen_queue_status(LumenState *s, LumenQueue *q)
{
    uint32_t status = 0;

    if (q->enabled) {
        status |= LUMEN_Q_STATUS_ENABLED;
    }
    if (q->head == q->tail && !lumen_queue_running_locked(s, q)) {
        status |= LUMEN_Q_STATUS_IDLE;
    }
    if (q->error != LUMEN_ERR_NONE) {
        status |= LUMEN_Q_STATUS_ERROR;
    }
    if (q->waiting) {
        status |= LUMEN_Q_STATUS_WAITING;
    }
    return status;
}

/* ENABLE 0 -> 1: check the configuration, then let the engine run. */
static void lumen_queue_enable(LumenState *s, LumenQueue *q)
{
    q->enabled = true;
    if (q->error != LUMEN_ERR_NONE) {
        return;     /* stays stopped until RESET */
    }
    if (s->fatal) {
        lumen_queue_fail_locked(s, q, LUMEN_ERR_FATAL);
    } else if (!lumen_ring_valid(q)) {
        lumen_queue_fail_locked(s, q, LUMEN_ERR_BAD_RING);
    } else if (q->engine >= s->num_engines) {
        lumen_queue_fail_locked(s, q, LUMEN_ERR_BAD_ENGINE);
    } else if (q->tail >= q->ring_size) {
        lumen_queue_fail_locked(s, q, LUMEN_ERR_BAD_TAIL);
    } else {
        lumen_engine_kick_locked(s, q);
    }
}

/* ENABLE 1 -> 0: on return, no command of @q runs any more. */
static void lumen_queue_disable(LumenState *s, LumenQueue *q)
{
    q->enabled = false;
    lumen_queue_quiesce_locked(s, q);
}

/* Q_CONTROL.RESET: stop, then clear the queue's progress and error. */
static void lumen_queue_reset(LumenState *s, LumenQueue *q)
{
    uint64_t bit = BIT_ULL(lumen_queue_index(s, q));

    lumen_queue_disable(s, q);
    q->head = 0;
    q->tail = 0;
    q->error = LUMEN_ERR_NONE;
    q->error_head = 0;
    q->completed = 0;
    q->fault_va = 0;
    q->fault_info = 0;
    q->context = q->ring_ctx;   /* QUEUE_CTX itself survives a queue reset */
    q->hang = false;
    s->error_queues &= ~bit;
    s->irq_status &= ~bit;
    s->msix_pending &= ~bit;
}

static void lumen_queue_write_control(LumenState *s, LumenQueue *q,
                                      uint32_t val)
{
    const uint32_t known = LUMEN_Q_CONTROL_ENABLE | LUMEN_Q_CONTROL_RESET;

    if (val & ~known) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: queue %u: unknown CONTROL "
                      "bits 0x%" PRIx32 " ignored\n",
                      lumen_queue_index(s, q), val & ~known);
    }
    if (val & LUMEN_Q_CONTROL_RESET) {
        lumen_queue_reset(s, q);    /* the other bits are ignored */
    } else if ((val & LUMEN_Q_CONTROL_ENABLE) && !q->enabled) {
        lumen_queue_enable(s, q);
    } else if (!(val & LUMEN_Q_CONTROL_ENABLE) && q->enabled) {
        lumen_queue_disable(s, q);
    }
}

/* A doorbell or TAIL write. */
static void lumen_queue_write_tail(LumenState *s, LumenQueue *q, uint32_t val)
{
    if (q->error != LUMEN_ERR_NONE) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: queue %u: tail write while "
                      "stopped on an error ignored\n",
                      lumen_queue_index(s, q));
        return;
    }
    if (!q->enabled) {
        q->tail = val;      /* checked when the queue is enabled */
        return;
    }
    if (val >= q->ring_size) {
        lumen_queue_fail_locked(s, q, LUMEN_ERR_BAD_TAIL);
        return;
    }
    q->tail = val;
    lumen_engine_kick_locked(s, q);
}

static uint64_t lumen_queue_read64(LumenState *s, LumenQueue *q, hwaddr reg)
{
    switch (reg) {
    case LUMEN_Q_RING_BASE:
        return q->ring_base;
    case LUMEN_Q_COMPLETED:
        return q->completed;
    }
    return q->fault_va;
}

static void lumen_queue_write64(LumenState *s, LumenQueue *q, hwaddr addr,
                                hwaddr reg, uint64_t val, uint64_t mask)
{
    if (reg != LUMEN_Q_RING_BASE) {
        lumen_log_read_only(addr);
    } else if (q->enabled) {
        lumen_log_busy(s, q, addr);
    } else {
        q->ring_base = (q->ring_base & ~mask) | (val & mask);
    }
}

static uint32_t lumen_queue_read32(LumenState *s, LumenQueue *q, hwaddr addr,
                                   hwaddr reg)
{
    switch (reg) {
    case LUMEN_Q_RING_SIZE:
        return q->ring_size;
    case LUMEN_Q_CONTROL:
        return q->enabled ? LUMEN_Q_CONTROL_ENABLE : 0;
    case LUMEN_Q_HEAD:
        return q->head;
    case LUMEN_Q_TAIL:
        return q->tail;
    case LUMEN_Q_STATUS:
        return lumen_queue_status(s, q);
    case LUMEN_Q_ERROR:
        return q->error;
    case LUMEN_Q_ERROR_HEAD:
        return q->error_head;
    case LUMEN_Q_ENGINE:
        return q->engine;
    case LUMEN_Q_FAULT_INFO:
        return q->fault_info;
    case LUMEN_Q_CONTEXT:
        /* Every command of a direct queue runs in its context. */
        return q->ring_ctx ? q->ring_ctx : q->context;
    }
    lumen_log_undefined(addr, "read");
    return 0;
}

static void lumen_queue_write32(LumenState *s, LumenQueue *q, hwaddr addr,
                                hwaddr reg, uint32_t val)
{
    switch (reg) {
    case LUMEN_Q_RING_SIZE:
    case LUMEN_Q_ENGINE:
        if (q->enabled) {
            lumen_log_busy(s, q, addr);
        } else if (reg == LUMEN_Q_RING_SIZE) {
            q->ring_size = val;
        } else {
            q->engine = val;
        }
        return;
    case LUMEN_Q_CONTROL:
        lumen_queue_write_control(s, q, val);
        return;
    case LUMEN_Q_TAIL:
        lumen_queue_write_tail(s, q, val);
        return;
    case LUMEN_Q_HEAD:
    case LUMEN_Q_STATUS:
    case LUMEN_Q_ERROR:
    case LUMEN_Q_ERROR_HEAD:
    case LUMEN_Q_FAULT_INFO:
    case LUMEN_Q_CONTEXT:
        lumen_log_read_only(addr);
        return;
    }
    lumen_log_undefined(addr, "write");
}

/*
 * LUMEN_QUEUE_CTX(q): bind queue @index to a context (1.1).  Like RING_BASE
 * it may change only while the queue is disabled, which is what lets an
 * engine read it once per step.
 */
static void lumen_write_queue_ctx(LumenState *s, hwaddr addr, unsigned index,
                                  uint32_t val)
{
    LumenQueue *q;

    if (index >= s->num_queues) {
        lumen_log_undefined(addr, "write");
        return;
    }
    q = &s->queues[index];
    if (q->enabled) {
        lumen_log_busy(s, q, addr);
    } else if (val >= LUMEN_NUM_CONTEXTS) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: queue %u: QUEUE_CTX %" PRIu32
                      " is no context; ignored\n", index, val);
    } else {
        q->ring_ctx = val;
        q->context = val;       /* a disabled queue runs nothing */
    }
}

static uint32_t lumen_read_queue_ctx(LumenState *s, hwaddr addr,
                                     unsigned index)
{
    if (index >= s->num_queues) {
        lumen_log_undefined(addr, "read");
        return 0;
    }
    return s->queues[index].ring_ctx;
}

/* ---- Global registers --------------------------------------------------- */

static uint32_t lumen_caps(LumenState *s)
{
    return LUMEN_CAP_MMU | LUMEN_CAP_OPERATORS | LUMEN_CAP_DIRECT_QUEUES |
           (s->fault_injection ? LUMEN_CAP_FAULT_INJECTION : 0);
}

static void lumen_write_control(LumenState *s, uint32_t val)
{
    const uint32_t known = LUMEN_CONTROL_ENABLE | LUMEN_CONTROL_RESET;

    if (val & ~known) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: unknown CONTROL bits 0x%"
                      PRIx32 " ignored\n", val & ~known);
    }
    if (val & LUMEN_CONTROL_RESET) {
        lumen_soft_reset_locked(s);     /* the other bits are ignored */
    } else if ((val & LUMEN_CONTROL_ENABLE) && !s->enabled) {
        s->enabled = true;
        lumen_engines_kick_all_locked(s);
    } else if (!(val & LUMEN_CONTROL_ENABLE) && s->enabled) {
        s->enabled = false;
        lumen_quiesce_all_locked(s);
    }
}

static uint32_t lumen_status(LumenState *s)
{
    return (s->enabled ? LUMEN_STATUS_READY : 0) |
           (s->fatal ? LUMEN_STATUS_FATAL : 0);
}

/* ---- Device MMU ---------------------------------------------------------- */

/*
 * LUMEN_MMU_CTX_ROOT(ctx): the bits @mask of @val.  A root is the 4 KiB
 * aligned bus address of a level-3 table and LUMEN_MMU_ROOT_VALID; a
 * value with any other bit set is refused as a whole.
 */
static void lumen_write_root(LumenState *s, hwaddr addr, unsigned ctx,
                             uint64_t val, uint64_t mask)
{
    uint64_t root;

    if (ctx == 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: context 0 has no page "
                      "tables; write to its root ignored\n");
        return;
    }
    root = (lumen_mmu_get_root(&s->mmu, ctx) & ~mask) | (val & mask);
    if (root & ~(LUMEN_PTE_ADDR_MASK | LUMEN_MMU_ROOT_VALID)) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: context %u: root 0x%" PRIx64
                      " has reserved bits set; ignored\n", ctx, root);
        return;
    }
    lumen_mmu_set_root(&s->mmu, ctx, root);
}

static void lumen_write_invalidate(LumenState *s, uint32_t val)
{
    if (val == LUMEN_MMU_INVALIDATE_ALL) {
        lumen_mmu_invalidate_all(&s->mmu);
    } else if (val < LUMEN_NUM_CONTEXTS) {
        lumen_mmu_invalidate(&s->mmu, val);
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: MMU_INVALIDATE of 0x%" PRIx32
                      ", which is no context, ignored\n", val);
    }
}

/* ---- Performance counters ------------------------------------------------ */

static uint64_t lumen_perf_read(LumenEngine *e, hwaddr reg)
{
    switch (reg) {
    case LUMEN_PERF_BUSY_NS:
        return e->perf_busy_ns;
    case LUMEN_PERF_COMMANDS:
        return e->perf.commands;
    case LUMEN_PERF_BYTES:
        return e->perf.bytes;
    }
    return e->perf.faults;
}

/* ---- Fault injection ----------------------------------------------------- */

static bool lumen_fi_enabled(LumenState *s, hwaddr addr, const char *access)
{
    if (!s->fault_injection) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: %s of fault-injection "
                      "register 0x%" HWADDR_PRIx " without fault-injection=on"
                      "\n", access, addr);
    }
    return s->fault_injection;
}

/* Reads show what is still pending (LUMEN_FI_HANG_QUEUE reads 0). */
static uint32_t lumen_fi_read(LumenState *s, hwaddr addr)
{
    if (!lumen_fi_enabled(s, addr, "read")) {
        return 0;
    }
    switch (addr) {
    case LUMEN_FI_DROP_IRQ:
        return s->fi_drop_irq;
    case LUMEN_FI_FAIL_DMA:
        return qatomic_read(&s->fi_fail_dma);
    case LUMEN_FI_MMU_FAULT:
        return qatomic_read(&s->mmu.inject_faults);
    case LUMEN_FI_FATAL:
        return s->fatal;
    }
    return 0;
}

static void lumen_fi_write(LumenState *s, hwaddr addr, uint32_t val)
{
    if (!lumen_fi_enabled(s, addr, "write")) {
        return;
    }
    switch (addr) {
    case LUMEN_FI_HANG_QUEUE:
        if (val >= 1 && val <= s->num_queues) {
            s->queues[val - 1].hang = true;
        } else {
            qemu_log_mask(LOG_GUEST_ERROR, "lumen: FI_HANG_QUEUE %" PRIu32
                          " names no queue; ignored\n", val);
        }
        return;
    case LUMEN_FI_DROP_IRQ:
        s->fi_drop_irq = val;
        return;
    case LUMEN_FI_FAIL_DMA:
        qatomic_set(&s->fi_fail_dma, val);
        return;
    case LUMEN_FI_MMU_FAULT:
        qatomic_set(&s->mmu.inject_faults, val);
        return;
    case LUMEN_FI_FATAL:
        if (val == 1) {
            lumen_raise_fatal_locked(s);
        } else {
            qemu_log_mask(LOG_GUEST_ERROR, "lumen: FI_FATAL takes 1, not 0x%"
                          PRIx32 "; ignored\n", val);
        }
        return;
    }
}

static bool lumen_is_fi(hwaddr addr)
{
    return addr >= LUMEN_FI_BASE && addr <= LUMEN_FI_FATAL;
}

/* ---- Dispatch ------------------------------------------------------------ */

static uint64_t lumen_read64(LumenState *s, hwaddr addr)
{
    LumenEngine *e;
    LumenQueue *q;
    hwaddr reg;
    int ctx;

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        return lumen_queue_read64(s, q, reg);
    }
    e = lumen_perf_at(s, addr, &reg);
    if (e) {
        return lumen_perf_read(e, reg);
    }
    ctx = lumen_root_at(addr);
    if (ctx >= 0) {
        return lumen_mmu_get_root(&s->mmu, ctx);
    }
    switch (addr) {
    case LUMEN_REG_DEVMEM_SIZE:
        return s->mem_size;
    case LUMEN_REG_ERROR_QUEUES:
        return s->error_queues;
    case LUMEN_REG_TIMESTAMP:
        return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - s->timestamp_base;
    case LUMEN_REG_IRQ_STATUS:
        return s->irq_status;
    case LUMEN_REG_IRQ_MASK:
        return s->irq_mask;
    case LUMEN_REG_FAULT_VA:
        return s->fault_va;
    }
    g_assert_not_reached();
}

/* Write the bits @mask of @val to the 64-bit register at @addr. */
static void lumen_write64(LumenState *s, hwaddr addr, uint64_t val,
                          uint64_t mask)
{
    uint64_t unmasked;
    LumenQueue *q;
    hwaddr reg;
    int ctx;

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        lumen_queue_write64(s, q, addr, reg, val, mask);
        return;
    }
    ctx = lumen_root_at(addr);
    if (ctx >= 0) {
        lumen_write_root(s, addr, ctx, val, mask);
        return;
    }
    switch (addr) {
    case LUMEN_REG_IRQ_STATUS:
        mask &= lumen_queue_bits(s);
        s->irq_status &= ~(val & mask);     /* write 1 to clear */
        return;
    case LUMEN_REG_IRQ_MASK:
        mask &= lumen_queue_bits(s);
        unmasked = s->irq_mask & ~val & mask;
        s->irq_mask = (s->irq_mask & ~mask) | (val & mask);
        lumen_irq_unmasked_locked(s, unmasked);
        return;
    default:
        lumen_log_read_only(addr);
    }
}

static uint32_t lumen_read32(LumenState *s, hwaddr addr)
{
    LumenQueue *q;
    hwaddr reg;
    int index;

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        return lumen_queue_read32(s, q, addr, reg);
    }
    index = lumen_queue_ctx_at(addr);
    if (index >= 0) {
        return lumen_read_queue_ctx(s, addr, index);
    }
    if (lumen_is_fi(addr)) {
        return lumen_fi_read(s, addr);
    }
    switch (addr) {
    case LUMEN_REG_ID:
        return LUMEN_ID_MAGIC;
    case LUMEN_REG_VERSION:
        return LUMEN_HW_VERSION;
    case LUMEN_REG_CAPS:
        return lumen_caps(s);
    case LUMEN_REG_NUM_CORES:
        return s->num_cores;
    case LUMEN_REG_NUM_QUEUES:
        return s->num_queues;
    case LUMEN_REG_NUM_VECTORS:
        return s->num_queues + 1;
    case LUMEN_REG_NUM_CONTEXTS:
        return LUMEN_NUM_CONTEXTS;
    case LUMEN_REG_NUM_ENGINES:
        return s->num_engines;
    case LUMEN_REG_CONTROL:
        return s->enabled ? LUMEN_CONTROL_ENABLE : 0;
    case LUMEN_REG_STATUS:
        return lumen_status(s);
    case LUMEN_REG_SCRATCH:
        return s->scratch;
    case LUMEN_REG_MMU_INVALIDATE:
        return 0;       /* write-only */
    case LUMEN_REG_FAULT_STATUS:
        return s->fault_status;
    case LUMEN_REG_FAULT_INFO:
        return s->fault_info;
    }
    lumen_log_undefined(addr, "read");
    return 0;
}

static void lumen_write32(LumenState *s, hwaddr addr, uint32_t val)
{
    LumenQueue *q;
    hwaddr reg;
    int index;

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        lumen_queue_write32(s, q, addr, reg, val);
        return;
    }
    index = lumen_queue_ctx_at(addr);
    if (index >= 0) {
        lumen_write_queue_ctx(s, addr, index, val);
        return;
    }
    if (lumen_is_fi(addr)) {
        lumen_fi_write(s, addr, val);
        return;
    }
    switch (addr) {
    case LUMEN_REG_CONTROL:
        lumen_write_control(s, val);
        return;
    case LUMEN_REG_SCRATCH:
        s->scratch = val;
        return;
    case LUMEN_REG_MMU_INVALIDATE:
        lumen_write_invalidate(s, val);
        return;
    case LUMEN_REG_FAULT_STATUS:
        s->fault_status &= ~(val & LUMEN_FAULT_VALID);  /* write 1 to clear */
        return;
    case LUMEN_REG_ID:
    case LUMEN_REG_VERSION:
    case LUMEN_REG_CAPS:
    case LUMEN_REG_NUM_CORES:
    case LUMEN_REG_NUM_QUEUES:
    case LUMEN_REG_NUM_VECTORS:
    case LUMEN_REG_NUM_CONTEXTS:
    case LUMEN_REG_NUM_ENGINES:
    case LUMEN_REG_STATUS:
    case LUMEN_REG_FAULT_INFO:
        lumen_log_read_only(addr);
        return;
    }
    lumen_log_undefined(addr, "write");
}

/* ---- BAR0 --------------------------------------------------------------- */

static uint64_t lumen_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    LumenState *s = opaque;
    hwaddr reg64 = QEMU_ALIGN_DOWN(addr, 8);

    QEMU_LOCK_GUARD(&s->lock);
    if (lumen_is_reg64(s, reg64)) {
        uint64_t val = lumen_read64(s, reg64);

        return size == 8 ? val : extract64(val, (addr - reg64) * 8, 32);
    }
    if (size == 8) {
        return lumen_read32(s, addr) |
               (uint64_t)lumen_read32(s, addr + 4) << 32;
    }
    return lumen_read32(s, addr);
}

static void lumen_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    LumenState *s = opaque;
    hwaddr reg64 = QEMU_ALIGN_DOWN(addr, 8);

    QEMU_LOCK_GUARD(&s->lock);
    if (lumen_is_reg64(s, reg64)) {
        unsigned shift = (addr - reg64) * 8;

        lumen_write64(s, reg64, val << shift,
                      size == 8 ? UINT64_MAX : MAKE_64BIT_MASK(shift, 32));
        return;
    }
    lumen_write32(s, addr, val);
    if (size == 8) {
        lumen_write32(s, addr + 4, val >> 32);
    }
}

const MemoryRegionOps lumen_mmio_ops = {
    .read = lumen_mmio_read,
    .write = lumen_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
        .unaligned = false,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- BAR4: doorbells ---------------------------------------------------- */

/*
 * Page q of BAR4 belongs to queue q, so that a page can be mapped into
 * the one process that owns a direct queue.  Its first 32 bits are the
 * doorbell (TAIL); since 1.1 the words after it are read-only views of
 * the queue's state (LUMEN_DB_*), so that the process can watch its queue
 * without asking the kernel.  As in BAR0, COMPLETED takes one 64-bit read
 * or 32-bit reads of its halves, and any other 64-bit access acts on the
 * two 32-bit words it covers, lower address first.
 */
static LumenQueue *lumen_doorbell_queue(LumenState *s, hwaddr addr,
                                        hwaddr *reg)
{
    hwaddr index = addr / LUMEN_DOORBELL_STRIDE;

    *reg = addr % LUMEN_DOORBELL_STRIDE;
    if (index >= s->num_queues || *reg > LUMEN_DB_COMPLETED + 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: access to doorbell BAR "
                      "offset 0x%" HWADDR_PRIx ", which is no doorbell "
                      "register\n", addr);
        return NULL;
    }
    return &s->queues[index];
}

static uint32_t lumen_doorbell_read32(LumenState *s, hwaddr addr)
{
    LumenQueue *q;
    hwaddr reg;

    q = lumen_doorbell_queue(s, addr, &reg);
    if (!q) {
        return 0;
    }
    switch (reg) {
    case LUMEN_DB_TAIL:
        return q->tail;
    case LUMEN_DB_HEAD:
        return q->head;
    case LUMEN_DB_STATUS:
        return lumen_queue_status(s, q);
    case LUMEN_DB_ERROR:
        return q->error;
    case LUMEN_DB_COMPLETED:
        return extract64(q->completed, 0, 32);
    }
    return extract64(q->completed, 32, 32);     /* LUMEN_DB_COMPLETED + 4 */
}

static void lumen_doorbell_write32(LumenState *s, hwaddr addr, uint32_t val)
{
    LumenQueue *q;
    hwaddr reg;

    q = lumen_doorbell_queue(s, addr, &reg);
    if (!q) {
        return;
    }
    if (reg != LUMEN_DB_TAIL) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: write to read-only doorbell "
                      "BAR offset 0x%" HWADDR_PRIx " ignored\n", addr);
        return;
    }
    lumen_queue_write_tail(s, q, val);
}

static uint64_t lumen_doorbell_read(void *opaque, hwaddr addr, unsigned size)
{
    LumenState *s = opaque;
    LumenQueue *q;
    hwaddr reg;

    QEMU_LOCK_GUARD(&s->lock);
    if (size == 4) {
        return lumen_doorbell_read32(s, addr);
    }
    if (addr % LUMEN_DOORBELL_STRIDE == LUMEN_DB_COMPLETED) {
        q = lumen_doorbell_queue(s, addr, &reg);
        return q ? q->completed : 0;    /* both halves of one moment */
    }
    return lumen_doorbell_read32(s, addr) |
           (uint64_t)lumen_doorbell_read32(s, addr + 4) << 32;
}

static void lumen_doorbell_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    LumenState *s = opaque;

    QEMU_LOCK_GUARD(&s->lock);
    lumen_doorbell_write32(s, addr, val);
    if (size == 8) {
        lumen_doorbell_write32(s, addr + 4, val >> 32);
    }
}

const MemoryRegionOps lumen_doorbell_ops = {
    .read = lumen_doorbell_read,
    .write = lumen_doorbell_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
        .unaligned = false,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};
