// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The fuzzer's operations.  Each builds one request, well formed from the
 * worker's pools or deliberately broken, makes the call and checks the
 * answer against Documentation/uapi.rst:
 *
 *  - an errno the document does not list for the ioctl is unexpected;
 *  - a well-formed request may only fail for lack of memory (ENOMEM, or
 *    ENOSPC for device memory);
 *  - what a successful call returns is checked where the document says
 *    what it must be (sizes, handles, job status).
 *
 * A forked child works on the file it shares with its parent: it uses the
 * parent's objects but never closes or resets them.  The parent may close
 * them at any time, and the handle numbers be reused for other objects, so
 * a child's view of them is stale: its answers are held to the errno lists
 * only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>

#include "fuzz.h"

#define PAGE		4096ull
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Errnos each ioctl may return (Documentation/uapi.rst), 0 ends a list. */
static const int query_errs[] = { EINVAL, EFAULT, 0 };
static const int create_errs[] = { EINVAL, ENOSPC, ENOMEM, EFAULT, 0 };
static const int info_errs[] = { EINVAL, ENOENT, EFAULT, 0 };
/* A job's fence errors (ENODEV cannot happen: the device stays). */
static const int job_errs[] = { EFAULT, EIO, ETIMEDOUT, ESRCH, ECANCELED, 0 };
static const int offset_errs[] = { EINVAL, ENOENT, ENOMEM, EFAULT, 0 };
/* ECANCELED: the file is guilty of a failed job (ban_guilty, recovery work). */
static const int submit_errs[] = { EINVAL, E2BIG, EFAULT, ENOENT, ENOMEM, ECANCELED, 0 };
static const int mmap_errs[] = { EINVAL, EACCES, ENOMEM, 0 };
static const int bind_errs[] = { EINVAL, ENOENT, EACCES, EEXIST, ENOMEM, EFAULT, 0 };
static const int unbind_errs[] = { EINVAL, ENOENT, EFAULT, 0 };
static const int past_table_errs[] = { EINVAL, 0 };
static const int any_driver_errs[] = {
	EINVAL, E2BIG, EFAULT, ENOENT, ENOMEM, ENOSPC, ECANCELED, 0
};
/* VM_BIND/VM_UNBIND with random bytes. */
static const int raw_bind_errs[] = {
	EINVAL, EFAULT, ENOENT, ENOMEM, EACCES, EEXIST, 0
};
/*
 * User queue create/destroy (0x0a, 0x0b, queues work) with random bytes:
 * the errnos that work documents; a hook until it has its own op.
 */
static const int raw_queue_errs[] = {
	EINVAL, EFAULT, ENOENT, ENOMEM, ENOSPC, EACCES, 0
};

/* Direct queue create/destroy/wait with random bytes (uapi.rst). */
static const int raw_dq_errs[] = {
	EINVAL, EFAULT, ENOENT, ENOMEM, ENOSPC, ECANCELED, ETIME, EIO, 0
};

/* The last driver ioctl number; the raw op also tries a few past it. */
#if defined(DRM_LUMEN_DQ_WAIT)
#define FZ_LAST_IOCTL	DRM_LUMEN_DQ_WAIT
#elif defined(DRM_LUMEN_QUEUE_DESTROY)
#define FZ_LAST_IOCTL	DRM_LUMEN_QUEUE_DESTROY
#else
#define FZ_LAST_IOCTL	DRM_LUMEN_VM_UNBIND
#endif
/* DRM core ioctls: not ours to specify, but never a surprise errno. */
static const int core_errs[] = { EINVAL, ENOENT, ENOMEM, EFAULT, ETIME, EOPNOTSUPP, 0 };

static bool listed(int err, const int *errs)
{
	for (; *errs; errs++)
		if (err == *errs)
			return true;
	return false;
}

int fz_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : 0;
}

static void count(struct fz_worker *w, enum fz_op op, int ret)
{
	__atomic_fetch_add(&w->stats->op[op].calls, 1, __ATOMIC_RELAXED);
	if (!ret)
		__atomic_fetch_add(&w->stats->op[op].ok, 1, __ATOMIC_RELAXED);
}

static const char *const op_names[FZ_OP_COUNT] = {
	[FZ_QUERY] = "query", [FZ_BO_CREATE] = "bo-create", [FZ_BO_CREATE_BAD] = "bo-create-bad",
	[FZ_GEM_CLOSE] = "gem-close", [FZ_MMAP_OFFSET] = "mmap-offset", [FZ_MMAP] = "mmap",
	[FZ_MUNMAP] = "munmap", [FZ_TOUCH] = "touch", [FZ_SYNCOBJ] = "syncobj",
	[FZ_WAIT] = "wait", [FZ_SUBMIT] = "submit", [FZ_SUBMIT_BAD] = "submit-bad",
	[FZ_SYNC_FILE] = "sync-file", [FZ_PRIME] = "prime", [FZ_BO_INFO] = "bo-info",
	[FZ_VM_BIND] = "vm-bind", [FZ_VM_BIND_BAD] = "vm-bind-bad",
	[FZ_VM_UNBIND] = "vm-unbind", [FZ_QUEUE] = "queue", [FZ_DQ] = "direct-queue",
	[FZ_RAW_IOCTL] = "raw-ioctl",
	[FZ_REOPEN] = "reopen", [FZ_FORK] = "fork",
};

void fz_unexpected(struct fz_worker *w, enum fz_op op, int err, const char *what)
{
	__atomic_fetch_add(&w->stats->unexpected, 1, __ATOMIC_RELAXED);
	printf("# worker %u%s: unexpected: %s: %s (%s)\n", w->id, w->child ? " (child)" : "",
	       op_names[op], what, err ? strerror(-err) : "success");
	fflush(stdout);
}

/* Check @ret of a call that may fail with @errs; @valid: must succeed. */
static void check(struct fz_worker *w, enum fz_op op, int ret, const int *errs, bool valid,
		  const char *what)
{
	count(w, op, ret);
	if (!ret)
		return;
	if (!listed(-ret, errs)) {
		fz_unexpected(w, op, ret, what);
		return;
	}
	if (valid && !w->child && ret != -ENOMEM && ret != -ENOSPC && ret != -ECANCELED)
		fz_unexpected(w, op, ret, what);
	/* A guilty file runs no more jobs: the parent starts a new one (fz_step()). */
	if (ret == -ECANCELED && (op == FZ_SUBMIT || op == FZ_SUBMIT_BAD) && !w->child)
		w->guilty = true;
}

/* ---- The pools ------------------------------------------------------------- */

static void gem_close(struct fz_worker *w, uint32_t handle)
{
	struct drm_gem_close args = { .handle = handle };

	fz_ioctl(w->fd, DRM_IOCTL_GEM_CLOSE, &args);
}

static void drop_bo(struct fz_worker *w, unsigned int i)
{
	if (!w->bos[i].devmem)
		w->system_bytes -= w->bos[i].size;
	w->bos[i] = w->bos[--w->nbos];
}

static void drop_syncobj(struct fz_worker *w, unsigned int i)
{
	w->syncobjs[i] = w->syncobjs[--w->nsyncobjs];
}

static struct fz_syncobj *find_syncobj(struct fz_worker *w, uint32_t handle)
{
	for (unsigned int i = 0; i < w->nsyncobjs; i++)
		if (w->syncobjs[i].handle == handle)
			return &w->syncobjs[i];
	return NULL;
}

/* The worker's command BO, mapped for writing commands. */
static int open_cmd_bo(struct fz_worker *w)
{
	struct drm_lumen_bo_create create = { .size = FZ_CB_SIZE };
	struct drm_lumen_bo_mmap_offset off = { 0 };
	void *p;
	int ret;

	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_CREATE, &create);
	if (!ret) {
		off.handle = create.handle;
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &off);
	}
	if (ret) {
		close(w->fd);
		w->fd = -1;
		return ret;
	}
	p = mmap(NULL, FZ_CB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, (off_t)off.offset);
	if (p == MAP_FAILED) {
		ret = -errno;
		close(w->fd);
		w->fd = -1;
		return ret;
	}
	w->cb_handle = create.handle;
	w->cb_va = create.va;
	w->cb_map = p;
	return 0;
}

int fz_open(struct fz_worker *w)
{
	struct drm_lumen_device_info info = { 0 };
	struct drm_lumen_query q = {
		.type = DRM_LUMEN_QUERY_DEVICE_INFO, .size = sizeof(info), .data = (uintptr_t)&info,
	};
	int ret;

	w->fd = open(w->path, O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_QUERY, &q);
	if (ret) {
		close(w->fd);
		w->fd = -1;
		return ret;
	}
	w->num_queues = info.num_queues;
	w->num_cores = info.num_cores;
	w->devmem_size = info.devmem_size;
	w->max_cmdbuf_size = info.max_cmdbuf_size;
	w->va_start = info.va_start;
	w->va_end = info.va_end;
	/* A new address space: VM_BINDs start afresh, far above the BOs. */
	w->bind_va = info.va_start + (1ull << 40);
	return open_cmd_bo(w);
}

