// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Direct queues (uAPI 1.1: DRM_IOCTL_LUMEN_DQ_CREATE/DESTROY/WAIT, the
 * doorbell mapping; Documentation/uapi.rst, "Direct queues"):
 *
 *  1 the query's num_direct_queues against the VM's properties; create,
 *    destroy, ids, the doorbell mapping and its read-only views;
 *  2 bad input to the three ioctls and to mmap() of a doorbell, each
 *    refused with its documented errno, nothing created or lost, and a
 *    checked job still running after every row;
 *  3 ENOSPC once two files hold every direct hardware queue, reuse after
 *    destroy and after close;
 *  4 jobs through libaccel's accel_dq_*: byte-checked copies of 1 B to
 *    16 MiB, hundreds of jobs through a small ring (wrap, -EAGAIN), a
 *    sleeping wait woken by the queue's interrupt, a spinning one that
 *    costs none, -ETIME, EINTR, kernel-queue and direct-queue jobs of
 *    one file interleaved on one engine;
 *  5 malicious rings written by hand (a bad opcode, an INDIRECT naming a
 *    context, COPYs to unmapped VAs and to a VA of another process, a
 *    garbage tail): -EIO with the documented code, ring index and VA, and
 *    a devcoredump that shows them, the queue and the entry;
 *    another process's direct queue and this file's kernel jobs carry on;
 *    no reset, no guilt;
 *  6 destroy of a busy queue: nothing lands afterwards;
 *  7 the ring BO or a target BO unmapped while the queue runs, and an
 *    unmap waiting for the entry a queue is executing;
 *  8 a process exiting with busy direct queues frees them, no leak; a
 *    create racing a second thread that destroys guessed ids;
 *  9 runtime PM: a direct queue keeps the device resumed;
 * 10 with fault injection: a fatal error (DRM_LUMEN_DQ_ERROR_RESET) and a
 *    hang of the queue's hardware queue.
 *
 * "Nothing lands afterwards" is checked by releasing what the queue would
 * have done (a WAIT's semaphore) or by giving it time, then looking: the
 * delays only give a wrong write the chance to happen, nothing asserts
 * how fast anything is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

/* The register and command layout, for rings written by hand. */
#include "../../driver/lumen_regs.h"

#define SEC		1000000000ll
#define BO_SIZE		(1 << 20)
#define GATE		0		/* a WAIT's semaphore in the fixture's BO */
#define DONE		8		/* a raw ring's FENCE target */
#define RES(i)		(4096 + 8 * (uint64_t)(i))
#define MAX_RES		((BO_SIZE - 4096) / 8)
#define BAN_PARAM	"/sys/module/lumen/parameters/ban_guilty"
#define POLL_TRIES	600
#define POLL_US		50000		/* bounded polls: 30 s */
/* A window for a write that must not happen to happen anyway. */
#define SETTLE_US	300000

/* ---- Files: sysfs, debugfs, /proc ---------------------------------------- */

/*
 * The block of debugfs direct_queues for hardware queue @hwq into @out:
 * 1 if the queue is in use, 0 if "free", -errno.
 */
static int dq_debugfs(const char *bdf, unsigned int hwq, char *out, size_t len)
{
	char path[PATH_MAX], head[32], *buf, *at, *end;
	int ret;

	buf = malloc(65536);
	if (!buf)
		return -ENOMEM;
	lt_debugfs_path(bdf, "direct_queues", path, sizeof(path));
	ret = lt_read_file(path, buf, 65536);
	if (ret <= 0) {
		free(buf);
		return ret ? ret : -ENOENT;
	}
	snprintf(head, sizeof(head), "hw queue %u: ", hwq);
	at = strstr(buf, head);
	if (!at) {
		free(buf);
		return -EPROTO;
	}
	end = strstr(at + strlen(head), "\nhw queue ");
	if (end)
		end[1] = '\0';
	snprintf(out, len, "%s", at);
	ret = strncmp(at + strlen(head), "free", 4) ? 1 : 0;
	free(buf);
	return ret;
}

/* "waiters N" of hardware queue @hwq's block, or -1. */
static int dq_waiters(const char *bdf, unsigned int hwq)
{
	char block[1024], *at;

	if (dq_debugfs(bdf, hwq, block, sizeof(block)) != 1)
		return -1;
	at = strstr(block, "  waiters ");
	return at ? atoi(at + strlen("  waiters ")) : -1;
}

/*
 * Interrupts of direct hardware queue @hwq's vector ("lumen-dq<hwq>"),
 * summed over the CPUs and over the devices (the suite's second device
 * runs nothing meanwhile); -1 if there is no such vector.
 */
static long long dq_irqs(unsigned int hwq)
{
	char name[32], line[4096];
	long long sum = -1;
	FILE *f = fopen("/proc/interrupts", "r");
	int cpus = 0;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f))
		for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
			cpus++;
	snprintf(name, sizeof(name), "lumen-dq%u", hwq);
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;
		size_t n = strlen(line);
		long long row = 0;

		while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (n < strlen(name) || strcmp(line + n - strlen(name), name) ||
		    (n > strlen(name) && line[n - strlen(name) - 1] != ' '))
			continue;
		p = strchr(line, ':');
		if (!p)
			continue;
		p++;
		for (int c = 0; c < cpus; c++) {
			long long v = strtoll(p, &e, 10);

			if (e == p)
				break;
			row += v;
			p = e;
		}
		sum = (sum < 0 ? 0 : sum) + row;
	}
	fclose(f);
	return sum;
}

/* ---- Raw ioctls ------------------------------------------------------------ */

static int dq_create_raw(int fd, uint32_t cls, uint32_t engine, uint64_t ring_va,
			 uint32_t entries, struct drm_lumen_dq_create *out)
{
	struct drm_lumen_dq_create args = {
		.engine_class = cls, .engine = engine, .ring_va = ring_va,
		.ring_entries = entries,
	};
	int ret = lt_ioctl(fd, DRM_IOCTL_LUMEN_DQ_CREATE, &args);

	if (out)
		*out = args;
	return ret;
}

static int dq_destroy_raw(int fd, uint32_t id)
{
	struct drm_lumen_dq_destroy args = { .id = id };

	return lt_ioctl(fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &args);
}

/* DQ_WAIT until @rel_ns from now (negative: an absolute deadline of 0). */
static int dq_wait_raw(int fd, uint32_t id, const volatile void *addr, uint64_t value,
		       int64_t rel_ns, struct drm_lumen_dq_wait *out)
{
	struct drm_lumen_dq_wait args = {
		.id = id, .addr = (uintptr_t)addr, .value = value,
		.timeout_ns = rel_ns < 0 ? 0 : lt_now_ns() + rel_ns,
	};
	int ret = lt_ioctl(fd, DRM_IOCTL_LUMEN_DQ_WAIT, &args);

	if (out)
		*out = args;
	return ret;
}

/* The mmap() of a doorbell: 0 or -errno (the mapping is undone). */
static int try_mmap(int fd, uint64_t offset, size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)offset);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

/* ---- Rings written by hand -------------------------------------------------- */

struct cmd {
	uint64_t w[8];
};

static struct cmd enc(uint8_t op, uint8_t flags, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct cmd c = { { (uint64_t)op | (uint64_t)flags << 8, a0, a1, a2 } };

	return c;
}

/* A direct queue made with raw ioctls: its ring is written entry by entry. */
struct rdq {
	int fd;
	struct accel_bo *ring;
	struct cmd *ring_map;
	uint32_t entries;
	struct drm_lumen_dq_create c;
	volatile uint32_t *db;
	uint64_t written;
};

static int rdq_open(struct accel_dev *dev, uint32_t cls, uint32_t entries, struct rdq *q)
{
	void *map;
	int ret;

	memset(q, 0, sizeof(*q));
	q->fd = accel_fd(dev);
	q->entries = entries;
	ret = lt_bo_create_mapped(dev, (uint64_t)entries * 64, 0, &q->ring, &map);
	if (ret)
		return ret;
	q->ring_map = map;
	ret = dq_create_raw(q->fd, cls, DRM_LUMEN_ENGINE_ANY, accel_bo_va(q->ring), entries,
			    &q->c);
	if (ret)
		return ret;
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd,
		   (off_t)q->c.doorbell_offset);
	if (map == MAP_FAILED)
		return -errno;
	q->db = map;
	return 0;
}

static void rdq_put(struct rdq *q, struct cmd c)
{
	q->ring_map[q->written++ % q->entries] = c;
}

static void rdq_kick(struct rdq *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->db[LUMEN_DB_TAIL / 4] = (uint32_t)(q->written % q->entries);
}

static uint32_t rdq_view(const struct rdq *q, unsigned int off)
{
	return q->db[off / 4];
}

static uint64_t rdq_completed(const struct rdq *q)
{
	return *(const volatile uint64_t *)((const volatile char *)q->db + LUMEN_DB_COMPLETED);
}

/* Polls the STATUS view until @bit is set: true, or false after the bound. */
static bool rdq_wait_status(const struct rdq *q, uint32_t bit)
{
	for (int i = 0; i < POLL_TRIES * 10; i++) {
		if (rdq_view(q, LUMEN_DB_STATUS) & bit)
			return true;
		usleep(POLL_US / 10);
	}
	return false;
}

/* Drops the process's hold on @q (doorbell mapping, ring BO), not the queue. */
static void rdq_release(struct rdq *q)
{
	if (q->db)
		munmap((void *)q->db, 4096);
	if (q->ring)
		accel_bo_free(q->ring);
	q->db = NULL;
	q->ring = NULL;
}

static void rdq_close(struct rdq *q)
{
	if (q->c.id)
		dq_destroy_raw(q->fd, q->c.id);
	rdq_release(q);
	memset(q, 0, sizeof(*q));
}

/* ---- Jobs through libaccel -------------------------------------------------- */

/* Submits @cb on @dq and waits for it: accel_dq_wait()'s result. */
static int dq_run(struct accel_dq *dq, const struct accel_cmdbuf *cb)
{
	uint64_t seq;
	int ret = accel_dq_submit(dq, cb, &seq);

	return ret ? ret : accel_dq_wait(dq, seq, LT_JOB_TIMEOUT_NS);
}

/* A job on @dq that FENCEs @value at @va; checks the value through @cpu. */
static int dq_fence_check(struct accel_dev *dev, struct accel_dq *dq, uint64_t va,
			  volatile uint64_t *cpu, uint64_t value)
{
	struct accel_cmdbuf *cb;
	int ret;

	*cpu = 0;
	ret = lt_cmdbuf_create(dev, &cb);
	if (ret)
		return ret;
	ret = accel_cmd_fence(cb, va, value);
	if (!ret)
		ret = dq_run(dq, cb);
	if (!ret && *cpu != value)
		ret = -EIO;
	accel_cmdbuf_free(cb);
	return ret;
}

/* ---- Fixture ------------------------------------------------------------------ */

FIXTURE(direct) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
	char bdf[LT_BDF_LEN];
	struct accel_bo *bo;
	volatile uint64_t *map;
	char ban_before[8];
	char pm_control[16], pm_delay[16];	/* to restore, if changed */
};

static int power_write(const char *bdf, const char *file, const char *val);

FIXTURE_SETUP(direct)
{
	void *map;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	if (!self->info.num_direct_queues)
		SKIP(return, "no direct queues (lumen.direct_queues=0, too few queues, or a 1.0 device)");
	self->fd = accel_fd(self->dev);
	ASSERT_EQ(0, lt_accel_bdf(self->info.path, self->bdf, sizeof(self->bdf)));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, BO_SIZE, 0, &self->bo, &map));
	self->map = map;
}

FIXTURE_TEARDOWN(direct)
{
	if (self->ban_before[0])
		lt_write_file(BAN_PARAM, self->ban_before);
	if (self->pm_delay[0])
		power_write(self->bdf, "autosuspend_delay_ms", self->pm_delay);
	if (self->pm_control[0])
		power_write(self->bdf, "control", self->pm_control);
	if (self->map)
		self->map[GATE / 8] = ~0ull;	/* a failed test's parked jobs go on */
	if (self->bo)
		accel_bo_free(self->bo);
	if (self->dev)
		accel_close(self->dev);
}

static uint64_t va(FIXTURE_DATA(direct) *self, uint64_t off)
{
	return accel_bo_va(self->bo) + off;
}

static volatile uint64_t *cpu(FIXTURE_DATA(direct) *self, uint64_t off)
{
	return &self->map[off / 8];
}

/* lumen.ban_guilty=Y for this test (run-all turns it off), restored after. */
static int ban_on(FIXTURE_DATA(direct) *self)
{
	int ret = lt_read_file(BAN_PARAM, self->ban_before, sizeof(self->ban_before));

	if (ret <= 0)
		return ret ? ret : -EIO;
	self->ban_before[strcspn(self->ban_before, "\n")] = '\0';
	return lt_write_file(BAN_PARAM, "Y");
}

