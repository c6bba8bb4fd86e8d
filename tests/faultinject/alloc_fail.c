// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Allocation-failure tests: every ioctl's success path (and open, mmap and
 * close of the device), run again with kernel allocations made to fail.
 *
 * Systematically: /proc/thread-self/fail-nth makes the n-th allocation of
 * the call fail, for n = 1, 2, ... until the call makes fewer than n (it
 * then succeeds with nothing injected).  Randomly: with make-it-fail set
 * for the task, 10% of its allocations fail, over many calls.  Both go
 * through FAILSLAB and FAIL_PAGE_ALLOC (the debug kernel's debugfs knobs).
 *
 * Each call must either succeed or fail with ENOMEM, the errno
 * Documentation/uapi.rst gives for "out of memory"; a failed call must leave
 * nothing behind (a failed submission queues nothing, which the out-syncobj
 * shows); and the device must keep running jobs.  Leaks are kmemleak's to
 * find: the guest scans for them after the run.  On a kernel without fault
 * injection (the stock one) every test is skipped.
 *
 * No failure is injected inside the kernel's buddy allocator (the range in
 * fault-reject, next to this program): its error path corrupts its free
 * tree, a kernel bug that would crash every later test (Documentation/
 * testing.rst, "Known kernel bugs").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/lumen_accel.h>	/* and, through it, libdrm's drm.h */
#include <linux/sync_file.h>

#include "lumen_regs.h"		/* command encodings: jobs are built here */

#include "kselftest_harness.h"

#define DEVICE		"/dev/accel/accel0"
/* Written by tools/debug-kernel/build-modules: "<anchor> <start> <end>". */
#define REJECT_FILE	"/usr/libexec/lumen/tests/fault-reject"
#define BO_SIZE		(64 * 1024)
/* More allocations than any of these calls makes: a runaway guard. */
#define MAX_SITES	2000
#define RANDOM_ROUNDS	300
#define RANDOM_PERCENT	"10"

static const char *const fault_dirs[] = {
	"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc",
};

/* ---- Small wrappers ---------------------------------------------------- */

static int xioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : 0;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

static int fault_knob(const char *name, const char *value)
{
	char path[128];
	int ret = 0;

	for (size_t i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fault_dirs[i], name);
		if (access(path, F_OK))
			continue;	/* min-order exists for pages only, etc. */
		ret = ret ?: write_file(path, value);
	}
	return ret;
}

static int bo_create_va(int fd, uint32_t flags, uint32_t *handle, uint64_t *va)
{
	struct drm_lumen_bo_create args = { .size = BO_SIZE, .flags = flags };
	int ret = xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &args);

	*handle = args.handle;
	if (va)
		*va = args.va;
	return ret;
}

static int bo_create(int fd, uint32_t flags, uint32_t *handle)
{
	return bo_create_va(fd, flags, handle, NULL);
}

/* One device command, as lumen_regs.h lays it out (little-endian host). */
struct hw_cmd {
	uint64_t header;
	uint64_t args[LUMEN_CMD_ARGS];
};

static struct hw_cmd hw_cmd(uint8_t opcode, uint8_t flags, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return (struct hw_cmd){
		.header = opcode | (uint64_t)flags << 8, .args = { a0, a1, a2 },
	};
}

static void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close args = { .handle = handle };

	xioctl(fd, DRM_IOCTL_GEM_CLOSE, &args);
}

static void *bo_map(int fd, uint32_t handle)
{
	struct drm_lumen_bo_mmap_offset args = { .handle = handle };
	void *p;

	if (xioctl(fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &args))
		return NULL;
	p = mmap(NULL, BO_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)args.offset);
	return p == MAP_FAILED ? NULL : p;
}

static int syncobj_create(int fd, uint32_t flags, uint32_t *handle)
{
	struct drm_syncobj_create args = { .flags = flags };
	int ret = xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &args);

	*handle = args.handle;
	return ret;
}

static void syncobj_destroy(int fd, uint32_t handle)
{
	struct drm_syncobj_destroy args = { .handle = handle };

	xioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &args);
}

/*
 * Waits for the fence of @handle: 0 once it signalled, -EINVAL if the
 * syncobj holds no fence (nothing was queued), -ETIME after 60 s.
 */
static int syncobj_wait(int fd, uint32_t handle)
{
	struct timespec now;
	struct drm_syncobj_wait args = { .handles = (uintptr_t)&handle, .count_handles = 1 };

	clock_gettime(CLOCK_MONOTONIC, &now);
	args.timeout_nsec = (now.tv_sec + 60) * 1000000000ll + now.tv_nsec;
	return xioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &args);
}

