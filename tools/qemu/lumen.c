/*
 * Lumen PCIe inference accelerator: the PCI function
 *
 * Copyright (c) 2025-2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Usage: -device lumen[,cores=4][,queues=16][,mem=256M][,fault-injection=off]
 *
 * This file holds what makes Lumen a PCIe endpoint: identity, capabilities
 * (power management, PCIe, MSI-X, FLR), the three BARs, the properties,
 * reset and interrupt delivery.  Documentation/device.rst in the Lumen
 * tree is the programming model.
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qemu/timer.h"
#include "lumen.h"

/* Config space layout of our capabilities. */
#define LUMEN_PM_CAP_OFFSET     0x40
#define LUMEN_MSIX_CAP_OFFSET   0x60
#define LUMEN_PCIE_CAP_OFFSET   0x80

/* ---- Interrupts --------------------------------------------------------- */

/*
 * MSI-X messages are sent from a bottom half in the main loop, not by an
 * engine thread taking the BQL.  So an engine thread never waits for the
 * BQL, and whoever holds the BQL (a vCPU writing CONTROL.RESET, an FLR, a
 * system reset, hot-unplug) can safely wait for the engines to stop.  The
 * price is one main-loop wake-up per interrupt, the same hop that QEMU's
 * NVMe controller takes to post its completions.  The bottom half is
 * guarded against re-entrancy: a guest that points an MSI-X address at our
 * own BAR0 gets its message blocked, not a register write from inside the
 * bottom half.
 *
 * Sending from the engine thread under the BQL was tried: it saves that
 * wake-up (about 15 us under TCG) but nothing measurable of a job's round
 * trip, which the guest's own work dominates.  And an MSI-X message is a
 * write to whatever address the guest chose; from an engine thread it could
 * reach, through ECAM, the slot control of our root port and unplug us on
 * that very thread, whose unrealize would then have to join itself.
 */
static void lumen_irq_bh(void *opaque)
{
    LumenState *s = opaque;
    PCIDevice *pci_dev = PCI_DEVICE(s);
    uint64_t queues;
    bool error;

    WITH_QEMU_LOCK_GUARD(&s->lock) {
        queues = s->msix_pending & ~s->irq_mask;
        error = s->msix_error_pending;
        s->msix_pending = 0;
        s->msix_error_pending = false;
    }

    /* msix_notify() keeps the vector pending if it is masked. */
    for (unsigned q = 0; queues; q++, queues >>= 1) {
        if (queues & 1) {
            msix_notify(pci_dev, q);
        }
    }
    if (error) {
        msix_notify(pci_dev, lumen_error_vector(s));
    }
}

/*
 * FENCE with LUMEN_FENCE_IRQ retired on queue @q.  LUMEN_FI_DROP_IRQ loses
 * the message (not the IRQ_STATUS bit), as a lost MSI-X write would.
 */
void lumen_raise_queue_irq_locked(LumenState *s, LumenQueue *q)
{
    uint64_t bit = BIT_ULL(lumen_queue_index(s, q));

    s->irq_status |= bit;
    if (s->irq_mask & bit) {
        return;
    }
    if (s->fi_drop_irq) {
        s->fi_drop_irq--;
        qemu_log_mask(LOG_GUEST_ERROR, "lumen: fault injection: vector %u "
                      "dropped\n", lumen_queue_index(s, q));
        return;
    }
    s->msix_pending |= bit;
    qemu_bh_schedule(s->irq_bh);
}

/*
 * IRQ_MASK bits @bits were cleared while their IRQ_STATUS bits were set:
 * send the interrupts that the mask held back.
 */
void lumen_irq_unmasked_locked(LumenState *s, uint64_t bits)
{
    bits &= s->irq_status;
    if (bits) {
        s->msix_pending |= bits;
        qemu_bh_schedule(s->irq_bh);
    }
}

