/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Helpers shared by the in-guest tests.
 *
 * The functions (lumen_test.c) do not use the kselftest harness: they
 * return 0 or -errno and the tests assert on that, so a helper never hides
 * a failure.  The LT_* macros at the end use the harness and are only for
 * test files, which include this header after kselftest_harness.h.
 */
#ifndef LUMEN_TEST_H
#define LUMEN_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <accel/accel.h>
#include <drm/lumen_accel.h>

/* The spec's PCI identity (Documentation/device.rst, DESIGN.md §1). */
#define LT_PCI_VENDOR		0x1234
#define LT_PCI_DEVICE		0x4c4e

/* Generous for TCG: the longest job in the suite moves 16 MiB. */
#define LT_JOB_TIMEOUT_NS	(20 * 1000000000ll)

#define LT_MIB			(1024 * 1024)

/* ---- Devices ------------------------------------------------------------ */

/*
 * Lists the PCI functions with the lumen vendor/device ID in sysfs (the
 * devices the driver must have bound) into @bdf (room for @max): returns
 * how many there are, 0 on a machine without any.
 */
#define LT_BDF_LEN		32
int lt_pci_devices(char (*bdf)[LT_BDF_LEN], int max);

/* lt_pci_devices() without the list. */
int lt_pci_device_count(void);

/*
 * Opens the first lumen accel node and queries it.  -ENODEV when there is
 * none (the caller SKIPs), another -errno when opening or querying fails.
 */
int lt_open_first(struct accel_dev **dev, struct accel_info *info);

/* The properties the VM was started with, from lumen_vm.expect= in /proc/cmdline. */
struct lt_expect {
	uint32_t cores;
	uint32_t queues;
	uint64_t mem;
};

/* 0, -ENOENT when the command line has no lumen_vm.expect=, -EINVAL if malformed. */
int lt_cmdline_expect(struct lt_expect *expect);

/* ---- Reproducible random data ------------------------------------------- */

/* splitmix64: tiny, fast, and every seed gives a full-period stream. */
struct lt_rng {
	uint64_t state;
};

/* The run's seed: $LUMEN_TEST_SEED if set (any strtoull base), else fresh. */
uint64_t lt_seed(void);
void lt_rng_init(struct lt_rng *rng, uint64_t seed);
uint64_t lt_rng_next(struct lt_rng *rng);
/* A number in [0, bound); bound > 0. */
uint64_t lt_rng_below(struct lt_rng *rng, uint64_t bound);
void lt_rng_fill(struct lt_rng *rng, void *buf, size_t len);

/* Index of the first byte where @a and @b differ, or @len if none. */
size_t lt_mismatch(const void *a, const void *b, size_t len);
/* Index of the first byte of @buf that is not @byte, or @len if none. */
size_t lt_find_not(const void *buf, int byte, size_t len);

/* ---- Buffer objects and jobs -------------------------------------------- */

/* Creates a BO and, for a system BO, maps it into *@map (else NULL). */
int lt_bo_create_mapped(struct accel_dev *dev, uint64_t size, uint32_t flags,
			struct accel_bo **bo, void **map);

/* Capacity of the command buffers the helpers create. */
#define LT_CMDBUF_SIZE		(64 * 1024)

/* accel_cmdbuf_create() with LT_CMDBUF_SIZE. */
int lt_cmdbuf_create(struct accel_dev *dev, struct accel_cmdbuf **cb);

/*
 * Waits (LT_JOB_TIMEOUT_NS) for the job that signals @done and returns its
 * outcome: 0 if it succeeded, its error (-EFAULT, -EIO, -ETIMEDOUT...),
 * -ETIME if it did not finish in time, -EPROTO for a status that is neither.
 */
int lt_job_result(struct accel_fence *done);

/* Submits @cb on @queue, waits for it and returns lt_job_result(). */
int lt_run_job(struct accel_dev *dev, unsigned int queue,
	       const struct accel_cmdbuf *cb);

/* One COPY job of @size bytes between device VAs; lt_run_job()'s result. */
int lt_copy_va(struct accel_dev *dev, unsigned int queue, uint64_t dst_va,
	       uint64_t src_va, uint64_t size);

/* One COPY job: @size bytes from @src + @src_off to @dst + @dst_off. */
int lt_copy(struct accel_dev *dev, unsigned int queue,
	    const struct accel_bo *dst, uint64_t dst_off,
	    const struct accel_bo *src, uint64_t src_off, uint64_t size);

/* One FENCE job writing @value at @dst + @dst_off. */
int lt_fence_write(struct accel_dev *dev, unsigned int queue,
		   const struct accel_bo *dst, uint64_t dst_off, uint64_t value);

/*
 * Proves @dev still executes jobs: random bytes go system -> device ->
 * system on @queue and must come back intact.  0, -EIO on a data
 * mismatch, or the -errno of the step that failed.
 */
int lt_device_works(struct accel_dev *dev, unsigned int queue);

/* ---- Raw ioctls ---------------------------------------------------------- */

/* ioctl() restarted on EINTR/EAGAIN as drmIoctl() does: 0 or -errno. */
int lt_ioctl(int fd, unsigned long request, void *arg);