/* ---- The calls under test --------------------------------------------------- */

/* What a call's setup made, what the call made, for the checks and undo. */
struct call_ctx {
	int fd;
	uint32_t num_queues;
	uint32_t bo[3];
	uint8_t *map[3];
	uint32_t sync_in, sync_out;
	/* A BO handle, or a syncobj handle (made_syncobj) the call made. */
	uint32_t made_handle;
	bool made_syncobj;
	int made_fd;
	void *made_map;
	uint64_t offset;
	uint64_t va[3];
	/* The command buffer BO (in fd, or in made_fd for close-with-job). */
	uint32_t cb;
	struct hw_cmd cmds[4];
	uint32_t handles[4];
	/* A second file of the device. */
	int other_fd;
	struct drm_lumen_submit submit;
	/* A user queue of fd (DRM_IOCTL_LUMEN_QUEUE_CREATE), or 0. */
	uint32_t uq;
	/* A direct queue of fd (DRM_IOCTL_LUMEN_DQ_CREATE), or 0. */
	uint32_t dq;
};

struct call {
	const char *name;
	/* Outside the fault window: make what the call needs. 0 or -errno. */
	int (*setup)(struct call_ctx *c);
	/* Inside it: the call alone.  0 or -errno. */
	int (*call)(struct call_ctx *c);
	/* After it: check what the call left; 0 or a message. */
	const char *(*verify)(struct call_ctx *c, int ret);
	/*
	 * An errno other than ENOMEM that the DRM core (not the driver) gives
	 * when it runs out of memory, or 0.
	 */
	int core_errno;
};

static int setup_none(struct call_ctx *c)
{
	(void)c;
	return 0;
}

static int setup_one_bo(struct call_ctx *c)
{
	return bo_create(c->fd, 0, &c->bo[0]);
}

static int call_open(struct call_ctx *c)
{
	c->made_fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	return c->made_fd < 0 ? -errno : 0;
}

static const char *verify_open(struct call_ctx *c, int ret)
{
	struct drm_lumen_query q = { .type = DRM_LUMEN_QUERY_DEVICE_INFO };

	if (ret)
		return NULL;
	/* The new file works. */
	return xioctl(c->made_fd, DRM_IOCTL_LUMEN_QUERY, &q) || !q.size ?
		"the opened file cannot be queried" : NULL;
}

static int call_query(struct call_ctx *c)
{
	struct drm_lumen_device_info info;
	struct drm_lumen_query q = {
		.type = DRM_LUMEN_QUERY_DEVICE_INFO, .size = sizeof(info), .data = (uintptr_t)&info,
	};

	return xioctl(c->fd, DRM_IOCTL_LUMEN_QUERY, &q);
}

static int call_bo_create_system(struct call_ctx *c)
{
	return bo_create(c->fd, 0, &c->made_handle);
}

static int call_bo_create_device(struct call_ctx *c)
{
	return bo_create(c->fd, DRM_LUMEN_BO_DEVICE, &c->made_handle);
}

static const char *verify_bo(struct call_ctx *c, int ret)
{
	uint8_t *p;
	size_t i;

	if (ret)
		return NULL;
	/* A new BO is usable and reads as zeroes. */
	p = bo_map(c->fd, c->made_handle);
	if (!p)
		return "the new BO cannot be mapped";
	for (i = 0; i < BO_SIZE && !p[i]; i += 64)
		;
	munmap(p, BO_SIZE);
	return i < BO_SIZE ? "the new BO is not zeroed" : NULL;
}

static int call_mmap_offset(struct call_ctx *c)
{
	struct drm_lumen_bo_mmap_offset args = { .handle = c->bo[0] };
	int ret = xioctl(c->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &args);

	c->offset = args.offset;
	return ret;
}

static const char *verify_mmap_offset(struct call_ctx *c, int ret)
{
	void *p;

	if (ret)
		return NULL;
	p = mmap(NULL, BO_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, (off_t)c->offset);
	if (p == MAP_FAILED)
		return "the offset does not map";
	munmap(p, BO_SIZE);
	return NULL;
}

static int setup_offset(struct call_ctx *c, uint32_t flags)
{
	int ret = bo_create(c->fd, flags, &c->bo[0]);

	return ret ?: call_mmap_offset(c);
}

static int setup_offset_system(struct call_ctx *c)
{
	return setup_offset(c, 0);
}

static int setup_offset_device(struct call_ctx *c)
{
	return setup_offset(c, DRM_LUMEN_BO_DEVICE);
}

