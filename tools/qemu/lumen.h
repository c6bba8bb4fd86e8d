/*
 * Lumen PCIe inference accelerator: device model state
 *
 * Copyright (c) 2025-2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The programming model is specified in Lumen's Documentation/device.rst;
 * the register map and command formats come, unchanged, from the driver's
 * lumen_regs.h.  What a command does to memory is decided by the
 * QEMU-independent command core (lumen-core.h, tools/qemu/core/), which
 * also runs under host unit tests and a fuzzer; these files are the glue
 * that makes it a PCIe device.
 *
 * Files:
 *   lumen.c         PCI function: BARs, capabilities, properties, reset,
 *                   interrupts, queue errors
 *   lumen-mmio.c    BAR0 registers and BAR4 doorbells
 *   lumen-engine.c  engine threads: scheduling queues over the core,
 *                   parking queues blocked in a WAIT, quiescing
 *   lumen-dma.c     the core's bus: every access to guest memory, the
 *                   write protocol that makes resets final, fault
 *                   injection of DMA errors
 *
 * Locking: LumenState.lock protects all register and queue state below.
 * Engine threads hold it only to pick a command, to start and finish a
 * bus write and to retire a command; never while they compute, and they
 * never take the BQL.  MMIO handlers run under the BQL and take the lock
 * for each access.  Lock order: BQL, then LumenState.lock.
 */

#ifndef HW_MISC_LUMEN_H
#define HW_MISC_LUMEN_H

#include "qemu/units.h"
#include "hw/pci/pci_device.h"
#include "qemu/thread.h"
#include "qom/object.h"
#include "lumen_regs.h"
#include "lumen-core.h"

#define TYPE_LUMEN "lumen"
OBJECT_DECLARE_SIMPLE_TYPE(LumenState, LUMEN)

/* Defaults of the device properties. */
#define LUMEN_DEFAULT_CORES         4
#define LUMEN_DEFAULT_QUEUES        16
#define LUMEN_DEFAULT_MEM           (256 * MiB)
#define LUMEN_MIN_MEM               (1 * MiB)
#define LUMEN_MAX_MEM               (16 * GiB)

/* At most this many steps of one queue per engine turn (fairness). */
#define LUMEN_ENGINE_BATCH          64
/*
 * A queue blocked in a WAIT is retried when any engine retires a command
 * that moved data (which may have released it) and otherwise after this
 * many ms (a CPU write to the semaphore raises no event the device could
 * see).
 */
#define LUMEN_WAIT_RETRY_MS         1

typedef struct LumenQueue {
    /* Registers. */
    uint64_t ring_base;
    uint32_t ring_size;
    bool enabled;               /* LUMEN_Q_CONTROL_ENABLE */
    uint32_t head;
    uint32_t tail;
    uint32_t error;             /* LUMEN_ERR_*, LUMEN_ERR_NONE if running */
    uint32_t error_head;
    uint32_t engine;
    uint64_t completed;
    uint64_t fault_va;          /* LUMEN_Q_FAULT_VA */
    uint32_t fault_info;        /* LUMEN_Q_FAULT_INFO */
    uint32_t context;           /* LUMEN_Q_CONTEXT of a kernel queue */
    /*
     * LUMEN_QUEUE_CTX: 0 for a kernel queue, else the context a direct
     * queue is bound to.  Changes only while the queue is disabled, so a
     * step reads it once, under the lock, when it starts.
     */
    uint32_t ring_ctx;

    /*
     * Bumped whenever the queue is disabled or reset.  A command of an
     * older epoch is abandoned: it polls the epoch between chunks, its bus
     * writes are refused, and it never retires.
     */
    uint32_t epoch;

    /* An engine is in lumen_exec_step() for this queue, since @active_epoch. */
    bool active;
    uint32_t active_epoch;
    /* An engine is writing guest memory for this queue (lumen-dma.c). */
    bool writing;

    /* Blocked in a WAIT: retry when s->progress moves or at @wait_deadline. */
    bool waiting;
    uint64_t wait_progress;
    int64_t wait_deadline;      /* QEMU_CLOCK_REALTIME ms */

    /* Fault injection: the next ring entry never completes. */
    bool hang;

    /*
     * Progress through the current ring entry: used by the engine that has
     * @active set, without the lock.  It belongs to epoch @qx_epoch; a
     * pick in a newer epoch starts it afresh (a reset never touches it,
     * since an abandoned step may still be using it).  @in_entry and
     * @context mirror it for the register file.
     */
    LumenQueueExec qx;
    uint32_t qx_epoch;
    bool in_entry;
} LumenQueue;

