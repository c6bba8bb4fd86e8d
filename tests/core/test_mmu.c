// SPDX-License-Identifier: MIT
/*
 * The device MMU of the command core: page walks at every level, run
 * merging, every fault reason and its encoding, the TLB's staleness until
 * an invalidation, context 0's bypass.  The page tables are built by the
 * test (fakebus.c) from the format in lumen_regs.h, not by the core.
 */
#include <string.h>

#include "kselftest_harness.h"

#include "core-internal.h"
#include "fakebus.h"

#define VA(l3, l2, l1, l0, off) \
    ((uint64_t)(l3) << 39 | (uint64_t)(l2) << 30 | (uint64_t)(l1) << 21 | \
     (uint64_t)(l0) << 12 | (off))

static uint32_t xlate(FakeDev *f, unsigned ctx, uint64_t va, uint64_t len,
                      bool write, LumenRun *run)
{
    uint32_t err = lumen_range_check(&f->x, ctx, va, len, write);

    if (err == LUMEN_ERR_NONE) {
        err = lumen_translate(&f->x, ctx, va, len, write, run);
    }
    return err;
}

static uint32_t info(unsigned reason, bool write, unsigned ctx, unsigned q)
{
    return reason | (write ? LUMEN_FAULT_INFO_WRITE : 0) | ctx << 16 |
           q << 24;
}

/* Every index at every level selects its own entry. */
TEST(walk_all_levels)
{
    FakeDev *f = fake_new();
    static const uint64_t vas[] = {
        VA(0, 0, 0, 0, 0), VA(1, 0, 0, 0, 0), VA(0, 1, 0, 0, 0),
        VA(0, 0, 1, 0, 0), VA(0, 0, 0, 1, 0), VA(511, 511, 511, 511, 0),
        VA(3, 7, 11, 13, 0), VA(3, 7, 11, 14, 0), VA(256, 0, 0, 0, 0),
    };
    uint64_t pages[sizeof(vas) / sizeof(vas[0])];

    for (unsigned i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
        pages[i] = fake_alloc(f, 8192);
        fake_map(f, 1, vas[i], pages[i], LUMEN_PTE_WRITABLE);
    }
    for (unsigned i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
        LumenRun run;

        ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, vas[i] + 0x123, 8, false, &run));
        EXPECT_FALSE(run.devmem);
        EXPECT_EQ(pages[i] + 0x123, run.addr);
        EXPECT_EQ(8, run.len);
    }
    /* The largest VA, its last byte. */
    {
        LumenRun run;

        ASSERT_EQ(LUMEN_ERR_NONE,
                  xlate(f, 1, VA(511, 511, 511, 511, 4095), 1, true, &run));
        EXPECT_EQ(pages[5] + 4095, run.addr);
    }
    fake_free(f);
}

TEST(devmem_leaf)
{
    FakeDev *f = fake_new();
    uint64_t off = fake_devalloc(f, 8192);
    LumenRun run;

    fake_map_range(f, 2, 0x200000, off, 8192,
                   LUMEN_PTE_DEVMEM | LUMEN_PTE_WRITABLE);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 2, 0x200010, 100, true, &run));
    EXPECT_TRUE(run.devmem);
    EXPECT_EQ(off + 0x10, run.addr);
    fake_free(f);
}