static int call_mmap(struct call_ctx *c)
{
	c->made_map = mmap(NULL, BO_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
			   (off_t)c->offset);
	return c->made_map == MAP_FAILED ? -errno : 0;
}

static const char *verify_mmap(struct call_ctx *c, int ret)
{
	volatile uint8_t *p = c->made_map;

	if (ret)
		return NULL;
	p[0] = 0x5a;
	p[BO_SIZE - 1] = 0xa5;
	return p[0] == 0x5a && p[BO_SIZE - 1] == 0xa5 ? NULL : "the mapping does not hold data";
}

static int call_submit(struct call_ctx *c)
{
	return xioctl(c->fd, DRM_IOCTL_LUMEN_SUBMIT, &c->submit);
}

/* A failed job queued nothing; a queued one completes, with its effect. */
static const char *verify_job(struct call_ctx *c, int ret, bool (*effect)(struct call_ctx *c))
{
	int wait = syncobj_wait(c->fd, c->sync_out);

	if (ret)
		return wait == -EINVAL ? NULL : "a failed submission left a fence behind";
	if (wait)
		return "the job did not complete";
	return effect(c) ? NULL : "the job did not do its work";
}

/*
 * Write c->cmds[0 .. n - 1] into a new command buffer BO of file @fd, and
 * point c->submit at it.  0 or -errno.
 */
static int cmdbuf(struct call_ctx *c, int fd, unsigned int n)
{
	uint64_t va;
	uint8_t *p;
	int ret = bo_create_va(fd, 0, &c->cb, &va);

	if (ret)
		return ret;
	p = bo_map(fd, c->cb);
	if (!p)
		return -ENOMEM;
	memcpy(p, c->cmds, n * sizeof(c->cmds[0]));
	munmap(p, BO_SIZE);
	c->submit.cmdbuf_va = va;
	c->submit.cmdbuf_size = n * sizeof(c->cmds[0]);
	return 0;
}

static int setup_nop(struct call_ctx *c)
{
	int ret = syncobj_create(c->fd, 0, &c->sync_out);

	if (ret)
		return ret;
	c->cmds[0] = hw_cmd(LUMEN_OP_NOP, 0, 0, 0, 0);
	/* No BO list: the submit fast path. */
	c->submit = (struct drm_lumen_submit){
		.queue = c->num_queues - 1, .out_syncobj = c->sync_out,
	};
	return cmdbuf(c, c->fd, 1);
}

static bool no_effect(struct call_ctx *c)
{
	(void)c;
	return true;
}

static const char *verify_nop(struct call_ctx *c, int ret)
{
	return verify_job(c, ret, no_effect);
}

/* FENCE into a BO through its VA, the BO listed for implicit sync. */
static int setup_fence(struct call_ctx *c)
{
	int ret = bo_create_va(c->fd, 0, &c->bo[0], &c->va[0]) ?:
		  syncobj_create(c->fd, 0, &c->sync_out);

	if (ret)
		return ret;
	c->cmds[0] = hw_cmd(LUMEN_OP_FENCE, 0, c->va[0] + BO_SIZE - 8, 0x0123456789abcdefull, 0);
	c->handles[0] = c->bo[0];
	c->submit = (struct drm_lumen_submit){
		.bo_handles = (uintptr_t)c->handles, .bo_count = 1, .out_syncobj = c->sync_out,
	};
	return cmdbuf(c, c->fd, 1);
}

static bool fence_written(struct call_ctx *c)
{
	uint64_t *p = (uint64_t *)bo_map(c->fd, c->bo[0]);
	bool ok = p && p[BO_SIZE / 8 - 1] == 0x0123456789abcdefull;

	if (p)
		munmap(p, BO_SIZE);
	return ok;
}

static const char *verify_fence(struct call_ctx *c, int ret)
{
	return verify_job(c, ret, fence_written);
}

/*
 * Through device memory and back, after a signalled in-syncobj: two COPY
 * commands and a FENCE, three fresh BOs.
 */