void fz_close(struct fz_worker *w)
{
	if (w->cb_map)
		munmap(w->cb_map, FZ_CB_SIZE);
	w->cb_map = NULL;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->nbos = 0;
	w->system_bytes = 0;
	w->nsyncobjs = 0;
	w->nbinds = 0;
	w->nqueues = 0;
	w->ndqs = 0;
}

/* ---- Queries and buffer objects ------------------------------------------- */

static void op_query(struct fz_worker *w)
{
	static uint8_t answer[4096];
	struct drm_lumen_query q = { .type = DRM_LUMEN_QUERY_DEVICE_INFO };
	bool valid = true;
	uint32_t asked;
	int ret;

	switch (fz_below(&w->rng, 4)) {
	case 0:
		q.size = 0;
		break;
	case 1:
		q.size = sizeof(struct drm_lumen_device_info);
		break;
	case 2:
		q.size = 1 + (uint32_t)fz_below(&w->rng, sizeof(answer));
		break;
	default:
		q.size = fz_gen_u32(w);
		valid = false;
		break;
	}
	q.data = (uintptr_t)answer;
	if (fz_chance(&w->rng, 20)) {
		q.data = fz_chance(&w->rng, 50) ? (uintptr_t)w->guard : fz_gen_u64(w);
		valid = valid && !q.size;
	}
	if (fz_chance(&w->rng, 10)) {
		q.type = fz_gen_u32(w);
		valid = valid && !q.type;
	}
	asked = q.size;
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_QUERY, &q);
	check(w, FZ_QUERY, ret, query_errs, valid, "query");
	if (!ret && q.type == DRM_LUMEN_QUERY_DEVICE_INFO) {
		uint32_t full = sizeof(struct drm_lumen_device_info);

		if (q.size != (asked ? (asked < full ? asked : full) : full))
			fz_unexpected(w, FZ_QUERY, 0, "answer size");
	}
}

/* Room in the pool: closes a random BO when it is full. */
static bool make_room_bo(struct fz_worker *w)
{
	unsigned int i;

	if (w->nbos < FZ_MAX_BOS)
		return true;
	i = (unsigned int)fz_below(&w->rng, w->nbos);
	if (w->bos[i].borrowed)
		return false;
	gem_close(w, w->bos[i].handle);
	drop_bo(w, i);
	return true;
}

static void op_bo_create(struct fz_worker *w)
{
	struct drm_lumen_bo_create args = { 0 };
	bool devmem = fz_chance(&w->rng, 30);
	uint64_t size = fz_gen_bo_size(w, devmem, true);
	int ret;

	/*
	 * Children share their parent's file: what they create lives as long
	 * as it, so they keep to a few small BOs.
	 */
	if (w->child)
		size = PAGE * (1 + fz_below(&w->rng, 4));
	if (!devmem && w->system_bytes + size > FZ_SYSTEM_BUDGET)
		size = PAGE;
	if (!make_room_bo(w))
		return;
	args.size = size;
	args.flags = devmem ? DRM_LUMEN_BO_DEVICE : 0;
	/* Cached or write-combined for the CPU (a no-op on device BOs). */
	if (fz_chance(&w->rng, 25))
		args.flags |= DRM_LUMEN_BO_WC;
	args.handle = fz_gen_u32(w);	/* its input value is ignored */
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_CREATE, &args);
	check(w, FZ_BO_CREATE, ret, create_errs, true, devmem ? "device BO" : "system BO");
	if (ret)
		return;
	if (args.size != ((size + PAGE - 1) & ~(PAGE - 1)) || !args.handle)
		fz_unexpected(w, FZ_BO_CREATE, 0, "returned size or handle");
	if (args.va < w->va_start || args.va > w->va_end - args.size || args.va % PAGE)
		fz_unexpected(w, FZ_BO_CREATE, 0, "returned VA");
	w->bos[w->nbos++] = (struct fz_bo){
		.handle = args.handle, .size = args.size, .va = args.va, .devmem = devmem,
	};
	if (!devmem)
		w->system_bytes += args.size;
}

static void op_bo_create_bad(struct fz_worker *w)
{
	struct drm_lumen_bo_create args = { 0 };
	bool devmem = fz_chance(&w->rng, 50);
	int ret;

	args.size = fz_gen_bo_size(w, devmem, false);
	args.flags = devmem ? DRM_LUMEN_BO_DEVICE : 0;
	if (fz_chance(&w->rng, 40))
		args.flags |= 1u << fz_below(&w->rng, 32);
	/*
	 * A large system BO pins every page at creation (it is mapped into
	 * the context at once), more than the guest has: never make one.
	 */
	if (!devmem && args.size > (16ull << 20) && args.size <= (1ull << 30))
		args.size = (1ull << 30) + 1;
	if (fz_chance(&w->rng, 5))
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_CREATE, w->guard);
	else
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_CREATE, &args);
	check(w, FZ_BO_CREATE_BAD, ret, create_errs, false, "malformed BO");
	if (!ret)
		gem_close(w, args.handle);
}

static void op_gem_close(struct fz_worker *w)
{
	struct drm_gem_close args = { 0 };
	unsigned int i;
	int ret;

	if (w->nbos && fz_chance(&w->rng, 80)) {
		i = (unsigned int)fz_below(&w->rng, w->nbos);
		if (w->bos[i].borrowed)
			return;
		args.handle = w->bos[i].handle;
		ret = fz_ioctl(w->fd, DRM_IOCTL_GEM_CLOSE, &args);
		check(w, FZ_GEM_CLOSE, ret, core_errs, true, "close a BO");
		drop_bo(w, i);
		return;
	}
	/*
	 * A handle this file may not have, or a non-zero pad.  Not while a
	 * parent and child share the file: a child could hit a BO its parent
	 * made after the fork, and a parent could close a child's BO, whose
	 * handle number the parent's next BO then reuses -- and the child
	 * closes when it exits.
	 */
	if (w->child || w->nchildren)
		return;
	args.handle = fz_gen_u32(w);
	args.pad = fz_chance(&w->rng, 30) ? fz_gen_u32(w) : 0;
	for (i = 0; i < w->nbos; i++)
		if (w->bos[i].handle == args.handle)
			return;
	/* Nor the command BO: every job needs it. */
	if (args.handle == w->cb_handle)
		return;
	ret = fz_ioctl(w->fd, DRM_IOCTL_GEM_CLOSE, &args);
	check(w, FZ_GEM_CLOSE, ret, core_errs, false, "close a stray handle");
}

static int mmap_offset(struct fz_worker *w, uint32_t handle, uint64_t *offset)
{
	struct drm_lumen_bo_mmap_offset args = { .handle = handle };
	int ret;

	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &args);
	*offset = args.offset;
	return ret;
}

static void op_mmap_offset(struct fz_worker *w)
{
	struct drm_lumen_bo_mmap_offset args = { 0 };
	bool valid = w->nbos && fz_chance(&w->rng, 70);
	int ret;

	args.handle = valid ? w->bos[fz_below(&w->rng, w->nbos)].handle : fz_any_bo_handle(w);
	if (fz_chance(&w->rng, 15)) {
		args.pad = fz_gen_u32(w) | 1;
		valid = false;
	}
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &args);
	check(w, FZ_MMAP_OFFSET, ret, offset_errs, valid, "mmap offset");
}

/* ---- CPU mappings ---------------------------------------------------------- */

static void unmap(struct fz_worker *w, unsigned int i)
{
	munmap(w->maps[i].addr, w->maps[i].len);
	w->maps[i] = w->maps[--w->nmaps];
}

static void op_mmap(struct fz_worker *w)
{
	const struct fz_bo *bo;
	uint64_t offset, len;
	bool valid = true;
	int flags = MAP_SHARED;
	void *addr;
	int ret;

	if (!w->nbos)
		return;
	bo = &w->bos[fz_below(&w->rng, w->nbos)];
	if (mmap_offset(w, bo->handle, &offset))
		return;
	len = PAGE * (1 + fz_below(&w->rng, bo->size / PAGE));
	switch (fz_below(&w->rng, 10)) {
	case 0:
		len = bo->size + PAGE * (1 + fz_below(&w->rng, 4));	/* longer than the BO */
		valid = false;
		break;
	case 1:
		offset += PAGE * (1 + fz_below(&w->rng, 4));	/* not the start */
		valid = false;
		break;
	case 2:
		flags = MAP_PRIVATE;
		valid = false;
		break;
	default:
		break;
	}
	if (w->nmaps == FZ_MAX_MAPS)
		unmap(w, (unsigned int)fz_below(&w->rng, w->nmaps));
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, w->fd, (off_t)offset);
	ret = addr == MAP_FAILED ? -errno : 0;
	check(w, FZ_MMAP, ret, mmap_errs, valid, bo->devmem ? "map a device BO" : "map a system BO");
	if (ret)
		return;
	w->maps[w->nmaps++] = (struct fz_map){ .addr = addr, .len = len };
}