/* Consecutive pages that are physically consecutive merge into one run. */
TEST(run_merging)
{
    FakeDev *f = fake_new();
    uint64_t phys = fake_alloc(f, 6 * 4096), other = fake_alloc(f, 4096);
    uint64_t dev = fake_devalloc(f, 4 * 4096);
    LumenRun run;

    /* Pages 0..3 consecutive, page 4 elsewhere, page 5 after phys + 4. */
    fake_map_range(f, 1, 0x100000, phys, 4 * 4096, LUMEN_PTE_WRITABLE);
    fake_map(f, 1, 0x104000, other, LUMEN_PTE_WRITABLE);
    fake_map(f, 1, 0x105000, phys + 5 * 4096, LUMEN_PTE_WRITABLE);

    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x100000, 6 * 4096, false, &run));
    EXPECT_EQ(phys, run.addr);
    EXPECT_EQ(4 * 4096, run.len);
    /* Starting mid-page, capped by the length asked for. */
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x100800, 5000, false, &run));
    EXPECT_EQ(phys + 0x800, run.addr);
    EXPECT_EQ(5000, run.len);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x102ff0, 0x10000, false, &run));
    EXPECT_EQ(0x1010, run.len);
    /* A lone page. */
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x104000, 0x3000, false, &run));
    EXPECT_EQ(other, run.addr);
    EXPECT_EQ(4096, run.len);

    /* Bus page followed by a devmem page: kinds never merge. */
    fake_map(f, 1, 0x200000, phys, 0);
    fake_map(f, 1, 0x201000, phys + 4096, LUMEN_PTE_DEVMEM);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x200000, 8192, false, &run));
    EXPECT_EQ(4096, run.len);
    /* Device memory followed by a bus page at the next address: no merge. */
    fake_map(f, 1, 0x210000, 0x1000, LUMEN_PTE_DEVMEM);
    fake_map(f, 1, 0x211000, 0x2000, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x210000, 8192, false, &run));
    EXPECT_TRUE(run.devmem);
    EXPECT_EQ(4096, run.len);
    /* A read-only page ends a write run, not a read run. */
    fake_map(f, 1, 0x300000, phys, LUMEN_PTE_WRITABLE);
    fake_map(f, 1, 0x301000, phys + 4096, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x300000, 8192, true, &run));
    EXPECT_EQ(4096, run.len);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x300000, 8192, false, &run));
    EXPECT_EQ(8192, run.len);
    /* Device memory runs merge too. */
    fake_map_range(f, 1, 0x400000, dev, 4 * 4096, LUMEN_PTE_DEVMEM);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x400000, 4 * 4096, false, &run));
    EXPECT_TRUE(run.devmem);
    EXPECT_EQ(4 * 4096, run.len);
    /* A hole after the first page ends the run without a fault. */
    fake_map(f, 1, 0x500000, phys, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x500000, 8192, false, &run));
    EXPECT_EQ(4096, run.len);
    EXPECT_EQ(0, f->stats.faults);
    fake_free(f);
}

/* A bulk read of scattered pages: bus accesses are whole runs. */
TEST(bulk_read_uses_runs)
{
    FakeDev *f = fake_new();
    uint64_t phys = fake_alloc(f, 256 * 1024);
    uint8_t *buf = malloc(256 * 1024);

    for (unsigned i = 0; i < 256 * 1024; i++) {
        ((uint8_t *)fake_ptr(f, phys))[i] = i * 7 + (i >> 9);
    }
    fake_map_range(f, 3, 0x1000000, phys, 256 * 1024, 0);
    f->reads = 0;
    ASSERT_EQ(LUMEN_ERR_NONE,
              lumen_mem_read(&f->x, 3, 0x1000000, buf, 256 * 1024));
    EXPECT_EQ(0, memcmp(buf, fake_ptr(f, phys), 256 * 1024));
    EXPECT_EQ(LUMEN_BUS_MAX_XFER, f->max_xfer);
    /* 4 data reads; the rest are page-table reads (4 per walk, 64 walks). */
    EXPECT_LE(f->reads, 4 + 64 * 4);
    EXPECT_EQ(256 * 1024, f->stats.bytes);
    free(buf);
    fake_free(f);
}

typedef struct FaultCase {
    const char *name;
    unsigned reason;
    bool write;
} FaultCase;

static void expect_fault(struct __test_metadata *_metadata, FakeDev *f,
                         unsigned ctx, uint64_t va, uint64_t len, bool write,
                         unsigned reason, uint64_t fault_va)
{
    LumenRun run;
    uint64_t faults = f->stats.faults;

    f->x.fault_va = 0;
    f->x.fault_info = 0;
    ASSERT_EQ(LUMEN_ERR_MMU_FAULT, xlate(f, ctx, va, len, write, &run));
    EXPECT_EQ(fault_va, f->x.fault_va);
    EXPECT_EQ(info(reason, write, ctx, f->x.queue), f->x.fault_info);
    EXPECT_EQ(reason, LUMEN_FAULT_INFO_REASON(f->x.fault_info));
    EXPECT_EQ(ctx, LUMEN_FAULT_INFO_CONTEXT(f->x.fault_info));
    EXPECT_EQ(f->x.queue, LUMEN_FAULT_INFO_QUEUE(f->x.fault_info));
    EXPECT_EQ(faults + 1, f->stats.faults);
}

