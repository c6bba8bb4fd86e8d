/* SPDX-License-Identifier: MIT */
/*
 * A fake device for the command core's host tests: "guest RAM" and device
 * memory in malloc'd buffers, a bus over them that refuses anything
 * outside RAM, page tables the tests build themselves, and helpers to
 * encode commands and run a ring entry to its end.
 */
#ifndef LUMEN_TESTS_CORE_FAKEBUS_H
#define LUMEN_TESTS_CORE_FAKEBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "lumen-core.h"

/* RAM sits at this bus address, so that small addresses are not RAM. */
#define FAKE_RAM_BASE       0x10000000ull
#define FAKE_RAM_SIZE       (48ull << 20)
#define FAKE_DEVMEM_SIZE    (8ull << 20)

typedef struct FakeDev {
    uint8_t *ram;
    uint8_t *devmem;
    uint64_t next_page;         /* bump allocator over RAM (bus address) */
    uint64_t next_devmem;       /* bump allocator over device memory */

    LumenBus bus;
    LumenMmu mmu;
    LumenTlb tlb;
    LumenStats stats;
    LumenExec x;
    LumenQueueExec qx;

    /* Bus behaviour and observations. */
    int cancel_after;           /* polls answered "no" before "yes"; <0 never */
    unsigned polls;
    unsigned reads, writes;     /* bus calls */
    uint64_t max_xfer;          /* longest bus access seen */
    uint64_t now;               /* timestamp() returns now++ */
    uint64_t fail_write_at;     /* a write touching this address fails */
    bool deny_devmem;           /* write_begin says "cancelled" */
    bool in_devmem_write;       /* between write_begin and write_end */
    unsigned devmem_writes;     /* write_begin calls */
    unsigned violations;        /* callbacks inside a devmem write */
} FakeDev;

FakeDev *fake_new(void);
void fake_free(FakeDev *f);

/* @bytes of zeroed RAM, page-aligned; returns its bus address. */
uint64_t fake_alloc(FakeDev *f, uint64_t bytes);
/* @bytes of zeroed device memory, page-aligned; returns the offset. */
uint64_t fake_devalloc(FakeDev *f, uint64_t bytes);
/* Host pointer of a bus address in RAM (asserts it is). */
void *fake_ptr(FakeDev *f, uint64_t bus_addr);

/* Give @ctx a root table (if it has none) and return its bus address. */
uint64_t fake_root(FakeDev *f, unsigned ctx);
/*
 * The PTE slot for @va at @level (3 = root .. 0 = leaf), creating the
 * tables above it; NULL if @create is false and a table is missing.
 */
uint64_t *fake_slot(FakeDev *f, unsigned ctx, uint64_t va, int level,
                    bool create);
/* Map one page: leaf = target | flags | VALID. */
void fake_map(FakeDev *f, unsigned ctx, uint64_t va, uint64_t target,
              uint64_t flags);
/* Map @len bytes at @va to consecutive pages at @target. */
void fake_map_range(FakeDev *f, unsigned ctx, uint64_t va, uint64_t target,
                    uint64_t len, uint64_t flags);
/*
 * Back [va, va + len) of @ctx with freshly allocated RAM pages that are
 * deliberately NOT physically consecutive; returns nothing, use
 * fake_va_ptr() to reach a byte.
 */
void fake_map_scattered(FakeDev *f, unsigned ctx, uint64_t va, uint64_t len,
                        uint64_t flags);
/* Host pointer of the byte at @va of @ctx (walks the test's own tables). */
uint8_t *fake_va_ptr(FakeDev *f, unsigned ctx, uint64_t va);

/* Encode a command. */
void cmd_make(uint8_t out[LUMEN_CMD_SIZE], uint8_t opcode, uint8_t flags,
              const uint64_t args[LUMEN_CMD_ARGS]);
#define CMD(out, op, fl, ...) \
    cmd_make(out, op, fl, (const uint64_t[LUMEN_CMD_ARGS]) { __VA_ARGS__ })
/* Write a command at bus address @addr. */
void fake_put_cmd(FakeDev *f, uint64_t addr, const uint8_t cmd[LUMEN_CMD_SIZE]);

/*
 * Start the ring entry @entry afresh and step it until it is DONE or
 * fails, at most @max_steps steps; returns the last status
 * (LUMEN_STEP_DONE on success), and the steps taken in *steps if non-NULL.
 */
uint32_t fake_run(FakeDev *f, const uint8_t entry[LUMEN_CMD_SIZE],
                  uint64_t max_steps, uint64_t *steps);

uint64_t fake_ld64(const void *p);
void fake_st64(void *p, uint64_t v);

#endif