/* ---- 1: query, create, destroy, the doorbell page ---------------------------- */

TEST(query_reports_direct_queues)
{
	struct drm_lumen_device_info raw = { 0 };
	struct drm_lumen_query q = { .type = DRM_LUMEN_QUERY_DEVICE_INFO,
				     .size = sizeof(raw), .data = (uintptr_t)&raw };
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_expect expect;
	char buf[32];
	long param;
	int ret;

	LT_OPEN_OR_SKIP(&dev, &info);
	ASSERT_EQ(0, lt_ioctl(accel_fd(dev), DRM_IOCTL_LUMEN_QUERY, &q));
	ASSERT_EQ(sizeof(raw), q.size);
	EXPECT_EQ(raw.num_direct_queues, info.num_direct_queues);
	EXPECT_EQ(0, raw.pad);
	EXPECT_EQ(raw.num_queues, info.num_queues);
	EXPECT_EQ(LUMEN_HW_VERSION, raw.hw_version);
	EXPECT_TRUE(raw.caps & LUMEN_CAP_DIRECT_QUEUES);
	ASSERT_LT(0, lt_read_file("/sys/module/lumen/parameters/direct_queues", buf, sizeof(buf)));
	param = strtol(buf, NULL, 10);
	ret = lt_cmdline_expect(&expect);
	if (ret == -ENOENT) {
		accel_close(dev);
		SKIP(return, "no lumen_vm.expect= on the kernel command line");
	}
	ASSERT_EQ(0, ret);
	/* Every engine keeps a kernel queue: at most queues - engines are direct. */
	{
		long room = (long)expect.queues - (long)info.num_engines;
		long want = param < room ? param : room;

		if (want < 0)
			want = 0;
		EXPECT_EQ(expect.queues, info.num_queues + info.num_direct_queues);
		EXPECT_EQ(want, (long)info.num_direct_queues)
			TH_LOG("direct_queues=%ld, %u queues, %u engines", param, expect.queues,
			       info.num_engines);
	}
	accel_close(dev);
}

TEST_F_TIMEOUT(direct, raw_create_doorbell_views_destroy, 120)
{
	struct drm_lumen_dq_wait w;
	struct lt_objects before, now;
	char block[1024], want[64];
	struct rdq q;
	uint64_t done_va = va(self, DONE);
	int ret;

	ASSERT_EQ(0, lt_read_objects(self->bdf, &before));
	ASSERT_EQ(0, rdq_open(self->dev, DRM_LUMEN_ENGINE_COMPUTE, 64, &q));
	EXPECT_EQ(1, q.c.id);	/* the file's first */
	EXPECT_LE(self->info.num_queues, q.c.hw_queue);
	EXPECT_GT(self->info.num_queues + self->info.num_direct_queues, q.c.hw_queue);
	EXPECT_GT(self->info.num_cores, q.c.hw_engine);
	EXPECT_EQ(0, q.c.doorbell_offset % 4096);
	EXPECT_GT(1ull << 32, q.c.doorbell_offset) TH_LOG("documented below 4 GiB");
	EXPECT_EQ(0, q.c.pad);
	ASSERT_EQ(0, lt_read_objects(self->bdf, &now));
	EXPECT_EQ(before.direct_queues + 1, now.direct_queues);

	/* An empty, enabled, idle queue. */
	EXPECT_EQ(0, rdq_view(&q, LUMEN_DB_HEAD));
	EXPECT_EQ(0, rdq_view(&q, LUMEN_DB_TAIL));
	EXPECT_EQ(LUMEN_Q_STATUS_ENABLED | LUMEN_Q_STATUS_IDLE, rdq_view(&q, LUMEN_DB_STATUS));
	EXPECT_EQ(0, rdq_view(&q, LUMEN_DB_ERROR));
	EXPECT_EQ(0, rdq_completed(&q));

	/* debugfs lists it with this process and the ring. */
	ASSERT_EQ(1, dq_debugfs(self->bdf, q.c.hw_queue, block, sizeof(block)));
	snprintf(want, sizeof(want), " pid %d id %u\n", (int)getpid(), q.c.id);
	EXPECT_NE(NULL, strstr(block, want)) TH_LOG("%s", block);
	snprintf(want, sizeof(want), "ring va %#llx entries 64",
		 (unsigned long long)accel_bo_va(q.ring));
	EXPECT_NE(NULL, strstr(block, want)) TH_LOG("%s", block);

	/* Five entries: three NOPs, a FENCE, a NOP; one doorbell write. */
	for (int i = 0; i < 3; i++)
		rdq_put(&q, enc(LUMEN_OP_NOP, 0, 0, 0, 0));
	rdq_put(&q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, done_va, 0x1234, 0));
	rdq_put(&q, enc(LUMEN_OP_NOP, 0, 0, 0, 0));
	*cpu(self, DONE) = 0;
	rdq_kick(&q);
	EXPECT_EQ(5, rdq_view(&q, LUMEN_DB_TAIL));
	ASSERT_EQ(0, dq_wait_raw(self->fd, q.c.id, cpu(self, DONE), 0x1234, 60 * SEC, &w));
	EXPECT_EQ(0, w.error);
	EXPECT_EQ(0x1234, *cpu(self, DONE));
	ASSERT_TRUE(rdq_wait_status(&q, LUMEN_Q_STATUS_IDLE));
	for (int i = 0; i < POLL_TRIES && rdq_completed(&q) < 5; i++)
		usleep(POLL_US / 10);
	EXPECT_EQ(5, rdq_view(&q, LUMEN_DB_HEAD));
	EXPECT_EQ(5, rdq_completed(&q));
	/* The 32-bit halves of COMPLETED, low then high. */
	EXPECT_EQ(5, rdq_view(&q, LUMEN_DB_COMPLETED));
	EXPECT_EQ(0, rdq_view(&q, LUMEN_DB_COMPLETED + 4));
	EXPECT_EQ(LUMEN_Q_STATUS_ENABLED | LUMEN_Q_STATUS_IDLE, rdq_view(&q, LUMEN_DB_STATUS));

	/* The views are read-only: writes change nothing. */
	q.db[LUMEN_DB_HEAD / 4] = 2;
	q.db[LUMEN_DB_STATUS / 4] = 0;
	q.db[LUMEN_DB_ERROR / 4] = 7;
	q.db[LUMEN_DB_COMPLETED / 4] = 0;
	EXPECT_EQ(5, rdq_view(&q, LUMEN_DB_HEAD));
	EXPECT_EQ(LUMEN_Q_STATUS_ENABLED | LUMEN_Q_STATUS_IDLE, rdq_view(&q, LUMEN_DB_STATUS));
	EXPECT_EQ(0, rdq_view(&q, LUMEN_DB_ERROR));
	EXPECT_EQ(5, rdq_completed(&q));

	/* Across the wrap: 64 more entries, HEAD comes round to 5 again. */
	for (int i = 0; i < 62; i++)
		rdq_put(&q, enc(LUMEN_OP_NOP, 0, 0, 0, 0));
	rdq_put(&q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, done_va, 0x5678, 0));
	rdq_kick(&q);
	ASSERT_EQ(0, dq_wait_raw(self->fd, q.c.id, cpu(self, DONE), 0x5678, 60 * SEC, &w));
	rdq_put(&q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, done_va, 0x9abc, 0));
	rdq_kick(&q);
	ASSERT_EQ(0, dq_wait_raw(self->fd, q.c.id, cpu(self, DONE), 0x9abc, 60 * SEC, &w));
	ASSERT_TRUE(rdq_wait_status(&q, LUMEN_Q_STATUS_IDLE));
	for (int i = 0; i < POLL_TRIES && rdq_completed(&q) < 69; i++)
		usleep(POLL_US / 10);
	EXPECT_EQ(69 % 64, rdq_view(&q, LUMEN_DB_HEAD));
	EXPECT_EQ(69, rdq_completed(&q));

	/* Destroy: the id is gone, the slot free, the mapping harmless. */
	ASSERT_EQ(0, dq_destroy_raw(self->fd, q.c.id));
	EXPECT_EQ(-ENOENT, dq_destroy_raw(self->fd, q.c.id));
	EXPECT_EQ(-ENOENT, dq_wait_raw(self->fd, q.c.id, cpu(self, DONE), 1, -1, NULL));
	EXPECT_EQ(0, dq_debugfs(self->bdf, q.c.hw_queue, block, sizeof(block))) TH_LOG("%s", block);
	ASSERT_EQ(0, lt_read_objects(self->bdf, &now));
	EXPECT_EQ(before.direct_queues, now.direct_queues);
	/* Reads and writes of the old doorbell reach no device: no signal, no job. */
	*cpu(self, DONE) = 0;
	rdq_put(&q, enc(LUMEN_OP_FENCE, 0, done_va, 0xdead, 0));
	rdq_kick(&q);
	(void)rdq_view(&q, LUMEN_DB_STATUS);
	usleep(SETTLE_US);
	EXPECT_EQ(0, *cpu(self, DONE));
	/* The offset no longer maps. */
	ret = try_mmap(self->fd, q.c.doorbell_offset, 4096, MAP_SHARED);
	EXPECT_EQ(-EACCES, ret);
	q.c.id = 0;
	rdq_close(&q);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* The doorbell and ring mappings are inherited: a child submits for the parent. */
TEST_F_TIMEOUT(direct, doorbell_mapping_inherited_by_fork, 120)
{
	struct rdq q;
	int status;
	pid_t pid;

	ASSERT_EQ(0, rdq_open(self->dev, DRM_LUMEN_ENGINE_COMPUTE, 64, &q));
	*cpu(self, DONE) = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		rdq_put(&q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, va(self, DONE), 0xf02c, 0));
		rdq_kick(&q);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_EQ(0, dq_wait_raw(self->fd, q.c.id, cpu(self, DONE), 0xf02c, 60 * SEC, NULL));
	EXPECT_EQ(0xf02c, *cpu(self, DONE));
	EXPECT_EQ(1, rdq_view(&q, LUMEN_DB_TAIL));
	rdq_close(&q);
}

TEST_F_TIMEOUT(direct, libaccel_create_run_destroy, 120)
{
	struct accel_dq *dq, *dma;
	uint64_t seq;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, 0, 0, &dq));
	EXPECT_EQ(1, accel_dq_id(dq));
	EXPECT_EQ(0, accel_dq_hw_engine(dq));
	EXPECT_LE(self->info.num_queues, accel_dq_hw_queue(dq));
	EXPECT_EQ(0, accel_dq_completed(dq));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 11));
	EXPECT_EQ(1, accel_dq_completed(dq));
	/* accel_dq_wait() of a completed job, and of one never pushed. */
	EXPECT_EQ(0, accel_dq_wait(dq, 1, 0));
	EXPECT_EQ(-EINVAL, accel_dq_wait(dq, 2, 0));

	if (self->info.num_direct_queues >= 2) {
		ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_DMA, 0, 16, &dma));
		EXPECT_EQ(2, accel_dq_id(dma));
		EXPECT_EQ(self->info.num_cores, accel_dq_hw_engine(dma));
		EXPECT_NE(accel_dq_hw_queue(dq), accel_dq_hw_queue(dma));
		EXPECT_EQ(0, dq_fence_check(self->dev, dma, va(self, RES(1)), cpu(self, RES(1)),
					    12));
		EXPECT_EQ(0, accel_dq_destroy(dma));
	}
	EXPECT_EQ(0, accel_dq_destroy(dq));

	/* The smallest ring takes no job, the largest many. */
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 2, &dq));
	EXPECT_EQ(1, accel_dq_id(dq)) TH_LOG("ids are reused from the lowest");
	{
		struct accel_cmdbuf *cb;

		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
		ASSERT_EQ(0, accel_cmd_nop(cb));
		EXPECT_EQ(-E2BIG, accel_dq_submit(dq, cb, &seq));
		accel_cmdbuf_free(cb);
	}
	EXPECT_EQ(0, accel_dq_destroy(dq));
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 65536,
				     &dq));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(2)), cpu(self, RES(2)), 13));
	EXPECT_EQ(0, accel_dq_destroy(dq));
	EXPECT_EQ(0, accel_dq_destroy(NULL));
}

/* ---- 2: bad input ------------------------------------------------------------- */

struct bad_create {
	const char *what;
	uint32_t cls, engine, entries, flags, pad;
	uint64_t ring_va;
	int err;
};

