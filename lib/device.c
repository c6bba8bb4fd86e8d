// SPDX-License-Identifier: MIT
/*
 * Devices: finding, opening, querying and closing lumen accel nodes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <xf86drm.h>

#include "internal.h"
#include "lumen_regs.h"

_Static_assert(ACCEL_CAP_FAULT_INJECTION == LUMEN_CAP_FAULT_INJECTION &&
	       ACCEL_CAP_MMU == LUMEN_CAP_MMU &&
	       ACCEL_CAP_OPERATORS == LUMEN_CAP_OPERATORS &&
	       ACCEL_CAP_DIRECT_QUEUES == LUMEN_CAP_DIRECT_QUEUES,
	       "libaccel capability bits are the device's");

/*
 * Only accel nodes are opened and asked for their driver: opening another
 * device can have side effects of its own, and a DRM ioctl number may
 * mean something else entirely to its driver.
 */
static bool is_accel_node(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == LIBACCEL_ACCEL_MAJOR;
}

int libaccel_check_node(int fd)
{
	drmVersionPtr version;
	struct stat st;
	int ret;

	if (fstat(fd, &st))
		return -errno;
	if (!is_accel_node(&st))
		return -ENODEV;

	errno = 0;
	version = drmGetVersion(fd);
	if (!version)
		return errno == ENOMEM ? -ENOMEM : -ENODEV;
	ret = strcmp(version->name, LIBACCEL_DRIVER_NAME) ? -ENODEV : 0;
	drmFreeVersion(version);
	return ret;
}

int accel_open_path(const char *path, struct accel_dev **devp)
{
	struct accel_dev *dev;
	struct stat st;
	int ret;

	if (!path || !devp)
		return -EINVAL;

	/* Checked again on the open file: the node may change in between. */
	if (stat(path, &st))
		return -errno;
	if (!is_accel_node(&st))
		return -ENODEV;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->path = strdup(path);
	if (!dev->path) {
		ret = -ENOMEM;
		goto err_free;
	}

	dev->fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (dev->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = libaccel_check_node(dev->fd);
	if (ret)
		goto err_close;

	*devp = dev;
	return 0;

err_close:
	close(dev->fd);
err_free:
	free(dev->path);
	free(dev);
	return ret;
}

int accel_open(int index, struct accel_dev **devp)
{
	char path[sizeof(LIBACCEL_DEV_DIR "/" LIBACCEL_NODE_PREFIX) + 11];

	if (index < 0 || !devp)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s%d", LIBACCEL_DEV_DIR,
		 LIBACCEL_NODE_PREFIX, index);
	return accel_open_path(path, devp);
}

void accel_close(struct accel_dev *dev)
{
	if (!dev)
		return;
	close(dev->fd);
	free(dev->path);
	free(dev);
}

int accel_fd(const struct accel_dev *dev)
{
	return dev ? dev->fd : -EINVAL;
}

/* Parses the N of "accelN" (decimal, no sign, no leading zero): N or -1. */
static int node_index(const char *name)
{
	size_t len = strlen(LIBACCEL_NODE_PREFIX);
	const char *digits = name + len;
	unsigned long n;
	char *end;

	if (strncmp(name, LIBACCEL_NODE_PREFIX, len) ||
	    digits[0] < '0' || digits[0] > '9' ||
	    (digits[0] == '0' && digits[1] != '\0'))
		return -1;
	errno = 0;
	n = strtoul(digits, &end, 10);
	if (errno || *end != '\0' || n > INT_MAX)
		return -1;
	return (int)n;
}

static bool is_lumen_node(int dirfd, const char *name)
{
	struct stat st;
	int fd, ret;

	if (fstatat(dirfd, name, &st, 0) || !is_accel_node(&st))
		return false;
	fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	ret = libaccel_check_node(fd);
	close(fd);
	return ret == 0;
}

