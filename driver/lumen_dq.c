// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: direct queues (user-mode submission).
 *
 * The device's hardware queues are split at probe: [0, num_queues) are
 * kernel queues fed by drm_sched (lumen_sched.c), the top num_hw_queues -
 * num_queues (module parameter direct_queues) are handed to processes
 * whole.  A direct queue's ring is a buffer in its file's device address
 * space; the hardware queue is bound to the file's MMU context
 * (LUMEN_QUEUE_CTX), so every ring entry is fetched and executed in that
 * context and reaches only what the file mapped; the device validates
 * every command as for kernel queues, and a bad one stops only that queue.
 * The process writes ring entries and rings the doorbell page mapped into
 * it; completion is a FENCE value landing in its memory.
 *
 * The kernel's part: create (program and enable the hardware queue, pin the
 * file's context and keep the device resumed for the queue's life),
 * destroy (reset the hardware queue, zap the doorbell mapping: later
 * touches see the dummy page), sleeping waits, errors, resets, unplug, and
 * unmap safety.  There is no scheduler, no job and no timeout: the device
 * serves the queues of an engine round-robin, so a direct queue can delay
 * others only by its turns.
 *
 * Interrupts on demand.  The FENCEs of direct queues carry LUMEN_FENCE_IRQ,
 * but a direct queue's vector stays masked (&lumen_device.irq_mask) while
 * nobody sleeps in DRM_IOCTL_LUMEN_DQ_WAIT on it: a process that spins on
 * its memory costs no interrupt.  The first waiter clears the queue's
 * IRQ_STATUS bit and unmasks (so only a FENCE from now on sends the
 * vector), then looks at the memory, then sleeps on &lumen_dq.seq, which
 * the vector's handler bumps; the last waiter masks again.
 *
 * Errors.  A direct queue that stops on an error stays stopped: the error
 * vector's handler records Q_ERROR, Q_ERROR_HEAD and Q_FAULT_VA once and
 * wakes the waiters, who get -EIO.  No reset, no guilt: the process sees
 * the error and destroys the queue.  A worker on reset_wq writes a
 * devcoredump of the stopped queue (lumen_coredump_dq()) unless it is
 * destroyed first.  A fatal device error resets the
 * device, which disables every direct hardware queue: each direct queue
 * stops with DRM_LUMEN_DQ_ERROR_RESET.
 *
 * Unmap safety.  An unmap clears PTEs and invalidates the context; a
 * command already executing may still use an old translation until it
 * retires.  So after the invalidation, lumen_dq_vm_sync() waits until
 * every direct queue of the VM retired the ring entry it was executing, or
 * is idle, stopped or parked in a WAIT; a queue that does neither within
 * the job timeout is reset and stops with DRM_LUMEN_DQ_ERROR_HUNG.  Only
 * then are the pages released.
 *
 * Lock order: &lumen_device.dq_lock, &lumen_vm.dq_lock, then
 * &lumen_device.dq_irq_lock (a spinlock taken in hard IRQ context).
 * &lumen_dq_db.lock is taken under the mmap lock, alone.
 */

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

static unsigned int direct_queues = 4;
module_param(direct_queues, uint, 0444);
MODULE_PARM_DESC(direct_queues,
		 "Hardware queues reserved for direct queues, at most the device's queues minus its engines (default 4)");

#define LUMEN_DQ_MIN_ENTRIES	2
#define LUMEN_DQ_MAX_ENTRIES	65536

/* Queue resets are immediate in the model; allow real hardware slack. */
#define LUMEN_DQ_RESET_POLL_US		10
#define LUMEN_DQ_RESET_TIMEOUT_US	(100 * USEC_PER_MSEC)

/* The unmap wait polls this often, in us (doubling up to the maximum). */
#define LUMEN_DQ_SYNC_POLL_MIN_US	20
#define LUMEN_DQ_SYNC_POLL_MAX_US	2000
/* The unmap wait's limit when job_timeout_ms is 0 (no job timeout). */
#define LUMEN_DQ_SYNC_DEFAULT_MS	5000

/**
 * struct lumen_dq_vec - what a direct hardware queue's vector handler gets
 * @ldev: the device
 * @hw_queue: the hardware queue
 * @name: the IRQ's name
 */
struct lumen_dq_vec {
	struct lumen_device *ldev;
	u32 hw_queue;
	char name[20];
};

/**
 * struct lumen_dq_db - the doorbell page of a direct queue, as mapped
 *
 * Lives as long as the direct queue or any mapping of its doorbell.
 */
struct lumen_dq_db {
	/** @ref: the direct queue's reference and one per VMA */
	struct kref ref;
	/** @ldev: the device */
	struct lumen_device *ldev;
	/** @key: mmap key from &lumen_device.dq_mmap_ida */
	u32 key;
	/** @hw_queue: the hardware queue whose doorbell page is mapped */
	u32 hw_queue;
	/**
	 * @lock: orders faults with destroy: a fault inserts the doorbell
	 * page only while @live, and destroy clears @live before it zaps
	 */
	struct mutex lock;
	/** @live: the direct queue exists; under @lock */
	bool live;
};

/**
 * struct lumen_dq - one direct queue
 */
struct lumen_dq {
	/** @ref: the file's reference until destroy, and one per ioctl using it */
	struct kref ref;
	/** @ldev: the device */
	struct lumen_device *ldev;
	/** @vm: the file's VM, referenced; its context is pinned */
	struct lumen_vm *vm;
	/** @vm_link: entry in &lumen_vm.dqs, under &lumen_vm.dq_lock */
	struct list_head vm_link;
	/** @id: the id in its file */
	u32 id;
	/** @hw_queue: the hardware queue it owns */
	u32 hw_queue;
	/** @engine: the device engine it feeds */
	u32 engine;
	/** @ctx: the pinned MMU context of @vm */
	u32 ctx;
	/** @entries: ring entries */
	u32 entries;
	/** @ring_va: device VA of the ring in @vm */
	u64 ring_va;
	/** @pid: the creating process, for debugfs */
	struct pid *pid;
	/** @db: the doorbell page, referenced */
	struct lumen_dq_db *db;
	/** @wait: DQ_WAIT sleepers */
	wait_queue_head_t wait;
	/** @seq: bumped by the vector handler and on every stop */
	atomic_t seq;
	/** @dump_work: writes the devcoredump of an error, holding a reference */
	struct work_struct dump_work;

