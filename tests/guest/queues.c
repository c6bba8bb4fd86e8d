// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * User queues (DRM_IOCTL_LUMEN_QUEUE_CREATE/DESTROY, DRM_LUMEN_SUBMIT_QUEUE_ID)
 * and the scheduling guarantees of Documentation/scheduling.rst:
 *
 * - create, submit, destroy; every bad argument refused with its errno and
 *   nothing else changed (no queue made or lost, the existing queue still
 *   runs jobs, no job queued);
 * - jobs on every engine, an operator on the DMA engine failing with -EIO;
 * - placement: one file's queues cover every hardware queue, two files on
 *   one engine get different hardware queues (read back from the debugfs
 *   queue view as well as from the ioctl);
 * - fairness: a tenant flooding an engine does not hold back another
 *   tenant's job, on its own hardware queue or on a shared one;
 * - priority: a high-priority job overtakes the normal jobs not yet on
 *   the hardware queue's ring.
 *
 * Order is read from the device's clock (TIMESTAMP commands), never from
 * wall-clock thresholds; "not yet" is made with a gate (a WAIT on a word the
 * CPU writes), so the states the tests compare are set up, not raced for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xf86drm.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define SEC		1000000000ll
#define MAX_QUEUES	64	/* per file, Documentation/uapi.rst */
#define MAX_JOBS	64	/* unfinished jobs per user queue */
/* A hardware queue's ring holds this many jobs (1023 ring credits, 2 each). */
#define RING_JOBS	511

/* ---- Raw ioctls -------------------------------------------------------- */

static int qcreate(int fd, uint32_t cls, uint32_t engine, uint32_t prio,
		   struct drm_lumen_queue_create *out)
{
	struct drm_lumen_queue_create args = {
		.engine_class = cls, .engine = engine, .priority = prio,
	};
	int ret = lt_ioctl(fd, DRM_IOCTL_LUMEN_QUEUE_CREATE, &args);

	if (out)
		*out = args;
	return ret;
}

static int qdestroy(int fd, uint32_t id)
{
	struct drm_lumen_queue_destroy args = { .id = id };

	return lt_ioctl(fd, DRM_IOCTL_LUMEN_QUEUE_DESTROY, &args);
}

/*
 * Submits the @ncmds commands at command index @first of @cb to user
 * queue @id (or hardware queue @id without @user), signalling timeline
 * @syncobj at @point (if @syncobj).  Not lt_ioctl(): -EAGAIN is an answer.
 */
static int submit_raw(int fd, bool user, uint32_t id, const struct accel_cmdbuf *cb,
		      uint32_t first, uint32_t ncmds, uint32_t syncobj, uint64_t point)
{
	struct drm_lumen_sync sync = {
		.flags = DRM_LUMEN_SYNC_OUT | DRM_LUMEN_SYNC_TIMELINE,
		.handle = syncobj, .point = point,
	};
	struct drm_lumen_submit args = {
		.cmdbuf_va = accel_cmdbuf_va(cb) + 64ull * first,
		.cmdbuf_size = 64 * ncmds,
		.queue = id,
		.flags = (user ? DRM_LUMEN_SUBMIT_QUEUE_ID : 0) |
			 (syncobj ? DRM_LUMEN_SUBMIT_SYNCS : 0),
		.syncs = syncobj ? (uintptr_t)&sync : 0,
		.sync_count = syncobj ? 1 : 0,
	};
	int ret;

	do {
		ret = ioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &args) ? -errno : 0;
	} while (ret == -EINTR);
	return ret;
}

/* Waits until timeline point @point of @syncobj has signalled: 0 or -errno. */
static int wait_point(int fd, uint32_t syncobj, uint64_t point)
{
	int64_t deadline = lt_now_ns() + 60 * SEC;

	if (drmSyncobjTimelineWait(fd, &syncobj, &point, 1, deadline,
				   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL))
		return -errno;
	return 0;
}

/*
 * submit_raw() on a user queue, and while the queue is full (-EAGAIN)
 * waits for point @point - MAX_JOBS / 2 of the same timeline, which
 * frees slots.
 */
static int submit_retry(int fd, uint32_t id, const struct accel_cmdbuf *cb, uint32_t first,
			uint32_t ncmds, uint32_t syncobj, uint64_t point)
{
	for (int tries = 0; tries < 1000; tries++) {
		int ret = submit_raw(fd, true, id, cb, first, ncmds, syncobj, point);

		if (ret != -EAGAIN)
			return ret;
		if (point <= MAX_JOBS / 2)
			return -EPROTO;	/* full without MAX_JOBS jobs before */
		ret = wait_point(fd, syncobj, point - MAX_JOBS / 2);
		if (ret)
			return ret;
	}
	return -EAGAIN;
}

/* ---- The debugfs queue view ---------------------------------------------- */

struct hwq_state {
	uint64_t issued;	/* "seqno: last issued" */
	int user_queues;	/* "user queues" */
};

/* Reads every hardware queue's state; -ENOENT without debugfs. */
static int read_hwqs(struct hwq_state *st, unsigned int n)
{
	char bdf[1][LT_BDF_LEN], path[128], line[256];
	unsigned int q = ~0u, seen = 0;
	FILE *f;

	if (lt_pci_devices(bdf, 1) < 1)
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%s/queues", bdf[0]);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		int u;

		if (sscanf(line, "queue %u:", &q) == 1)
			continue;
		if (q >= n)
			continue;
		if (sscanf(line, "  seqno: last issued %llu", &v) == 1)
			st[q].issued = v;
		if (sscanf(line, "  user queues %d", &u) == 1) {
			st[q].user_queues = u;
			seen++;
		}
	}
	fclose(f);
	return seen == n ? 0 : -EPROTO;
}

