// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The guest half of the hot-unplug test (tests/hotplug/run drives it).
 *
 * Forks four tenants, each with its own file, a system BO and a device BO
 * mapped into the process, and jobs on the device:
 *   waiter    a job blocked in WAIT on a semaphore nobody releases (so it
 *             is on the hardware for good), a COPY queued behind it, one
 *             thread asleep in accel_fence_wait() and one in poll() on
 *             the job's exported sync_file;
 *   copier    rounds of 8 x 4 MiB COPY jobs system <-> device memory on
 *             a compute queue, results checked, until a call fails;
 *   filler    the same with 4 MiB FILLs on the DMA engine;
 *   direct    a direct queue (raw DQ_* ioctls) parked in a WAIT nobody
 *             releases, its doorbell page mapped, one thread asleep in
 *             DRM_IOCTL_LUMEN_DQ_WAIT (it must wake with -ENODEV; the
 *             doorbell mapping must stay harmless to touch).
 * Once every tenant has jobs in flight it prints HOTPLUG-READY; the host
 * then removes the device with QMP device_del.  Every tenant checks what
 * Documentation/lifecycle.rst promises (waiters wake, the fence error is
 * -ENODEV, every later call fails with -ENODEV, system BO pages keep their
 * contents, device BO pages read and write without a signal), frees
 * everything and exits.  Then: the driver's sysfs/debugfs objects are gone,
 * nothing holds the module, rmmod works; HOTPLUG-REMOVED tells the host to
 * device_add the device back, and a copy job runs on it after modprobe.
 * Last, the new device is left to runtime-suspend with a file open and a
 * BO mapped (HOTPLUG-READY-SUSPENDED) and unplugged again.
 *
 * Results are lines "HOTPLUG: ok <what>" / "HOTPLUG: not ok <what>" that
 * the host numbers into KTAP.  Needs job_timeout_ms=0 (the blocked WAIT
 * must outlive the ~5 s the PCIe attention button takes).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lumen_test.h"
/* Command encodings and doorbell views, for the direct queue's ring. */
#include "../../driver/lumen_regs.h"

#define BO_SIZE		(4 * LT_MIB)
#define ROUND_JOBS	8
#define WAIT_SECONDS	180	/* for the unplug: the host's part takes ~10 s */
#define SEM_VA_OFF	0	/* the waiter's semaphore in its system BO */
#define TENANTS		4

static char unplug_bdf[LT_BDF_LEN];	/* the device, for debugfs */