static int setup_copy(struct call_ctx *c)
{
	int ret = bo_create_va(c->fd, 0, &c->bo[0], &c->va[0]) ?:
		  bo_create_va(c->fd, DRM_LUMEN_BO_DEVICE, &c->bo[1], &c->va[1]) ?:
		  bo_create_va(c->fd, 0, &c->bo[2], &c->va[2]) ?:
		  syncobj_create(c->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &c->sync_in) ?:
		  syncobj_create(c->fd, 0, &c->sync_out);

	if (ret)
		return ret;
	c->map[0] = bo_map(c->fd, c->bo[0]);
	if (!c->map[0])
		return -ENOMEM;
	for (size_t i = 0; i < BO_SIZE; i++)
		c->map[0][i] = (uint8_t)(i * 7 + 3);
	c->cmds[0] = hw_cmd(LUMEN_OP_COPY, 0, c->va[0], c->va[1], BO_SIZE);
	c->cmds[1] = hw_cmd(LUMEN_OP_COPY, 0, c->va[1], c->va[2], BO_SIZE - 8);
	c->cmds[2] = hw_cmd(LUMEN_OP_FENCE, 0, c->va[2] + BO_SIZE - 8, 42, 0);
	/* Queue 1 % n: the copies need the DMA engine or a compute engine. */
	c->submit = (struct drm_lumen_submit){
		.bo_handles = (uintptr_t)c->handles, .bo_count = 4, .queue = 1 % c->num_queues,
		.in_syncobj = c->sync_in, .out_syncobj = c->sync_out,
	};
	ret = cmdbuf(c, c->fd, 3);
	c->handles[0] = c->bo[0];
	c->handles[1] = c->bo[1];
	c->handles[2] = c->bo[2];
	c->handles[3] = c->cb;
	return ret;
}

static bool copied(struct call_ctx *c)
{
	uint8_t *p = bo_map(c->fd, c->bo[2]);
	bool ok = p && !memcmp(p, c->map[0], BO_SIZE - 8) && *(uint64_t *)(p + BO_SIZE - 8) == 42;

	if (p)
		munmap(p, BO_SIZE);
	return ok;
}

static const char *verify_copy(struct call_ctx *c, int ret)
{
	return verify_job(c, ret, copied);
}

static int call_syncobj_create(struct call_ctx *c)
{
	c->made_syncobj = true;
	return syncobj_create(c->fd, 0, &c->made_handle);
}

static int call_prime_export(struct call_ctx *c)
{
	struct drm_prime_handle args = { .handle = c->bo[0], .flags = DRM_CLOEXEC | DRM_RDWR };
	int ret = xioctl(c->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &args);

	c->made_fd = ret ? -1 : args.fd;
	return ret;
}

/* Import into a second file of the device: a new handle to the same BO. */
static int setup_prime_import(struct call_ctx *c)
{
	int ret = setup_one_bo(c) ?: call_prime_export(c);

	if (ret)
		return ret;
	c->made_handle = 0;
	return 0;
}

static int call_prime_import(struct call_ctx *c)
{
	struct drm_prime_handle args = { .fd = c->made_fd };
	int ret = xioctl(c->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args);

	c->made_handle = args.handle;
	return ret;
}

static const char *verify_prime_import(struct call_ctx *c, int ret)
{
	if (ret)
		return NULL;
	/* Our own dma-buf comes back as the handle it was exported from. */
	return c->made_handle == c->bo[0] ? NULL : "self-import gave another handle";
}

/* Import into a second file: the BO gets mapped into that file's context. */
static int setup_prime_import_other(struct call_ctx *c)
{
	int ret = setup_prime_import(c);

	if (ret)
		return ret;
	c->other_fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	return c->other_fd < 0 ? -errno : 0;
}

static int call_prime_import_other(struct call_ctx *c)
{
	struct drm_prime_handle args = { .fd = c->made_fd };
	int ret = xioctl(c->other_fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args);

	c->made_handle = 0;	/* a handle of other_fd: goes with it */
	return ret ?: (args.handle ? 0 : -EINVAL);
}

static const char *verify_prime_import_other(struct call_ctx *c, int ret)
{
	struct drm_lumen_bo_info info = { 0 };
	struct drm_prime_handle args = { .fd = c->made_fd };

	if (ret)
		return NULL;
	if (xioctl(c->other_fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args))
		return "the import has no handle";
	info.handle = args.handle;
	if (xioctl(c->other_fd, DRM_IOCTL_LUMEN_BO_INFO, &info))
		return "the import is not mapped in the second file";
	return info.va && info.size == BO_SIZE ? NULL : "the import's BO_INFO is wrong";
}

static int call_bo_info(struct call_ctx *c)
{
	struct drm_lumen_bo_info info = { .handle = c->bo[0] };

	return xioctl(c->fd, DRM_IOCTL_LUMEN_BO_INFO, &info);
}

/* A user queue: a scheduler entity of the file. */
static int call_queue_create(struct call_ctx *c)
{
	struct drm_lumen_queue_create args = {
		.engine_class = DRM_LUMEN_ENGINE_COMPUTE, .engine = DRM_LUMEN_ENGINE_ANY,
		.priority = DRM_LUMEN_QUEUE_PRIORITY_NORMAL,
	};
	int ret = xioctl(c->fd, DRM_IOCTL_LUMEN_QUEUE_CREATE, &args);

	c->uq = ret ? 0 : args.id;
	return ret;
}

