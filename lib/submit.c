// SPDX-License-Identifier: MIT
/*
 * Submission: hand a command buffer to the driver as one job on one
 * hardware queue, ordered after one fence and signalling another.
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
