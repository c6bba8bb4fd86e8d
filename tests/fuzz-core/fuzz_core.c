// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the device's command core (tools/qemu/core).
 *
 * The input is a memory image and a few ring entries (layout below;
 * gen-seeds.py writes meaningful ones).  The target copies the image into
 * a small "guest RAM", gives contexts 1 and 2 page-table roots inside it
 * and context 3 a root straight from the input, and steps every ring
 * entry through lumen_exec_step() with a step cap.  Byte 4 may bind the
 * queue to context 1..3 (a direct queue, device 1.1): then each ring entry
 * is fetched through that context from the ring VA the header gives
 * (lumen_exec_fetch_entry()) instead of being taken from the input, and
 * every fault must name that context.  The bus checks what
 * the core asks of it (lengths, alignment of 8-byte accesses) and aborts
 * on anything the core's contract forbids; device memory is a buffer of
 * exactly its size, so AddressSanitizer catches any access beyond it.
 * After every step the target checks the step's result and outputs.
 *
 * Input layout (little endian):
 *   0      u8   flags: bit 0 compute engine, bit 1 invalidate all between
 *                 entries, bit 2 retry a blocked WAIT once after a store
 *   1      u8   ring entries (1 + value % FUZZ_MAX_ENTRIES)
 *   2      u8   injected MMU faults (value % 4)
 *   3      u8   queue number for fault reports
 *   4      u8   ring context (value % 4): 0 a kernel queue, else the
 *                 context a direct queue is bound to
 *   5..7   u24  a direct queue's ring VA >> 12 (ignored for a kernel queue)
 *   8      u64  context 3's root register
 *   16     ring entries, 64 bytes each (a direct queue reads its own)
 *   then   the RAM image, copied to FUZZ_RAM_BASE (the rest is zero)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lumen-core.h"

#define FUZZ_RAM_BASE       0x100000ull
#define FUZZ_RAM_SIZE       (128u * 1024)
#define FUZZ_DEVMEM_SIZE    (64u * 1024)
#define FUZZ_MAX_ENTRIES    8
#define FUZZ_HEADER         16
#define FUZZ_MAX_STEPS      4096    /* per input */
#define FUZZ_MAX_POLLS      64      /* per entry: then a "queue reset" */

typedef struct Fuzz {
    uint8_t ram[FUZZ_RAM_SIZE];
    uint8_t *devmem;
    unsigned polls;
    uint64_t now;
    bool in_devmem_write;       /* between write_begin and write_end */
} Fuzz;

static Fuzz fz;
static int fz_trace = -1;       /* FUZZ_CORE_TRACE=1: print each entry's end */

static void fuzz_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz-core: contract violated: %s\n", what);
        abort();
    }
}

/* The core's side of the bus contract; the guest's mistakes are DMA. */
static uint32_t fuzz_access(uint64_t addr, uint64_t len, uint8_t **p)
{
    fuzz_check(!fz.in_devmem_write, "bus access inside a devmem write");
    fuzz_check(len >= 1 && len <= LUMEN_BUS_MAX_XFER, "bus length");
    if (addr < FUZZ_RAM_BASE || addr - FUZZ_RAM_BASE > FUZZ_RAM_SIZE ||
        len > FUZZ_RAM_SIZE - (addr - FUZZ_RAM_BASE)) {
        return LUMEN_ERR_DMA;
    }
    *p = fz.ram + (addr - FUZZ_RAM_BASE);
    return LUMEN_ERR_NONE;
}

static uint32_t fuzz_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    uint8_t *p;
    uint32_t err = fuzz_access(addr, len, &p);

    (void)opaque;
    if (err == LUMEN_ERR_NONE) {
        memcpy(buf, p, len);
    }
    return err;
}

static uint32_t fuzz_write(void *opaque, uint64_t addr, const void *buf,
                           uint64_t len)
{
    uint8_t *p;
    uint32_t err = fuzz_access(addr, len, &p);

    (void)opaque;
    if (err == LUMEN_ERR_NONE) {
        memmove(p, buf, len);
    }
    return err;
}

/* A long copy is "reset" after FUZZ_MAX_POLLS polls, as a watchdog would. */
static bool fuzz_cancelled(void *opaque)
{
    (void)opaque;
    fuzz_check(!fz.in_devmem_write, "poll inside a devmem write");
    return ++fz.polls > FUZZ_MAX_POLLS;
}

static uint64_t fuzz_timestamp(void *opaque)
{
    (void)opaque;
    fuzz_check(!fz.in_devmem_write, "timestamp inside a devmem write");
    return fz.now++;
}

