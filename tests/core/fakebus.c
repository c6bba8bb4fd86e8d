// SPDX-License-Identifier: MIT
/*
 * The fake device of fakebus.h.  The bus checks every access against the
 * RAM window and records what it saw, so the tests can assert both the
 * data and the shape of the traffic (chunk sizes, run merging).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fakebus.h"

uint64_t fake_ld64(const void *p)
{
    const uint8_t *b = p;
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = v << 8 | b[i];
    }
    return v;
}

void fake_st64(void *p, uint64_t v)
{
    uint8_t *b = p;

    for (int i = 0; i < 8; i++) {
        b[i] = v >> (8 * i);
    }
}

static bool in_ram(uint64_t addr, uint64_t len)
{
    return addr >= FAKE_RAM_BASE && len <= FAKE_RAM_SIZE &&
           addr - FAKE_RAM_BASE <= FAKE_RAM_SIZE - len;
}

/* The core must call nothing between write_begin and write_end. */
static void check_outside_devmem_write(FakeDev *f)
{
    if (f->in_devmem_write) {
        f->violations++;
    }
}

static uint32_t bus_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    FakeDev *f = opaque;

    check_outside_devmem_write(f);
    f->reads++;
    if (len > f->max_xfer) {
        f->max_xfer = len;
    }
    if (len == 0 || len > LUMEN_BUS_MAX_XFER || !in_ram(addr, len)) {
        return LUMEN_ERR_DMA;
    }
    memcpy(buf, f->ram + (addr - FAKE_RAM_BASE), len);
    return LUMEN_ERR_NONE;
}

static uint32_t bus_write(void *opaque, uint64_t addr, const void *buf,
                          uint64_t len)
{
    FakeDev *f = opaque;

    check_outside_devmem_write(f);
    f->writes++;
    if (len > f->max_xfer) {
        f->max_xfer = len;
    }
    if (len == 0 || len > LUMEN_BUS_MAX_XFER || !in_ram(addr, len)) {
        return LUMEN_ERR_DMA;
    }
    if (f->fail_write_at && f->fail_write_at >= addr &&
        f->fail_write_at < addr + len) {
        return LUMEN_ERR_DMA;
    }
    memmove(f->ram + (addr - FAKE_RAM_BASE), buf, len);
    return LUMEN_ERR_NONE;
}

static bool bus_cancelled(void *opaque)
{
    FakeDev *f = opaque;

    check_outside_devmem_write(f);
    f->polls++;
    if (f->cancel_after < 0) {
        return false;
    }
    if (f->cancel_after == 0) {
        return true;
    }
    f->cancel_after--;
    return false;
}

static uint64_t bus_timestamp(void *opaque)
{
    FakeDev *f = opaque;

    check_outside_devmem_write(f);
    return f->now++;
}

static bool bus_write_begin(void *opaque)
{
    FakeDev *f = opaque;

    check_outside_devmem_write(f);
    f->devmem_writes++;
    if (f->deny_devmem) {
        return false;
    }
    f->in_devmem_write = true;
    return true;
}

static void bus_write_end(void *opaque)
{
    FakeDev *f = opaque;

    if (!f->in_devmem_write) {
        f->violations++;
    }
    f->in_devmem_write = false;
}

FakeDev *fake_new(void)
{
    FakeDev *f = calloc(1, sizeof(*f));

    assert(f);
    f->ram = calloc(1, FAKE_RAM_SIZE);
    f->devmem = aligned_alloc(4096, FAKE_DEVMEM_SIZE);
    assert(f->ram && f->devmem);
    memset(f->devmem, 0, FAKE_DEVMEM_SIZE);
    f->next_page = FAKE_RAM_BASE;
    f->next_devmem = 0;
    f->cancel_after = -1;
    f->now = 1000;
    f->bus = (LumenBus) {
        .opaque = f, .read = bus_read, .write = bus_write,
        .cancelled = bus_cancelled, .timestamp = bus_timestamp,
        .write_begin = bus_write_begin, .write_end = bus_write_end,
        .devmem = f->devmem, .devmem_size = FAKE_DEVMEM_SIZE,
    };
    lumen_mmu_reset(&f->mmu);
    lumen_tlb_flush(&f->tlb);
    f->x = (LumenExec) {
        .bus = &f->bus, .mmu = &f->mmu, .tlb = &f->tlb, .queue = 5,
        .compute = true, .stats = &f->stats,
    };
    lumen_queue_exec_reset(&f->qx);
    return f;
}

void fake_free(FakeDev *f)
{
    free(f->ram);
    free(f->devmem);
    free(f);
}

uint64_t fake_alloc(FakeDev *f, uint64_t bytes)
{
    uint64_t addr = f->next_page;

    bytes = (bytes + 4095) & ~4095ull;
    assert(in_ram(addr, bytes));
    f->next_page += bytes;
    memset(fake_ptr(f, addr), 0, bytes);
    return addr;
}

