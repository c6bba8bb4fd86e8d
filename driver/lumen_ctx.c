// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: binding address spaces to hardware contexts.
 *
 * The device has num_contexts - 1 MMU contexts for user work (63), but
 * any number of files may be open, each with its own VM (page tables).  A
 * VM holds a hardware context only while it has work: a submit binds the
 * VM (lumen_ctx_pin()) before it pushes its job, and the job carries the
 * context id (&lumen_job.ctx) into its ring entries, including when the
 * job is written to the ring again after a queue reset.
 *
 * A binding cannot change while the VM has a pushed job that is not yet
 * freed (&lumen_vm.jobs not empty; a job is freed only after its fence
 * signalled) or a submit between binding and pushing (&lumen_vm.ctx_pins).
 * Such a VM is busy; any other bound VM is idle.  Binding takes a free
 * context id, else the one of the least recently bound idle VM: its
 * root is replaced by the new VM's, and the context's cached translations
 * are dropped (lumen_mmu_set_root()), so nothing of the old VM can be
 * reached through the id any more.  The old VM keeps its page tables and
 * is bound again, possibly to another id, at its next submit.
 *
 * With every context busy, the submit waits (interruptibly) until a VM
 * becomes idle: jobs on the hardware always finish, fail or time out, so
 * the wait is bounded, except by jobs that wait for a fence that never
 * signals (an imported fence); a signal ends the wait with -ERESTARTSYS.
 *
 * Lock order: &lumen_device.ctx_lock, then &lumen_device.mmu_lock and
 * &lumen_vm.jobs_lock.
 */

#include <linux/atomic.h>
#include <linux/idr.h>
#include <linux/wait.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#include "lumen_drv.h"

/* May the VM's context be given to another VM? */
static bool lumen_ctx_idle_locked(struct lumen_vm *vm)
{
	bool idle;

	lockdep_assert_held(&vm->ldev->ctx_lock);

	if (vm->ctx_pins)
		return false;
	spin_lock(&vm->jobs_lock);
	idle = list_empty(&vm->jobs);
	spin_unlock(&vm->jobs_lock);
	return idle;
}

/* Take the context of the least recently bound idle VM; 0 if none. */
static u32 lumen_ctx_steal_locked(struct lumen_device *ldev)
{
	struct lumen_vm *victim;
	u32 ctx;

	lockdep_assert_held(&ldev->ctx_lock);

	list_for_each_entry(victim, &ldev->ctx_lru, ctx_link) {
		if (!lumen_ctx_idle_locked(victim))
			continue;
		ctx = victim->ctx;
		victim->ctx = 0;
		list_del_init(&victim->ctx_link);
		return ctx;
	}
	return 0;
}

/*
 * Bind @vm to a context if it has none and pin the binding.
 * Return: the context id, -EBUSY if every context is busy, -ENOMEM.
 */
static int lumen_ctx_pin_locked(struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;
	int ctx;

	lockdep_assert_held(&ldev->ctx_lock);

	if (vm->ctx) {
		list_move_tail(&vm->ctx_link, &ldev->ctx_lru);
		vm->ctx_pins++;
		return vm->ctx;
	}

	ctx = ida_alloc_range(&ldev->ctx_ida, 1, ldev->num_contexts - 1, GFP_KERNEL);
	if (ctx == -ENOSPC) {
		ctx = lumen_ctx_steal_locked(ldev);
		if (!ctx)
			return -EBUSY;
	} else if (ctx < 0) {
		return ctx;
	}

	/* Replaces the old VM's root and drops what the device cached. */
	lumen_mmu_set_root(ldev, ctx, vm);
	vm->ctx = ctx;
	list_add_tail(&vm->ctx_link, &ldev->ctx_lru);
	vm->ctx_pins++;
	return ctx;
}

/**
 * lumen_ctx_pin - give @vm a hardware context and keep it until the push
 * @vm: the submitting file's VM
 *
 * Waits, interruptibly, while every context is busy.  The caller pushes a
 * job (which then holds the binding until it is freed) or gives up, and
 * calls lumen_ctx_unpin() on success.  The caller is inside
 * drm_dev_enter(), which unplugging waits for: the wait looks every second
 * whether the device went, rather than rely on the jobs to end.
 *
 * Return: the context id (> 0), -ERESTARTSYS, -ENODEV, -ENOMEM.
 */
int lumen_ctx_pin(struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;
	long left;
	int gen, ret;

	for (;;) {
		mutex_lock(&ldev->ctx_lock);
		gen = atomic_read(&ldev->ctx_gen);
		ret = lumen_ctx_pin_locked(vm);
		mutex_unlock(&ldev->ctx_lock);
		if (ret != -EBUSY)
			return ret;

		left = wait_event_interruptible_timeout(ldev->ctx_wait,
							atomic_read(&ldev->ctx_gen) != gen,
							HZ);
		if (left < 0)
			return left;
		if (drm_dev_is_unplugged(&ldev->drm))
			return -ENODEV;
	}
}

/**
 * lumen_ctx_unpin - end what lumen_ctx_pin() started
 * @vm: the VM
 */
void lumen_ctx_unpin(struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;

	mutex_lock(&ldev->ctx_lock);
	vm->ctx_pins--;
	mutex_unlock(&ldev->ctx_lock);
	lumen_ctx_idle(ldev);
}

/**
 * lumen_ctx_idle - a VM may have become idle: let waiting submits look
 * @ldev: the device
 */
void lumen_ctx_idle(struct lumen_device *ldev)
{
	atomic_inc(&ldev->ctx_gen);
	wake_up_all(&ldev->ctx_wait);
}

/**
 * lumen_ctx_invalidate - drop the device's cached translations of a VM
 * @vm: the VM, whose page tables just lost valid entries
 *
 * Nothing to do while the VM has no context: the device dropped what it
 * cached for the VM when its context was taken away.
 */
void lumen_ctx_invalidate(struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;

	mutex_lock(&ldev->ctx_lock);
	if (vm->ctx)
		lumen_mmu_invalidate(ldev, vm->ctx);
	mutex_unlock(&ldev->ctx_lock);
}

/**
 * lumen_ctx_release - a VM without jobs goes: free its context
 * @vm: the VM
 *
 * The context is left without a root before the page tables are freed.
 */
void lumen_ctx_release(struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;

	mutex_lock(&ldev->ctx_lock);
	if (vm->ctx) {
		lumen_mmu_set_root(ldev, vm->ctx, NULL);
		ida_free(&ldev->ctx_ida, vm->ctx);
		list_del_init(&vm->ctx_link);
		vm->ctx = 0;
	}
	mutex_unlock(&ldev->ctx_lock);
	lumen_ctx_idle(ldev);
}

/**
 * lumen_ctx_init - set up context binding
 * @ldev: the device
 *
 * Return: 0 or a negative errno.
 */
int lumen_ctx_init(struct lumen_device *ldev)
{
	INIT_LIST_HEAD(&ldev->ctx_lru);
	init_waitqueue_head(&ldev->ctx_wait);
	atomic_set(&ldev->ctx_gen, 0);
	return drmm_mutex_init(&ldev->drm, &ldev->ctx_lock);
}