TEST(fault_not_present_each_level)
{
    FakeDev *f = fake_new();
    uint64_t page = fake_alloc(f, 4096);

    fake_map(f, 1, VA(1, 1, 1, 1, 0), page, 0);
    /* Missing at level 3, 2, 1 and 0. */
    expect_fault(_metadata, f, 1, VA(2, 1, 1, 1, 8), 8, false,
                 LUMEN_FAULT_NOT_PRESENT, VA(2, 1, 1, 1, 8));
    expect_fault(_metadata, f, 1, VA(1, 2, 1, 1, 8), 8, false,
                 LUMEN_FAULT_NOT_PRESENT, VA(1, 2, 1, 1, 8));
    expect_fault(_metadata, f, 1, VA(1, 1, 2, 1, 8), 8, true,
                 LUMEN_FAULT_NOT_PRESENT, VA(1, 1, 2, 1, 8));
    expect_fault(_metadata, f, 1, VA(1, 1, 1, 2, 8), 8, false,
                 LUMEN_FAULT_NOT_PRESENT, VA(1, 1, 1, 2, 8));
    /* An invalid entry with other bits set is still just not present. */
    fake_st64(fake_slot(f, 1, VA(1, 1, 1, 3, 0), 0, true),
              0xfff0000000000ffeull);
    expect_fault(_metadata, f, 1, VA(1, 1, 1, 3, 0), 8, false,
                 LUMEN_FAULT_NOT_PRESENT, VA(1, 1, 1, 3, 0));
    fake_free(f);
}

/* The fault is reported at the first byte that could not be reached. */
TEST(fault_va_is_first_bad_byte)
{
    FakeDev *f = fake_new();
    uint64_t page = fake_alloc(f, 8192);
    uint8_t buf[8192];

    fake_map(f, 1, 0x10000, page, LUMEN_PTE_WRITABLE);
    ASSERT_EQ(LUMEN_ERR_MMU_FAULT,
              lumen_mem_read(&f->x, 1, 0x10100, buf, 8000));
    EXPECT_EQ(0x11000, f->x.fault_va);
    ASSERT_EQ(LUMEN_ERR_MMU_FAULT,
              lumen_mem_write(&f->x, 1, 0x10ff0, buf, 32));
    EXPECT_EQ(0x11000, f->x.fault_va);
    EXPECT_EQ(info(LUMEN_FAULT_NOT_PRESENT, true, 1, 5), f->x.fault_info);
    fake_free(f);
}

TEST(fault_read_only)
{
    FakeDev *f = fake_new();
    uint64_t page = fake_alloc(f, 4096);
    LumenRun run;

    fake_map(f, 7, 0x40000, page, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 7, 0x40008, 8, false, &run));
    expect_fault(_metadata, f, 7, 0x40008, 8, true, LUMEN_FAULT_READ_ONLY,
                 0x40008);
    /* The page was not written. */
    EXPECT_EQ(0, fake_ld64(fake_ptr(f, page + 8)));
    ASSERT_EQ(LUMEN_ERR_MMU_FAULT,
              lumen_mem_write_u64(&f->x, 7, 0x40008, 42));
    EXPECT_EQ(0, fake_ld64(fake_ptr(f, page + 8)));
    fake_free(f);
}

TEST(fault_devmem_range)
{
    FakeDev *f = fake_new();

    /* The last page of device memory is fine, the one after is not. */
    fake_map(f, 1, 0x1000, FAKE_DEVMEM_SIZE - 4096, LUMEN_PTE_DEVMEM);
    fake_map(f, 1, 0x2000, FAKE_DEVMEM_SIZE, LUMEN_PTE_DEVMEM);
    fake_map(f, 1, 0x3000, LUMEN_PTE_ADDR_MASK,
             LUMEN_PTE_DEVMEM | LUMEN_PTE_WRITABLE);
    {
        LumenRun run;

        ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x1ff8, 8, false, &run));
    }
    expect_fault(_metadata, f, 1, 0x2000, 8, false,
                 LUMEN_FAULT_DEVMEM_RANGE, 0x2000);
    expect_fault(_metadata, f, 1, 0x3000, 8, true,
                 LUMEN_FAULT_DEVMEM_RANGE, 0x3000);
    fake_free(f);
}