	/* Under &lumen_device.dq_irq_lock. */
	/** @waiters: tasks in DQ_WAIT; the vector is unmasked while > 0 */
	u32 waiters;
	/** @stopped: stopped on an error: @error, @error_head, @fault_va */
	bool stopped;
	/** @dead: destroyed: no longer in &lumen_device.dq_slots */
	bool dead;
	/** @gone: the device was unplugged */
	bool gone;
	/** @error: LUMEN_ERR_* or DRM_LUMEN_DQ_ERROR_* once @stopped */
	u32 error;
	/** @error_head: ring index of the failed entry */
	u32 error_head;
	/** @fault_va: faulting VA for LUMEN_ERR_MMU_FAULT */
	u64 fault_va;
};

/**
 * lumen_dq_partition - how many hardware queues go to direct queues
 * @ldev: the device, its caps, engines and hardware queues read
 *
 * Every engine keeps at least one kernel queue.
 *
 * Return: the number of direct hardware queues.
 */
u32 lumen_dq_partition(struct lumen_device *ldev)
{
	u32 max;

	if (!(ldev->caps & LUMEN_CAP_DIRECT_QUEUES))
		return 0;
	max = ldev->num_hw_queues > ldev->num_engines ?
	      ldev->num_hw_queues - ldev->num_engines : 0;
	return min_t(u32, direct_queues, max);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_dq_partition);

static u64 lumen_dq_bit(u32 hw_queue)
{
	return BIT_ULL(hw_queue);
}

/*
 * Write the 32-bit half of IRQ_MASK holding queue @q's bit from the
 * shadow: a 32-bit write changes that half only (Documentation/device.rst),
 * and each register access is a trap into the model under emulation.
 */
static void lumen_dq_write_mask_half_locked(struct lumen_device *ldev, u32 q)
{
	u32 half = q / 32;

	lockdep_assert_held(&ldev->dq_irq_lock);

	lumen_write(ldev, LUMEN_REG_IRQ_MASK + half * sizeof(u32),
		    lower_32_bits(ldev->irq_mask >> (half * 32)));
}

/* Unmask @dq's vector for a first waiter: only new FENCEs raise it. */
static void lumen_dq_unmask_locked(struct lumen_dq *dq)
{
	struct lumen_device *ldev = dq->ldev;
	u32 q = dq->hw_queue;
	int idx;

	lockdep_assert_held(&ldev->dq_irq_lock);

	ldev->irq_mask &= ~lumen_dq_bit(q);
	if (!drm_dev_enter(&ldev->drm, &idx))
		return;
	lumen_write(ldev, LUMEN_REG_IRQ_STATUS + q / 32 * sizeof(u32), BIT(q % 32));
	lumen_dq_write_mask_half_locked(ldev, q);
	drm_dev_exit(idx);
}

static void lumen_dq_mask_locked(struct lumen_dq *dq)
{
	struct lumen_device *ldev = dq->ldev;
	int idx;

	lockdep_assert_held(&ldev->dq_irq_lock);

	ldev->irq_mask |= lumen_dq_bit(dq->hw_queue);
	if (!drm_dev_enter(&ldev->drm, &idx))
		return;
	lumen_dq_write_mask_half_locked(ldev, dq->hw_queue);
	drm_dev_exit(idx);
}

/* Wake @dq's waiters: something they look at changed. */
static void lumen_dq_wake_locked(struct lumen_dq *dq)
{
	lockdep_assert_held(&dq->ldev->dq_irq_lock);

	atomic_inc(&dq->seq);
	wake_up_all(&dq->wait);
}

/* Stop @dq with @error unless it is stopped already. */
static void lumen_dq_stop_locked(struct lumen_dq *dq, u32 error, u32 head, u64 fault_va)
{
	lockdep_assert_held(&dq->ldev->dq_irq_lock);

	if (dq->stopped)
		return;
	dq->stopped = true;
	dq->error = error;
	dq->error_head = head;
	dq->fault_va = fault_va;
	lumen_dq_wake_locked(dq);
}

static irqreturn_t lumen_dq_irq(int irq, void *arg)
{
	struct lumen_dq_vec *vec = arg;
	struct lumen_device *ldev = vec->ldev;
	struct lumen_dq *dq;

	/* No register access: the waiters look at their memory. */
	spin_lock(&ldev->dq_irq_lock);
	dq = ldev->dq_slots[vec->hw_queue];
	if (dq)
		lumen_dq_wake_locked(dq);
	spin_unlock(&ldev->dq_irq_lock);
	return IRQ_HANDLED;
}

static void lumen_dq_release(struct kref *ref)
{
	struct lumen_dq *dq = container_of(ref, struct lumen_dq, ref);

	put_pid(dq->pid);
	kfree(dq);
}

static void lumen_dq_put(struct lumen_dq *dq)
{
	kref_put(&dq->ref, lumen_dq_release);
}

/*
 * Write the devcoredump of @dq's error.  What the queue's hardware queue
 * shows is taken under dq_irq_lock, and only while @dq still owns it
 * (destroy empties the slot under that lock before it resets the queue,
 * and the next owner's registers are not ours to show).
 */
