// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: user queues.
 *
 * A user queue is one drm_sched entity of a file, with a priority, feeding
 * one hardware queue of the engine the user asked for.  The device serves
 * the hardware queues bound to an engine round-robin, at most 64 commands
 * of one queue per turn (Documentation/device.rst), so tenants on
 * different hardware queues of an engine cannot starve each other.  That
 * is what placement aims for: a new user queue goes to the hardware queue
 * of its engine (or class) with the fewest user queues of other files,
 * then the fewest of its own file, then the lowest index; so one file's
 * queues spread over every hardware queue, and different files' queues
 * share a hardware queue only when there are more of them than hardware
 * queues.
 *
 * Within a hardware queue, jobs run in ring order, and drm_sched writes a
 * job to the ring as soon as it is ready and the ring has room (511 jobs).
 * A tenant sharing a hardware queue with a flood would wait behind all of
 * it; so a user queue may have at most LUMEN_USER_QUEUE_MAX_JOBS jobs
 * unfinished, and a submit beyond that fails with -EAGAIN.  A job of
 * another tenant then waits behind at most that many jobs of each other
 * user queue on its hardware queue (Documentation/scheduling.rst).
 */

#include <linux/capability.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

static const enum drm_sched_priority lumen_queue_sched_priority[] = {
	[DRM_LUMEN_QUEUE_PRIORITY_LOW] = DRM_SCHED_PRIORITY_LOW,
	[DRM_LUMEN_QUEUE_PRIORITY_NORMAL] = DRM_SCHED_PRIORITY_NORMAL,
	[DRM_LUMEN_QUEUE_PRIORITY_HIGH] = DRM_SCHED_PRIORITY_HIGH,
};

/* The binding lumen_hw.c programs: queue q runs on engine q % num_engines. */
static u32 lumen_queue_engine(struct lumen_device *ldev, u32 q)
{
	return q % ldev->num_engines;
}

/*
 * The device engines [*first, *last] a create may use, or -EINVAL (also
 * when no hardware queue runs on them: a device configured with fewer
 * queues than engines).  The DMA engine is the last one, num_cores.
 */
static int lumen_queue_engines(struct lumen_device *ldev,
			       const struct drm_lumen_queue_create *args,
			       u32 *first, u32 *last)
{
	u32 count, q;

	switch (args->engine_class) {
	case DRM_LUMEN_ENGINE_COMPUTE:
		*first = 0;
		count = ldev->num_cores;
		break;
	case DRM_LUMEN_ENGINE_DMA:
		*first = ldev->num_cores;
		count = 1;
		break;
	default:
		return -EINVAL;
	}
	if (args->engine == DRM_LUMEN_ENGINE_ANY) {
		if (!count)
			return -EINVAL;
		*last = *first + count - 1;
	} else {
		if (args->engine >= count)
			return -EINVAL;
		*first += args->engine;
		*last = *first;
	}
	for (q = 0; q < ldev->num_queues; q++)
		if (lumen_queue_engine(ldev, q) >= *first && lumen_queue_engine(ldev, q) <= *last)
			return 0;
	return -EINVAL;
}

/*
 * The hardware queue for a new user queue of @lfile on engines [first,
 * last], which have one at least: fewest other files' user queues, then
 * fewest of this file's, then the lowest index.
 */
static int lumen_queue_place_locked(struct lumen_file *lfile, u32 first, u32 last)
{
	struct lumen_device *ldev = lfile->ldev;
	u32 best_others = U32_MAX, best_mine = U32_MAX;
	int best = -EINVAL;
	u32 q;

	lockdep_assert_held(&lfile->lock);

	for (q = 0; q < ldev->num_queues; q++) {
		u32 engine = lumen_queue_engine(ldev, q);
		u32 mine = lfile->hwq_users[q];
		u32 all = atomic_read(&ldev->queues[q].user_queues);
		/* Other files' creates and destroys race with us: clamp. */
		u32 others = all > mine ? all - mine : 0;

		if (engine < first || engine > last)
			continue;
		if (others < best_others || (others == best_others && mine < best_mine)) {
			best = q;
			best_others = others;
			best_mine = mine;
		}
	}
	return best;
}

static int lumen_queue_check_args(const struct drm_lumen_queue_create *args)
{
	if (args->flags || args->pad)
		return -EINVAL;
	if (args->priority >= ARRAY_SIZE(lumen_queue_sched_priority))
		return -EINVAL;
	return 0;
}

/* A free id of @lfile, or -ENOSPC. */
static int lumen_queue_free_slot_locked(struct lumen_file *lfile)
{
	int i;

	lockdep_assert_held(&lfile->lock);

	for (i = 0; i < ARRAY_SIZE(lfile->user_queues); i++)
		if (!lfile->user_queues[i])
			return i;
	return -ENOSPC;
}

