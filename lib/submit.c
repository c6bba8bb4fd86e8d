// SPDX-License-Identifier: MIT
/*
 * Submission: hand a command buffer to the driver as one job on one
 * hardware queue or user queue, ordered after fences and signalling others.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <xf86drm.h>

#include "internal.h"

/*
 * The GEM handles of @bos into @handles.  -EINVAL for a NULL BO or one of
 * another device (its handle would name an unrelated object of @dev's file).
 */
static int submit_handles(const struct accel_dev *dev,
			  const struct accel_bo *const *bos, unsigned int nbos,
			  uint32_t *handles)
{
	for (unsigned int i = 0; i < nbos; i++) {
		if (!bos[i] || bos[i]->dev != dev)
			return -EINVAL;
		handles[i] = bos[i]->handle;
	}
	return 0;
}

/* Handle lists up to this long live on the stack. */
#define SUBMIT_STACK_HANDLES	16

int accel_submit(struct accel_dev *dev, unsigned int queue,
		 const struct accel_cmdbuf *cb,
		 const struct accel_bo *const *bos, unsigned int nbos,
		 struct accel_fence *wait, struct accel_fence *done)
{
	uint32_t stack[SUBMIT_STACK_HANDLES], *handles = stack;
	struct drm_lumen_submit args = { 0 };
	int ret;

	/* A command buffer over plain memory (cb->bo NULL) has no job to run. */
	if (!dev || !cb || !cb->bo || !cb->cmd_bytes || (nbos && !bos))
		return -EINVAL;
	if (cb->dev != dev || (wait && wait->dev != dev) ||
	    (done && done->dev != dev))
		return -EINVAL;
	/* Replacing a timeline's fence would cut its chain: accel_submit2(). */
	if ((wait && wait->timeline) || (done && done->timeline))
		return -EINVAL;

	if (nbos > SUBMIT_STACK_HANDLES) {
		handles = calloc(nbos, sizeof(*handles));
		if (!handles)
			return -ENOMEM;
	}
	ret = submit_handles(dev, bos, nbos, handles);
	if (ret)
		goto out;

	args.cmdbuf_va = cb->va;
	args.cmdbuf_size = (uint32_t)cb->cmd_bytes;	/* <= max_cmdbuf_size */
	args.queue = queue;
	/*
	 * No list at all without BOs: the driver's fast path.  The command
	 * buffer's own BO is not listed: nothing on the device writes it,
	 * and listing would not keep it mapped anyway.
	 */
	args.bo_handles = nbos ? (uintptr_t)handles : 0;
	args.bo_count = nbos;
	args.in_syncobj = wait ? wait->syncobj : 0;
	args.out_syncobj = done ? done->syncobj : 0;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_SUBMIT, &args))
		ret = -errno;
out:
	if (handles != stack)
		free(handles);
	return ret;
}

/*
 * One drm_lumen_sync per wait and signal, in that order.  A timeline fence
 * needs a point > 0, a binary one point 0: refused here with -EINVAL, as
 * the driver would, so that the error names the caller's mistake.
 */
static int submit_syncs(const struct accel_dev *dev, const struct accel_sync *list,
			unsigned int n, uint32_t out_flag, struct drm_lumen_sync *syncs)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct accel_fence *f = list[i].fence;

		if (!f || f->dev != dev || f->timeline != (list[i].point != 0))
			return -EINVAL;
		syncs[i] = (struct drm_lumen_sync){
			.flags = out_flag | (f->timeline ? DRM_LUMEN_SYNC_TIMELINE : 0),
			.handle = f->syncobj,
			.point = list[i].point,
		};
	}
	return 0;
}

int libaccel_submit(struct accel_dev *dev, uint32_t queue, uint32_t flags,
		    const struct accel_cmdbuf *cb,
		    const struct accel_bo *const *bos, unsigned int nbos,
		    const struct accel_sync *waits, unsigned int nwaits,
		    const struct accel_sync *signals, unsigned int nsignals)
{
	uint32_t stack[SUBMIT_STACK_HANDLES], *handles = stack;
	struct drm_lumen_submit args = { 0 };
	struct drm_lumen_sync *syncs = NULL;
	unsigned int nsyncs;
	int ret;

	if (!dev || !cb || !cb->bo || !cb->cmd_bytes || cb->dev != dev ||
	    (nbos && !bos) || (nwaits && !waits) || (nsignals && !signals))
		return -EINVAL;
	if (nwaits > ACCEL_MAX_SYNCS || nsignals > ACCEL_MAX_SYNCS - nwaits)
		return -E2BIG;
	nsyncs = nwaits + nsignals;

	if (nbos > SUBMIT_STACK_HANDLES) {
		handles = calloc(nbos, sizeof(*handles));
		if (!handles)
			return -ENOMEM;
	}
	if (nsyncs) {
		syncs = calloc(nsyncs, sizeof(*syncs));
		if (!syncs) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = submit_handles(dev, bos, nbos, handles);
	if (!ret)
		ret = submit_syncs(dev, waits, nwaits, 0, syncs);
	if (!ret)
		ret = submit_syncs(dev, signals, nsignals, DRM_LUMEN_SYNC_OUT,
				   syncs + nwaits);
	if (ret)
		goto out;

	args.cmdbuf_va = cb->va;
	args.cmdbuf_size = (uint32_t)cb->cmd_bytes;	/* <= max_cmdbuf_size */
	args.queue = queue;
	args.bo_handles = nbos ? (uintptr_t)handles : 0;
	args.bo_count = nbos;
	/* Without syncs, the call an older driver takes too. */
	args.flags = flags | (nsyncs ? DRM_LUMEN_SUBMIT_SYNCS : 0);
	args.syncs = nsyncs ? (uintptr_t)syncs : 0;
	args.sync_count = nsyncs;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_SUBMIT, &args))
		ret = -errno;
out:
	free(syncs);
	if (handles != stack)
		free(handles);
	return ret;
}

int accel_submit2(struct accel_dev *dev, unsigned int queue,
		  const struct accel_cmdbuf *cb,
		  const struct accel_bo *const *bos, unsigned int nbos,
		  const struct accel_sync *waits, unsigned int nwaits,
		  const struct accel_sync *signals, unsigned int nsignals)
{
	return libaccel_submit(dev, queue, 0, cb, bos, nbos, waits, nwaits,
			       signals, nsignals);
}
