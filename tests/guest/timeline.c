// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Explicit synchronisation with many syncobjs, binary and timeline
 * (DRM_LUMEN_SUBMIT_SYNCS), and sync files: every job's fence lands in
 * every out-syncobj, a job waits for all its in-syncobjs, timeline points
 * signal in order, waits on many fences (all or any) time out in bounded
 * time, a chain of jobs across queues keeps its order, an exported sync
 * file polls readable exactly when the job is done, and every bad argument
 * of the new fields is refused with its errno and submits nothing.
 *
 * Jobs are held back by a "gate": a WAIT command on a word of a BO that
 * the test writes from the CPU, so "not yet" is a state the test controls
 * rather than a race it hopes to win.  Where the expected behaviour is the
 * DRM core's (drivers/gpu/drm/drm_syncobj.c, dma-fence-chain.c), the
 * comment says so: those tests check that Lumen uses the core's
 * semantics, not semantics of its own.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xf86drm.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define MS 1000000ll
/* How long "does not happen" is watched: a gated job never completes. */
#define NOT_YET_NS (300 * MS)

FIXTURE(timeline) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
	/* Gate word at offset 0, results from offset 64. */
	struct accel_bo *bo;
	volatile uint64_t *map;
};

FIXTURE_SETUP(timeline)
{
	void *map;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 4096, 0, &self->bo, &map));
	self->map = map;
}

FIXTURE_TEARDOWN(timeline)
{
	if (!self->dev)
		return;
	/* Lets a gated job of a failed test finish rather than time out. */
	if (self->map)
		self->map[0] = ~0ull;
	accel_bo_free(self->bo);
	accel_close(self->dev);
}

#define SLOT(i)	(64 + 8 * (uint64_t)(i))

/* A job: optionally WAIT for the gate word >= 1, then FENCE @value at @slot. */
static struct accel_cmdbuf *job(struct accel_dev *dev, const struct accel_bo *bo,
				bool gated, uint64_t slot, uint64_t value)
{
	struct accel_cmdbuf *cb;

	if (lt_cmdbuf_create(dev, &cb))
		return NULL;
	if ((gated && accel_cmd_wait(cb, accel_bo_va(bo), 1)) ||
	    accel_cmd_fence(cb, accel_bo_va(bo) + slot, value)) {
		accel_cmdbuf_free(cb);
		return NULL;
	}
	return cb;
}

static void open_gate(volatile uint64_t *map)
{
	__atomic_store_n(&map[0], 1, __ATOMIC_SEQ_CST);
}

/* Raw DRM_IOCTL_SYNCOBJ_WAIT (binary); 0 or -errno, *first if not NULL. */
static int syncobj_wait(int fd, const uint32_t *handles, unsigned int n,
			uint32_t flags, int64_t timeout_ns, uint32_t *first)
{
	struct drm_syncobj_wait w = {
		.handles = (uintptr_t)handles,
		.count_handles = n,
		.flags = flags,
		.timeout_nsec = timeout_ns < 0 ? INT64_MAX : lt_now_ns() + timeout_ns,
	};
	int ret = lt_ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &w);

	if (!ret && first)
		*first = w.first_signaled;
	return ret;
}