static void op_munmap(struct fz_worker *w)
{
	struct fz_map *map;
	size_t keep;

	if (!w->nmaps)
		return;
	map = &w->maps[fz_below(&w->rng, w->nmaps)];
	count(w, FZ_MUNMAP, 0);
	if (map->len > PAGE && fz_chance(&w->rng, 50)) {
		/* Cut the tail off: the rest of the mapping stays usable. */
		keep = PAGE * (1 + fz_below(&w->rng, map->len / PAGE - 1));
		munmap((char *)map->addr + keep, map->len - keep);
		map->len = keep;
		return;
	}
	unmap(w, (unsigned int)(map - w->maps));
}

static void op_touch(struct fz_worker *w)
{
	struct fz_map *map;
	volatile uint8_t *p;
	unsigned int i;

	if (!w->nmaps)
		return;
	map = &w->maps[fz_below(&w->rng, w->nmaps)];
	p = map->addr;
	for (i = 0; i < 4; i++) {
		size_t at = fz_below(&w->rng, map->len);

		if (fz_chance(&w->rng, 50))
			p[at] = (uint8_t)fz_next(&w->rng);
		else
			(void)p[at];
	}
	count(w, FZ_TOUCH, 0);
}

/* ---- Syncobjs -------------------------------------------------------------- */

static int syncobj_array(struct fz_worker *w, unsigned long request, uint32_t handle)
{
	struct drm_syncobj_array args = { .handles = (uintptr_t)&handle, .count_handles = 1 };

	return fz_ioctl(w->fd, request, &args);
}

static void op_syncobj(struct fz_worker *w)
{
	struct fz_syncobj *s = w->nsyncobjs ? &w->syncobjs[fz_below(&w->rng, w->nsyncobjs)] : NULL;
	unsigned int what = (unsigned int)fz_below(&w->rng, 6);
	int ret;

	if (what < 2 || !s) {
		struct drm_syncobj_create args = { 0 };

		if (w->nsyncobjs == FZ_MAX_SYNCOBJS)
			return;
		args.flags = fz_chance(&w->rng, 50) ? DRM_SYNCOBJ_CREATE_SIGNALED : 0;
		ret = fz_ioctl(w->fd, DRM_IOCTL_SYNCOBJ_CREATE, &args);
		check(w, FZ_SYNCOBJ, ret, core_errs, true, "create a syncobj");
		if (!ret)
			w->syncobjs[w->nsyncobjs++] = (struct fz_syncobj){
				.handle = args.handle, .has_fence = args.flags != 0,
			};
		return;
	}
	if (s->borrowed)
		return;
	switch (what) {
	case 2: {
		struct drm_syncobj_destroy args = { .handle = s->handle };

		ret = fz_ioctl(w->fd, DRM_IOCTL_SYNCOBJ_DESTROY, &args);
		check(w, FZ_SYNCOBJ, ret, core_errs, true, "destroy a syncobj");
		drop_syncobj(w, (unsigned int)(s - w->syncobjs));
		return;
	}
	case 3:
		ret = syncobj_array(w, DRM_IOCTL_SYNCOBJ_SIGNAL, s->handle);
		check(w, FZ_SYNCOBJ, ret, core_errs, true, "signal a syncobj");
		s->has_fence = true;
		return;
	case 4:
		ret = syncobj_array(w, DRM_IOCTL_SYNCOBJ_RESET, s->handle);
		check(w, FZ_SYNCOBJ, ret, core_errs, true, "reset a syncobj");
		s->has_fence = false;
		return;
	default: {
		/* A stray handle (never from a child: it could hit its parent's). */
		bool signal = fz_chance(&w->rng, 50);
		uint32_t handle = fz_gen_u32(w);
		struct fz_syncobj *hit = find_syncobj(w, handle);

		if (w->child)
			return;
		ret = syncobj_array(w, signal ? DRM_IOCTL_SYNCOBJ_SIGNAL : DRM_IOCTL_SYNCOBJ_RESET,
				    handle);
		check(w, FZ_SYNCOBJ, ret, core_errs, false, "stray syncobj handle");
		if (!ret && hit)
			hit->has_fence = signal;
		return;
	}
	}
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void op_wait(struct fz_worker *w)
{
	uint32_t handles[3];
	struct drm_syncobj_wait args = { 0 };
	unsigned int i, n = 1 + (unsigned int)fz_below(&w->rng, 3);
	int ret;

	if (!w->nsyncobjs)
		return;
	for (i = 0; i < n; i++)
		handles[i] = fz_chance(&w->rng, 95) ? w->syncobjs[fz_below(&w->rng, w->nsyncobjs)].handle :
						      fz_gen_u32(w);
	args.handles = (uintptr_t)handles;
	args.count_handles = n;
	args.flags = (uint32_t)fz_below(&w->rng, 4);	/* WAIT_ALL, WAIT_FOR_SUBMIT */
	args.timeout_nsec = now_ns() + 20 * 1000000;
	ret = fz_ioctl(w->fd, DRM_IOCTL_SYNCOBJ_WAIT, &args);
	check(w, FZ_WAIT, ret, core_errs, false, "wait");
}

/* ---- Submission -------------------------------------------------------------- */

/* The next half of the command BO, for @n commands. */
static struct fz_cmd *cmd_area(struct fz_worker *w, uint64_t *va)
{
	unsigned int off = (w->cb_half++ & 1) * (FZ_CB_SIZE / 2);

	*va = w->cb_va + off;
	return (struct fz_cmd *)(w->cb_map + off);
}

static uint32_t job_length(struct fz_worker *w)
{
	if (fz_chance(&w->rng, 2))
		return FZ_MAX_CMDS;
	if (fz_chance(&w->rng, 10))
		return 1 + (uint32_t)fz_below(&w->rng, 64);
	return 1 + (uint32_t)fz_below(&w->rng, 4);
}

/* A syncobj that holds a fence, or 0. */
static uint32_t fenced_syncobj(struct fz_worker *w)
{
	unsigned int i, start;

	if (!w->nsyncobjs)
		return 0;
	start = (unsigned int)fz_below(&w->rng, w->nsyncobjs);
	for (i = 0; i < w->nsyncobjs; i++) {
		const struct fz_syncobj *s = &w->syncobjs[(start + i) % w->nsyncobjs];

		if (s->has_fence)
			return s->handle;
	}
	return 0;
}

static uint32_t own_syncobj(struct fz_worker *w)
{
	const struct fz_syncobj *s;

	if (!w->nsyncobjs)
		return 0;
	s = &w->syncobjs[fz_below(&w->rng, w->nsyncobjs)];
	return s->borrowed ? 0 : s->handle;
}

/* The BO list of a job: some of the pool, maybe the command BO. */
static uint32_t bo_list(struct fz_worker *w, uint32_t *handles, uint32_t max)
{
	uint32_t n = 0;

	if (fz_chance(&w->rng, 40))
		return 0;	/* the fast path */
	if (fz_chance(&w->rng, 50))
		handles[n++] = w->cb_handle;
	while (n < max && w->nbos && fz_chance(&w->rng, 70))
		handles[n++] = w->bos[fz_below(&w->rng, w->nbos)].handle;
	return n;
}

static uint32_t job_handles[16];

static void build_submit(struct fz_worker *w, struct drm_lumen_submit *args)
{
	uint32_t n = job_length(w), i;
	uint64_t va;
	struct fz_cmd *cmds = cmd_area(w, &va);

	for (i = 0; i < n; i++)
		fz_gen_cmd(w, &cmds[i]);
	*args = (struct drm_lumen_submit){
		.cmdbuf_va = va,
		.cmdbuf_size = n * sizeof(*cmds),
		.queue = (uint32_t)fz_below(&w->rng, w->num_queues),
		.in_syncobj = fz_chance(&w->rng, 30) ? fenced_syncobj(w) : 0,
		.out_syncobj = fz_chance(&w->rng, 60) ? own_syncobj(w) : 0,
	};
	args->bo_count = bo_list(w, job_handles, 16);
	if (args->bo_count)
		args->bo_handles = (uintptr_t)job_handles;
}

static void submitted(struct fz_worker *w, const struct drm_lumen_submit *args)
{
	struct fz_syncobj *s = args->out_syncobj ? find_syncobj(w, args->out_syncobj) : NULL;

	if (s)
		s->has_fence = true;
}

/* What the worker believed about a job the driver refused. */
static void dump_submit(struct fz_worker *w, const struct drm_lumen_submit *args)
{
	const struct fz_syncobj *in = find_syncobj(w, args->in_syncobj);

	printf("#   queue %u, in-syncobj %u (%s), out-syncobj %u, cmdbuf %#llx + %u, %u BOs\n",
	       args->queue, args->in_syncobj, in ? (in->has_fence ? "fenced" : "no fence") : "none",
	       args->out_syncobj, (unsigned long long)args->cmdbuf_va, args->cmdbuf_size,
	       args->bo_count);
	for (uint32_t i = 0; i < args->bo_count && i < 16; i++)
		printf("#   BO handle %u\n", job_handles[i]);
}

static void op_submit(struct fz_worker *w)
{
	struct drm_lumen_submit args;
	int ret;

	build_submit(w, &args);
#ifdef DRM_LUMEN_SUBMIT_QUEUE_ID
	/* To a user queue instead of a hardware queue. */
	if (w->nqueues && fz_chance(&w->rng, 30)) {
		args.flags |= DRM_LUMEN_SUBMIT_QUEUE_ID;
		args.queue = w->queues[fz_below(&w->rng, w->nqueues)].id;
	}
#endif
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_SUBMIT, &args);
	/* A child's BO list may name BOs its parent closed: ENOENT. */
	check(w, FZ_SUBMIT, ret, submit_errs, true, "well-formed job");
	if (ret && ret != -ENOMEM && !w->child)
		dump_submit(w, &args);
	if (!ret)
		submitted(w, &args);
}

