// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: runtime power management.
 *
 * The device is runtime-suspended (the PCI core puts it in D3hot) once it
 * has been idle for autosuspend_ms, and resumed on the next submission.
 * Idle means: no job, no device-memory BO and no direct queue exists (a
 * direct queue holds a reference for its life, lumen_dq.c: the kernel
 * cannot see whether it has work).  Every job holds a
 * runtime-PM reference from submission until it is freed (after its fence
 * signalled, or it failed), so a job waiting for its dependencies keeps
 * the device resumed too; every device-memory BO holds one for its whole
 * life, as BAR2 -- where the driver clears it and processes map it -- is
 * unmapped while the device is in D3hot.
 *
 * What a suspend loses.  The driver does not count on the device keeping
 * anything across D3hot: suspend resets it, and resume resets it again and
 * programs it from the driver's own state, as after a fatal error: the
 * device is enabled, every context's page-table root written from
 * &lumen_device.ctx_vms, the TLBs invalidated, every queue's ring
 * restarted empty (no job is on a ring while suspended), the interrupts
 * unmasked.  The engines' performance counters restart at zero, so the
 * values read before the suspend are added to them (lumen_pm_perf_read()).
 *
 * Hardware access outside jobs.  MMU root and invalidation writes
 * (lumen_mmu.c) are made only while @pm_awake, under &lumen_device.mmu_lock;
 * while suspended they are skipped, as resume rewrites every root and
 * invalidates everything.  debugfs resumes the device for register dumps;
 * sysfs counters report without waking it.  Writing debugfs fault_inject
 * forbids runtime PM (power/control reads "on") until the driver is
 * unbound: injected faults live in device registers that a suspend clears.
 *
 * Unplug.  remove() runs with the device resumed (the PCI core holds a
 * reference); lumen_pm_fini() drops the references of the jobs and
 * device BOs still alive, which from then on release nothing.
 */

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "lumen_drv.h"

static unsigned int autosuspend_ms = 1000;
module_param(autosuspend_ms, uint, 0444);
MODULE_PARM_DESC(autosuspend_ms,
		 "Idle time before the device is runtime-suspended, in ms; -1 in sysfs power/autosuspend_delay_ms disables (default 1000)");

static struct device *lumen_pm_dev(struct lumen_device *ldev)
{
	return &ldev->pdev->dev;
}

/**
 * lumen_pm_early_init - set up the runtime-PM state at the start of probe
 * @ldev: the device
 *
 * The device is resumed while it probes: MMU writes go to the hardware.
 *
 * Return: 0 or a negative errno.
 */
int lumen_pm_early_init(struct lumen_device *ldev)
{
	spin_lock_init(&ldev->pm_lock);
	ldev->pm_awake = true;
	return drmm_mutex_init(&ldev->drm, &ldev->pm_perf_lock);
}

/**
 * lumen_pm_init - enable runtime PM at the end of a successful probe
 * @ldev: the device, enabled and registered
 *
 * Drops the reference the PCI core took for the probe: the device
 * suspends after the delay if no job comes.
 */
void lumen_pm_init(struct lumen_device *ldev)
{
	struct device *dev = lumen_pm_dev(ldev);

	pm_runtime_set_autosuspend_delay(dev, autosuspend_ms);
	pm_runtime_use_autosuspend(dev);
	pm_runtime_mark_last_busy(dev);
	/* PCI devices start with runtime PM forbidden (power/control "on"). */
	pm_runtime_allow(dev);
	pm_runtime_put_autosuspend(dev);
}

/**
 * lumen_pm_fini - stop runtime PM at remove, the DRM device unplugged
 * @ldev: the device, resumed by the PCI core for remove()
 *
 * No submission runs any more (drm_dev_unplug()); the references of jobs
 * and device BOs are dropped here, and the references the PCI core and lumen_pm_init()
 * balanced are taken back.
 */