TEST(fault_bad_pte)
{
    FakeDev *f = fake_new();
    uint64_t page = fake_alloc(f, 4096);
    uint64_t *slot;

    /* Reserved bits in a leaf: bit 3, bit 52, bit 63. */
    static const uint64_t bad_leaf[] = { 1ull << 3, 1ull << 52, 1ull << 63,
                                         1ull << 11 };
    for (unsigned i = 0; i < 4; i++) {
        uint64_t va = 0x100000 + i * 4096;

        fake_map(f, 1, va, page, bad_leaf[i]);
        expect_fault(_metadata, f, 1, va, 8, false, LUMEN_FAULT_BAD_PTE, va);
    }
    /* WRITABLE or DEVMEM in a table entry (level 1, then level 3). */
    fake_map(f, 1, VA(0, 1, 0, 0, 0), page, 0);
    slot = fake_slot(f, 1, VA(0, 1, 0, 0, 0), 1, false);
    fake_st64(slot, fake_ld64(slot) | LUMEN_PTE_WRITABLE);
    expect_fault(_metadata, f, 1, VA(0, 1, 0, 0, 0), 8, false,
                 LUMEN_FAULT_BAD_PTE, VA(0, 1, 0, 0, 0));
    fake_map(f, 1, VA(2, 0, 0, 0, 0), page, 0);
    slot = fake_slot(f, 1, VA(2, 0, 0, 0, 0), 3, false);
    fake_st64(slot, fake_ld64(slot) | LUMEN_PTE_DEVMEM);
    expect_fault(_metadata, f, 1, VA(2, 0, 0, 0, 0), 8, false,
                 LUMEN_FAULT_BAD_PTE, VA(2, 0, 0, 0, 0));
    /* A table that is not readable (outside RAM). */
    fake_map(f, 1, VA(3, 0, 0, 0, 0), page, 0);
    slot = fake_slot(f, 1, VA(3, 0, 0, 0, 0), 2, false);
    fake_st64(slot, 0x5000 | LUMEN_PTE_VALID);
    expect_fault(_metadata, f, 1, VA(3, 0, 0, 0, 0), 8, true,
                 LUMEN_FAULT_BAD_PTE, VA(3, 0, 0, 0, 0));
    fake_free(f);
}

TEST(fault_va_range)
{
    FakeDev *f = fake_new();
    uint8_t buf[16];

    expect_fault(_metadata, f, 1, 1ull << 48, 8, false,
                 LUMEN_FAULT_VA_RANGE, 1ull << 48);
    expect_fault(_metadata, f, 1, UINT64_MAX - 7, 8, true,
                 LUMEN_FAULT_VA_RANGE, UINT64_MAX - 7);
    /* Straddling 2^48: reported at 2^48, nothing accessed. */
    fake_map(f, 1, (1ull << 48) - 4096, fake_alloc(f, 4096),
             LUMEN_PTE_WRITABLE);
    ASSERT_EQ(LUMEN_ERR_MMU_FAULT,
              lumen_mem_write(&f->x, 1, (1ull << 48) - 8, buf, 16));
    EXPECT_EQ(1ull << 48, f->x.fault_va);
    EXPECT_EQ(info(LUMEN_FAULT_VA_RANGE, true, 1, 5), f->x.fault_info);
    fake_free(f);
}