static void lumen_dq_dump_work(struct work_struct *work)
{
	struct lumen_dq *dq = container_of(work, struct lumen_dq, dump_work);
	struct lumen_device *ldev = dq->ldev;
	u32 nregs = min_t(u32, lumen_num_queue_regs, LUMEN_DQ_DUMP_REGS);
	struct lumen_dq_dump d = {};
	u32 i;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		goto out;
	spin_lock_irq(&ldev->dq_irq_lock);
	if (ldev->dq_slots[dq->hw_queue] == dq) {
		u32 base = LUMEN_QUEUE_REG(dq->hw_queue, 0);

		d = (struct lumen_dq_dump){
			.vm = lumen_vm_get(dq->vm), .id = dq->id, .hw_queue = dq->hw_queue,
			.engine = dq->engine, .ctx = dq->ctx, .entries = dq->entries,
			.error = dq->error, .error_head = dq->error_head,
			.ring_va = dq->ring_va, .fault_va = dq->fault_va,
		};
		for (i = 0; i < nregs; i++)
			d.regs[i] = lumen_reg_read(ldev, base, &lumen_queue_regs[i]);
	}
	spin_unlock_irq(&ldev->dq_irq_lock);
	if (d.vm) {
		lumen_coredump_dq(ldev, &d);
		lumen_vm_put(d.vm);
	}
	drm_dev_exit(idx);
out:
	lumen_dq_put(dq);
}

/**
 * lumen_dq_hw_error - the device stopped a direct hardware queue on an error
 * @ldev: the device
 * @hw_queue: a hardware queue >= &lumen_device.num_queues
 *
 * Called from the error interrupt handler.  Records the error once and
 * wakes the waiters; the queue stays stopped until its owner destroys it.
 */
void lumen_dq_hw_error(struct lumen_device *ldev, u32 hw_queue)
{
	struct lumen_dq *dq;
	u32 code, head;
	u64 va = 0;

	spin_lock(&ldev->dq_irq_lock);
	dq = ldev->dq_slots[hw_queue];
	if (!dq || dq->stopped)
		goto out;

	code = lumen_read(ldev, LUMEN_QUEUE_REG(hw_queue, LUMEN_Q_ERROR));
	head = lumen_read(ldev, LUMEN_QUEUE_REG(hw_queue, LUMEN_Q_ERROR_HEAD));
	if (code == LUMEN_ERR_MMU_FAULT) {
		va = lumen_read64(ldev, LUMEN_QUEUE_REG(hw_queue, LUMEN_Q_FAULT_VA));
		/* Let the next fault be latched too (as lumen_sched.c does). */
		if (lumen_read(ldev, LUMEN_REG_FAULT_STATUS) & LUMEN_FAULT_VALID)
			lumen_write(ldev, LUMEN_REG_FAULT_STATUS, LUMEN_FAULT_VALID);
	}
	drm_dbg(&ldev->drm, "direct queue on hw queue %u: error %u (%s) at entry %u, VA %#llx\n",
		hw_queue, code, lumen_error_name(code), head, va);
	lumen_dq_stop_locked(dq, code, head, va);
	/*
	 * The dump needs process context (its buffer, the file list, the
	 * VM's lock); reset_wq is drained before the device goes.  The
	 * file's reference is there while the queue is in its slot, so this
	 * put is never the last.
	 */
	if (IS_ENABLED(CONFIG_DEV_COREDUMP)) {
		kref_get(&dq->ref);
		if (!queue_work(ldev->reset_wq, &dq->dump_work))
			lumen_dq_put(dq);
	}
out:
	spin_unlock(&ldev->dq_irq_lock);
}

/**
 * lumen_dq_device_reset - a device reset disabled every direct hardware queue
 * @ldev: the device
 *
 * Every direct queue stops with DRM_LUMEN_DQ_ERROR_RESET.
 */
void lumen_dq_device_reset(struct lumen_device *ldev)
{
	unsigned long flags;
	u32 q;

	spin_lock_irqsave(&ldev->dq_irq_lock, flags);
	for (q = ldev->num_queues; q < ldev->num_hw_queues; q++)
		if (ldev->dq_slots[q])
			lumen_dq_stop_locked(ldev->dq_slots[q], DRM_LUMEN_DQ_ERROR_RESET, 0, 0);
	spin_unlock_irqrestore(&ldev->dq_irq_lock, flags);
}

/**
 * lumen_dq_unplug - the device is gone: wake every waiter with -ENODEV
 * @ldev: the device, unplugged
 *
 * The doorbell mappings were zapped with every other mapping of the
 * device file; their next touch maps the dummy page.
 */
void lumen_dq_unplug(struct lumen_device *ldev)
{
	unsigned long flags;
	u32 q;

	spin_lock_irqsave(&ldev->dq_irq_lock, flags);
	for (q = ldev->num_queues; q < ldev->num_hw_queues; q++) {
		struct lumen_dq *dq = ldev->dq_slots[q];

		if (!dq)
			continue;
		dq->gone = true;
		lumen_dq_wake_locked(dq);
	}
	spin_unlock_irqrestore(&ldev->dq_irq_lock, flags);
}

/**
 * lumen_dq_count - direct queues that exist
 * @ldev: the device
 *
 * Return: their number, for debugfs.
 */
u32 lumen_dq_count(struct lumen_device *ldev)
{
	u32 q, n = 0;

	mutex_lock(&ldev->dq_lock);
	for (q = ldev->num_queues; q < ldev->num_hw_queues; q++)
		n += !!ldev->dq_slots[q];
	mutex_unlock(&ldev->dq_lock);
	return n;
}

/* ---- Doorbell mappings --------------------------------------------------- */

static void lumen_dq_db_release(struct kref *ref)
{
	struct lumen_dq_db *db = container_of(ref, struct lumen_dq_db, ref);

	/* No mapping of the key is left: it may be reused. */
	ida_free(&db->ldev->dq_mmap_ida, db->key);
	mutex_destroy(&db->lock);
	kfree(db);
}

static void lumen_dq_db_put(struct lumen_dq_db *db)
{
	kref_put(&db->ref, lumen_dq_db_release);
}

static u64 lumen_dq_db_offset(const struct lumen_dq_db *db)
{
	return (u64)(LUMEN_DQ_MMAP_PGOFF + db->key) << PAGE_SHIFT;
}