uint64_t fake_devalloc(FakeDev *f, uint64_t bytes)
{
    uint64_t off = f->next_devmem;

    bytes = (bytes + 4095) & ~4095ull;
    assert(off + bytes <= FAKE_DEVMEM_SIZE);
    f->next_devmem += bytes;
    memset(f->devmem + off, 0, bytes);
    return off;
}

void *fake_ptr(FakeDev *f, uint64_t bus_addr)
{
    assert(in_ram(bus_addr, 1));
    return f->ram + (bus_addr - FAKE_RAM_BASE);
}

uint64_t fake_root(FakeDev *f, unsigned ctx)
{
    uint64_t root = lumen_mmu_get_root(&f->mmu, ctx);

    if (!(root & LUMEN_MMU_ROOT_VALID)) {
        root = fake_alloc(f, 4096) | LUMEN_MMU_ROOT_VALID;
        lumen_mmu_set_root(&f->mmu, ctx, root);
    }
    return root & LUMEN_PTE_ADDR_MASK;
}

uint64_t *fake_slot(FakeDev *f, unsigned ctx, uint64_t va, int level,
                    bool create)
{
    uint64_t table = fake_root(f, ctx);

    for (int l = 3; ; l--) {
        uint64_t *slot = (uint64_t *)fake_ptr(f, table) +
                         ((va >> (12 + 9 * l)) & 511);

        if (l == level) {
            return slot;
        }
        if (!(fake_ld64(slot) & LUMEN_PTE_VALID)) {
            if (!create) {
                return NULL;
            }
            fake_st64(slot, fake_alloc(f, 4096) | LUMEN_PTE_VALID);
        }
        table = fake_ld64(slot) & LUMEN_PTE_ADDR_MASK;
    }
}

void fake_map(FakeDev *f, unsigned ctx, uint64_t va, uint64_t target,
              uint64_t flags)
{
    fake_st64(fake_slot(f, ctx, va, 0, true),
              target | flags | LUMEN_PTE_VALID);
}

void fake_map_range(FakeDev *f, unsigned ctx, uint64_t va, uint64_t target,
                    uint64_t len, uint64_t flags)
{
    for (uint64_t off = 0; off < len; off += 4096) {
        fake_map(f, ctx, va + off, target + off, flags);
    }
}

void fake_map_scattered(FakeDev *f, unsigned ctx, uint64_t va, uint64_t len,
                        uint64_t flags)
{
    uint64_t pages = (len + (va & 4095) + 4095) / 4096;

    for (uint64_t i = 0; i < pages; i++) {
        /* A gap page between data pages: never consecutive. */
        uint64_t page = fake_alloc(f, 8192);

        fake_map(f, ctx, (va & ~4095ull) + i * 4096, page, flags);
    }
}

uint8_t *fake_va_ptr(FakeDev *f, unsigned ctx, uint64_t va)
{
    uint64_t *slot = fake_slot(f, ctx, va, 0, false);
    uint64_t pte;

    assert(slot);
    pte = fake_ld64(slot);
    assert(pte & LUMEN_PTE_VALID);
    if (pte & LUMEN_PTE_DEVMEM) {
        return f->devmem + (pte & LUMEN_PTE_ADDR_MASK) + (va & 4095);
    }
    return fake_ptr(f, (pte & LUMEN_PTE_ADDR_MASK) + (va & 4095));
}

void cmd_make(uint8_t out[LUMEN_CMD_SIZE], uint8_t opcode, uint8_t flags,
              const uint64_t args[LUMEN_CMD_ARGS])
{
    memset(out, 0, LUMEN_CMD_SIZE);
    out[0] = opcode;
    out[1] = flags;
    for (int i = 0; i < LUMEN_CMD_ARGS; i++) {
        fake_st64(out + 8 + 8 * i, args[i]);
    }
}

void fake_put_cmd(FakeDev *f, uint64_t addr, const uint8_t cmd[LUMEN_CMD_SIZE])
{
    memcpy(fake_ptr(f, addr), cmd, LUMEN_CMD_SIZE);
}

uint32_t fake_run(FakeDev *f, const uint8_t entry[LUMEN_CMD_SIZE],
                  uint64_t max_steps, uint64_t *steps)
{
    uint32_t ret = LUMEN_STEP_MORE;
    uint64_t n = 0;

    lumen_queue_exec_reset(&f->qx);
    while (n < max_steps) {
        ret = lumen_exec_step(&f->x, &f->qx, entry);
        n++;
        if (ret != LUMEN_STEP_MORE) {
            break;
        }
    }
    if (steps) {
        *steps = n;
    }
    return ret;
}
