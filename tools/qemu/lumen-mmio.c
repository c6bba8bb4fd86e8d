/*
 * Lumen PCIe inference accelerator: registers (BAR0) and doorbells (BAR4)
 *
 * Copyright (c) 2025 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * 32-bit registers take aligned 32-bit accesses; 64-bit registers take an
 * aligned 64-bit access or 32-bit accesses to either half.  A 64-bit
 * access to a pair of 32-bit registers acts on both, lower address first.
 * Other sizes and unaligned accesses are refused by the memory core.
 * Offsets that name no register read as zero and ignore writes; those
 * accesses, and writes to read-only registers, are logged as guest errors.
 *
 * The two MemoryRegionOps handlers take LumenState.lock; every other
 * function in this file runs with it held.
 */

#include "qemu/osdep.h"
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

/* Does the 8-byte aligned offset @addr hold a 64-bit register? */
static bool lumen_is_reg64(LumenState *s, hwaddr addr)
{
    hwaddr reg;

    if (lumen_queue_at(s, addr, &reg)) {
        return reg == LUMEN_Q_RING_BASE || reg == LUMEN_Q_COMPLETED;
    }
    switch (addr) {
    case LUMEN_REG_DEVMEM_SIZE:
    case LUMEN_REG_ERROR_QUEUES:
    case LUMEN_REG_TIMESTAMP:
    case LUMEN_REG_IRQ_STATUS:
    case LUMEN_REG_IRQ_MASK:
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

static bool lumen_ring_valid(const LumenQueue *q)
{
    return QEMU_IS_ALIGNED(q->ring_base, 4 * KiB) &&
           is_power_of_2(q->ring_size) &&
           q->ring_size >= LUMEN_RING_MIN_ENTRIES &&
           q->ring_size <= LUMEN_RING_MAX_ENTRIES &&
           q->ring_base + (uint64_t)q->ring_size * LUMEN_CMD_SIZE - 1 >
           q->ring_base;
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
    return status;
}

/* ENABLE 0 -> 1: check the configuration, then let the engine run. */
static void lumen_queue_enable(LumenState *s, LumenQueue *q)
{
    q->enabled = true;
    if (q->error != LUMEN_ERR_NONE) {
        return;     /* stays stopped until RESET */
    }
    if (!lumen_ring_valid(q)) {
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
    return reg == LUMEN_Q_RING_BASE ? q->ring_base : q->completed;
}

static void lumen_queue_write64(LumenState *s, LumenQueue *q, hwaddr addr,
                                hwaddr reg, uint64_t val, uint64_t mask)
{
    if (reg == LUMEN_Q_COMPLETED) {
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
        lumen_log_read_only(addr);
        return;
    }
    lumen_log_undefined(addr, "write");
}

/* ---- Global registers --------------------------------------------------- */

static uint32_t lumen_caps(LumenState *s)
{
    return LUMEN_CAP_SGL | (s->fault_injection ? LUMEN_CAP_FAULT_INJECTION : 0);
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

static uint64_t lumen_read64(LumenState *s, hwaddr addr)
{
    LumenQueue *q;
    hwaddr reg;

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        return lumen_queue_read64(s, q, reg);
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

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        lumen_queue_write64(s, q, addr, reg, val, mask);
        return;
    }
    mask &= lumen_queue_bits(s);
    switch (addr) {
    case LUMEN_REG_IRQ_STATUS:
        s->irq_status &= ~(val & mask);     /* write 1 to clear */
        return;
    case LUMEN_REG_IRQ_MASK:
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

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        return lumen_queue_read32(s, q, addr, reg);
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
    case LUMEN_REG_CONTROL:
        return s->enabled ? LUMEN_CONTROL_ENABLE : 0;
    case LUMEN_REG_STATUS:
        return s->enabled ? LUMEN_STATUS_READY : 0;
    case LUMEN_REG_SCRATCH:
        return s->scratch;
    }
    /*
     * The fault-injection block (fault-injection=on, LUMEN_CAP_FAULT_INJECTION)
     * will be decoded here and in lumen_write32().
     */
    lumen_log_undefined(addr, "read");
    return 0;
}

static void lumen_write32(LumenState *s, hwaddr addr, uint32_t val)
{
    LumenQueue *q;
    hwaddr reg;

    q = lumen_queue_at(s, addr, &reg);
    if (q) {
        lumen_queue_write32(s, q, addr, reg, val);
        return;
    }
    switch (addr) {
    case LUMEN_REG_CONTROL:
        lumen_write_control(s, val);
        return;
    case LUMEN_REG_SCRATCH:
        s->scratch = val;
        return;
    case LUMEN_REG_ID:
    case LUMEN_REG_VERSION:
    case LUMEN_REG_CAPS:
    case LUMEN_REG_NUM_CORES:
    case LUMEN_REG_NUM_QUEUES:
    case LUMEN_REG_NUM_VECTORS:
    case LUMEN_REG_STATUS:
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

/* The doorbell of queue q is the first 32 bits of page q. */
static LumenQueue *lumen_doorbell_queue(LumenState *s, hwaddr addr)
{
    hwaddr index = addr / LUMEN_DOORBELL_STRIDE;

    if (addr % LUMEN_DOORBELL_STRIDE || index >= s->num_queues) {
        return NULL;
    }
    return &s->queues[index];
}

static uint64_t lumen_doorbell_read(void *opaque, hwaddr addr, unsigned size)
{
    LumenState *s = opaque;
    LumenQueue *q;

    QEMU_LOCK_GUARD(&s->lock);
    q = lumen_doorbell_queue(s, addr);
    if (!q) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: read of doorbell BAR offset "
                      "0x%" HWADDR_PRIx ", which is no doorbell\n", addr);
        return 0;
    }
    return q->tail;
}

static void lumen_doorbell_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    LumenState *s = opaque;
    LumenQueue *q;

    QEMU_LOCK_GUARD(&s->lock);
    q = lumen_doorbell_queue(s, addr);
    if (!q) {
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: write to doorbell BAR offset "
                      "0x%" HWADDR_PRIx ", which is no doorbell\n", addr);
        return;
    }
    lumen_queue_write_tail(s, q, val);
}

const MemoryRegionOps lumen_doorbell_ops = {
    .read = lumen_doorbell_read,
    .write = lumen_doorbell_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
        .unaligned = false,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};
