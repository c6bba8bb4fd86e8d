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
 *
 * Every function rejects a NULL object or output pointer with -EINVAL
 * (the *_free() and accel_close() functions accept NULL and do nothing).
 * Errors the kernel returns are passed through unchanged; the errnos of
 * each ioctl are specified in Documentation/uapi.rst.  On failure, output
 * arguments are left untouched.
 */
#ifndef ACCEL_ACCEL_H
#define ACCEL_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A convenient size for the array passed to accel_list(). */
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
 *
 * A node is counted when it can be opened read-write and its driver is
 * lumen; nodes of other drivers and nodes this process may not open are
 * left out.  No /dev/accel directory means no devices: 0.
 * Errors: -EINVAL if @max < 0 or @indices is NULL while @max > 0;
 * -ENOMEM; -errno of opendir(3) other than ENOENT.
 */
int accel_list(int *indices, int max);

/*
 * Opens /dev/accel/accel@index, like accel_open_path().
 * Errors: -EINVAL if @index < 0; otherwise as accel_open_path().
 */
int accel_open(int index, struct accel_dev **dev);

/*
 * Opens the accel node at @path (read-write, close-on-exec) and stores the
 * new device in *@dev.  Close it with accel_close().
 * Errors: -errno of stat(2) or open(2) (-ENOENT, -EACCES, ...); -ENODEV if
 * @path is not an accel character device (major 261) -- such a file is
 * never opened -- or its driver is not lumen; -ENOMEM.
 */
int accel_open_path(const char *path, struct accel_dev **dev);

/*
 * Closes @dev.  Free its BOs and fences first: they use its file.
 * NULL is ignored.
 */
void accel_close(struct accel_dev *dev);

/* The DRM file descriptor, for raw ioctls and poll(); -EINVAL for NULL. */
int accel_fd(const struct accel_dev *dev);

/*
 * Fills @info from the driver's DRM_LUMEN_QUERY_DEVICE_INFO; @info->path is
 * the path @dev was opened with (truncated to fit), @info->driver "lumen".
 * Errors: -EINVAL; -EPROTO if the driver's answer is shorter than the
 * first uAPI version of the structure; -errno of the ioctl (-ENODEV once
 * the device is gone).
 */
int accel_query(struct accel_dev *dev, struct accel_info *info);

/* ---- Buffer objects ----------------------------------------------------- */

/*
 * In device memory (BAR2) instead of system memory.  Mappable, but
 * write-combined: CPU writes are fast, CPU reads uncached and slow.
 */
#define ACCEL_BO_DEVICE (1u << 0)

/*
 * Creates a zero-filled BO of at least @size bytes (the driver rounds up to
 * whole pages; accel_bo_size() tells the result) in system memory, or in
 * device memory with ACCEL_BO_DEVICE.
 * Errors: -EINVAL if @size is 0 or @flags has an unknown bit; -ENOMEM;
 * -errno of DRM_IOCTL_LUMEN_BO_CREATE: -EINVAL for a system BO above
 * 1 GiB, -ENOSPC when no free range of device memory is large enough.
 */
int accel_bo_create(struct accel_dev *dev, uint64_t size, uint32_t flags,
		    struct accel_bo **bo);

/*
 * Frees @bo; unmaps it first if it is mapped.  Jobs using it keep it alive.
 * NULL is ignored.  Must not race with other calls on the same @bo.
 */
void accel_bo_free(struct accel_bo *bo);

/*
 * Maps @bo read-write (shared) into the process; the same pointer on every
 * call, also when threads race to map it first.  Do not touch a range that
 * a job still uses: wait for the job's fence first.
 * Errors: -EINVAL; -errno of DRM_IOCTL_LUMEN_BO_MMAP_OFFSET or of mmap(2);
 * -ENOMEM if @bo does not fit the address space.
 */
int accel_bo_map(struct accel_bo *bo, void **ptr);

/*
 * Removes the mapping accel_bo_map() made; pointers into it become invalid.
 * Unmapping a BO that is not mapped does nothing and returns 0.
 * Errors: -EINVAL; -errno of munmap(2), leaving the mapping in place.
 */
int accel_bo_unmap(struct accel_bo *bo);

/* The GEM handle of @bo, for raw ioctls; 0 (never a valid handle) for NULL. */
uint32_t accel_bo_handle(const struct accel_bo *bo);

/* The size the driver allocated for @bo in bytes; 0 for NULL. */
uint64_t accel_bo_size(const struct accel_bo *bo);

/* ---- Command buffers ---------------------------------------------------- */

/*
 * Creates an empty command buffer.  It is not tied to a device until a
 * command names a BO; then every later BO must come from the same device.
 * Errors: -EINVAL; -ENOMEM.
 */
int accel_cmdbuf_create(struct accel_cmdbuf **cb);

/* Frees @cb; jobs already submitted from it are unaffected.  NULL is ignored. */
void accel_cmdbuf_free(struct accel_cmdbuf *cb);

/*
 * Empties @cb so it can be built again, for any device; its memory is
 * kept for the next commands.  NULL is ignored.
 */