/*
 * Made: it is queue 1 (undo destroyed every earlier one).  Failed: nothing
 * was made, so the next create gets id 1 again.
 */
static const char *verify_queue_create(struct call_ctx *c, int ret)
{
	if (ret) {
		if (call_queue_create(c))
			return "no queue can be created after a failed create";
	}
	return c->uq == 1 ? NULL : "a failed create used up a queue id";
}

/* A direct queue (uAPI 1.1) whose ring is bo[0]. */
static int setup_dq(struct call_ctx *c)
{
	return bo_create_va(c->fd, 0, &c->bo[0], &c->va[0]);
}

static int call_dq_create(struct call_ctx *c)
{
	struct drm_lumen_dq_create args = {
		.engine_class = DRM_LUMEN_ENGINE_DMA, .ring_va = c->va[0], .ring_entries = 64,
	};
	int ret = xioctl(c->fd, DRM_IOCTL_LUMEN_DQ_CREATE, &args);

	c->dq = ret ? 0 : args.id;
	return ret;
}

/*
 * Made: it is direct queue 1 (undo destroyed every earlier one).  Failed:
 * nothing was kept (no hardware queue, no id), so a create works again.
 */
static const char *verify_dq_create(struct call_ctx *c, int ret)
{
	if (ret) {
		if (call_dq_create(c))
			return "no direct queue can be created after a failed create";
	}
	return c->dq == 1 ? NULL : "a failed create used up a direct queue id";
}

/* A FENCE job on a user queue (DRM_LUMEN_SUBMIT_QUEUE_ID). */
static int setup_queue_fence(struct call_ctx *c)
{
	int ret = setup_fence(c) ?: call_queue_create(c);

	c->submit.flags |= DRM_LUMEN_SUBMIT_QUEUE_ID;
	c->submit.queue = c->uq;
	return ret;
}

/* A sync file of a job's fence. */
static int setup_sync_file(struct call_ctx *c)
{
	int ret = setup_fence(c) ?: call_submit(c);

	c->made_fd = -1;
	return ret;
}

static int call_sync_file(struct call_ctx *c)
{
	struct drm_syncobj_handle args = {
		.handle = c->sync_out, .flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
	};
	int ret = xioctl(c->fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &args);

	c->made_fd = ret ? -1 : args.fd;
	return ret;
}

static const char *verify_sync_file(struct call_ctx *c, int ret)
{
	struct sync_file_info info = { 0 };

	if (ret)
		return NULL;
	if (xioctl(c->made_fd, SYNC_IOC_FILE_INFO, &info) || info.status < 0)
		return "the sync file does not tell the job's status";
	return NULL;
}

/* Closing a file whose job is still queued: release cannot fail. */
static int setup_close(struct call_ctx *c)
{
	int ret;

	c->made_fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	if (c->made_fd < 0)
		return -errno;
	c->cmds[0] = hw_cmd(LUMEN_OP_NOP, 0, 0, 0, 0);
	c->submit = (struct drm_lumen_submit){ 0 };
	ret = cmdbuf(c, c->made_fd, 1);
	c->cb = 0;	/* a handle of made_fd: goes with it */
	return ret ?: xioctl(c->made_fd, DRM_IOCTL_LUMEN_SUBMIT, &c->submit);
}

static int call_close(struct call_ctx *c)
{
	int ret = close(c->made_fd) ? -errno : 0;

	c->made_fd = -1;
	return ret;
}

#define CALL(n, s, c, v)	{ .name = n, .setup = s, .call = c, .verify = v }

static const struct call calls[] = {
	CALL("open", setup_none, call_open, verify_open),
	CALL("query", setup_none, call_query, NULL),
	CALL("bo-create-system", setup_none, call_bo_create_system, verify_bo),
	CALL("bo-create-device", setup_none, call_bo_create_device, verify_bo),
	CALL("bo-mmap-offset", setup_one_bo, call_mmap_offset, verify_mmap_offset),
	CALL("mmap-system", setup_offset_system, call_mmap, verify_mmap),
	CALL("mmap-device", setup_offset_device, call_mmap, verify_mmap),
	CALL("submit-nop", setup_nop, call_submit, verify_nop),
	CALL("submit-fence", setup_fence, call_submit, verify_fence),
	CALL("submit-copy", setup_copy, call_submit, verify_copy),
	CALL("syncobj-create", setup_none, call_syncobj_create, NULL),
	CALL("prime-export", setup_one_bo, call_prime_export, NULL),
	CALL("prime-import", setup_prime_import, call_prime_import, verify_prime_import),
	CALL("prime-import-other", setup_prime_import_other, call_prime_import_other,
	     verify_prime_import_other),
	CALL("bo-info", setup_one_bo, call_bo_info, NULL),
	{
		.name = "sync-file-export", .setup = setup_sync_file, .call = call_sync_file,
		.verify = verify_sync_file,
		/* drm_syncobj_export_sync_file(): a failed sync_file_create() is EINVAL. */
		.core_errno = EINVAL,
	},
	CALL("close-with-job", setup_close, call_close, NULL),
	CALL("queue-create", setup_none, call_queue_create, verify_queue_create),
	CALL("submit-user-queue", setup_queue_fence, call_submit, verify_fence),
	CALL("dq-create", setup_dq, call_dq_create, verify_dq_create),
};