static struct drm_lumen_sync job_syncs[8];

/*
 * DRM_LUMEN_SUBMIT_SYNCS with random entries (flags, handles, points), a
 * random count or pointer, or stray pad: whatever the driver accepts only
 * adds fences to syncobjs, which the pool's has_fence never relies on.
 */
static void random_syncs(struct fz_worker *w, struct drm_lumen_submit *args)
{
	unsigned int i, n = 1 + (unsigned int)fz_below(&w->rng, 8);

	for (i = 0; i < n; i++) {
		job_syncs[i].flags = fz_chance(&w->rng, 90) ? (uint32_t)fz_below(&w->rng, 4) :
							      fz_gen_u32(w);
		job_syncs[i].handle = fz_any_syncobj_handle(w);
		job_syncs[i].point = fz_chance(&w->rng, 40) ? 0 :
				     fz_chance(&w->rng, 50) ? 1 + fz_below(&w->rng, 8) :
							      fz_gen_u64(w);
	}
	args->flags = fz_chance(&w->rng, 90) ? DRM_LUMEN_SUBMIT_SYNCS : fz_gen_u32(w);
	args->syncs = (uintptr_t)job_syncs;
	args->sync_count = n;
	switch (fz_below(&w->rng, 8)) {
	case 0:
		args->syncs = fz_chance(&w->rng, 50) ? (uintptr_t)w->guard : fz_gen_u64(w);
		break;
	case 1:
		args->sync_count = fz_chance(&w->rng, 50) ? 257 : fz_gen_u32(w);
		break;
	case 2:
		args->pad = fz_gen_u32(w);
		break;
	default:
		break;
	}
}

static void op_submit_bad(struct fz_worker *w)
{
	struct drm_lumen_submit args;
	struct fz_cmd *cmds;
	int ret;

	build_submit(w, &args);
	cmds = (struct fz_cmd *)(w->cb_map + (args.cmdbuf_va - w->cb_va));
	switch (fz_below(&w->rng, 12)) {
	case 0:
	case 1:
	case 2:
	case 3:
		/* Accepted by the driver; the device stops the queue, or not. */
		fz_mutate_cmd(w, &cmds[fz_below(&w->rng, args.cmdbuf_size / sizeof(*cmds))]);
		break;
	case 4:
		args.cmdbuf_size = fz_chance(&w->rng, 50) ? 0 : fz_gen_u32(w);
		if (fz_chance(&w->rng, 30))
			args.cmdbuf_size = w->max_cmdbuf_size + 64;
		break;
	case 5:
		/* Runs past the command BO into its guard page: a fault. */
		args.cmdbuf_va = w->cb_va + FZ_CB_SIZE - 64 * fz_below(&w->rng, 2);
		args.cmdbuf_size = 128;
		break;
	case 6:
		args.cmdbuf_va = fz_chance(&w->rng, 30) ? 0 :
				 fz_chance(&w->rng, 50) ? args.cmdbuf_va + 1 + fz_below(&w->rng, 63) :
							  fz_gen_u64(w);
		break;
	case 7:
		args.queue = fz_chance(&w->rng, 50) ? w->num_queues : fz_gen_u32(w);
		break;
	case 8:
		if (fz_chance(&w->rng, 50))
			args.flags = 1u << fz_below(&w->rng, 32);
		else
			random_syncs(w, &args);
		break;
	case 9:
		/* Stray handles, a bad pointer, or a huge count. */
		switch (fz_below(&w->rng, 3)) {
		case 0:
			job_handles[0] = fz_any_bo_handle(w);
			args.bo_handles = (uintptr_t)job_handles;
			args.bo_count = args.bo_count ? args.bo_count : 1;
			break;
		case 1:
			args.bo_handles = fz_chance(&w->rng, 50) ? (uintptr_t)w->guard : fz_gen_u64(w);
			args.bo_count = 1 + (uint32_t)fz_below(&w->rng, 16);
			break;
		default:
			args.bo_count = fz_chance(&w->rng, 50) ? 4097 : fz_gen_u32(w);
			break;
		}
		break;
	default:
		if (fz_chance(&w->rng, 50))
			args.in_syncobj = fz_any_syncobj_handle(w);
		else
			args.out_syncobj = fz_any_syncobj_handle(w);
		break;
	}
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_SUBMIT, &args);
	check(w, FZ_SUBMIT_BAD, ret, submit_errs, false, "malformed job");
	if (!ret)
		submitted(w, &args);
}

/* ---- Sync files, PRIME, raw ioctls ----------------------------------------- */

static void op_sync_file(struct fz_worker *w)
{
	struct drm_syncobj_handle args = { 0 };
	struct sync_file_info info = { 0 };
	struct fz_syncobj *dst;
	int ret;

	args.handle = fenced_syncobj(w);
	if (!args.handle)
		return;
	args.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE;
	ret = fz_ioctl(w->fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &args);
	check(w, FZ_SYNC_FILE, ret, core_errs, true, "export a sync file");
	if (ret)
		return;
	/*
	 * Status 1 or 0, or one of the job errors Documentation/uapi.rst
	 * lists ("Job status"): the fuzzer's commands may fault (a BO closed
	 * meanwhile, a broken command, the command BO rewritten while a job
	 * read it) or be refused by the device, and only fail their job.
	 */
	ret = fz_ioctl(args.fd, SYNC_IOC_FILE_INFO, &info);
	if (ret)
		fz_unexpected(w, FZ_SYNC_FILE, ret, "sync file info");
	else if (info.status < 0 && !listed(-info.status, job_errs))
		fz_unexpected(w, FZ_SYNC_FILE, info.status, "a job failed unexpectedly");

	dst = w->nsyncobjs ? &w->syncobjs[fz_below(&w->rng, w->nsyncobjs)] : NULL;
	if (dst && !dst->borrowed) {
		struct drm_syncobj_handle import = {
			.handle = dst->handle, .fd = args.fd,
			.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
		};

		ret = fz_ioctl(w->fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &import);
		check(w, FZ_SYNC_FILE, ret, core_errs, true, "import a sync file");
		if (!ret)
			dst->has_fence = true;
	}
	close(args.fd);
}

static void op_prime(struct fz_worker *w)
{
	struct drm_prime_handle args = { 0 };
	const struct fz_bo *bo;
	int ret;

	if (!w->nbos)
		return;
	bo = &w->bos[fz_below(&w->rng, w->nbos)];
	args.handle = bo->handle;
	args.flags = DRM_CLOEXEC | DRM_RDWR;
	ret = fz_ioctl(w->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &args);
	/* Device memory has no pages to share: EOPNOTSUPP. */
	check(w, FZ_PRIME, ret, core_errs, !bo->devmem, "export a dma-buf");
	if (ret)
		return;
	if (bo->devmem && !w->child)
		fz_unexpected(w, FZ_PRIME, 0, "a device BO was exported");

	if (fz_chance(&w->rng, 50)) {
		void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, args.fd, 0);

		if (p != MAP_FAILED) {
			*(volatile uint8_t *)p = 1;
			munmap(p, PAGE);
		}
	}
	{
		struct drm_prime_handle back = { .fd = args.fd };

		/* Importing our own dma-buf gives back the same handle. */
		ret = fz_ioctl(w->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &back);
		check(w, FZ_PRIME, ret, core_errs, true, "import a dma-buf");
		if (!ret && back.handle != bo->handle && !w->child)
			fz_unexpected(w, FZ_PRIME, 0, "self-import gave another handle");
	}
	close(args.fd);
}

/* Where a BO is mapped: the VA BO_CREATE gave; stray handles fail. */
static void op_bo_info(struct fz_worker *w)
{
	struct drm_lumen_bo_info args = { 0 };
	const struct fz_bo *bo = NULL;
	int ret;

	if (w->nbos && fz_chance(&w->rng, 70)) {
		bo = &w->bos[fz_below(&w->rng, w->nbos)];
		args.handle = bo->handle;
	} else {
		args.handle = fz_any_bo_handle(w);
	}
	if (fz_chance(&w->rng, 10)) {
		args.va = fz_gen_u64(w) | 1;	/* an output field: must be 0 */
		bo = NULL;
	}
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_BO_INFO, &args);
	check(w, FZ_BO_INFO, ret, info_errs, bo && !bo->borrowed, "BO info");
	if (!ret && bo && !bo->borrowed && !w->child &&
	    (args.va != bo->va || args.size != bo->size ||
	     !!(args.flags & DRM_LUMEN_BO_DEVICE) != bo->devmem))
		fz_unexpected(w, FZ_BO_INFO, 0, "BO info differs from BO_CREATE's answer");
}