static int failures;

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("HOTPLUG: %s ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- One tenant's buffers ------------------------------------------------ */

struct tenant {
	const char *name;
	struct accel_dev *dev;
	struct accel_info info;
	struct accel_bo *sys, *devbo, *spare;
	unsigned char *sys_map, *dev_map;
	struct accel_cmdbuf *cb, *nop, *round[ROUND_JOBS];
	struct accel_fence *done;
	unsigned char pattern;
};

static int tenant_open(struct tenant *t, const char *name, unsigned char pattern)
{
	void *map;
	int ret;

	t->name = name;
	t->pattern = pattern;
	ret = lt_open_first(&t->dev, &t->info);
	if (!ret)
		ret = lt_bo_create_mapped(t->dev, BO_SIZE, 0, &t->sys, &map);
	if (ret)
		return ret;
	t->sys_map = map;
	ret = accel_bo_create(t->dev, BO_SIZE, ACCEL_BO_DEVICE, &t->devbo);
	if (!ret)
		ret = accel_bo_map(t->devbo, &map);
	if (ret)
		return ret;
	t->dev_map = map;
	/* Never mapped: accel_bo_map() must fail on it after the unplug. */
	ret = accel_bo_create(t->dev, 4096, 0, &t->spare);
	if (!ret)
		ret = lt_cmdbuf_create(t->dev, &t->cb);
	if (!ret)
		ret = accel_cmdbuf_create(t->dev, 4096, &t->nop);
	for (int i = 0; i < ROUND_JOBS && !ret; i++)
		ret = accel_cmdbuf_create(t->dev, 4096, &t->round[i]);
	if (!ret)
		ret = accel_cmd_nop(t->nop);
	if (!ret)
		ret = accel_fence_create(t->dev, &t->done);
	if (ret)
		return ret;
	memset(t->sys_map, pattern, BO_SIZE);
	memset(t->dev_map, pattern ^ 0xff, BO_SIZE);
	return 0;
}

static sigjmp_buf touch_env;
static volatile sig_atomic_t touch_signal;

static void touch_handler(int sig)
{
	touch_signal = sig;
	siglongjmp(touch_env, 1);
}

/* Reads and writes every page of @map; 0 or the signal that hit. */
static int touch_pages(unsigned char *map, size_t size)
{
	struct sigaction sa = { .sa_handler = touch_handler }, old_bus, old_segv;
	volatile unsigned int sum = 0;
	size_t off;

	touch_signal = 0;
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	if (!sigsetjmp(touch_env, 1)) {
		for (off = 0; off < size; off += 4096) {
			sum += ((volatile unsigned char *)map)[off];
			((volatile unsigned char *)map)[off] = 0x5a;
		}
	}
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	(void)sum;
	return touch_signal;
}

/* What every tenant must see once the device is gone. */
static void tenant_check_gone(struct tenant *t)
{
	struct accel_fence *fence = NULL;
	struct accel_bo *bo = NULL;
	struct accel_info info;
	void *map;
	size_t bad;
	int ret, sig;

	ret = accel_query(t->dev, &info);
	result(ret == -ENODEV, "%s: query after unplug: %s", t->name, accel_strerror(ret));
	ret = accel_bo_create(t->dev, 4096, 0, &bo);
	result(ret == -ENODEV, "%s: BO create after unplug: %s", t->name, accel_strerror(ret));
	ret = accel_submit(t->dev, 0, t->nop, NULL, 0, NULL, NULL);
	result(ret == -ENODEV, "%s: submit after unplug: %s", t->name, accel_strerror(ret));
	ret = accel_fence_create(t->dev, &fence);
	result(ret == -ENODEV, "%s: syncobj create after unplug: %s", t->name,
	       accel_strerror(ret));
	ret = accel_bo_map(t->spare, &map);
	result(ret == -ENODEV, "%s: mapping a BO after unplug: %s", t->name,
	       accel_strerror(ret));
	if (!ret)
		accel_bo_unmap(t->spare);
	if (bo)
		accel_bo_free(bo);
	accel_fence_free(fence);

	bad = lt_find_not(t->sys_map, t->pattern, BO_SIZE);
	result(bad == BO_SIZE, "%s: system BO mapping keeps its contents (first difference at %zu of %u)",
	       t->name, bad, BO_SIZE);
	sig = touch_pages(t->sys_map, BO_SIZE);
	result(!sig, "%s: system BO pages read and write after unplug (signal %d)", t->name, sig);
	sig = touch_pages(t->dev_map, BO_SIZE);
	result(!sig, "%s: device BO pages read and write after unplug (signal %d)", t->name, sig);
}

static void tenant_close(struct tenant *t)
{
	accel_fence_free(t->done);
	accel_cmdbuf_free(t->nop);
	for (int i = 0; i < ROUND_JOBS; i++)
		accel_cmdbuf_free(t->round[i]);
	accel_cmdbuf_free(t->cb);
	accel_bo_free(t->spare);
	accel_bo_free(t->devbo);
	accel_bo_free(t->sys);
	accel_close(t->dev);
}

/* ---- waiter ------------------------------------------------------------- */

struct sleeper {
	struct accel_fence *fence;
	int sync_fd;
	int ret;		/* accel_fence_wait() / poll() outcome */
	int status;		/* the sync_file's status after poll() */
};

static void *fence_sleeper(void *arg)
{
	struct sleeper *s = arg;

	s->ret = accel_fence_wait(s->fence, WAIT_SECONDS * 1000000000ll);
	return NULL;
}

static void *poll_sleeper(void *arg)
{
	struct sleeper *s = arg;
	struct pollfd pfd = { .fd = s->sync_fd, .events = POLLIN };
	int n;

	n = poll(&pfd, 1, WAIT_SECONDS * 1000);
	s->ret = n == 1 ? 0 : n == 0 ? -ETIME : -errno;
	if (!s->ret && lt_sync_file_status(s->sync_fd, &s->status))
		s->status = 1;
	return NULL;
}

static int waiter_submit(struct tenant *t, unsigned int queue, struct accel_fence *blocked)
{
	uint64_t sys_va = accel_bo_va(t->sys), dev_va = accel_bo_va(t->devbo);
	int ret;

	/* The semaphore holds the pattern, 0x1111...: it never gets there. */
	accel_cmdbuf_reset(t->cb);
	ret = accel_cmd_wait(t->cb, sys_va + SEM_VA_OFF, UINT64_MAX);
	if (!ret)
		ret = accel_cmd_copy(t->cb, dev_va, sys_va + 4096, 4096);
	if (!ret)
		ret = accel_submit(t->dev, queue, t->cb, NULL, 0, NULL, blocked);
	if (ret)
		return ret;
	/* Behind it on the same hardware queue, waiting for the ring. */
	return accel_submit(t->dev, queue, t->nop, NULL, 0, NULL, t->done);
}

static int run_waiter(int ready_fd)
{
	struct sleeper fs = { .sync_fd = -1 }, ps = { .sync_fd = -1 };
	struct accel_fence *blocked = NULL;
	pthread_t ft, pt;
	struct tenant t = { 0 };
	int ret;

	ret = tenant_open(&t, "waiter", 0x11);
	if (!ret)
		ret = accel_fence_create(t.dev, &blocked);
	if (!ret)
		ret = waiter_submit(&t, t.info.num_queues - 1, blocked);
	if (!ret)
		ret = accel_fence_export_sync_file(blocked, 0, &ps.sync_fd);
	result(!ret, "waiter: set up, WAIT job submitted: %s", accel_strerror(ret));
	if (ret)
		return 1;
	fs.fence = blocked;
	pthread_create(&ft, NULL, fence_sleeper, &fs);
	pthread_create(&pt, NULL, poll_sleeper, &ps);
	/* Both threads are asleep long before the host's device_del lands. */
	ret = write(ready_fd, "w", 1) == 1 ? 0 : -errno;
	close(ready_fd);
	pthread_join(ft, NULL);
	pthread_join(pt, NULL);

	result(fs.ret == 0 || fs.ret == -ENODEV,
	       "waiter: thread asleep in accel_fence_wait() woke: %s", accel_strerror(fs.ret));
	ret = accel_fence_status(blocked);
	result(ret == -ENODEV, "waiter: fence status after unplug: %s", accel_strerror(ret));
	result(ps.ret == 0, "waiter: thread asleep in poll() on the sync_file woke: %s",
	       accel_strerror(ps.ret));
	result(ps.ret == 0 && ps.status == -ENODEV,
	       "waiter: the blocked job's fence error is -ENODEV (status %d)", ps.status);
	close(ps.sync_fd);
	tenant_check_gone(&t);
	accel_fence_free(blocked);
	tenant_close(&t);
	return 0;
}

/* ---- copier and filler ------------------------------------------------------ */

/* One round: ROUND_JOBS jobs on @queue, the last one signalling t->done. */
static int stream_round(struct tenant *t, unsigned int queue, bool fill, unsigned int round)
{
	uint64_t sys_va = accel_bo_va(t->sys), dev_va = accel_bo_va(t->devbo);
	int i, ret = 0;

	/* The previous round is done: its command buffers may be rewritten. */
	for (i = 0; i < ROUND_JOBS && !ret; i++) {
		struct accel_cmdbuf *cb = t->round[i];

		accel_cmdbuf_reset(cb);
		if (fill)
			ret = accel_cmd_fill(cb, dev_va, BO_SIZE,
					     0x0101010101010101ull * ((round + i) & 0xff));
		else if (i % 2 == 0)
			ret = accel_cmd_copy(cb, dev_va, sys_va, BO_SIZE);
		else
			ret = accel_cmd_copy(cb, sys_va, dev_va, BO_SIZE);
		if (!ret)
			ret = accel_submit(t->dev, queue, cb, NULL, 0, NULL,
					   i == ROUND_JOBS - 1 ? t->done : NULL);
	}
	return ret;
}

static int run_streamer(int ready_fd, const char *name, bool fill)
{
	struct tenant t = { 0 };
	unsigned int round, queue, done_rounds = 0;
	bool told = false;
	int ret;

	ret = tenant_open(&t, name, fill ? 0x33 : 0x22);
	result(!ret, "%s: set up: %s", name, accel_strerror(ret));
	if (ret)
		return 1;
	/* Queue q runs on engine q % engines: 0 is compute0, cores the DMA engine. */
	queue = fill ? t.info.num_cores : 0;
	for (round = 0;; round++) {
		ret = stream_round(&t, queue, fill, round);
		if (ret)
			break;
		if (!told) {
			told = true;
			if (write(ready_fd, "s", 1) != 1)
				return 1;
			close(ready_fd);
		}
		ret = accel_fence_wait(t.done, WAIT_SECONDS * 1000000000ll);
		if (ret)
			break;
		ret = accel_fence_status(t.done);
		if (ret != 1)
			break;
		/* In queue order: the round's last job wrote what stays. */
		if (fill ? t.dev_map[0] != ((round + ROUND_JOBS - 1) & 0xff) ||
			   t.dev_map[BO_SIZE - 1] != ((round + ROUND_JOBS - 1) & 0xff) :
			   lt_find_not(t.sys_map, t.pattern, BO_SIZE) != BO_SIZE) {
			result(false, "%s: round %u left wrong data", name, round);
			break;
		}
		done_rounds++;
	}
	/*
	 * The loop ends on the unplug: the call that noticed fails with
	 * -ENODEV, or the round's last job failed with it.
	 */
	result(ret == -ENODEV, "%s: first failure after %u rounds is -ENODEV: %s", name,
	       done_rounds, accel_strerror(ret));
	tenant_check_gone(&t);
	tenant_close(&t);
	return 0;
}

/* ---- direct ------------------------------------------------------------------ */

struct dq_sleeper {
	int fd;
	uint32_t id;
	volatile uint64_t *done;
	int ret;		/* DQ_WAIT's outcome */
};

static void *dq_sleeper(void *arg)
{
	struct dq_sleeper *s = arg;
	struct drm_lumen_dq_wait w = {
		.id = s->id, .addr = (uintptr_t)s->done, .value = 1,
		.timeout_ns = lt_now_ns() + WAIT_SECONDS * 1000000000ll,
	};

	s->ret = lt_ioctl(s->fd, DRM_IOCTL_LUMEN_DQ_WAIT, &w);
	return NULL;
}

/* "waiters N" of direct hardware queue @hwq in debugfs, or -1. */
static int dq_waiters(unsigned int hwq)
{
	char path[256], head[32], line[256];
	bool in = false;
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%s/direct_queues", unplug_bdf);
	snprintf(head, sizeof(head), "hw queue %u: ", hwq);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "hw queue ", 9))
			in = !strncmp(line, head, strlen(head));
		else if (in && sscanf(line, "  waiters %d", &n) == 1)
			break;
	}
	fclose(f);
	return n;
}

