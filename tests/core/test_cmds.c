// SPDX-License-Identifier: MIT
/*
 * The command core's decoder and executor: every command's checks (a
 * table of bad commands and the one error each must give), NOP, FENCE,
 * WAIT, TIMESTAMP, INDIRECT nesting and limits, COPY 1D/2D and FILL byte
 * for byte, cancellation.  Expected bytes are computed here by plain
 * loops, never by the core.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "fakebus.h"

#define OPNULL 0, 0, 0, 0, 0, 0, 0

/* The step results of one ring entry run to its end, in one call. */
static uint32_t run1(FakeDev *f, const uint8_t *entry)
{
    return fake_run(f, entry, 10000000, NULL);
}

typedef struct BadCmd {
    const char *what;
    uint8_t bytes[LUMEN_CMD_SIZE];
    uint32_t err;
} BadCmd;

static void set_cmd(BadCmd *b, const char *what, uint32_t err, uint8_t op,
                    uint8_t flags, const uint64_t args[LUMEN_CMD_ARGS])
{
    b->what = what;
    b->err = err;
    cmd_make(b->bytes, op, flags, args);
}

#define BAD(what, err, op, fl, ...) \
    set_cmd(&t[n++], what, err, op, fl, \
            (const uint64_t[LUMEN_CMD_ARGS]) { __VA_ARGS__ })

/*
 * Bad commands and their errors, for a ring entry (context 0, bus
 * addresses).  @ok is a valid, 8-aligned bus address in RAM.
 */