static vm_fault_t lumen_dq_db_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct lumen_dq_db *db = vma->vm_private_data;
	struct lumen_device *ldev = db->ldev;
	unsigned long pfn = page_to_pfn(ldev->dummy_page);
	vm_fault_t ret;
	int idx;

	/*
	 * After destroy or unplug the page is the dummy page: writes to it
	 * reach nothing, reads see garbage (Documentation/uapi.rst).
	 */
	mutex_lock(&db->lock);
	if (db->live && drm_dev_enter(&ldev->drm, &idx)) {
		pfn = PHYS_PFN(pci_resource_start(ldev->pdev, LUMEN_BAR_DOORBELL) +
			       (u64)db->hw_queue * LUMEN_DOORBELL_STRIDE);
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
		drm_dev_exit(idx);
	} else {
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	}
	mutex_unlock(&db->lock);
	return ret;
}

static void lumen_dq_db_vm_open(struct vm_area_struct *vma)
{
	struct lumen_dq_db *db = vma->vm_private_data;

	kref_get(&db->ref);
}

static void lumen_dq_db_vm_close(struct vm_area_struct *vma)
{
	lumen_dq_db_put(vma->vm_private_data);
}

static const struct vm_operations_struct lumen_dq_db_vm_ops = {
	.fault = lumen_dq_db_fault,
	.open = lumen_dq_db_vm_open,
	.close = lumen_dq_db_vm_close,
};

/**
 * lumen_dq_mmap - mmap() of a doorbell offset on the device file
 * @filp: the device file
 * @vma: one page, shared
 *
 * Return: 0; -EINVAL for a private mapping or a size other than one page;
 * -EACCES if the offset is no doorbell of a direct queue of this file;
 * -ENODEV after unplug.
 */
int lumen_dq_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct drm_file *file = filp->private_data;
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_device *ldev = lfile->ldev;
	struct lumen_dq_db *db = NULL;
	struct lumen_dq *dq;
	unsigned long id;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;

	xa_lock(&lfile->dqs);
	xa_for_each(&lfile->dqs, id, dq) {
		if (vma->vm_pgoff == LUMEN_DQ_MMAP_PGOFF + dq->db->key) {
			db = dq->db;
			kref_get(&db->ref);
			break;
		}
	}
	xa_unlock(&lfile->dqs);
	drm_dev_exit(idx);

	if (!db)
		return -EACCES;
	if (vma->vm_end - vma->vm_start != PAGE_SIZE || !(vma->vm_flags & VM_SHARED)) {
		lumen_dq_db_put(db);
		return -EINVAL;
	}

	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_noncached(vm_get_page_prot(vma->vm_flags));
	vma->vm_private_data = db;
	vma->vm_ops = &lumen_dq_db_vm_ops;
	return 0;
}

/* ---- Hardware queue programming ------------------------------------------ */

static void lumen_dq_write(struct lumen_device *ldev, u32 q, u32 reg, u32 val)
{
	lumen_write(ldev, LUMEN_QUEUE_REG(q, reg), val);
}

static u32 lumen_dq_read(struct lumen_device *ldev, u32 q, u32 reg)
{
	return lumen_read(ldev, LUMEN_QUEUE_REG(q, reg));
}

/*
 * Reset and so disable hardware queue @q; when this returns the queue
 * executes and writes nothing more.  LUMEN_QUEUE_CTX survives it.
 */
static int lumen_dq_hw_reset(struct lumen_device *ldev, u32 q)
{
	u32 control;
	int ret;

	lumen_dq_write(ldev, q, LUMEN_Q_CONTROL, LUMEN_Q_CONTROL_RESET);
	ret = readl_poll_timeout(ldev->regs + LUMEN_QUEUE_REG(q, LUMEN_Q_CONTROL), control,
				 !(control & LUMEN_Q_CONTROL_RESET), LUMEN_DQ_RESET_POLL_US,
				 LUMEN_DQ_RESET_TIMEOUT_US);
	if (ret)
		drm_err(&ldev->drm, "hw queue %u: reset timed out\n", q);
	return ret;
}

static int lumen_dq_hw_start(struct lumen_dq *dq)
{
	struct lumen_device *ldev = dq->ldev;
	u32 q = dq->hw_queue;
	int ret;

	ret = lumen_dq_hw_reset(ldev, q);
	if (ret)
		return ret;
	lumen_write(ldev, LUMEN_QUEUE_CTX(q), dq->ctx);
	lumen_write64(ldev, LUMEN_QUEUE_REG(q, LUMEN_Q_RING_BASE), dq->ring_va);
	lumen_dq_write(ldev, q, LUMEN_Q_RING_SIZE, dq->entries);
	lumen_dq_write(ldev, q, LUMEN_Q_ENGINE, dq->engine);
	lumen_dq_write(ldev, q, LUMEN_Q_CONTROL, LUMEN_Q_CONTROL_ENABLE);
	return 0;
}

/* Stop the hardware queue for good and make it a kernel-context queue again. */
static void lumen_dq_hw_stop(struct lumen_device *ldev, u32 q)
{
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return;
	lumen_dq_hw_reset(ldev, q);
	lumen_write(ldev, LUMEN_QUEUE_CTX(q), 0);
	drm_dev_exit(idx);
}

/* ---- Unmap safety -------------------------------------------------------- */

/* May the queue still be using a translation an unmap just invalidated? */
static bool lumen_dq_quiet(u32 status)
{
	return !(status & LUMEN_Q_STATUS_ENABLED) ||
	       (status & (LUMEN_Q_STATUS_IDLE | LUMEN_Q_STATUS_ERROR | LUMEN_Q_STATUS_WAITING));
}

static bool lumen_dq_is_stopped(struct lumen_dq *dq)
{
	unsigned long flags;
	bool stopped;

	spin_lock_irqsave(&dq->ldev->dq_irq_lock, flags);
	stopped = dq->stopped || dq->gone;
	spin_unlock_irqrestore(&dq->ldev->dq_irq_lock, flags);
	return stopped;
}

/*
 * Wait until @dq's hardware queue retired the entry it was executing, or
 * is quiet; reset it after the job timeout.  The device is present.
 */