/* Raw DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT of one point. */
static int point_wait(int fd, uint32_t handle, uint64_t point, uint32_t flags,
		      int64_t timeout_ns)
{
	struct drm_syncobj_timeline_wait w = {
		.handles = (uintptr_t)&handle,
		.points = (uintptr_t)&point,
		.count_handles = 1,
		.flags = flags,
		.timeout_nsec = timeout_ns < 0 ? INT64_MAX : lt_now_ns() + timeout_ns,
	};

	return lt_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

static uint64_t query(const struct accel_fence *f)
{
	uint64_t point = ~0ull;

	if (accel_fence_query(f, &point))
		return ~0ull;
	return point;
}

/*
 * Timeline points signal in order: point 2's job completes first, but the
 * point counts as signalled only once point 1's has too (dma_fence_chain:
 * a chain node signals when its fence and every earlier node did; the
 * query returns the last point so signalled -- drm_syncobj.c).
 */
TEST_F_TIMEOUT(timeline, points_signal_in_order, 120)
{
	struct accel_cmdbuf *first, *second;
	struct accel_fence *tl, *second_done;
	unsigned int q2 = self->info.num_queues - 1;

	if (q2 == 0)
		SKIP(return, "needs two queues");
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl));
	ASSERT_EQ(0, accel_fence_create(self->dev, &second_done));
	ASSERT_NE(NULL, first = job(self->dev, self->bo, true, SLOT(0), 11));
	ASSERT_NE(NULL, second = job(self->dev, self->bo, false, SLOT(1), 22));
	EXPECT_EQ(0, query(tl));

	ASSERT_EQ(0, accel_submit2(self->dev, 0, first, NULL, 0, NULL, 0,
				   &(struct accel_sync){ tl, 1 }, 1));
	const struct accel_sync sig2[] = { { tl, 2 }, { second_done, 0 } };

	ASSERT_EQ(0, accel_submit2(self->dev, q2, second, NULL, 0, NULL, 0, sig2, 2));
	ASSERT_EQ(0, accel_fence_wait(second_done, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(22, self->map[SLOT(1) / 8]);
	EXPECT_EQ(0, self->map[SLOT(0) / 8]);
	EXPECT_EQ(-ETIME, accel_fence_wait_point(tl, 2, NOT_YET_NS));
	EXPECT_EQ(-ETIME, accel_fence_wait_point(tl, 1, 0));
	EXPECT_EQ(0, query(tl));

	open_gate(self->map);
	ASSERT_EQ(0, accel_fence_wait_point(tl, 2, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(0, accel_fence_wait_point(tl, 1, 0));
	EXPECT_EQ(11, self->map[SLOT(0) / 8]);
	EXPECT_EQ(2, query(tl));

	accel_cmdbuf_free(second);
	accel_cmdbuf_free(first);
	accel_fence_free(second_done);
	accel_fence_free(tl);
}

struct waiter {
	int fd;
	uint32_t handle;
	int ret;
};

static void *wait_for_point_1(void *arg)
{
	struct waiter *w = arg;

	w->ret = point_wait(w->fd, w->handle, 1, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
			    LT_JOB_TIMEOUT_NS);
	return NULL;
}

/*
 * A point no job was submitted to yet (drm_syncobj.c): without
 * WAIT_FOR_SUBMIT the wait is -EINVAL at once; with it the wait blocks --
 * -ETIME at its deadline -- and a waiter started before the submit
 * returns once the job is done.  A submit waiting for such a point is
 * -EINVAL (drm_syncobj_find_fence() without WAIT_FOR_SUBMIT) and runs
 * nothing.
 */
TEST_F_TIMEOUT(timeline, wait_for_a_point_not_yet_submitted, 120)
{
	struct accel_fence *tl, *out;
	struct accel_cmdbuf *cb;
	struct waiter w;
	pthread_t thread;
	uint32_t h;

	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl));
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &out));
	h = accel_fence_syncobj(tl);
	ASSERT_NE(NULL, cb = job(self->dev, self->bo, false, SLOT(0), 5));

	EXPECT_EQ(-EINVAL, point_wait(self->fd, h, 1, 0, 0));
	EXPECT_EQ(-ETIME, point_wait(self->fd, h, 1, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
				     NOT_YET_NS));
	EXPECT_EQ(-EINVAL, accel_submit2(self->dev, 0, cb, NULL, 0,
					 &(struct accel_sync){ tl, 1 }, 1,
					 &(struct accel_sync){ out, 1 }, 1));
	EXPECT_EQ(-EINVAL, point_wait(self->fd, accel_fence_syncobj(out), 1, 0, 0));
	EXPECT_EQ(0, self->map[SLOT(0) / 8]);

	w = (struct waiter){ .fd = self->fd, .handle = h, .ret = 1 };
	ASSERT_EQ(0, pthread_create(&thread, NULL, wait_for_point_1, &w));
	/* Not a race that can pass wrongly: the waiter needs the submit. */
	usleep(100 * 1000);
	ASSERT_EQ(0, accel_submit2(self->dev, 0, cb, NULL, 0, NULL, 0,
				   &(struct accel_sync){ tl, 1 }, 1));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(5, self->map[SLOT(0) / 8]);
	/* And now the point exists, the submit that was refused runs. */
	ASSERT_EQ(0, accel_submit2(self->dev, 0, cb, NULL, 0,
				   &(struct accel_sync){ tl, 1 }, 1,
				   &(struct accel_sync){ out, 1 }, 1));
	EXPECT_EQ(0, accel_fence_wait_point(out, 1, LT_JOB_TIMEOUT_NS));

	accel_cmdbuf_free(cb);
	accel_fence_free(out);
	accel_fence_free(tl);
}