TEST_F_TIMEOUT(direct, bad_create, 120)
{
	struct accel_bo *ring, *ro, *small, *freed;
	struct lt_objects before, now;
	struct accel_dq *good;
	uint64_t ring_va, freed_va;
	const uint32_t C = DRM_LUMEN_ENGINE_COMPUTE, ANY = DRM_LUMEN_ENGINE_ANY;
	unsigned int i;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 64, &good));
	ASSERT_EQ(0, accel_bo_create(self->dev, 64 * 1024, 0, &ring));
	ASSERT_EQ(0, accel_bo_create(self->dev, 64 * 1024, ACCEL_BO_READ_ONLY, &ro));
	ASSERT_EQ(0, accel_bo_create(self->dev, 8192, 0, &small));
	ASSERT_EQ(0, accel_bo_create(self->dev, 64 * 1024, 0, &freed));
	ring_va = accel_bo_va(ring);
	freed_va = accel_bo_va(freed);
	accel_bo_free(freed);
	{
		const struct bad_create rows[] = {
			{ "flags 1", C, ANY, 64, 1, 0, ring_va, -EINVAL },
			{ "flags bit 31", C, ANY, 64, 1u << 31, 0, ring_va, -EINVAL },
			{ "pad 1", C, ANY, 64, 0, 1, ring_va, -EINVAL },
			{ "engine class 2", 2, ANY, 64, 0, 0, ring_va, -EINVAL },
			{ "engine class ~0", ~0u, 0, 64, 0, 0, ring_va, -EINVAL },
			{ "compute engine num_cores", C, self->info.num_cores, 64, 0, 0, ring_va,
			  -EINVAL },
			{ "compute engine 2^31", C, 1u << 31, 64, 0, 0, ring_va, -EINVAL },
			{ "DMA engine 1", DRM_LUMEN_ENGINE_DMA, 1, 64, 0, 0, ring_va, -EINVAL },
			{ "entries 0", C, ANY, 0, 0, 0, ring_va, -EINVAL },
			{ "entries 1", C, ANY, 1, 0, 0, ring_va, -EINVAL },
			{ "entries 3", C, ANY, 3, 0, 0, ring_va, -EINVAL },
			{ "entries 96", C, ANY, 96, 0, 0, ring_va, -EINVAL },
			{ "entries 65537", C, ANY, 65537, 0, 0, ring_va, -EINVAL },
			{ "entries 131072", C, ANY, 131072, 0, 0, ring_va, -EINVAL },
			{ "entries 2^31", C, ANY, 1u << 31, 0, 0, ring_va, -EINVAL },
			{ "ring va + 64", C, ANY, 64, 0, 0, ring_va + 64, -EINVAL },
			{ "ring va + 2048", C, ANY, 16, 0, 0, ring_va + 2048, -EINVAL },
			{ "ring va 0", C, ANY, 64, 0, 0, 0, -EINVAL },
			{ "ring va below va_start", C, ANY, 64, 0, 0, self->info.va_start - 4096,
			  -EINVAL },
			{ "ring va unmapped", C, ANY, 64, 0, 0, self->info.va_start + (1ull << 42),
			  -EINVAL },
			{ "ring va at va_end", C, ANY, 64, 0, 0, self->info.va_end, -EINVAL },
			{ "ring va 2^63", C, ANY, 64, 0, 0, 1ull << 63, -EINVAL },
			{ "ring va ~4095", C, ANY, 2, 0, 0, ~4095ull, -EINVAL },
			{ "ring in a read-only BO", C, ANY, 64, 0, 0, accel_bo_va(ro), -EINVAL },
			{ "ring partly past its BO", C, ANY, 256, 0, 0, accel_bo_va(small), -EINVAL },
			{ "ring past the BO's end", C, ANY, 2, 0, 0, accel_bo_va(small) + 8192,
			  -EINVAL },
			{ "ring of 2048 entries in a 64 KiB BO", C, ANY, 2048, 0, 0, ring_va,
			  -EINVAL },
			{ "ring in a freed BO", C, ANY, 64, 0, 0, freed_va, -EINVAL },
		};

		ASSERT_EQ(0, lt_read_objects(self->bdf, &before));
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct drm_lumen_dq_create args = {
				.engine_class = rows[i].cls, .engine = rows[i].engine,
				.ring_va = rows[i].ring_va, .ring_entries = rows[i].entries,
				.flags = rows[i].flags, .pad = rows[i].pad,
			};

			EXPECT_EQ(rows[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_DQ_CREATE, &args))
				TH_LOG("%s", rows[i].what);
			EXPECT_EQ(0, args.id) TH_LOG("%s: an id came back", rows[i].what);
			EXPECT_EQ(0, args.doorbell_offset) TH_LOG("%s: a doorbell", rows[i].what);
			ASSERT_EQ(0, lt_read_objects(self->bdf, &now));
			EXPECT_EQ(before.direct_queues, now.direct_queues)
				TH_LOG("%s: a queue was made", rows[i].what);
			EXPECT_EQ(0, dq_fence_check(self->dev, good, va(self, RES(i)),
						    cpu(self, RES(i)), 0xbad0 + i))
				TH_LOG("after %s: the direct queue runs no job", rows[i].what);
		}
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_DQ_CREATE, lt_bad_pointer()));
	/* The exact limits pass: a 64 KiB BO holds 1024 entries, at its start. */
	{
		struct drm_lumen_dq_create ok;

		ASSERT_EQ(0, dq_create_raw(self->fd, C, ANY, ring_va, 1024, &ok));
		EXPECT_EQ(2, ok.id) TH_LOG("no id was used up by the refused calls");
		EXPECT_EQ(0, dq_destroy_raw(self->fd, ok.id));
	}
	EXPECT_EQ(0, dq_fence_check(self->dev, good, va(self, RES(0)), cpu(self, RES(0)), 0x600d));
	EXPECT_EQ(0, accel_dq_destroy(good));
	accel_bo_free(small);
	accel_bo_free(ro);
	accel_bo_free(ring);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* A guilty (banned) file creates no direct queue: -ECANCELED. */
TEST_F_TIMEOUT(direct, guilty_file_cannot_create, 120)
{
	struct accel_dev *dev2;
	struct accel_info info2;
	struct accel_bo *ro, *ring;
	struct drm_lumen_dq_create c;

	ASSERT_EQ(0, ban_on(self));
	ASSERT_EQ(0, lt_open_first(&dev2, &info2));
	ASSERT_EQ(0, accel_bo_create(dev2, 4096, ACCEL_BO_READ_ONLY, &ro));
	ASSERT_EQ(0, accel_bo_create(dev2, 4096, 0, &ring));
	/* A FENCE into a read-only BO: the job faults, the file is guilty. */
	ASSERT_EQ(-EFAULT, lt_fence_write(dev2, 0, ro, 0, 1));
	EXPECT_EQ(-ECANCELED, dq_create_raw(accel_fd(dev2), DRM_LUMEN_ENGINE_COMPUTE,
					    DRM_LUMEN_ENGINE_ANY, accel_bo_va(ring), 64, &c));
	EXPECT_EQ(0, c.id);
	/* Argument errors still come first, as documented. */
	EXPECT_EQ(-EINVAL, dq_create_raw(accel_fd(dev2), DRM_LUMEN_ENGINE_COMPUTE,
					 DRM_LUMEN_ENGINE_ANY, accel_bo_va(ring), 3, NULL));
	accel_bo_free(ring);
	accel_bo_free(ro);
	accel_close(dev2);
	/* Another file is not guilty. */
	{
		struct accel_dq *dq;

		ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0,
					     &dq));
		EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 3));
		EXPECT_EQ(0, accel_dq_destroy(dq));
	}
}

TEST_F_TIMEOUT(direct, bad_destroy, 120)
{
	struct drm_lumen_dq_destroy pad;
	struct lt_objects before, now;
	struct accel_dq *dq;
	uint32_t id;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	id = accel_dq_id(dq);
	ASSERT_EQ(0, lt_read_objects(self->bdf, &before));
	pad = (struct drm_lumen_dq_destroy){ .id = id, .pad = 1 };
	EXPECT_EQ(-EINVAL, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &pad));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 1));
	EXPECT_EQ(-ENOENT, dq_destroy_raw(self->fd, 0));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 2));
	EXPECT_EQ(-ENOENT, dq_destroy_raw(self->fd, id + 1));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 3));
	EXPECT_EQ(-ENOENT, dq_destroy_raw(self->fd, ~0u));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 4));
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, lt_bad_pointer()));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 5));
	/* Another file's id is not this file's. */
	{
		struct accel_dev *dev2;
		struct accel_info info2;

		ASSERT_EQ(0, lt_open_first(&dev2, &info2));
		EXPECT_EQ(-ENOENT, dq_destroy_raw(accel_fd(dev2), id));
		accel_close(dev2);
	}
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 6));
	ASSERT_EQ(0, lt_read_objects(self->bdf, &now));
	EXPECT_EQ(before.direct_queues, now.direct_queues);
	EXPECT_EQ(0, accel_dq_destroy(dq));
}

TEST_F_TIMEOUT(direct, bad_wait, 120)
{
	struct accel_dq *dq;
	struct drm_lumen_dq_wait w;
	volatile uint64_t *word = cpu(self, RES(0));
	uint32_t id;
	struct {
		const char *what;
		uint32_t id, flags;
		uint64_t addr;
		int err;
	} rows[8];
	unsigned int n = 0;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	id = accel_dq_id(dq);
	*word = 0;
	rows[n++] = (typeof(rows[0])){ "flags 1", id, 1, (uintptr_t)word, -EINVAL };
	rows[n++] = (typeof(rows[0])){ "flags bit 31", id, 1u << 31, (uintptr_t)word, -EINVAL };
	rows[n++] = (typeof(rows[0])){ "addr + 4", id, 0, (uintptr_t)word + 4, -EINVAL };
	rows[n++] = (typeof(rows[0])){ "addr + 1", id, 0, (uintptr_t)word + 1, -EINVAL };
	rows[n++] = (typeof(rows[0])){ "unknown id", id + 1, 0, (uintptr_t)word, -ENOENT };
	rows[n++] = (typeof(rows[0])){ "id 0", 0, 0, (uintptr_t)word, -ENOENT };
	rows[n++] = (typeof(rows[0])){ "addr unmapped", id, 0, (uintptr_t)lt_bad_pointer(),
				       -EFAULT };
	rows[n++] = (typeof(rows[0])){ "addr in kernel space", id, 0, 0xffffffff81000000ull,
				       -EFAULT };
	for (unsigned int i = 0; i < n; i++) {
		memset(&w, 0, sizeof(w));
		w.id = rows[i].id;
		w.flags = rows[i].flags;
		w.addr = rows[i].addr;
		w.value = 1;
		w.timeout_ns = lt_now_ns() + 60 * SEC;
		w.error = w.error_head = 0xffff;
		EXPECT_EQ(rows[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_DQ_WAIT, &w))
			TH_LOG("%s", rows[i].what);
		EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(1)), cpu(self, RES(1)),
					    0x100 + i))
			TH_LOG("after %s", rows[i].what);
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_DQ_WAIT, lt_bad_pointer()));
	/* Good waits: reached (0, fields zeroed), not reached by a past deadline. */
	*word = 5;
	w = (struct drm_lumen_dq_wait){ .id = id, .addr = (uintptr_t)word, .value = 5,
					.timeout_ns = 0, .error = 9, .error_head = 9,
					.fault_va = 9 };
	EXPECT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_DQ_WAIT, &w));
	EXPECT_EQ(0, w.error);
	EXPECT_EQ(0, w.error_head);
	EXPECT_EQ(0, w.fault_va);
	EXPECT_EQ(-ETIME, dq_wait_raw(self->fd, id, word, 6, -1, NULL));
	/* Unsigned comparison: 2^63 is above 5. */
	EXPECT_EQ(-ETIME, dq_wait_raw(self->fd, id, word, 1ull << 63, -1, NULL));
	*word = 1ull << 63;
	EXPECT_EQ(0, dq_wait_raw(self->fd, id, word, 6, -1, NULL));
	EXPECT_EQ(0, accel_dq_destroy(dq));
}

