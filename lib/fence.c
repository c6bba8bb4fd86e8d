// SPDX-License-Identifier: MIT
/*
 * Fences: DRM syncobjs that carry a job's completion, to wait on it from
 * the CPU or to order a later job after it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>

#include <xf86drm.h>

#include "internal.h"

#define NSEC_PER_SEC	1000000000LL

/*
 * The kernel has one kind of syncobj: binary or timeline is how it is
 * used, which libaccel records to pick the submit flags and check points.
 */
static int fence_create(struct accel_dev *dev, bool timeline,
			struct accel_fence **fencep)
{
	struct accel_fence *fence;
	int ret;

	if (!dev || !fencep)
		return -EINVAL;
	fence = calloc(1, sizeof(*fence));
	if (!fence)
		return -ENOMEM;
	/* drmSyncobjCreate() returns -1 and sets errno. */
	if (drmSyncobjCreate(dev->fd, 0, &fence->syncobj)) {
		ret = -errno;
		free(fence);
		return ret;
	}
	fence->dev = dev;
	fence->timeline = timeline;
	*fencep = fence;
	return 0;
}

int accel_fence_create(struct accel_dev *dev, struct accel_fence **fencep)
{
	return fence_create(dev, false, fencep);
}

int accel_fence_create_timeline(struct accel_dev *dev, struct accel_fence **fencep)
{
	return fence_create(dev, true, fencep);
}

void accel_fence_free(struct accel_fence *fence)
{
	if (!fence)
		return;
	/* Jobs that signal it keep their own reference in the kernel. */
	drmSyncobjDestroy(fence->dev->fd, fence->syncobj);
	free(fence);
}

uint32_t accel_fence_syncobj(const struct accel_fence *fence)
{
	return fence ? fence->syncobj : 0;
}

/*
 * The kernel takes an absolute CLOCK_MONOTONIC deadline, so a wait that a
 * signal interrupts and drmIoctl() restarts does not last longer.
 * INT64_MAX means forever.
 */
int64_t libaccel_deadline_ns(int64_t timeout_ns)
{
	struct timespec now;
	int64_t now_ns;

	if (timeout_ns < 0)
		return INT64_MAX;
	/* Cannot fail: CLOCK_MONOTONIC always exists on Linux. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (int64_t)now.tv_sec * NSEC_PER_SEC + now.tv_nsec;
	return timeout_ns > INT64_MAX - now_ns ? INT64_MAX : now_ns + timeout_ns;
}

int accel_fence_wait(struct accel_fence *fence, int64_t timeout_ns)
{
	int ret;

	if (!fence)
		return -EINVAL;
	/*
	 * WAIT_FOR_SUBMIT: a fence no job has been attached to yet is "not
	 * signalled" rather than an error, so one may wait before submitting.
	 * drmSyncobjWait() returns -errno: -ETIME when the deadline passes.
	 */
	ret = drmSyncobjWait(fence->dev->fd, &fence->syncobj, 1,
			     libaccel_deadline_ns(timeout_ns),
			     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL);
	return ret < 0 ? ret : 0;
}

/*
 * A syncobj wait tells that a fence signalled, not whether the job failed;
 * the fence's status does, and the way to read it is to export the fence as
 * a sync file and ask that (Documentation/uapi.rst, "Job status").
 */
int accel_fence_status(const struct accel_fence *fence)
{
	struct sync_file_info info = { 0 };
	int sync_fd, ret;

	if (!fence)
		return -EINVAL;
	/* drmSyncobjExportSyncFile() returns -1 and sets errno. */
	if (drmSyncobjExportSyncFile(fence->dev->fd, fence->syncobj, &sync_fd))
		return -errno;
	ret = ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info) ? -errno : info.status;
	close(sync_fd);
	return ret;
}
