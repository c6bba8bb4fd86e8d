/* SPDX-License-Identifier: MIT */
/*
 * libaccel: a thin C library over the lumen DRM accel driver.
 *
 * Conventions: every function that can fail returns 0 (or a count) on
 * success and a negative errno on failure; accel_strerror() names it.
 * There is no global state.  Distinct objects may be used from distinct
 * threads freely; one accel_dev may be shared by threads for every call
 * (the kernel serialises what needs it).  An accel_cmdbuf is not
 * thread-safe: build it in one thread.
 * Documentation/libaccel.rst is the reference.
 */
#ifndef ACCEL_ACCEL_H
#define ACCEL_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACCEL_MAX_DEVICES 64

struct accel_dev;
struct accel_bo;
struct accel_cmdbuf;
struct accel_fence;

/** Device description, from the driver's DEVICE_INFO query. */
struct accel_info {
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t hw_version;	/* major << 16 | minor */
	uint32_t num_cores;
	uint32_t num_queues;
	uint64_t devmem_size;	/* bytes */
	uint32_t caps;
	uint32_t max_job_cmds;
	uint64_t timestamp_freq; /* Hz */
	char driver[32];	/* "lumen" */
	char path[64];		/* "/dev/accel/accel0" */
};

/* ---- Devices ------------------------------------------------------------ */

/*
 * Lists the minor indices N of /dev/accel/accelN nodes driven by lumen, in
 * increasing order, into @indices (room for @max).  Returns how many were
 * found (which may exceed @max) or -errno.
 */
int accel_list(int *indices, int max);

/* Opens /dev/accel/accel@index; -ENODEV if it is not a lumen device. */
int accel_open(int index, struct accel_dev **dev);
/* Opens the accel node at @path; -ENODEV if it is not a lumen device. */
int accel_open_path(const char *path, struct accel_dev **dev);
void accel_close(struct accel_dev *dev);
/* The DRM file descriptor, for raw ioctls and poll(). */
int accel_fd(const struct accel_dev *dev);
int accel_query(struct accel_dev *dev, struct accel_info *info);

/* ---- Buffer objects ----------------------------------------------------- */

#define ACCEL_BO_DEVICE (1u << 0)	/* in device memory (not CPU-mappable in v0) */

/* Creates a zero-filled BO of at least @size bytes. */
int accel_bo_create(struct accel_dev *dev, uint64_t size, uint32_t flags,
		    struct accel_bo **bo);
/* Frees @bo; unmaps it first if it is mapped.  Jobs using it keep it alive. */
void accel_bo_free(struct accel_bo *bo);
/* Maps @bo read-write into the process; the same pointer on every call. */
int accel_bo_map(struct accel_bo *bo, void **ptr);
int accel_bo_unmap(struct accel_bo *bo);
uint32_t accel_bo_handle(const struct accel_bo *bo);
uint64_t accel_bo_size(const struct accel_bo *bo);

/* ---- Command buffers ---------------------------------------------------- */

int accel_cmdbuf_create(struct accel_cmdbuf **cb);
void accel_cmdbuf_free(struct accel_cmdbuf *cb);
/* Empties @cb so it can be built again. */
void accel_cmdbuf_reset(struct accel_cmdbuf *cb);
/* Number of commands in @cb. */
size_t accel_cmdbuf_count(const struct accel_cmdbuf *cb);
/* The encoded commands (struct drm_lumen_cmd[count]), for tests and tools. */
const void *accel_cmdbuf_data(const struct accel_cmdbuf *cb);

/* Appenders check their arguments (-EINVAL) and grow the buffer (-ENOMEM). */
int accel_cmd_nop(struct accel_cmdbuf *cb);
int accel_cmd_fence(struct accel_cmdbuf *cb, const struct accel_bo *dst,
		    uint64_t dst_offset, uint64_t value);
int accel_cmd_copy(struct accel_cmdbuf *cb, const struct accel_bo *dst,
		   uint64_t dst_offset, const struct accel_bo *src,
		   uint64_t src_offset, uint64_t size);

/* ---- Submission and fences ---------------------------------------------- */

/* A fence is a DRM syncobj: created once, reused by many submissions. */
int accel_fence_create(struct accel_dev *dev, struct accel_fence **fence);
void accel_fence_free(struct accel_fence *fence);
uint32_t accel_fence_syncobj(const struct accel_fence *fence);

/*
 * Submits @cb on hardware queue @queue.  The job waits for @wait (or NULL)
 * and, on completion, signals @done (or NULL), replacing any earlier fence
 * @done held.
 */
int accel_submit(struct accel_dev *dev, unsigned int queue,
		 const struct accel_cmdbuf *cb, struct accel_fence *wait,
		 struct accel_fence *done);

/*
 * Waits until @fence has signalled, for at most @timeout_ns nanoseconds
 * (negative: forever).  Returns 0, -ETIME on timeout, or -errno.
 * A fence no job was ever submitted to counts as not signalled.
 */
int accel_fence_wait(struct accel_fence *fence, int64_t timeout_ns);

/* A static description of @err (a negative errno or an accel error). */
const char *accel_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* ACCEL_ACCEL_H */