static int compare_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int libaccel_list_dir(const char *dirpath, int *indices, int max)
{
	int *found = NULL, *grown;
	size_t count = 0, room = 0;
	struct dirent *entry;
	DIR *dir;
	int index;

	if (!dirpath || max < 0 || (max > 0 && !indices))
		return -EINVAL;

	dir = opendir(dirpath);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;	/* no accel nodes at all */

	while ((entry = readdir(dir))) {
		index = node_index(entry->d_name);
		if (index < 0 || !is_lumen_node(dirfd(dir), entry->d_name))
			continue;
		if (count == room) {
			room = room ? 2 * room : 8;
			grown = reallocarray(found, room, sizeof(*found));
			if (!grown) {
				free(found);
				closedir(dir);
				return -ENOMEM;
			}
			found = grown;
		}
		found[count++] = index;
	}
	closedir(dir);

	/* count fits: the kernel has at most 256 accel minors. */
	if (count)
		qsort(found, count, sizeof(*found), compare_int);
	for (size_t i = 0; i < count && i < (size_t)max; i++)
		indices[i] = found[i];
	free(found);
	return (int)count;
}

int accel_list(int *indices, int max)
{
	return libaccel_list_dir(LIBACCEL_DEV_DIR, indices, max);
}

/*
 * Bytes of &struct drm_lumen_device_info in uAPI v1, the first version with
 * device VAs: a v0 driver cannot run v1 command buffers at all.
 */
#define DEVICE_INFO_V1_SIZE \
	(offsetof(struct drm_lumen_device_info, num_contexts) + \
	 sizeof(((struct drm_lumen_device_info *)0)->num_contexts))

/*
 * Fills the first @size bytes of *@info: all of it, or the part an older
 * header had (see accel_query_v1_0()).
 */
static int query_info(struct accel_dev *dev, struct accel_info *info,
		      size_t size)
{
	struct drm_lumen_device_info di = { 0 };
	struct drm_lumen_query query = {
		.type = DRM_LUMEN_QUERY_DEVICE_INFO,
		.size = sizeof(di),
		.data = (uintptr_t)&di,
	};

	if (!dev || !info)
		return -EINVAL;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_QUERY, &query))
		return -errno;
	/*
	 * Later uAPI versions only append fields; a driver that leaves out
	 * part of v1 is too old (or broken).
	 */
	if (query.size < DEVICE_INFO_V1_SIZE)
		return -EPROTO;

	memset(info, 0, size);
	info->vendor_id = di.vendor_id;
	info->device_id = di.device_id;
	info->hw_version = di.hw_version;
	info->num_cores = di.num_cores;
	info->num_engines = di.num_engines;
	info->num_queues = di.num_queues;
	info->num_contexts = di.num_contexts;
	info->devmem_size = di.devmem_size;
	info->caps = di.caps;
	info->max_cmdbuf_size = di.max_cmdbuf_size;
	info->timestamp_freq = di.timestamp_freq;
	info->va_start = di.va_start;
	info->va_end = di.va_end;
	snprintf(info->driver, sizeof(info->driver), "%s", LIBACCEL_DRIVER_NAME);
	snprintf(info->path, sizeof(info->path), "%s", dev->path);
	/* 0 from a driver older than uAPI 1.1: the field was zeroed above. */
	if (size >= offsetof(struct accel_info, num_direct_queues) +
		   sizeof(info->num_direct_queues))
		info->num_direct_queues = di.num_direct_queues;
	return 0;
}

int accel_query(struct accel_dev *dev, struct accel_info *info)
{
	return query_info(dev, info, sizeof(*info));
}

/*
 * struct accel_info grew num_direct_queues in LIBACCEL_1.2.  Programs
 * built against an older header pass the shorter struct and call
 * accel_query@LIBACCEL_1.0: it must not write past that.  The default
 * version, accel_query@@LIBACCEL_1.2 (lib/libaccel.map), is the one above.
 */
#define ACCEL_INFO_V1_0_SIZE	offsetof(struct accel_info, num_direct_queues)

int libaccel_query_v1_0(struct accel_dev *dev, struct accel_info *info)
	__attribute__((visibility("default")));
/* The directive rather than GCC's symver attribute: clang knows it too. */
__asm__(".symver libaccel_query_v1_0, accel_query@LIBACCEL_1.0");

int libaccel_query_v1_0(struct accel_dev *dev, struct accel_info *info)
{
	return query_info(dev, info, ACCEL_INFO_V1_0_SIZE);
}