static unsigned bad_table(BadCmd *t, uint64_t ok)
{
    unsigned n = 0;

    BAD("unknown opcode 0x05", LUMEN_ERR_BAD_OPCODE, 0x05, 0, 0);
    BAD("unknown opcode 0x12", LUMEN_ERR_BAD_OPCODE, 0x12, 0, 0);
    BAD("unknown opcode 0x27", LUMEN_ERR_BAD_OPCODE, 0x27, 0, 0);
    BAD("unknown opcode 0xff", LUMEN_ERR_BAD_OPCODE, 0xff, 0, 0);
    BAD("unknown opcode with flags", LUMEN_ERR_BAD_OPCODE, 0x30, 0xff, 1, 2);
    BAD("nop flag", LUMEN_ERR_BAD_CMD, LUMEN_OP_NOP, 1, 0);
    BAD("nop arg0", LUMEN_ERR_BAD_CMD, LUMEN_OP_NOP, 0, 1);
    BAD("nop arg6", LUMEN_ERR_BAD_CMD, LUMEN_OP_NOP, 0, 0, 0, 0, 0, 0, 0, 1);
    BAD("fence flag 2", LUMEN_ERR_BAD_CMD, LUMEN_OP_FENCE, 2, ok, 1);
    BAD("fence arg2", LUMEN_ERR_BAD_CMD, LUMEN_OP_FENCE, 0, ok, 1, 1);
    BAD("fence misaligned", LUMEN_ERR_ALIGN, LUMEN_OP_FENCE, 0, ok + 4, 1);
    BAD("fence misaligned + bad flag", LUMEN_ERR_BAD_CMD, LUMEN_OP_FENCE, 0x80,
        ok + 4, 1);
    BAD("fence outside RAM", LUMEN_ERR_DMA, LUMEN_OP_FENCE, 0, 0x1000, 1);
    BAD("fence devmem out of range", LUMEN_ERR_DEVMEM_RANGE, LUMEN_OP_FENCE,
        0, LUMEN_CTX0_DEVMEM | FAKE_DEVMEM_SIZE, 1);
    BAD("wait flag", LUMEN_ERR_BAD_CMD, LUMEN_OP_WAIT, 1, ok, 0);
    BAD("wait arg2", LUMEN_ERR_BAD_CMD, LUMEN_OP_WAIT, 0, ok, 0, 5);
    BAD("wait misaligned", LUMEN_ERR_ALIGN, LUMEN_OP_WAIT, 0, ok + 1, 0);
    BAD("wait outside RAM", LUMEN_ERR_DMA, LUMEN_OP_WAIT, 0, 8, 0);
    BAD("timestamp flag", LUMEN_ERR_BAD_CMD, LUMEN_OP_TIMESTAMP, 1, ok);
    BAD("timestamp arg1", LUMEN_ERR_BAD_CMD, LUMEN_OP_TIMESTAMP, 0, ok, 1);
    BAD("timestamp misaligned", LUMEN_ERR_ALIGN, LUMEN_OP_TIMESTAMP, 0,
        ok + 2);
    BAD("indirect flag", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 1, ok, 64, 0);
    BAD("indirect arg3", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok, 64, 0,
        1);
    BAD("indirect size 0", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok, 0, 0);
    BAD("indirect size 63", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok, 63,
        0);
    BAD("indirect size 65", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok, 65,
        0);
    BAD("indirect size > max", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok,
        LUMEN_IB_MAX_SIZE + 64, 0);
    BAD("indirect size 2^63", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok,
        1ull << 63, 0);
    BAD("indirect context 64", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok,
        64, 64);
    BAD("indirect context 2^32", LUMEN_ERR_BAD_CMD, LUMEN_OP_INDIRECT, 0, ok,
        64, 1ull << 32);
    BAD("indirect misaligned", LUMEN_ERR_ALIGN, LUMEN_OP_INDIRECT, 0, ok + 8,
        64, 0);
    BAD("indirect misaligned + bad size", LUMEN_ERR_BAD_CMD,
        LUMEN_OP_INDIRECT, 0, ok + 8, 32, 0);
    BAD("indirect past bus end", LUMEN_ERR_DMA, LUMEN_OP_INDIRECT, 0,
        LUMEN_CTX0_DEVMEM - 64, 128, 0);
    BAD("indirect past devmem", LUMEN_ERR_DEVMEM_RANGE, LUMEN_OP_INDIRECT, 0,
        LUMEN_CTX0_DEVMEM | (FAKE_DEVMEM_SIZE - 64), 128, 0);
    BAD("indirect ctx 1 beyond 2^48", LUMEN_ERR_MMU_FAULT, LUMEN_OP_INDIRECT,
        0, (1ull << 48) - 64, 128, 1);
    BAD("copy size 0", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, 0, ok, ok, 0);
    BAD("copy size 2^40+1", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, 0, ok, ok,
        LUMEN_COPY_MAX_SIZE + 1);
    BAD("copy flag 2", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, 2, ok, ok, 8);
    BAD("copy arg3", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, 0, ok, ok, 8, 1);
    BAD("copy arg6", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, 0, ok, ok, 8, 0, 0, 0,
        1);
    BAD("copy src outside RAM", LUMEN_ERR_DMA, LUMEN_OP_COPY, 0, 0x100, ok, 8);
    BAD("copy devmem src beyond", LUMEN_ERR_DEVMEM_RANGE, LUMEN_OP_COPY, 0,
        LUMEN_CTX0_DEVMEM | (FAKE_DEVMEM_SIZE - 4), ok, 8);
    BAD("copy devmem dst beyond", LUMEN_ERR_DEVMEM_RANGE, LUMEN_OP_COPY, 0,
        ok, LUMEN_CTX0_DEVMEM | (FAKE_DEVMEM_SIZE - 4), 8);
    BAD("copy2d width 0", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, LUMEN_COPY_2D,
        ok, ok + 4096, 0, 1, 8, 8);
    BAD("copy2d height 0", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, LUMEN_COPY_2D,
        ok, ok + 4096, 8, 0, 8, 8);
    BAD("copy2d src pitch < width", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY,
        LUMEN_COPY_2D, ok, ok + 4096, 8, 2, 7, 8);
    BAD("copy2d dst pitch < width", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY,
        LUMEN_COPY_2D, ok, ok + 4096, 8, 2, 8, 7);
    BAD("copy2d total > 2^40", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY,
        LUMEN_COPY_2D, ok, ok + 4096, 1ull << 20, (1ull << 20) + 1,
        1ull << 20, 1ull << 20);
    BAD("copy2d width*height overflows", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY,
        LUMEN_COPY_2D, ok, ok + 4096, 1ull << 32, 1ull << 32, 1ull << 32,
        1ull << 32);
    BAD("copy2d extent overflows", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY,
        LUMEN_COPY_2D, ok, ok + 4096, 8, 3, 1ull << 63, 8);
    BAD("copy2d arg6", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, LUMEN_COPY_2D, ok,
        ok + 4096, 8, 1, 8, 8, 1);
    BAD("copy2d flag 4", LUMEN_ERR_BAD_CMD, LUMEN_OP_COPY, LUMEN_COPY_2D | 4,
        ok, ok + 4096, 8, 1, 8, 8);
    BAD("copy2d dst extent beyond devmem", LUMEN_ERR_DEVMEM_RANGE,
        LUMEN_OP_COPY, LUMEN_COPY_2D, ok, LUMEN_CTX0_DEVMEM, 8, 2,
        8, FAKE_DEVMEM_SIZE);
    BAD("fill size 0", LUMEN_ERR_BAD_CMD, LUMEN_OP_FILL, 0, ok, 0, 7);
    BAD("fill size 2^40+1", LUMEN_ERR_BAD_CMD, LUMEN_OP_FILL, 0, ok,
        LUMEN_COPY_MAX_SIZE + 1, 7);
    BAD("fill flag", LUMEN_ERR_BAD_CMD, LUMEN_OP_FILL, 1, ok, 8, 7);
    BAD("fill arg3", LUMEN_ERR_BAD_CMD, LUMEN_OP_FILL, 0, ok, 8, 7, 1);
    BAD("fill outside RAM", LUMEN_ERR_DMA, LUMEN_OP_FILL, 0, 0x2000, 8, 7);
    BAD("gemm flag", LUMEN_ERR_BAD_CMD, LUMEN_OP_GEMM, 1, ok);
    BAD("gemm arg1", LUMEN_ERR_BAD_CMD, LUMEN_OP_GEMM, 0, ok, 1);
    BAD("softmax arg6", LUMEN_ERR_BAD_CMD, LUMEN_OP_SOFTMAX, 0, ok, 0, 0, 0,
        0, 0, 1);
    BAD("pool misaligned descriptor", LUMEN_ERR_ALIGN, LUMEN_OP_POOL2D, 0,
        ok + 4);
    BAD("conv descriptor outside RAM", LUMEN_ERR_DMA, LUMEN_OP_CONV2D, 0,
        0x40);
    return n;
}