TEST_F_TIMEOUT(direct, bad_doorbell_mmap, 120)
{
	struct accel_dev *dev2;
	struct accel_info info2;
	struct accel_dq *dq;
	struct rdq mine, other;
	void *p;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	if (self->info.num_direct_queues < 3) {
		accel_dq_destroy(dq);
		SKIP(return, "needs three direct hardware queues");
	}
	ASSERT_EQ(0, rdq_open(self->dev, DRM_LUMEN_ENGINE_COMPUTE, 64, &mine));
	ASSERT_EQ(0, lt_open_first(&dev2, &info2));
	ASSERT_EQ(0, rdq_open(dev2, DRM_LUMEN_ENGINE_COMPUTE, 64, &other));

	EXPECT_EQ(-EINVAL, try_mmap(self->fd, mine.c.doorbell_offset, 8192, MAP_SHARED));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 1));
	EXPECT_EQ(-EINVAL, try_mmap(self->fd, mine.c.doorbell_offset, 4096, MAP_PRIVATE));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 2));
	EXPECT_EQ(-EACCES, try_mmap(self->fd, other.c.doorbell_offset, 4096, MAP_SHARED))
		TH_LOG("mapped another file's doorbell");
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 3));
	/* And the other way round. */
	EXPECT_EQ(-EACCES, try_mmap(other.fd, mine.c.doorbell_offset, 4096, MAP_SHARED));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 4));
	/* Read-only is allowed (the views), a second mapping too. */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, (off_t)mine.c.doorbell_offset);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(LUMEN_Q_STATUS_ENABLED | LUMEN_Q_STATUS_IDLE,
		  ((volatile uint32_t *)p)[LUMEN_DB_STATUS / 4]);
	munmap(p, 4096);

	/* Nothing changed for either queue: both run a job. */
	*cpu(self, DONE) = 0;
	rdq_put(&mine, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, va(self, DONE), 77, 0));
	rdq_kick(&mine);
	EXPECT_EQ(0, dq_wait_raw(self->fd, mine.c.id, cpu(self, DONE), 77, 60 * SEC, NULL));
	{
		struct accel_bo *bo;
		void *m;
		volatile uint64_t *w;

		ASSERT_EQ(0, lt_bo_create_mapped(dev2, 4096, 0, &bo, &m));
		w = m;
		rdq_put(&other, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, accel_bo_va(bo), 78, 0));
		rdq_kick(&other);
		EXPECT_EQ(0, dq_wait_raw(other.fd, other.c.id, w, 78, 60 * SEC, NULL));
		EXPECT_EQ(78, *w);
		accel_bo_free(bo);
	}
	rdq_close(&other);
	accel_close(dev2);
	rdq_close(&mine);
	EXPECT_EQ(0, accel_dq_destroy(dq));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- 3: ENOSPC, reuse ---------------------------------------------------------- */

/*
 * Two files take every direct hardware queue (the second with raw
 * ioctls, so that this test holds every mapping of its file and can
 * close it for real: a mapping keeps the file open).
 */
TEST_F_TIMEOUT(direct, all_taken_then_reused, 120)
{
	const unsigned int n = self->info.num_direct_queues;
	struct accel_dq *a[64] = { NULL }, *extra = NULL;
	struct rdq b[64];
	struct accel_dev *dev2;
	struct accel_info info2;
	unsigned int na = (n + 1) / 2, nb = n - na, used[64] = { 0 };
	struct drm_lumen_dq_create c;
	uint32_t freed_hwq;

	ASSERT_GE(63, n);
	memset(b, 0, sizeof(b));
	ASSERT_EQ(0, lt_open_first(&dev2, &info2));
	for (unsigned int i = 0; i < na; i++) {
		ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 16,
					     &a[i]));
		used[accel_dq_hw_queue(a[i]) - self->info.num_queues]++;
	}
	for (unsigned int i = 0; i < nb; i++) {
		ASSERT_EQ(0, rdq_open(dev2, i % 2 ? DRM_LUMEN_ENGINE_DMA : DRM_LUMEN_ENGINE_COMPUTE,
				      16, &b[i]));
		used[b[i].c.hw_queue - self->info.num_queues]++;
	}
	for (unsigned int q = 0; q < n; q++) {
		EXPECT_EQ(1, used[q]) TH_LOG("direct hw queue %u given %u times",
					     q + self->info.num_queues, used[q]);
	}
	EXPECT_EQ(-ENOSPC, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 16,
					   &extra));
	EXPECT_EQ(NULL, extra);
	EXPECT_EQ(-ENOSPC, dq_create_raw(accel_fd(dev2), DRM_LUMEN_ENGINE_DMA, 0,
					 accel_bo_va(b[0].ring), 16, &c));
	EXPECT_EQ(0, c.id);
	/* Every queue runs a job, all at once. */
	for (unsigned int i = 0; i < na; i++)
		EXPECT_EQ(0, dq_fence_check(self->dev, a[i], va(self, RES(i)), cpu(self, RES(i)),
					    0xa0 + i));

	/* A destroyed queue's hardware queue goes to the other file. */
	freed_hwq = accel_dq_hw_queue(a[0]);
	EXPECT_EQ(0, accel_dq_destroy(a[0]));
	a[0] = NULL;
	ASSERT_EQ(0, rdq_open(dev2, DRM_LUMEN_ENGINE_COMPUTE, 16, &b[nb]));
	EXPECT_EQ(freed_hwq, b[nb].c.hw_queue);
	{
		struct accel_bo *bo;
		volatile uint64_t *w;
		void *m;

		ASSERT_EQ(0, lt_bo_create_mapped(dev2, 4096, 0, &bo, &m));
		w = m;
		rdq_put(&b[nb], enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, accel_bo_va(bo), 0xb0, 0));
		rdq_kick(&b[nb]);
		EXPECT_EQ(0, dq_wait_raw(b[nb].fd, b[nb].c.id, w, 0xb0, 60 * SEC, NULL));
		EXPECT_EQ(0xb0, *w);
		accel_bo_free(bo);
	}
	EXPECT_EQ(-ENOSPC, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 16,
					   &a[0]));
	/* Closing the other file (its last mapping gone) frees all its queues. */
	for (unsigned int i = 0; i <= nb; i++)
		rdq_release(&b[i]);
	accel_close(dev2);
	for (unsigned int i = 0; i <= nb; i++) {
		struct accel_dq *dq;

		ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 16,
					     &dq)) TH_LOG("queue %u of the closed file's %u", i,
							  nb + 1);
		EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(100 + i)),
					    cpu(self, RES(100 + i)), 0xc0 + i));
		a[na + i] = dq;
	}
	for (unsigned int i = 0; i < na + nb + 1; i++)
		EXPECT_EQ(0, accel_dq_destroy(a[i]));
}

/* ---- 4: jobs through libaccel ----------------------------------------------------- */

TEST_F_TIMEOUT(direct, copy_round_trips_byte_checked, 300)
{
	static const uint64_t sizes[] = {
		1, 2, 3, 7, 8, 63, 4095, 4096, 4097, 65535, 65537, LT_MIB + 13, 16 * LT_MIB,
	};
	const uint64_t cap = 16 * LT_MIB + 8192;
	struct accel_bo *src, *mid, *dst;
	struct accel_cmdbuf *cb1, *cb2;
	void *src_map, *dst_map, *unused;
	unsigned char *s, *d;
	struct accel_dq *dq;
	struct lt_rng rng;

	LT_SEED(&rng);
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_DMA, 0, 0, &dq));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, cap, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, cap, ACCEL_BO_DEVICE, &mid, &unused));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, cap, 0, &dst, &dst_map));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb1));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb2));
	s = src_map;
	d = dst_map;
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t size = sizes[i], so = lt_rng_below(&rng, 4096), mo = lt_rng_below(&rng, 4096);
		uint64_t doff = lt_rng_below(&rng, 4096), s1, s2;
		size_t bad;

		if (i % 2 == 0)
			so = mo = doff = 0;
		lt_rng_fill(&rng, s + so, size);
		memset(d, 0xa5, cap);
		accel_cmdbuf_reset(cb1);
		accel_cmdbuf_reset(cb2);
		ASSERT_EQ(0, accel_cmd_copy(cb1, accel_bo_va(mid) + mo, accel_bo_va(src) + so, size));
		ASSERT_EQ(0, accel_cmd_copy(cb2, accel_bo_va(dst) + doff, accel_bo_va(mid) + mo, size));
		/* Two jobs, one doorbell write: they run in order. */
		ASSERT_EQ(0, accel_dq_push(dq, cb1, &s1));
		ASSERT_EQ(0, accel_dq_push(dq, cb2, &s2));
		EXPECT_EQ(s1 + 1, s2);
		ASSERT_EQ(0, accel_dq_kick(dq));
		ASSERT_EQ(0, accel_dq_wait(dq, s2, LT_JOB_TIMEOUT_NS)) TH_LOG("%llu bytes",
									     (unsigned long long)size);
		EXPECT_LE(s2, accel_dq_completed(dq));
		bad = lt_mismatch(d + doff, s + so, size);
		EXPECT_EQ(size, bad) TH_LOG("%llu bytes at +%llu/+%llu/+%llu: differ at %zu",
					    (unsigned long long)size, (unsigned long long)so,
					    (unsigned long long)mo, (unsigned long long)doff, bad);
		EXPECT_EQ(doff, lt_find_not(d, 0xa5, doff)) TH_LOG("canary before, %llu bytes",
								   (unsigned long long)size);
		EXPECT_EQ(cap - doff - size, lt_find_not(d + doff + size, 0xa5, cap - doff - size))
			TH_LOG("canary after, %llu bytes", (unsigned long long)size);
	}
	accel_cmdbuf_free(cb2);
	accel_cmdbuf_free(cb1);
	EXPECT_EQ(0, accel_dq_destroy(dq));
	accel_bo_free(dst);
	accel_bo_free(mid);
	accel_bo_free(src);
}

/*
 * 600 jobs through a 16-entry ring, a pool of 32 command buffers: jobs of
 * one FENCE (copied into the ring) and of eight NOPs and a FENCE (one
 * INDIRECT), pushed in batches of 8 per doorbell write; a full ring
 * (-EAGAIN) waits for the oldest job.  Every FENCE value is checked.
 */
TEST_F_TIMEOUT(direct, many_jobs_through_a_small_ring, 300)
{
	enum { JOBS = 600, POOL = 32, BATCH = 8 };
	struct accel_cmdbuf *cbs[POOL];
	uint64_t seqs[JOBS];
	unsigned int eagain = 0;
	struct accel_dq *dq;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 16, &dq));
	for (unsigned int i = 0; i < POOL; i++)
		ASSERT_EQ(0, accel_cmdbuf_create(self->dev, 4096, &cbs[i]));
	for (unsigned int i = 0; i < JOBS; i++)
		*cpu(self, RES(i)) = 0;
	for (unsigned int i = 0; i < JOBS; i++) {
		struct accel_cmdbuf *cb = cbs[i % POOL];
		int ret;

		/* The pool's command buffer is free once its last job completed. */
		if (i >= POOL)
			ASSERT_EQ(0, accel_dq_wait(dq, seqs[i - POOL], LT_JOB_TIMEOUT_NS));
		accel_cmdbuf_reset(cb);
		if (i % 3 == 2)
			for (int k = 0; k < 8; k++)
				ASSERT_EQ(0, accel_cmd_nop(cb));
		ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(i)), 0x10000 + i));
		while ((ret = accel_dq_push(dq, cb, &seqs[i])) == -EAGAIN) {
			/* Full: the oldest unfinished job (if any is left by now). */
			uint64_t oldest = accel_dq_completed(dq) + 1;

			eagain++;
			ASSERT_EQ(0, accel_dq_kick(dq));
			if (oldest <= i)
				ASSERT_EQ(0, accel_dq_wait(dq, oldest, LT_JOB_TIMEOUT_NS));
			ASSERT_GT(1000000, eagain) TH_LOG("the ring never frees up");
		}
		ASSERT_EQ(0, ret) TH_LOG("job %u", i);
		ASSERT_EQ(i + 1, seqs[i]);
		if (i % BATCH == BATCH - 1)
			ASSERT_EQ(0, accel_dq_kick(dq));
	}
	ASSERT_EQ(0, accel_dq_wait(dq, JOBS, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(JOBS, accel_dq_completed(dq));
	for (unsigned int i = 0; i < JOBS; i++) {
		EXPECT_EQ(0x10000 + i, *cpu(self, RES(i))) TH_LOG("job %u", i);
	}
	TH_LOG("the ring was full %u times", eagain);
	/* 8 jobs of 2 entries per batch > 15 entries: the ring must fill. */
	EXPECT_LT(0, eagain);
	for (unsigned int i = 0; i < POOL; i++)
		accel_cmdbuf_free(cbs[i]);
	EXPECT_EQ(0, accel_dq_destroy(dq));
}

struct sleeper {
	struct accel_dq *dq;
	uint64_t seq;
	int64_t timeout;
	int ret;
};

static void *sleep_in_wait(void *arg)
{
	struct sleeper *s = arg;

	s->ret = accel_dq_wait(s->dq, s->seq, s->timeout);
	return NULL;
}

/* Polls until @n waiters sleep on hardware queue @hwq: true, or false. */
static bool wait_for_waiters(const char *bdf, unsigned int hwq, int n)
{
	for (int i = 0; i < POLL_TRIES; i++) {
		if (dq_waiters(bdf, hwq) == n)
			return true;
		usleep(POLL_US);
	}
	return false;
}

/*
 * With spin 0 the waiter sleeps in DQ_WAIT at once; the job is held by a
 * WAIT until debugfs shows the sleeper, then released: the FENCE's
 * interrupt (counted in /proc/interrupts) wakes it.
 */
TEST_F_TIMEOUT(direct, sleeping_wait_is_woken_by_the_interrupt, 120)
{
	struct sleeper s = { .timeout = 120 * SEC };
	struct accel_cmdbuf *cb;
	long long irqs0, irqs1;
	pthread_t t;
	unsigned int hwq;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &s.dq));
	accel_dq_set_spin(s.dq, 0);
	hwq = accel_dq_hw_queue(s.dq);
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	*cpu(self, GATE) = 0;
	*cpu(self, RES(0)) = 0;
	ASSERT_EQ(0, accel_cmd_wait(cb, va(self, GATE), 1));
	ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(0)), 0x51ee9));
	ASSERT_EQ(0, accel_dq_submit(s.dq, cb, &s.seq));
	irqs0 = dq_irqs(hwq);
	ASSERT_LE(0, irqs0) TH_LOG("no lumen-dq%u line in /proc/interrupts", hwq);
	EXPECT_EQ(0, dq_waiters(self->bdf, hwq));
	ASSERT_EQ(0, pthread_create(&t, NULL, sleep_in_wait, &s));
	ASSERT_TRUE(wait_for_waiters(self->bdf, hwq, 1)) TH_LOG("nobody sleeps in DQ_WAIT");
	EXPECT_EQ(0, *cpu(self, RES(0)));
	*cpu(self, GATE) = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0, s.ret) TH_LOG("%s", accel_strerror(s.ret));
	EXPECT_EQ(0x51ee9, *cpu(self, RES(0)));
	irqs1 = dq_irqs(hwq);
	EXPECT_LT(irqs0, irqs1) TH_LOG("the sleeper woke without an interrupt");
	EXPECT_EQ(0, dq_waiters(self->bdf, hwq));
	EXPECT_EQ(0, accel_dq_destroy(s.dq));
	accel_cmdbuf_free(cb);
}

