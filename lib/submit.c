// SPDX-License-Identifier: MIT
/*
 * Submission: hand a command buffer to the driver as one job on one
 * hardware queue, ordered after one fence and signalling another.
 */
#include <errno.h>
#include <stdint.h>

#include <xf86drm.h>

#include "internal.h"

int accel_submit(struct accel_dev *dev, unsigned int queue,
		 const struct accel_cmdbuf *cb, struct accel_fence *wait,
		 struct accel_fence *done)
{
	struct drm_lumen_submit args = { 0 };

	if (!dev || !cb || !cb->count)
		return -EINVAL;
	/* Handles of another file would name unrelated objects here. */
	if ((cb->dev && cb->dev != dev) ||
	    (wait && wait->dev != dev) || (done && done->dev != dev))
		return -EINVAL;

	args.cmds = (uintptr_t)cb->cmds;
	args.cmd_count = (uint32_t)cb->count;	/* cmdbuf.c caps it */
	args.queue = queue;
	args.in_syncobj = wait ? wait->syncobj : 0;
	args.out_syncobj = done ? done->syncobj : 0;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_SUBMIT, &args))
		return -errno;
	return 0;
}