/* Header bytes 2..7, one at a time: BAD_CMD even with a bad opcode. */
TEST(header_reserved_bytes)
{
    FakeDev *f = fake_new();
    uint8_t c[LUMEN_CMD_SIZE];

    for (int byte = 2; byte < 8; byte++) {
        CMD(c, LUMEN_OP_NOP, 0, OPNULL);
        c[byte] = 1;
        EXPECT_EQ(LUMEN_ERR_BAD_CMD, run1(f, c));
        c[0] = 0xee;
        EXPECT_EQ(LUMEN_ERR_BAD_CMD, run1(f, c));
    }
    CMD(c, LUMEN_OP_NOP, 0, OPNULL);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    fake_free(f);
}

/*
 * Every bad command gives its error, the same one each time, from a ring
 * entry and from inside an IB run in context 0; nothing is written.
 */
TEST(bad_commands)
{
    static BadCmd t[128];
    FakeDev *f = fake_new();
    uint64_t ok = fake_alloc(f, 16384), ib = fake_alloc(f, 4096);
    unsigned n = bad_table(t, ok);
    uint8_t entry[LUMEN_CMD_SIZE];

    for (unsigned i = 0; i < n; i++) {
        uint32_t first = run1(f, t[i].bytes);

        EXPECT_EQ(t[i].err, first) TH_LOG("ring entry: %s", t[i].what);
        EXPECT_EQ(first, run1(f, t[i].bytes)) TH_LOG("again: %s", t[i].what);
        EXPECT_EQ(0, f->qx.depth);

        /* Inside an IB (context 0): the same code, except contexts. */
        if (t[i].bytes[0] == LUMEN_OP_INDIRECT) {
            continue;
        }
        fake_put_cmd(f, ib, t[i].bytes);
        CMD(entry, LUMEN_OP_INDIRECT, 0, ib, 64, 0);
        EXPECT_EQ(t[i].err, run1(f, entry)) TH_LOG("in IB: %s", t[i].what);
    }
    for (unsigned j = 0; j < 16384; j++) {
        ASSERT_EQ(0, ((uint8_t *)fake_ptr(f, ok))[j]);
    }
    EXPECT_EQ(0, f->devmem[FAKE_DEVMEM_SIZE - 1]);
    fake_free(f);
}

TEST(operator_on_dma_engine)
{
    FakeDev *f = fake_new();
    uint64_t ok = fake_alloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE];

    f->x.compute = false;
    for (uint8_t op = LUMEN_OP_GEMM; op <= LUMEN_OP_POOL2D; op++) {
        CMD(c, op, 0, ok);
        EXPECT_EQ(LUMEN_ERR_WRONG_ENGINE, run1(f, c));
        /* Before the format checks: flags do not change it. */
        CMD(c, op, 3, ok + 1, 5);
        EXPECT_EQ(LUMEN_ERR_WRONG_ENGINE, run1(f, c));
    }
    CMD(c, 0x27, 0, ok);
    EXPECT_EQ(LUMEN_ERR_BAD_OPCODE, run1(f, c));
    /* The DMA engine runs everything else. */
    CMD(c, LUMEN_OP_FILL, 0, ok, 64, 0x1122334455667788ull);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    EXPECT_EQ(0x1122334455667788ull, fake_ld64(fake_ptr(f, ok + 56)));
    fake_free(f);
}

TEST(nop_fence_timestamp)
{
    FakeDev *f = fake_new();
    uint64_t buf = fake_alloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE];

    CMD(c, LUMEN_OP_NOP, 0, OPNULL);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_FALSE(f->x.raise_irq);

    CMD(c, LUMEN_OP_FENCE, 0, buf + 8, 0xdeadbeefcafef00dull);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(0xdeadbeefcafef00dull, fake_ld64(fake_ptr(f, buf + 8)));
    EXPECT_FALSE(f->x.raise_irq);
    CMD(c, LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, buf + 16, 7);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(7, fake_ld64(fake_ptr(f, buf + 16)));
    EXPECT_TRUE(f->x.raise_irq);
    /* raise_irq is per step. */
    CMD(c, LUMEN_OP_NOP, 0, OPNULL);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_FALSE(f->x.raise_irq);
    /* A failed IRQ fence raises nothing. */
    CMD(c, LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, 0x8, 7);
    EXPECT_EQ(LUMEN_ERR_DMA, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_FALSE(f->x.raise_irq);

    /* FENCE into device memory (context 0, bit 63). */
    CMD(c, LUMEN_OP_FENCE, 0, LUMEN_CTX0_DEVMEM | 0x1008, 99);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(99, fake_ld64(f->devmem + 0x1008));

    f->now = 123456789;
    CMD(c, LUMEN_OP_TIMESTAMP, 0, buf + 24);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(123456789, fake_ld64(fake_ptr(f, buf + 24)));
    EXPECT_EQ(6, f->stats.commands);
    fake_free(f);
}