/* Device-memory stores count against the same "reset" budget. */
static bool fuzz_write_begin(void *opaque)
{
    (void)opaque;
    fuzz_check(!fz.in_devmem_write, "nested devmem write");
    if (++fz.polls > FUZZ_MAX_POLLS) {
        return false;
    }
    fz.in_devmem_write = true;
    return true;
}

static void fuzz_write_end(void *opaque)
{
    (void)opaque;
    fuzz_check(fz.in_devmem_write, "write_end without write_begin");
    fz.in_devmem_write = false;
}

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* A fault report: reason, context, queue, VA. */
static void fuzz_check_fault(const LumenExec *x, unsigned queue)
{
    unsigned reason = LUMEN_FAULT_INFO_REASON(x->fault_info);

    fuzz_check(reason >= LUMEN_FAULT_NOT_PRESENT &&
               reason <= LUMEN_FAULT_INJECTED, "fault reason");
    fuzz_check(LUMEN_FAULT_INFO_CONTEXT(x->fault_info) >= 1 &&
               LUMEN_FAULT_INFO_CONTEXT(x->fault_info) <
               LUMEN_NUM_CONTEXTS, "fault context");
    /* Nothing of a direct queue runs outside its context. */
    fuzz_check(x->ring_ctx == 0 ||
               LUMEN_FAULT_INFO_CONTEXT(x->fault_info) == x->ring_ctx,
               "fault outside the direct queue's context");
    fuzz_check(LUMEN_FAULT_INFO_QUEUE(x->fault_info) == queue,
               "fault queue");
    fuzz_check((x->fault_info & 0xfe00) == 0, "fault info reserved bits");
    fuzz_check(reason == LUMEN_FAULT_VA_RANGE ||
               x->fault_va < (1ull << LUMEN_VA_BITS), "fault VA");
}

