// SPDX-License-Identifier: MIT
/*
 * Timeline fences and waits on many fences: DRM syncobjs used with points
 * (a point is signalled when the job that added it, and every earlier
 * point, completed), and a job's fence exported as a sync file.  All of it
 * is the DRM core's syncobj interface; nothing here is Lumen-specific.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <xf86drm.h>

#include "internal.h"

/* A point fits @fence: > 0 for a timeline fence, 0 for a binary one. */
static bool point_fits(const struct accel_fence *fence, uint64_t point)
{
	return fence->timeline == (point != 0);
}

int accel_fence_wait_point(struct accel_fence *fence, uint64_t point,
			   int64_t timeout_ns)
{
	const struct accel_sync sync = { .fence = fence, .point = point };

	return accel_fence_wait_many(&sync, 1, true, timeout_ns, NULL);
}

int accel_fence_wait_many(const struct accel_sync *syncs, unsigned int n,
			  bool all, int64_t timeout_ns, unsigned int *first)
{
	uint32_t *handles;
	uint64_t *points;
	uint32_t flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
	uint32_t index = 0;
	int ret = 0;

	if (!syncs || !n || n > ACCEL_MAX_SYNCS)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		if (!syncs[i].fence || syncs[i].fence->dev != syncs[0].fence->dev ||
		    !point_fits(syncs[i].fence, syncs[i].point))
			return -EINVAL;
	handles = calloc(n, sizeof(*handles));
	points = calloc(n, sizeof(*points));
	if (!handles || !points) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		handles[i] = syncs[i].fence->syncobj;
		points[i] = syncs[i].point;
	}
	if (all)
		flags |= DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL;
	/*
	 * The timeline wait takes binary syncobjs too, at point 0 (the fence
	 * they hold).  It returns -errno: -ETIME when the deadline passes.
	 */
	ret = drmSyncobjTimelineWait(syncs[0].fence->dev->fd, handles, points, n,
				     libaccel_deadline_ns(timeout_ns), flags, &index);
	if (ret > 0)
		ret = 0;
	if (!ret && first)
		*first = index;
out:
	free(points);
	free(handles);
	return ret;
}

int accel_fence_query(const struct accel_fence *fence, uint64_t *point)
{
	uint32_t handle;

	if (!fence || !point || !fence->timeline)
		return -EINVAL;
	handle = fence->syncobj;
	/* drmSyncobjQuery() returns -errno. */
	return drmSyncobjQuery(fence->dev->fd, &handle, point, 1);
}

int accel_fence_export_sync_file(const struct accel_fence *fence, uint64_t point,
				 int *fd)
{
	uint32_t tmp;
	int ret = 0;

	if (!fence || !fd || !point_fits(fence, point))
		return -EINVAL;
	/* The calls below return -1 and set errno. */
	if (!fence->timeline)
		return drmSyncobjExportSyncFile(fence->dev->fd, fence->syncobj, fd) ? -errno : 0;
	/*
	 * The kernel's EXPORT_SYNC_FILE has no point (6.12): move the point's
	 * fence into a binary syncobj of our own and export that.  Without
	 * WAIT_FOR_SUBMIT, a point not submitted yet is -EINVAL.
	 */
	if (drmSyncobjCreate(fence->dev->fd, 0, &tmp))
		return -errno;
	if (drmSyncobjTransfer(fence->dev->fd, tmp, 0, fence->syncobj, point, 0) ||
	    drmSyncobjExportSyncFile(fence->dev->fd, tmp, fd))
		ret = -errno;
	drmSyncobjDestroy(fence->dev->fd, tmp);
	return ret;
}
