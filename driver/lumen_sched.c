// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: job scheduling.
 *
 * Each hardware queue has a drm_gpu_scheduler and a ring of commands in
 * coherent memory.  run_job() writes two ring entries per job: an INDIRECT
 * that runs the user's command buffer in the MMU context bound to the
 * file's VM when the job was pushed (&lumen_job.ctx, lumen_ctx.c), and a
 * FENCE (in the kernel's context 0) that writes the job's seqno to the
 * queue's fence slot and raises the queue's vector; then it rings the
 * doorbell, and the vector's handler signals the job's hardware fence.  A
 * job takes one scheduler credit per ring entry, so the scheduler itself
 * keeps the ring from overflowing.
 *
 * Submission workqueue.  All schedulers run their run_job and free_job work
 * on &lumen_device.submit_wq, a per-CPU, high-priority workqueue, rather
 * than on the ordered (hence unbound) workqueue each scheduler makes for
 * itself by default.  Per-CPU: the job reaches the ring on the CPU that
 * submitted it, and is freed on the CPU that took its interrupt, instead of
 * waking an idle CPU for a few microseconds of work; under emulation that
 * wake-up was over a quarter of the NOP round trip
 * (Documentation/benchmarks.rst).
 * High priority: the worker runs as soon as the submitter leaves the ioctl,
 * so the doorbell rings while the submitter is still on its way to wait.
 * Unordered is fine: a work item never runs concurrently with itself, and
 * run_job and free_job of one queue share nothing but locked scheduler
 * state, the fence list (fence_lock) and the job count (atomic).
 *
 * Recovery.  A queue that stops on an error, or whose job shows no progress
 * for job_timeout_ms, is handled by lumen_queue_recover(): a devcoredump is
 * written (lumen_coredump.c), the queue is reset, the job it was executing
 * (the oldest unsignalled one) fails with -ETIMEDOUT, -EFAULT (an MMU fault
 * in its command buffer) or -EIO (any other error), and its context (the
 * file's VM) is marked guilty.  The jobs behind it are written to the fresh
 * ring again by drm_sched_resubmit_jobs(), except the guilty context's,
 * which complete with -ECANCELED, as do its jobs not yet run on any queue;
 * its later submits fail with -ECANCELED.  Other files, on the same queue
 * too, lose nothing.  Timeouts and error recoveries run on one ordered
 * workqueue, so they never overlap.
 *
 * Progress.  The scheduler's timer fires job_timeout_ms / 2 after the queue
 * last started or completed a job.  Each expiry samples the commands the
 * queue's engine retired; a job whose engine retired nothing since the
 * previous expiry is hung and reset, one that moved on is
 * given another half period, up to LUMEN_TIMEOUT_MAX_CHECKS expiries.  So a
 * hung job is reset after job_timeout_ms, and a job that keeps working
 * (or whose engine keeps working: the counters are the engine's) gets at
 * most LUMEN_TIMEOUT_MAX_CHECKS / 2 times that.
 *
 * A fatal device error resets the whole device (lumen_device_reset_work()).
 * No context is guilty of it: every job that was on the hardware is run
 * again from its start, like the jobs behind it.  A job that was executing
 * at LUMEN_FATAL_HANG_LIMIT + 1 fatal errors in a row is taken to cause
 * them: it fails with -EIO and its context is guilty.
 */

#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"
#include "lumen_trace.h"

static unsigned int job_timeout_ms = 5000;
module_param(job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "Time a job may show no progress before its queue is reset, in ms; 0: no limit (default 5000)");

static bool ban_guilty = true;
module_param(ban_guilty, bool, 0644);
MODULE_PARM_DESC(ban_guilty,
		 "Cancel the jobs and refuse the submits of a context whose job faulted, hung or was malformed (default Y)");

/**
 * lumen_sched_job_timeout_ms - the job_timeout_ms module parameter
 *
 * Return: the time a job may show no progress, in ms; 0 for no limit.
 */
u32 lumen_sched_job_timeout_ms(void)
{
	return job_timeout_ms;
}

/* Timer expiries a job that shows progress may last: 10 * job_timeout_ms. */
#define LUMEN_TIMEOUT_MAX_CHECKS	20

/* Fatal errors in a row a job on the hardware is forgiven. */
#define LUMEN_FATAL_HANG_LIMIT		1

/**
 * lumen_file_check_guilty - may this file submit?
 * @lfile: the file
 *
 * Return: 0, or -ECANCELED once a job of the file's context was guilty of
 * a fault, a hang or a malformed command.
 */
int lumen_file_check_guilty(struct lumen_file *lfile)
{
	return atomic_read(&lfile->vm->guilty) ? -ECANCELED : 0;
}

static bool lumen_job_banned(struct lumen_job *job)
{
	return atomic_read(&job->vm->guilty);
}

VISIBLE_IF_KUNIT void lumen_ring_push_locked(struct lumen_queue *q, const struct lumen_hw_cmd *cmd)
{
	lockdep_assert_held(&q->ring_lock);

	q->ring[q->tail] = *cmd;
	q->tail = (q->tail + 1) % LUMEN_RING_ENTRIES;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_ring_push_locked);

/* The ring entries of one job: run the command buffer, then signal. */
VISIBLE_IF_KUNIT void lumen_ring_job_cmds(struct lumen_hw_cmd cmds[LUMEN_JOB_RING_ENTRIES],
					  u64 cmdbuf_va, u32 cmdbuf_size, u32 ctx,
					  dma_addr_t fence_addr, u64 seqno)
{
	memset(cmds, 0, LUMEN_JOB_RING_ENTRIES * sizeof(*cmds));
	cmds[0].header = lumen_hw_cmd_header(LUMEN_OP_INDIRECT, 0);
	cmds[0].args[0] = cpu_to_le64(cmdbuf_va);
	cmds[0].args[1] = cpu_to_le64(cmdbuf_size);
	cmds[0].args[2] = cpu_to_le64(ctx);
	cmds[1].header = lumen_hw_cmd_header(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ);
	cmds[1].args[0] = cpu_to_le64(fence_addr);
	cmds[1].args[1] = cpu_to_le64(seqno);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_ring_job_cmds);

static void lumen_ring_write_job_locked(struct lumen_queue *q, struct lumen_job *job)
{
	struct lumen_hw_cmd cmds[LUMEN_JOB_RING_ENTRIES];
	u32 i;

	lockdep_assert_held(&q->ring_lock);

	lumen_ring_job_cmds(cmds, job->cmdbuf_va, job->cmdbuf_size, job->ctx,
			    q->fence_slot_dma, job->hw_fence->base.seqno);
	for (i = 0; i < LUMEN_JOB_RING_ENTRIES; i++)
		lumen_ring_push_locked(q, &cmds[i]);
	job->generation = q->generation;
	lumen_hw_queue_doorbell_locked(q);
}

/*
 * Called once per job by the scheduler, and again for every job still
 * pending after a recovery (drm_sched_resubmit_jobs()).  A job whose
 * commands are still in the ring just hands back its fence.
 */
static struct dma_fence *lumen_sched_run_job(struct drm_sched_job *sched_job)
{
	struct lumen_job *job = to_lumen_job(sched_job);
	struct lumen_queue *q = job->queue;
	struct dma_fence *fence;
	int idx;

	/* Cancelled before it could run. */
	if (unlikely(sched_job->s_fence->finished.error))
		return NULL;

	if (!drm_dev_enter(&q->ldev->drm, &idx))
		return ERR_PTR(-ENODEV);

	mutex_lock(&q->ring_lock);
	if (!job->hw_fence_live) {
		/* Its context is guilty: it never reaches the ring. */
		if (unlikely(lumen_job_banned(job))) {
			fence = ERR_PTR(-ECANCELED);
			goto out;
		}
		lumen_fence_init(q, job->hw_fence, ++q->next_seqno);
		job->hw_fence_live = true;
		lumen_job_account_locked(job);
		lumen_ring_write_job_locked(q, job);
	} else if (job->generation != q->generation &&
		   !dma_fence_is_signaled(&job->hw_fence->base)) {
		/*
		 * Its ring entries went with a reset: a guilty context's job
		 * is not written again, so nothing of it can run any more.
		 */
		if (unlikely(lumen_job_banned(job))) {
			lumen_fence_cancel(q, job->hw_fence, -ECANCELED);
			fence = ERR_PTR(-ECANCELED);
			goto out;
		}
		lumen_ring_write_job_locked(q, job);
	}
	fence = dma_fence_get(&job->hw_fence->base);
out:
	mutex_unlock(&q->ring_lock);

	drm_dev_exit(idx);
	return fence;
}

static bool lumen_job_done_locked(struct lumen_job *job)
{
	lockdep_assert_held(&job->queue->ring_lock);

	return !job->hw_fence_live || dma_fence_is_signaled(&job->hw_fence->base);
}

/*
 * The queue stopped on an MMU fault: say where, and clear the global fault
 * latch so the next fault is latched too.  The per-queue fault registers
 * are this queue's own; the reset clears them.
 */
static void lumen_queue_report_fault_locked(struct lumen_queue *q)
{
	struct lumen_device *ldev = q->ldev;
	u32 info = lumen_queue_read(q, LUMEN_Q_FAULT_INFO);
	u64 va = lumen_read64(ldev, LUMEN_QUEUE_REG(q->id, LUMEN_Q_FAULT_VA));
	u32 reason = LUMEN_FAULT_INFO_REASON(info);

	lockdep_assert_held(&q->ring_lock);

	drm_err_ratelimited(&ldev->drm,
			    "queue %u: MMU fault in context %u at VA %#llx (%s): %s (%u)\n",
			    q->id, LUMEN_FAULT_INFO_CONTEXT(info), va,
			    info & LUMEN_FAULT_INFO_WRITE ? "write" : "read",
			    lumen_fault_reason_name(reason), reason);

	if (lumen_read(ldev, LUMEN_REG_FAULT_STATUS) & LUMEN_FAULT_VALID)
		lumen_write(ldev, LUMEN_REG_FAULT_STATUS, LUMEN_FAULT_VALID);
}

/* The errno the job that stopped @q on a device error gets. */
static int lumen_queue_error_errno_locked(struct lumen_queue *q)
{
	u32 code = lumen_queue_read(q, LUMEN_Q_ERROR);

	lockdep_assert_held(&q->ring_lock);

	if (code == LUMEN_ERR_MMU_FAULT) {
		lumen_queue_report_fault_locked(q);
		return -EFAULT;
	}
	drm_err_ratelimited(&q->ldev->drm,
			    "queue %u: error %u (%s) in context %u at ring entry %u, resetting it\n",
			    q->id, code, lumen_error_name(code),
			    lumen_queue_read(q, LUMEN_Q_CONTEXT),
			    lumen_queue_read(q, LUMEN_Q_ERROR_HEAD));
	return -EIO;
}

/* Seqno of the oldest unsignalled hardware fence of @q, 0 if none. */
static u64 lumen_queue_first_pending(struct lumen_queue *q)
{
	struct lumen_fence *fence;
	unsigned long flags;
	u64 seqno = 0;

	spin_lock_irqsave(&q->fence_lock, flags);
	fence = list_first_entry_or_null(&q->fences, struct lumen_fence, link);
	if (fence)
		seqno = fence->base.seqno;
	spin_unlock_irqrestore(&q->fence_lock, flags);
	return seqno;
}

/*
 * The job whose hardware fence has @seqno: @bad (which the timeout handler
 * took off the pending list) or a job on the list.  The scheduler is
 * stopped, so no job on the list is freed meanwhile.
 */
static struct lumen_job *lumen_queue_find_job(struct lumen_queue *q, struct drm_sched_job *bad,
					      u64 seqno)
{
	struct lumen_job *found = NULL;
	struct drm_sched_job *s_job;

	if (!seqno)
		return NULL;
	if (bad) {
		struct lumen_job *job = to_lumen_job(bad);

		if (job->hw_fence_live && job->hw_fence->base.seqno == seqno)
			return job;
	}
	spin_lock(&q->sched.job_list_lock);
	list_for_each_entry(s_job, &q->sched.pending_list, list) {
		struct lumen_job *job = to_lumen_job(s_job);

		if (job->hw_fence_live && job->hw_fence->base.seqno == seqno) {
			found = job;
			break;
		}
	}
	spin_unlock(&q->sched.job_list_lock);
	return found;
}

/*
 * What the queue's engine did so far: the commands it retired.  Not its
 * bytes or busy time: a WAIT parked on a semaphore that never comes reads
 * it again every millisecond, and that is no progress.
 */
static u64 lumen_queue_progress(struct lumen_queue *q)
{
	u32 engine = q->id % q->ldev->num_engines;

	return lumen_read64(q->ldev, LUMEN_PERF_REG(engine, LUMEN_PERF_COMMANDS));
}

/*
 * The timer expired while @bad was the queue's oldest job: true if it is
 * hung, false if it showed progress since the previous expiry (or this is
 * the first) and gets another period.
 */
static bool lumen_queue_hung_locked(struct lumen_queue *q, struct lumen_job *bad)
{
	u64 seqno = bad->hw_fence->base.seqno;
	u64 sample = lumen_queue_progress(q);

	lockdep_assert_held(&q->ring_lock);

	if (q->hang_seqno != seqno) {
		q->hang_seqno = seqno;
		q->hang_sample = sample;
		q->hang_checks = 1;
		return false;
	}
	if (sample != q->hang_sample && q->hang_checks < LUMEN_TIMEOUT_MAX_CHECKS) {
		q->hang_sample = sample;
		q->hang_checks++;
		return false;
	}
	return true;
}

/* One more reset of @q, and of the engine it feeds. */
static void lumen_queue_count_reset(struct lumen_queue *q)
{
	atomic64_inc(&q->resets);
	atomic64_inc(&q->ldev->engine_resets[q->id % q->ldev->num_engines]);
}

/* Tell udev: LUMEN_RESET=queue with LUMEN_QUEUE=<q>, or LUMEN_RESET=device. */
static void lumen_reset_uevent(struct lumen_device *ldev, struct lumen_queue *q)
{
	struct device *kdev = ldev->drm.accel ? ldev->drm.accel->kdev : ldev->drm.dev;
	char reset[24], queue[24];
	char *envp[3] = { reset };

	snprintf(reset, sizeof(reset), "LUMEN_RESET=%s", q ? "queue" : "device");
	if (q) {
		snprintf(queue, sizeof(queue), "LUMEN_QUEUE=%u", q->id);
		envp[1] = queue;
	}
	kobject_uevent_env(&kdev->kobj, KOBJ_CHANGE, envp);
}

/*
 * Under the ring lock: hand a fatal error to the global reset, catch up
 * with completed jobs, and say what is wrong with the queue: the errno its
 * oldest job must fail with (0 if nothing is) and why, in *@reason.
 */
static int lumen_queue_check_locked(struct lumen_queue *q, struct drm_sched_job *bad,
				    const char **reason)
{
	lockdep_assert_held(&q->ring_lock);

	/* The global reset, queued behind us, recovers every queue. */
	if (lumen_read(q->ldev, LUMEN_REG_STATUS) & LUMEN_STATUS_FATAL) {
		lumen_device_fatal(q->ldev);
		return 0;
	}

	/*
	 * A dropped interrupt leaves the queue's IRQ_STATUS bit set and its
	 * fences unsignalled: acknowledge, and catch up from the fence slot.
	 * A job that completed is innocent, however late its interrupt.
	 */
	lumen_write(q->ldev, LUMEN_REG_IRQ_STATUS + q->id / 32 * sizeof(u32), BIT(q->id % 32));
	lumen_fence_process(q);
	if (lumen_queue_read(q, LUMEN_Q_STATUS) & LUMEN_Q_STATUS_ERROR) {
		int error = lumen_queue_error_errno_locked(q);

		*reason = error == -EFAULT ? "MMU fault" : "command error";
		return error;
	}
	if (bad && !lumen_job_done_locked(to_lumen_job(bad)) &&
	    lumen_queue_hung_locked(q, to_lumen_job(bad))) {
		drm_err_ratelimited(&q->ldev->drm,
				    "queue %u: job made no progress for %u ms, resetting the queue\n",
				    q->id, job_timeout_ms);
		*reason = "timeout";
		return -ETIMEDOUT;
	}
	return 0;
}

/*
 * Stop the queue if it hung or failed, write a devcoredump, fail the guilty
 * job, mark its context and restart the queue.
 */
static void lumen_queue_reset_if_stuck(struct lumen_queue *q, struct drm_sched_job *bad)
{
	const char *reason = NULL;
	struct lumen_job *job;
	u64 seqno = 0;
	int error;

	mutex_lock(&q->ring_lock);
	error = lumen_queue_check_locked(q, bad, &reason);
	if (error)
		seqno = lumen_queue_first_pending(q);
	mutex_unlock(&q->ring_lock);
	if (!error)
		return;

	/*
	 * Outside the ring lock, which the dump need not nest: run_job is
	 * stopped and the queue is stopped or hung, so the ring and the
	 * queue's registers stay as they are until the reset below.
	 */
	job = lumen_queue_find_job(q, bad, seqno);
	lumen_coredump(q->ldev, q, job, reason, error);

	mutex_lock(&q->ring_lock);
	lumen_hw_queue_reset_locked(q);
	lumen_queue_count_reset(q);
	trace_lumen_queue_reset(q, error);
	/* A job that completed before the reset stopped it is innocent. */
	lumen_fence_process(q);
	if (seqno && lumen_queue_first_pending(q) == seqno) {
		/*
		 * Guilty first: the failed fence at once releases the jobs
		 * waiting for it, on other queues too, and their run_job
		 * must see the mark.
		 */
		if (job && ban_guilty)
			atomic_set(&job->vm->guilty, 1);
		lumen_fence_fail_first(q, error);
	}
	lumen_hw_queue_start_locked(q);
	mutex_unlock(&q->ring_lock);

	lumen_reset_uevent(q->ldev, q);
}

/**
 * lumen_queue_recover - bring a queue back after a timeout or an error
 * @q: the queue
 * @bad: the job the scheduler timed out, or NULL after an error interrupt
 *
 * Runs on &lumen_device.reset_wq only.  With run_job stopped, a stuck queue
 * is reset and its guilty job failed before drm_sched_stop(), so the
 * scheduler completes that job with our errno.  drm_sched_stop() detaches
 * every other unfinished job from its hardware fence; resubmitting them
 * writes their commands to the ring again if the queue was reset (or
 * cancels them, for a guilty context), or only re-attaches their fences if
 * it was not (a job given more time, a timeout that raced with the job's
 * completion, a lost interrupt, a spurious error interrupt).
 *
 * Return: false if the device is gone.
 */
static bool lumen_queue_recover(struct lumen_queue *q, struct drm_sched_job *bad)
{
	struct drm_device *drm = &q->ldev->drm;
	bool present;
	int idx;

	drm_sched_wqueue_stop(&q->sched);

	present = drm_dev_enter(drm, &idx);
	if (present)
		lumen_queue_reset_if_stuck(q, bad);
	else
		lumen_fence_fail_all(q, -ENODEV);

	drm_sched_stop(&q->sched, bad);
	/*
	 * drm_sched_resubmit_jobs() is deprecated, but in this kernel it is
	 * the only way to give the jobs detached by drm_sched_stop() their
	 * hardware fences back; run_job() makes replaying a job correct.
	 */
	drm_sched_resubmit_jobs(&q->sched);
	drm_sched_start(&q->sched);

	if (present)
		drm_dev_exit(idx);
	return present;
}

static enum drm_gpu_sched_stat lumen_sched_timedout_job(struct drm_sched_job *sched_job)
{
	struct lumen_job *job = to_lumen_job(sched_job);

	if (!lumen_queue_recover(job->queue, sched_job))
		return DRM_GPU_SCHED_STAT_ENODEV;
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void lumen_sched_free_job(struct drm_sched_job *sched_job)
{
	drm_sched_job_cleanup(sched_job);
	lumen_job_free(to_lumen_job(sched_job));
}

static const struct drm_sched_backend_ops lumen_sched_ops = {
	.run_job = lumen_sched_run_job,
	.timedout_job = lumen_sched_timedout_job,
	.free_job = lumen_sched_free_job,
};

static void lumen_queue_error_work(struct work_struct *work)
{
	struct lumen_queue *q = container_of(work, struct lumen_queue, error_work);

	lumen_queue_recover(q, NULL);
}

/**
 * lumen_queue_error - the device stopped @q on an error
 * @q: the queue
 *
 * Called from the error interrupt handler.
 */
void lumen_queue_error(struct lumen_queue *q)
{
	queue_work(q->ldev->reset_wq, &q->error_work);
}

/*
 * After a device reset: the job that was executing on @q (its oldest
 * unfinished one) ran into a fatal error.  It is run again, as every job
 * behind it is, unless it was executing at a fatal error before too: then
 * it fails with -EIO and its context is guilty.
 */
static void lumen_queue_fatal_locked(struct lumen_queue *q)
{
	struct lumen_job *job;

	lockdep_assert_held(&q->ring_lock);

	job = lumen_queue_find_job(q, NULL, lumen_queue_first_pending(q));
	if (!job || atomic_inc_return(&job->base.karma) <= LUMEN_FATAL_HANG_LIMIT)
		return;
	drm_err(&q->ldev->drm, "queue %u: job executing at %d fatal errors, failing it\n",
		q->id, LUMEN_FATAL_HANG_LIMIT + 1);
	/* Guilty first, as in lumen_queue_reset_if_stuck(). */
	if (ban_guilty)
		atomic_set(&job->vm->guilty, 1);
	lumen_fence_fail_first(q, -EIO);
}

/*
 * A fatal device error stopped every queue, and only a global reset
 * clears it.  Stop every scheduler, write a devcoredump, reset and
 * re-enable the device (the engines' counters are saved first, so sysfs
 * never goes back), restore the MMU roots, restart the queues empty and
 * write every unfinished job to them again: device memory, the page tables
 * and the fence slots survive a device reset, so each job runs again from
 * its start in the same context.  If the device does not come back, every
 * job fails with -EIO.
 */
static void lumen_device_reset_work(struct work_struct *work)
{
	struct lumen_device *ldev = container_of(work, struct lumen_device, reset_work);
	struct drm_device *drm = &ldev->drm;
	bool alive;
	u32 i;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return;
	drm_err(drm, "fatal device error: resetting the device\n");

	for (i = 0; i < ldev->num_queues; i++)
		drm_sched_wqueue_stop(&ldev->queues[i].sched);

	/* Before the reset clears the registers. */
	lumen_coredump(ldev, NULL, NULL, "fatal device error", 0);

	lumen_irq_disable(ldev);
	mutex_lock(&ldev->pm_perf_lock);
	lumen_pm_save_perf_locked(ldev);
	mutex_lock(&ldev->mmu_lock);
	alive = !lumen_hw_reset(ldev) && !lumen_hw_enable_device(ldev);
	if (alive)
		lumen_mmu_restore_locked(ldev);
	mutex_unlock(&ldev->mmu_lock);
	mutex_unlock(&ldev->pm_perf_lock);
	if (!alive)
		drm_err(drm, "the device did not come back: jobs will fail\n");

	atomic64_inc(&ldev->device_resets);
	for (i = 0; i < ldev->num_engines; i++)
		atomic64_inc(&ldev->engine_resets[i]);
	for (i = 0; i < ldev->num_queues; i++) {
		struct lumen_queue *q = &ldev->queues[i];

		mutex_lock(&q->ring_lock);
		atomic64_inc(&q->resets);
		trace_lumen_queue_reset(q, 0);
		lumen_fence_process(q);
		if (alive) {
			lumen_queue_fatal_locked(q);
			lumen_hw_queue_start_locked(q);
		} else {
			lumen_fence_fail_all(q, -EIO);
		}
		mutex_unlock(&q->ring_lock);
	}
	/* The reset disabled every direct hardware queue: tell their owners. */
	lumen_dq_device_reset(ldev);
	if (alive)
		lumen_irq_enable(ldev);

	for (i = 0; i < ldev->num_queues; i++) {
		struct lumen_queue *q = &ldev->queues[i];

		drm_sched_stop(&q->sched, NULL);
		drm_sched_resubmit_jobs(&q->sched);
		drm_sched_start(&q->sched);
	}
	lumen_reset_uevent(ldev, NULL);
	drm_dev_exit(idx);
}

/**
 * lumen_device_fatal - the device reported a fatal error
 * @ldev: the device
 *
 * Called from the error interrupt and from queue recovery.  The reset runs
 * on &lumen_device.reset_wq, after any recovery already there.
 */
void lumen_device_fatal(struct lumen_device *ldev)
{
	queue_work(ldev->reset_wq, &ldev->reset_work);
}

/**
 * lumen_sched_fail_all - fail every job on the hardware, the device is gone
 * @ldev: the device, unplugged, reset, its interrupts disabled
 * @error: negative errno for the jobs' fences
 */
void lumen_sched_fail_all(struct lumen_device *ldev, int error)
{
	u32 i;

	/* Unplugged: a reset work still queued does nothing. */
	cancel_work_sync(&ldev->reset_work);
	for (i = 0; i < ldev->num_queues; i++) {
		struct lumen_queue *q = &ldev->queues[i];

		/* No new error work: the interrupts are off. */
		cancel_work_sync(&q->error_work);
		lumen_fence_fail_all(q, error);
	}
}

static void lumen_sched_fini_action(struct drm_device *drm, void *arg)
{
	struct lumen_queue *q = arg;

	drm_sched_fini(&q->sched);
}

static void lumen_wq_fini_action(struct drm_device *drm, void *arg)
{
	destroy_workqueue(arg);
}

/*
 * Runs first when the DRM device is released: jobs may still be on their
 * way to free_job() (from the schedulers' workqueues or from an entity
 * that was killed), and they use the schedulers and the BOs' device.
 */
static void lumen_wait_jobs_action(struct drm_device *drm, void *arg)
{
	struct lumen_device *ldev = arg;

	wait_var_event(&ldev->job_count, !atomic_read(&ldev->job_count));
}

static int lumen_queue_init(struct lumen_device *ldev, struct lumen_queue *q, u32 id)
{
	struct drm_device *drm = &ldev->drm;
	const struct drm_sched_init_args args = {
		.ops = &lumen_sched_ops,
		.submit_wq = ldev->submit_wq,
		.timeout_wq = ldev->reset_wq,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = LUMEN_RING_ENTRIES - 1,
		/* Two expiries without progress make a hang (see the top). */
		.timeout = job_timeout_ms ? max(msecs_to_jiffies(job_timeout_ms) / 2, 1ul) :
					    MAX_SCHEDULE_TIMEOUT,
		/* Guilt is ours to decide (lumen_job_banned()), not karma's. */
		.hang_limit = INT_MAX,
		.name = q->name,
		.dev = drm->dev,
	};
	int ret;

	q->ldev = ldev;
	q->id = id;
	snprintf(q->name, sizeof(q->name), "lumen-q%u", id);

	ret = drmm_mutex_init(drm, &q->ring_lock);
	if (ret)
		return ret;
	spin_lock_init(&q->fence_lock);
	INIT_LIST_HEAD(&q->fences);
	q->fence_context = dma_fence_context_alloc(1);
	q->fence_slot = ldev->fence_page + id * LUMEN_FENCE_SLOT_STRIDE;
	q->fence_slot_dma = ldev->fence_page_dma + id * LUMEN_FENCE_SLOT_STRIDE;
	INIT_WORK(&q->error_work, lumen_queue_error_work);

	/* Coherent allocations are page aligned, as RING_BASE must be. */
	q->ring = dmam_alloc_coherent(drm->dev, LUMEN_RING_ENTRIES * sizeof(*q->ring),
				      &q->ring_dma, GFP_KERNEL);
	if (!q->ring)
		return -ENOMEM;

	ret = drm_sched_init(&q->sched, &args);
	if (ret)
		return ret;
	q->sched_list[0] = &q->sched;

	return drmm_add_action_or_reset(drm, lumen_sched_fini_action, q);
}

/**
 * lumen_sched_init - set up the queues' rings, fences and schedulers
 * @ldev: the device, probed but not enabled
 *
 * The rings are device-managed (the hardware stops using them at unbind);
 * the schedulers live as long as the DRM device, as open files and their
 * jobs may outlive the PCI function.
 *
 * Return: 0 or a negative errno.
 */
int lumen_sched_init(struct lumen_device *ldev)
{
	struct drm_device *drm = &ldev->drm;
	u32 i;
	int ret;

	INIT_WORK(&ldev->reset_work, lumen_device_reset_work);
	ldev->reset_wq = alloc_ordered_workqueue("%s-reset", WQ_MEM_RECLAIM,
						 dev_name(drm->dev));
	if (!ldev->reset_wq)
		return -ENOMEM;
	ret = drmm_add_action_or_reset(drm, lumen_wq_fini_action, ldev->reset_wq);
	if (ret)
		return ret;

	/*
	 * WQ_MEM_RECLAIM, as the scheduler's own workqueue has: run_job and
	 * free_job are on the way to signalling fences that memory reclaim
	 * may wait for.  Released after the schedulers (actions run in
	 * reverse), so no scheduler work is left on it.
	 */
	ldev->submit_wq = alloc_workqueue("%s-submit", WQ_HIGHPRI | WQ_MEM_RECLAIM, 0,
					  dev_name(drm->dev));
	if (!ldev->submit_wq)
		return -ENOMEM;
	ret = drmm_add_action_or_reset(drm, lumen_wq_fini_action, ldev->submit_wq);
	if (ret)
		return ret;

	ldev->fence_page = dmam_alloc_coherent(drm->dev, PAGE_SIZE, &ldev->fence_page_dma,
					       GFP_KERNEL);
	if (!ldev->fence_page)
		return -ENOMEM;

	ldev->queues = drmm_kcalloc(drm, ldev->num_queues, sizeof(*ldev->queues),
				    GFP_KERNEL);
	if (!ldev->queues)
		return -ENOMEM;

	for (i = 0; i < ldev->num_queues; i++) {
		ret = lumen_queue_init(ldev, &ldev->queues[i], i);
		if (ret)
			return ret;
	}

	return drmm_add_action_or_reset(drm, lumen_wait_jobs_action, ldev);
}

/**
 * lumen_file_entity - the file's scheduler entity for a queue
 * @lfile: the file
 * @queue: a valid queue index
 *
 * Entities are created on first use and live until the file is closed.
 *
 * Return: the entity or an ERR_PTR().
 */
struct drm_sched_entity *lumen_file_entity(struct lumen_file *lfile, u32 queue)
{
	struct lumen_queue *q = &lfile->ldev->queues[queue];
	struct drm_sched_entity *entity;
	int ret;

	mutex_lock(&lfile->lock);
	entity = lfile->entities[queue];
	if (entity)
		goto out;

	entity = kzalloc(sizeof(*entity), GFP_KERNEL);
	if (!entity) {
		entity = ERR_PTR(-ENOMEM);
		goto out;
	}
	ret = drm_sched_entity_init(entity, DRM_SCHED_PRIORITY_NORMAL, q->sched_list,
				    ARRAY_SIZE(q->sched_list), NULL);
	if (ret) {
		kfree(entity);
		entity = ERR_PTR(ret);
		goto out;
	}
	lfile->entities[queue] = entity;
out:
	mutex_unlock(&lfile->lock);
	return entity;
}

/**
 * lumen_file_entities_fini - destroy a closing file's entities
 * @lfile: the file
 *
 * Waits (bounded) for the entities' queued jobs to reach the hardware;
 * jobs already there complete normally.
 */
void lumen_file_entities_fini(struct lumen_file *lfile)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(lfile->entities); i++) {
		if (!lfile->entities[i])
			continue;
		drm_sched_entity_destroy(lfile->entities[i]);
		kfree(lfile->entities[i]);
	}
}