/* ---- Explicit VA bindings --------------------------------------------------- */

static int vm_bind(struct fz_worker *w, struct drm_lumen_vm_bind *args)
{
	return fz_ioctl(w->fd, DRM_IOCTL_LUMEN_VM_BIND, args);
}

static int vm_unbind(struct fz_worker *w, uint64_t va, uint64_t size)
{
	struct drm_lumen_vm_unbind args = { .va = va, .size = size };

	return fz_ioctl(w->fd, DRM_IOCTL_LUMEN_VM_UNBIND, &args);
}

/*
 * A binding succeeded at [@va, @va + @size): fresh binds go above it if it
 * is near them (one far above is never reached in a run).
 */
static void bind_seen(struct fz_worker *w, uint64_t va, uint64_t size)
{
	if (va < w->bind_va + (1ull << 41) && va + size + PAGE > w->bind_va)
		w->bind_va = va + size + PAGE;
}

/* Unbinds a binding of the pool the worker made (not borrowed): true if it could. */
static bool unbind_one(struct fz_worker *w)
{
	unsigned int i;
	int ret;

	if (!w->nbinds)
		return false;
	i = (unsigned int)fz_below(&w->rng, w->nbinds);
	if (w->binds[i].borrowed)
		return false;
	ret = vm_unbind(w, w->binds[i].va, w->binds[i].size);
	check(w, FZ_VM_UNBIND, ret, unbind_errs, true, "unbind a binding");
	w->binds[i] = w->binds[--w->nbinds];
	return true;
}

/*
 * A well-formed request: a page range of a BO of the pool (of at most
 * FZ_BIND_MAX_BO: the binding pins it after its handle goes) at a fresh VA.
 */
static bool gen_bind(struct fz_worker *w, struct drm_lumen_vm_bind *args)
{
	const struct fz_bo *bo;
	uint64_t pages, first;

	if (!w->nbos)
		return false;
	bo = &w->bos[fz_below(&w->rng, w->nbos)];
	if (bo->size > FZ_BIND_MAX_BO)
		return false;
	pages = bo->size / PAGE;
	first = fz_below(&w->rng, pages);
	args->handle = bo->handle;
	args->flags = fz_chance(&w->rng, 30) ? DRM_LUMEN_VM_BIND_READ_ONLY : 0;
	args->offset = first * PAGE;
	args->size = PAGE * (1 + fz_below(&w->rng, pages - first));
	args->va = w->bind_va + PAGE * fz_below(&w->rng, 4);
	return args->va + args->size <= w->va_end;
}

static void op_vm_bind(struct fz_worker *w)
{
	struct drm_lumen_vm_bind args = { 0 };
	int ret;

	if (w->nbinds == FZ_MAX_BINDS && !unbind_one(w))
		return;
	if (!gen_bind(w, &args))
		return;
	ret = vm_bind(w, &args);
	check(w, FZ_VM_BIND, ret, bind_errs, true, "bind a BO range");
	if (ret)
		return;
	bind_seen(w, args.va, args.size);
	w->binds[w->nbinds++] = (struct fz_bind){ .va = args.va, .size = args.size };
}

/*
 * A well-formed request with one thing broken.  The argument checks come
 * before the handle lookup (Documentation/uapi.rst), so those must give
 * exactly EINVAL; the others may give any errno VM_BIND lists.
 */
static void op_vm_bind_bad(struct fz_worker *w)
{
	struct drm_lumen_vm_bind args = { 0 };
	int ret, want = EINVAL;
	unsigned int i;

	if (!gen_bind(w, &args)) {
		args.handle = fz_any_bo_handle(w);
		args.va = w->bind_va;
		args.size = PAGE;
	}
	switch (fz_below(&w->rng, 12)) {
	case 0:
		args.flags |= 2u << fz_below(&w->rng, 31);	/* an unknown bit */
		break;
	case 1:
		args.size = 0;
		break;
	case 2:
		args.size += 1 + fz_below(&w->rng, PAGE - 1);
		break;
	case 3:
		args.offset += 1 + fz_below(&w->rng, PAGE - 1);
		break;
	case 4:
		args.va += 1 + fz_below(&w->rng, PAGE - 1);
		break;
	case 5:
		args.va = fz_chance(&w->rng, 50) ? 0 : w->va_start - PAGE;
		break;
	case 6:
		args.va = w->va_end - PAGE * fz_below(&w->rng, 2);
		args.size = 2 * PAGE;
		break;
	case 7:
		args.size = 0ull - PAGE;		/* va + size wraps */
		break;
	case 8:
		/* Past the BO's end, or a stray handle. */
		args.offset = fz_chance(&w->rng, 50) ? (1ull << 30) : 0ull - PAGE;
		want = 0;
		break;
	case 9:
		/*
		 * On a binding or on a BO's own mapping (or its guard page).
		 * A child aims only at its own: its parent may have unbound
		 * one of the parent's meanwhile, and a bind there would reach
		 * into the range where the parent binds next, which the
		 * parent then finds taken (EEXIST).
		 */
		i = (unsigned int)fz_below(&w->rng, w->nbinds + 1);
		if (i < w->nbinds && !w->binds[i].borrowed && fz_chance(&w->rng, 50)) {
			args.va = w->binds[i].va;
		} else if (w->nbos) {
			i = (unsigned int)fz_below(&w->rng, w->nbos);
			if (w->bos[i].borrowed)
				return;
			args.va = w->bos[i].va + PAGE * fz_below(&w->rng, 2);
		}
		want = 0;
		break;
	case 10:
		args.handle = fz_any_bo_handle(w);
		want = 0;
		break;
	default:
		/* Random fields: any listed errno, or even success. */
		args.va = fz_gen_u64(w);
		args.offset = fz_chance(&w->rng, 50) ? fz_gen_u64(w) : 0;
		args.size = fz_gen_u64(w);
		want = 0;
		break;
	}
	if (fz_chance(&w->rng, 3))
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_VM_BIND, w->guard);
	else
		ret = vm_bind(w, &args);
	check(w, FZ_VM_BIND_BAD, ret, bind_errs, false, "malformed bind");
	if (!ret) {
		/* Mutations can be valid (a stray handle naming a BO): keep it tidy. */
		bind_seen(w, args.va, args.size);
		if (w->nbinds < FZ_MAX_BINDS)
			w->binds[w->nbinds++] = (struct fz_bind){ .va = args.va, .size = args.size };
		else
			vm_unbind(w, args.va, args.size);
		return;
	}
	if (want && -ret != want && !w->child && ret != -EFAULT)
		fz_unexpected(w, FZ_VM_BIND_BAD, ret, "a bad argument not refused with EINVAL");
}

/*
 * Unbind a binding of the pool exactly (must succeed), or a range no
 * binding has: a part of one, two at once, or stray numbers (ENOENT), or
 * non-zero flags or padding (EINVAL).
 */
static void op_vm_unbind(struct fz_worker *w)
{
	struct drm_lumen_vm_unbind args = { 0 };
	const struct fz_bind *b = NULL;
	bool exact = true;	/* @want and nothing else (not for random numbers) */
	int ret, want = ENOENT;

	if (w->nbinds && fz_chance(&w->rng, 50)) {
		unbind_one(w);
		return;
	}
	if (w->nbinds)
		b = &w->binds[fz_below(&w->rng, w->nbinds)];
	switch (fz_below(&w->rng, 6)) {
	case 0:
		if (!b || b->size < 2 * PAGE)
			return;
		args.va = b->va + PAGE;		/* a tail of a binding */
		args.size = b->size - PAGE;
		break;
	case 1:
		if (!b || b->size < 2 * PAGE)
			return;
		args.va = b->va;		/* a head of a binding */
		args.size = b->size - PAGE;
		break;
	case 2:
		if (!b)
			return;
		args.va = b->va;		/* more than the binding */
		args.size = b->size + PAGE;
		break;
	case 3:
		args.va = b ? b->va : w->bind_va;
		args.size = b ? b->size : PAGE;
		if (fz_chance(&w->rng, 50))
			args.flags = 1u << fz_below(&w->rng, 32);
		else
			args.pad = fz_gen_u32(w) | 1;
		want = EINVAL;
		break;
	default:
		args.va = fz_gen_u64(w);
		args.size = fz_gen_u64(w);
		exact = false;
		break;
	}
	if (fz_chance(&w->rng, 3)) {
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_VM_UNBIND, w->guard);
		want = EFAULT;
		exact = true;
	} else {
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_VM_UNBIND, &args);
	}
	check(w, FZ_VM_UNBIND, ret, unbind_errs, false, "unbind a range no binding has");
	/* A child's pool is stale: its parent may have unbound anything. */
	if (exact && -ret != want && !w->child)
		fz_unexpected(w, FZ_VM_UNBIND, ret, "bad unbind: not the documented errno");
	if (!ret) {
		/* Random numbers named a binding exactly: forget it. */
		for (unsigned int i = 0; i < w->nbinds; i++)
			if (w->binds[i].va == args.va && w->binds[i].size == args.size) {
				w->binds[i] = w->binds[--w->nbinds];
				break;
			}
		if (b && args.size != b->size && !w->child)
			fz_unexpected(w, FZ_VM_UNBIND, 0, "a part of a binding was unbound");
	}
}

