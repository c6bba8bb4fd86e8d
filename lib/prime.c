// SPDX-License-Identifier: MIT
/*
 * Sharing buffers with other devices and processes: PRIME import and
 * export of dma-bufs.  An imported buffer is mapped into the importing
 * file's device address space by the driver at a VA only it knows, so the
 * import asks for it (DRM_IOCTL_LUMEN_BO_INFO).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include <xf86drm.h>

#include "internal.h"

int accel_bo_import(struct accel_dev *dev, int dmabuf_fd, struct accel_bo **bop)
{
	struct drm_lumen_bo_info info = { 0 };
	struct accel_bo *bo;
	uint32_t handle;
	int ret;

	if (!dev || dmabuf_fd < 0 || !bop)
		return -EINVAL;
	ret = libaccel_bo_alloc(&bo);
	if (ret)
		return ret;
	/* drmPrimeFDToHandle() returns -1 and sets errno. */
	if (drmPrimeFDToHandle(dev->fd, dmabuf_fd, &handle)) {
		ret = -errno;
		goto err_free;
	}
	info.handle = handle;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_BO_INFO, &info)) {
		ret = -errno;
		drmCloseBufferHandle(dev->fd, handle);
		goto err_free;
	}

	bo->dev = dev;
	bo->handle = handle;
	bo->flags = info.flags;
	bo->size = info.size;
	bo->va = info.va;
	*bop = bo;
	return 0;

err_free:
	libaccel_bo_discard(bo);
	return ret;
}

int accel_bo_export(const struct accel_bo *bo, int *dmabuf_fd)
{
	int fd;

	if (!bo || !dmabuf_fd)
		return -EINVAL;
	if (drmPrimeHandleToFD(bo->dev->fd, bo->handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		return -errno;
	*dmabuf_fd = fd;
	return 0;
}