#define NCALLS	(sizeof(calls) / sizeof(calls[0]))

/* Everything setup and call made goes, whatever happened. */
static void undo(struct call_ctx *c)
{
	/* First: its ring is bo[0]. */
	if (c->dq) {
		struct drm_lumen_dq_destroy args = { .id = c->dq };

		xioctl(c->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &args);
		c->dq = 0;
	}
	/*
	 * A job of the call (sync-file-export submits one in its setup) must
	 * be done before its BOs go: closed under it, they fault it, and its
	 * file is then guilty.  No job: EINVAL at once.
	 */
	if (c->sync_out)
		syncobj_wait(c->fd, c->sync_out);
	if (c->made_map && c->made_map != MAP_FAILED)
		munmap(c->made_map, BO_SIZE);
	if (c->made_fd >= 0)
		close(c->made_fd);
	if (c->other_fd >= 0)
		close(c->other_fd);
	if (c->cb)
		gem_close(c->fd, c->cb);
	for (int i = 0; i < 3; i++) {
		if (c->map[i])
			munmap(c->map[i], BO_SIZE);
		if (c->bo[i])
			gem_close(c->fd, c->bo[i]);
	}
	if (c->made_handle && c->made_syncobj)
		syncobj_destroy(c->fd, c->made_handle);
	else if (c->made_handle && c->made_handle != c->bo[0])
		gem_close(c->fd, c->made_handle);
	if (c->sync_in)
		syncobj_destroy(c->fd, c->sync_in);
	if (c->sync_out)
		syncobj_destroy(c->fd, c->sync_out);
	if (c->uq) {
		struct drm_lumen_queue_destroy args = { .id = c->uq };

		xioctl(c->fd, DRM_IOCTL_LUMEN_QUEUE_DESTROY, &args);
	}
}

static void ctx_init(struct call_ctx *c, int fd, uint32_t num_queues)
{
	*c = (struct call_ctx){
		.fd = fd, .num_queues = num_queues, .made_fd = -1, .other_fd = -1,
	};
}

/* ---- Fault injection ---------------------------------------------------------- */

/* /proc/thread-self/fail-nth, opened before any window (opening allocates). */
static int fail_nth = -1;

static void arm_nth(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(fail_nth, buf, len, 0) != len)
		abort();
}