int lumen_ioctl_queue_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_queue_create *args = data;
	struct lumen_user_queue *uq;
	u32 first, last;
	int slot, hwq;
	int ret;

	ret = lumen_queue_check_args(args);
	if (ret)
		return ret;
	ret = lumen_queue_engines(ldev, args, &first, &last);
	if (ret)
		return ret;
	/* As amdgpu and panthor: above normal needs CAP_SYS_NICE. */
	if (args->priority > DRM_LUMEN_QUEUE_PRIORITY_NORMAL && !capable(CAP_SYS_NICE))
		return -EACCES;

	uq = kzalloc(sizeof(*uq), GFP_KERNEL);
	if (!uq)
		return -ENOMEM;
	kref_init(&uq->ref);

	mutex_lock(&lfile->lock);
	slot = lumen_queue_free_slot_locked(lfile);
	if (slot < 0) {
		ret = slot;
		goto err_unlock;
	}
	hwq = lumen_queue_place_locked(lfile, first, last);
	if (hwq < 0) {
		ret = hwq;
		goto err_unlock;
	}
	uq->queue = &ldev->queues[hwq];
	ret = drm_sched_entity_init(&uq->entity, lumen_queue_sched_priority[args->priority],
				    uq->queue->sched_list, ARRAY_SIZE(uq->queue->sched_list),
				    NULL);
	if (ret)
		goto err_unlock;
	uq->id = slot + 1;
	lfile->user_queues[slot] = uq;
	lfile->hwq_users[hwq]++;
	atomic_inc(&uq->queue->user_queues);
	mutex_unlock(&lfile->lock);

	args->id = uq->id;
	args->hw_queue = hwq;
	args->hw_engine = lumen_queue_engine(ldev, hwq);
	return 0;

err_unlock:
	mutex_unlock(&lfile->lock);
	kfree(uq);
	return ret;
}

static void lumen_user_queue_release(struct kref *ref)
{
	kfree(container_of(ref, struct lumen_user_queue, ref));
}

/**
 * lumen_user_queue_put - drop a reference to a user queue
 * @uq: the queue
 */
void lumen_user_queue_put(struct lumen_user_queue *uq)
{
	kref_put(&uq->ref, lumen_user_queue_release);
}

/**
 * lumen_user_queue_get - reserve a job slot on a user queue for a submit
 * @lfile: the submitting file
 * @id: the user queue id from the submit
 *
 * On success the caller holds a reference and one of the queue's
 * LUMEN_USER_QUEUE_MAX_JOBS job slots; the job's lumen_job.uq takes both
 * over.  The queue may still be destroyed before the job is pushed: the
 * push checks &lumen_user_queue.dead under &lumen_file.lock.
 *
 * Return: the queue, ERR_PTR(-ENOENT) for an id that names no queue, or
 * ERR_PTR(-EAGAIN) if the queue has its maximum of unfinished jobs.
 */
struct lumen_user_queue *lumen_user_queue_get(struct lumen_file *lfile, u32 id)
{
	struct lumen_user_queue *uq = NULL;

	mutex_lock(&lfile->lock);
	if (id >= 1 && id <= ARRAY_SIZE(lfile->user_queues))
		uq = lfile->user_queues[id - 1];
	if (uq)
		kref_get(&uq->ref);
	mutex_unlock(&lfile->lock);
	if (!uq)
		return ERR_PTR(-ENOENT);

	if (!atomic_add_unless(&uq->unfinished, 1, LUMEN_USER_QUEUE_MAX_JOBS)) {
		lumen_user_queue_put(uq);
		return ERR_PTR(-EAGAIN);
	}
	return uq;
}

static void lumen_user_queue_job_finished(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct lumen_job *job = container_of(cb, struct lumen_job, uq_cb);

	/* The job, and its reference to the queue, outlive this callback. */
	atomic_dec(&job->uq->unfinished);
}

/**
 * lumen_user_queue_job_armed - the job's slot ends when its fence signals
 * @job: a job of a user queue, armed and not yet pushed
 */
void lumen_user_queue_job_armed(struct lumen_job *job)
{
	job->uq_cb_armed = true;
	if (dma_fence_add_callback(&job->base.s_fence->finished, &job->uq_cb,
				   lumen_user_queue_job_finished))
		lumen_user_queue_job_finished(NULL, &job->uq_cb);
}

/**
 * lumen_user_queue_job_unarmed - a job that never ran gives its slot back
 * @job: a job of a user queue being freed
 */
void lumen_user_queue_job_unarmed(struct lumen_job *job)
{
	if (!job->uq_cb_armed)
		atomic_dec(&job->uq->unfinished);
}

/*
 * Taken out of the file's table already: no push can reach the entity
 * after we mark it dead.  drm_sched_entity_destroy() waits until every
 * job of the entity is on the hardware (a SIGKILLed, exiting process's
 * queued jobs are cancelled instead); jobs on the hardware complete
 * normally, and the last one frees the queue.
 */
static void lumen_user_queue_destroy(struct lumen_file *lfile, struct lumen_user_queue *uq)
{
	mutex_lock(&lfile->lock);
	uq->dead = true;
	lfile->hwq_users[uq->queue->id]--;
	mutex_unlock(&lfile->lock);

	drm_sched_entity_destroy(&uq->entity);
	atomic_dec(&uq->queue->user_queues);
	lumen_user_queue_put(uq);
}

int lumen_ioctl_queue_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_queue_destroy *args = data;
	struct lumen_user_queue *uq = NULL;

	if (args->pad)
		return -EINVAL;

	mutex_lock(&lfile->lock);
	if (args->id >= 1 && args->id <= ARRAY_SIZE(lfile->user_queues)) {
		uq = lfile->user_queues[args->id - 1];
		lfile->user_queues[args->id - 1] = NULL;
	}
	mutex_unlock(&lfile->lock);
	if (!uq)
		return -ENOENT;

	lumen_user_queue_destroy(lfile, uq);
	return 0;
}

/**
 * lumen_file_queues_fini - destroy a closing file's user queues
 * @lfile: the file; no ioctl of it runs any more
 */
void lumen_file_queues_fini(struct lumen_file *lfile)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(lfile->user_queues); i++) {
		struct lumen_user_queue *uq = lfile->user_queues[i];

		if (!uq)
			continue;
		lfile->user_queues[i] = NULL;
		lumen_user_queue_destroy(lfile, uq);
	}
}