static int total_user_queues(unsigned int n)
{
	struct hwq_state st[64] = { 0 };
	int sum = 0;

	if (n > 64 || read_hwqs(st, n))
		return -1;
	for (unsigned int q = 0; q < n; q++)
		sum += st[q].user_queues;
	return sum;
}

/* ---- Fixture ------------------------------------------------------------- */

FIXTURE(queues) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
	struct accel_bo *bo;		/* gate at 0, results from 4096 */
	volatile uint64_t *map;
	struct accel_cmdbuf *cb;
	bool debugfs;
};

#define BO_SIZE		(2 * 1024 * 1024)
#define GATE		0
#define RES(i)		(4096 + 8 * (uint64_t)(i))

FIXTURE_SETUP(queues)
{
	void *map;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, BO_SIZE, 0, &self->bo, &map));
	self->map = map;
	ASSERT_EQ(0, accel_cmdbuf_create(self->dev, 256 * 1024, &self->cb));
	self->debugfs = total_user_queues(self->info.num_queues) >= 0;
}

FIXTURE_TEARDOWN(queues)
{
	if (!self->dev)
		return;
	if (self->map)
		self->map[GATE / 8] = ~0ull;	/* a failed test's gated jobs finish */
	accel_cmdbuf_free(self->cb);
	accel_bo_free(self->bo);
	accel_close(self->dev);
}

static uint64_t va(FIXTURE_DATA(queues) *self, uint64_t off)
{
	return accel_bo_va(self->bo) + off;
}

/*
 * Runs one job on user queue @q through libaccel that FENCEs @value at
 * RES(@slot); returns the job's result and checks the value landed.
 */
static int run_on(FIXTURE_DATA(queues) *self, struct accel_queue *q, unsigned int slot,
		  uint64_t value)
{
	struct accel_cmdbuf *cb;
	struct accel_fence *done;
	int ret;

	ret = lt_cmdbuf_create(self->dev, &cb);
	if (ret)
		return ret;
	ret = accel_fence_create(self->dev, &done);
	if (ret) {
		accel_cmdbuf_free(cb);
		return ret;
	}
	self->map[RES(slot) / 8] = 0;
	ret = accel_cmd_fence(cb, va(self, RES(slot)), value);
	if (!ret)
		ret = accel_submit_queue(q, cb, NULL, 0, NULL, 0,
					 &(struct accel_sync){ .fence = done }, 1);
	if (!ret)
		ret = lt_job_result(done);
	if (!ret && self->map[RES(slot) / 8] != value)
		ret = -EIO;
	accel_fence_free(done);
	accel_cmdbuf_free(cb);
	return ret;
}

/* Hardware queues bound to an engine of @cls: queue q runs on q % num_engines. */
static unsigned int hwqs_of(const struct accel_info *info, uint32_t cls, uint32_t engine)
{
	unsigned int n = 0;

	for (unsigned int q = 0; q < info->num_queues; q++) {
		unsigned int e = q % info->num_engines;
		bool dma = e == info->num_cores;

		if (dma != (cls == DRM_LUMEN_ENGINE_DMA))
			continue;
		if (engine == DRM_LUMEN_ENGINE_ANY ||
		    e == (cls == DRM_LUMEN_ENGINE_DMA ? info->num_cores : engine))
			n++;
	}
	return n;
}

/* ---- Create, submit, destroy --------------------------------------------- */

TEST_F(queues, create_submit_destroy)
{
	struct accel_queue *q;
	unsigned int hwq, eng;
	int before = total_user_queues(self->info.num_queues);

	ASSERT_EQ(0, accel_queue_create(self->dev, ACCEL_ENGINE_COMPUTE, ACCEL_ENGINE_ANY,
					ACCEL_PRIORITY_NORMAL, &q));
	EXPECT_LT(0, accel_queue_id(q));
	ASSERT_EQ(0, accel_queue_placement(q, &hwq, &eng));
	EXPECT_LT(hwq, self->info.num_queues);
	EXPECT_LT(eng, self->info.num_cores);
	EXPECT_EQ(eng, hwq % self->info.num_engines);
	if (self->debugfs)
		EXPECT_EQ(before + 1, total_user_queues(self->info.num_queues));

	for (unsigned int i = 0; i < 4; i++)
		EXPECT_EQ(0, run_on(self, q, i, 0x5100 + i));

	/* Destroy, then the id is gone for submit and destroy alike. */
	{
		uint32_t id = accel_queue_id(q);

		ASSERT_EQ(0, accel_queue_destroy(q));
		if (self->debugfs)
			EXPECT_EQ(before, total_user_queues(self->info.num_queues));
		ASSERT_EQ(0, accel_cmd_fence(self->cb, va(self, RES(9)), 1));
		self->map[RES(9) / 8] = 0;
		EXPECT_EQ(-ENOENT, submit_raw(self->fd, true, id, self->cb, 0, 1, 0, 0));
		EXPECT_EQ(-ENOENT, qdestroy(self->fd, id));
		/* Nothing ran. */
		usleep(20000);
		EXPECT_EQ(0, self->map[RES(9) / 8]);
	}
	/* accel_queue_destroy(NULL) is a no-op, like free(). */
	EXPECT_EQ(0, accel_queue_destroy(NULL));
}

