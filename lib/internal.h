/* SPDX-License-Identifier: MIT */
/*
 * libaccel internals: the objects behind the opaque handles of
 * <accel/accel.h>.  Not installed; host unit tests include it to build
 * objects without a device.
 */
#ifndef LIBACCEL_INTERNAL_H
#define LIBACCEL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The library is built with -fvisibility=hidden.  Declaring the public API
 * with default visibility here makes exactly the functions of the public
 * header exported; libaccel.map then gives them the LIBACCEL_1.0 version.
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

/* A GEM buffer object of @dev, mapped into @dev's device VA space. */
struct accel_bo {
	struct accel_dev *dev;
	uint32_t handle;
	uint32_t flags;		/* ACCEL_BO_* */
	uint64_t size;		/* as allocated by the driver */
	uint64_t va;		/* device VA the driver chose */
	/* Serialises map and unmap, so racing callers get one mapping. */
	pthread_mutex_t map_lock;
	void *map;		/* protected by map_lock; NULL when unmapped */
};

/*
 * A command buffer: @capacity bytes of CPU-visible memory at @mem that the
 * device sees at @va.  Commands fill [0, cmd_bytes) upwards, descriptors
 * [capacity - desc_bytes, capacity) downwards; the two never meet, and
 * cmd_bytes never exceeds max_cmd_bytes (the driver's max_cmdbuf_size).
 * @bo is NULL only for buffers over plain memory (host unit tests).
 */
struct accel_cmdbuf {
	struct accel_dev *dev;
	struct accel_bo *bo;
	uint8_t *mem;
	uint64_t va;
	uint64_t capacity;
	uint64_t cmd_bytes;
	uint64_t desc_bytes;
	uint64_t max_cmd_bytes;
};

/*
 * Initialises @cb over @mem (@capacity bytes, a multiple of 128, 8-aligned)
 * that the device would see at @va, without a device: for host unit tests
 * of the encoders.  @dev may be a fake; nothing is freed by the library.
 */
void libaccel_cmdbuf_init(struct accel_cmdbuf *cb, struct accel_dev *dev,
			  void *mem, uint64_t capacity, uint64_t va,
			  uint64_t max_cmd_bytes);

/*
 * Room for one command and, if @desc_size, one descriptor: returns a
 * pointer to the zeroed command slot, and in *@desc and *@desc_va the
 * zeroed descriptor and its device VA.  NULL when @cb is full; nothing is
 * reserved until libaccel_cmdbuf_commit().
 */
uint8_t *libaccel_cmdbuf_slot(struct accel_cmdbuf *cb, size_t desc_size,
			      uint8_t **desc, uint64_t *desc_va);
/* Makes the command (and descriptor) libaccel_cmdbuf_slot() gave part of @cb. */
void libaccel_cmdbuf_commit(struct accel_cmdbuf *cb, size_t desc_size);

/* A DRM syncobj of @dev. */
struct accel_fence {
	struct accel_dev *dev;
	uint32_t syncobj;
	/* Made by accel_fence_create_timeline(): used with points > 0. */
	bool timeline;
};

/* A user queue of @dev (lib/queue.c).  Immutable after creation. */
struct accel_queue {
	struct accel_dev *dev;
	uint32_t id;		/* the driver's, > 0 */
	uint32_t hw_queue;
	uint32_t hw_engine;
};

/*
 * A direct queue (lib/dq.c).  Ring positions are counted from the queue's
 * creation in 64 bits ("written" entries), so the ring index is the count
 * modulo @entries and nothing wraps; job s ended at position end[s %
 * @nslots] (a job takes at least two entries and fewer than @entries are
 * in flight, so fewer than @nslots jobs are).
 */
struct accel_dq {
	struct accel_dev *dev;
	uint32_t id;			/* the driver's, > 0 */
	uint32_t hw_queue;
	uint32_t hw_engine;
	uint32_t entries;		/* ring entries, a power of two */
	uint8_t *ring;			/* CPU view of the ring */
	uint64_t ring_va;
	volatile uint64_t *done;	/* the completion word */
	uint64_t done_va;
	volatile uint8_t *doorbell;	/* the mapped doorbell page */
	uint64_t written;		/* ring entries written */
	uint64_t kicked;		/* ... of which the device was told */
	uint64_t seq;			/* last job pushed */
	uint64_t kicked_seq;		/* last job the device was told of */
	uint64_t *end;			/* ring position after each job */
	uint32_t nslots;		/* entries of @end */
	uint64_t spin_ns;
	/* Set once the queue is seen stopped (-EIO or -ENODEV). */
	int stopped;
	uint32_t error, error_head;
	uint64_t fault_va;
	/* NULL for queues over plain memory (host unit tests). */
	struct accel_bo *ring_bo, *done_bo;
	size_t doorbell_size;		/* of the mapping; 0: not mapped */
};

/*
 * Initialises @dq over plain memory, without a device: a ring of @entries
 * at @ring (seen by the device at @ring_va), the completion word at @done
 * (@done_va) and a doorbell page at @doorbell.  For host unit tests of
 * the ring encoding and space accounting; -EINVAL or -ENOMEM.  Undo with
 * libaccel_dq_fini().
 */
int libaccel_dq_init(struct accel_dq *dq, struct accel_dev *dev,
		     uint32_t entries, void *ring, uint64_t ring_va,
		     uint64_t *done, uint64_t done_va, void *doorbell);
void libaccel_dq_fini(struct accel_dq *dq);

/*
 * Ring entries a job of @cb takes in @dq (its commands or one INDIRECT,
 * and the FENCE), and whether they are copied in.
 */
uint32_t libaccel_dq_job_entries(const struct accel_dq *dq,
				 const struct accel_cmdbuf *cb, bool *inline_cmds);

/* Ring entries free for a new job, by the completion word's count. */
uint64_t libaccel_dq_space(const struct accel_dq *dq);

/*
 * accel_submit2() with extra DRM_LUMEN_SUBMIT_* @flags; @queue is a user
 * queue id with DRM_LUMEN_SUBMIT_QUEUE_ID, else a hardware queue index.
 */
int libaccel_submit(struct accel_dev *dev, uint32_t queue, uint32_t flags,
		    const struct accel_cmdbuf *cb,
		    const struct accel_bo *const *bos, unsigned int nbos,
		    const struct accel_sync *waits, unsigned int nwaits,
		    const struct accel_sync *signals, unsigned int nsignals);

/*
 * accel_list() over the directory @dir instead of /dev/accel, so the
 * enumeration logic can be tested against a directory of decoys.
 */
/*
 * The absolute CLOCK_MONOTONIC deadline the kernel's syncobj waits take for
 * a wait of @timeout_ns from now (fence.c); negative or overflowing means
 * forever, INT64_MAX.
 */
int64_t libaccel_deadline_ns(int64_t timeout_ns);

/*
 * A zeroed accel_bo with its map lock initialised (bo.c), for the calls
 * that make one; libaccel_bo_discard() undoes it before the BO is used.
 */
int libaccel_bo_alloc(struct accel_bo **bop);
void libaccel_bo_discard(struct accel_bo *bo);

int libaccel_list_dir(const char *dir, int *indices, int max);

/*
 * Checks that @fd is an accel node driven by lumen: 0, -ENODEV, or -errno
 * of a failing system call.
 */
int libaccel_check_node(int fd);

#endif /* LIBACCEL_INTERNAL_H */
