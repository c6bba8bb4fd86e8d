// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: DRM_IOCTL_LUMEN_QUERY.
 *
 * Answers are structures that later versions only extend at the end.  A
 * caller passing size 0 learns the full size; otherwise it gets as much as
 * it has room for, and the size it got.
 */

#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

static void lumen_query_device_info(struct lumen_device *ldev,
				    struct drm_lumen_device_info *info)
{
	/* Every byte goes to userspace: no stale padding, ever. */
	memset(info, 0, sizeof(*info));
	info->vendor_id = ldev->pdev->vendor;
	info->device_id = ldev->pdev->device;
	info->hw_version = ldev->hw_version;
	info->num_cores = ldev->num_cores;
	info->num_queues = ldev->num_queues;
	info->devmem_size = ldev->devmem_size;
	info->caps = ldev->caps;
	info->max_cmdbuf_size = LUMEN_IB_MAX_SIZE;
	info->timestamp_freq = LUMEN_TIMESTAMP_FREQ;
	info->va_start = LUMEN_VA_START;
	info->va_end = LUMEN_VA_END;
	info->num_engines = ldev->num_engines;
	info->num_contexts = ldev->num_contexts;
	info->num_direct_queues = ldev->num_hw_queues - ldev->num_queues;
}

static int lumen_query_copy(struct drm_lumen_query *args, const void *answer, u32 size)
{
	if (!args->size) {
		args->size = size;
		return 0;
	}

	size = min(args->size, size);
	if (copy_to_user(u64_to_user_ptr(args->data), answer, size))
		return -EFAULT;
	args->size = size;
	return 0;
}

int lumen_ioctl_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct drm_lumen_query *args = data;
	struct drm_lumen_device_info info;
	int ret;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	switch (args->type) {
	case DRM_LUMEN_QUERY_DEVICE_INFO:
		lumen_query_device_info(ldev, &info);
		ret = lumen_query_copy(args, &info, sizeof(info));
		break;
	default:
		ret = -EINVAL;
		break;
	}

	drm_dev_exit(idx);
	return ret;
}
