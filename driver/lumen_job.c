// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: job submission.
 *
 * A job names a command buffer by device VA and size in the submitting
 * file's address space.  The kernel does not read it: the device runs it
 * in the file's MMU context (INDIRECT), where it can reach only the BOs the
 * file holds handles to, and where any other address faults.  So the
 * checks here are of the arguments only; what the commands do is the
 * device's to check (Documentation/commands.rst).
 *
 * The listed BOs give implicit synchronisation: the job waits for every
 * fence already on them, and adds its own, as a writer (as a reader for a
 * read-only BO, which it cannot write).  A submit without BOs skips all of
 * that: the NOP round trip benchmark measures that path.  Explicit
 * synchronisation with many syncobjs is lumen_sync.c's.
 *
 * A job goes to a hardware queue through the file's entity for it, or,
 * with DRM_LUMEN_SUBMIT_QUEUE_ID, through a user queue's entity
 * (lumen_queue.c): then the job holds a reference to the user queue and
 * one of its job slots until its scheduler fence signals.
 */

#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>

#include <drm/drm_drv.h>
#include <drm/drm_exec.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"
#include "lumen_trace.h"
#include "lumen_sync.h"
#include "drm/lumen_accel.h"

/*
 * The checks of DRM_IOCTL_LUMEN_SUBMIT's arguments that need no lookup, in
 * the order Documentation/uapi.rst gives them.
 */
VISIBLE_IF_KUNIT int lumen_submit_check_args(u32 num_queues, const struct drm_lumen_submit *args)
{
	if ((args->flags & ~DRM_LUMEN_SUBMIT_FLAGS) || args->pad)
		return -EINVAL;
	if (!(args->flags & DRM_LUMEN_SUBMIT_SYNCS) && (args->syncs || args->sync_count))
		return -EINVAL;
	if (!(args->flags & DRM_LUMEN_SUBMIT_QUEUE_ID) && args->queue >= num_queues)
		return -EINVAL;
	if (!args->cmdbuf_size || !IS_ALIGNED(args->cmdbuf_size, LUMEN_IB_ALIGN))
		return -EINVAL;
	if (args->cmdbuf_size > LUMEN_IB_MAX_SIZE)
		return -E2BIG;
	if (!IS_ALIGNED(args->cmdbuf_va, LUMEN_IB_ALIGN) ||
	    args->cmdbuf_va < LUMEN_VA_START ||
	    args->cmdbuf_va > LUMEN_VA_END - args->cmdbuf_size)
		return -EINVAL;
	if (args->bo_count > LUMEN_MAX_JOB_BOS)
		return -E2BIG;
	if (args->sync_count > LUMEN_MAX_JOB_SYNCS)
		return -E2BIG;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_submit_check_args);

static bool lumen_bo_read_only(struct drm_gem_object *obj)
{
	/* Set at creation, never changed: no lock needed. */
	return lumen_bo_maps(obj)->flags & DRM_LUMEN_BO_READ_ONLY;
}

/*
 * With the BOs locked: wait for their fences.  Before arming, as adding
 * dependencies may fail.
 */
static int lumen_job_add_implicit_deps_locked(struct lumen_job *job)
{
	u32 i;
	int ret;

	for (i = 0; i < job->bo_count; i++) {
		struct drm_gem_object *obj = job->bos[i];

		dma_resv_assert_held(obj->resv);
		ret = drm_sched_job_add_implicit_dependencies(&job->base, obj,
							      !lumen_bo_read_only(obj));
		if (ret)
			return ret;
	}
	return 0;
}

/* Arm, publish the fence, push.  Under &lumen_file.lock; nothing can fail. */
static void lumen_job_arm_push_locked(struct lumen_file *lfile, struct lumen_job *job,
				      struct drm_exec *exec, struct dma_fence **done)
{
	u32 i;

	lockdep_assert_held(&lfile->lock);

