/*
 * Lumen PCIe inference accelerator: memory access by the engines
 *
 * Copyright (c) 2025 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Every access an engine makes to guest memory goes through this file,
 * through the PCI function's DMA address space (so through an IOMMU when
 * there is one), and obeys three rules:
 *
 *  - A bus range that overlaps one of our own BARs, as last programmed,
 *    is refused with LUMEN_ERR_DMA.  (Device memory is reached through
 *    the DEVMEM address form, never through the bus.)
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
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/bswap.h"
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

bool lumen_cancelled(const LumenCancel *c)
{
    return qatomic_read(&c->queue->epoch) != c->epoch;
}

uint32_t lumen_dma_read(LumenState *s, uint64_t addr, void *buf, uint64_t len)
{
    if (!lumen_bus_range_ok(s, addr, len)) {
        return LUMEN_ERR_DMA;
    }
    if (dma_memory_read(pci_get_address_space(PCI_DEVICE(s)), addr, buf, len,
                        lumen_dma_attrs) != MEMTX_OK) {
        return LUMEN_ERR_DMA;
    }
    return LUMEN_ERR_NONE;
}

/*
 * Map up to *len bytes of guest RAM at bus address @addr; *len shrinks to
 * what is contiguous.  NULL if that is not guest RAM.
 */
static void *lumen_dma_map(LumenState *s, uint64_t addr, uint64_t *len,
                           DMADirection dir)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
    dma_addr_t mapped = *len;
    ram_addr_t offset;
    void *p;

    if (!lumen_bus_range_ok(s, addr, *len)) {
        return NULL;
    }
    p = dma_memory_map(as, addr, &mapped, dir, lumen_dma_attrs);
    if (!p) {
        return NULL;
    }
    if (!memory_region_from_host(p, &offset)) {
        /* A bounce buffer: give it back without writing anything. */
        dma_memory_unmap(as, p, mapped, DMA_DIRECTION_TO_DEVICE, 0);
        return NULL;
    }
    *len = mapped;
    return p;
}

static void lumen_dma_unmap(LumenState *s, void *p, uint64_t len,
                            DMADirection dir, uint64_t done)
{
    dma_memory_unmap(pci_get_address_space(PCI_DEVICE(s)), p, len, dir, done);
}

/*
 * FENCE: store @val at the 8-byte aligned bus address @addr, in one
 * access, after everything the queue wrote before.
 */
uint32_t lumen_dma_write_u64(LumenState *s, uint64_t addr, uint64_t val)
{
    uint64_t len = sizeof(val);
    uint64_t *p;

    assert(QEMU_IS_ALIGNED(addr, sizeof(val)));
    p = lumen_dma_map(s, addr, &len, DMA_DIRECTION_FROM_DEVICE);
    if (!p) {
        return LUMEN_ERR_DMA;
    }
    if (len < sizeof(val)) {
        lumen_dma_unmap(s, p, len, DMA_DIRECTION_FROM_DEVICE, 0);
        return LUMEN_ERR_DMA;
    }
    /* Earlier commands' data before the fence value. */
    smp_wmb();
    qatomic_set(p, cpu_to_le64(val));
    lumen_dma_unmap(s, p, len, DMA_DIRECTION_FROM_DEVICE, len);
    return LUMEN_ERR_NONE;
}

/* ---- COPY --------------------------------------------------------------- */

/* SGL entries fetched with one DMA read. */
#define LUMEN_SGL_BATCH     64

typedef enum LumenSpace {
    LUMEN_SPACE_BUS,
    LUMEN_SPACE_DEVMEM,
    LUMEN_SPACE_SGL,
} LumenSpace;

/* Walks one side of a COPY as a series of contiguous segments. */
typedef struct LumenCursor {
    LumenSpace space;
    DMADirection dir;
    uint64_t addr;          /* bus address, or device memory offset */
    uint64_t seg_left;      /* bytes left in the current segment */

    /* SGL only: entries not fetched yet, and a batch of fetched ones. */
    uint64_t sgl_next;
    uint64_t sgl_unfetched;
    unsigned batch_pos;
    unsigned batch_len;
    uint8_t batch[LUMEN_SGL_BATCH * LUMEN_SGL_ENTRY_SIZE];
} LumenCursor;

