// SPDX-License-Identifier: MIT
/*
 * Buffer objects: GEM objects of the lumen driver, in system memory or in
 * the device's own memory, each mapped into its file's device address
 * space by the driver at creation, and their CPU mappings.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "internal.h"

_Static_assert(ACCEL_BO_DEVICE == DRM_LUMEN_BO_DEVICE &&
	       ACCEL_BO_READ_ONLY == DRM_LUMEN_BO_READ_ONLY &&
	       ACCEL_BO_WC == DRM_LUMEN_BO_WC,
	       "libaccel BO flags are the uAPI's");
#define ACCEL_BO_FLAGS	(ACCEL_BO_DEVICE | ACCEL_BO_READ_ONLY | ACCEL_BO_WC)

int libaccel_bo_alloc(struct accel_bo **bop)
{
	struct accel_bo *bo = calloc(1, sizeof(*bo));
	int ret;

	if (!bo)
		return -ENOMEM;
	ret = pthread_mutex_init(&bo->map_lock, NULL);
	if (ret) {
		free(bo);
		return -ret;
	}
	*bop = bo;
	return 0;
}

void libaccel_bo_discard(struct accel_bo *bo)
{
	pthread_mutex_destroy(&bo->map_lock);
	free(bo);
}

int accel_bo_create(struct accel_dev *dev, uint64_t size, uint32_t flags,
		    struct accel_bo **bop)
{
	struct drm_lumen_bo_create args = { .size = size, .flags = flags };
	struct accel_bo *bo;
	int ret;

	if (!dev || !size || (flags & ~ACCEL_BO_FLAGS) || !bop)
		return -EINVAL;

	/* Allocate first: a failure after the ioctl would leak the handle. */
	ret = libaccel_bo_alloc(&bo);
	if (ret)
		return ret;

	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_BO_CREATE, &args)) {
		ret = -errno;
		libaccel_bo_discard(bo);
		return ret;
	}

	bo->dev = dev;
	bo->handle = args.handle;
	bo->flags = flags;
	bo->size = args.size;
	bo->va = args.va;
	*bop = bo;
	return 0;
}

void accel_bo_free(struct accel_bo *bo)
{
	if (!bo)
		return;
	accel_bo_unmap(bo);
	/*
	 * Closing the handle cannot fail for a handle we own; jobs still
	 * using the object hold their own references in the kernel.
	 */
	drmCloseBufferHandle(bo->dev->fd, bo->handle);
	libaccel_bo_discard(bo);
}

static int bo_map_locked(struct accel_bo *bo)
{
	struct drm_lumen_bo_mmap_offset args = { .handle = bo->handle };
	void *map;

	if (bo->size > SIZE_MAX)
		return -ENOMEM;
	if (drmIoctl(bo->dev->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &args))
		return -errno;
	map = mmap(NULL, (size_t)bo->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   bo->dev->fd, (off_t)args.offset);
	if (map == MAP_FAILED)
		return -errno;
	bo->map = map;
	return 0;
}

int accel_bo_map(struct accel_bo *bo, void **ptr)
{
	int ret = 0;

	if (!bo || !ptr)
		return -EINVAL;

	pthread_mutex_lock(&bo->map_lock);
	if (!bo->map)
		ret = bo_map_locked(bo);
	if (!ret)
		*ptr = bo->map;
	pthread_mutex_unlock(&bo->map_lock);
	return ret;
}

int accel_bo_unmap(struct accel_bo *bo)
{
	int ret = 0;

	if (!bo)
		return -EINVAL;

	pthread_mutex_lock(&bo->map_lock);
	if (bo->map) {
		if (munmap(bo->map, (size_t)bo->size))
			ret = -errno;
		else
			bo->map = NULL;
	}
	pthread_mutex_unlock(&bo->map_lock);
	return ret;
}

uint32_t accel_bo_handle(const struct accel_bo *bo)
{
	return bo ? bo->handle : 0;
}

uint64_t accel_bo_size(const struct accel_bo *bo)
{
	return bo ? bo->size : 0;
}

uint64_t accel_bo_va(const struct accel_bo *bo)
{
	return bo ? bo->va : 0;
}
