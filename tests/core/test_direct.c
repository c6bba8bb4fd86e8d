// SPDX-License-Identifier: MIT
/*
 * Direct queues (device 1.1) in the command core: a queue bound to a
 * context c (LumenExec.ring_ctx) reads its ring through c's page tables
 * and the engine TLB (lumen_exec_fetch_entry()), runs every ring entry in
 * c, and its ring-level INDIRECT must name context 0.  A kernel queue
 * (ring_ctx 0) keeps the 1.0 behaviour.  The page tables and the expected
 * bytes come from the test, never from the core.
 */
#include <string.h>

#include "kselftest_harness.h"

#include "fakebus.h"

#define OPNULL 0, 0, 0, 0, 0, 0, 0
#define CTX 3
#define RING_VA 0x7e0000000000ull
#define DATA_VA 0x100000ull

static uint32_t info(unsigned reason, bool write, unsigned ctx, unsigned q)
{
    return reason | (write ? LUMEN_FAULT_INFO_WRITE : 0) | ctx << 16 |
           q << 24;
}

/* Context 0: the ring is bus memory, read as it is (device 1.0). */
TEST(fetch_kernel_queue_is_a_bus_read)
{
    FakeDev *f = fake_new();
    uint64_t ring = fake_alloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE], got[LUMEN_CMD_SIZE];
    unsigned reads;

    CMD(c, LUMEN_OP_FENCE, 0, 0x1234, 5);
    fake_put_cmd(f, ring + 64, c);
    f->x.ring_ctx = 0;
    ASSERT_EQ(LUMEN_ERR_NONE, lumen_exec_fetch_entry(&f->x, ring + 64, got));
    EXPECT_EQ(0, memcmp(c, got, sizeof(c)));
    /* Outside RAM: a DMA error.  Bit 63 is no device-memory form here. */
    reads = f->reads;
    EXPECT_EQ(LUMEN_ERR_DMA, lumen_exec_fetch_entry(&f->x, 0x1000, got));
    EXPECT_EQ(LUMEN_ERR_DMA,
              lumen_exec_fetch_entry(&f->x, LUMEN_CTX0_DEVMEM | 0x1000, got));
    EXPECT_EQ(reads + 2, f->reads);
    EXPECT_EQ(0, f->x.fault_info);
    EXPECT_EQ(0, f->stats.faults);
    EXPECT_EQ(0, f->stats.bytes);
    fake_free(f);
}

/* A bound queue's ring is read through its context, scattered or not. */
TEST(fetch_bound_queue_translates)
{
    FakeDev *f = fake_new();
    uint64_t dev = fake_devalloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE], got[LUMEN_CMD_SIZE];

    fake_map_scattered(f, CTX, RING_VA, 2 * 4096, 0);
    fake_map(f, CTX, RING_VA + 2 * 4096, dev, LUMEN_PTE_DEVMEM);
    f->x.ring_ctx = CTX;
    for (unsigned i = 0; i < 3 * 64; i += 7) {
        uint64_t va = RING_VA + i * LUMEN_CMD_SIZE;

        CMD(c, LUMEN_OP_FENCE, 0, i, ~(uint64_t)i);
        memcpy(fake_va_ptr(f, CTX, va), c, sizeof(c));
        memset(got, 0xee, sizeof(got));
        ASSERT_EQ(LUMEN_ERR_NONE, lumen_exec_fetch_entry(&f->x, va, got));
        EXPECT_EQ(0, memcmp(c, got, sizeof(c)));
    }
    /* Not data: no bytes counted, no fault. */
    EXPECT_EQ(0, f->stats.bytes);
    EXPECT_EQ(0, f->stats.faults);
    fake_free(f);
}

