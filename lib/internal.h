/* SPDX-License-Identifier: MIT */
/*
 * libaccel internals: the objects behind the opaque handles of
 * <accel/accel.h>.  Not installed; host unit tests include it to build
 * objects without a device.
 */
#ifndef LIBACCEL_INTERNAL_H
#define LIBACCEL_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The library is built with -fvisibility=hidden.  Declaring the public API
 * with default visibility here makes exactly the functions of the public
 * header exported; libaccel.map then gives them the LIBACCEL_1 version.
 */
#pragma GCC visibility push(default)
#include <accel/accel.h>
#pragma GCC visibility pop

#include <drm/lumen_accel.h>

/* Character device major of every DRM accel node (include/drm/drm_accel.h). */
#define LIBACCEL_ACCEL_MAJOR	261
#define LIBACCEL_DEV_DIR	"/dev/accel"
#define LIBACCEL_NODE_PREFIX	"accel"
#define LIBACCEL_DRIVER_NAME	"lumen"

/* An open lumen accel node.  Immutable after accel_open(): shareable. */
struct accel_dev {
	int fd;
	char *path;		/* as passed to accel_open_path() */
};

/* A GEM buffer object of @dev. */
struct accel_bo {
	struct accel_dev *dev;
	uint32_t handle;
	uint32_t flags;		/* ACCEL_BO_* */
	uint64_t size;		/* as allocated by the driver */
	/* Serialises map and unmap, so racing callers get one mapping. */
	pthread_mutex_t map_lock;
	void *map;		/* protected by map_lock; NULL when unmapped */
};

/* A growing array of encoded commands; see cmdbuf.c. */
struct accel_cmdbuf {
	struct drm_lumen_cmd *cmds;
	size_t count;
	size_t capacity;
	/*
	 * GEM handles only mean something on the file that created them, so
	 * every BO in one command buffer must come from one device: the one
	 * recorded here by the first command naming a BO (NULL until then).
	 */
	const struct accel_dev *dev;
};

/* A DRM syncobj of @dev. */
struct accel_fence {
	struct accel_dev *dev;
	uint32_t syncobj;
};

/*
 * accel_list() over the directory @dir instead of /dev/accel, so the
 * enumeration logic can be tested against a directory of decoys.
 */
int libaccel_list_dir(const char *dir, int *indices, int max);

/*
 * Checks that @fd is an accel node driven by lumen: 0, -ENODEV, or -errno
 * of a failing system call.
 */
int libaccel_check_node(int fd);

#endif /* LIBACCEL_INTERNAL_H */