TEST(fault_bad_context)
{
    FakeDev *f = fake_new();
    uint64_t root;

    /* No root at all. */
    expect_fault(_metadata, f, 9, 0x1000, 8, false, LUMEN_FAULT_BAD_CONTEXT,
                 0x1000);
    /* A root without VALID, or with reserved bits. */
    root = fake_alloc(f, 4096);
    lumen_mmu_set_root(&f->mmu, 9, root);
    expect_fault(_metadata, f, 9, 0x1000, 8, false, LUMEN_FAULT_BAD_CONTEXT,
                 0x1000);
    lumen_mmu_set_root(&f->mmu, 9, root | LUMEN_MMU_ROOT_VALID | 2);
    expect_fault(_metadata, f, 9, 0x1000, 8, true, LUMEN_FAULT_BAD_CONTEXT,
                 0x1000);
    lumen_mmu_set_root(&f->mmu, 9, root | LUMEN_MMU_ROOT_VALID | 1ull << 60);
    expect_fault(_metadata, f, 9, 0x1000, 8, false, LUMEN_FAULT_BAD_CONTEXT,
                 0x1000);
    /* Context 63 is the last one and works. */
    fake_map(f, 63, 0x1000, fake_alloc(f, 4096), 0);
    {
        LumenRun run;

        EXPECT_EQ(LUMEN_ERR_NONE, xlate(f, 63, 0x1000, 8, false, &run));
    }
    fake_free(f);
}

TEST(fault_injected)
{
    FakeDev *f = fake_new();
    LumenRun run;

    fake_map(f, 1, 0x1000, fake_alloc(f, 4096), LUMEN_PTE_WRITABLE);
    f->mmu.inject_faults = 2;
    expect_fault(_metadata, f, 1, 0x1000, 8, true, LUMEN_FAULT_INJECTED,
                 0x1000);
    EXPECT_EQ(1, f->mmu.inject_faults);
    /* Context 0 translates nothing, so it takes no injected fault. */
    EXPECT_EQ(LUMEN_ERR_NONE, xlate(f, 0, FAKE_RAM_BASE, 8, false, &run));
    EXPECT_EQ(1, f->mmu.inject_faults);
    expect_fault(_metadata, f, 1, 0x1000, 8, false, LUMEN_FAULT_INJECTED,
                 0x1000);
    EXPECT_EQ(0, f->mmu.inject_faults);
    EXPECT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x1000, 8, true, &run));
    fake_free(f);
}

/* The TLB keeps a changed PTE's old translation until an invalidation. */
TEST(tlb_stale_until_invalidate)
{
    FakeDev *f = fake_new();
    uint64_t p1 = fake_alloc(f, 4096), p2 = fake_alloc(f, 4096);
    uint64_t *leaf;
    LumenRun run;

    fake_map(f, 4, 0x7000, p1, LUMEN_PTE_WRITABLE);
    fake_map(f, 5, 0x7000, p1, LUMEN_PTE_WRITABLE);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x7000, 8, false, &run));
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 5, 0x7000, 8, false, &run));
    EXPECT_EQ(p1, run.addr);

    /* Change both contexts' PTEs: both still see p1. */
    fake_map(f, 4, 0x7000, p2, LUMEN_PTE_WRITABLE);
    fake_map(f, 5, 0x7000, p2, LUMEN_PTE_WRITABLE);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x7000, 8, false, &run));
    EXPECT_EQ(p1, run.addr);

    /* Invalidating context 5 leaves context 4 stale. */
    lumen_mmu_invalidate(&f->mmu, 5);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 5, 0x7000, 8, false, &run));
    EXPECT_EQ(p2, run.addr);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x7000, 8, false, &run));
    EXPECT_EQ(p1, run.addr);
    lumen_mmu_invalidate(&f->mmu, 4);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x7000, 8, false, &run));
    EXPECT_EQ(p2, run.addr);

    /* Clearing a PTE: still translated until invalidated, then a fault. */
    leaf = fake_slot(f, 4, 0x7000, 0, false);
    fake_st64(leaf, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x7000, 8, false, &run));
    lumen_mmu_invalidate_all(&f->mmu);
    expect_fault(_metadata, f, 4, 0x7000, 8, false, LUMEN_FAULT_NOT_PRESENT,
                 0x7000);

    /* Filling a PTE that was invalid needs no invalidation. */
    fake_map(f, 4, 0x7000, p1, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x7000, 8, false, &run));
    EXPECT_EQ(p1, run.addr);

    /* Making it read-only: writes work until the invalidation. */
    fake_map(f, 4, 0x9000, p1, LUMEN_PTE_WRITABLE);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x9000, 8, true, &run));
    fake_map(f, 4, 0x9000, p1, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 4, 0x9000, 8, true, &run));
    lumen_mmu_invalidate(&f->mmu, 4);
    expect_fault(_metadata, f, 4, 0x9000, 8, true, LUMEN_FAULT_READ_ONLY,
                 0x9000);

    /* A new root needs an invalidation too; reset drops everything. */
    lumen_mmu_reset(&f->mmu);
    expect_fault(_metadata, f, 4, 0x7000, 8, false, LUMEN_FAULT_BAD_CONTEXT,
                 0x7000);
    fake_free(f);
}