/* The submitted jobs still complete when their queue is destroyed under them. */
TEST_F(queues, destroy_with_jobs_in_flight)
{
	struct drm_lumen_queue_create qc;
	uint32_t tl;
	unsigned int n = 40;

	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &qc));
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &tl));
	self->map[GATE / 8] = 0;
	ASSERT_EQ(0, accel_cmd_wait(self->cb, va(self, GATE), 1));
	for (unsigned int i = 0; i < n; i++) {
		self->map[RES(i) / 8] = 0;
		ASSERT_EQ(0, accel_cmd_fence(self->cb, va(self, RES(i)), 1000 + i));
	}
	/* A gate job, then n jobs queued behind it. */
	ASSERT_EQ(0, submit_raw(self->fd, true, qc.id, self->cb, 0, 1, tl, 1));
	for (unsigned int i = 0; i < n; i++)
		ASSERT_EQ(0, submit_raw(self->fd, true, qc.id, self->cb, 1 + i, 1, tl, i + 2));
	ASSERT_EQ(0, qdestroy(self->fd, qc.id));
	EXPECT_EQ(-ENOENT, submit_raw(self->fd, true, qc.id, self->cb, 1, 1, 0, 0));
	self->map[GATE / 8] = 1;
	ASSERT_EQ(0, wait_point(self->fd, tl, n + 1));
	for (unsigned int i = 0; i < n; i++) {
		EXPECT_EQ(1000 + i, self->map[RES(i) / 8]) TH_LOG("job %u", i);
	}
	drmSyncobjDestroy(self->fd, tl);
}

/* ---- Bad input ------------------------------------------------------------- */

struct bad_create {
	const char *what;
	uint32_t cls, engine, prio, flags, pad;
	int err;
};

TEST_F(queues, bad_create)
{
	const uint32_t cores = self->info.num_cores;
	const struct bad_create rows[] = {
		{ "unknown engine class", 2, 0, 1, 0, 0, -EINVAL },
		{ "engine class ~0", ~0u, DRM_LUMEN_ENGINE_ANY, 1, 0, 0, -EINVAL },
		{ "compute engine == num_cores", DRM_LUMEN_ENGINE_COMPUTE, cores, 1, 0, 0, -EINVAL },
		{ "compute engine 2^31", DRM_LUMEN_ENGINE_COMPUTE, 1u << 31, 1, 0, 0, -EINVAL },
		{ "DMA engine 1", DRM_LUMEN_ENGINE_DMA, 1, 1, 0, 0, -EINVAL },
		{ "priority 3", DRM_LUMEN_ENGINE_COMPUTE, 0, 3, 0, 0, -EINVAL },
		{ "priority ~0", DRM_LUMEN_ENGINE_COMPUTE, 0, ~0u, 0, 0, -EINVAL },
		{ "unknown flag", DRM_LUMEN_ENGINE_COMPUTE, 0, 1, 1, 0, -EINVAL },
		{ "flag bit 31", DRM_LUMEN_ENGINE_COMPUTE, 0, 1, 1u << 31, 0, -EINVAL },
		{ "non-zero pad", DRM_LUMEN_ENGINE_COMPUTE, 0, 1, 0, 1, -EINVAL },
	};
	struct drm_lumen_queue_create good;
	int before;

	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &good));
	ASSERT_EQ(1, good.id);	/* a fresh file's first queue */
	before = total_user_queues(self->info.num_queues);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct drm_lumen_queue_create args = {
			.engine_class = rows[i].cls, .engine = rows[i].engine,
			.priority = rows[i].prio, .flags = rows[i].flags, .pad = rows[i].pad,
		};

		EXPECT_EQ(rows[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_QUEUE_CREATE, &args))
			TH_LOG("%s", rows[i].what);
		EXPECT_EQ(0, args.id) TH_LOG("%s: an id was returned", rows[i].what);
		if (self->debugfs)
			EXPECT_EQ(before, total_user_queues(self->info.num_queues))
				TH_LOG("%s: a queue was made", rows[i].what);
	}

	/* Nothing else changed: the next id is 2, and queue 1 still runs jobs. */
	{
		struct drm_lumen_queue_create next;

		ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_DMA, DRM_LUMEN_ENGINE_ANY, 0, &next));
		EXPECT_EQ(2, next.id);
		EXPECT_EQ(self->info.num_cores, next.hw_engine);
		EXPECT_EQ(next.hw_engine, next.hw_queue % self->info.num_engines);
	}
	{
		uint32_t tl;

		ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &tl));
		ASSERT_EQ(0, accel_cmd_fence(self->cb, va(self, RES(0)), 77));
		self->map[RES(0) / 8] = 0;
		ASSERT_EQ(0, submit_raw(self->fd, true, 1, self->cb, 0, 1, tl, 1));
		ASSERT_EQ(0, wait_point(self->fd, tl, 1));
		EXPECT_EQ(77, self->map[RES(0) / 8]);
		drmSyncobjDestroy(self->fd, tl);
	}
}