static void lumen_dq_sync_one(struct lumen_dq *dq)
{
	struct lumen_device *ldev = dq->ldev;
	u32 q = dq->hw_queue, ms = lumen_sched_job_timeout_ms();
	unsigned long poll = LUMEN_DQ_SYNC_POLL_MIN_US;
	u64 completed = lumen_read64(ldev, LUMEN_QUEUE_REG(q, LUMEN_Q_COMPLETED));
	ktime_t deadline = ktime_add_ms(ktime_get(), ms ? ms : LUMEN_DQ_SYNC_DEFAULT_MS);
	unsigned long flags;
	u32 head;

	for (;;) {
		if (lumen_dq_quiet(lumen_dq_read(ldev, q, LUMEN_Q_STATUS)) ||
		    lumen_read64(ldev, LUMEN_QUEUE_REG(q, LUMEN_Q_COMPLETED)) != completed)
			return;
		if (ktime_after(ktime_get(), deadline))
			break;
		usleep_range(poll, poll * 2);
		poll = min(poll * 2, (unsigned long)LUMEN_DQ_SYNC_POLL_MAX_US);
	}

	head = lumen_dq_read(ldev, q, LUMEN_Q_HEAD);
	drm_err_ratelimited(&ldev->drm,
			    "hw queue %u: direct queue made no progress for an unmap, resetting it\n",
			    q);
	lumen_dq_hw_reset(ldev, q);
	spin_lock_irqsave(&ldev->dq_irq_lock, flags);
	lumen_dq_stop_locked(dq, DRM_LUMEN_DQ_ERROR_HUNG, head, 0);
	spin_unlock_irqrestore(&ldev->dq_irq_lock, flags);
}

/**
 * lumen_dq_vm_sync - after an unmap, wait for the VM's direct queues
 * @vm: the VM, its PTEs cleared and its context invalidated
 *
 * When this returns, no direct queue of @vm can use a translation of the
 * unmapped range any more: the pages may be released.  Process context;
 * waits at most the job timeout per queue.
 */
void lumen_dq_vm_sync(struct lumen_vm *vm)
{
	struct lumen_dq *dq;
	int idx;

	if (list_empty_careful(&vm->dqs))
		return;
	/* Unplugged: the device was reset, nothing runs. */
	if (!drm_dev_enter(&vm->ldev->drm, &idx))
		return;
	mutex_lock(&vm->dq_lock);
	list_for_each_entry(dq, &vm->dqs, vm_link)
		if (!lumen_dq_is_stopped(dq))
			lumen_dq_sync_one(dq);
	mutex_unlock(&vm->dq_lock);
	drm_dev_exit(idx);
}

/* ---- Create and destroy -------------------------------------------------- */

static struct lumen_dq *lumen_dq_get(struct lumen_file *lfile, u32 id)
{
	struct lumen_dq *dq;

	xa_lock(&lfile->dqs);
	dq = xa_load(&lfile->dqs, id);
	if (dq)
		kref_get(&dq->ref);
	xa_unlock(&lfile->dqs);
	return dq;
}

/*
 * The device engine for @args, or -EINVAL.  With DRM_LUMEN_ENGINE_ANY on
 * compute, the compute engine fed by the fewest direct queues.
 */
static int lumen_dq_engine_locked(struct lumen_device *ldev,
				  const struct drm_lumen_dq_create *args)
{
	u32 first, count, e, q, best = 0, best_n = U32_MAX;

	lockdep_assert_held(&ldev->dq_lock);

	switch (args->engine_class) {
	case DRM_LUMEN_ENGINE_COMPUTE:
		first = 0;
		count = ldev->num_cores;
		break;
	case DRM_LUMEN_ENGINE_DMA:
		first = ldev->num_cores;
		count = 1;
		break;
	default:
		return -EINVAL;
	}
	if (args->engine != DRM_LUMEN_ENGINE_ANY)
		return args->engine < count ? first + args->engine : -EINVAL;
	if (!count)
		return -EINVAL;

	for (e = first; e < first + count; e++) {
		u32 n = 0;

		for (q = ldev->num_queues; q < ldev->num_hw_queues; q++)
			n += ldev->dq_slots[q] && ldev->dq_slots[q]->engine == e;
		if (n < best_n) {
			best = e;
			best_n = n;
		}
	}
	return best;
}

/*
 * The checks of DRM_IOCTL_LUMEN_DQ_CREATE's arguments that need no lookup,
 * as Documentation/uapi.rst orders them.
 */
VISIBLE_IF_KUNIT int lumen_dq_check_args(struct lumen_device *ldev,
					 const struct drm_lumen_dq_create *args)
{
	u32 count;

	if (args->flags || args->pad)
		return -EINVAL;
	if (args->engine_class == DRM_LUMEN_ENGINE_COMPUTE)
		count = ldev->num_cores;
	else if (args->engine_class == DRM_LUMEN_ENGINE_DMA)
		count = 1;
	else
		return -EINVAL;
	if (args->engine == DRM_LUMEN_ENGINE_ANY ? !count : args->engine >= count)
		return -EINVAL;
	if (args->ring_entries < LUMEN_DQ_MIN_ENTRIES ||
	    args->ring_entries > LUMEN_DQ_MAX_ENTRIES || !is_power_of_2(args->ring_entries))
		return -EINVAL;
	if (!IS_ALIGNED(args->ring_va, LUMEN_PAGE_SIZE))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_dq_check_args);

