/* SPDX-License-Identifier: MIT */
/*
 * Device-less stand-ins for libaccel objects, for host unit tests of the
 * library's pure logic (argument checking, command encoding).
 *
 * A fake device has the file descriptor -1, so any call that gets past
 * libaccel's own checks to an ioctl fails with -EBADF: a test that expects
 * -EINVAL thereby proves the library itself rejected the arguments.
 * Fakes live on the test's stack; never pass them to *_free()/accel_close().
 *
 * A fake command buffer encodes into plain memory that "the device" would
 * see at a chosen VA, so the encoders can be tested byte by byte.
 */
#ifndef LUMEN_HOST_FAKE_H
#define LUMEN_HOST_FAKE_H

#include <pthread.h>
#include <stdint.h>

#include "internal.h"

#define FAKE_FD	(-1)

static inline struct accel_dev fake_dev(void)
{
	return (struct accel_dev){ .fd = FAKE_FD, .path = "/fake/accel" };
}

static inline struct accel_bo fake_bo(struct accel_dev *dev, uint32_t handle,
				      uint64_t size)
{
	return (struct accel_bo){
		.dev = dev,
		.handle = handle,
		.size = size,
		.map_lock = PTHREAD_MUTEX_INITIALIZER,
	};
}

static inline struct accel_bo fake_device_bo(struct accel_dev *dev,
					     uint32_t handle, uint64_t size)
{
	struct accel_bo bo = fake_bo(dev, handle, size);

	bo.flags = ACCEL_BO_DEVICE;
	return bo;
}

/* A fake BO that the driver would have mapped at @va. */
static inline struct accel_bo fake_bo_at(struct accel_dev *dev, uint32_t handle,
					 uint64_t size, uint64_t va)
{
	struct accel_bo bo = fake_bo(dev, handle, size);

	bo.va = va;
	return bo;
}

/*
 * Sets @cb up over @mem (@capacity bytes) seen at @va, with commands
 * limited to @max_cmd bytes; @bo (may be NULL) stands for its BO, for
 * accel_submit().  Nothing of it may be freed with accel_cmdbuf_free().
 */
static inline void fake_cmdbuf(struct accel_cmdbuf *cb, struct accel_dev *dev,
			       struct accel_bo *bo, void *mem,
			       uint64_t capacity, uint64_t va, uint64_t max_cmd)
{
	libaccel_cmdbuf_init(cb, dev, mem, capacity, va, max_cmd);
	cb->bo = bo;
}

static inline struct accel_fence fake_fence(struct accel_dev *dev,
					    uint32_t syncobj)
{
	return (struct accel_fence){ .dev = dev, .syncobj = syncobj };
}

#endif /* LUMEN_HOST_FAKE_H */