void lumen_pm_fini(struct lumen_device *ldev)
{
	struct device *dev = lumen_pm_dev(ldev);
	unsigned long flags;

	spin_lock_irqsave(&ldev->pm_lock, flags);
	ldev->pm_gone = true;
	while (ldev->pm_refs) {
		ldev->pm_refs--;
		pm_runtime_put_noidle(dev);
	}
	spin_unlock_irqrestore(&ldev->pm_lock, flags);

	pm_runtime_get_noresume(dev);
	pm_runtime_forbid(dev);
	pm_runtime_dont_use_autosuspend(dev);
}

/**
 * lumen_pm_hold - resume the device and keep it resumed
 * @ldev: the device
 *
 * For whatever needs the device awake for a while: a job, from submission
 * until it is freed; a device-memory BO, for its whole life (BAR2 is
 * unmapped while the device is in D3hot, so neither the driver's clearing
 * nor a process's mapping could reach it).  Process context: may resume
 * the device.  Released by lumen_pm_release(); after unplug,
 * lumen_pm_fini() has dropped every such reference already.
 *
 * Return: 0, -ENODEV if the device is gone, or the resume's error.
 */
int lumen_pm_hold(struct lumen_device *ldev)
{
	struct device *dev = lumen_pm_dev(ldev);
	unsigned long flags;
	int ret;

	ret = pm_runtime_resume_and_get(dev);
	if (ret < 0)
		return ret;

	spin_lock_irqsave(&ldev->pm_lock, flags);
	if (ldev->pm_gone) {
		pm_runtime_put_noidle(dev);
		ret = -ENODEV;
	} else {
		ldev->pm_refs++;
	}
	spin_unlock_irqrestore(&ldev->pm_lock, flags);
	return ret;
}

/**
 * lumen_pm_release - drop a lumen_pm_hold() reference
 * @ldev: the device
 *
 * Any context.  The device may suspend after the autosuspend delay.
 */
void lumen_pm_release(struct lumen_device *ldev)
{
	struct device *dev = lumen_pm_dev(ldev);
	unsigned long flags;

	spin_lock_irqsave(&ldev->pm_lock, flags);
	if (!ldev->pm_gone) {
		ldev->pm_refs--;
		pm_runtime_mark_last_busy(dev);
		pm_runtime_put_autosuspend(dev);
	}
	spin_unlock_irqrestore(&ldev->pm_lock, flags);
}

/**
 * lumen_pm_job_get - resume the device for a new job and keep it resumed
 * @job: the job, before it is pushed
 *
 * Process context: may resume the device.  Released by lumen_pm_job_put().
 *
 * Return: 0, -ENODEV if the device is gone, or the resume's error.
 */
int lumen_pm_job_get(struct lumen_job *job)
{
	int ret;

	ret = lumen_pm_hold(job->ldev);
	if (!ret)
		job->pm_ref = true;
	return ret;
}

/**
 * lumen_pm_job_put - a job is freed: the device may suspend after the delay
 * @job: the job
 *
 * Any context.
 */
void lumen_pm_job_put(struct lumen_job *job)
{
	if (!job->pm_ref)
		return;
	job->pm_ref = false;
	lumen_pm_release(job->ldev);
}

/**
 * lumen_pm_get - resume the device for a register access outside jobs
 * @ldev: the device
 *
 * Process context, no driver lock held.  Release with lumen_pm_put().
 *
 * Return: 0 or a negative errno.
 */
int lumen_pm_get(struct lumen_device *ldev)
{
	return pm_runtime_resume_and_get(lumen_pm_dev(ldev));
}

/**
 * lumen_pm_put - release a lumen_pm_get() reference
 * @ldev: the device
 */
void lumen_pm_put(struct lumen_device *ldev)
{
	struct device *dev = lumen_pm_dev(ldev);

	pm_runtime_mark_last_busy(dev);
	pm_runtime_put_autosuspend(dev);
}

/**
 * lumen_pm_forbid - keep the device resumed until the driver is unbound
 * @ldev: the device
 *
 * For fault injection: its registers do not survive a suspend.  Process
 * context, no driver lock held.
 */