/* Does [va, va + size) lie in one writable, mapped range of @vm? */
static int lumen_dq_check_ring(struct lumen_vm *vm, u64 va, u64 size)
{
	struct drm_mm_node *node;
	int ret = -EINVAL;

	if (va < LUMEN_VA_START || va >= LUMEN_VA_END || size > LUMEN_VA_END - va)
		return -EINVAL;

	mutex_lock(&vm->lock);
	drm_mm_for_each_node_in_range(node, &vm->va_mm, va, va + 1) {
		struct lumen_mapping *m = container_of(node, struct lumen_mapping, node);

		if (!m->unmapped && m->writable && va >= node->start &&
		    va - node->start <= m->size && size <= m->size - (va - node->start))
			ret = 0;
		break;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

static struct lumen_dq_db *lumen_dq_db_create(struct lumen_device *ldev)
{
	struct lumen_dq_db *db;
	int key;

	db = kzalloc(sizeof(*db), GFP_KERNEL);
	if (!db)
		return ERR_PTR(-ENOMEM);
	key = ida_alloc_max(&ldev->dq_mmap_ida, LUMEN_DQ_MMAP_KEYS - 1, GFP_KERNEL);
	if (key < 0) {
		kfree(db);
		return ERR_PTR(key == -ENOSPC ? -ENOMEM : key);
	}
	kref_init(&db->ref);
	db->ldev = ldev;
	db->key = key;
	mutex_init(&db->lock);
	return db;
}

/* Take a free direct hardware queue for @dq and start it. */
static int lumen_dq_attach(struct lumen_dq *dq, const struct drm_lumen_dq_create *args)
{
	struct lumen_device *ldev = dq->ldev;
	unsigned long flags;
	int engine, ret;
	u32 q;

	mutex_lock(&ldev->dq_lock);
	engine = lumen_dq_engine_locked(ldev, args);
	if (engine < 0) {
		ret = engine;
		goto out;
	}
	for (q = ldev->num_queues; q < ldev->num_hw_queues; q++)
		if (!ldev->dq_slots[q])
			break;
	if (q >= ldev->num_hw_queues) {
		ret = -ENOSPC;
		goto out;
	}

	dq->engine = engine;
	dq->hw_queue = q;
	dq->db->hw_queue = q;
	/* Listed before it runs: an unmap from now on waits for it. */
	mutex_lock(&dq->vm->dq_lock);
	list_add_tail(&dq->vm_link, &dq->vm->dqs);
	mutex_unlock(&dq->vm->dq_lock);
	ret = lumen_dq_hw_start(dq);
	if (ret) {
		mutex_lock(&dq->vm->dq_lock);
		list_del(&dq->vm_link);
		mutex_unlock(&dq->vm->dq_lock);
		lumen_dq_hw_stop(ldev, q);
		goto out;
	}

	spin_lock_irqsave(&ldev->dq_irq_lock, flags);
	ldev->dq_slots[q] = dq;
	spin_unlock_irqrestore(&ldev->dq_irq_lock, flags);

	mutex_lock(&dq->db->lock);
	dq->db->live = true;
	mutex_unlock(&dq->db->lock);
out:
	mutex_unlock(&ldev->dq_lock);
	return ret;
}

/*
 * Undo lumen_dq_attach(): reset the hardware queue, forget it, zap the
 * doorbell mappings.  When this returns nothing of the queue runs.
 */
static void lumen_dq_detach(struct lumen_dq *dq)
{
	struct lumen_device *ldev = dq->ldev;
	unsigned long flags;

	mutex_lock(&ldev->dq_lock);
	mutex_lock(&dq->vm->dq_lock);
	list_del(&dq->vm_link);
	mutex_unlock(&dq->vm->dq_lock);

	lumen_dq_hw_stop(ldev, dq->hw_queue);

	spin_lock_irqsave(&ldev->dq_irq_lock, flags);
	ldev->dq_slots[dq->hw_queue] = NULL;
	dq->dead = true;
	/* Waiters leave with -ENOENT; nobody needs the vector any more. */
	lumen_dq_mask_locked(dq);
	lumen_dq_wake_locked(dq);
	spin_unlock_irqrestore(&ldev->dq_irq_lock, flags);
	mutex_unlock(&ldev->dq_lock);

	mutex_lock(&dq->db->lock);
	dq->db->live = false;
	mutex_unlock(&dq->db->lock);
	/* Every mapping of the doorbell faults again, into the dummy page. */
	unmap_mapping_range(ldev->drm.anon_inode->i_mapping, lumen_dq_db_offset(dq->db),
			    PAGE_SIZE, 1);
}

/* Destroy a direct queue the file no longer has. */
static void lumen_dq_destroy(struct lumen_dq *dq)
{
	struct lumen_device *ldev = dq->ldev;

	lumen_dq_detach(dq);
	lumen_ctx_unpin(dq->vm);
	lumen_pm_release(ldev);
	lumen_vm_put(dq->vm);
	dq->vm = NULL;
	lumen_dq_db_put(dq->db);
	dq->db = NULL;
	lumen_dq_put(dq);
}

int lumen_ioctl_dq_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_dq_create *args = data;
	struct lumen_dq *dq;
	u32 id, hw_queue, engine;
	u64 db_offset;
	int ret, ctx;
	int idx;

	ret = lumen_dq_check_args(ldev, args);
	if (ret)
		return ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	ret = lumen_file_check_guilty(lfile);
	if (ret)
		goto out;
	ret = lumen_dq_check_ring(lfile->vm, args->ring_va,
				  (u64)args->ring_entries * LUMEN_CMD_SIZE);
	if (ret)
		goto out;
	if (!ldev->num_hw_queues || ldev->num_queues == ldev->num_hw_queues) {
		ret = -ENOSPC;
		goto out;
	}

	dq = kzalloc(sizeof(*dq), GFP_KERNEL);
	if (!dq) {
		ret = -ENOMEM;
		goto out;
	}
	kref_init(&dq->ref);
	dq->ldev = ldev;
	dq->ring_va = args->ring_va;
	dq->entries = args->ring_entries;
	dq->pid = get_pid(task_tgid(current));
	init_waitqueue_head(&dq->wait);
	INIT_LIST_HEAD(&dq->vm_link);
	INIT_WORK(&dq->dump_work, lumen_dq_dump_work);

	dq->db = lumen_dq_db_create(ldev);
	if (IS_ERR(dq->db)) {
		ret = PTR_ERR(dq->db);
		goto err_free;
	}

	/* The device stays resumed while the queue exists. */
	ret = lumen_pm_hold(ldev);
	if (ret)
		goto err_db;

	/* The context must not change under the queue: pinned for its life. */
	ctx = lumen_ctx_pin(lfile->vm);
	if (ctx < 0) {
		ret = ctx;
		goto err_pm;
	}
	dq->ctx = ctx;
	dq->vm = lumen_vm_get(lfile->vm);

	ret = lumen_dq_attach(dq, args);
	if (ret)
		goto err_unpin;

	/*
	 * Once the queue is in the file's table, another thread of the file
	 * may destroy it by guessing its id: everything the caller gets is
	 * read before, and the id is set under the table's lock, which
	 * DQ_DESTROY's xa_erase() takes too.
	 */
	hw_queue = dq->hw_queue;
	engine = dq->engine;
	db_offset = lumen_dq_db_offset(dq->db);
	xa_lock(&lfile->dqs);
	ret = __xa_alloc(&lfile->dqs, &id, dq, xa_limit_31b, GFP_KERNEL);
	if (!ret)
		dq->id = id;
	xa_unlock(&lfile->dqs);
	if (ret) {
		lumen_dq_destroy(dq);
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto out;
	}
	args->id = id;
	args->hw_queue = hw_queue;
	args->hw_engine = engine;
	args->doorbell_offset = db_offset;
	drm_dev_exit(idx);
	return 0;

err_unpin:
	lumen_vm_put(dq->vm);
	lumen_ctx_unpin(lfile->vm);
err_pm:
	lumen_pm_release(ldev);
err_db:
	lumen_dq_db_put(dq->db);
err_free:
	put_pid(dq->pid);
	kfree(dq);
out:
	drm_dev_exit(idx);
	return ret;
}

int lumen_ioctl_dq_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_dq_destroy *args = data;
	struct lumen_dq *dq;

	if (args->pad)
		return -EINVAL;

	dq = xa_erase(&lfile->dqs, args->id);
	if (!dq)
		return -ENOENT;
	lumen_dq_destroy(dq);
	return 0;
}