#define MANY 16

/*
 * One job signals many syncobjs at once, binary and timeline; another
 * waits for many: it does not run while one of them is pending.
 */
TEST_F_TIMEOUT(timeline, many_in_and_out_syncobjs, 180)
{
	struct accel_fence *bin[MANY], *tl[MANY], *in[MANY], *last;
	struct accel_sync outs[2 * MANY], waits[MANY];
	struct accel_cmdbuf *cb, *src[MANY], *final;
	uint32_t handles[MANY];
	unsigned int i;

	ASSERT_NE(NULL, cb = job(self->dev, self->bo, false, SLOT(0), 1));
	for (i = 0; i < MANY; i++) {
		ASSERT_EQ(0, accel_fence_create(self->dev, &bin[i]));
		ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl[i]));
		outs[2 * i] = (struct accel_sync){ bin[i], 0 };
		outs[2 * i + 1] = (struct accel_sync){ tl[i], i + 1 };
		handles[i] = accel_fence_syncobj(bin[i]);
	}
	ASSERT_EQ(0, accel_submit2(self->dev, 0, cb, NULL, 0, NULL, 0, outs, 2 * MANY));
	ASSERT_EQ(0, syncobj_wait(self->fd, handles, MANY, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
				  LT_JOB_TIMEOUT_NS, NULL));
	for (i = 0; i < MANY; i++) {
		EXPECT_EQ(i + 1, query(tl[i]));
		EXPECT_EQ(1, accel_fence_status(bin[i]));
	}

	/* MANY jobs over the queues, the last one gated; then one that waits for all. */
	for (i = 0; i < MANY; i++) {
		ASSERT_EQ(0, accel_fence_create(self->dev, &in[i]));
		ASSERT_NE(NULL, src[i] = job(self->dev, self->bo, i == MANY - 1, SLOT(1 + i),
					     100 + i));
		ASSERT_EQ(0, accel_submit2(self->dev, i % self->info.num_queues, src[i], NULL, 0,
					   NULL, 0, &(struct accel_sync){ in[i], 0 }, 1));
		waits[i] = (struct accel_sync){ in[i], 0 };
	}
	ASSERT_EQ(0, accel_fence_create(self->dev, &last));
	ASSERT_NE(NULL, final = job(self->dev, self->bo, false, SLOT(MANY + 1), 777));
	/* Another queue than the gated job's, so only the in-syncs can hold it. */
	ASSERT_EQ(0, accel_submit2(self->dev, MANY % self->info.num_queues, final, NULL, 0,
				   waits, MANY, &(struct accel_sync){ last, 0 }, 1));
	for (i = 0; i < MANY - 1; i++)
		EXPECT_EQ(0, accel_fence_wait(in[i], LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(-ETIME, accel_fence_wait(last, NOT_YET_NS));
	EXPECT_EQ(0, self->map[(SLOT(MANY + 1)) / 8]);
	open_gate(self->map);
	ASSERT_EQ(0, lt_job_result(last));
	EXPECT_EQ(777, self->map[SLOT(MANY + 1) / 8]);
	for (i = 0; i < MANY; i++)
		EXPECT_EQ(100 + i, self->map[SLOT(1 + i) / 8]);

	accel_cmdbuf_free(final);
	accel_fence_free(last);
	for (i = 0; i < MANY; i++) {
		accel_cmdbuf_free(src[i]);
		accel_fence_free(in[i]);
		accel_fence_free(tl[i]);
		accel_fence_free(bin[i]);
	}
	accel_cmdbuf_free(cb);
}

/*
 * DRM_IOCTL_SYNCOBJ_WAIT on many fences (drm_syncobj.c): without WAIT_ALL
 * it returns once any has signalled and names it in first_signaled; with
 * WAIT_ALL it times out (-ETIME) while one is pending.  The same through
 * libaccel's timeline wait, mixing binary and timeline fences.
 */
TEST_F_TIMEOUT(timeline, wait_any_or_all, 120)
{
	struct accel_cmdbuf *slow, *fast;
	struct accel_fence *a, *b, *tl;
	uint32_t handles[2], first = 99;
	unsigned int idx = 99;
	unsigned int q2 = self->info.num_queues - 1;

	if (q2 == 0)
		SKIP(return, "needs two queues");
	ASSERT_EQ(0, accel_fence_create(self->dev, &a));
	ASSERT_EQ(0, accel_fence_create(self->dev, &b));
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl));
	ASSERT_NE(NULL, slow = job(self->dev, self->bo, true, SLOT(0), 1));
	ASSERT_NE(NULL, fast = job(self->dev, self->bo, false, SLOT(1), 2));
	const struct accel_sync sa[] = { { a, 0 }, { tl, 7 } };

	ASSERT_EQ(0, accel_submit2(self->dev, 0, slow, NULL, 0, NULL, 0, sa, 2));
	ASSERT_EQ(0, accel_submit2(self->dev, q2, fast, NULL, 0, NULL, 0,
				   &(struct accel_sync){ b, 0 }, 1));
	handles[0] = accel_fence_syncobj(a);
	handles[1] = accel_fence_syncobj(b);

	EXPECT_EQ(0, syncobj_wait(self->fd, handles, 2, 0, LT_JOB_TIMEOUT_NS, &first));
	EXPECT_EQ(1, first);
	EXPECT_EQ(-ETIME, syncobj_wait(self->fd, handles, 2, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
				       NOT_YET_NS, NULL));
	const struct accel_sync ws[] = { { tl, 7 }, { b, 0 } };

	EXPECT_EQ(0, accel_fence_wait_many(ws, 2, false, LT_JOB_TIMEOUT_NS, &idx));
	EXPECT_EQ(1, idx);
	EXPECT_EQ(-ETIME, accel_fence_wait_many(ws, 2, true, 0, NULL));

	open_gate(self->map);
	EXPECT_EQ(0, syncobj_wait(self->fd, handles, 2, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
				  LT_JOB_TIMEOUT_NS, NULL));
	EXPECT_EQ(0, accel_fence_wait_many(ws, 2, true, LT_JOB_TIMEOUT_NS, NULL));
	EXPECT_EQ(1, self->map[SLOT(0) / 8]);

	accel_cmdbuf_free(fast);
	accel_cmdbuf_free(slow);
	accel_fence_free(tl);
	accel_fence_free(b);
	accel_fence_free(a);
}