static void ring_put(uint64_t *ring, unsigned int i, uint8_t op, uint8_t flags, uint64_t a0,
		     uint64_t a1)
{
	uint64_t *e = ring + 8 * i;

	memset(e, 0, 64);
	e[0] = op | (uint64_t)flags << 8;
	e[1] = a0;
	e[2] = a1;
}

static int run_direct(int ready_fd)
{
	struct dq_sleeper s = { 0 };
	struct drm_lumen_dq_create c = {
		.engine_class = DRM_LUMEN_ENGINE_COMPUTE, .engine = DRM_LUMEN_ENGINE_ANY,
		.ring_entries = 64,
	};
	struct drm_lumen_dq_destroy d = { 0 };
	struct accel_bo *ring = NULL;
	struct tenant t = { 0 };
	volatile uint32_t *db = MAP_FAILED;
	volatile uint64_t *done = NULL;
	void *map;
	uint64_t sys_va;
	pthread_t th;
	int ret, sig, i;

	ret = tenant_open(&t, "direct", 0x44);
	if (!ret)
		ret = lt_bo_create_mapped(t.dev, 2 * 64 * 64, 0, &ring, &map);
	if (!ret) {
		sys_va = accel_bo_va(t.sys);
		/*
		 * WAIT for the pattern word to reach ~0 (never), then FENCE 1
		 * into the ring BO's second page (zero; the ring is the first).
		 */
		ring_put(map, 0, LUMEN_OP_WAIT, 0, sys_va + SEM_VA_OFF, UINT64_MAX);
		ring_put(map, 1, LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, accel_bo_va(ring) + 4096, 1);
		done = (volatile uint64_t *)((char *)map + 4096);
		c.ring_va = accel_bo_va(ring);
		ret = lt_ioctl(accel_fd(t.dev), DRM_IOCTL_LUMEN_DQ_CREATE, &c);
	}
	if (!ret) {
		db = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, accel_fd(t.dev),
			  (off_t)c.doorbell_offset);
		ret = db == MAP_FAILED ? -errno : 0;
	}
	if (!ret) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		db[LUMEN_DB_TAIL / 4] = 2;
		for (i = 0; i < 600 && !(db[LUMEN_DB_STATUS / 4] & LUMEN_Q_STATUS_WAITING); i++)
			usleep(50000);
		ret = db[LUMEN_DB_STATUS / 4] & LUMEN_Q_STATUS_WAITING ? 0 : -ETIME;
	}
	result(!ret, "direct: direct queue parked in its WAIT, doorbell mapped: %s",
	       accel_strerror(ret));
	if (ret)
		return 1;
	s.fd = accel_fd(t.dev);
	s.id = c.id;
	s.done = done;
	pthread_create(&th, NULL, dq_sleeper, &s);
	for (i = 0; i < 600 && dq_waiters(c.hw_queue) != 1; i++)
		usleep(50000);
	result(dq_waiters(c.hw_queue) == 1, "direct: a thread sleeps in DQ_WAIT");
	if (write(ready_fd, "d", 1) != 1)
		return 1;
	close(ready_fd);
	pthread_join(th, NULL);

	result(s.ret == -ENODEV, "direct: the thread asleep in DQ_WAIT woke with -ENODEV: %s",
	       accel_strerror(s.ret));
	sig = touch_pages((unsigned char *)db, 4096);
	result(!sig, "direct: the doorbell mapping reads and writes after unplug (signal %d)", sig);
	db[LUMEN_DB_TAIL / 4] = 1;
	ret = lt_ioctl(accel_fd(t.dev), DRM_IOCTL_LUMEN_DQ_WAIT,
		       &(struct drm_lumen_dq_wait){ .id = c.id, .addr = (uintptr_t)s.done,
						    .value = 1 });
	result(ret == -ENODEV, "direct: DQ_WAIT after unplug: %s", accel_strerror(ret));
	ret = lt_ioctl(accel_fd(t.dev), DRM_IOCTL_LUMEN_DQ_CREATE,
		       &(struct drm_lumen_dq_create){ .engine = DRM_LUMEN_ENGINE_ANY,
						      .ring_va = c.ring_va, .ring_entries = 64 });
	result(ret == -ENODEV, "direct: DQ_CREATE after unplug: %s", accel_strerror(ret));
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, accel_fd(t.dev),
		   (off_t)c.doorbell_offset);
	ret = map == MAP_FAILED ? -errno : 0;
	result(ret == -ENODEV, "direct: mapping the doorbell again after unplug: %s",
	       accel_strerror(ret));
	if (!ret)
		munmap(map, 4096);
	result(*s.done == 0, "direct: the parked queue's FENCE never landed");
	/* Destroying what is left is allowed: no device to reset. */
	d.id = c.id;
	ret = lt_ioctl(accel_fd(t.dev), DRM_IOCTL_LUMEN_DQ_DESTROY, &d);
	result(ret == 0 || ret == -ENODEV, "direct: DQ_DESTROY after unplug: %s",
	       accel_strerror(ret));
	munmap((void *)db, 4096);
	tenant_check_gone(&t);
	accel_bo_free(ring);
	tenant_close(&t);
	return 0;
}