TEST(wait_blocks_then_proceeds)
{
    FakeDev *f = fake_new();
    uint64_t sem = fake_alloc(f, 4096), ib = fake_alloc(f, 4096);
    uint64_t out = fake_alloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE];

    /* A ring entry WAIT. */
    CMD(c, LUMEN_OP_WAIT, 0, sem, 5);
    fake_st64(fake_ptr(f, sem), 4);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(LUMEN_STEP_BLOCKED, lumen_exec_step(&f->x, &f->qx, c));
    }
    EXPECT_EQ(0, f->stats.commands);
    fake_st64(fake_ptr(f, sem), 5);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    /* Unsigned comparison: 2^63 and 2^64 - 1 are large, not negative. */
    fake_st64(fake_ptr(f, sem), UINT64_MAX);
    CMD(c, LUMEN_OP_WAIT, 0, sem, UINT64_MAX);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    fake_st64(fake_ptr(f, sem), 1ull << 63);
    CMD(c, LUMEN_OP_WAIT, 0, sem, 1);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    CMD(c, LUMEN_OP_WAIT, 0, sem, (1ull << 63) + 1);
    EXPECT_EQ(LUMEN_STEP_BLOCKED, lumen_exec_step(&f->x, &f->qx, c));

    /* In an IB: FENCE 1, WAIT sem >= 10, FENCE 2. */
    fake_st64(fake_ptr(f, sem), 0);
    CMD(c, LUMEN_OP_FENCE, 0, out, 1);
    fake_put_cmd(f, ib, c);
    CMD(c, LUMEN_OP_WAIT, 0, sem, 10);
    fake_put_cmd(f, ib + 64, c);
    CMD(c, LUMEN_OP_FENCE, 0, out + 8, 2);
    fake_put_cmd(f, ib + 128, c);
    CMD(c, LUMEN_OP_INDIRECT, 0, ib, 192, 0);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(1, fake_ld64(fake_ptr(f, out)));
    EXPECT_EQ(LUMEN_STEP_BLOCKED, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(LUMEN_STEP_BLOCKED, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(ib + 64, f->qx.frames[0].addr);
    EXPECT_EQ(0, fake_ld64(fake_ptr(f, out + 8)));
    fake_st64(fake_ptr(f, sem), 10);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    EXPECT_EQ(2, fake_ld64(fake_ptr(f, out + 8)));
    EXPECT_EQ(0, f->qx.depth);

    /* WAIT on device memory. */
    CMD(c, LUMEN_OP_WAIT, 0, LUMEN_CTX0_DEVMEM | 0x40, 1);
    EXPECT_EQ(LUMEN_STEP_BLOCKED, lumen_exec_step(&f->x, &f->qx, c));
    fake_st64(f->devmem + 0x40, 1);
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, c));
    fake_free(f);
}

/* Nested IBs in a user context: order, contexts, step results. */
TEST(indirect_nesting)
{
    FakeDev *f = fake_new();
    uint64_t ib1 = 0x400000, ib2 = 0x500040, out = 0x600000;
    uint64_t outpage = fake_alloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];
    uint64_t steps;

    fake_map_scattered(f, 3, ib1, 4 * 64, 0);
    fake_map_scattered(f, 3, ib2, 64, 0);
    fake_map(f, 3, out, outpage, LUMEN_PTE_WRITABLE);
    /* ib1: FENCE out=1, INDIRECT ib2, FENCE out+16=3, TIMESTAMP out+24. */
    CMD(c, LUMEN_OP_FENCE, 0, out, 1);
    memcpy(fake_va_ptr(f, 3, ib1), c, 64);
    CMD(c, LUMEN_OP_INDIRECT, 0, ib2, 64, 0);
    memcpy(fake_va_ptr(f, 3, ib1 + 64), c, 64);
    CMD(c, LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, out + 16, 3);
    memcpy(fake_va_ptr(f, 3, ib1 + 128), c, 64);
    CMD(c, LUMEN_OP_TIMESTAMP, 0, out + 24);
    memcpy(fake_va_ptr(f, 3, ib1 + 192), c, 64);
    /* ib2: FENCE out+8=2 (last command of a nested IB). */
    CMD(c, LUMEN_OP_FENCE, 0, out + 8, 2);
    memcpy(fake_va_ptr(f, 3, ib2), c, 64);

    CMD(entry, LUMEN_OP_INDIRECT, 0, ib1, 256, 3);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(1, f->qx.depth);
    EXPECT_EQ(3, f->qx.ctx);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(1, fake_ld64(fake_ptr(f, outpage)));
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(2, f->qx.depth);
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_EQ(1, f->qx.depth);
    EXPECT_EQ(2, fake_ld64(fake_ptr(f, outpage + 8)));
    EXPECT_EQ(LUMEN_STEP_MORE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_TRUE(f->x.raise_irq);
    EXPECT_EQ(3, fake_ld64(fake_ptr(f, outpage + 16)));
    EXPECT_EQ(LUMEN_STEP_DONE, lumen_exec_step(&f->x, &f->qx, entry));
    EXPECT_NE(0, fake_ld64(fake_ptr(f, outpage + 24)));
    EXPECT_EQ(0, f->qx.depth);
    EXPECT_EQ(0, f->qx.commands);
    EXPECT_EQ(6, f->stats.commands);

    /* Again in one go. */
    EXPECT_EQ(LUMEN_STEP_DONE, fake_run(f, entry, 100, &steps));
    EXPECT_EQ(6, steps);

    /* A nested INDIRECT naming a context is refused, even its own. */
    CMD(c, LUMEN_OP_INDIRECT, 0, ib2, 64, 3);
    memcpy(fake_va_ptr(f, 3, ib1 + 64), c, 64);
    EXPECT_EQ(LUMEN_ERR_BAD_CMD, run1(f, entry));
    /* The queue state stays on the failing command for the report. */
    EXPECT_EQ(1, f->qx.depth);
    EXPECT_EQ(3, f->qx.ctx);
    EXPECT_EQ(ib1 + 64, f->qx.frames[0].addr);

    /* A fetch fault reports the IB's VA and context, read access. */
    CMD(entry, LUMEN_OP_INDIRECT, 0, 0x700000, 64, 3);
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, run1(f, entry));
    EXPECT_EQ(0x700000, f->x.fault_va);
    EXPECT_EQ(LUMEN_FAULT_NOT_PRESENT | 3 << 16 | 5 << 24, f->x.fault_info);
    /* Context without tables. */
    CMD(entry, LUMEN_OP_INDIRECT, 0, ib1, 64, 4);
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, run1(f, entry));
    EXPECT_EQ(LUMEN_FAULT_BAD_CONTEXT | 4 << 16 | 5 << 24, f->x.fault_info);
    fake_free(f);
}