/*
 * A chain of jobs across the queues through one timeline: job i waits for
 * point i and signals point i + 1, copying slot i to slot i + 1.  The
 * first job is gated, so any job running early would copy a zero.
 */
TEST_F_TIMEOUT(timeline, chain_across_queues, 180)
{
	unsigned int n = 2 * self->info.num_queues, i;
	struct accel_cmdbuf **cbs;
	struct accel_fence *tl;
	uint64_t va = accel_bo_va(self->bo);

	if (n > 32)
		n = 32;
	ASSERT_NE(NULL, cbs = calloc(n, sizeof(*cbs)));
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl));
	self->map[SLOT(0) / 8] = 0x5eed5eed5eedull;
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cbs[i]));
		if (i == 0)
			ASSERT_EQ(0, accel_cmd_wait(cbs[i], va, 1));
		ASSERT_EQ(0, accel_cmd_copy(cbs[i], va + SLOT(i + 1), va + SLOT(i), 8));
		ASSERT_EQ(0, accel_submit2(self->dev, i % self->info.num_queues, cbs[i], NULL, 0,
					   &(struct accel_sync){ tl, i }, i ? 1 : 0,
					   &(struct accel_sync){ tl, i + 1 }, 1));
	}
	EXPECT_EQ(-ETIME, accel_fence_wait_point(tl, n, NOT_YET_NS));
	EXPECT_EQ(0, self->map[SLOT(n) / 8]);
	open_gate(self->map);
	ASSERT_EQ(0, accel_fence_wait_point(tl, n, LT_JOB_TIMEOUT_NS));
	for (i = 1; i <= n; i++)
		EXPECT_EQ(0x5eed5eed5eedull, self->map[SLOT(i) / 8]) TH_LOG("slot %u", i);
	EXPECT_EQ(n, query(tl));

	for (i = 0; i < n; i++)
		accel_cmdbuf_free(cbs[i]);
	free(cbs);
	accel_fence_free(tl);
}