/*
 * A waiter that finds its job done while spinning costs no interrupt: the
 * queue's vector stays masked while nobody sleeps (every FENCE of
 * libaccel's carries LUMEN_FENCE_IRQ).  The spin budget is far longer
 * than a NOP job takes.
 */
TEST_F_TIMEOUT(direct, spinning_wait_costs_no_interrupt, 120)
{
	struct accel_cmdbuf *cb;
	struct accel_dq *dq;
	long long irqs0;
	unsigned int hwq;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	accel_dq_set_spin(dq, 60 * SEC);
	hwq = accel_dq_hw_queue(dq);
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	ASSERT_EQ(0, accel_cmd_nop(cb));
	irqs0 = dq_irqs(hwq);
	ASSERT_LE(0, irqs0);
	for (int i = 0; i < 32; i++)
		ASSERT_EQ(0, dq_run(dq, cb));
	EXPECT_EQ(32, accel_dq_completed(dq));
	EXPECT_EQ(irqs0, dq_irqs(hwq)) TH_LOG("a spinning process took interrupts");
	EXPECT_EQ(0, accel_dq_destroy(dq));
	accel_cmdbuf_free(cb);
}

TEST_F_TIMEOUT(direct, wait_timeout_gives_etime, 120)
{
	struct accel_cmdbuf *cb;
	struct accel_dq *dq;
	struct drm_lumen_dq_wait w;
	uint64_t seq;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	*cpu(self, GATE) = 0;
	*cpu(self, RES(0)) = 0;
	ASSERT_EQ(0, accel_cmd_wait(cb, va(self, GATE), 1));
	ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(0)), 0xe71e));
	ASSERT_EQ(0, accel_dq_submit(dq, cb, &seq));
	EXPECT_EQ(-ETIME, accel_dq_wait(dq, seq, 0));
	EXPECT_EQ(-ETIME, accel_dq_wait(dq, seq, 100 * 1000000ll));
	accel_dq_set_spin(dq, 0);
	EXPECT_EQ(-ETIME, accel_dq_wait(dq, seq, 100 * 1000000ll));
	EXPECT_EQ(-ETIME, dq_wait_raw(self->fd, accel_dq_id(dq), cpu(self, RES(0)), 0xe71e,
				      50 * 1000000ll, &w));
	EXPECT_EQ(0, w.error);
	EXPECT_EQ(-ETIME, dq_wait_raw(self->fd, accel_dq_id(dq), cpu(self, RES(0)), 0xe71e, -1,
				      NULL));
	EXPECT_EQ(0, accel_dq_completed(dq));
	EXPECT_EQ(0, *cpu(self, RES(0)));
	/* Not stopped: released, it completes. */
	*cpu(self, GATE) = 1;
	EXPECT_EQ(0, accel_dq_wait(dq, seq, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(0xe71e, *cpu(self, RES(0)));
	EXPECT_EQ(0, accel_dq_destroy(dq));
	accel_cmdbuf_free(cb);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

struct once_sleeper {
	int fd;
	uint32_t id;
	volatile uint64_t *addr;
	int ret;
};

/* One DQ_WAIT call, not restarted here on EINTR (unlike lt_ioctl()). */
static void *sleep_once(void *arg)
{
	struct once_sleeper *s = arg;
	struct drm_lumen_dq_wait w = {
		.id = s->id, .addr = (uintptr_t)s->addr, .value = 1,
		.timeout_ns = lt_now_ns() + 120 * SEC,
	};

	s->ret = ioctl(s->fd, DRM_IOCTL_LUMEN_DQ_WAIT, &w) ? -errno : 0;
	return NULL;
}

/*
 * A signal interrupts DQ_WAIT: EINTR with a handler without SA_RESTART;
 * with SA_RESTART the wait goes on (same absolute deadline) and ends when
 * the FENCE lands.
 */
TEST_F_TIMEOUT(direct, wait_interrupted_by_a_signal, 120)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct once_sleeper s = { .fd = self->fd, .addr = cpu(self, RES(0)) };
	struct accel_cmdbuf *cb;
	struct accel_dq *dq;
	uint64_t seq;
	pthread_t t;
	unsigned int hwq;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	s.id = accel_dq_id(dq);
	hwq = accel_dq_hw_queue(dq);
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	*cpu(self, GATE) = 0;
	*cpu(self, RES(0)) = 0;
	ASSERT_EQ(0, accel_cmd_wait(cb, va(self, GATE), 1));
	ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(0)), 1));
	ASSERT_EQ(0, accel_dq_submit(dq, cb, &seq));

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, sleep_once, &s));
	ASSERT_TRUE(wait_for_waiters(self->bdf, hwq, 1));
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	pthread_join(t, NULL);
	EXPECT_EQ(-EINTR, s.ret) TH_LOG("%s", accel_strerror(s.ret));
	EXPECT_TRUE(wait_for_waiters(self->bdf, hwq, 0));

	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, sleep_once, &s));
	ASSERT_TRUE(wait_for_waiters(self->bdf, hwq, 1));
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_TRUE(wait_for_waiters(self->bdf, hwq, 1));
	*cpu(self, GATE) = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0, s.ret) TH_LOG("%s", accel_strerror(s.ret));
	EXPECT_EQ(1, *cpu(self, RES(0)));
	EXPECT_EQ(0, accel_dq_destroy(dq));
	accel_cmdbuf_free(cb);
}

/*
 * Kernel-queue jobs (hardware queue 0, engine 0) and direct-queue jobs on
 * engine 0 of the same file, all in flight together: every copy right.
 */
TEST_F_TIMEOUT(direct, kernel_and_direct_jobs_interleaved, 180)
{
	enum { ROUNDS = 24, CHUNK = 64 * 1024 };
	struct accel_cmdbuf *kcb[ROUNDS], *dcb[ROUNDS];
	struct accel_fence *kdone[ROUNDS];
	struct accel_bo *src, *dst;
	void *src_map, *dst_map;
	unsigned char *s, *d;
	struct accel_dq *dq;
	struct lt_rng rng;
	uint64_t last = 0;

	LT_SEED(&rng);
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, 0, 0, &dq));
	/* Kernel queue 0 feeds engine 0 too (queue q: engine q % num_engines). */
	ASSERT_EQ(0, accel_dq_hw_engine(dq));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 2 * ROUNDS * CHUNK, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 2 * ROUNDS * CHUNK, 0, &dst, &dst_map));
	s = src_map;
	d = dst_map;
	lt_rng_fill(&rng, s, 2 * ROUNDS * CHUNK);
	memset(d, 0, 2 * ROUNDS * CHUNK);
	for (unsigned int i = 0; i < ROUNDS; i++) {
		uint64_t ko = 2ull * i * CHUNK, dof = ko + CHUNK;

		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &kcb[i]));
		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &dcb[i]));
		ASSERT_EQ(0, accel_fence_create(self->dev, &kdone[i]));
		ASSERT_EQ(0, accel_cmd_copy(kcb[i], accel_bo_va(dst) + ko, accel_bo_va(src) + ko,
					    CHUNK));
		ASSERT_EQ(0, accel_cmd_copy(dcb[i], accel_bo_va(dst) + dof, accel_bo_va(src) + dof,
					    CHUNK));
		ASSERT_EQ(0, accel_submit(self->dev, 0, kcb[i], NULL, 0, NULL, kdone[i]));
		ASSERT_EQ(0, accel_dq_submit(dq, dcb[i], &last));
	}
	for (unsigned int i = 0; i < ROUNDS; i++) {
		EXPECT_EQ(0, lt_job_result(kdone[i])) TH_LOG("kernel job %u", i);
	}
	ASSERT_EQ(0, accel_dq_wait(dq, last, LT_JOB_TIMEOUT_NS));
	for (unsigned int i = 0; i < 2 * ROUNDS; i++) {
		EXPECT_EQ(CHUNK, lt_mismatch(d + (uint64_t)i * CHUNK, s + (uint64_t)i * CHUNK, CHUNK))
			TH_LOG("%s job %u", i % 2 ? "direct" : "kernel", i / 2);
	}
	for (unsigned int i = 0; i < ROUNDS; i++) {
		accel_fence_free(kdone[i]);
		accel_cmdbuf_free(kcb[i]);
		accel_cmdbuf_free(dcb[i]);
	}
	EXPECT_EQ(0, accel_dq_destroy(dq));
	accel_bo_free(dst);
	accel_bo_free(src);
}

/* ---- 5: malicious rings ---------------------------------------------------------- */

/*
 * The other tenant, a child process: a direct queue of its own running
 * checked copy jobs, and a BO bound at a high VA nobody else maps, whose
 * contents it checks at the end.
 */
#define VICTIM_VA_OFF	(3ull << 40)	/* above va_start */
#define VICTIM_BYTE	0x5c

struct victim_report {
	int setup;		/* 0 or the -errno of the step that failed */
	int fail;		/* 0 or the first job failure */
	unsigned int jobs, after;	/* jobs run; of them after the parent's error */
	size_t intact;		/* bytes of the bound BO still VICTIM_BYTE */
	uint64_t va;
};

static int victim_job(struct accel_dq *dq, struct accel_cmdbuf *cb, struct accel_bo *a,
		      unsigned char *am, struct accel_bo *b, unsigned char *bm, unsigned int n)
{
	int ret;

	memset(am, n & 0xff, 65536);
	memset(bm, 0, 65536);
	accel_cmdbuf_reset(cb);
	ret = accel_cmd_copy(cb, accel_bo_va(b), accel_bo_va(a), 65536);
	if (!ret)
		ret = dq_run(dq, cb);
	if (!ret && lt_find_not(bm, n & 0xff, 65536) != 65536)
		ret = -EIO;
	return ret;
}

