// SPDX-License-Identifier: MIT
/*
 * User queues: a job stream on one engine with a priority, made and
 * destroyed by the driver, submitted to by id.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <xf86drm.h>

#include "internal.h"

int accel_queue_create(struct accel_dev *dev, enum accel_engine_class cls,
		       uint32_t engine, enum accel_priority prio,
		       struct accel_queue **queue)
{
	struct drm_lumen_queue_create args = {
		.engine_class = (uint32_t)cls,
		.engine = engine,
		.priority = (uint32_t)prio,
	};
	struct accel_queue *q;

	/* The driver checks the class, engine and priority. */
	if (!dev || !queue)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_QUEUE_CREATE, &args)) {
		int ret = -errno;

		free(q);
		return ret;
	}
	q->dev = dev;
	q->id = args.id;
	q->hw_queue = args.hw_queue;
	q->hw_engine = args.hw_engine;
	*queue = q;
	return 0;
}

int accel_queue_destroy(struct accel_queue *queue)
{
	struct drm_lumen_queue_destroy args = { 0 };
	int ret = 0;

	if (!queue)
		return 0;
	args.id = queue->id;
	if (drmIoctl(queue->dev->fd, DRM_IOCTL_LUMEN_QUEUE_DESTROY, &args))
		ret = -errno;
	free(queue);
	return ret;
}

uint32_t accel_queue_id(const struct accel_queue *queue)
{
	return queue ? queue->id : 0;
}

int accel_queue_placement(const struct accel_queue *queue,
			  unsigned int *hw_queue, unsigned int *hw_engine)
{
	if (!queue)
		return -EINVAL;
	if (hw_queue)
		*hw_queue = queue->hw_queue;
	if (hw_engine)
		*hw_engine = queue->hw_engine;
	return 0;
}

int accel_submit_queue(struct accel_queue *queue, const struct accel_cmdbuf *cb,
		       const struct accel_bo *const *bos, unsigned int nbos,
		       const struct accel_sync *waits, unsigned int nwaits,
		       const struct accel_sync *signals, unsigned int nsignals)
{
	if (!queue)
		return -EINVAL;
	return libaccel_submit(queue->dev, queue->id, DRM_LUMEN_SUBMIT_QUEUE_ID,
			       cb, bos, nbos, waits, nwaits, signals, nsignals);
}