/* Stop queue @q with @error on the entry at its head. */
void lumen_queue_fail_locked(LumenState *s, LumenQueue *q, uint32_t error)
{
    qemu_log_mask(LOG_GUEST_ERROR, "lumen: queue %u stopped on entry %"
                  PRIu32 " with error %" PRIu32 "\n",
                  lumen_queue_index(s, q), q->head, error);
    q->error = error;
    q->error_head = q->head;
    s->error_queues |= BIT_ULL(lumen_queue_index(s, q));
    s->msix_error_pending = true;
    qemu_bh_schedule(s->irq_bh);
}

/*
 * LUMEN_FI_FATAL: the device gives up.  Every queue stops with
 * LUMEN_ERR_FATAL and only a global reset (or FLR, system reset) clears
 * LUMEN_STATUS_FATAL.
 */
void lumen_raise_fatal_locked(LumenState *s)
{
    if (s->fatal) {
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "lumen: fault injection: fatal device "
                  "error; every queue stops\n");
    s->fatal = true;
    lumen_quiesce_all_locked(s);
    for (unsigned i = 0; i < s->num_queues; i++) {
        LumenQueue *q = &s->queues[i];

        if (q->error == LUMEN_ERR_NONE) {
            q->error = LUMEN_ERR_FATAL;
            q->error_head = q->head;
            s->error_queues |= BIT_ULL(i);
        }
    }
    s->msix_error_pending = true;
    qemu_bh_schedule(s->irq_bh);
}

/* ---- Reset -------------------------------------------------------------- */

/*
 * Queue @q's registers back to their power-on values.  The engine-owned
 * fields (active, qx) are left alone: a step abandoned by the reset may
 * still be running, and it finds the new epoch when it ends.
 */
static void lumen_queue_init(LumenState *s, LumenQueue *q)
{
    unsigned index = lumen_queue_index(s, q);

    q->ring_base = 0;
    q->ring_size = 0;
    q->enabled = false;
    q->head = 0;
    q->tail = 0;
    q->error = LUMEN_ERR_NONE;
    q->error_head = 0;
    /* Spread queues over the compute engines by default. */
    q->engine = index % s->num_cores;
    q->completed = 0;
    q->fault_va = 0;
    q->fault_info = 0;
    q->context = 0;
    q->ring_ctx = 0;
    q->waiting = false;
    q->in_entry = false;
    q->hang = false;
}

/*
 * Return the Lumen function to its power-on state: engines first stop
 * touching memory, then every register is cleared, the MMU forgets its
 * roots and every TLB entry, and the counters and fault injection start
 * afresh.  PCI config space and the MSI-X table are not Lumen state; an
 * FLR or bus reset resets them in the PCI core.
 */