static void victim_main(int rx, int tx, uint64_t va)
{
	struct victim_report r = { 0 };
	struct accel_dev *dev = NULL;
	struct accel_info info;
	struct accel_bo *bound = NULL, *a = NULL, *b = NULL;
	struct accel_cmdbuf *cb = NULL;
	struct accel_dq *dq = NULL;
	void *bm, *am, *bbm;
	bool errored = false;
	struct pollfd pfd = { .fd = rx, .events = POLLIN };
	char c;

	r.va = va;
	r.setup = lt_open_first(&dev, &info) ?:
		  lt_bo_create_mapped(dev, 4096, 0, &bound, &bm) ?:
		  accel_vm_bind(dev, bound, 0, 4096, va, 0) ?:
		  lt_bo_create_mapped(dev, 65536, 0, &a, &am) ?:
		  lt_bo_create_mapped(dev, 65536, 0, &b, &bbm) ?:
		  lt_cmdbuf_create(dev, &cb) ?:
		  accel_dq_create(dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 64, &dq);
	if (!r.setup) {
		memset(bm, VICTIM_BYTE, 4096);
		r.setup = victim_job(dq, cb, a, am, b, bbm, 0);
	}
	if (write(tx, &r, sizeof(r)) != sizeof(r) || r.setup)
		_exit(1);
	/* Jobs until told of the error, then 8 more. */
	for (;;) {
		if (!errored && poll(&pfd, 1, 0) == 1) {
			if (read(rx, &c, 1) != 1)
				break;
			errored = true;
		}
		r.fail = victim_job(dq, cb, a, am, b, bbm, ++r.jobs);
		if (r.fail)
			break;
		if (errored && ++r.after == 8)
			break;
	}
	r.intact = lt_find_not(bm, VICTIM_BYTE, 4096);
	if (write(tx, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	accel_dq_destroy(dq);
	accel_cmdbuf_free(cb);
	accel_bo_free(b);
	accel_bo_free(a);
	accel_close(dev);
	_exit(0);
}

enum evil_kind { BAD_OPCODE, INDIRECT_CONTEXT, COPY_UNMAPPED, COPY_OTHER_PROCESS, BAD_TAIL };

FIXTURE(evil) {
	struct accel_dev *dev;
	struct accel_info info;
	char bdf[LT_BDF_LEN];
	char ban_before[8];
	struct accel_bo *bo;
	volatile uint64_t *map;
	struct accel_cmdbuf *ib;
	struct rdq q;
	pid_t child;
	int to_child[2], to_parent[2];
};

FIXTURE_VARIANT(evil) {
	enum evil_kind kind;
	uint32_t error;
};

FIXTURE_VARIANT_ADD(evil, bad_opcode) { .kind = BAD_OPCODE, .error = LUMEN_ERR_BAD_OPCODE };
FIXTURE_VARIANT_ADD(evil, indirect_naming_a_context) {
	.kind = INDIRECT_CONTEXT, .error = LUMEN_ERR_BAD_CMD,
};
FIXTURE_VARIANT_ADD(evil, copy_to_unmapped_va) {
	.kind = COPY_UNMAPPED, .error = LUMEN_ERR_MMU_FAULT,
};
FIXTURE_VARIANT_ADD(evil, copy_into_other_process_va) {
	.kind = COPY_OTHER_PROCESS, .error = LUMEN_ERR_MMU_FAULT,
};
FIXTURE_VARIANT_ADD(evil, garbage_tail) { .kind = BAD_TAIL, .error = LUMEN_ERR_BAD_TAIL };

FIXTURE_SETUP(evil)
{
	void *map;
	int ret;

	self->child = -1;
	self->to_child[0] = self->to_child[1] = self->to_parent[0] = self->to_parent[1] = -1;
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	if (self->info.num_direct_queues < 2)
		SKIP(return, "needs two direct hardware queues (one per tenant)");
	ASSERT_EQ(0, lt_accel_bdf(self->info.path, self->bdf, sizeof(self->bdf)));
	ret = lt_read_file(BAN_PARAM, self->ban_before, sizeof(self->ban_before));
	ASSERT_LT(0, ret);
	self->ban_before[strcspn(self->ban_before, "\n")] = '\0';
	/* With the ban on, a file made guilty would fail its next submit. */
	ASSERT_EQ(0, lt_write_file(BAN_PARAM, "Y"));
	/* A dump left by an earlier test would make this one's be dropped. */
	lt_dumps_free_all(self->bdf);
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, BO_SIZE, 0, &self->bo, &map));
	self->map = map;
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &self->ib));
	ASSERT_EQ(0, pipe(self->to_child));
	ASSERT_EQ(0, pipe(self->to_parent));
}

FIXTURE_TEARDOWN(evil)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (self->to_child[i] >= 0)
			close(self->to_child[i]);
		if (self->to_parent[i] >= 0)
			close(self->to_parent[i]);
	}
	if (self->ban_before[0])
		lt_write_file(BAN_PARAM, self->ban_before);
	if (self->q.fd)
		rdq_close(&self->q);
	accel_cmdbuf_free(self->ib);
	if (self->bo)
		accel_bo_free(self->bo);
	if (self->dev)
		accel_close(self->dev);
}

/*
 * The devcoredump of the error: the header of every lumen dump, the file
 * and queue that stopped, the error, the hardware queue's registers and the
 * ring entry it stopped on, read through the queue's VM.  A worker writes
 * it after the interrupt, so it is polled for.
 */
static void check_dq_dump(struct __test_metadata *_metadata, FIXTURE_DATA(evil) *self,
			  const FIXTURE_VARIANT(evil) *variant, uint32_t head, uint64_t fault_va,
			  uint64_t header)
{
	const uint64_t ring_va = accel_bo_va(self->q.ring);
	const uint64_t entry_va = ring_va + 64ull * head;
	char dir[PATH_MAX], path[PATH_MAX + 8], want[160], *buf, *at;
	unsigned int code = 0, index = 0;
	unsigned long long got;

	/* Said, not hidden: a kernel may be built without it. */
	if (access("/sys/class/devcoredump", F_OK)) {
		TH_LOG("no devcoredump check: the kernel has no CONFIG_DEV_COREDUMP");
		return;
	}
	for (int i = 0; i < POLL_TRIES && lt_dump_find(self->bdf, dir, sizeof(dir)); i++)
		usleep(POLL_US);
	ASSERT_EQ(0, lt_dump_find(self->bdf, dir, sizeof(dir))) TH_LOG("no devcoredump");
	buf = malloc(1 << 18);
	ASSERT_NE(NULL, buf);
	snprintf(path, sizeof(path), "%s/data", dir);
	ASSERT_LT(0, lt_read_file(path, buf, 1 << 18));
	EXPECT_EQ(0, lt_dump_free(dir));

	EXPECT_EQ(0, strncmp(buf, "**** lumen devcoredump ****\n", 28));
	EXPECT_NE(NULL, strstr(buf, "\n**** end ****\n")) TH_LOG("truncated dump");
	EXPECT_NE(NULL, strstr(buf, "\nreason: direct queue error\n"));
	EXPECT_NE(NULL, strstr(buf, "\nrecovery: queue stopped\n"));
	EXPECT_NE(NULL, strstr(buf, "\nerrno: -5\n"));
	snprintf(want, sizeof(want), "\nguilty: pid %d comm direct ", (int)getpid());
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	snprintf(want, sizeof(want), "\ndirect queue: id %u hw_queue %u engine %u context ",
		 self->q.c.id, self->q.c.hw_queue, self->q.c.hw_engine);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	snprintf(want, sizeof(want), "\nring: va %#llx entries %u\n",
		 (unsigned long long)ring_va, self->q.entries);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	/* "error: <code> (<name>) at ring entry <index>" */
	at = strstr(buf, "\nerror: ");
	ASSERT_NE(NULL, at) TH_LOG("no error line");
	EXPECT_EQ(2, sscanf(at, "\nerror: %u (%*[^)]) at ring entry %u", &code, &index));
	EXPECT_EQ(variant->error, code);
	EXPECT_EQ(head, index);
	if (fault_va) {
		snprintf(want, sizeof(want), "\nfault: va %#llx\n", (unsigned long long)fault_va);
		EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	}
	EXPECT_NE(NULL, strstr(buf, "\nglobal registers:\n  ID: 0x4c554d4e\n"));
	snprintf(want, sizeof(want), "\nqueue %u:\n  registers:\n  RING_BASE: %#018llx\n",
		 self->q.c.hw_queue, (unsigned long long)ring_va);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	/* The entry it stopped on, as the ring holds it. */
	snprintf(want, sizeof(want), "\nring entry %#llx: ", (unsigned long long)entry_va);
	at = strstr(buf, want);
	EXPECT_NE(NULL, at) TH_LOG("no '%s'", want + 1);
	if (at && header != UINT64_MAX) {
		EXPECT_EQ(1, sscanf(at + strlen(want), "%llx", &got));
		EXPECT_EQ(header, got);
	}
	free(buf);
}

TEST_F_TIMEOUT(evil, stops_only_this_queue, 180)
{
	const uint64_t done_va = accel_bo_va(self->bo) + DONE;
	volatile uint64_t *done = &self->map[DONE / 8];
	const uint64_t victim_va = self->info.va_start + VICTIM_VA_OFF;
	const uint64_t unmapped_va = self->info.va_start + (2ull << 40);
	struct victim_report r;
	struct drm_lumen_dq_wait w;
	struct lt_objects before, after;
	long long resets0;
	uint64_t want_va = 0;
	uint32_t want_head = 1;
	int status;

	ASSERT_EQ(0, lt_read_objects(self->bdf, &before));
	resets0 = lt_sysfs_stat(self->bdf, "device_resets");
	ASSERT_LE(0, resets0);
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child)
		victim_main(self->to_child[0], self->to_parent[1], victim_va);
	ASSERT_EQ(sizeof(r), read(self->to_parent[0], &r, sizeof(r)));
	ASSERT_EQ(0, r.setup) TH_LOG("the other tenant: %s", accel_strerror(r.setup));

	ASSERT_EQ(0, rdq_open(self->dev, DRM_LUMEN_ENGINE_COMPUTE, 64, &self->q));
	*done = 0;
	/* Entry 0 a good FENCE, entry 1 the bad one, entry 2 a FENCE that must not land. */
	rdq_put(&self->q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, done_va, 1, 0));
	switch (variant->kind) {
	case BAD_OPCODE:
		rdq_put(&self->q, enc(0x7f, 0, 0, 0, 0));
		break;
	case INDIRECT_CONTEXT:
		/* A well-formed IB, but the ring entry names context 1, not 0 ("stay"). */
		ASSERT_EQ(0, accel_cmd_fence(self->ib, done_va, 99));
		rdq_put(&self->q, enc(LUMEN_OP_INDIRECT, 0, accel_cmdbuf_va(self->ib), 64, 1));
		break;
	case COPY_UNMAPPED:
		rdq_put(&self->q, enc(LUMEN_OP_COPY, 0, done_va, unmapped_va, 8));
		want_va = unmapped_va;
		break;
	case COPY_OTHER_PROCESS:
		rdq_put(&self->q, enc(LUMEN_OP_COPY, 0, accel_bo_va(self->bo) + 4096, victim_va,
				      4096));
		want_va = victim_va;
		break;
	case BAD_TAIL:
		break;
	}
	if (variant->kind != BAD_TAIL)
		rdq_put(&self->q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, done_va, 2, 0));
	rdq_kick(&self->q);
	if (variant->kind == BAD_TAIL) {
		ASSERT_EQ(0, dq_wait_raw(self->q.fd, self->q.c.id, done, 1, 60 * SEC, NULL));
		ASSERT_TRUE(rdq_wait_status(&self->q, LUMEN_Q_STATUS_IDLE));
		self->q.db[LUMEN_DB_TAIL / 4] = self->q.entries;
		/* Ignored once stopped. */
		rdq_put(&self->q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, done_va, 2, 0));
		rdq_kick(&self->q);
	}

	EXPECT_EQ(-EIO, dq_wait_raw(self->q.fd, self->q.c.id, done, 2, 60 * SEC, &w));
	EXPECT_EQ(variant->error, w.error);
	EXPECT_EQ(want_head, w.error_head);
	EXPECT_EQ(want_va, w.fault_va);
	/* The views say the same without a system call. */
	EXPECT_TRUE(rdq_view(&self->q, LUMEN_DB_STATUS) & LUMEN_Q_STATUS_ERROR);
	EXPECT_EQ(variant->error, rdq_view(&self->q, LUMEN_DB_ERROR));
	EXPECT_EQ(want_head, rdq_view(&self->q, LUMEN_DB_HEAD));
	EXPECT_EQ(1, rdq_completed(&self->q));
	usleep(SETTLE_US);
	EXPECT_EQ(1, *done) TH_LOG("entries before the bad one ran, none after");
	/* Stays stopped, waits keep saying so. */
	EXPECT_EQ(-EIO, dq_wait_raw(self->q.fd, self->q.c.id, done, 2, -1, &w));
	EXPECT_EQ(variant->error, w.error);
	/* For a garbage TAIL the entry is whatever the ring holds there. */
	check_dq_dump(_metadata, self, variant, want_head, want_va,
		      variant->kind == BAD_TAIL ? UINT64_MAX : self->q.ring_map[want_head].w[0]);
	/* A value already reached still counts. */
	EXPECT_EQ(0, dq_wait_raw(self->q.fd, self->q.c.id, done, 1, -1, NULL));

	/* The other tenant goes on: 8 more checked jobs. */
	ASSERT_EQ(1, write(self->to_child[1], "e", 1));
	ASSERT_EQ(sizeof(r), read(self->to_parent[0], &r, sizeof(r)));
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = -1;
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, r.fail) TH_LOG("the other tenant's job %u: %s", r.jobs,
				    accel_strerror(r.fail));
	EXPECT_EQ(8, r.after);
	EXPECT_EQ(4096, r.intact) TH_LOG("the other process's BO changed at byte %zu", r.intact);

	/* This file's kernel jobs run: not guilty (ban on), no reset. */
	LT_ASSERT_DEVICE_WORKS(self->dev);
	EXPECT_EQ(resets0, lt_sysfs_stat(self->bdf, "device_resets"));
	ASSERT_EQ(0, lt_read_objects(self->bdf, &after));
	EXPECT_EQ(before.guilty_files, after.guilty_files);
	/* Destroyed, a new queue of the same file works. */
	rdq_close(&self->q);
	{
		struct accel_dq *dq;

		ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0,
					     &dq));
		EXPECT_EQ(0, dq_fence_check(self->dev, dq, accel_bo_va(self->bo) + RES(0),
					    &self->map[RES(0) / 8], 0x900d));
		EXPECT_EQ(0, accel_dq_destroy(dq));
	}
	EXPECT_EQ(resets0, lt_sysfs_stat(self->bdf, "device_resets"));
}