/* IB chains: 4 levels are fine, a 5th is IB_LIMIT; so is a self-jump. */
TEST(indirect_depth_limit)
{
    FakeDev *f = fake_new();
    uint64_t ib[6], out = fake_alloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];

    for (int i = 0; i < 6; i++) {
        ib[i] = fake_alloc(f, 4096);
    }
    /* ib[i] = INDIRECT ib[i+1]; the innermost writes a fence. */
    for (int depth = 1; depth <= 5; depth++) {
        for (int i = 0; i < depth - 1; i++) {
            CMD(c, LUMEN_OP_INDIRECT, 0, ib[i + 1], 64, 0);
            fake_put_cmd(f, ib[i], c);
        }
        CMD(c, LUMEN_OP_FENCE, 0, out, depth);
        fake_put_cmd(f, ib[depth - 1], c);
        CMD(entry, LUMEN_OP_INDIRECT, 0, ib[0], 64, 0);
        if (depth <= LUMEN_IB_MAX_DEPTH) {
            EXPECT_EQ(LUMEN_STEP_DONE, run1(f, entry));
            EXPECT_EQ(depth, fake_ld64(fake_ptr(f, out)));
        } else {
            EXPECT_EQ(LUMEN_ERR_IB_LIMIT, run1(f, entry));
            EXPECT_EQ(LUMEN_IB_MAX_DEPTH, fake_ld64(fake_ptr(f, out)));
        }
    }

    /* An IB that jumps to itself. */
    CMD(c, LUMEN_OP_INDIRECT, 0, ib[0], 64, 0);
    fake_put_cmd(f, ib[0], c);
    EXPECT_EQ(LUMEN_ERR_IB_LIMIT, run1(f, entry));
    /* ... also as its last command after others. */
    CMD(c, LUMEN_OP_NOP, 0, OPNULL);
    fake_put_cmd(f, ib[0], c);
    CMD(c, LUMEN_OP_INDIRECT, 0, ib[0], 128, 0);
    fake_put_cmd(f, ib[0] + 64, c);
    CMD(entry, LUMEN_OP_INDIRECT, 0, ib[0], 128, 0);
    EXPECT_EQ(LUMEN_ERR_IB_LIMIT, run1(f, entry));
    EXPECT_EQ(LUMEN_IB_MAX_DEPTH, f->qx.depth);
    EXPECT_EQ(ib[0] + 64, f->qx.frames[LUMEN_IB_MAX_DEPTH - 1].addr);
    fake_free(f);
}

/* More than LUMEN_IB_MAX_COMMANDS commands in one entry: IB_LIMIT. */
TEST(indirect_command_budget)
{
    FakeDev *f = fake_new();
    uint64_t big = fake_alloc(f, LUMEN_IB_MAX_SIZE);
    unsigned per_ib = LUMEN_IB_MAX_SIZE / LUMEN_CMD_SIZE;
    unsigned outer_n = LUMEN_IB_MAX_COMMANDS / per_ib + 1;
    uint64_t outer = fake_alloc(f, outer_n * 64);
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];
    uint64_t steps;

    /* big: all NOPs (zero bytes are NOP).  outer: INDIRECT big, n times. */
    CMD(c, LUMEN_OP_INDIRECT, 0, big, LUMEN_IB_MAX_SIZE, 0);
    for (unsigned i = 0; i < outer_n; i++) {
        fake_put_cmd(f, outer + i * 64, c);
    }
    /* 15 full IBs: 15 + 15 * per_ib commands, within the budget. */
    CMD(entry, LUMEN_OP_INDIRECT, 0, outer, 15 * 64, 0);
    EXPECT_EQ(LUMEN_STEP_DONE, fake_run(f, entry, 1u << 22, &steps));
    EXPECT_EQ(1 + 15 + 15ull * per_ib, steps);

    /* One more command than the budget: the entry, the budget, the fail. */
    CMD(entry, LUMEN_OP_INDIRECT, 0, outer, outer_n * 64, 0);
    EXPECT_EQ(LUMEN_ERR_IB_LIMIT, fake_run(f, entry, 1u << 22, &steps));
    EXPECT_EQ((uint64_t)LUMEN_IB_MAX_COMMANDS + 2, steps);
    EXPECT_EQ(2, f->qx.depth);
    EXPECT_EQ(LUMEN_IB_MAX_COMMANDS, f->qx.commands);
    fake_free(f);
}