typedef struct LumenEngine {
    LumenState *dev;
    unsigned index;
    bool compute;               /* index < num_cores: runs operators */
    QemuThread thread;
    QemuCond wake;              /* work may be available, or stop */
    unsigned next_queue;        /* round-robin cursor */

    /* The core's view: used by the engine thread only. */
    LumenBus bus;
    LumenTlb tlb;
    LumenStats stats;
    LumenQueue *cur;            /* queue of the step in progress */
    uint32_t cur_epoch;
    int64_t busy_ns;

    /* LumenState.perf_gen that @stats and @busy_ns count for. */
    uint32_t stats_gen;
    /* Published under the lock after every step (LUMEN_PERF_*). */
    LumenStats perf;
    uint64_t perf_busy_ns;
} LumenEngine;

/* Bus address window of one of our BARs, as last programmed. */
typedef struct LumenBarWindow {
    uint64_t base;
    uint64_t size;              /* 0: not mapped */
} LumenBarWindow;

struct LumenState {
    PCIDevice parent_obj;

    /* Properties. */
    uint32_t num_cores;
    uint32_t num_queues;
    uint64_t mem_size;
    bool fault_injection;

    MemoryRegion mmio;          /* BAR0 (MSI-X table and PBA inside) */
    MemoryRegion devmem;        /* BAR2, RAM */
    MemoryRegion doorbells;     /* BAR4 */
    uint8_t *devmem_ptr;

    QemuMutex lock;
    QemuCond idle;              /* a step ended or a bus write finished */
    bool engines_started;
    bool stopping;              /* unrealize: engine threads must exit */
    unsigned num_engines;       /* num_cores + 1 (the DMA engine) */
    LumenEngine engines[LUMEN_MAX_ENGINES];
    /* Commands retired by any engine: wakes queues parked in a WAIT. */
    uint64_t progress;
    /* Bumped by every global reset: engines restart their counters. */
    uint32_t perf_gen;

    /* Device MMU: roots and generations, shared with the engines. */
    LumenMmu mmu;

    /* Global registers. */
    bool enabled;               /* LUMEN_CONTROL_ENABLE */
    bool fatal;                 /* LUMEN_STATUS_FATAL */
    uint32_t scratch;
    uint64_t irq_status;
    uint64_t irq_mask;
    uint64_t error_queues;
    int64_t timestamp_base;     /* QEMU_CLOCK_VIRTUAL at reset */
    uint32_t fault_status;      /* LUMEN_REG_FAULT_STATUS */
    uint32_t fault_info;
    uint64_t fault_va;

    /* Fault injection (fault-injection=on only). */
    uint32_t fi_drop_irq;       /* queue vectors left to drop */
    uint32_t fi_fail_dma;       /* bus accesses left to fail (atomic) */

    LumenQueue queues[LUMEN_MAX_QUEUES];

    /* MSI-X vectors to send from the bottom half. */
    uint64_t msix_pending;      /* bit q: queue q's vector */
    bool msix_error_pending;    /* the error vector */
    QEMUBH *irq_bh;

    LumenBarWindow bars[3];     /* BAR0, BAR2, BAR4, for the DMA check */
};

static inline unsigned lumen_queue_index(LumenState *s, LumenQueue *q)
{
    return q - s->queues;
}

static inline unsigned lumen_error_vector(LumenState *s)
{
    return s->num_queues;
}

/* lumen.c */
void lumen_raise_queue_irq_locked(LumenState *s, LumenQueue *q);
void lumen_queue_fail_locked(LumenState *s, LumenQueue *q, uint32_t error);
void lumen_irq_unmasked_locked(LumenState *s, uint64_t bits);
void lumen_soft_reset_locked(LumenState *s);
void lumen_raise_fatal_locked(LumenState *s);

/* lumen-mmio.c */
extern const MemoryRegionOps lumen_mmio_ops;
extern const MemoryRegionOps lumen_doorbell_ops;

/* lumen-engine.c */
void lumen_engines_start(LumenState *s);
void lumen_engines_stop(LumenState *s);
void lumen_engine_kick_locked(LumenState *s, LumenQueue *q);
void lumen_engines_kick_all_locked(LumenState *s);
void lumen_queue_quiesce_locked(LumenState *s, LumenQueue *q);
void lumen_quiesce_all_locked(LumenState *s);
bool lumen_queue_running_locked(LumenState *s, LumenQueue *q);
void lumen_perf_reset_locked(LumenState *s);

/* lumen-dma.c */
void lumen_bus_init(LumenState *s, LumenEngine *e);
void lumen_update_bar_windows_locked(LumenState *s);

#endif /* HW_MISC_LUMEN_H */