TEST_F(queues, bad_destroy_and_submit)
{
	struct drm_lumen_queue_create qc;
	struct drm_lumen_queue_destroy bad_pad;
	uint32_t tl;
	int before;

	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, DRM_LUMEN_ENGINE_ANY, 1, &qc));
	before = total_user_queues(self->info.num_queues);

	bad_pad = (struct drm_lumen_queue_destroy){ .id = qc.id, .pad = 1 };
	EXPECT_EQ(-EINVAL, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_QUEUE_DESTROY, &bad_pad));
	EXPECT_EQ(-ENOENT, qdestroy(self->fd, 0));
	EXPECT_EQ(-ENOENT, qdestroy(self->fd, qc.id + 1));
	EXPECT_EQ(-ENOENT, qdestroy(self->fd, MAX_QUEUES + 1));
	EXPECT_EQ(-ENOENT, qdestroy(self->fd, ~0u));
	if (self->debugfs)
		EXPECT_EQ(before, total_user_queues(self->info.num_queues));

	/* Submits naming no queue: -ENOENT and no job (the out-point stays unsubmitted). */
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &tl));
	ASSERT_EQ(0, accel_cmd_fence(self->cb, va(self, RES(0)), 5));
	self->map[RES(0) / 8] = 0;
	EXPECT_EQ(-ENOENT, submit_raw(self->fd, true, 0, self->cb, 0, 1, tl, 1));
	EXPECT_EQ(-ENOENT, submit_raw(self->fd, true, qc.id + 1, self->cb, 0, 1, tl, 1));
	EXPECT_EQ(-ENOENT, submit_raw(self->fd, true, MAX_QUEUES + 1, self->cb, 0, 1, tl, 1));
	{
		uint64_t point = 0;

		EXPECT_EQ(0, drmSyncobjQuery(self->fd, &tl, &point, 1));
		EXPECT_EQ(0, point);
	}
	/* The hardware queue index rule is unchanged without the flag. */
	EXPECT_EQ(-EINVAL, submit_raw(self->fd, false, self->info.num_queues, self->cb, 0, 1,
				      tl, 1));

	/* The queue survived all of that. */
	ASSERT_EQ(0, submit_raw(self->fd, true, qc.id, self->cb, 0, 1, tl, 1));
	ASSERT_EQ(0, wait_point(self->fd, tl, 1));
	EXPECT_EQ(5, self->map[RES(0) / 8]);

	/* Destroyed: -ENOENT for both, and nothing ran. */
	ASSERT_EQ(0, qdestroy(self->fd, qc.id));
	self->map[RES(0) / 8] = 0;
	EXPECT_EQ(-ENOENT, submit_raw(self->fd, true, qc.id, self->cb, 0, 1, tl, 2));
	EXPECT_EQ(-ENOENT, qdestroy(self->fd, qc.id));
	usleep(20000);
	EXPECT_EQ(0, self->map[RES(0) / 8]);
	drmSyncobjDestroy(self->fd, tl);
}

/* 64 queues per file; the 65th is -ENOSPC; a destroyed one's id comes back. */
TEST_F(queues, limit_per_file)
{
	struct drm_lumen_queue_create qc;
	int before = total_user_queues(self->info.num_queues);

	for (uint32_t i = 1; i <= MAX_QUEUES; i++) {
		ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, DRM_LUMEN_ENGINE_ANY,
				     1, &qc));
		ASSERT_EQ(i, qc.id);
	}
	EXPECT_EQ(-ENOSPC, qcreate(self->fd, DRM_LUMEN_ENGINE_DMA, 0, 1, NULL));
	if (self->debugfs)
		EXPECT_EQ(before + MAX_QUEUES, total_user_queues(self->info.num_queues));

	ASSERT_EQ(0, qdestroy(self->fd, 17));
	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_DMA, 0, 1, &qc));
	EXPECT_EQ(17, qc.id);
	EXPECT_EQ(-ENOSPC, qcreate(self->fd, DRM_LUMEN_ENGINE_DMA, 0, 1, NULL));

	/* Closing the file destroys them all. */
	accel_cmdbuf_free(self->cb);
	self->cb = NULL;
	accel_bo_free(self->bo);
	self->bo = NULL;
	self->map = NULL;
	accel_close(self->dev);
	self->dev = NULL;
	if (self->debugfs)
		EXPECT_EQ(before, total_user_queues(self->info.num_queues));
}

/*
 * A user queue holds at most 64 unfinished jobs: with the first one held
 * by a gate, the 65th submit is -EAGAIN and queues nothing; once the gate
 * opens the 64 complete and the queue takes jobs again.
 */
TEST_F(queues, unfinished_jobs_limit)
{
	struct drm_lumen_queue_create qc;
	uint32_t tl;
	uint64_t point = 0;

	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_DMA, 0, 1, &qc));
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &tl));
	self->map[GATE / 8] = 0;
	ASSERT_EQ(0, accel_cmd_wait(self->cb, va(self, GATE), 1));
	for (unsigned int i = 0; i <= MAX_JOBS; i++)
		ASSERT_EQ(0, accel_cmd_fence(self->cb, va(self, RES(i)), 1 + i));

	ASSERT_EQ(0, submit_raw(self->fd, true, qc.id, self->cb, 0, 2, tl, 1));
	for (unsigned int i = 1; i < MAX_JOBS; i++)
		ASSERT_EQ(0, submit_raw(self->fd, true, qc.id, self->cb, 1 + i, 1, tl, 1 + i));
	self->map[RES(MAX_JOBS) / 8] = 0;
	EXPECT_EQ(-EAGAIN, submit_raw(self->fd, true, qc.id, self->cb, 1 + MAX_JOBS, 1, tl,
				      1 + MAX_JOBS));
	/* The refused job is not queued: its point was never added. */
	EXPECT_EQ(0, drmSyncobjQuery(self->fd, &tl, &point, 1));
	EXPECT_EQ(0, point);
	/* Other queues of the file are not affected. */
	{
		struct accel_queue *other;

		ASSERT_EQ(0, accel_queue_create(self->dev, ACCEL_ENGINE_COMPUTE, 0,
						ACCEL_PRIORITY_NORMAL, &other));
		EXPECT_EQ(0, run_on(self, other, 200, 9));
		EXPECT_EQ(0, accel_queue_destroy(other));
	}

	self->map[GATE / 8] = 1;
	ASSERT_EQ(0, wait_point(self->fd, tl, MAX_JOBS));
	for (unsigned int i = 0; i < MAX_JOBS; i++) {
		EXPECT_EQ(1 + i, self->map[RES(i) / 8]) TH_LOG("job %u", i);
	}
	EXPECT_EQ(0, self->map[RES(MAX_JOBS) / 8]);
	/* Room again (the finished jobs gave their slots back). */
	ASSERT_EQ(0, submit_retry(self->fd, qc.id, self->cb, 1 + MAX_JOBS, 1, tl, 1 + MAX_JOBS));
	ASSERT_EQ(0, wait_point(self->fd, tl, 1 + MAX_JOBS));
	EXPECT_EQ(1 + MAX_JOBS, self->map[RES(MAX_JOBS) / 8]);
	drmSyncobjDestroy(self->fd, tl);
}