/* ---- User queues ------------------------------------------------------------ */

#ifdef DRM_LUMEN_QUEUE_CREATE
static const int queue_errs[] = { EINVAL, EFAULT, EACCES, ENOSPC, ENOMEM, ENOENT, 0 };

/*
 * Create a user queue from valid fields (any engine of either class, any
 * priority), destroy one of the pool, or either ioctl with a field broken.
 */
static void op_queue(struct fz_worker *w)
{
	struct drm_lumen_queue_create create = { 0 };
	struct drm_lumen_queue_destroy destroy = { 0 };
	unsigned int i;
	int ret;

	switch (fz_below(&w->rng, 4)) {
	case 0:
	case 1:
		if (w->nqueues == FZ_MAX_QUEUES)
			return;
		create.engine_class = (uint32_t)fz_below(&w->rng, 2);
		create.engine = fz_chance(&w->rng, 30) ? DRM_LUMEN_ENGINE_ANY :
				create.engine_class == DRM_LUMEN_ENGINE_DMA ? 0 :
				(uint32_t)fz_below(&w->rng, w->num_cores);
		create.priority = (uint32_t)fz_below(&w->rng, 3);
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_QUEUE_CREATE, &create);
		/* ENOSPC: a child's queues stay with the shared file; EACCES: HIGH unprivileged. */
		check(w, FZ_QUEUE, ret, queue_errs, ret != -EACCES && ret != -ENOSPC,
		      "create a user queue");
		if (!ret)
			w->queues[w->nqueues++] = (typeof(w->queues[0])){ .id = create.id };
		return;
	case 2:
		if (!w->nqueues)
			return;
		i = (unsigned int)fz_below(&w->rng, w->nqueues);
		if (w->queues[i].borrowed)
			return;
		destroy.id = w->queues[i].id;
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_QUEUE_DESTROY, &destroy);
		check(w, FZ_QUEUE, ret, queue_errs, true, "destroy a user queue");
		w->queues[i] = w->queues[--w->nqueues];
		return;
	default:
		if (fz_chance(&w->rng, 50)) {
			create.engine_class = fz_gen_u32(w);
			create.engine = fz_gen_u32(w);
			create.priority = fz_gen_u32(w);
			create.flags = fz_chance(&w->rng, 50) ? fz_gen_u32(w) : 0;
			ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_QUEUE_CREATE,
				       fz_chance(&w->rng, 5) ? w->guard : (void *)&create);
			check(w, FZ_QUEUE, ret, queue_errs, false, "malformed queue create");
			/* Random fields can be valid: the queue goes with the file. */
		} else {
			/*
			 * Not in a child: it does not know the queues its parent
			 * made after the fork, and ids are small numbers.
			 */
			if (w->child)
				return;
			destroy.id = fz_gen_u32(w);
			destroy.pad = fz_chance(&w->rng, 50) ? fz_gen_u32(w) : 0;
			for (i = 0; i < w->nqueues; i++)
				if (w->queues[i].id == destroy.id)
					return;
			ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_QUEUE_DESTROY, &destroy);
			check(w, FZ_QUEUE, ret, queue_errs, false, "destroy a stray queue id");
		}
		return;
	}
}
#else
static void op_queue(struct fz_worker *w)
{
	(void)w;
}
#endif

/* ---- Direct queues ------------------------------------------------------------ */

#ifdef DRM_LUMEN_DQ_CREATE
static const int dq_create_errs[] = { EINVAL, ENOSPC, ENOMEM, ECANCELED, EFAULT, 0 };
static const int dq_destroy_errs[] = { EINVAL, ENOENT, EFAULT, 0 };
static const int dq_wait_errs[] = { EINVAL, ENOENT, EFAULT, ETIME, EIO, 0 };

/* A ring of the pool's BO @i: entries a power of two that fits, VA its start. */
static void dq_ring(struct fz_worker *w, unsigned int i, struct drm_lumen_dq_create *c)
{
	uint64_t fit = w->bos[i].size / 64;
	uint32_t entries = 2;

	while ((uint64_t)entries * 2 <= fit && entries < 65536 && fz_chance(&w->rng, 70))
		entries *= 2;
	c->ring_va = w->bos[i].va;
	c->ring_entries = entries;
}

/* Map a direct queue's doorbell, look at its views, maybe ring it, unmap. */
static void dq_touch_doorbell(struct fz_worker *w, unsigned int i)
{
	volatile uint32_t *db;
	void *p;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd,
		 (off_t)w->dqs[i].doorbell_offset);
	if (p == MAP_FAILED) {
		/* A child's view may be stale: the parent destroyed it. */
		if (!w->child)
			fz_unexpected(w, FZ_DQ, -errno, "mmap a doorbell");
		return;
	}
	db = p;
	(void)db[LUMEN_DB_HEAD / 4];
	(void)db[LUMEN_DB_STATUS / 4];
	(void)db[LUMEN_DB_ERROR / 4];
	(void)db[LUMEN_DB_COMPLETED / 4];
	/* Whatever the ring holds runs in the worker's context (or stops it). */
	if (fz_chance(&w->rng, 30))
		db[LUMEN_DB_TAIL / 4] = fz_chance(&w->rng, 80) ?
			(uint32_t)fz_below(&w->rng, w->dqs[i].entries) : fz_gen_u32(w);
	munmap(p, PAGE);
}

/* Doorbell mappings that must fail: two pages, private, a foreign offset. */
static void dq_bad_mmap(struct fz_worker *w)
{
	uint64_t off = w->ndqs ? w->dqs[fz_below(&w->rng, w->ndqs)].doorbell_offset : 0;
	size_t len = PAGE;
	int flags = MAP_SHARED;
	void *p;

	switch (fz_below(&w->rng, 3)) {
	case 0:
		if (!off)
			return;
		len = 2 * PAGE;
		break;
	case 1:
		if (!off)
			return;
		flags = MAP_PRIVATE;
		break;
	default:
		/* An offset in the doorbell range no queue of ours has. */
		off = (1ull << 30) + PAGE * (1 + fz_below(&w->rng, 65535));
		for (unsigned int i = 0; i < w->ndqs; i++)
			if (w->dqs[i].doorbell_offset == off)
				return;
		break;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, w->fd, (off_t)off);
	count(w, FZ_DQ, p == MAP_FAILED ? -errno : 0);
	if (p != MAP_FAILED) {
		munmap(p, len);
		/* A child may see a doorbell its parent made meanwhile. */
		if (!w->child || len != PAGE || flags != MAP_SHARED)
			fz_unexpected(w, FZ_DQ, 0, "a bad doorbell mapping succeeded");
	} else if (errno != EINVAL && errno != EACCES) {
		fz_unexpected(w, FZ_DQ, -errno, "bad doorbell mmap: not the documented errno");
	}
}

/* DQ_WAIT on a word of our own: 0 when reached, else ETIME (or EIO: stopped). */
static void dq_wait(struct fz_worker *w, unsigned int i)
{
	uint64_t word = fz_gen_u64(w);
	struct drm_lumen_dq_wait args = {
		.id = w->dqs[i].id, .addr = (uintptr_t)&word, .value = fz_gen_u64(w),
	};
	struct timespec now;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* In the past (just a test) or 1 ms ahead. */
	args.timeout_ns = fz_chance(&w->rng, 50) ? 0 :
			  now.tv_sec * 1000000000ll + now.tv_nsec + 1000000;
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_WAIT, &args);
	check(w, FZ_DQ, ret, dq_wait_errs, false, "wait on a direct queue");
	if (w->child)
		return;
	if (word >= args.value ? ret != 0 : ret != -ETIME && ret != -EIO)
		fz_unexpected(w, FZ_DQ, ret, "DQ_WAIT result against the value");
	if (ret == -EIO && !args.error)
		fz_unexpected(w, FZ_DQ, ret, "DQ_WAIT -EIO without an error code");
}

