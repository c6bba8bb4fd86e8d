/*
 * Lumen PCIe inference accelerator: device model state
 *
 * Copyright (c) 2025 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The programming model is specified in Lumen's Documentation/device.rst;
 * the register map and command formats come, unchanged, from the driver's
 * lumen_regs.h.
 *
 * Files:
 *   lumen.c         PCI function: BARs, capabilities, properties, reset,
 *                   interrupts
 *   lumen-mmio.c    BAR0 registers and BAR4 doorbells
 *   lumen-engine.c  engine threads: scheduling queues, quiescing
 *   lumen-cmd.c     command decoding and execution (NOP, FENCE, COPY)
 *   lumen-dma.c     every access to guest memory and device memory
 *
 * Locking: LumenState.lock protects all register and queue state below.
 * Engine threads hold it only to pick a command and to retire it, never
 * while they touch memory, and they never take the BQL.  MMIO handlers run
 * under the BQL and take the lock for each access.  Lock order: BQL, then
 * LumenState.lock.
 */

#ifndef HW_MISC_LUMEN_H
#define HW_MISC_LUMEN_H

#include "qemu/units.h"
#include "hw/pci/pci_device.h"
#include "qemu/thread.h"
#include "qom/object.h"
#include "lumen_regs.h"

#define TYPE_LUMEN "lumen"
OBJECT_DECLARE_SIMPLE_TYPE(LumenState, LUMEN)

/* Defaults of the device properties. */
#define LUMEN_DEFAULT_CORES         4
#define LUMEN_DEFAULT_QUEUES        16
#define LUMEN_DEFAULT_MEM           (256 * MiB)
#define LUMEN_MIN_MEM               (1 * MiB)
#define LUMEN_MAX_MEM               (16 * GiB)

/* At most this many commands of one queue per engine turn (fairness). */
#define LUMEN_ENGINE_BATCH          64
/* COPY moves data in steps of at most this many bytes (cancellation). */
#define LUMEN_COPY_CHUNK            (64 * KiB)

/* Internal result of a command that was cancelled by a reset/disable. */
#define LUMEN_ERR_CANCELLED         UINT32_MAX

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

    /*
     * Bumped (under the lock) whenever the queue is disabled or reset.  An
     * engine running a command of this queue polls it between steps and
     * abandons the command when it changes.
     */
    uint32_t epoch;
} LumenQueue;

typedef struct LumenEngine {
    LumenState *dev;
    unsigned index;
    QemuThread thread;
    QemuCond wake;              /* work may be available, or stop */
    /* Queue whose command this engine executes right now, or NULL. */
    LumenQueue *running;
    unsigned next_queue;        /* round-robin cursor */
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
    QemuCond idle;              /* an engine finished a command */
    bool engines_started;
    bool stopping;              /* unrealize: engine threads must exit */
    unsigned num_engines;       /* num_cores + 1 (the DMA engine) */
    LumenEngine engines[LUMEN_MAX_CORES + 1];

    /* Global registers. */
    bool enabled;               /* LUMEN_CONTROL_ENABLE */
    uint32_t scratch;
    uint64_t irq_status;
    uint64_t irq_mask;
    uint64_t error_queues;
    int64_t timestamp_base;     /* QEMU_CLOCK_VIRTUAL at reset */

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

/* lumen-cmd.c */
uint32_t lumen_cmd_execute(LumenState *s, LumenQueue *q, uint64_t entry_addr,
                           uint32_t epoch, bool *raise_irq);

/* lumen-dma.c */
typedef struct LumenCancel {
    LumenState *dev;
    LumenQueue *queue;
    uint32_t epoch;
} LumenCancel;

bool lumen_cancelled(const LumenCancel *c);
uint32_t lumen_dma_read(LumenState *s, uint64_t addr, void *buf,
                        uint64_t len);
uint32_t lumen_dma_write_u64(LumenState *s, uint64_t addr, uint64_t val);
uint32_t lumen_copy(LumenState *s, const LumenCancel *c, unsigned flags,
                    const uint64_t *args);
void lumen_update_bar_windows_locked(LumenState *s);

#endif /* HW_MISC_LUMEN_H */