/* High priority needs CAP_SYS_NICE: a child that dropped root gets -EACCES. */
TEST_F(queues, high_priority_needs_cap_sys_nice)
{
	struct drm_lumen_queue_create qc;
	int status;
	pid_t pid;

	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 2, &qc))
		TH_LOG("the test runs as root");
	ASSERT_EQ(0, qdestroy(self->fd, qc.id));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct drm_lumen_queue_create none = { 0 };

		/* nobody: every capability is dropped; the open file stays. */
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 2, &none) != -EACCES ||
		    none.id)
			_exit(11);
		if (qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &qc))
			_exit(12);
		if (qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 0, &qc))
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10: setuid failed, 11: high priority not refused, 12/13: normal/low refused");
}

/* ---- Engines and placement ------------------------------------------------- */

/* A job on every engine; an operator on the DMA engine fails with -EIO. */
TEST_F(queues, every_engine)
{
	struct accel_queue *q;
	unsigned int hwq, eng;

	for (uint32_t e = 0; e < self->info.num_cores; e++) {
		if (!hwqs_of(&self->info, DRM_LUMEN_ENGINE_COMPUTE, e)) {
			EXPECT_EQ(-EINVAL, accel_queue_create(self->dev, ACCEL_ENGINE_COMPUTE, e,
							      ACCEL_PRIORITY_NORMAL, &q));
			continue;
		}
		ASSERT_EQ(0, accel_queue_create(self->dev, ACCEL_ENGINE_COMPUTE, e,
						ACCEL_PRIORITY_LOW + e % 3, &q));
		ASSERT_EQ(0, accel_queue_placement(q, &hwq, &eng));
		EXPECT_EQ(e, eng);
		EXPECT_EQ(e, hwq % self->info.num_engines);
		EXPECT_EQ(0, run_on(self, q, e, 0xc0 + e)) TH_LOG("compute engine %u", e);
		EXPECT_EQ(0, accel_queue_destroy(q));
	}

	if (!hwqs_of(&self->info, DRM_LUMEN_ENGINE_DMA, 0))
		SKIP(return, "no hardware queue runs on the DMA engine (queues < engines)");
	ASSERT_EQ(0, accel_queue_create(self->dev, ACCEL_ENGINE_DMA, 0, ACCEL_PRIORITY_NORMAL, &q));
	ASSERT_EQ(0, accel_queue_placement(q, &hwq, &eng));
	EXPECT_EQ(self->info.num_cores, eng);
	EXPECT_EQ(0, run_on(self, q, 100, 0xd0));
	EXPECT_EQ(0, accel_queue_destroy(q));

	/*
	 * An operator on a DMA queue: -EIO (LUMEN_ERR_WRONG_ENGINE).  In a
	 * file of its own, as a failed job may ban its file (recovery).
	 */
	{
		struct accel_dev *dev2;
		struct accel_info info2;
		struct accel_bo *x;
		void *xmap;
		struct accel_eltwise relu = { .op = ACCEL_ELT_RELU, .type = ACCEL_F32,
					      .rows = 1, .cols = 16, .ldy = 16, .ldx = 16 };
		struct accel_cmdbuf *cb;
		struct accel_fence *done;

		ASSERT_EQ(0, lt_open_first(&dev2, &info2));
		ASSERT_EQ(0, lt_bo_create_mapped(dev2, 4096, 0, &x, &xmap));
		relu.x = relu.y = accel_bo_va(x);
		ASSERT_EQ(0, accel_queue_create(dev2, ACCEL_ENGINE_DMA, 0, ACCEL_PRIORITY_NORMAL,
						&q));
		ASSERT_EQ(0, lt_cmdbuf_create(dev2, &cb));
		ASSERT_EQ(0, accel_fence_create(dev2, &done));
		ASSERT_EQ(0, accel_cmd_eltwise(cb, &relu));
		ASSERT_EQ(0, accel_submit_queue(q, cb, NULL, 0, NULL, 0,
						&(struct accel_sync){ .fence = done }, 1));
		EXPECT_EQ(-EIO, lt_job_result(done));
		accel_fence_free(done);
		accel_cmdbuf_free(cb);
		EXPECT_EQ(0, accel_queue_destroy(q));
		accel_bo_free(x);
		accel_close(dev2);
	}
	/* The other file's DMA queues still work. */
	ASSERT_EQ(0, accel_queue_create(self->dev, ACCEL_ENGINE_DMA, 0, ACCEL_PRIORITY_NORMAL, &q));
	EXPECT_EQ(0, run_on(self, q, 101, 0xd1));
	EXPECT_EQ(0, accel_queue_destroy(q));
}

/*
 * One file's queues cover every hardware queue: as many queues of each
 * class as it has hardware queues land on all of them, and a job on each
 * shows up in the debugfs view as issued on that hardware queue.
 */