/* ---- Waiting ------------------------------------------------------------- */

/*
 * Has @dq stopped, been destroyed or lost its device?  Fills @args'
 * error fields for -EIO.
 */
static int lumen_dq_wait_state(struct lumen_dq *dq, struct drm_lumen_dq_wait *args)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&dq->ldev->dq_irq_lock, flags);
	if (dq->gone) {
		ret = -ENODEV;
	} else if (dq->dead) {
		ret = -ENOENT;
	} else if (dq->stopped) {
		args->error = dq->error;
		args->error_head = dq->error_head;
		args->fault_va = dq->fault_va;
		ret = -EIO;
	}
	spin_unlock_irqrestore(&dq->ldev->dq_irq_lock, flags);
	return ret;
}

static void lumen_dq_waiter_add(struct lumen_dq *dq)
{
	unsigned long flags;

	spin_lock_irqsave(&dq->ldev->dq_irq_lock, flags);
	if (!dq->waiters++ && !dq->dead && !dq->gone)
		lumen_dq_unmask_locked(dq);
	spin_unlock_irqrestore(&dq->ldev->dq_irq_lock, flags);
}

static void lumen_dq_waiter_del(struct lumen_dq *dq)
{
	unsigned long flags;

	spin_lock_irqsave(&dq->ldev->dq_irq_lock, flags);
	if (!--dq->waiters && !dq->dead && !dq->gone)
		lumen_dq_mask_locked(dq);
	spin_unlock_irqrestore(&dq->ldev->dq_irq_lock, flags);
}

/*
 * Sleep until *addr >= value.  The sequence count is read before the
 * memory: a FENCE landing after the read raises the vector (unmasked by
 * now), whose handler bumps the count, so the sleep cannot miss it.
 * get_user() runs in TASK_RUNNING only.
 */
static int lumen_dq_wait_loop(struct lumen_dq *dq, struct drm_lumen_dq_wait *args)
{
	u64 __user *uaddr = u64_to_user_ptr(args->addr);
	ktime_t deadline = ns_to_ktime(args->timeout_ns);
	ktime_t left;
	u64 value;
	int seq, ret;

	for (;;) {
		seq = atomic_read(&dq->seq);
		/* Pairs with the barrier of the waker's wake_up_all(). */
		smp_rmb();

		ret = lumen_dq_wait_state(dq, args);
		if (ret == -ENODEV || ret == -ENOENT)
			return ret;
		if (get_user(value, uaddr))
			return -EFAULT;
		if (value >= args->value)
			return 0;
		if (ret)
			return ret;

		left = ktime_sub(deadline, ktime_get());
		if (left <= 0)
			return -ETIME;
		ret = wait_event_interruptible_hrtimeout(dq->wait, atomic_read(&dq->seq) != seq,
							 left);
		if (ret == -ERESTARTSYS)
			return ret;
	}
}

int lumen_ioctl_dq_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_dq_wait *args = data;
	struct lumen_dq *dq;
	int ret;

	if (args->flags || !IS_ALIGNED(args->addr, sizeof(u64)))
		return -EINVAL;
	args->error = 0;
	args->error_head = 0;
	args->fault_va = 0;

	dq = lumen_dq_get(lfile, args->id);
	if (!dq)
		return -ENOENT;

	lumen_dq_waiter_add(dq);
	ret = lumen_dq_wait_loop(dq, args);
	lumen_dq_waiter_del(dq);
	lumen_dq_put(dq);
	return ret;
}

/* ---- Files, setup, debugfs ----------------------------------------------- */

/**
 * lumen_dq_file_init - a new file has no direct queues
 * @lfile: the file
 */
void lumen_dq_file_init(struct lumen_file *lfile)
{
	xa_init_flags(&lfile->dqs, XA_FLAGS_ALLOC1);
}

/**
 * lumen_dq_file_count - direct queues of a file, for fdinfo
 * @lfile: the file
 *
 * Return: their number.
 */