/* Move to the next SGL entry. */
static uint32_t lumen_cursor_next_entry(LumenState *s, LumenCursor *c)
{
    const uint8_t *entry;
    uint64_t addr, len;

    if (c->batch_pos == c->batch_len) {
        unsigned n = MIN(c->sgl_unfetched, LUMEN_SGL_BATCH);
        uint32_t err;

        if (n == 0) {
            return LUMEN_ERR_SGL;   /* the list ends before the copy */
        }
        err = lumen_dma_read(s, c->sgl_next, c->batch,
                             n * LUMEN_SGL_ENTRY_SIZE);
        if (err != LUMEN_ERR_NONE) {
            return err;
        }
        c->sgl_next += n * LUMEN_SGL_ENTRY_SIZE;
        c->sgl_unfetched -= n;
        c->batch_pos = 0;
        c->batch_len = n;
    }

    entry = c->batch + c->batch_pos++ * LUMEN_SGL_ENTRY_SIZE;
    addr = ldq_le_p(entry);
    len = ldq_le_p(entry + 8);
    if (len == 0 || addr + len - 1 < addr) {
        return LUMEN_ERR_SGL;
    }
    c->addr = addr;
    c->seg_left = len;
    return LUMEN_ERR_NONE;
}

static void lumen_cursor_advance(LumenCursor *c, uint64_t n)
{
    c->addr += n;
    c->seg_left -= n;
}

/* Make sure the current segment is not empty. */
static uint32_t lumen_cursor_fill(LumenState *s, LumenCursor *c)
{
    if (c->seg_left == 0) {
        assert(c->space == LUMEN_SPACE_SGL);
        return lumen_cursor_next_entry(s, c);
    }
    return LUMEN_ERR_NONE;
}

/*
 * Set up one side of a COPY of @count bytes (1 .. LUMEN_COPY_MAX_SIZE):
 * @addr, @offset and @sgl_count are the command's arguments for it.
 */
static uint32_t lumen_cursor_init(LumenState *s, LumenCursor *c,
                                  LumenSpace space, DMADirection dir,
                                  uint64_t addr, uint64_t offset,
                                  uint64_t count, uint64_t sgl_count)
{
    *c = (LumenCursor) { .space = space, .dir = dir };

    switch (space) {
    case LUMEN_SPACE_BUS:
        /* Both the start and the end must be bus addresses. */
        if (addr + offset < addr || addr + offset + count - 1 < addr + offset) {
            return LUMEN_ERR_DMA;
        }
        c->addr = addr + offset;
        c->seg_left = count;
        return LUMEN_ERR_NONE;

    case LUMEN_SPACE_DEVMEM:
        if (offset > s->mem_size || count > s->mem_size - offset) {
            return LUMEN_ERR_DEVMEM_RANGE;
        }
        c->addr = offset;
        c->seg_left = count;
        return LUMEN_ERR_NONE;

    case LUMEN_SPACE_SGL:
        if (!QEMU_IS_ALIGNED(addr, LUMEN_SGL_ENTRY_SIZE)) {
            return LUMEN_ERR_ALIGN;
        }
        if (sgl_count == 0 || sgl_count > LUMEN_SGL_MAX_ENTRIES ||
            addr + sgl_count * LUMEN_SGL_ENTRY_SIZE - 1 < addr) {
            return LUMEN_ERR_SGL;
        }
        c->sgl_next = addr;
        c->sgl_unfetched = sgl_count;
        /* Skip @offset bytes of the concatenated entries. */
        while (offset) {
            uint64_t skip;
            uint32_t err = lumen_cursor_fill(s, c);

            if (err != LUMEN_ERR_NONE) {
                return err;
            }
            skip = MIN(offset, c->seg_left);
            lumen_cursor_advance(c, skip);
            offset -= skip;
        }
        return LUMEN_ERR_NONE;
    }
    g_assert_not_reached();
}