/*
 * A job's fence as a sync file: through the DRM core's
 * DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD with EXPORT_SYNC_FILE (binary out-sync)
 * and through libaccel (a timeline point, moved to a binary syncobj by
 * DRM_IOCTL_SYNCOBJ_TRANSFER).  poll() reports POLLIN only once the job
 * completed (sync_file.c), and the status then says it succeeded.
 */
TEST_F_TIMEOUT(timeline, sync_file_export_and_poll, 120)
{
	struct accel_fence *bin, *tl;
	struct accel_cmdbuf *cb;
	struct pollfd pfd[2];
	int fds[2], status;

	ASSERT_EQ(0, accel_fence_create(self->dev, &bin));
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl));
	ASSERT_NE(NULL, cb = job(self->dev, self->bo, true, SLOT(0), 9));
	/* Nothing submitted yet: nothing to export. */
	EXPECT_EQ(-EINVAL, accel_fence_export_sync_file(tl, 3, &fds[0]));
	const struct accel_sync outs[] = { { bin, 0 }, { tl, 3 } };

	ASSERT_EQ(0, accel_submit2(self->dev, 0, cb, NULL, 0, NULL, 0, outs, 2));
	fds[0] = lt_syncobj_export(self->fd, accel_fence_syncobj(bin));
	ASSERT_LE(0, fds[0]) TH_LOG("export: %s", accel_strerror(fds[0]));
	ASSERT_EQ(0, accel_fence_export_sync_file(tl, 3, &fds[1]));
	pfd[0] = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fds[1], .events = POLLIN };

	EXPECT_EQ(0, poll(pfd, 2, NOT_YET_NS / MS));
	ASSERT_EQ(0, lt_sync_file_status(fds[1], &status));
	EXPECT_EQ(0, status);
	open_gate(self->map);
	for (int i = 0; i < 2; i++) {
		pfd[i].revents = 0;
		EXPECT_EQ(1, poll(&pfd[i], 1, LT_JOB_TIMEOUT_NS / MS));
		EXPECT_EQ(POLLIN, pfd[i].revents);
		ASSERT_EQ(0, lt_sync_file_status(fds[i], &status));
		EXPECT_EQ(1, status);
		close(fds[i]);
	}
	EXPECT_EQ(9, self->map[SLOT(0) / 8]);

	accel_cmdbuf_free(cb);
	accel_fence_free(tl);
	accel_fence_free(bin);
}

/*
 * Points the test adds by hand (DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL) and
 * points between points (drm_syncobj.c, dma_fence_chain_find_seqno()):
 * a wait for point 3 of a timeline whose only point is 5 waits for point
 * 5's fence, so a job waiting for point 3 does not run before point 5's
 * gated job; a point signalled by hand lets a job run at once.
 */