/* Fill a region with a byte pattern from a seed. */
static void pattern(uint8_t *p, uint64_t n, unsigned seed)
{
    for (uint64_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(i * 131 + seed * 7 + (i >> 8));
    }
}

TEST(copy_1d_ctx0)
{
    FakeDev *f = fake_new();
    uint64_t a = fake_alloc(f, 300000), b = fake_alloc(f, 300000);
    uint8_t c[LUMEN_CMD_SIZE];
    uint8_t *exp = malloc(300000);

    pattern(fake_ptr(f, a), 300000, 1);
    /* Odd offsets and length, several chunks. */
    CMD(c, LUMEN_OP_COPY, 0, a + 3, b + 5, 200001);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    memset(exp, 0, 300000);
    memcpy(exp + 5, (uint8_t *)fake_ptr(f, a) + 3, 200001);
    EXPECT_EQ(0, memcmp(exp, fake_ptr(f, b), 300000));
    EXPECT_LE(f->max_xfer, LUMEN_BUS_MAX_XFER);
    EXPECT_EQ(2 * 200001, f->stats.bytes);

    /* System -> device memory -> device memory -> system. */
    CMD(c, LUMEN_OP_COPY, 0, a, LUMEN_CTX0_DEVMEM | 0x1001, 100000);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    EXPECT_EQ(0, memcmp(f->devmem + 0x1001, fake_ptr(f, a), 100000));
    CMD(c, LUMEN_OP_COPY, 0, LUMEN_CTX0_DEVMEM | 0x1001,
        LUMEN_CTX0_DEVMEM | 0x40000, 100000);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    CMD(c, LUMEN_OP_COPY, 0, LUMEN_CTX0_DEVMEM | 0x40000, b + 7, 100000);
    memset(fake_ptr(f, b), 0, 300000);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    memset(exp, 0, 300000);
    memcpy(exp + 7, fake_ptr(f, a), 100000);
    EXPECT_EQ(0, memcmp(exp, fake_ptr(f, b), 300000));
    free(exp);
    fake_free(f);
}

/* Copies in a user context across scattered pages and both memories. */
TEST(copy_1d_ctx_pages)
{
    FakeDev *f = fake_new();
    uint64_t src = 0x10000000, dst = 0x20000000, dev = 0x30000000;
    uint64_t len = 5 * 4096 + 123, ib = fake_alloc(f, 4096);
    uint64_t devoff = fake_devalloc(f, 8 * 4096);
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];
    uint8_t *exp = malloc(len + 100);

    fake_map_scattered(f, 2, src, len + 100, 0);
    fake_map_scattered(f, 2, dst, len + 100, LUMEN_PTE_WRITABLE);
    fake_map_range(f, 2, dev, devoff, 8 * 4096,
                   LUMEN_PTE_DEVMEM | LUMEN_PTE_WRITABLE);
    for (uint64_t i = 0; i < len + 100; i++) {
        *fake_va_ptr(f, 2, src + i) = (uint8_t)(i * 17 + 3);
    }
    /* src+10 -> dst+50 (page-crossing at different offsets). */
    CMD(c, LUMEN_OP_COPY, 0, src + 10, dst + 50, len);
    fake_put_cmd(f, ib, c);
    /* dst+50 -> devmem+1, then devmem+1 -> dst (whole thing again). */
    CMD(c, LUMEN_OP_COPY, 0, dst + 50, dev + 1, len);
    fake_put_cmd(f, ib + 64, c);
    fake_map(f, 2, 0x50000000, ib, 0);
    CMD(entry, LUMEN_OP_INDIRECT, 0, 0x50000000, 128, 2);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, entry));
    for (uint64_t i = 0; i < len + 50; i++) {
        uint8_t want = i < 50 ? 0 : (uint8_t)((i - 50 + 10) * 17 + 3);

        ASSERT_EQ(want, *fake_va_ptr(f, 2, dst + i)) TH_LOG("dst byte %lu",
                                                            (unsigned long)i);
    }
    for (uint64_t i = 0; i < len; i++) {
        ASSERT_EQ((uint8_t)((i + 10) * 17 + 3), f->devmem[devoff + 1 + i]);
    }
    EXPECT_EQ(0, f->devmem[devoff]);
    EXPECT_EQ(0, f->devmem[devoff + 1 + len]);

    /* Into a read-only page: a write fault at its first byte. */
    fake_map(f, 2, 0x40000000, fake_alloc(f, 4096), LUMEN_PTE_WRITABLE);
    fake_map(f, 2, 0x40001000, fake_alloc(f, 4096), 0);
    CMD(c, LUMEN_OP_COPY, 0, src, 0x40000800, 4096);
    fake_put_cmd(f, ib, c);
    CMD(entry, LUMEN_OP_INDIRECT, 0, 0x50000000, 64, 2);
    EXPECT_EQ(LUMEN_ERR_MMU_FAULT, run1(f, entry));
    EXPECT_EQ(0x40001000, f->x.fault_va);
    EXPECT_EQ(LUMEN_FAULT_READ_ONLY | LUMEN_FAULT_INFO_WRITE | 2 << 16 |
              5 << 24, f->x.fault_info);
    free(exp);
    fake_free(f);
}