/* ---- 6: destroy while busy ---------------------------------------------------------- */

struct raw_sleeper {
	int fd;
	uint32_t id;
	volatile uint64_t *addr;
	uint64_t value;
	int ret;
};

static void *raw_sleep(void *arg)
{
	struct raw_sleeper *s = arg;

	s->ret = dq_wait_raw(s->fd, s->id, s->addr, s->value, 120 * SEC, NULL);
	return NULL;
}

TEST_F_TIMEOUT(direct, destroy_while_parked_in_wait, 120)
{
	struct accel_cmdbuf *cb;
	struct accel_dq *dq;
	uint64_t seq;
	uint32_t hwq;

	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	hwq = accel_dq_hw_queue(dq);
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	*cpu(self, GATE) = 0;
	*cpu(self, RES(0)) = 0;
	ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(1)), 1));
	ASSERT_EQ(0, accel_cmd_wait(cb, va(self, GATE), 1));
	ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(0)), 0xdead));
	/*
	 * Padded past ACCEL_DQ_INLINE_MAX: one INDIRECT into this command
	 * buffer, which outlives the queue (the ring BO does not: a queue
	 * left running would fault on it instead of writing).
	 */
	for (int i = 0; i < ACCEL_DQ_INLINE_MAX; i++)
		ASSERT_EQ(0, accel_cmd_nop(cb));
	ASSERT_EQ(0, accel_dq_submit(dq, cb, &seq));
	/* It started: the first FENCE landed; then it parks. */
	for (int i = 0; i < POLL_TRIES && *cpu(self, RES(1)) != 1; i++)
		usleep(POLL_US);
	ASSERT_EQ(1, *cpu(self, RES(1)));
	/* A sleeper in DQ_WAIT (its own thread, raw: the fd is shared) leaves with ENOENT. */
	{
		struct raw_sleeper rs = { .fd = self->fd, .id = accel_dq_id(dq),
					  .addr = cpu(self, RES(0)), .value = 0xdead };
		pthread_t t;

		ASSERT_EQ(0, pthread_create(&t, NULL, raw_sleep, &rs));
		ASSERT_TRUE(wait_for_waiters(self->bdf, hwq, 1));
		ASSERT_EQ(0, accel_dq_destroy(dq));
		pthread_join(t, NULL);
		EXPECT_EQ(-ENOENT, rs.ret) TH_LOG("%s", accel_strerror(rs.ret));
	}
	/* Released now, the WAIT would go on to the FENCE: it must not. */
	*cpu(self, GATE) = 1;
	usleep(SETTLE_US);
	EXPECT_EQ(0, *cpu(self, RES(0))) TH_LOG("a destroyed queue wrote memory");
	accel_cmdbuf_free(cb);
	/* The hardware queue is free and clean for the next owner. */
	{
		char block[1024];

		EXPECT_EQ(0, dq_debugfs(self->bdf, hwq, block, sizeof(block))) TH_LOG("%s", block);
	}
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(2)), cpu(self, RES(2)), 0x600d));
	EXPECT_EQ(0, accel_dq_destroy(dq));
}

TEST_F_TIMEOUT(direct, destroy_during_large_fills, 120)
{
	const size_t size = 16 * LT_MIB;
	struct accel_bo *target;
	struct accel_cmdbuf *cb;
	struct accel_dq *dq;
	unsigned char *snap;
	void *map;
	uint64_t seq;
	size_t diff;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &target, &map));
	snap = malloc(size);
	ASSERT_NE(NULL, snap);
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	for (int i = 1; i <= 16; i++)
		ASSERT_EQ(0, accel_cmd_fill(cb, accel_bo_va(target), size, 0x0101010101010101ull * i));
	ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(0)), 1));
	*cpu(self, RES(0)) = 0;
	ASSERT_EQ(0, accel_dq_submit(dq, cb, &seq));
	/* Once it is writing, destroy it under its FILLs. */
	for (int i = 0; i < POLL_TRIES * 100 && !((volatile unsigned char *)map)[0]; i++)
		usleep(POLL_US / 100);
	ASSERT_EQ(0, accel_dq_destroy(dq));
	memcpy(snap, map, size);
	usleep(SETTLE_US);
	diff = lt_mismatch(snap, map, size);
	EXPECT_EQ(size, diff) TH_LOG("byte %zu changed after the destroy", diff);
	TH_LOG("destroyed at fill pattern 0x%02x..0x%02x, fence %llu",
	       snap[0], snap[size - 1], (unsigned long long)*cpu(self, RES(0)));
	accel_cmdbuf_free(cb);
	free(snap);
	accel_bo_free(target);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- 7: memory unmapped under a running queue --------------------------------------- */

/*
 * The ring BO freed while the queue is parked in a WAIT of entry 0: the
 * free returns (a parked queue uses no translation), and once released the
 * queue cannot fetch its next entry: an MMU fault inside the ring.
 */
TEST_F_TIMEOUT(direct, ring_bo_freed_while_parked, 120)
{
	struct drm_lumen_dq_wait w;
	uint64_t ring_va;
	struct rdq q;

	ASSERT_EQ(0, rdq_open(self->dev, DRM_LUMEN_ENGINE_COMPUTE, 64, &q));
	ring_va = accel_bo_va(q.ring);
	*cpu(self, GATE) = 0;
	*cpu(self, DONE) = 0;
	rdq_put(&q, enc(LUMEN_OP_WAIT, 0, va(self, GATE), 1, 0));
	rdq_put(&q, enc(LUMEN_OP_FENCE, LUMEN_FENCE_IRQ, va(self, DONE), 5, 0));
	rdq_kick(&q);
	ASSERT_TRUE(rdq_wait_status(&q, LUMEN_Q_STATUS_WAITING));
	accel_bo_free(q.ring);
	q.ring = NULL;
	*cpu(self, GATE) = 1;
	EXPECT_EQ(-EIO, dq_wait_raw(self->fd, q.c.id, cpu(self, DONE), 5, 60 * SEC, &w));
	EXPECT_EQ(LUMEN_ERR_MMU_FAULT, w.error);
	EXPECT_LE(ring_va, w.fault_va);
	EXPECT_GT(ring_va + 64 * 64, w.fault_va);
	EXPECT_EQ(0, *cpu(self, DONE));
	rdq_close(&q);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * GEM_CLOSE of a BO that a running queue's FILLs write, while the BO's CPU
 * mapping keeps its pages: when GEM_CLOSE returns, no write lands any
 * more.  The queue then finishes (if it was past the BO) or stops on an
 * MMU fault inside the BO.
 */
TEST_F_TIMEOUT(direct, target_bo_closed_while_written, 120)
{
	const size_t size = 8 * LT_MIB;
	struct drm_lumen_bo_create c = { .size = size };
	struct drm_lumen_bo_mmap_offset mo = { 0 };
	struct accel_cmdbuf *cb;
	struct accel_dq *dq;
	uint32_t code = 0, head;
	uint64_t seq, fva = 0;
	unsigned char *snap;
	void *map;
	size_t diff;
	int ret;

	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &c));
	mo.handle = c.handle;
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &mo));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, (off_t)mo.offset);
	ASSERT_NE(MAP_FAILED, map);
	snap = malloc(size);
	ASSERT_NE(NULL, snap);
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	for (int i = 1; i <= 32; i++)
		ASSERT_EQ(0, accel_cmd_fill(cb, c.va, size, 0x0101010101010101ull * i));
	ASSERT_EQ(0, accel_dq_submit(dq, cb, &seq));
	for (int i = 0; i < POLL_TRIES * 100 && !((volatile unsigned char *)map)[0]; i++)
		usleep(POLL_US / 100);
	ASSERT_EQ(0, lt_gem_close(self->fd, c.handle));
	memcpy(snap, map, size);
	usleep(SETTLE_US);
	diff = lt_mismatch(snap, map, size);
	EXPECT_EQ(size, diff) TH_LOG("byte %zu changed after GEM_CLOSE returned", diff);
	ret = accel_dq_wait(dq, seq, LT_JOB_TIMEOUT_NS);
	if (ret == -EIO) {
		ASSERT_EQ(0, accel_dq_error(dq, &code, &head, &fva));
		EXPECT_EQ(LUMEN_ERR_MMU_FAULT, code);
		EXPECT_LE(c.va, fva);
		EXPECT_GT(c.va + size, fva);
	} else {
		EXPECT_EQ(0, ret) TH_LOG("%s", accel_strerror(ret));
	}
	TH_LOG("the queue %s (fill 0x%02x when closed)",
	       ret ? "stopped on the unmapped BO" : "had finished", snap[0]);
	EXPECT_EQ(0, accel_dq_destroy(dq));
	accel_cmdbuf_free(cb);
	munmap(map, size);
	free(snap);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * An unmap returns only once every running direct queue of the file
 * retired the entry it was executing or is quiet (Documentation/uapi.rst,
 * "Unmapping memory a direct queue may use") -- even for memory the queue
 * does not use: the kernel cannot know.  A raw ring of 16 MiB FILLs of
 * another BO runs while a small BO is closed (GEM_CLOSE) and a binding
 * removed (VM_UNBIND); right after each returns, the doorbell views must
 * show COMPLETED moved or the queue quiet.
 */
TEST_F_TIMEOUT(direct, unmap_waits_for_the_running_entry, 180)
{
	const uint64_t size = 16 * LT_MIB;
	const uint32_t quiet = LUMEN_Q_STATUS_IDLE | LUMEN_Q_STATUS_ERROR |
			       LUMEN_Q_STATUS_WAITING;
	struct accel_bo *target, *small, *bound;
	const uint64_t bind_va = self->info.va_start + (5ull << 40);
	struct rdq q;

	ASSERT_EQ(0, accel_bo_create(self->dev, size, 0, &target));
	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, 0, &bound));
	ASSERT_EQ(0, accel_vm_bind(self->dev, bound, 0, 4096, bind_va, 0));
	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, 0, &small));
	ASSERT_EQ(0, rdq_open(self->dev, DRM_LUMEN_ENGINE_COMPUTE, 64, &q));
	for (int i = 1; i <= 63; i++)
		rdq_put(&q, enc(LUMEN_OP_FILL, 0, accel_bo_va(target), size,
				0x0101010101010101ull * i));
	rdq_kick(&q);
	for (int step = 0; step < 2; step++) {
		uint64_t c0, c1;
		uint32_t status;

		/* Running an entry, not the last one. */
		for (int i = 0; i < POLL_TRIES * 10 && rdq_completed(&q) < 1u + 4 * step; i++)
			usleep(POLL_US / 10);
		c0 = rdq_completed(&q);
		ASSERT_LE(1u + 4 * step, c0);
		ASSERT_GT(60, c0) TH_LOG("the FILLs ran too fast to test anything");
		ASSERT_EQ(0, rdq_view(&q, LUMEN_DB_STATUS) & quiet);
		if (step == 0) {
			accel_bo_free(small);
		} else {
			ASSERT_EQ(0, accel_vm_unbind(self->dev, bind_va, 4096));
		}
		c1 = rdq_completed(&q);
		status = rdq_view(&q, LUMEN_DB_STATUS);
		EXPECT_TRUE(c1 > c0 || (status & quiet) || !(status & LUMEN_Q_STATUS_ENABLED))
			TH_LOG("%s returned while entry %llu was still running (status %#x)",
			       step ? "VM_UNBIND" : "GEM_CLOSE", (unsigned long long)c0, status);
		EXPECT_EQ(0, status & LUMEN_Q_STATUS_ERROR) TH_LOG("the queue stopped");
	}
	rdq_close(&q);
	accel_bo_free(bound);
	accel_bo_free(target);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- 8: a process exiting with busy queues -------------------------------------------- */