TEST_F(queues, all_hardware_queues_used)
{
	struct accel_queue *qs[64];
	struct hwq_state before[64] = { 0 }, after[64] = { 0 };
	const unsigned int nq = self->info.num_queues;
	unsigned int n = 0, used[64] = { 0 };

	ASSERT_GE(64, nq);
	for (uint32_t cls = 0; cls <= 1; cls++) {
		unsigned int k = hwqs_of(&self->info, cls, DRM_LUMEN_ENGINE_ANY);

		for (unsigned int i = 0; i < k; i++) {
			unsigned int hwq;

			ASSERT_EQ(0, accel_queue_create(self->dev, cls, ACCEL_ENGINE_ANY,
							ACCEL_PRIORITY_NORMAL, &qs[n]));
			ASSERT_EQ(0, accel_queue_placement(qs[n], &hwq, NULL));
			ASSERT_LT(hwq, nq);
			used[hwq]++;
			n++;
		}
	}
	ASSERT_EQ(nq, n);
	for (unsigned int q = 0; q < nq; q++) {
		EXPECT_EQ(1, used[q]) TH_LOG("hardware queue %u has %u of this file's queues",
					     q, used[q]);
	}

	if (self->debugfs)
		ASSERT_EQ(0, read_hwqs(before, nq));
	for (unsigned int i = 0; i < n; i++)
		EXPECT_EQ(0, run_on(self, qs[i], i, 0xa000 + i));
	if (self->debugfs) {
		ASSERT_EQ(0, read_hwqs(after, nq));
		for (unsigned int q = 0; q < nq; q++) {
			EXPECT_LE(before[q].issued + 1, after[q].issued)
				TH_LOG("hardware queue %u ran no job", q);
			EXPECT_LE(1, after[q].user_queues);
		}
	}
	for (unsigned int i = 0; i < n; i++)
		EXPECT_EQ(0, accel_queue_destroy(qs[i]));
}

/* Two files on one engine get different hardware queues when it has two. */
TEST_F(queues, tenants_get_their_own_hardware_queue)
{
	struct drm_lumen_queue_create a, b;
	struct accel_dev *other;
	struct accel_info info;

	if (hwqs_of(&self->info, DRM_LUMEN_ENGINE_COMPUTE, 0) < 2)
		SKIP(return, "compute engine 0 has fewer than two hardware queues");
	ASSERT_EQ(0, lt_open_first(&other, &info));
	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &a));
	ASSERT_EQ(0, qcreate(accel_fd(other), DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &b));
	EXPECT_EQ(0, a.hw_engine);
	EXPECT_EQ(0, b.hw_engine);
	EXPECT_NE(a.hw_queue, b.hw_queue);
	accel_close(other);
}

/* ---- Fairness and priority --------------------------------------------------- */

#define FLOOD_FILL	(4 * 1024 * 1024)	/* bytes each flood job fills */
#define FLOOD_BO	(4 * 1024 * 1024)

/*
 * Tenant A fills its queue on compute engine 0 to the limit (64 jobs, each
 * filling 4 MiB) while a gate holds it; tenant B then submits one job to
 * the same engine, held by a gate of its own.  Both gates open together:
 * the engine now has A's whole backlog and B's job.  B's job must complete
 * before the last of A's: B has its own hardware queue, which the engine
 * serves in turn with A's.  (On A's hardware queue it would run after all
 * of them.)  Everything is queued before the gates open, so the outcome
 * does not depend on how fast the CPU submits.
 */
TEST_F_TIMEOUT(queues, flood_does_not_starve_other_tenant, 180)
{
	struct drm_lumen_queue_create qa, qb;
	struct accel_dev *bdev;
	struct accel_info info;
	struct accel_cmdbuf *cbb;
	struct accel_bo *fill, *bbo;
	volatile uint64_t *bmap;
	uint32_t tla, tlb;
	unsigned int queued = 0, before_b = 0;
	uint64_t tsb;
	void *m;
	int ret;

	if (hwqs_of(&self->info, DRM_LUMEN_ENGINE_COMPUTE, 0) < 2)
		SKIP(return, "compute engine 0 has fewer than two hardware queues");
	ASSERT_EQ(0, accel_bo_create(self->dev, FLOOD_BO, 0, &fill));
	ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &qa));
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &tla));
	/* A's job 0 waits for the gate; every job fills 4 MiB, then timestamps. */
	accel_cmdbuf_reset(self->cb);
	self->map[GATE / 8] = 0;
	for (unsigned int i = 0; i <= MAX_JOBS; i++) {
		ASSERT_EQ(0, i ? accel_cmd_nop(self->cb) : accel_cmd_wait(self->cb, va(self, GATE), 1));
		ASSERT_EQ(0, accel_cmd_fill(self->cb, accel_bo_va(fill), FLOOD_FILL, i));
		ASSERT_EQ(0, accel_cmd_timestamp(self->cb, va(self, RES(i))));
	}

	ASSERT_EQ(0, lt_open_first(&bdev, &info));
	ASSERT_EQ(0, qcreate(accel_fd(bdev), DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &qb));
	ASSERT_NE(qa.hw_queue, qb.hw_queue);
	ASSERT_EQ(0, drmSyncobjCreate(accel_fd(bdev), 0, &tlb));
	ASSERT_EQ(0, lt_cmdbuf_create(bdev, &cbb));
	/* B's gate and timestamp are in a BO of its own file. */
	ASSERT_EQ(0, lt_bo_create_mapped(bdev, 4096, 0, &bbo, &m));
	bmap = m;
	ASSERT_EQ(0, accel_cmd_wait(cbb, accel_bo_va(bbo) + 8, 1));
	ASSERT_EQ(0, accel_cmd_timestamp(cbb, accel_bo_va(bbo)));

	/* A floods until its queue refuses: the flood is queued. */
	while ((ret = submit_raw(self->fd, true, qa.id, self->cb, 3 * queued, 3, tla,
				 queued + 1)) == 0)
		queued++;
	ASSERT_EQ(-EAGAIN, ret);
	ASSERT_EQ(MAX_JOBS, queued);
	ASSERT_EQ(0, submit_raw(accel_fd(bdev), true, qb.id, cbb, 0, 2, tlb, 1));
	bmap[1] = 1;
	self->map[GATE / 8] = 1;

	ASSERT_EQ(0, wait_point(accel_fd(bdev), tlb, 1));
	ASSERT_EQ(0, wait_point(self->fd, tla, queued));
	tsb = bmap[0];
	for (unsigned int i = 0; i < queued; i++)
		if (self->map[RES(i) / 8] < tsb)
			before_b++;
	TH_LOG("%u of A's %u queued jobs ran before B's", before_b, queued);
	/* B overtook A's backlog: the last job A had queued ran after B's. */
	EXPECT_LT(tsb, self->map[RES(queued - 1) / 8]);
	EXPECT_LT(before_b, queued);

	accel_bo_free(bbo);
	accel_cmdbuf_free(cbb);
	drmSyncobjDestroy(accel_fd(bdev), tlb);
	accel_close(bdev);
	drmSyncobjDestroy(self->fd, tla);
	accel_bo_free(fill);
}