/* Host pointer to up to *len bytes at the cursor; *len may shrink. */
static void *lumen_cursor_map(LumenState *s, LumenCursor *c, uint64_t *len)
{
    *len = MIN(*len, c->seg_left);
    if (c->space == LUMEN_SPACE_DEVMEM) {
        return s->devmem_ptr + c->addr;
    }
    return lumen_dma_map(s, c->addr, len, c->dir);
}

static void lumen_cursor_unmap(LumenState *s, LumenCursor *c, void *p,
                               uint64_t len, uint64_t done)
{
    if (c->space != LUMEN_SPACE_DEVMEM) {
        lumen_dma_unmap(s, p, len, c->dir, done);
    } else if (c->dir == DMA_DIRECTION_FROM_DEVICE && done) {
        memory_region_set_dirty(&s->devmem, c->addr, done);
    }
}

static LumenSpace lumen_copy_space(unsigned flags, unsigned devmem_flag,
                                   unsigned sgl_flag)
{
    if (flags & devmem_flag) {
        return LUMEN_SPACE_DEVMEM;
    }
    return flags & sgl_flag ? LUMEN_SPACE_SGL : LUMEN_SPACE_BUS;
}

/*
 * COPY, with its flags and arguments already checked by lumen-cmd.c.
 * Data moves in steps of at most LUMEN_COPY_CHUNK bytes, directly between
 * host mappings of the two sides; between steps the copy gives up if its
 * queue was stopped.  A failing copy may have written part of its
 * destination.
 */
uint32_t lumen_copy(LumenState *s, const LumenCancel *cancel, unsigned flags,
                    const uint64_t *args)
{
    g_autofree LumenCursor *src = g_new(LumenCursor, 1);
    g_autofree LumenCursor *dst = g_new(LumenCursor, 1);
    uint64_t left = args[4];
    uint32_t err;

    err = lumen_cursor_init(s, src, lumen_copy_space(flags,
                            LUMEN_COPY_SRC_DEVMEM, LUMEN_COPY_SRC_SGL),
                            DMA_DIRECTION_TO_DEVICE, args[0], args[1],
                            left, args[5]);
    if (err != LUMEN_ERR_NONE) {
        return err;
    }
    err = lumen_cursor_init(s, dst, lumen_copy_space(flags,
                            LUMEN_COPY_DST_DEVMEM, LUMEN_COPY_DST_SGL),
                            DMA_DIRECTION_FROM_DEVICE, args[2], args[3],
                            left, args[6]);
    if (err != LUMEN_ERR_NONE) {
        return err;
    }

    while (left) {
        uint64_t n = MIN(left, LUMEN_COPY_CHUNK);
        uint64_t src_len, dst_len;
        void *from, *to;

        if (lumen_cancelled(cancel)) {
            return LUMEN_ERR_CANCELLED;
        }
        err = lumen_cursor_fill(s, src);
        if (err == LUMEN_ERR_NONE) {
            err = lumen_cursor_fill(s, dst);
        }
        if (err != LUMEN_ERR_NONE) {
            return err;
        }

        src_len = n;
        from = lumen_cursor_map(s, src, &src_len);
        if (!from) {
            return LUMEN_ERR_DMA;
        }
        dst_len = src_len;
        to = lumen_cursor_map(s, dst, &dst_len);
        if (!to) {
            lumen_cursor_unmap(s, src, from, src_len, 0);
            return LUMEN_ERR_DMA;
        }
        n = dst_len;

        memmove(to, from, n);

        lumen_cursor_unmap(s, dst, to, dst_len, n);
        lumen_cursor_unmap(s, src, from, src_len, n);
        lumen_cursor_advance(src, n);
        lumen_cursor_advance(dst, n);
        left -= n;
    }
    return LUMEN_ERR_NONE;
}