/* Disarms; true if the armed failure was injected. */
static bool disarm_nth(void)
{
	char buf[16] = "";
	bool injected;

	if (pread(fail_nth, buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	injected = atoi(buf) == 0;
	if (pwrite(fail_nth, "0", 1, 0) != 1)
		abort();
	return injected;
}

static int make_it_fail = -1;

/* The address of @symbol in /proc/kallsyms, or 0. */
static unsigned long long kallsyms(const char *symbol)
{
	unsigned long long addr, found = 0;
	char type, name[256];
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return 0;
	while (!found && fscanf(f, "%llx %c %255s%*[^\n]", &addr, &type, name) == 3)
		if (!strcmp(name, symbol))
			found = addr;
	fclose(f);
	return found;
}

/* Keep injected failures out of the buddy allocator: 0 or -errno. */
static int reject_buddy_allocator(void)
{
	unsigned long long anchor, start, end;
	char value[32];
	FILE *f = fopen(REJECT_FILE, "re");
	int n;

	if (!f)
		return -ENOENT;
	n = fscanf(f, "%llx %llx %llx", &anchor, &start, &end);
	fclose(f);
	/* The file belongs to this kernel build only if the anchor matches. */
	if (n != 3 || kallsyms("gpu_buddy_init") != anchor)
		return -EINVAL;
	snprintf(value, sizeof(value), "%llu", start);
	if (fault_knob("reject-start", value))
		return -EIO;
	snprintf(value, sizeof(value), "%llu", end);
	return fault_knob("reject-end", value);
}

static void set_make_it_fail(bool on)
{
	if (pwrite(make_it_fail, on ? "1" : "0", 1, 0) != 1)
		abort();
}

/* ---- Proof of life -------------------------------------------------------------- */

/* One copy job through device memory on every queue's neighbour: 0 or -errno. */
static int device_works(int fd, uint32_t num_queues, unsigned int round)
{
	struct call_ctx c;
	int ret;

	ctx_init(&c, fd, num_queues);
	ret = setup_copy(&c);
	if (!ret) {
		c.submit.queue = round % num_queues;
		ret = call_submit(&c);
	}
	if (!ret)
		ret = verify_copy(&c, 0) ? -EIO : 0;
	undo(&c);
	return ret;
}

/* ---- The tests -------------------------------------------------------------------- */

FIXTURE(alloc_fail) {
	int fd;
	uint32_t num_queues;
};

FIXTURE_SETUP(alloc_fail)
{
	struct drm_lumen_device_info info = { 0 };
	struct drm_lumen_query q = {
		.type = DRM_LUMEN_QUERY_DEVICE_INFO, .size = sizeof(info), .data = (uintptr_t)&info,
	};

	self->fd = -1;
	if (access("/proc/thread-self/fail-nth", F_OK) || access(fault_dirs[0], F_OK) ||
	    access(fault_dirs[1], F_OK))
		SKIP(return, "this kernel has no FAILSLAB / FAIL_PAGE_ALLOC (not the debug kernel)");
	self->fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	if (self->fd < 0)
		SKIP(return, "no lumen device");
	ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_QUERY, &q));
	self->num_queues = info.num_queues;
	/*
	 * The calls' undo frees their BOs without waiting for the jobs they
	 * submitted, so a job may fault on a freed command buffer; with
	 * lumen.ban_guilty that would ban this file (Documentation/uapi.rst,
	 * "Errors and recovery") and fail every later call.  Banning is not
	 * what this suite tests: it runs with the ban off, as run-all does
	 * for the suites written before it.
	 */
	ASSERT_EQ(0, write_file("/sys/module/lumen/parameters/ban_guilty", "N"));

	/*
	 * Fail sleeping allocations too (GFP_KERNEL is what the driver uses),
	 * of every order and cache; quietly: a stack dump per injected
	 * failure would read as a kernel problem.
	 */
	ASSERT_EQ(0, fault_knob("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, fault_knob("ignore-gfp-highmem", "N"));
	ASSERT_EQ(0, fault_knob("min-order", "0"));
	ASSERT_EQ(0, fault_knob("cache-filter", "N"));
	ASSERT_EQ(0, fault_knob("verbose", "0"));
	ASSERT_EQ(0, fault_knob("probability", "0"));
	ASSERT_EQ(0, fault_knob("interval", "1"));
	ASSERT_EQ(0, fault_knob("times", "-1"));
	ASSERT_EQ(0, fault_knob("space", "0"));
	ASSERT_EQ(0, fault_knob("task-filter", "Y"));
	ASSERT_EQ(0, reject_buddy_allocator())
		TH_LOG("%s is missing or stale: rebuild with 'make initramfs-debug'", REJECT_FILE);

	fail_nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	make_it_fail = open("/proc/thread-self/make-it-fail", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fail_nth);
	ASSERT_LE(0, make_it_fail);
	/* No page fault of ours may allocate inside a window. */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));
}

FIXTURE_TEARDOWN(alloc_fail)
{
	if (fail_nth >= 0) {
		pwrite(fail_nth, "0", 1, 0);
		close(fail_nth);
	}
	if (make_it_fail >= 0) {
		pwrite(make_it_fail, "0", 1, 0);
		close(make_it_fail);
	}
	fault_knob("probability", "0");
	write_file("/sys/module/lumen/parameters/ban_guilty", "Y");
	fault_knob("task-filter", "N");
	fault_knob("reject-start", "0");
	fault_knob("reject-end", "0");
	if (self->fd >= 0) {
		EXPECT_EQ(0, device_works(self->fd, self->num_queues, 0));
		close(self->fd);
	}
}