/* ---- The parent ------------------------------------------------------------- */

static bool path_exists(const char *fmt, const char *arg)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), fmt, arg);
	return stat(path, &st) == 0;
}

static long read_long(const char *path)
{
	char buf[32] = "";
	long val = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			val = strtol(buf, NULL, 10);
		fclose(f);
	}
	return val;
}

static int wait_for_pci(char *bdf, bool present, int seconds)
{
	char found[1][LT_BDF_LEN];
	int i;

	for (i = 0; i < seconds * 10; i++) {
		int n = lt_pci_devices(found, 1);

		if (present && n > 0) {
			strcpy(bdf, found[0]);
			return 0;
		}
		if (!present && n == 0)
			return 0;
		usleep(100000);
	}
	return -ETIME;
}

static int spawn(int ready_fd, int which)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	switch (which) {
	case 0:
		_exit(run_waiter(ready_fd) || failures ? 1 : 0);
	case 1:
		_exit(run_streamer(ready_fd, "copier", false) || failures ? 1 : 0);
	case 3:
		_exit(run_direct(ready_fd) || failures ? 1 : 0);
	default:
		_exit(run_streamer(ready_fd, "filler", true) || failures ? 1 : 0);
	}
}

static void check_gone(const char *bdf)
{
	long refcnt;
	int ret;

	result(!path_exists("/sys/bus/pci/devices/%s", bdf), "PCI function %s is gone", bdf);
	result(!path_exists("/dev/accel/accel0%s", ""), "/dev/accel/accel0 is gone");
	result(!path_exists("/sys/class/accel/accel0%s", ""), "/sys/class/accel/accel0 is gone");
	result(!path_exists("/sys/kernel/debug/accel/%s", bdf),
	       "debugfs /sys/kernel/debug/accel/%s is gone", bdf);
	result(!path_exists("/sys/bus/pci/drivers/lumen/%s", bdf), "driver unbound from %s", bdf);
	refcnt = read_long("/sys/module/lumen/refcnt");
	result(refcnt == 0, "nothing holds lumen.ko once the files closed (refcnt %ld)", refcnt);
	ret = (int)syscall(SYS_delete_module, "lumen", O_NONBLOCK);
	ret = ret ? -errno : 0;
	result(!ret, "rmmod lumen: %s", accel_strerror(ret));
	result(!path_exists("/sys/module/lumen%s", ""), "/sys/module/lumen is gone");
}