/*
 * When tenants must share a hardware queue, a flood stays bounded: A has a
 * queue on every hardware queue of compute engine 0 and fills each one
 * (behind a gate, so "full" is a state, not a race), so B's queue shares
 * one of A's.  B's job then waits behind at most 64 of A's jobs there (the
 * per-queue limit), whatever A submits later: once the gate opens it runs
 * before every job A submits to that queue after it.
 */
TEST_F_TIMEOUT(queues, shared_hardware_queue_backlog_is_bounded, 180)
{
	const unsigned int per_q = 160;
	const unsigned int nhw = hwqs_of(&self->info, DRM_LUMEN_ENGINE_COMPUTE, 0);
	struct drm_lumen_queue_create qa[16], qb;
	struct accel_cmdbuf *cba[16], *cbb;
	struct accel_bo *fill, *bbo;
	struct accel_dev *bdev;
	struct accel_info info;
	uint32_t tla[16], tlb;
	unsigned int shared = ~0u, sent[16] = { 0 }, at_b = 0;
	unsigned int before_b = 0, after_b_early = 0;
	uint64_t *bmap, tsb;
	int ret;

	ASSERT_LE(1, nhw);
	ASSERT_GE(16, nhw);
	ASSERT_GE(BO_SIZE - 4096, 8 * nhw * per_q);
	ASSERT_EQ(0, accel_bo_create(self->dev, FLOOD_BO, 0, &fill));
	for (unsigned int k = 0; k < nhw; k++) {
		ASSERT_EQ(0, qcreate(self->fd, DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &qa[k]));
		ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &tla[k]));
		ASSERT_EQ(0, accel_cmdbuf_create(self->dev, 2 * 64 * per_q + 4096, &cba[k]));
		/* Job 0 of each queue waits for the gate, the others fill 1 MiB. */
		ASSERT_EQ(0, accel_cmd_wait(cba[k], va(self, GATE), 1));
		ASSERT_EQ(0, accel_cmd_timestamp(cba[k], va(self, RES(k * per_q))));
		for (unsigned int i = 1; i < per_q; i++) {
			ASSERT_EQ(0, accel_cmd_fill(cba[k], accel_bo_va(fill), FLOOD_FILL / 4, i));
			ASSERT_EQ(0, accel_cmd_timestamp(cba[k], va(self, RES(k * per_q + i))));
		}
	}
	self->map[GATE / 8] = 0;
	ASSERT_EQ(0, lt_open_first(&bdev, &info));
	ASSERT_EQ(0, qcreate(accel_fd(bdev), DRM_LUMEN_ENGINE_COMPUTE, 0, 1, &qb));
	for (unsigned int k = 0; k < nhw; k++)
		if (qa[k].hw_queue == qb.hw_queue)
			shared = k;
	ASSERT_NE(~0u, shared) TH_LOG("A covers every hardware queue of the engine");
	ASSERT_EQ(0, drmSyncobjCreate(accel_fd(bdev), 0, &tlb));
	ASSERT_EQ(0, lt_cmdbuf_create(bdev, &cbb));
	ASSERT_EQ(0, lt_bo_create_mapped(bdev, 4096, 0, &bbo, (void **)&bmap));
	ASSERT_EQ(0, accel_cmd_timestamp(cbb, accel_bo_va(bbo)));

	/* With the gate closed, A fills every queue until it refuses. */
	for (unsigned int k = 0; k < nhw; k++) {
		while ((ret = submit_raw(self->fd, true, qa[k].id, cba[k], 2 * sent[k], 2,
					 tla[k], sent[k] + 1)) == 0)
			sent[k]++;
		ASSERT_EQ(-EAGAIN, ret);
		ASSERT_EQ(MAX_JOBS, sent[k]);
	}
	at_b = sent[shared];
	ASSERT_EQ(0, submit_raw(accel_fd(bdev), true, qb.id, cbb, 0, 1, tlb, 1));
	self->map[GATE / 8] = 1;
	/* A keeps flooding every queue to the end. */
	for (unsigned int k = 0; k < nhw; k++) {
		for (; sent[k] < per_q; sent[k]++) {
			ret = submit_retry(self->fd, qa[k].id, cba[k], 2 * sent[k], 2, tla[k],
					   sent[k] + 1);
			ASSERT_EQ(0, ret);
		}
	}
	ASSERT_EQ(0, wait_point(accel_fd(bdev), tlb, 1));
	for (unsigned int k = 0; k < nhw; k++)
		ASSERT_EQ(0, wait_point(self->fd, tla[k], per_q));
	tsb = bmap[0];

	for (unsigned int i = 0; i < per_q; i++) {
		uint64_t ts = self->map[RES(shared * per_q + i) / 8];

		if (ts < tsb)
			before_b++;
		if (i >= at_b && ts < tsb)
			after_b_early++;
	}
	TH_LOG("%u hardware queues; A had %u jobs on the shared one when B submitted, %u ran before B",
	       nhw, at_b, before_b);
	EXPECT_GE(MAX_JOBS, before_b);
	EXPECT_EQ(0, after_b_early);
	{
		uint64_t last = 0;

		for (unsigned int i = 0; i < nhw * per_q; i++)
			if (self->map[RES(i) / 8] > last)
				last = self->map[RES(i) / 8];
		EXPECT_LT(tsb, last) TH_LOG("B waited for A's whole flood");
	}

	accel_bo_free(bbo);
	accel_cmdbuf_free(cbb);
	drmSyncobjDestroy(accel_fd(bdev), tlb);
	accel_close(bdev);
	for (unsigned int k = 0; k < nhw; k++) {
		accel_cmdbuf_free(cba[k]);
		drmSyncobjDestroy(self->fd, tla[k]);
	}
	accel_bo_free(fill);
}