	drm_sched_job_arm(&job->base);
	if (job->uq)
		lumen_user_queue_job_armed(job);
	trace_lumen_job_submit(job);
	*done = dma_fence_get(&job->base.s_fence->finished);
	for (i = 0; i < job->bo_count; i++)
		dma_resv_add_fence(job->bos[i]->resv, *done,
				   lumen_bo_read_only(job->bos[i]) ? DMA_RESV_USAGE_READ :
								     DMA_RESV_USAGE_WRITE);
	/*
	 * Unlock before the push: a pushed job may complete and drop its BO
	 * references at once, and if userspace closed a handle meanwhile,
	 * drm_exec would free that BO (which takes its dma_resv lock) while
	 * still holding the locks of the others.
	 */
	if (exec)
		drm_exec_fini(exec);
	lumen_vm_job_push(job->vm, job);
	drm_sched_entity_push_job(&job->base);
}

/*
 * A user queue destroyed since the submit looked it up takes no more jobs:
 * its entity is being destroyed.  -ENOENT, as if the lookup had failed.
 */
static int lumen_job_queue_gone_locked(struct lumen_file *lfile, struct lumen_job *job)
{
	lockdep_assert_held(&lfile->lock);

	return job->uq && job->uq->dead ? -ENOENT : 0;
}

/*
 * Lock the BOs (if any), add the dependencies, then arm and push the job.
 * Once armed, a job must be pushed, so everything that can fail comes
 * before.
 */
static int lumen_submit_push(struct lumen_job *job, struct lumen_file *lfile,
			     struct dma_fence **done)
{
	struct drm_exec exec;
	int ret;

	if (!job->bo_count) {
		mutex_lock(&lfile->lock);
		ret = lumen_job_queue_gone_locked(lfile, job);
		if (!ret)
			lumen_job_arm_push_locked(lfile, job, NULL, done);
		mutex_unlock(&lfile->lock);
		return ret;
	}

	drm_exec_init(&exec, DRM_EXEC_INTERRUPTIBLE_WAIT | DRM_EXEC_IGNORE_DUPLICATES,
		      job->bo_count);
	drm_exec_until_all_locked(&exec) {
		ret = drm_exec_prepare_array(&exec, job->bos, job->bo_count, 1);
		drm_exec_retry_on_contention(&exec);
		if (ret)
			goto err;
	}

	ret = lumen_job_add_implicit_deps_locked(job);
	if (ret)
		goto err;

	mutex_lock(&lfile->lock);
	ret = lumen_job_queue_gone_locked(lfile, job);
	if (ret) {
		mutex_unlock(&lfile->lock);
		goto err;
	}
	lumen_job_arm_push_locked(lfile, job, &exec, done);
	mutex_unlock(&lfile->lock);
	return 0;

err:
	drm_exec_fini(&exec);
	return ret;
}

static struct lumen_job *lumen_job_alloc(struct lumen_device *ldev, struct lumen_file *lfile,
					 const struct drm_lumen_submit *args,
					 struct lumen_user_queue *uq)
{
	struct lumen_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job) {
		if (uq) {
			atomic_dec(&uq->unfinished);
			lumen_user_queue_put(uq);
		}
		return NULL;
	}
	atomic_inc(&ldev->job_count);
	job->ldev = ldev;
	/* The job owns the caller's reference and job slot from here. */
	job->uq = uq;
	job->queue = uq ? uq->queue : &ldev->queues[args->queue];
	job->vm = lumen_vm_get(lfile->vm);
	job->cmdbuf_va = args->cmdbuf_va;
	job->cmdbuf_size = args->cmdbuf_size;
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL);
	if (!job->hw_fence) {
		lumen_job_free(job);
		return NULL;
	}
	return job;
}

/**
 * lumen_job_free - release a job and everything it references
 * @job: the job; drm_sched_job_cleanup() was called if it was initialised
 *
 * Process context: releasing the VM's zombies and the VM takes mutexes.
 */