/* What a step may return, and what it leaves behind. */
static void fuzz_check_step(const LumenExec *x, const LumenQueueExec *qx,
                            uint32_t ret, unsigned queue)
{
    bool is_err = ret < 0x100;

    fuzz_check(is_err || ret == LUMEN_STEP_DONE || ret == LUMEN_STEP_MORE ||
               ret == LUMEN_STEP_BLOCKED || ret == LUMEN_STEP_CANCELLED,
               "step result");
    fuzz_check(ret != LUMEN_ERR_NONE, "LUMEN_ERR_NONE is not a step result");
    fuzz_check(qx->depth <= LUMEN_IB_MAX_DEPTH, "IB depth");
    fuzz_check(qx->ctx < LUMEN_NUM_CONTEXTS, "IB context");
    fuzz_check(qx->commands <= LUMEN_IB_MAX_COMMANDS, "IB budget");
    fuzz_check(x->ring_ctx == 0 || qx->depth == 0 || qx->ctx == x->ring_ctx,
               "IB of a direct queue outside its context");
    if (ret == LUMEN_STEP_MORE) {
        fuzz_check(qx->depth > 0, "MORE without an IB");
    }
    if (ret == LUMEN_STEP_DONE) {
        fuzz_check(qx->depth == 0 && qx->commands == 0, "entry not reset");
    }
    if (x->raise_irq) {
        fuzz_check(ret == LUMEN_STEP_DONE || ret == LUMEN_STEP_MORE,
                   "IRQ from a failed step");
    }
    if (ret == LUMEN_ERR_MMU_FAULT) {
        fuzz_check_fault(x, queue);
    } else {
        fuzz_check(x->fault_info == 0, "fault info without a fault");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static LumenMmu mmu;
    static LumenTlb tlb;
    LumenStats stats = { 0 };
    LumenBus bus;
    LumenExec x;
    LumenQueueExec qx;
    unsigned flags, entries, steps = 0;
    uint64_t ring_va;
    size_t img;

    if (fz_trace < 0) {
        fz_trace = getenv("FUZZ_CORE_TRACE") != NULL;
    }
    if (size < FUZZ_HEADER + LUMEN_CMD_SIZE) {
        return -1;      /* not even one entry: not worth keeping */
    }
    flags = data[0];
    entries = 1 + data[1] % FUZZ_MAX_ENTRIES;
    if (size < FUZZ_HEADER + (size_t)entries * LUMEN_CMD_SIZE) {
        entries = (size - FUZZ_HEADER) / LUMEN_CMD_SIZE;
    }
    img = size - FUZZ_HEADER - (size_t)entries * LUMEN_CMD_SIZE;
    if (img > FUZZ_RAM_SIZE) {
        img = FUZZ_RAM_SIZE;
    }
    memset(fz.ram, 0, sizeof(fz.ram));
    memcpy(fz.ram, data + FUZZ_HEADER + entries * LUMEN_CMD_SIZE, img);
    if (!fz.devmem) {
        fz.devmem = malloc(FUZZ_DEVMEM_SIZE);
        fuzz_check(fz.devmem != NULL, "malloc");
    }
    memset(fz.devmem, 0, FUZZ_DEVMEM_SIZE);
    fz.now = 0;

    bus = (LumenBus) {
        .read = fuzz_read, .write = fuzz_write, .cancelled = fuzz_cancelled,
        .timestamp = fuzz_timestamp, .write_begin = fuzz_write_begin,
        .write_end = fuzz_write_end, .devmem = fz.devmem,
        .devmem_size = FUZZ_DEVMEM_SIZE,
    };
    lumen_mmu_reset(&mmu);
    lumen_tlb_flush(&tlb);
    lumen_mmu_set_root(&mmu, 1, FUZZ_RAM_BASE | LUMEN_MMU_ROOT_VALID);
    lumen_mmu_set_root(&mmu, 2, (FUZZ_RAM_BASE + 0x1000) |
                       LUMEN_MMU_ROOT_VALID);
    lumen_mmu_set_root(&mmu, 3, ld64(data + 8));
    mmu.inject_faults = data[2] % 4;
    x = (LumenExec) {
        .bus = &bus, .mmu = &mmu, .tlb = &tlb, .queue = data[3] % 64,
        .compute = flags & 1, .stats = &stats, .ring_ctx = data[4] % 4,
    };
    ring_va = (uint64_t)(data[5] | data[6] << 8 | data[7] << 16) << 12;

    for (unsigned e = 0; e < entries && steps < FUZZ_MAX_STEPS; e++) {
        const uint8_t *entry = data + FUZZ_HEADER + e * LUMEN_CMD_SIZE;
        uint8_t fetched[LUMEN_CMD_SIZE];
        bool retried = false;

        lumen_queue_exec_reset(&qx);
        fz.polls = 0;
        if (x.ring_ctx) {
            uint64_t va = ring_va + (uint64_t)e * LUMEN_CMD_SIZE;
            uint32_t ret = lumen_exec_fetch_entry(&x, va, fetched);

            steps++;
            fuzz_check(!fz.in_devmem_write, "devmem write left open");
            if (fz_trace) {
                fprintf(stderr, "fetch %u: %#x fault %#x at %#llx\n", e, ret,
                        x.fault_info, (unsigned long long)x.fault_va);
            }
            if (ret != LUMEN_ERR_NONE) {
                /* The queue stops on its first failed fetch. */
                fuzz_check(ret == LUMEN_ERR_DMA || ret == LUMEN_ERR_MMU_FAULT,
                           "fetch result");
                if (ret == LUMEN_ERR_MMU_FAULT) {
                    fuzz_check_fault(&x, x.queue);
                    fuzz_check(x.fault_va == va, "fetch fault VA");
                } else {
                    fuzz_check(x.fault_info == 0, "fetch fault info");
                }
                break;
            }
            fuzz_check(x.fault_info == 0, "fault info without a fault");
            entry = fetched;
        }
        while (steps++ < FUZZ_MAX_STEPS) {
            uint32_t ret = lumen_exec_step(&x, &qx, entry);

            fuzz_check(!fz.in_devmem_write, "devmem write left open");
            fuzz_check_step(&x, &qx, ret, x.queue);
            if (ret == LUMEN_STEP_MORE) {
                continue;
            }
            if (fz_trace) {
                fprintf(stderr, "entry %u: %#x fault %#x at %#llx\n", e, ret,
                        x.fault_info, (unsigned long long)x.fault_va);
            }
            if (ret == LUMEN_STEP_BLOCKED && (flags & 4) && !retried) {
                /* Release every semaphore and try again. */
                memset(fz.ram + FUZZ_RAM_SIZE - 4096, 0xff, 4096);
                memset(fz.devmem + FUZZ_DEVMEM_SIZE - 4096, 0xff, 4096);
                retried = true;
                continue;
            }
            break;
        }
        if (flags & 2) {
            lumen_mmu_invalidate_all(&mmu);
        }
    }
    fuzz_check(stats.faults <= steps, "fault count");
    return 0;
}