u32 lumen_dq_file_count(struct lumen_file *lfile)
{
	struct lumen_dq *dq;
	unsigned long id;
	u32 n = 0;

	xa_lock(&lfile->dqs);
	xa_for_each(&lfile->dqs, id, dq)
		n++;
	xa_unlock(&lfile->dqs);
	return n;
}

/**
 * lumen_dq_file_fini - a closing file's direct queues go
 * @lfile: the file
 */
void lumen_dq_file_fini(struct lumen_file *lfile)
{
	struct lumen_dq *dq;
	unsigned long id;

	xa_for_each(&lfile->dqs, id, dq) {
		xa_erase(&lfile->dqs, id);
		lumen_dq_destroy(dq);
	}
	xa_destroy(&lfile->dqs);
}

static void lumen_dq_fini_action(struct drm_device *drm, void *arg)
{
	struct lumen_device *ldev = arg;

	ida_destroy(&ldev->dq_mmap_ida);
}

/**
 * lumen_dq_init - set up direct queue state at probe
 * @ldev: the device, its queues partitioned
 *
 * Every direct queue's vector starts masked.
 *
 * Return: 0 or a negative errno.
 */
int lumen_dq_init(struct lumen_device *ldev)
{
	u32 q;
	int ret;

	spin_lock_init(&ldev->dq_irq_lock);
	ida_init(&ldev->dq_mmap_ida);
	ret = drmm_mutex_init(&ldev->drm, &ldev->dq_lock);
	if (ret)
		return ret;
	ret = drmm_add_action_or_reset(&ldev->drm, lumen_dq_fini_action, ldev);
	if (ret)
		return ret;

	ldev->irq_mask = 0;
	if (ldev->num_hw_queues > ldev->num_queues)
		ldev->irq_mask = GENMASK_ULL(ldev->num_hw_queues - 1, ldev->num_queues);

	ldev->dq_vecs = drmm_kcalloc(&ldev->drm, LUMEN_MAX_QUEUES, sizeof(*ldev->dq_vecs),
				     GFP_KERNEL);
	if (!ldev->dq_vecs)
		return -ENOMEM;
	for (q = ldev->num_queues; q < ldev->num_hw_queues; q++) {
		ldev->dq_vecs[q].ldev = ldev;
		ldev->dq_vecs[q].hw_queue = q;
		snprintf(ldev->dq_vecs[q].name, sizeof(ldev->dq_vecs[q].name), "lumen-dq%u", q);
	}
	return 0;
}

/**
 * lumen_dq_irq_init - install the direct hardware queues' vector handlers
 * @ldev: the device, its MSI-X vectors allocated
 *
 * Return: 0 or a negative errno.
 */
int lumen_dq_irq_init(struct lumen_device *ldev)
{
	struct pci_dev *pdev = ldev->pdev;
	u32 q;
	int ret;

	for (q = ldev->num_queues; q < ldev->num_hw_queues; q++) {
		ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, q), lumen_dq_irq, 0,
				       ldev->dq_vecs[q].name, &ldev->dq_vecs[q]);
		if (ret)
			return ret;
	}
	return 0;
}

static void lumen_dq_debugfs_one(struct seq_file *m, struct lumen_device *ldev,
				 struct lumen_dq *dq)
{
	u32 q = dq->hw_queue;
	unsigned long flags;
	u32 error, head;
	bool stopped;
	char engine[16];

	spin_lock_irqsave(&ldev->dq_irq_lock, flags);
	stopped = dq->stopped;
	error = dq->error;
	head = dq->error_head;
	spin_unlock_irqrestore(&ldev->dq_irq_lock, flags);

	lumen_engine_name(ldev, dq->engine, engine, sizeof(engine));
	seq_printf(m, "hw queue %u: engine %s context %u pid %d id %u\n", q, engine, dq->ctx,
		   pid_vnr(dq->pid), dq->id);
	seq_printf(m, "  ring va %#llx entries %u\n", dq->ring_va, dq->entries);
	seq_printf(m, "  head %u tail %u completed %llu status %#x error %u context %u\n",
		   lumen_dq_read(ldev, q, LUMEN_Q_HEAD), lumen_dq_read(ldev, q, LUMEN_Q_TAIL),
		   lumen_read64(ldev, LUMEN_QUEUE_REG(q, LUMEN_Q_COMPLETED)),
		   lumen_dq_read(ldev, q, LUMEN_Q_STATUS), lumen_dq_read(ldev, q, LUMEN_Q_ERROR),
		   lumen_read(ldev, LUMEN_QUEUE_CTX(q)));
	if (stopped)
		seq_printf(m, "  stopped: error %#x (%s) at entry %u\n", error,
			   error == DRM_LUMEN_DQ_ERROR_HUNG ? "hung" :
			   error == DRM_LUMEN_DQ_ERROR_RESET ? "device reset" :
			   lumen_error_name(error), head);
	seq_printf(m, "  waiters %u\n", READ_ONCE(dq->waiters));
}

/**
 * lumen_dq_debugfs_show - debugfs direct_queues: every direct hardware queue
 * @m: the seq_file
 * @data: unused
 *
 * Return: 0 or a negative errno.
 */
int lumen_dq_debugfs_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	u32 q;
	int idx;
	int ret;

	ret = lumen_debugfs_hw_enter(ldev, &idx);
	if (ret)
		return ret;

	seq_printf(m, "direct hw queues %u (%u .. %u)\n", ldev->num_hw_queues - ldev->num_queues,
		   ldev->num_queues, ldev->num_hw_queues);
	mutex_lock(&ldev->dq_lock);
	for (q = ldev->num_queues; q < ldev->num_hw_queues; q++) {
		if (ldev->dq_slots[q])
			lumen_dq_debugfs_one(m, ldev, ldev->dq_slots[q]);
		else
			seq_printf(m, "hw queue %u: free\n", q);
	}
	mutex_unlock(&ldev->dq_lock);

	lumen_debugfs_hw_exit(ldev, idx);
	return 0;
}