TEST_F_TIMEOUT(timeline, points_between_and_by_hand, 120)
{
	struct accel_cmdbuf *gated, *waiter, *after_hand;
	struct accel_fence *tl, *hand, *done, *done2;
	struct drm_syncobj_timeline_array sig;
	uint32_t h;
	uint64_t p = 2;
	unsigned int q2 = self->info.num_queues - 1;

	/* Queue 0: the gated job; q2: the one behind it; 1: free. */
	if (q2 < 2)
		SKIP(return, "needs three queues");
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl));
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &hand));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done2));
	ASSERT_NE(NULL, gated = job(self->dev, self->bo, true, SLOT(0), 1));
	ASSERT_NE(NULL, waiter = job(self->dev, self->bo, false, SLOT(1), 2));
	ASSERT_NE(NULL, after_hand = job(self->dev, self->bo, false, SLOT(2), 3));

	ASSERT_EQ(0, accel_submit2(self->dev, 0, gated, NULL, 0, NULL, 0,
				   &(struct accel_sync){ tl, 5 }, 1));
	ASSERT_EQ(0, accel_submit2(self->dev, q2, waiter, NULL, 0,
				   &(struct accel_sync){ tl, 3 }, 1,
				   &(struct accel_sync){ done, 0 }, 1));
	/* A point above the last one is not submitted: refused. */
	EXPECT_EQ(-EINVAL, accel_submit2(self->dev, q2, waiter, NULL, 0,
					 &(struct accel_sync){ tl, 6 }, 1, NULL, 0));

	h = accel_fence_syncobj(hand);
	sig = (struct drm_syncobj_timeline_array){
		.handles = (uintptr_t)&h, .points = (uintptr_t)&p, .count_handles = 1,
	};
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &sig));
	EXPECT_EQ(2, query(hand));
	ASSERT_EQ(0, accel_submit2(self->dev, 1, after_hand, NULL, 0,
				   &(struct accel_sync){ hand, 2 }, 1,
				   &(struct accel_sync){ done2, 0 }, 1));
	ASSERT_EQ(0, lt_job_result(done2));
	EXPECT_EQ(3, self->map[SLOT(2) / 8]);

	EXPECT_EQ(-ETIME, accel_fence_wait(done, NOT_YET_NS));
	EXPECT_EQ(0, self->map[SLOT(1) / 8]);
	open_gate(self->map);
	ASSERT_EQ(0, lt_job_result(done));
	EXPECT_EQ(2, self->map[SLOT(1) / 8]);
	EXPECT_EQ(5, query(tl));

	accel_cmdbuf_free(after_hand);
	accel_cmdbuf_free(waiter);
	accel_cmdbuf_free(gated);
	accel_fence_free(done2);
	accel_fence_free(done);
	accel_fence_free(hand);
	accel_fence_free(tl);
}

/* The first layout of struct drm_lumen_submit, as an old binary has it. */
struct old_submit {
	__u64 cmdbuf_va;
	__u32 cmdbuf_size;
	__u32 queue;
	__u64 bo_handles;
	__u32 bo_count;
	__u32 in_syncobj;
	__u32 out_syncobj;
	__u32 flags;
};

#define OLD_IOCTL_SUBMIT DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_SUBMIT, struct old_submit)

/*
 * An old binary's call, with the 40-byte structure and its ioctl number,
 * still works: the DRM core zero-extends it (drm_ioctl.c), so syncs is 0.
 */
TEST_F(timeline, old_layout_still_works)
{
	struct accel_fence *in, *out;
	struct accel_cmdbuf *cb;
	struct old_submit args;

	ASSERT_EQ(40, sizeof(struct old_submit));
	ASSERT_EQ(56, sizeof(struct drm_lumen_submit));
	ASSERT_EQ(0, accel_fence_create(self->dev, &in));
	ASSERT_EQ(0, accel_fence_create(self->dev, &out));
	ASSERT_EQ(0, lt_syncobj_signal(self->fd, accel_fence_syncobj(in)));
	ASSERT_NE(NULL, cb = job(self->dev, self->bo, false, SLOT(0), 0x01d));
	args = (struct old_submit){
		.cmdbuf_va = accel_cmdbuf_va(cb),
		.cmdbuf_size = accel_cmdbuf_size(cb),
		.in_syncobj = accel_fence_syncobj(in),
		.out_syncobj = accel_fence_syncobj(out),
	};
	ASSERT_EQ(0, lt_ioctl(self->fd, OLD_IOCTL_SUBMIT, &args));
	ASSERT_EQ(0, lt_job_result(out));
	EXPECT_EQ(0x01d, self->map[SLOT(0) / 8]);
	/*
	 * Flag bits 0 and 1 are DRM_LUMEN_SUBMIT_SYNCS and _QUEUE_ID now;
	 * bit 2 is still unknown.
	 */
	args.flags = 4;
	EXPECT_EQ(-EINVAL, lt_ioctl(self->fd, OLD_IOCTL_SUBMIT, &args));

	accel_cmdbuf_free(cb);
	accel_fence_free(out);
	accel_fence_free(in);
}