/* DQ_WAIT broken: flags, a misaligned or unreadable address, a stray id. */
static void dq_wait_bad(struct fz_worker *w)
{
	uint64_t words[2] = { 0, 0 };
	struct drm_lumen_dq_wait args = {
		.id = w->ndqs ? w->dqs[fz_below(&w->rng, w->ndqs)].id : 1,
		.addr = (uintptr_t)&words[0], .value = 1,
	};
	/* A live child may have direct queues of its own in the shared file. */
	bool strict = !w->child && !w->nchildren;
	int ret, want;

	switch (fz_below(&w->rng, 4)) {
	case 0:
		args.flags = fz_gen_u32(w) | 1;
		want = -EINVAL;
		break;
	case 1:
		args.addr += 1 + fz_below(&w->rng, 7);
		want = -EINVAL;
		break;
	case 2:
		args.addr = (uintptr_t)w->guard;
		want = w->ndqs ? -EFAULT : -ENOENT;
		break;
	default:
		if (w->child)
			return;
		args.id = fz_gen_u32(w);
		for (unsigned int i = 0; i < w->ndqs; i++)
			if (w->dqs[i].id == args.id)
				return;
		want = -ENOENT;
		break;
	}
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_WAIT, &args);
	check(w, FZ_DQ, ret, dq_wait_errs, false, "malformed DQ_WAIT");
	if (ret != want && strict)
		fz_unexpected(w, FZ_DQ, ret, "malformed DQ_WAIT: not the documented errno");
}

/* DQ_CREATE broken, one field at a time. */
static void dq_create_bad(struct fz_worker *w)
{
	struct drm_lumen_dq_create c = { .engine_class = DRM_LUMEN_ENGINE_DMA };
	unsigned int i;
	int ret;

	if (!w->nbos)
		return;
	i = (unsigned int)fz_below(&w->rng, w->nbos);
	dq_ring(w, i, &c);
	switch (fz_below(&w->rng, 8)) {
	case 0:
		c.flags = fz_gen_u32(w) | 1;
		break;
	case 1:
		c.pad = fz_gen_u32(w) | 1;
		break;
	case 2:
		c.engine_class = 2 + (uint32_t)fz_below(&w->rng, 1000);
		break;
	case 3:
		c.engine = 1 + (uint32_t)fz_below(&w->rng, 1000);
		break;
	case 4: {
		static const uint32_t bad[] = { 0, 1, 3, 6, 65537, 131072, 1u << 31 };

		c.ring_entries = bad[fz_below(&w->rng, ARRAY_LEN(bad))];
		break;
	}
	case 5:
		c.ring_va += 8 + 8 * fz_below(&w->rng, 511);
		break;
	case 6:
		/* Running off the BO, into its guard page. */
		c.ring_va += w->bos[i].size - PAGE;
		c.ring_entries = 128;
		break;
	default:
		/* Outside the VA range: never mapped. */
		c.ring_va = fz_chance(&w->rng, 50) ? (fz_gen_u64(w) % w->va_start) & ~(PAGE - 1) :
			    (w->va_end + fz_gen_u64(w) % (1ull << 50)) & ~(PAGE - 1);
		break;
	}
	ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_CREATE, &c);
	check(w, FZ_DQ, ret, dq_create_errs, false, "malformed DQ_CREATE");
	if (!ret) {
		/* The parent may have mapped something there meanwhile: forget it. */
		struct drm_lumen_dq_destroy d = { .id = c.id };

		if (!w->child)
			fz_unexpected(w, FZ_DQ, 0, "a malformed DQ_CREATE succeeded");
		fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &d);
	} else if (ret != -EINVAL && ret != -ECANCELED && !w->child) {
		fz_unexpected(w, FZ_DQ, ret, "malformed DQ_CREATE: not EINVAL");
	}
}

/*
 * Create a direct queue on a BO of the pool, destroy one, wait on one,
 * map and ring its doorbell, or any of them broken.
 */
static void op_dq(struct fz_worker *w)
{
	struct drm_lumen_dq_create c = { 0 };
	struct drm_lumen_dq_destroy d = { 0 };
	unsigned int i;
	int ret;

	switch (fz_below(&w->rng, 9)) {
	case 0:
	case 1:
		if (w->ndqs == FZ_MAX_DQS || !w->nbos)
			return;
		i = (unsigned int)fz_below(&w->rng, w->nbos);
		dq_ring(w, i, &c);
		c.engine_class = (uint32_t)fz_below(&w->rng, 2);
		c.engine = fz_chance(&w->rng, 30) ? DRM_LUMEN_ENGINE_ANY :
			   c.engine_class == DRM_LUMEN_ENGINE_DMA ? 0 :
			   (uint32_t)fz_below(&w->rng, w->num_cores);
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_CREATE, &c);
		/* ENOSPC: other workers hold the direct hardware queues. */
		check(w, FZ_DQ, ret, dq_create_errs, true, "create a direct queue");
		if (ret)
			return;
		if (!c.id || c.doorbell_offset % PAGE) {
			char what[96];

			snprintf(what, sizeof(what),
				 "DQ_CREATE returned id %u, doorbell offset 0x%llx",
				 c.id, (unsigned long long)c.doorbell_offset);
			fz_unexpected(w, FZ_DQ, 0, what);
		}
		w->dqs[w->ndqs++] = (typeof(w->dqs[0])){
			.id = c.id, .entries = c.ring_entries, .doorbell_offset = c.doorbell_offset,
		};
		return;
	case 2:
		if (!w->ndqs)
			return;
		i = (unsigned int)fz_below(&w->rng, w->ndqs);
		if (w->dqs[i].borrowed)
			return;
		d.id = w->dqs[i].id;
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &d);
		check(w, FZ_DQ, ret, dq_destroy_errs, true, "destroy a direct queue");
		w->dqs[i] = w->dqs[--w->ndqs];
		return;
	case 3:
		if (w->ndqs)
			dq_wait(w, (unsigned int)fz_below(&w->rng, w->ndqs));
		return;
	case 4:
		if (w->ndqs)
			dq_touch_doorbell(w, (unsigned int)fz_below(&w->rng, w->ndqs));
		return;
	case 5:
		dq_bad_mmap(w);
		return;
	case 6:
		dq_wait_bad(w);
		return;
	case 7:
		dq_create_bad(w);
		return;
	default:
		if (w->child)
			return;
		d.id = fz_gen_u32(w);
		d.pad = fz_chance(&w->rng, 50) ? fz_gen_u32(w) | 1 : 0;
		for (i = 0; i < w->ndqs; i++)
			if (w->dqs[i].id == d.id)
				return;
		ret = fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &d);
		check(w, FZ_DQ, ret, dq_destroy_errs, false, "destroy a stray direct queue id");
		/* A live child's queue may have that id. */
		if (ret != (d.pad ? -EINVAL : -ENOENT) && !w->nchildren)
			fz_unexpected(w, FZ_DQ, ret, "stray DQ_DESTROY: not the documented errno");
		return;
	}
}
#else
static void op_dq(struct fz_worker *w)
{
	(void)w;
}
#endif

/* A driver ioctl number with any size and direction, random bytes. */
static void op_raw_ioctl(struct fz_worker *w)
{
	static uint8_t buf[256];
	/* Every number of the table, the holes in it, and a few past its end. */
	unsigned int nr = DRM_COMMAND_BASE + (unsigned int)fz_below(&w->rng, FZ_LAST_IOCTL + 5);
	unsigned int size = (unsigned int)fz_below(&w->rng, sizeof(buf));
	unsigned int dir = (unsigned int)fz_below(&w->rng, 4);
	unsigned long request;
	void *arg = buf;
	int ret;

	/* A BO it creates must come back, to be closed (it may be huge). */
	if (nr == DRM_COMMAND_BASE + DRM_LUMEN_BO_CREATE) {
		dir = _IOC_READ | _IOC_WRITE;
		size = sizeof(struct drm_lumen_bo_create);
	}
	request = _IOC(dir, DRM_IOCTL_BASE, nr, size);

	for (unsigned int i = 0; i < size; i += 8) {
		uint64_t v = fz_chance(&w->rng, 50) ? fz_gen_u64(w) : 0;

		memcpy(buf + i, &v, size - i < 8 ? size - i : 8);
	}
	if (nr == DRM_COMMAND_BASE + DRM_LUMEN_BO_CREATE) {
		struct drm_lumen_bo_create *c = (void *)buf;

		/* As in op_bo_create_bad(): nothing large in system memory. */
		if (c->size > (16ull << 20) && c->size <= (1ull << 30))
			c->size = (1ull << 30) + 1;
	}
#ifdef DRM_LUMEN_QUEUE_DESTROY
	/* Never a queue of the pool (a child does not know all of them). */
	if (nr == DRM_COMMAND_BASE + DRM_LUMEN_QUEUE_DESTROY) {
		uint32_t id = 0;

		if (w->child)
			return;
		/* What the driver reads: the bytes passed, zeroes after them. */
		memcpy(&id, buf, size < sizeof(id) ? size : sizeof(id));
		for (unsigned int i = 0; i < w->nqueues; i++)
			if (w->queues[i].id == id)
				return;
	}
#endif
#ifdef DRM_LUMEN_DQ_WAIT
	/* Never a direct queue of the pool, as above. */
	if (nr == DRM_COMMAND_BASE + DRM_LUMEN_DQ_DESTROY) {
		uint32_t id = 0;

		if (w->child)
			return;
		memcpy(&id, buf, size < sizeof(id) ? size : sizeof(id));
		for (unsigned int i = 0; i < w->ndqs; i++)
			if (w->dqs[i].id == id)
				return;
	}
	/* A wait never sleeps: its deadline is 0 (or not passed: zeroes). */
	if (nr == DRM_COMMAND_BASE + DRM_LUMEN_DQ_WAIT &&
	    size >= offsetof(struct drm_lumen_dq_wait, timeout_ns) + sizeof(int64_t))
		memset(buf + offsetof(struct drm_lumen_dq_wait, timeout_ns), 0, sizeof(int64_t));
#endif
	if (fz_chance(&w->rng, 10))
		arg = w->guard;
	ret = fz_ioctl(w->fd, request, arg);
	if (!ret && nr == DRM_COMMAND_BASE + DRM_LUMEN_BO_CREATE)
		gem_close(w, ((struct drm_lumen_bo_create *)arg)->handle);
#ifdef DRM_LUMEN_DQ_CREATE
	/* Random bytes that made a direct queue: it must not hold a hw queue. */
	if (!ret && nr == DRM_COMMAND_BASE + DRM_LUMEN_DQ_CREATE && arg == buf &&
	    size >= sizeof(struct drm_lumen_dq_create)) {
		struct drm_lumen_dq_destroy d = { .id = ((struct drm_lumen_dq_create *)buf)->id };

		fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &d);
	}