void lumen_pm_forbid(struct lumen_device *ldev)
{
	/* Resumes the device; idempotent; lumen_pm_fini() keeps it so. */
	pm_runtime_forbid(lumen_pm_dev(ldev));
}

static u64 *lumen_pm_perf_base(struct lumen_device *ldev, u32 engine, u32 reg)
{
	return &ldev->pm_perf_base[engine][reg / sizeof(u64)];
}

/**
 * lumen_pm_perf_read - an engine's performance counter, suspends included
 * @ldev: the device, present (under drm_dev_enter())
 * @engine: engine index
 * @reg: LUMEN_PERF_BUSY_NS, _COMMANDS, _BYTES or _FAULTS
 *
 * Does not wake a suspended device: its counters are then all in the base.
 *
 * Return: the counter.
 */
u64 lumen_pm_perf_read(struct lumen_device *ldev, u32 engine, u32 reg)
{
	u64 val;
	int ret;

	mutex_lock(&ldev->pm_perf_lock);
	val = *lumen_pm_perf_base(ldev, engine, reg);
	ret = pm_runtime_get_if_active(lumen_pm_dev(ldev));
	/* < 0: runtime PM is off, and the device is resumed. */
	if (ret)
		val += lumen_read64(ldev, LUMEN_PERF_REG(engine, reg));
	if (ret > 0)
		pm_runtime_put_autosuspend(lumen_pm_dev(ldev));
	mutex_unlock(&ldev->pm_perf_lock);
	return val;
}

/**
 * lumen_pm_save_perf_locked - add the engines' counters to their base
 * @ldev: the device, about to be suspended or reset (which zeroes them)
 *
 * Also called by the global reset after a fatal error (lumen_sched.c).
 */
void lumen_pm_save_perf_locked(struct lumen_device *ldev)
{
	static const u32 regs[] = {
		LUMEN_PERF_BUSY_NS, LUMEN_PERF_COMMANDS, LUMEN_PERF_BYTES, LUMEN_PERF_FAULTS,
	};
	u32 e, i;

	lockdep_assert_held(&ldev->pm_perf_lock);

	for (e = 0; e < ldev->num_engines; e++)
		for (i = 0; i < ARRAY_SIZE(regs); i++)
			*lumen_pm_perf_base(ldev, e, regs[i]) +=
				lumen_read64(ldev, LUMEN_PERF_REG(e, regs[i]));
}

static int lumen_runtime_suspend(struct device *dev)
{
	struct lumen_device *ldev = pci_get_drvdata(to_pci_dev(dev));

	/* A global reset after a fatal error is about to touch the device. */
	if (work_busy(&ldev->reset_work))
		return -EBUSY;

	mutex_lock(&ldev->pm_perf_lock);
	lumen_pm_save_perf_locked(ldev);
	mutex_lock(&ldev->mmu_lock);
	ldev->pm_awake = false;
	/* Quiesce: every queue and engine stopped, every vector masked. */
	lumen_hw_disable(ldev);
	mutex_unlock(&ldev->mmu_lock);
	mutex_unlock(&ldev->pm_perf_lock);

	atomic64_inc(&ldev->pm_suspends);
	return 0;
}

static int lumen_runtime_resume(struct device *dev)
{
	struct lumen_device *ldev = pci_get_drvdata(to_pci_dev(dev));
	int ret;

	mutex_lock(&ldev->mmu_lock);
	ret = lumen_hw_reset(ldev);
	if (!ret)
		ret = lumen_hw_enable_device(ldev);
	if (!ret) {
		lumen_mmu_restore_locked(ldev);
		ldev->pm_awake = true;
	}
	mutex_unlock(&ldev->mmu_lock);
	if (ret) {
		drm_err(&ldev->drm, "the device did not come back from suspend\n");
		return ret;
	}

	lumen_hw_start_queues(ldev);
	lumen_irq_enable(ldev);

	atomic64_inc(&ldev->pm_resumes);
	return 0;
}

const struct dev_pm_ops lumen_pm_ops = {
	RUNTIME_PM_OPS(lumen_runtime_suspend, lumen_runtime_resume, NULL)
};