/* The TLB really caches: a walk is not repeated for a hit. */
TEST(tlb_hit_skips_walk)
{
    FakeDev *f = fake_new();
    LumenRun run;

    fake_map(f, 1, 0x7000, fake_alloc(f, 4096), 0);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x7000, 8, false, &run));
    f->reads = 0;
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x7000, 8, false, &run));
    EXPECT_EQ(0, f->reads);
    lumen_tlb_flush(&f->tlb);
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 1, 0x7000, 8, false, &run));
    EXPECT_EQ(4, f->reads);
    /* Faults are never cached. */
    f->reads = 0;
    ASSERT_EQ(LUMEN_ERR_MMU_FAULT, xlate(f, 1, 0x8000, 8, false, &run));
    ASSERT_EQ(LUMEN_ERR_MMU_FAULT, xlate(f, 1, 0x8000, 8, false, &run));
    EXPECT_EQ(8, f->reads);
    fake_free(f);
}

TEST(ctx0_bus_and_devmem)
{
    FakeDev *f = fake_new();
    uint64_t buf = fake_alloc(f, 4096);
    uint8_t data[64], back[64];
    LumenRun run;

    for (unsigned i = 0; i < 64; i++) {
        data[i] = i * 3;
    }
    ASSERT_EQ(LUMEN_ERR_NONE, lumen_mem_write(&f->x, 0, buf + 8, data, 64));
    EXPECT_EQ(0, memcmp(fake_ptr(f, buf + 8), data, 64));
    ASSERT_EQ(LUMEN_ERR_NONE,
              lumen_mem_write(&f->x, 0, LUMEN_CTX0_DEVMEM | 0x3000, data, 64));
    EXPECT_EQ(0, memcmp(f->devmem + 0x3000, data, 64));
    ASSERT_EQ(LUMEN_ERR_NONE,
              lumen_mem_read(&f->x, 0, LUMEN_CTX0_DEVMEM | 0x3000, back, 64));
    EXPECT_EQ(0, memcmp(back, data, 64));
    ASSERT_EQ(LUMEN_ERR_NONE, xlate(f, 0, LUMEN_CTX0_DEVMEM | 0x3000, 64,
                                    false, &run));
    EXPECT_TRUE(run.devmem);
    EXPECT_EQ(0x3000, run.addr);

    /* Device memory bounds: the last byte, then one beyond. */
    EXPECT_EQ(LUMEN_ERR_NONE,
              lumen_mem_write(&f->x, 0, LUMEN_CTX0_DEVMEM |
                              (FAKE_DEVMEM_SIZE - 64), data, 64));
    EXPECT_EQ(LUMEN_ERR_DEVMEM_RANGE,
              lumen_mem_write(&f->x, 0, LUMEN_CTX0_DEVMEM |
                              (FAKE_DEVMEM_SIZE - 63), data, 64));
    EXPECT_EQ(LUMEN_ERR_DEVMEM_RANGE,
              lumen_mem_read(&f->x, 0, UINT64_MAX - 7, back, 8));
    /* Bus: outside RAM is the bus's DMA error; wrapping is refused. */
    EXPECT_EQ(LUMEN_ERR_DMA, lumen_mem_read(&f->x, 0, 0x1000, back, 8));
    EXPECT_EQ(LUMEN_ERR_DMA,
              lumen_mem_read(&f->x, 0, LUMEN_CTX0_DEVMEM - 8, back, 16));
    /* Context 0 never faults and has no root. */
    EXPECT_EQ(0, f->stats.faults);
    lumen_mmu_set_root(&f->mmu, 0, buf | 1);
    EXPECT_EQ(0, lumen_mmu_get_root(&f->mmu, 0));
    fake_free(f);
}

TEST_HARNESS_MAIN
