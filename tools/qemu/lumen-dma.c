/*
 * Lumen PCIe inference accelerator: the command core's bus
 *
 * Copyright (c) 2025-2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The command core (lumen-core.h) reaches memory only through a LumenBus:
 * this file provides it, one per engine.  Every access to guest memory
 * goes through the PCI function's DMA address space (so through an IOMMU
 * when there is one), and obeys four rules:
 *
 *  - A bus range that overlaps one of our own BARs, as last programmed,
 *    is refused with LUMEN_ERR_DMA.  (Device memory is reached through
 *    the core's device-memory pointer, never through the bus.)
 *
 *  - Only RAM is reached.  Reads carry MemTxAttrs.memory, which makes the
 *    memory core refuse a device region before dispatching to it; writes
 *    go through dma_memory_map() and are refused when the mapping is not
 *    guest RAM (ROM or a device would be a bounce buffer).  Dispatching to
 *    a device would take the BQL, and an engine thread must never wait for
 *    the BQL: a vCPU holding it may be waiting for the engine to stop.
 *
 *  - Every length is checked for overflow before it is used, and every
 *    result is checked; any failure is LUMEN_ERR_DMA.
 *
 *  - Resets are final.  A write, to guest memory (bus->write) or to
 *    device memory (the core's stores between bus->write_begin and
 *    bus->write_end), starts only if its queue's epoch is still the one
 *    its command started in, and it marks the queue as writing for its
 *    duration (at most LUMEN_BUS_MAX_XFER bytes); a reset bumps the epoch
 *    and then waits only while a write is in flight.  So once a
 *    reset has returned no write of an abandoned command lands, and yet
 *    the reset never waits for an operator's computation.
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/timer.h"
#include "system/dma.h"
#include "lumen.h"

static const MemTxAttrs lumen_dma_attrs = { .memory = true };

static const int lumen_bars[] = {
    LUMEN_BAR_REGS, LUMEN_BAR_DEVMEM, LUMEN_BAR_DOORBELL,
};

/* Called after every config space write and at realize. */
void lumen_update_bar_windows_locked(LumenState *s)
{
    PCIDevice *pci_dev = PCI_DEVICE(s);

    QEMU_BUILD_BUG_ON(ARRAY_SIZE(lumen_bars) != ARRAY_SIZE(s->bars));
    for (unsigned i = 0; i < ARRAY_SIZE(lumen_bars); i++) {
        pcibus_t addr = pci_get_bar_addr(pci_dev, lumen_bars[i]);

        s->bars[i].base = addr;
        s->bars[i].size = addr == PCI_BAR_UNMAPPED ? 0 :
                          pci_dev->io_regions[lumen_bars[i]].size;
    }
}

/* Is [addr, addr + len) a valid bus range that stays clear of our BARs? */
static bool lumen_bus_range_ok(LumenState *s, uint64_t addr, uint64_t len)
{
    uint64_t last = addr + len - 1;

    if (len == 0 || last < addr) {
        return false;
    }

    QEMU_LOCK_GUARD(&s->lock);
    for (unsigned i = 0; i < ARRAY_SIZE(s->bars); i++) {
        const LumenBarWindow *w = &s->bars[i];

        if (w->size && addr <= w->base + w->size - 1 && w->base <= last) {
            return false;
        }
    }
    return true;
}

/* LUMEN_FI_FAIL_DMA: consume one injected failure, if any is pending. */
static bool lumen_take_dma_failure(LumenState *s)
{
    uint32_t n = qatomic_read(&s->fi_fail_dma);

    while (n) {
        uint32_t old = qatomic_cmpxchg(&s->fi_fail_dma, n, n - 1);

        if (old == n) {
            return true;
        }
        n = old;
    }
    return false;
}

/*
 * An aligned 8-byte read (a WAIT's semaphore, a page-table entry) is one
 * atomic load, ordered before the queue's later reads.  false if @addr is
 * not plain guest RAM; then the caller takes the general path.
 */
static bool lumen_dma_read_u64(LumenState *s, uint64_t addr, void *buf)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
    dma_addr_t mapped = sizeof(uint64_t);
    ram_addr_t offset;
    uint64_t val;
    void *p;

    p = dma_memory_map(as, addr, &mapped, DMA_DIRECTION_TO_DEVICE,
                       lumen_dma_attrs);
    if (!p) {
        return false;
    }
    if (mapped != sizeof(uint64_t) || !memory_region_from_host(p, &offset) ||
        !QEMU_IS_ALIGNED((uintptr_t)p, sizeof(uint64_t))) {
        dma_memory_unmap(as, p, mapped, DMA_DIRECTION_TO_DEVICE, 0);
        return false;
    }
    val = qatomic_read((uint64_t *)p);
    /* Whatever the queue reads next was written before this value. */
    smp_rmb();
    memcpy(buf, &val, sizeof(val));
    dma_memory_unmap(as, p, mapped, DMA_DIRECTION_TO_DEVICE, mapped);
    return true;
}