TEST_F_TIMEOUT(direct, exit_with_busy_queues_frees_them, 120)
{
	const unsigned int n = self->info.num_direct_queues;
	struct lt_objects before, now;
	struct accel_dq *dqs[64];
	int ready[2], status;
	pid_t pid;
	char c;

	ASSERT_GE(64, n);
	/* This file's context gets bound by its queues: bind it before counting. */
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dqs[0]));
	EXPECT_EQ(0, dq_fence_check(self->dev, dqs[0], va(self, RES(0)), cpu(self, RES(0)), 1));
	EXPECT_EQ(0, accel_dq_destroy(dqs[0]));
	ASSERT_EQ(0, lt_read_objects(self->bdf, &before));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct accel_dev *dev;
		struct accel_info info;
		struct accel_bo *bo;
		struct accel_cmdbuf *cb;
		void *m;
		int ok = !lt_open_first(&dev, &info) && !lt_bo_create_mapped(dev, 32 * LT_MIB, 0, &bo, &m);

		/* Every direct queue: half parked in a WAIT, half filling. */
		for (unsigned int i = 0; ok && i < n; i++) {
			struct accel_dq *dq;
			uint64_t seq;

			ok = !accel_dq_create(dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq) &&
			     !lt_cmdbuf_create(dev, &cb);
			for (int k = 0; ok && k < 64; k++)
				ok = !(i % 2 ? accel_cmd_fill(cb, accel_bo_va(bo), 32 * LT_MIB, k) :
					       accel_cmd_wait(cb, accel_bo_va(bo), ~0ull));
			ok = ok && !accel_dq_submit(dq, cb, &seq);
		}
		c = ok ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		_exit(0);	/* no cleanup: the file closes with the queues busy */
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	ASSERT_EQ('y', c);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	/* Every hardware queue is ours now. */
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0,
					     &dqs[i])) TH_LOG("queue %u of %u", i, n);
		EXPECT_EQ(0, dq_fence_check(self->dev, dqs[i], va(self, RES(i)), cpu(self, RES(i)),
					    0xf00 + i));
	}
	for (unsigned int i = 0; i < n; i++)
		EXPECT_EQ(0, accel_dq_destroy(dqs[i]));
	EXPECT_EQ(0, lt_wait_objects(self->bdf, &before, &now))
		TH_LOG("files %lld/%lld contexts %lld/%lld jobs+vms %lld/%lld sys %lld/%lld dq %lld/%lld",
		       now.files, before.files, now.bound_contexts, before.bound_contexts,
		       now.jobs_and_vms, before.jobs_and_vms, now.system_bo_bytes,
		       before.system_bo_bytes, now.direct_queues, before.direct_queues);
}

/* Destroys ids 1..8 of a file, over and over, until told to stop. */
struct guesser {
	int fd;
	atomic_bool stop;
	atomic_ulong hits;
};

static void *destroy_guessed_ids(void *arg)
{
	struct guesser *g = arg;

	while (!g->stop)
		for (uint32_t id = 1; id <= 8; id++)
			if (!dq_destroy_raw(g->fd, id))
				g->hits++;
	return NULL;
}

/*
 * A second thread of the file destroys queues by guessing their ids while
 * they are being created: every create that succeeds still answers a
 * valid queue (the kernel must not read a queue another thread may
 * already have freed; KASAN in the debug lane sees it if it does), and
 * nothing leaks.
 */
TEST_F_TIMEOUT(direct, create_races_destroy_of_guessed_ids, 180)
{
	const unsigned int first = self->info.num_queues;
	const unsigned int end = first + self->info.num_direct_queues;
	struct guesser g = { .fd = self->fd };
	struct lt_objects before, now;
	struct drm_lumen_dq_create c;
	unsigned int created = 0;
	pthread_t thread;
	int64_t until;
	int ret;

	/* This file's context gets bound by its queues: bind it before counting. */
	ASSERT_EQ(0, dq_create_raw(self->fd, DRM_LUMEN_ENGINE_DMA, 0, va(self, BO_SIZE / 2), 64, &c));
	ASSERT_EQ(0, dq_destroy_raw(self->fd, c.id));
	ASSERT_EQ(0, lt_read_objects(self->bdf, &before));
	ASSERT_EQ(0, pthread_create(&thread, NULL, destroy_guessed_ids, &g));
	until = lt_now_ns() + 2 * SEC;
	while (lt_now_ns() < until || created < 200) {
		memset(&c, 0xa5, sizeof(c));
		ret = dq_create_raw(self->fd, created % 2 ? DRM_LUMEN_ENGINE_DMA :
				    DRM_LUMEN_ENGINE_COMPUTE, DRM_LUMEN_ENGINE_ANY,
				    va(self, BO_SIZE / 2), 64, &c);
		if (ret == -ENOSPC)	/* every queue taken: the guesser frees them */
			continue;
		ASSERT_EQ(0, ret);
		created++;
		ASSERT_NE(0, c.id);
		ASSERT_GT(1u << 31, c.id);
		ASSERT_LE(first, c.hw_queue);
		ASSERT_GT(end, c.hw_queue);
		ASSERT_EQ(0, c.doorbell_offset % 4096);
		ASSERT_GT(1ull << 32, c.doorbell_offset);
		ASSERT_EQ(0, c.pad);
		if (created > 100000)
			break;
	}
	g.stop = true;
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TH_LOG("%u created, %lu destroyed by the other thread", created, (unsigned long)g.hits);
	EXPECT_LT(0, (unsigned long)g.hits);
	for (uint32_t id = 1; id <= 8; id++)
		dq_destroy_raw(self->fd, id);
	EXPECT_EQ(0, lt_wait_objects(self->bdf, &before, &now))
		TH_LOG("dq %lld/%lld", now.direct_queues, before.direct_queues);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- 9: runtime PM --------------------------------------------------------------------- */

static int power_read(const char *bdf, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/%s", bdf, file);
	ret = lt_read_file(path, buf, len);
	buf[strcspn(buf, "\n")] = '\0';
	return ret < 0 ? ret : 0;
}

static int power_write(const char *bdf, const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/%s", bdf, file);
	return lt_write_file(path, val);
}

static bool wait_suspended(const char *bdf)
{
	char status[32];

	for (int i = 0; i < 6000; i++) {
		if (!power_read(bdf, "runtime_status", status, sizeof(status)) &&
		    !strcmp(status, "suspended"))
			return true;
		usleep(10000);
	}
	return false;
}

TEST_F_TIMEOUT(direct, runtime_pm_held_while_a_queue_lives, 180)
{
	const char *name = "runtime_suspends";
	struct accel_dq *dq;
	long long suspends;
	char status[32];

	ASSERT_EQ(0, power_read(self->bdf, "control", self->pm_control, sizeof(self->pm_control)));
	ASSERT_EQ(0, power_read(self->bdf, "autosuspend_delay_ms", self->pm_delay,
				sizeof(self->pm_delay)));
	/* Fault injection (an earlier test) leaves runtime PM forbidden. */
	ASSERT_EQ(0, power_write(self->bdf, "control", "auto"));
	ASSERT_EQ(0, power_write(self->bdf, "autosuspend_delay_ms", "20"));

	EXPECT_TRUE(wait_suspended(self->bdf)) TH_LOG("idle, it never suspended");
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	ASSERT_EQ(0, power_read(self->bdf, "runtime_status", status, sizeof(status)));
	EXPECT_STREQ("active", status);
	suspends = lt_sysfs_stat(self->bdf, name);
	/* Twenty-five times the delay, idle: still resumed. */
	usleep(500 * 1000);
	ASSERT_EQ(0, power_read(self->bdf, "runtime_status", status, sizeof(status)));
	EXPECT_STREQ("active", status);
	EXPECT_EQ(suspends, lt_sysfs_stat(self->bdf, name));
	/* The doorbell, written without the kernel, reaches a live device. */
	EXPECT_EQ(0, dq_fence_check(self->dev, dq, va(self, RES(0)), cpu(self, RES(0)), 0x9d));
	EXPECT_EQ(0, accel_dq_destroy(dq));
	EXPECT_TRUE(wait_suspended(self->bdf)) TH_LOG("no suspend after the queue went");
	EXPECT_LT(suspends, lt_sysfs_stat(self->bdf, name));
}

/* ---- 10: fault injection ---------------------------------------------------------------- */

TEST_F_TIMEOUT(direct, fatal_error_stops_queue_with_reset, 180)
{
	struct sleeper s = { .timeout = 120 * SEC };
	struct accel_cmdbuf *cb;
	uint32_t code = 0, head = 0;
	uint64_t fva = 1;
	long long resets0;
	pthread_t t;
	int i;

	if (!(self->info.caps & ACCEL_CAP_FAULT_INJECTION))
		SKIP(return, "the device has no fault injection (fault-injection=on)");
	resets0 = lt_sysfs_stat(self->bdf, "device_resets");
	ASSERT_LE(0, resets0);
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &s.dq));
	accel_dq_set_spin(s.dq, 0);
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	*cpu(self, GATE) = 0;
	*cpu(self, RES(0)) = 0;
	ASSERT_EQ(0, accel_cmd_wait(cb, va(self, GATE), 1));
	ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(0)), 0xfa7a1));
	ASSERT_EQ(0, accel_dq_submit(s.dq, cb, &s.seq));
	ASSERT_EQ(0, pthread_create(&t, NULL, sleep_in_wait, &s));
	ASSERT_TRUE(wait_for_waiters(self->bdf, accel_dq_hw_queue(s.dq), 1));
	ASSERT_EQ(0, lt_fault_inject(self->bdf, "fatal"));
	pthread_join(t, NULL);
	EXPECT_EQ(-EIO, s.ret) TH_LOG("%s", accel_strerror(s.ret));
	ASSERT_EQ(0, accel_dq_error(s.dq, &code, &head, &fva));
	EXPECT_EQ(DRM_LUMEN_DQ_ERROR_RESET, code);
	EXPECT_EQ(0, fva);
	for (i = 0; i < POLL_TRIES && lt_sysfs_stat(self->bdf, "device_resets") == resets0; i++)
		usleep(POLL_US);
	EXPECT_EQ(resets0 + 1, lt_sysfs_stat(self->bdf, "device_resets"));
	/* The queue's commands are gone: released, the WAIT does not go on. */
	*cpu(self, GATE) = 1;
	usleep(SETTLE_US);
	EXPECT_EQ(0, *cpu(self, RES(0)));
	EXPECT_EQ(-EIO, accel_dq_wait(s.dq, s.seq, 0));
	EXPECT_EQ(0, accel_dq_destroy(s.dq));
	accel_cmdbuf_free(cb);
	/* A new queue works, and so do kernel queues. */
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &s.dq));
	EXPECT_EQ(0, dq_fence_check(self->dev, s.dq, va(self, RES(1)), cpu(self, RES(1)), 0xa11e));
	EXPECT_EQ(0, accel_dq_destroy(s.dq));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * A hang injected on the queue's hardware queue: there is no kernel
 * timeout for direct queues, the wait says -ETIME, the device is not
 * reset; destroy resets the hardware queue, which then works for its
 * next owner.
 */
TEST_F_TIMEOUT(direct, hang_then_destroy_recovers_the_hw_queue, 180)
{
	const unsigned int n = self->info.num_direct_queues;
	struct accel_dq *dq, *dqs[64];
	long long resets0;
	uint32_t hwq;
	char cmd[32];
	uint64_t seq;
	bool found = false;

	if (!(self->info.caps & ACCEL_CAP_FAULT_INJECTION))
		SKIP(return, "the device has no fault injection (fault-injection=on)");
	ASSERT_GE(64, n);
	resets0 = lt_sysfs_stat(self->bdf, "device_resets");
	ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0, &dq));
	hwq = accel_dq_hw_queue(dq);
	snprintf(cmd, sizeof(cmd), "hang %u", hwq);
	ASSERT_EQ(0, lt_fault_inject(self->bdf, cmd));
	{
		struct accel_cmdbuf *cb;

		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
		*cpu(self, RES(0)) = 0;
		ASSERT_EQ(0, accel_cmd_fence(cb, va(self, RES(0)), 0x4a));
		ASSERT_EQ(0, accel_dq_submit(dq, cb, &seq));
		EXPECT_EQ(-ETIME, accel_dq_wait(dq, seq, 500 * 1000000ll));
		accel_dq_set_spin(dq, 0);
		EXPECT_EQ(-ETIME, accel_dq_wait(dq, seq, 500 * 1000000ll));
		EXPECT_EQ(0, *cpu(self, RES(0)));
		EXPECT_EQ(0, accel_dq_destroy(dq));
		accel_cmdbuf_free(cb);
	}
	EXPECT_EQ(resets0, lt_sysfs_stat(self->bdf, "device_resets"));
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_EQ(0, accel_dq_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY, 0,
					     &dqs[i]));
		found |= accel_dq_hw_queue(dqs[i]) == hwq;
		EXPECT_EQ(0, dq_fence_check(self->dev, dqs[i], va(self, RES(1 + i)),
					    cpu(self, RES(1 + i)), 0x4b + i))
			TH_LOG("hw queue %u", accel_dq_hw_queue(dqs[i]));
	}
	EXPECT_TRUE(found);
	for (unsigned int i = 0; i < n; i++)
		EXPECT_EQ(0, accel_dq_destroy(dqs[i]));
}

TEST_HARNESS_MAIN