/* Each failed translation of a ring fetch: MMU_FAULT at the entry's VA. */
TEST(fetch_bound_queue_faults)
{
    FakeDev *f = fake_new();
    uint64_t page = fake_alloc(f, 4096);
    uint8_t got[LUMEN_CMD_SIZE];
    static const struct {
        unsigned ctx;
        uint64_t va;
        unsigned reason;
    } t[] = {
        { CTX, RING_VA + 4096 + 128, LUMEN_FAULT_NOT_PRESENT },
        { CTX, 1ull << 48, LUMEN_FAULT_VA_RANGE },
        { CTX, UINT64_MAX & ~63ull, LUMEN_FAULT_VA_RANGE },
        { 9, RING_VA, LUMEN_FAULT_BAD_CONTEXT },            /* no root */
        { CTX, RING_VA + 2 * 4096, LUMEN_FAULT_DEVMEM_RANGE },
        { CTX, RING_VA + 3 * 4096, LUMEN_FAULT_BAD_PTE },
    };

    fake_map(f, CTX, RING_VA, page, 0);
    fake_map(f, CTX, RING_VA + 2 * 4096, FAKE_DEVMEM_SIZE, LUMEN_PTE_DEVMEM);
    fake_map(f, CTX, RING_VA + 3 * 4096, page | 1ull << 5, 0);
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        f->x.ring_ctx = t[i].ctx;
        f->x.fault_va = 0;
        f->x.fault_info = 0;
        EXPECT_EQ(LUMEN_ERR_MMU_FAULT,
                  lumen_exec_fetch_entry(&f->x, t[i].va, got)) {
            TH_LOG("case %u", i);
        }
        EXPECT_EQ(t[i].va, f->x.fault_va) {
            TH_LOG("case %u", i);
        }
        EXPECT_EQ(info(t[i].reason, false, t[i].ctx, 5), f->x.fault_info) {
            TH_LOG("case %u", i);
        }
    }
    EXPECT_EQ(sizeof(t) / sizeof(t[0]), f->stats.faults);
    /* A fetch that works clears the fault outputs of an earlier one. */
    f->x.ring_ctx = CTX;
    EXPECT_EQ(LUMEN_ERR_NONE, lumen_exec_fetch_entry(&f->x, RING_VA, got));
    EXPECT_EQ(0, f->x.fault_va);
    EXPECT_EQ(0, f->x.fault_info);
    /* Injected faults hit the ring fetch like any translation. */
    f->mmu.inject_faults = 1;
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT,
              lumen_exec_fetch_entry(&f->x, RING_VA + 64, got));
    EXPECT_EQ(info(LUMEN_FAULT_INJECTED, false, CTX, 5), f->x.fault_info);
    EXPECT_EQ(RING_VA + 64, f->x.fault_va);
    fake_free(f);
}

/* The ring page's translation is cached like data: stale until invalidated. */
TEST(fetch_bound_queue_uses_the_tlb)
{
    FakeDev *f = fake_new();
    uint64_t p1 = fake_alloc(f, 4096), p2 = fake_alloc(f, 4096);
    uint8_t c1[LUMEN_CMD_SIZE], c2[LUMEN_CMD_SIZE], got[LUMEN_CMD_SIZE];
    unsigned reads;

    CMD(c1, LUMEN_OP_FENCE, 0, 8, 1);
    CMD(c2, LUMEN_OP_FENCE, 0, 8, 2);
    fake_put_cmd(f, p1, c1);
    fake_put_cmd(f, p2, c2);
    fake_map(f, CTX, RING_VA, p1, 0);
    f->x.ring_ctx = CTX;
    ASSERT_EQ(LUMEN_ERR_NONE, lumen_exec_fetch_entry(&f->x, RING_VA, got));
    EXPECT_EQ(0, memcmp(c1, got, sizeof(got)));
    /* A hit reads the entry only: one bus read, no walk. */
    reads = f->reads;
    ASSERT_EQ(LUMEN_ERR_NONE, lumen_exec_fetch_entry(&f->x, RING_VA, got));
    EXPECT_EQ(reads + 1, f->reads);
    fake_map(f, CTX, RING_VA, p2, 0);
    ASSERT_EQ(LUMEN_ERR_NONE, lumen_exec_fetch_entry(&f->x, RING_VA, got));
    EXPECT_EQ(0, memcmp(c1, got, sizeof(got)));
    lumen_mmu_invalidate(&f->mmu, CTX);
    ASSERT_EQ(LUMEN_ERR_NONE, lumen_exec_fetch_entry(&f->x, RING_VA, got));
    EXPECT_EQ(0, memcmp(c2, got, sizeof(got)));
    fake_free(f);
}