enum { H_NONE = 0, H_WITNESS, H_TL_WITNESS, H_EMPTY, H_BIN_FENCED, H_MISSING };

struct bad_case {
	const char *name;
	__u32 flags;
	__u32 pad;
	/* syncs: the witnesses, then @entry unless @no_entry. */
	bool no_entry;
	struct drm_lumen_sync entry;
	/* 0: the real array; else the sync_count given. */
	__u32 count;
	bool bad_pointer;
	int expected;
};

#define IN_	0
#define OUT_	DRM_LUMEN_SYNC_OUT
#define TL_	DRM_LUMEN_SYNC_TIMELINE
#define SYNCS_	DRM_LUMEN_SUBMIT_SYNCS

/*
 * Every refusal of the new fields (Documentation/uapi.rst), each with a
 * binary and a timeline out-sync ("witnesses") before the bad entry: a
 * refused submit must leave both without a fence or point.
 */
static const struct bad_case bad_cases[] = {
	/* Bit 1 is DRM_LUMEN_SUBMIT_QUEUE_ID (tests/guest/queues.c). */
	{ "unknown_submit_flag", SYNCS_ | 4, 0, true, {}, 0, false, -EINVAL },
	{ "top_submit_flag", SYNCS_ | 0x80000000u, 0, true, {}, 0, false, -EINVAL },
	{ "pad", SYNCS_, 1, true, {}, 0, false, -EINVAL },
	{ "syncs_without_flag", 0, 0, true, {}, 0, false, -EINVAL },
	{ "too_many", SYNCS_, 0, true, {}, 257, false, -E2BIG },
	{ "bad_pointer", SYNCS_, 0, true, {}, 0, true, -EFAULT },
	{ "unknown_sync_flag", SYNCS_, 0, false, { 4, H_EMPTY, 0 }, 0, false, -EINVAL },
	{ "top_sync_flag", SYNCS_, 0, false, { 0x80000000u | OUT_, H_EMPTY, 0 }, 0, false,
	  -EINVAL },
	{ "binary_in_with_point", SYNCS_, 0, false, { IN_, H_BIN_FENCED, 1 }, 0, false,
	  -EINVAL },
	{ "binary_out_with_point", SYNCS_, 0, false, { OUT_, H_EMPTY, 1 }, 0, false, -EINVAL },
	{ "timeline_in_point_0", SYNCS_, 0, false, { IN_ | TL_, H_BIN_FENCED, 0 }, 0, false,
	  -EINVAL },
	{ "timeline_out_point_0", SYNCS_, 0, false, { OUT_ | TL_, H_EMPTY, 0 }, 0, false,
	  -EINVAL },
	{ "out_handle_0", SYNCS_, 0, false, { OUT_, H_NONE, 0 }, 0, false, -ENOENT },
	{ "out_missing_handle", SYNCS_, 0, false, { OUT_ | TL_, H_MISSING, 4 }, 0, false,
	  -ENOENT },
	{ "in_handle_0", SYNCS_, 0, false, { IN_, H_NONE, 0 }, 0, false, -ENOENT },
	{ "in_missing_handle", SYNCS_, 0, false, { IN_ | TL_, H_MISSING, 1 }, 0, false,
	  -ENOENT },
	/* drm_syncobj_find_fence(): no fence at all, or no such point yet. */
	{ "in_without_fence", SYNCS_, 0, false, { IN_, H_EMPTY, 0 }, 0, false, -EINVAL },
	{ "in_point_not_submitted", SYNCS_, 0, false, { IN_ | TL_, H_EMPTY, 1 }, 0, false,
	  -EINVAL },
	/* dma_fence_chain_find_seqno(): a point of a plain (binary) fence. */
	{ "in_point_of_a_binary_fence", SYNCS_, 0, false, { IN_ | TL_, H_BIN_FENCED, 1 }, 0,
	  false, -EINVAL },
};