#endif
	/* A random binding that took: keep the fresh-VA cursor above it. */
	if (!ret && nr == DRM_COMMAND_BASE + DRM_LUMEN_VM_BIND && arg == buf &&
	    size >= sizeof(struct drm_lumen_vm_bind))
		bind_seen(w, ((struct drm_lumen_vm_bind *)buf)->va,
			  ((struct drm_lumen_vm_bind *)buf)->size);
	nr -= DRM_COMMAND_BASE;
	if (nr == DRM_LUMEN_VM_BIND || nr == DRM_LUMEN_VM_UNBIND)
		check(w, FZ_RAW_IOCTL, ret, raw_bind_errs, false, "VM_(UN)BIND, random bytes");
#ifdef DRM_LUMEN_DQ_WAIT
	else if (nr >= DRM_LUMEN_DQ_CREATE && nr <= DRM_LUMEN_DQ_WAIT)
		check(w, FZ_RAW_IOCTL, ret, raw_dq_errs, false, "direct queue ioctl, random bytes");
#endif
	else if (nr > DRM_LUMEN_VM_UNBIND && nr <= FZ_LAST_IOCTL)
		check(w, FZ_RAW_IOCTL, ret, raw_queue_errs, false, "queue ioctl, random bytes");
	else if (nr > DRM_LUMEN_BO_INFO)
		/* The table's holes (0x05 .. 0x07) and past its end: EINVAL, always. */
		check(w, FZ_RAW_IOCTL, ret, past_table_errs, false, "ioctl not in the table");
	else
		check(w, FZ_RAW_IOCTL, ret, any_driver_errs, false, "driver ioctl, random bytes");
}

/* ---- Files and processes ----------------------------------------------------- */

/* Closes the file and opens a new one: a new, empty context. */
static void reopen_file(struct fz_worker *w)
{
	int ret;

	/*
	 * Jobs, BOs and syncobjs of the file go with it.  So do the mappings:
	 * each holds the file, and with it every BO of the file.
	 */
	while (w->nmaps)
		unmap(w, 0);
	fz_close(w);
	w->guilty = false;
	ret = fz_open(w);
	count(w, FZ_REOPEN, ret);
	if (ret) {
		fz_unexpected(w, FZ_REOPEN, ret, "reopen the device");
		exit(3);
	}
}

static void op_reopen(struct fz_worker *w)
{
	/* A child keeps its parent's file: what it made there stays tracked. */
	if (w->child || fz_chance(&w->rng, 50)) {
		/* A duplicate of the file: the same context, through another fd. */
		int fd = dup(w->fd), saved = w->fd;

		if (fd < 0)
			return;
		w->fd = fd;
		op_query(w);
		w->fd = saved;
		close(fd);
		count(w, FZ_REOPEN, 0);
		return;
	}
	reopen_file(w);
}

static void reap(struct fz_worker *w, bool block)
{
	unsigned int i = 0;
	int status;

	while (i < w->nchildren) {
		pid_t pid = waitpid(w->children[i], &status, block ? 0 : WNOHANG);

		if (pid == 0) {
			i++;
			continue;
		}
		if (pid > 0 && WIFSIGNALED(status))
			fz_unexpected(w, FZ_FORK, 0,
				      WTERMSIG(status) == SIGBUS ? "child killed by SIGBUS" :
				      WTERMSIG(status) == SIGSEGV ? "child killed by SIGSEGV" :
								    "child killed by a signal");
		w->children[i] = w->children[--w->nchildren];
	}
}

static void op_fork(struct fz_worker *w)
{
	unsigned int i, steps;
	pid_t pid;

	reap(w, false);
	if (w->child || w->nchildren == FZ_MAX_CHILDREN)
		return;
	steps = 20 + (unsigned int)fz_below(&w->rng, 80);
	w->rng.state ^= fz_next(&w->rng);	/* parent and child diverge */
	pid = fork();
	if (pid < 0)
		return;
	if (pid > 0) {
		w->children[w->nchildren++] = pid;
		count(w, FZ_FORK, 0);
		__atomic_fetch_add(&w->stats->children, 1, __ATOMIC_RELAXED);
		fz_next(&w->rng);
		return;
	}
	/* The child: everything it inherited belongs to its parent. */
	w->child = true;
	w->nchildren = 0;
	fz_next(&w->rng);
	fz_next(&w->rng);
	for (i = 0; i < w->nbos; i++)
		w->bos[i].borrowed = true;
	for (i = 0; i < w->nsyncobjs; i++)
		w->syncobjs[i].borrowed = true;
	for (i = 0; i < w->nbinds; i++)
		w->binds[i].borrowed = true;
	for (i = 0; i < w->nqueues; i++)
		w->queues[i].borrowed = true;
	for (i = 0; i < w->ndqs; i++)
		w->dqs[i].borrowed = true;
	/* Its fresh VAs: far from its parent's (and stale: results are relaxed). */
	w->bind_va += 1ull << 42;
	for (i = 0; i < steps; i++)
		fz_step(w);
	/* Close what it created in the shared file; the rest goes at exit. */
	for (i = 0; i < w->nbos; i++)
		if (!w->bos[i].borrowed)
			gem_close(w, w->bos[i].handle);
#ifdef DRM_LUMEN_DQ_DESTROY
	for (i = 0; i < w->ndqs; i++) {
		struct drm_lumen_dq_destroy d = { .id = w->dqs[i].id };

		if (!w->dqs[i].borrowed)
			fz_ioctl(w->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &d);
	}
#endif
	_exit(0);
}

/* ---- Choosing ---------------------------------------------------------------- */

static const struct {
	void (*fn)(struct fz_worker *w);
	unsigned int weight;
} ops[] = {
	{ op_query, 3 },
	{ op_bo_create, 10 },
	{ op_bo_create_bad, 4 },
	{ op_gem_close, 6 },
	{ op_mmap_offset, 4 },
	{ op_mmap, 4 },
	{ op_munmap, 3 },
	{ op_touch, 4 },
	{ op_syncobj, 6 },
	{ op_wait, 3 },
	{ op_submit, 16 },
	{ op_submit_bad, 16 },
	{ op_sync_file, 2 },
	{ op_prime, 2 },
	{ op_bo_info, 2 },
	{ op_vm_bind, 6 },
	{ op_vm_bind_bad, 4 },
	{ op_vm_unbind, 4 },
	{ op_queue, 3 },
	{ op_dq, 4 },
	{ op_raw_ioctl, 3 },
	{ op_reopen, 1 },
	{ op_fork, 1 },
};

void fz_step(struct fz_worker *w)
{
	static unsigned int total;
	unsigned int i, pick;

	if (!total)
		for (i = 0; i < ARRAY_LEN(ops); i++)
			total += ops[i].weight;
	pick = (unsigned int)fz_below(&w->rng, total);
	for (i = 0; pick >= ops[i].weight; i++)
		pick -= ops[i].weight;
	if (w->verbose)
		fprintf(stderr, "worker %u%s: %u\n", w->id, w->child ? "c" : "", i);
	/* Not while children share the file: they would lose it under them. */
	if (w->guilty && !w->child) {
		reap(w, false);
		if (!w->nchildren) {
			reopen_file(w);
			return;
		}
	}
	ops[i].fn(w);
	__atomic_fetch_add(&w->stats->ops, 1, __ATOMIC_RELAXED);
}

void fz_teardown(struct fz_worker *w)
{
	while (w->nmaps)
		unmap(w, 0);
	reap(w, true);
	fz_close(w);
}

const char *fz_op_name(enum fz_op op)
{
	return op_names[op];
}
