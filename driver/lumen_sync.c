// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: explicit synchronisation of a submission with any
 * number of syncobjs (&drm_lumen_submit.syncs), binary or timeline.
 *
 * The semantics are the DRM core's (drivers/gpu/drm/drm_syncobj.c), used
 * through its helpers rather than re-implemented:
 *  - an in-sync is a scheduler dependency on drm_syncobj_find_fence() of
 *    (handle, point) without WAIT_FOR_SUBMIT, so a syncobj without a fence,
 *    or a timeline point not submitted yet, is -EINVAL, and a point already
 *    signalled (and collected) is a signalled stub fence;
 *  - a binary out-sync gets the job's fence by drm_syncobj_replace_fence();
 *  - a timeline out-sync gets it as a new point by drm_syncobj_add_point(),
 *    with a dma_fence_chain node allocated here, before the job is armed,
 *    since nothing may fail after that.
 * Every entry is checked before any lookup, and every lookup and allocation
 * is done before the job is armed: a bad submission changes nothing.
 */

#include <linux/dma-fence-chain.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/gpu_scheduler.h>
#include <drm/drm_syncobj.h>

#include <kunit/visibility.h>

#include "lumen_sync.h"
#include "drm/lumen_accel.h"

/**
 * lumen_sync_check_entry - the checks of one &drm_lumen_sync needing no lookup
 * @sync: the entry
 *
 * Return: 0, or -EINVAL for an unknown flag, a timeline entry with point 0
 * or a binary one with a point.
 */
VISIBLE_IF_KUNIT int lumen_sync_check_entry(const struct drm_lumen_sync *sync)
{
	if (sync->flags & ~DRM_LUMEN_SYNC_FLAGS)
		return -EINVAL;
	if (!!(sync->flags & DRM_LUMEN_SYNC_TIMELINE) != !!sync->point)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_sync_check_entry);

/* Look up one out-sync; for a timeline point, preallocate its chain node. */
static int lumen_out_sync_get(struct lumen_out_sync *out, struct drm_file *file,
			      const struct drm_lumen_sync *sync)
{
	out->syncobj = drm_syncobj_find(file, sync->handle);
	if (!out->syncobj)
		return -ENOENT;
	out->point = sync->point;
	if (sync->flags & DRM_LUMEN_SYNC_TIMELINE) {
		out->chain = dma_fence_chain_alloc();
		if (!out->chain) {
			drm_syncobj_put(out->syncobj);
			out->syncobj = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/**
 * lumen_syncs_get - copy and check the syncs of a submission, look up its out-syncs
 * @syncs: zeroed; filled even on failure, release with lumen_syncs_put()
 * @file: the submitting file, whose handles the entries are
 * @args: the submission; its flags, @sync_count and @pad are checked already
 *
 * Return: 0, -EFAULT, -ENOMEM, -EINVAL for a bad entry or -ENOENT for an
 * out-sync handle that names no syncobj.  In-sync handles are looked up by
 * lumen_syncs_add_deps().
 */
int lumen_syncs_get(struct lumen_syncs *syncs, struct drm_file *file,
		    const struct drm_lumen_submit *args)
{
	u32 i, outs = 0;
	int ret;

	if (!args->sync_count)
		return 0;
	syncs->entries = memdup_array_user(u64_to_user_ptr(args->syncs), args->sync_count,
					   sizeof(*syncs->entries));
	if (IS_ERR(syncs->entries)) {
		ret = PTR_ERR(syncs->entries);
		syncs->entries = NULL;
		return ret;
	}
	syncs->count = args->sync_count;

	for (i = 0; i < syncs->count; i++) {
		ret = lumen_sync_check_entry(&syncs->entries[i]);
		if (ret)
			return ret;
		if (syncs->entries[i].flags & DRM_LUMEN_SYNC_OUT)
			outs++;
	}
	if (!outs)
		return 0;

	syncs->outs = kcalloc(outs, sizeof(*syncs->outs), GFP_KERNEL);
	if (!syncs->outs)
		return -ENOMEM;
	for (i = 0; i < syncs->count; i++) {
		if (!(syncs->entries[i].flags & DRM_LUMEN_SYNC_OUT))
			continue;
		ret = lumen_out_sync_get(&syncs->outs[syncs->out_count], file,
					 &syncs->entries[i]);
		if (ret)
			return ret;
		syncs->out_count++;
	}
	return 0;
}

/**
 * lumen_syncs_add_deps - make @job wait for every in-sync
 * @syncs: from lumen_syncs_get()
 * @job: initialised, not armed
 * @file: the submitting file
 *
 * Return: 0, or the error of drm_syncobj_find_fence(): -ENOENT for a
 * handle that names no syncobj, -EINVAL for one without a fence or a
 * timeline point not submitted yet; -ENOMEM.
 */
int lumen_syncs_add_deps(struct lumen_syncs *syncs, struct drm_sched_job *job,
			 struct drm_file *file)
{
	u32 i;
	int ret;

	for (i = 0; i < syncs->count; i++) {
		const struct drm_lumen_sync *sync = &syncs->entries[i];

		if (sync->flags & DRM_LUMEN_SYNC_OUT)
			continue;
		ret = drm_sched_job_add_syncobj_dependency(job, file, sync->handle, sync->point);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * lumen_syncs_signal - give the job's fence to every out-sync
 * @syncs: from lumen_syncs_get(); its chain nodes are consumed
 * @done: the job's completion fence
 *
 * Cannot fail: everything was looked up and allocated before.
 */
void lumen_syncs_signal(struct lumen_syncs *syncs, struct dma_fence *done)
{
	u32 i;

	for (i = 0; i < syncs->out_count; i++) {
		struct lumen_out_sync *out = &syncs->outs[i];

		if (out->chain) {
			drm_syncobj_add_point(out->syncobj, out->chain, done, out->point);
			out->chain = NULL;
		} else {
			drm_syncobj_replace_fence(out->syncobj, done);
		}
	}
}

/**
 * lumen_syncs_put - release what lumen_syncs_get() took
 * @syncs: the syncs; unused chain nodes are freed
 */
void lumen_syncs_put(struct lumen_syncs *syncs)
{
	u32 i;

	for (i = 0; i < syncs->out_count; i++) {
		dma_fence_chain_free(syncs->outs[i].chain);
		drm_syncobj_put(syncs->outs[i].syncobj);
	}
	kfree(syncs->outs);
	kfree(syncs->entries);
}