TEST_F(timeline, bad_inputs_submit_nothing)
{
	struct accel_fence *witness, *tl_witness, *empty, *bin_fenced, *sig;
	struct drm_lumen_sync syncs[3];
	struct accel_cmdbuf *cb;
	uint32_t missing;
	size_t i;

	ASSERT_EQ(0, accel_fence_create(self->dev, &witness));
	ASSERT_EQ(0, accel_fence_create_timeline(self->dev, &tl_witness));
	ASSERT_EQ(0, accel_fence_create(self->dev, &empty));
	ASSERT_EQ(0, accel_fence_create(self->dev, &bin_fenced));
	ASSERT_EQ(0, lt_syncobj_signal(self->fd, accel_fence_syncobj(bin_fenced)));
	/* A handle that was valid once: created, then destroyed. */
	ASSERT_EQ(0, accel_fence_create(self->dev, &sig));
	missing = accel_fence_syncobj(sig);
	accel_fence_free(sig);
	ASSERT_NE(NULL, cb = job(self->dev, self->bo, false, SLOT(0), 0xbad));

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		const uint32_t handle_of[] = {
			[H_NONE] = 0,
			[H_WITNESS] = accel_fence_syncobj(witness),
			[H_TL_WITNESS] = accel_fence_syncobj(tl_witness),
			[H_EMPTY] = accel_fence_syncobj(empty),
			[H_BIN_FENCED] = accel_fence_syncobj(bin_fenced),
			[H_MISSING] = missing,
		};
		struct drm_lumen_submit args = {
			.cmdbuf_va = accel_cmdbuf_va(cb),
			.cmdbuf_size = accel_cmdbuf_size(cb),
			.flags = c->flags,
			.pad = c->pad,
			.syncs = c->bad_pointer ? (uintptr_t)lt_bad_pointer() : (uintptr_t)syncs,
			.sync_count = c->count ? c->count : (c->no_entry ? 2 : 3),
		};
		uint64_t point = 99;

		syncs[0] = (struct drm_lumen_sync){ OUT_, handle_of[H_WITNESS], 0 };
		syncs[1] = (struct drm_lumen_sync){ OUT_ | TL_, handle_of[H_TL_WITNESS], 1 };
		syncs[2] = c->entry;
		syncs[2].handle = handle_of[c->entry.handle];

		EXPECT_EQ(c->expected, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &args))
			TH_LOG("%s", c->name);
		/* No fence: a wait without WAIT_FOR_SUBMIT is -EINVAL (drm_syncobj.c). */
		EXPECT_EQ(-EINVAL, syncobj_wait(self->fd, &handle_of[H_WITNESS], 1, 0, 0, NULL))
			TH_LOG("%s: the binary out-sync got a fence", c->name);
		EXPECT_EQ(0, accel_fence_query(tl_witness, &point));
		EXPECT_EQ(0, point) TH_LOG("%s: the timeline out-sync got a point", c->name);
	}
	/* Nothing ran: the job would have written its slot. */
	EXPECT_EQ(0, self->map[SLOT(0) / 8]);

	/* The same arguments, made good, do run: the table tests the refusals only. */
	syncs[0] = (struct drm_lumen_sync){ OUT_, accel_fence_syncobj(witness), 0 };
	syncs[1] = (struct drm_lumen_sync){ OUT_ | TL_, accel_fence_syncobj(tl_witness), 1 };
	syncs[2] = (struct drm_lumen_sync){ IN_, accel_fence_syncobj(bin_fenced), 0 };
	struct drm_lumen_submit good = {
		.cmdbuf_va = accel_cmdbuf_va(cb),
		.cmdbuf_size = accel_cmdbuf_size(cb),
		.flags = SYNCS_,
		.syncs = (uintptr_t)syncs,
		.sync_count = 3,
	};
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &good));
	ASSERT_EQ(0, accel_fence_wait_point(tl_witness, 1, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(0, accel_fence_wait(witness, 0));
	EXPECT_EQ(0xbad, self->map[SLOT(0) / 8]);

	accel_cmdbuf_free(cb);
	accel_fence_free(bin_fenced);
	accel_fence_free(empty);
	accel_fence_free(tl_witness);
	accel_fence_free(witness);
}

TEST_HARNESS_MAIN
