// SPDX-License-Identifier: MIT
/*
 * Explicit device VA bindings: part of a BO mapped at a VA the caller
 * chooses (DRM_IOCTL_LUMEN_VM_BIND), besides the mapping every BO gets at
 * creation, and their removal.  The kernel checks every argument; the
 * checks here only keep NULL and foreign objects away from the ioctl.
 */
#include <errno.h>
#include <stdint.h>

#include <xf86drm.h>

#include "internal.h"

int accel_vm_bind(struct accel_dev *dev, const struct accel_bo *bo, uint64_t offset,
		  uint64_t size, uint64_t va, uint32_t flags)
{
	struct drm_lumen_vm_bind args = {
		.va = va,
		.offset = offset,
		.size = size,
	};

	if (!dev || !bo || bo->dev != dev || (flags & ~ACCEL_VM_BIND_READ_ONLY))
		return -EINVAL;
	args.handle = bo->handle;
	if (flags & ACCEL_VM_BIND_READ_ONLY)
		args.flags |= DRM_LUMEN_VM_BIND_READ_ONLY;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_VM_BIND, &args))
		return -errno;
	return 0;
}

int accel_vm_unbind(struct accel_dev *dev, uint64_t va, uint64_t size)
{
	struct drm_lumen_vm_unbind args = {
		.va = va,
		.size = size,
	};

	if (!dev)
		return -EINVAL;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_VM_UNBIND, &args))
		return -errno;
	return 0;
}