/* Every kind of ring entry of a bound queue addresses VAs of its context. */
TEST(ring_entries_run_in_the_ring_context)
{
    FakeDev *f = fake_new();
    uint64_t bus = fake_alloc(f, 4096);
    uint64_t dev = fake_devalloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE];
    uint8_t *src, *dst;

    fake_map_scattered(f, CTX, DATA_VA, 3 * 4096, LUMEN_PTE_WRITABLE);
    fake_map(f, CTX, DATA_VA + 0x10000, dev, LUMEN_PTE_DEVMEM |
             LUMEN_PTE_WRITABLE);
    f->x.ring_ctx = CTX;

    CMD(c, LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, DATA_VA + 8, 0x1234);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(0x1234, fake_ld64(fake_va_ptr(f, CTX, DATA_VA + 8)));
    EXPECT_TRUE(f->x.raise_irq);

    f->now = 777;
    CMD(c, LUMEN_OP_TIMESTAMP, 0, DATA_VA + 0x10000);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(777, fake_ld64(f->devmem + dev));

    /* COPY from the first page to across the second/third page boundary. */
    src = fake_va_ptr(f, CTX, DATA_VA + 0x100);
    for (unsigned i = 0; i < 256; i++) {
        src[i] = i ^ 0x5a;
    }
    CMD(c, LUMEN_OP_COPY, 0, DATA_VA + 0x100, DATA_VA + 2 * 4096 - 100, 256);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    for (unsigned i = 0; i < 256; i++) {
        dst = fake_va_ptr(f, CTX, DATA_VA + 2 * 4096 - 100 + i);
        ASSERT_EQ((uint8_t)(i ^ 0x5a), *dst);
    }

    CMD(c, LUMEN_OP_FILL, 0, DATA_VA + 0x10000 + 64, 16, 0x0102030405060708);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(0x0102030405060708, fake_ld64(f->devmem + dev + 64));
    EXPECT_EQ(0x0102030405060708, fake_ld64(f->devmem + dev + 72));

    fake_st64(fake_va_ptr(f, CTX, DATA_VA + 16), 1);
    CMD(c, LUMEN_OP_WAIT, 0, DATA_VA + 16, 2);
    EXPECT_EQ(LUMEN_STEP_BLOCKED, lumen_exec_step(&f->x, &f->qx, c));
    fake_st64(fake_va_ptr(f, CTX, DATA_VA + 16), 2);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));

    /* A bus address of RAM is no address here: unmapped VA. */
    CMD(c, LUMEN_OP_FENCE, 0, bus, 9);
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(bus, f->x.fault_va);
    EXPECT_EQ(info(LUMEN_FAULT_NOT_PRESENT, true, CTX, 5), f->x.fault_info);
    EXPECT_EQ(0, fake_ld64(fake_ptr(f, bus)));
    /* Nor is the context-0 device-memory form: a VA beyond 2^48. */
    CMD(c, LUMEN_OP_FILL, 0, LUMEN_CTX0_DEVMEM | dev, 8, 7);
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(LUMEN_CTX0_DEVMEM | dev, f->x.fault_va);
    EXPECT_EQ(info(LUMEN_FAULT_VA_RANGE, true, CTX, 5), f->x.fault_info);
    EXPECT_EQ(0x0102030405060708, fake_ld64(f->devmem + dev + 64));
    CMD(c, LUMEN_OP_COPY, 0, bus, DATA_VA, 8);
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(info(LUMEN_FAULT_NOT_PRESENT, false, CTX, 5), f->x.fault_info);
    fake_free(f);
}