TEST(copy_2d)
{
    FakeDev *f = fake_new();
    uint64_t a = fake_alloc(f, 65536), b = fake_alloc(f, 65536);
    uint64_t w = 37, h = 11, sp = 100, dp = 4000;
    uint8_t c[LUMEN_CMD_SIZE];
    uint8_t *exp = calloc(1, 65536);
    const uint8_t *s = fake_ptr(f, a);

    pattern(fake_ptr(f, a), 65536, 2);
    CMD(c, LUMEN_OP_COPY, LUMEN_COPY_2D, a + 1, b + 3, w, h, sp, dp);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    for (uint64_t r = 0; r < h; r++) {
        memcpy(exp + 3 + r * dp, s + 1 + r * sp, w);
    }
    EXPECT_EQ(0, memcmp(exp, fake_ptr(f, b), 65536));
    EXPECT_EQ(2 * w * h, f->stats.bytes);

    /* Pitch == width is a plain copy; height 1 ignores the pitch. */
    memset(fake_ptr(f, b), 0, 65536);
    CMD(c, LUMEN_OP_COPY, LUMEN_COPY_2D, a, b, 64, 10, 64, 64);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    EXPECT_EQ(0, memcmp(fake_ptr(f, a), fake_ptr(f, b), 640));
    EXPECT_EQ(0, ((uint8_t *)fake_ptr(f, b))[640]);

    /* Into device memory (2D scatter), then back with another pitch. */
    CMD(c, LUMEN_OP_COPY, LUMEN_COPY_2D, a, LUMEN_CTX0_DEVMEM | 0x10000, 16,
        4, 16, 4096);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    for (int r = 0; r < 4; r++) {
        EXPECT_EQ(0, memcmp(f->devmem + 0x10000 + r * 4096, s + r * 16, 16));
        EXPECT_EQ(0, f->devmem[0x10000 + r * 4096 + 16]);
    }
    free(exp);
    fake_free(f);
}

TEST(fill)
{
    FakeDev *f = fake_new();
    uint64_t a = fake_alloc(f, 200000), va = 0x3000000;
    uint64_t pat = 0x0807060504030201ull;
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];
    uint64_t ib = fake_alloc(f, 4096);
    const uint8_t *p = fake_ptr(f, a);

    /* Unaligned start: byte i of dst is byte i % 8 of the pattern. */
    CMD(c, LUMEN_OP_FILL, 0, a + 3, 150001, pat);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    EXPECT_EQ(0, p[2]);
    for (uint64_t i = 0; i < 150001; i++) {
        ASSERT_EQ((uint8_t)(i % 8 + 1), p[3 + i]);
    }
    EXPECT_EQ(0, p[3 + 150001]);

    /*
     * A context, scattered pages, device memory; the start is not
     * 8-aligned so that every run after the first starts mid-pattern.
     */
    fake_map_scattered(f, 6, va, 3 * 4096, LUMEN_PTE_WRITABLE);
    fake_map(f, 6, va + 3 * 4096, 0x5000, LUMEN_PTE_DEVMEM |
             LUMEN_PTE_WRITABLE);
    CMD(c, LUMEN_OP_FILL, 0, va + 4001, 3 * 4096, 0xa1b2c3d4e5f60718ull);
    fake_put_cmd(f, ib, c);
    fake_map(f, 6, 0x50000000, ib, 0);
    CMD(entry, LUMEN_OP_INDIRECT, 0, 0x50000000, 64, 6);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, entry));
    for (uint64_t i = 0; i < 3 * 4096; i++) {
        ASSERT_EQ((uint8_t)(0xa1b2c3d4e5f60718ull >> (8 * (i % 8))),
                  *fake_va_ptr(f, 6, va + 4001 + i));
    }
    EXPECT_EQ(0, *fake_va_ptr(f, 6, va + 4000));
    EXPECT_EQ(0, *fake_va_ptr(f, 6, va + 4001 + 3 * 4096));
    fake_free(f);
}