static int write_power_attr(const char *bdf, const char *file, const char *val)
{
	char path[256];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/%s", bdf, file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

static bool runtime_suspended(const char *bdf)
{
	char path[256], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/runtime_status", bdf);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strcmp(buf, "suspended\n");
}

/*
 * Second unplug, of a runtime-suspended device, with a file open and a BO
 * mapped: remove() runs after the PCI core resumed the device.
 */
static void unplug_suspended(struct accel_dev *dev, const char *bdf)
{
	struct accel_bo *bo = NULL;
	struct accel_info info;
	unsigned char *map;
	void *ptr;
	int ret, i;

	ret = lt_bo_create_mapped(dev, BO_SIZE, 0, &bo, &ptr);
	result(!ret, "second device: BO mapped: %s", accel_strerror(ret));
	if (ret)
		return;
	map = ptr;
	memset(map, 0x44, BO_SIZE);
	ret = write_power_attr(bdf, "autosuspend_delay_ms", "20");
	result(!ret, "second device: autosuspend delay lowered: %s", accel_strerror(ret));
	for (i = 0; i < 6000 && !runtime_suspended(bdf); i++)
		usleep(10000);
	result(runtime_suspended(bdf), "second device runtime-suspended before its unplug");
	/* The host waits for this line, then sends device_del again. */
	printf("HOTPLUG-READY-SUSPENDED\n");
	fflush(stdout);
	ret = wait_for_pci((char[LT_BDF_LEN]){ 0 }, false, WAIT_SECONDS);
	result(!ret, "second device unplugged while suspended");
	/* QEMU deletes the device once pciehp powered the slot off. */
	for (i = 0; i < 300 && read_long("/sys/bus/pci/slots/1/power") != 0; i++)
		usleep(100000);
	result(read_long("/sys/bus/pci/slots/1/power") == 0, "slot 1 powered off");
	/*
	 * pciehp turns the power indicator off 1 s after the power, and only
	 * then does QEMU delete the device: do not power the machine off
	 * before.  (Not observable in the guest; the host checks the event.)
	 */
	sleep(3);
	ret = accel_query(dev, &info);
	result(ret == -ENODEV, "second device: query after unplug: %s", accel_strerror(ret));
	result(lt_find_not(map, 0x44, BO_SIZE) == BO_SIZE,
	       "second device: system BO mapping keeps its contents");
	accel_bo_free(bo);
}

static void replug(void)
{
	struct accel_dev *dev = NULL;
	struct accel_info info;
	char bdf[LT_BDF_LEN] = "";
	int ret, i;

	ret = wait_for_pci(bdf, true, 120);
	result(!ret, "the device came back as %s", bdf);
	if (ret)
		return;
	ret = system("modprobe lumen");
	result(ret == 0, "modprobe lumen (status %d)", ret);
	for (i = 0; i < 100 && !path_exists("/dev/accel/accel0%s", ""); i++)
		usleep(100000);
	ret = lt_open_first(&dev, &info);
	result(!ret, "the new device opens: %s", accel_strerror(ret));
	if (ret)
		return;
	ret = lt_device_works(dev, 0);
	result(!ret, "a copy job runs correctly on the new device: %s", accel_strerror(ret));
	unplug_suspended(dev, bdf);
	accel_close(dev);
	check_gone(bdf);
}

int main(void)
{
	char bdf[LT_BDF_LEN] = "";
	pid_t pids[TENANTS];
	int ready[2];
	char c;
	int i, n, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	result(read_long("/sys/module/lumen/parameters/job_timeout_ms") == 0,
	       "lumen.ko loaded with job_timeout_ms=0");
	if (wait_for_pci(bdf, true, 1) || pipe(ready)) {
		result(false, "a lumen PCI function to unplug");
		return 1;
	}
	note("unplugging %s", bdf);
	strcpy(unplug_bdf, bdf);

	for (i = 0; i < TENANTS; i++)
		pids[i] = spawn(ready[1], i);
	close(ready[1]);
	for (n = 0; n < TENANTS && read(ready[0], &c, 1) == 1; n++)
		;
	result(n == TENANTS, "%d of %d tenants have jobs in flight", n, TENANTS);
	if (n != TENANTS) {
		for (i = 0; i < TENANTS; i++)
			kill(pids[i], SIGKILL);
	} else {
		/* The host waits for this line, then sends device_del. */
		printf("HOTPLUG-READY\n");
		fflush(stdout);
	}

	for (i = 0; i < TENANTS; i++) {
		waitpid(pids[i], &status, 0);
		result(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       "tenant %d finished cleanly (status %#x)", i, status);
	}
	if (n != TENANTS)
		return 1;

	check_gone(bdf);
	printf("HOTPLUG-REMOVED\n");
	fflush(stdout);
	replug();
	note("%d failures", failures);
	return failures ? 1 : 0;
}