/* Ring-level INDIRECT of a bound queue: arg2 0 stays in c, else BAD_CMD. */
TEST(indirect_in_a_bound_queue)
{
    FakeDev *f = fake_new();
    static const uint64_t bad[] = {
        CTX, 1, 2, 63, 64, 1ull << 32, UINT64_MAX,
    };
    uint64_t ib = DATA_VA + 0x4000, nested = DATA_VA + 0x8000;
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];

    fake_map_scattered(f, CTX, DATA_VA, 0x10000, LUMEN_PTE_WRITABLE);
    /* Context 1 maps the same VAs elsewhere: it must never be used. */
    fake_map_scattered(f, 1, DATA_VA, 0x10000, LUMEN_PTE_WRITABLE);
    CMD(c, LUMEN_OP_FENCE, 0, DATA_VA + 8, 0x66);
    memcpy(fake_va_ptr(f, CTX, ib), c, sizeof(c));
    memcpy(fake_va_ptr(f, 1, ib), c, sizeof(c));
    f->x.ring_ctx = CTX;

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CMD(entry, LUMEN_OP_INDIRECT, 0, ib, 64, bad[i]);
        EXPECT_EQ(LUMEN_ERR_BAD_CMD, lumen_exec_step(&f->x, &f->qx, entry)) {
            TH_LOG("arg2 %#llx", (unsigned long long)bad[i]);
        }
        EXPECT_EQ(0, f->qx.depth);
        EXPECT_EQ(0, f->x.fault_info);
        lumen_queue_exec_reset(&f->qx);
    }
    /* The context check comes before the alignment check (step 5 < 6). */
    CMD(entry, LUMEN_OP_INDIRECT, 0, ib + 8, 64, 1);
    EXPECT_EQ(LUMEN_ERR_BAD_CMD, lumen_exec_step(&f->x, &f->qx, entry));
    lumen_queue_exec_reset(&f->qx);
    EXPECT_EQ(0, fake_ld64(fake_va_ptr(f, CTX, DATA_VA + 8)));
    EXPECT_EQ(0, fake_ld64(fake_va_ptr(f, 1, DATA_VA + 8)));

    /* arg2 0: the IB runs in the queue's context. */
    CMD(entry, LUMEN_OP_INDIRECT, 0, ib, 64, 0);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(1, f->qx.depth);
    EXPECT_EQ(CTX, f->qx.ctx);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(0x66, fake_ld64(fake_va_ptr(f, CTX, DATA_VA + 8)));
    EXPECT_EQ(0, fake_ld64(fake_va_ptr(f, 1, DATA_VA + 8)));

    /* A nested INDIRECT naming a context is refused as in any IB. */
    CMD(c, LUMEN_OP_INDIRECT, 0, ib, 64, CTX);
    memcpy(fake_va_ptr(f, CTX, nested), c, sizeof(c));
    CMD(entry, LUMEN_OP_INDIRECT, 0, nested, 64, 0);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(LUMEN_ERR_BAD_CMD, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(CTX, f->qx.ctx);
    lumen_queue_exec_reset(&f->qx);

    /* An IB that is not mapped: a fault in c, at the IB's VA. */
    CMD(entry, LUMEN_OP_INDIRECT, 0, DATA_VA + 0x20000, 64, 0);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(DATA_VA + 0x20000, f->x.fault_va);
    EXPECT_EQ(info(LUMEN_FAULT_NOT_PRESENT, false, CTX, 5), f->x.fault_info);
    lumen_queue_exec_reset(&f->qx);

    /* A kernel queue still names contexts. */
    f->x.ring_ctx = 0;
    CMD(entry, LUMEN_OP_INDIRECT, 0, ib, 64, 1);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(1, f->qx.ctx);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(0x66, fake_ld64(fake_va_ptr(f, 1, DATA_VA + 8)));
    fake_free(f);
}

/* A NOP ring entry of a bound queue retires like any other. */
TEST(bound_queue_counts_commands)
{
    FakeDev *f = fake_new();
    uint8_t c[LUMEN_CMD_SIZE];

    f->x.ring_ctx = 63;
    CMD(c, LUMEN_OP_NOP, 0, OPNULL);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    /* No translation was needed, so context 63's missing root is no fault. */
    EXPECT_EQ(0, f->stats.faults);
    EXPECT_EQ(1, f->stats.commands);
    fake_free(f);
}

TEST_HARNESS_MAIN