void accel_cmdbuf_reset(struct accel_cmdbuf *cb);

/* Number of commands in @cb; 0 for NULL. */
size_t accel_cmdbuf_count(const struct accel_cmdbuf *cb);

/*
 * The encoded commands (struct drm_lumen_cmd[count]), for tests and tools.
 * NULL when @cb is NULL or empty.  Valid until @cb is next changed.
 */
const void *accel_cmdbuf_data(const struct accel_cmdbuf *cb);

/*
 * Appenders check their arguments (-EINVAL) and grow the buffer (-ENOMEM).
 * On failure @cb is unchanged.  Every appender returns -EINVAL for a NULL
 * @cb or BO, and for a BO of another device than the BOs already in @cb.
 */

/* Appends a NOP, a command that does nothing. */
int accel_cmd_nop(struct accel_cmdbuf *cb);

/*
 * Appends a FENCE: the device writes the 64-bit @value at @dst_offset of
 * @dst when the commands before it have completed.
 * -EINVAL also if @dst is a device-memory BO, @dst_offset is not a multiple
 * of 8, or the 8 bytes do not fit inside @dst.
 */
int accel_cmd_fence(struct accel_cmdbuf *cb, const struct accel_bo *dst,
		    uint64_t dst_offset, uint64_t value);

/*
 * Appends a COPY of @size bytes from @src + @src_offset to @dst +
 * @dst_offset; either BO may be in system or device memory.
 * -EINVAL also if @size is 0, @src and @dst belong to different devices,
 * either range does not fit inside its BO (sums that overflow count as not
 * fitting), or @src is @dst and the ranges overlap.
 */
int accel_cmd_copy(struct accel_cmdbuf *cb, const struct accel_bo *dst,
		   uint64_t dst_offset, const struct accel_bo *src,
		   uint64_t src_offset, uint64_t size);

/* ---- Submission and fences ---------------------------------------------- */

/*
 * A fence is a DRM syncobj: created once, reused by many submissions.
 * Creates one, not signalled and with no job attached.
 * Errors: -EINVAL; -ENOMEM; -errno of DRM_IOCTL_SYNCOBJ_CREATE.
 */
int accel_fence_create(struct accel_dev *dev, struct accel_fence **fence);

/*
 * Frees @fence; a job that will signal it is unaffected.  NULL is ignored.
 * Must not race with other calls on the same @fence.
 */
void accel_fence_free(struct accel_fence *fence);

/* The syncobj handle of @fence, for raw ioctls; 0 for NULL. */
uint32_t accel_fence_syncobj(const struct accel_fence *fence);

/*
 * Submits @cb on hardware queue @queue.  The job waits for @wait (or NULL)
 * and, on completion, signals @done (or NULL), replacing any earlier fence
 * @done held; @wait and @done may be the same fence.  @cb, and the BOs and
 * fences, may be reset, changed or freed as soon as this returns.
 * Errors: -EINVAL if @cb is empty, or @cb, @wait or @done belongs to
 * another device than @dev; -errno of DRM_IOCTL_LUMEN_SUBMIT, notably
 * -EINVAL for a @queue >= accel_info.num_queues or a @wait no job was ever
 * submitted to, -E2BIG for more than accel_info.max_job_cmds commands,
 * -ENOMEM when a system BO's pages cannot be allocated
 * (Documentation/uapi.rst lists them all).  Nothing is queued on error.
 */
int accel_submit(struct accel_dev *dev, unsigned int queue,
		 const struct accel_cmdbuf *cb, struct accel_fence *wait,
		 struct accel_fence *done);

/*
 * Waits until @fence has signalled, for at most @timeout_ns nanoseconds
 * (negative: forever; 0: just test it).  Returns 0, -ETIME on timeout, or
 * -errno.  A fence no job was ever submitted to counts as not signalled.
 * The deadline is absolute (CLOCK_MONOTONIC), so signals do not extend it.
 * Errors: -EINVAL; -ETIME; -errno of DRM_IOCTL_SYNCOBJ_WAIT.  This says
 * that the job finished, not that it succeeded: see accel_fence_status().
 */
int accel_fence_wait(struct accel_fence *fence, int64_t timeout_ns);

/*
 * The outcome of the last job submitted to signal @fence: 1 if it
 * completed successfully, 0 if it has not finished yet, or its error:
 * -EIO (the device stopped on an error in it), -ETIMEDOUT (it ran too long
 * and its queue was reset), -ENODEV (the device was removed), -ESRCH (its
 * file was closed before it started), -ECANCELED (dropped before it ran).
 * Errors of the call itself: -EINVAL for NULL or a fence no job was ever
 * submitted to; -errno of DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD or
 * SYNC_IOC_FILE_INFO.
 */
int accel_fence_status(const struct accel_fence *fence);

/*
 * A static description of @err, a negative errno as libaccel returns
 * (a positive errno is read the same way).  Never NULL: "Success" for 0,
 * "Unknown error" for a value that is no errno.  Thread-safe.
 */
const char *accel_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* ACCEL_ACCEL_H */