void lumen_soft_reset_locked(LumenState *s)
{
    s->enabled = false;
    lumen_quiesce_all_locked(s);

    for (unsigned i = 0; i < LUMEN_MAX_QUEUES; i++) {
        lumen_queue_init(s, &s->queues[i]);
    }
    for (unsigned i = 0; i < s->num_engines; i++) {
        s->engines[i].next_queue = 0;
    }
    /* Bumps every generation: no TLB entry of an engine survives. */
    lumen_mmu_reset(&s->mmu);
    lumen_perf_reset_locked(s);
    s->fatal = false;
    s->scratch = 0;
    s->irq_status = 0;
    s->irq_mask = 0;
    s->error_queues = 0;
    s->fault_status = 0;
    s->fault_info = 0;
    s->fault_va = 0;
    s->fi_drop_irq = 0;
    qatomic_set(&s->fi_fail_dma, 0);
    s->msix_pending = 0;
    s->msix_error_pending = false;
    /*
     * QEMU_CLOCK_VIRTUAL, not HOST: it is the time the guest lives in (it
     * stops while the VM is paused, so durations measured with it leave
     * out pauses), and under qtest it advances only with clock_step, which
     * makes the counter testable exactly.
     */
    qatomic_set(&s->timestamp_base, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
}

/* Device reset, system reset and FLR. */
static void lumen_reset_hold(Object *obj, ResetType type)
{
    LumenState *s = LUMEN(obj);

    if (!qdev_is_realized(DEVICE(obj))) {
        return;
    }
    WITH_QEMU_LOCK_GUARD(&s->lock) {
        lumen_soft_reset_locked(s);
    }
}

/* ---- PCI function ------------------------------------------------------- */

static void lumen_write_config(PCIDevice *pci_dev, uint32_t addr,
                               uint32_t val, int len)
{
    LumenState *s = LUMEN(pci_dev);

    pci_default_write_config(pci_dev, addr, val, len);
    pcie_cap_flr_write_config(pci_dev, addr, val, len);

    /* BARs may have moved or been switched off: refresh the DMA check. */
    WITH_QEMU_LOCK_GUARD(&s->lock) {
        lumen_update_bar_windows_locked(s);
    }
}

static bool lumen_check_properties(LumenState *s, Error **errp)
{
    if (s->num_cores < 1 || s->num_cores > LUMEN_MAX_CORES) {
        error_setg(errp, "cores=%" PRIu32 " is out of range; "
                   "it must be 1 to %d", s->num_cores, LUMEN_MAX_CORES);
        return false;
    }
    if (s->num_queues < 1 || s->num_queues > LUMEN_MAX_QUEUES) {
        error_setg(errp, "queues=%" PRIu32 " is out of range; "
                   "it must be 1 to %d", s->num_queues, LUMEN_MAX_QUEUES);
        return false;
    }
    if (s->mem_size < LUMEN_MIN_MEM || s->mem_size > LUMEN_MAX_MEM ||
        !is_power_of_2(s->mem_size)) {
        error_setg(errp, "mem=%" PRIu64 " is invalid; it must be a "
                   "power of two from 1M to 16G", s->mem_size);
        return false;
    }
    return true;
}

static void lumen_init_pm(PCIDevice *pci_dev)
{
    uint8_t *conf = pci_dev->config + LUMEN_PM_CAP_OFFSET;
    uint8_t *wmask = pci_dev->wmask + LUMEN_PM_CAP_OFFSET;

    /* D0 and D3hot; leaving D3hot keeps the device state. */
    pci_set_word(conf + PCI_PM_PMC, PCI_PM_CAP_VER_1_2);
    pci_set_word(conf + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
    pci_set_word(wmask + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK);
}

static void lumen_realize(PCIDevice *pci_dev, Error **errp)
{
    LumenState *s = LUMEN(pci_dev);
    uint64_t db_size;
    unsigned vectors;

    if (!lumen_check_properties(s, errp)) {
        return;
    }
    s->num_engines = s->num_cores + 1;
    vectors = s->num_queues + 1;

    /* No INTx: Lumen interrupts through MSI-X only. */
    pci_dev->config[PCI_INTERRUPT_PIN] = 0;

    if (pci_pm_init(pci_dev, LUMEN_PM_CAP_OFFSET, errp) < 0) {
        return;
    }
    lumen_init_pm(pci_dev);
    if (pcie_endpoint_cap_init(pci_dev, LUMEN_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "cannot add the PCIe capability");
        return;
    }
    pcie_cap_deverr_init(pci_dev);
    pcie_cap_flr_init(pci_dev);

    /* BAR0: registers, with the MSI-X table and PBA laid over them. */
    memory_region_init_io(&s->mmio, OBJECT(s), &lumen_mmio_ops, s,
                          "lumen-regs", LUMEN_REGS_SIZE);
    pci_register_bar(pci_dev, LUMEN_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->mmio);
    if (msix_init(pci_dev, vectors, &s->mmio, LUMEN_BAR_REGS,
                  LUMEN_MSIX_TABLE_OFFSET, &s->mmio, LUMEN_BAR_REGS,
                  LUMEN_MSIX_PBA_OFFSET, LUMEN_MSIX_CAP_OFFSET, errp) < 0) {
        return;
    }
    for (unsigned v = 0; v < vectors; v++) {
        msix_vector_use(pci_dev, v);
    }

    /* BAR2: device memory, plain RAM that the guest may map. */
    if (!memory_region_init_ram(&s->devmem, OBJECT(s), "lumen-devmem",
                                s->mem_size, errp)) {
        msix_uninit(pci_dev, &s->mmio, &s->mmio);
        return;
    }
    s->devmem_ptr = memory_region_get_ram_ptr(&s->devmem);
    pci_register_bar(pci_dev, LUMEN_BAR_DEVMEM, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->devmem);

    /* BAR4: one doorbell page per queue, so a page can be mapped alone. */
    db_size = pow2ceil((uint64_t)s->num_queues * LUMEN_DOORBELL_STRIDE);
    memory_region_init_io(&s->doorbells, OBJECT(s), &lumen_doorbell_ops, s,
                          "lumen-doorbells", db_size);
    pci_register_bar(pci_dev, LUMEN_BAR_DOORBELL,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->doorbells);

    s->irq_bh = qemu_bh_new_guarded(lumen_irq_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);

    qemu_mutex_lock(&s->lock);
    lumen_soft_reset_locked(s);
    lumen_update_bar_windows_locked(s);
    qemu_mutex_unlock(&s->lock);

    lumen_engines_start(s);
}

static void lumen_exit(PCIDevice *pci_dev)
{
    LumenState *s = LUMEN(pci_dev);

    lumen_engines_stop(s);
    qemu_bh_delete(s->irq_bh);
    s->irq_bh = NULL;
    msix_uninit(pci_dev, &s->mmio, &s->mmio);
}

/*
 * The lock and the condition variable live as long as the object, not
 * just while it is realized, so that a late MMIO access after unplug
 * still finds them.
 */
static void lumen_instance_init(Object *obj)
{
    LumenState *s = LUMEN(obj);

    qemu_mutex_init(&s->lock);
    qemu_cond_init(&s->idle);
}

static void lumen_instance_finalize(Object *obj)
{
    LumenState *s = LUMEN(obj);

    qemu_cond_destroy(&s->idle);
    qemu_mutex_destroy(&s->lock);
}

static const Property lumen_properties[] = {
    DEFINE_PROP_UINT32("cores", LumenState, num_cores, LUMEN_DEFAULT_CORES),
    DEFINE_PROP_UINT32("queues", LumenState, num_queues, LUMEN_DEFAULT_QUEUES),
    DEFINE_PROP_SIZE("mem", LumenState, mem_size, LUMEN_DEFAULT_MEM),
    DEFINE_PROP_BOOL("fault-injection", LumenState, fault_injection, false),
};

/* Engine threads and device memory cannot be migrated (yet). */
static const VMStateDescription lumen_vmstate = {
    .name = TYPE_LUMEN,
    .unmigratable = 1,
};

static void lumen_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    ResettableClass *rc = RESETTABLE_CLASS(oc);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(oc);

    pc->realize = lumen_realize;
    pc->exit = lumen_exit;
    pc->config_write = lumen_write_config;
    pc->vendor_id = LUMEN_PCI_VENDOR_ID;
    pc->device_id = LUMEN_PCI_DEVICE_ID;
    pc->class_id = LUMEN_PCI_CLASS;
    pc->revision = LUMEN_PCI_REVISION;

    rc->phases.hold = lumen_reset_hold;

    dc->desc = "Lumen inference accelerator";
    dc->vmsd = &lumen_vmstate;
    device_class_set_props(dc, lumen_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo lumen_types[] = {
    {
        .name = TYPE_LUMEN,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(LumenState),
        .instance_init = lumen_instance_init,
        .instance_finalize = lumen_instance_finalize,
        .class_init = lumen_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_PCIE_DEVICE },
            { }
        },
    },
};

DEFINE_TYPES(lumen_types)