/*
 * Priority on one hardware queue.  A gated flood of N > 511 normal jobs
 * (plain submits to hardware queue h) fills h's ring with 511 jobs; the
 * rest wait in the scheduler.  A high-priority user queue's job on h then
 * goes to the ring before all of those: it runs after the ring's jobs and
 * before every flood job that was not on the ring (exactly what
 * Documentation/scheduling.rst guarantees; jobs on the ring are never
 * overtaken).  The same with a normal-priority queue is logged as the
 * baseline (drm_sched's FIFO policy puts it after the whole flood).
 */
static void priority_run(struct __test_metadata *_metadata, FIXTURE_DATA(queues) *self,
			 uint32_t prio, unsigned int *before, unsigned int *after,
			 unsigned int *suffix_ok)
{
	const unsigned int n = RING_JOBS + 120;
	struct drm_lumen_queue_create qc;
	struct accel_dev *hdev;
	struct accel_info info;
	struct accel_cmdbuf *cbh;
	uint32_t tl, tlh, hwq;
	uint64_t tsh;

	ASSERT_EQ(0, lt_open_first(&hdev, &info));
	/* A user queue on engine 0; the flood goes to its hardware queue. */
	ASSERT_EQ(0, qcreate(accel_fd(hdev), DRM_LUMEN_ENGINE_COMPUTE, 0, prio, &qc));
	hwq = qc.hw_queue;

	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &tl));
	accel_cmdbuf_reset(self->cb);
	self->map[GATE / 8] = 0;
	ASSERT_EQ(0, accel_cmd_wait(self->cb, va(self, GATE), 1));
	ASSERT_EQ(0, accel_cmd_timestamp(self->cb, va(self, RES(0))));
	for (unsigned int i = 1; i < n; i++) {
		ASSERT_EQ(0, accel_cmd_nop(self->cb));
		ASSERT_EQ(0, accel_cmd_timestamp(self->cb, va(self, RES(i))));
	}
	for (unsigned int i = 0; i < n; i++)
		ASSERT_EQ(0, submit_raw(self->fd, false, hwq, self->cb, 2 * i, 2, tl, i + 1));

	ASSERT_EQ(0, drmSyncobjCreate(accel_fd(hdev), 0, &tlh));
	ASSERT_EQ(0, lt_cmdbuf_create(hdev, &cbh));
	{
		struct accel_bo *hbo;
		uint64_t *hmap;

		ASSERT_EQ(0, lt_bo_create_mapped(hdev, 4096, 0, &hbo, (void **)&hmap));
		ASSERT_EQ(0, accel_cmd_timestamp(cbh, accel_bo_va(hbo)));
		ASSERT_EQ(0, submit_raw(accel_fd(hdev), true, qc.id, cbh, 0, 1, tlh, 1));
		self->map[GATE / 8] = 1;
		ASSERT_EQ(0, wait_point(accel_fd(hdev), tlh, 1));
		ASSERT_EQ(0, wait_point(self->fd, tl, n));
		tsh = hmap[0];
		accel_bo_free(hbo);
	}
	*before = *after = 0;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t ts = self->map[RES(i) / 8];

		if (ts < tsh)
			(*before)++;
		else
			(*after)++;
	}
	/* Jobs after the overtaker are a suffix of the flood (ring FIFO). */
	*suffix_ok = 1;
	for (unsigned int i = 0; i + 1 < n; i++)
		if (self->map[RES(i) / 8] > tsh && self->map[RES(i + 1) / 8] < tsh)
			*suffix_ok = 0;
	accel_cmdbuf_free(cbh);
	drmSyncobjDestroy(accel_fd(hdev), tlh);
	drmSyncobjDestroy(self->fd, tl);
	accel_close(hdev);
}

TEST_F_TIMEOUT(queues, high_priority_overtakes_queued_normal_jobs, 180)
{
	const unsigned int n = RING_JOBS + 120;
	unsigned int before, after, suffix;

	priority_run(_metadata, self, DRM_LUMEN_QUEUE_PRIORITY_NORMAL, &before, &after, &suffix);
	TH_LOG("baseline, normal priority: %u flood jobs before it, %u after", before, after);
	priority_run(_metadata, self, DRM_LUMEN_QUEUE_PRIORITY_HIGH, &before, &after, &suffix);
	TH_LOG("high priority: %u flood jobs before it, %u after", before, after);
	EXPECT_EQ(n, before + after);
	EXPECT_GE(RING_JOBS, before);
	EXPECT_LE(n - RING_JOBS, after);
	EXPECT_EQ(1, suffix);
}

TEST_HARNESS_MAIN
