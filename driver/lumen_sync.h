/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Lumen accelerator: the explicit syncobjs of a submission
 * (&drm_lumen_submit.syncs), binary and timeline.
 */
#ifndef _LUMEN_SYNC_H_
#define _LUMEN_SYNC_H_

#include <linux/types.h>

struct dma_fence;
struct dma_fence_chain;
struct drm_file;
struct drm_lumen_submit;
struct drm_lumen_sync;
struct drm_sched_job;
struct drm_syncobj;

/* Most entries one DRM_IOCTL_LUMEN_SUBMIT may have at &drm_lumen_submit.syncs. */
#define LUMEN_MAX_JOB_SYNCS	256

/**
 * struct lumen_out_sync - a syncobj to signal, looked up before the job is armed
 */
struct lumen_out_sync {
	/** @syncobj: referenced */
	struct drm_syncobj *syncobj;
	/** @chain: preallocated chain node of a timeline point, else NULL */
	struct dma_fence_chain *chain;
	/** @point: timeline point, 0 for binary */
	u64 point;
};

/**
 * struct lumen_syncs - the syncs of one submission, between the ioctl's
 * checks and its end; owned by the ioctl, never shared.
 */
struct lumen_syncs {
	/** @entries: copy of the user's array */
	struct drm_lumen_sync *entries;
	/** @count: entries in @entries */
	u32 count;
	/** @outs: the out-syncs of @entries, in order */
	struct lumen_out_sync *outs;
	/** @out_count: entries of @outs filled */
	u32 out_count;
};

#if IS_ENABLED(CONFIG_KUNIT)
int lumen_sync_check_entry(const struct drm_lumen_sync *sync);
#endif
int lumen_syncs_get(struct lumen_syncs *syncs, struct drm_file *file,
		    const struct drm_lumen_submit *args);
int lumen_syncs_add_deps(struct lumen_syncs *syncs, struct drm_sched_job *job,
			 struct drm_file *file);
void lumen_syncs_signal(struct lumen_syncs *syncs, struct dma_fence *done);
void lumen_syncs_put(struct lumen_syncs *syncs);

#endif /* _LUMEN_SYNC_H_ */