/* A reset during a long copy stops it between chunks. */
TEST(cancel_stops_copy)
{
    FakeDev *f = fake_new();
    uint64_t a = fake_alloc(f, 1 << 20), b = fake_alloc(f, 1 << 20);
    uint8_t c[LUMEN_CMD_SIZE];
    uint64_t copied = 0;

    pattern(fake_ptr(f, a), 1 << 20, 3);
    f->cancel_after = 2;
    CMD(c, LUMEN_OP_COPY, 0, a, b, 1 << 20);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, c));
    for (uint64_t i = 0; i < (1 << 20); i++) {
        copied += ((uint8_t *)fake_ptr(f, b))[i] ==
                  ((uint8_t *)fake_ptr(f, a))[i];
    }
    /* Three chunks at most went through, and the rest did not. */
    EXPECT_LE(copied, 3 * LUMEN_BUS_MAX_XFER + (1 << 20) / 128);
    EXPECT_GE(copied, 3 * LUMEN_BUS_MAX_XFER);
    EXPECT_EQ(0, f->qx.depth);

    /* FILL and 2D copies poll too. */
    f->cancel_after = 0;
    CMD(c, LUMEN_OP_FILL, 0, b, 1 << 20, 0);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, c));
    f->cancel_after = 0;
    CMD(c, LUMEN_OP_COPY, LUMEN_COPY_2D, a, b, 16, 1000, 64, 64);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, c));
    /* A single chunk completes whatever the poll says. */
    f->cancel_after = 0;
    CMD(c, LUMEN_OP_COPY, 0, a, b, 4096);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    fake_free(f);
}

/*
 * Every store to device memory is bracketed by write_begin/write_end with
 * no other bus call inside; a denied write_begin (queue reset) cancels
 * the step and stores nothing.
 */
TEST(devmem_writes_bracketed)
{
    FakeDev *f = fake_new();
    uint64_t a = fake_alloc(f, 1 << 18), ib = fake_alloc(f, 4096);
    uint8_t c[LUMEN_CMD_SIZE], entry[LUMEN_CMD_SIZE];
    uint8_t zero[4096] = { 0 };

    pattern(fake_ptr(f, a), 1 << 18, 4);
    /* Bus -> devmem (several chunks), devmem -> devmem, FILL, FENCE. */
    CMD(c, LUMEN_OP_COPY, 0, a, LUMEN_CTX0_DEVMEM | 0x1000, 200000);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    EXPECT_EQ(0, memcmp(f->devmem + 0x1000, fake_ptr(f, a), 200000));
    EXPECT_GE(f->devmem_writes, 4);
    CMD(c, LUMEN_OP_COPY, 0, LUMEN_CTX0_DEVMEM | 0x1000,
        LUMEN_CTX0_DEVMEM | 0x40000, 5000);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    CMD(c, LUMEN_OP_FILL, 0, LUMEN_CTX0_DEVMEM | 0x80000, 100, 1);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    CMD(c, LUMEN_OP_FENCE, 0, LUMEN_CTX0_DEVMEM | 0x90000, 1);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    EXPECT_EQ(0, f->violations);
    EXPECT_FALSE(f->in_devmem_write);

    /* Denied: every kind of devmem store is cancelled, nothing lands. */
    f->deny_devmem = true;
    CMD(c, LUMEN_OP_COPY, 0, a, LUMEN_CTX0_DEVMEM | 0xa0000, 4096);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, c));
    CMD(c, LUMEN_OP_FILL, 0, LUMEN_CTX0_DEVMEM | 0xa0000, 4096, 7);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, c));
    CMD(c, LUMEN_OP_FENCE, 0, LUMEN_CTX0_DEVMEM | 0xa0000, 7);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, c));
    CMD(c, LUMEN_OP_TIMESTAMP, 0, LUMEN_CTX0_DEVMEM | 0xa0000);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, c));
    /* Through a DEVMEM PTE inside an IB. */
    fake_map(f, 2, 0x800000, 0xa0000, LUMEN_PTE_DEVMEM | LUMEN_PTE_WRITABLE);
    fake_map(f, 2, 0x900000, ib, 0);
    CMD(c, LUMEN_OP_FILL, 0, 0x800000, 64, 7);
    fake_put_cmd(f, ib, c);
    CMD(entry, LUMEN_OP_INDIRECT, 0, 0x900000, 64, 2);
    EXPECT_EQ(LUMEN_STEP_CANCELLED, run1(f, entry));
    EXPECT_EQ(0, memcmp(f->devmem + 0xa0000, zero, sizeof(zero)));
    /* System memory is not affected by write_begin. */
    CMD(c, LUMEN_OP_FENCE, 0, a, 7);
    EXPECT_EQ(LUMEN_STEP_DONE, run1(f, c));
    EXPECT_EQ(0, f->violations);
    fake_free(f);
}

/* A bus write failing mid-copy is LUMEN_ERR_DMA. */
TEST(dma_error_mid_copy)
{
    FakeDev *f = fake_new();
    uint64_t a = fake_alloc(f, 1 << 18), b = fake_alloc(f, 1 << 18);
    uint8_t c[LUMEN_CMD_SIZE];

    f->fail_write_at = b + 100000;
    CMD(c, LUMEN_OP_COPY, 0, a, b, 1 << 18);
    EXPECT_EQ(LUMEN_ERR_DMA, run1(f, c));
    fake_free(f);
}

TEST_HARNESS_MAIN