static uint32_t lumen_dma_read(LumenState *s, uint64_t addr, void *buf,
                               uint64_t len)
{
    if (lumen_take_dma_failure(s) || !lumen_bus_range_ok(s, addr, len)) {
        return LUMEN_ERR_DMA;
    }
    if (len == sizeof(uint64_t) && QEMU_IS_ALIGNED(addr, sizeof(uint64_t)) &&
        lumen_dma_read_u64(s, addr, buf)) {
        return LUMEN_ERR_NONE;
    }
    if (dma_memory_read(pci_get_address_space(PCI_DEVICE(s)), addr, buf, len,
                        lumen_dma_attrs) != MEMTX_OK) {
        return LUMEN_ERR_DMA;
    }
    return LUMEN_ERR_NONE;
}

/*
 * Store @len bytes at bus address @addr, one contiguous piece of guest RAM
 * at a time.  An aligned 8-byte store (a FENCE value) is one atomic access
 * made after everything the queue wrote before.  A failure may leave the
 * pieces before it written.
 */
static uint32_t lumen_dma_write(LumenState *s, uint64_t addr,
                                const void *buf, uint64_t len)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
    const uint8_t *from = buf;

    if (lumen_take_dma_failure(s) || !lumen_bus_range_ok(s, addr, len)) {
        return LUMEN_ERR_DMA;
    }
    while (len) {
        dma_addr_t mapped = len;
        ram_addr_t offset;
        void *to;

        to = dma_memory_map(as, addr, &mapped, DMA_DIRECTION_FROM_DEVICE,
                            lumen_dma_attrs);
        if (!to) {
            return LUMEN_ERR_DMA;
        }
        if (!memory_region_from_host(to, &offset)) {
            /* A bounce buffer: give it back without writing anything. */
            dma_memory_unmap(as, to, mapped, DMA_DIRECTION_TO_DEVICE, 0);
            return LUMEN_ERR_DMA;
        }
        if (mapped == sizeof(uint64_t) &&
            QEMU_IS_ALIGNED((uintptr_t)to, sizeof(uint64_t))) {
            uint64_t val;

            memcpy(&val, from, sizeof(val));
            /* The queue's earlier writes before the fence value. */
            smp_wmb();
            qatomic_set((uint64_t *)to, val);
        } else {
            memcpy(to, from, mapped);
        }
        dma_memory_unmap(as, to, mapped, DMA_DIRECTION_FROM_DEVICE, mapped);
        addr += mapped;
        from += mapped;
        len -= mapped;
    }
    return LUMEN_ERR_NONE;
}

/* ---- LumenBus callbacks (engine thread, without the lock) ---------------- */

static uint32_t lumen_bus_read(void *opaque, uint64_t addr, void *buf,
                               uint64_t len)
{
    LumenEngine *e = opaque;

    return lumen_dma_read(e->dev, addr, buf, len);
}

/*
 * Open a write of the step in progress: refused (false) once its queue
 * has moved to a new epoch; otherwise the queue is marked as writing until
 * lumen_bus_write_end(), and a reset waits for that.
 */
static bool lumen_bus_write_begin(void *opaque)
{
    LumenEngine *e = opaque;
    LumenState *s = e->dev;
    LumenQueue *q = e->cur;

    QEMU_LOCK_GUARD(&s->lock);
    if (s->stopping || q->epoch != e->cur_epoch) {
        return false;
    }
    q->writing = true;
    return true;
}

static void lumen_bus_write_end(void *opaque)
{
    LumenEngine *e = opaque;
    LumenState *s = e->dev;

    QEMU_LOCK_GUARD(&s->lock);
    e->cur->writing = false;
    qemu_cond_broadcast(&s->idle);
}

static uint32_t lumen_bus_write(void *opaque, uint64_t addr, const void *buf,
                                uint64_t len)
{
    LumenEngine *e = opaque;
    uint32_t err;

    if (!lumen_bus_write_begin(e)) {
        return LUMEN_STEP_CANCELLED;
    }
    err = lumen_dma_write(e->dev, addr, buf, len);
    lumen_bus_write_end(e);
    return err;
}

static bool lumen_bus_cancelled(void *opaque)
{
    LumenEngine *e = opaque;

    return qatomic_read(&e->cur->epoch) != e->cur_epoch ||
           qatomic_read(&e->dev->stopping);
}

static uint64_t lumen_bus_timestamp(void *opaque)
{
    LumenEngine *e = opaque;

    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) -
           qatomic_read(&e->dev->timestamp_base);
}

void lumen_bus_init(LumenState *s, LumenEngine *e)
{
    e->bus = (LumenBus) {
        .opaque = e,
        .read = lumen_bus_read,
        .write = lumen_bus_write,
        .cancelled = lumen_bus_cancelled,
        .timestamp = lumen_bus_timestamp,
        .write_begin = lumen_bus_write_begin,
        .write_end = lumen_bus_write_end,
        .devmem = s->devmem_ptr,
        .devmem_size = s->mem_size,
    };
}