/* DRM_IOCTL_SYNCOBJ_SIGNAL / _RESET on one syncobj. */
int lt_syncobj_signal(int fd, uint32_t handle);
int lt_syncobj_reset(int fd, uint32_t handle);

/*
 * Job status, read through a sync_file as Documentation/uapi.rst ("Job
 * status") says: *@status is 1 completed, 0 pending, or the job's negative
 * error.  The functions return 0 or -errno.
 */
/* The fence @syncobj holds, as a new sync_file: its fd, or -errno. */
int lt_syncobj_export(int fd, uint32_t syncobj);
/* Replaces the fence of @syncobj with the one of sync_file @sync_fd. */
int lt_syncobj_import(int fd, uint32_t syncobj, int sync_fd);
int lt_sync_file_status(int sync_fd, int *status);
/* The status of the fence @syncobj holds. */
int lt_job_status(int fd, uint32_t syncobj, int *status);

/* DRM_IOCTL_GEM_CLOSE. */
int lt_gem_close(int fd, uint32_t handle);

/* ---- Processes ----------------------------------------------------------- */

/*
 * Runs @argv (searched in $PATH) with its output passed through as KTAP
 * diagnostics.  Returns its exit status, 128 + signal if it was killed, or
 * -errno if it could not be started.
 */
int lt_run_command(const char *const argv[]);

/* Monotonic clock in nanoseconds. */
int64_t lt_now_ns(void);

/* An address no process can access: a PROT_NONE page, mapped once. */
void *lt_bad_pointer(void);

/* ---- Harness glue (test files only) ------------------------------------ */

/*
 * Opens the first device into @dev/@info, or SKIPs the test when the machine
 * has none.  A lumen PCI function without a node is a failure, not a skip:
 * then the driver did not bind.
 */
#define LT_OPEN_OR_SKIP(dev, info) do {					\
	int __lt_ret = lt_open_first((dev), (info));			\
	if (__lt_ret == -ENODEV && lt_pci_device_count() == 0)		\
		SKIP(return, "no lumen device");			\
	ASSERT_EQ(0, __lt_ret) {					\
		TH_LOG("opening the first lumen device: %s%s",		\
		       accel_strerror(__lt_ret), __lt_ret == -ENODEV ?	\
		       " (but a lumen PCI function exists)" : "");	\
	}								\
} while (0)

/* ---- sysfs, debugfs and /proc files ---- */

/* Reads a small file into @buf (NUL-terminated): bytes read or -errno. */
int lt_read_file(const char *path, char *buf, size_t len);
/* Writes @s to the file @path: 0 or -errno. */
int lt_write_file(const char *path, const char *s);
/*
 * The PCI address of the accel node @path (/dev/accel/accelN), which
 * names its sysfs and debugfs directories: 0 or -errno.
 */
int lt_accel_bdf(const char *path, char *bdf, size_t len);
/* The path of debugfs file @name of device @bdf. */
void lt_debugfs_path(const char *bdf, const char *name, char *path, size_t len);
/* Writes @cmd to the debugfs fault_inject file of @bdf: 0 or -errno. */
int lt_fault_inject(const char *bdf, const char *cmd);
/* A number in sysfs lumen/@name of PCI function @bdf, or -1. */
long long lt_sysfs_stat(const char *bdf, const char *name);

/* What debugfs "objects" counts: the driver's objects, for leak checks. */
struct lt_objects {
	long long files, guilty_files, bound_contexts, jobs_and_vms, pending_fences;
	long long system_bo_bytes, devmem_used_bytes, direct_queues;
};

/* Reads debugfs "objects" of @bdf: 0, -ENOENT or -EPROTO. */
int lt_read_objects(const char *bdf, struct lt_objects *o);
/*
 * Objects are freed from workqueues after a close: waits (30 s at most)
 * until the counts equal @want, leaving the last ones read in @now.
 * 0 or -ETIME.
 */
int lt_wait_objects(const char *bdf, const struct lt_objects *want, struct lt_objects *now);

/* ---- Device coredumps (/sys/class/devcoredump) ---- */

/*
 * The devcoredump of PCI function @bdf: its directory in @dir, 0, or
 * -ENOENT if there is none.
 */
int lt_dump_find(const char *bdf, char *dir, size_t len);
/* Frees the dump in @dir (a write to its data does it): 0 or -errno. */
int lt_dump_free(const char *dir);
/* Frees every dump of @bdf: one left by an earlier test makes the next dropped. */
void lt_dumps_free_all(const char *bdf);

/* Asserts that the device still runs a copy job correctly. */
#define LT_ASSERT_DEVICE_WORKS(dev) do {				\
	int __lt_ret = lt_device_works((dev), 0);			\
	ASSERT_EQ(0, __lt_ret) {					\
		TH_LOG("the device no longer runs jobs: %s",		\
		       accel_strerror(__lt_ret));			\
	}								\
} while (0)

/* Logs the seed of @rng's stream so a failure can be replayed. */
#define LT_SEED(rng) do {						\
	uint64_t __lt_seed = lt_seed();					\
	lt_rng_init((rng), __lt_seed);					\
	TH_LOG("seed 0x%016llx (replay with LUMEN_TEST_SEED=0x%016llx)",\
	       (unsigned long long)__lt_seed,				\
	       (unsigned long long)__lt_seed);				\
} while (0)

#endif /* LUMEN_TEST_H */