void lumen_job_free(struct lumen_job *job)
{
	struct lumen_device *ldev = job->ldev;
	u32 i;

	for (i = 0; i < job->bo_count; i++)
		if (job->bos[i])
			drm_gem_object_put(job->bos[i]);
	kvfree(job->bos);
	lumen_job_account_fini(job);
	if (job->hw_fence_live)
		dma_fence_put(&job->hw_fence->base);
	else
		kfree(job->hw_fence);
	lumen_vm_job_done(job->vm, job);
	lumen_vm_put(job->vm);
	lumen_pm_job_put(job);
	if (job->uq) {
		lumen_user_queue_job_unarmed(job);
		lumen_user_queue_put(job->uq);
	}
	kfree(job);

	if (atomic_dec_and_test(&ldev->job_count))
		wake_up_var(&ldev->job_count);
}

int lumen_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_submit *args = data;
	struct drm_syncobj *out_syncobj = NULL;
	struct lumen_user_queue *uq = NULL;
	struct lumen_syncs syncs = {};
	struct drm_sched_entity *entity;
	struct lumen_job *job;
	struct dma_fence *done;
	int ret;
	int idx;

	ret = lumen_submit_check_args(ldev->num_queues, args);
	if (ret)
		return ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->flags & DRM_LUMEN_SUBMIT_QUEUE_ID) {
		uq = lumen_user_queue_get(lfile, args->queue);
		if (IS_ERR(uq)) {
			ret = PTR_ERR(uq);
			goto out;
		}
	}

	job = lumen_job_alloc(ldev, lfile, args, uq);
	if (!job) {
		ret = -ENOMEM;
		goto out;
	}

	/* Resumes the device if it is suspended; held until the job is freed. */
	ret = lumen_pm_job_get(job);
	if (ret)
		goto err_free;

	if (args->bo_count) {
		/* Sets job->bos even on failure, with the BOs it found. */
		ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
					     args->bo_count, &job->bos);
		if (job->bos)
			job->bo_count = args->bo_count;
		if (ret)
			goto err_free;
	}

	if (args->out_syncobj) {
		out_syncobj = drm_syncobj_find(file, args->out_syncobj);
		if (!out_syncobj) {
			ret = -ENOENT;
			goto err_free;
		}
	}

	ret = lumen_syncs_get(&syncs, file, args);
	if (ret)
		goto err_free;

	entity = uq ? &uq->entity : lumen_file_entity(lfile, args->queue);
	if (IS_ERR(entity)) {
		ret = PTR_ERR(entity);
		goto err_free;
	}

	ret = drm_sched_job_init(&job->base, entity, LUMEN_JOB_RING_ENTRIES, lfile,
				 file->client_id);
	if (ret)
		goto err_free;

	if (args->in_syncobj) {
		ret = drm_sched_job_add_syncobj_dependency(&job->base, file,
							   args->in_syncobj, 0);
		if (ret)
			goto err_cleanup;
	}

	ret = lumen_syncs_add_deps(&syncs, &job->base, file);
	if (ret)
		goto err_cleanup;

	/* L (recovery): a guilty context submits no more (lumen_sched.c). */
	ret = lumen_file_check_guilty(lfile);
	if (ret)
		goto err_cleanup;

	/*
	 * The context stays bound while the job exists once it is pushed.
	 * Unpin through the file's VM: a pushed job may be freed already.
	 */
	ret = lumen_ctx_pin(lfile->vm);
	if (ret < 0)
		goto err_cleanup;
	job->ctx = ret;
	ret = lumen_submit_push(job, lfile, &done);
	lumen_ctx_unpin(lfile->vm);
	if (ret)
		goto err_cleanup;

	/* The scheduler owns the job now. */
	if (out_syncobj)
		drm_syncobj_replace_fence(out_syncobj, done);
	lumen_syncs_signal(&syncs, done);
	dma_fence_put(done);
	goto out;

err_cleanup:
	drm_sched_job_cleanup(&job->base);
err_free:
	lumen_job_free(job);
out:
	lumen_syncs_put(&syncs);
	if (out_syncobj)
		drm_syncobj_put(out_syncobj);
	drm_dev_exit(idx);
	return ret;
}