/* The call fails at its 1st, 2nd, ... allocation, each in turn. */
static void each_allocation(struct __test_metadata *_metadata, int fd, uint32_t num_queues,
			    const struct call *call)
{
	unsigned int n, enomem = 0, tolerated = 0;
	const char *bad;
	bool injected;
	int ret;

	for (n = 1; n <= MAX_SITES; n++) {
		struct call_ctx c;

		ctx_init(&c, fd, num_queues);
		ASSERT_EQ(0, call->setup(&c)) TH_LOG("%s: setup failed", call->name);
		arm_nth(n);
		ret = call->call(&c);
		injected = disarm_nth();

		bad = call->verify ? call->verify(&c, ret) : NULL;
		undo(&c);
		ASSERT_TRUE(ret == 0 || ret == -ENOMEM || (ret && ret == -call->core_errno))
			TH_LOG("%s, allocation %u failed: %s instead of ENOMEM", call->name, n,
			       strerror(-ret));
		ASSERT_EQ(NULL, bad) TH_LOG("%s, allocation %u failed: %s", call->name, n, bad);
		if (!injected) {
			/* The call made fewer than n allocations: it must succeed. */
			ASSERT_EQ(0, ret) TH_LOG("%s failed with nothing injected", call->name);
			break;
		}
		if (ret)
			enomem++;
		else
			tolerated++;
		/* A job now and then: the device must keep working. */
		if (n % 8 == 0)
			ASSERT_EQ(0, device_works(fd, num_queues, n)) TH_LOG("after %s #%u", call->name, n);
	}
	ASSERT_GE(MAX_SITES, n) TH_LOG("%s: more than %d allocations?", call->name, MAX_SITES);
	ASSERT_EQ(0, device_works(fd, num_queues, n));
	/* The figures, for the log: sites found, how each failure was taken. */
	printf("# %-18s %3u allocations: %3u failed the call with ENOMEM, %3u were absorbed\n",
	       call->name, n - 1, enomem, tolerated);
}

#define EACH_ALLOCATION(index, test_name)						\
	TEST_F_TIMEOUT(alloc_fail, test_name, 600)					\
	{										\
		each_allocation(_metadata, self->fd, self->num_queues, &calls[index]);	\
	}

EACH_ALLOCATION(0, open)
EACH_ALLOCATION(1, query)
EACH_ALLOCATION(2, bo_create_system)
EACH_ALLOCATION(3, bo_create_device)
EACH_ALLOCATION(4, bo_mmap_offset)
EACH_ALLOCATION(5, mmap_system)
EACH_ALLOCATION(6, mmap_device)
EACH_ALLOCATION(7, submit_nop)
EACH_ALLOCATION(8, submit_fence)
EACH_ALLOCATION(9, submit_copy)
EACH_ALLOCATION(10, syncobj_create)
EACH_ALLOCATION(11, prime_export)
EACH_ALLOCATION(12, prime_import)
EACH_ALLOCATION(13, prime_import_other)
EACH_ALLOCATION(14, bo_info)
EACH_ALLOCATION(15, sync_file_export)
EACH_ALLOCATION(16, close_with_job)
EACH_ALLOCATION(19, dq_create)

/*
 * Many calls in a seeded random order, 10% of every allocation failing:
 * failures deep in one call must not upset the next ones.
 */
TEST_F_TIMEOUT(alloc_fail, random_failures, 900)
{
	uint64_t seed = (uint64_t)time(NULL);
	unsigned int round, failed = 0;
	const char *env = getenv("LUMEN_TEST_SEED");

	if (env)
		seed = strtoull(env, NULL, 0);
	printf("# random_failures: seed 0x%llx (LUMEN_TEST_SEED replays it)\n",
	       (unsigned long long)seed);
	ASSERT_EQ(0, fault_knob("probability", RANDOM_PERCENT));

	for (round = 0; round < RANDOM_ROUNDS; round++) {
		const struct call *call;
		struct call_ctx c;
		const char *bad;
		int ret;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		call = &calls[(seed >> 33) % NCALLS];
		ctx_init(&c, self->fd, self->num_queues);
		ASSERT_EQ(0, call->setup(&c)) TH_LOG("%s: setup failed", call->name);
		set_make_it_fail(true);
		ret = call->call(&c);
		set_make_it_fail(false);
		bad = call->verify ? call->verify(&c, ret) : NULL;
		undo(&c);
		ASSERT_TRUE(ret == 0 || ret == -ENOMEM || (ret && ret == -call->core_errno))
			TH_LOG("round %u, %s: %s instead of ENOMEM", round, call->name, strerror(-ret));
		ASSERT_EQ(NULL, bad) TH_LOG("round %u, %s: %s", round, call->name, bad);
		failed += ret != 0;
		if (round % 25 == 24)
			ASSERT_EQ(0, device_works(self->fd, self->num_queues, round));
	}
	ASSERT_EQ(0, fault_knob("probability", "0"));
	printf("# random_failures: %u calls, %u failed with ENOMEM\n", RANDOM_ROUNDS, failed);
}

TEST_HARNESS_MAIN
