// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Stress: 8 processes x 4 threads, each thread submitting JOBS small jobs
 * to a user queue of its own (compute and DMA engines, normal and low
 * priority), every job depending on a job of another queue: of another
 * process for odd jobs, of another thread of the same process for even
 * ones.  The dependencies are timeline syncobjs made once and shared by
 * every process as syncobj file descriptors; the data is one BO shared as
 * a dma-buf.
 *
 * Job j of thread (p, t) runs three commands:
 *   COPY   in[p][t][j]  <- val[dep]      (dep: job j - 1 of the other queue)
 *   TIMESTAMP ts[p][t][j]
 *   FENCE  val[p][t][j] <- code(p, t, j)
 * so afterwards in[] proves that each job ran after its dependency had
 * written its value (the BO starts zeroed, and codes are never 0), and the
 * timestamps prove each queue ran in order and after each dependency.
 * The expected values are computed here from (p, t, j) alone.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xf86drm.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define PROCS		8
#define THREADS		4
#define JOBS		1000
#define QUEUES		(PROCS * THREADS)
#define CMDS		3	/* per job */
#define SEC		1000000000ll
#define MAX_JOBS	64	/* unfinished jobs per user queue */

/* The shared BO: val[], in[], ts[], each QUEUES * JOBS u64. */
#define SLOTS		((uint64_t)QUEUES * JOBS)
#define VAL(i)		(8 * (uint64_t)(i))
#define IN(i)		(8 * (SLOTS + (uint64_t)(i)))
#define TS(i)		(8 * (2 * SLOTS + (uint64_t)(i)))
#define BO_BYTES	(8 * 3 * SLOTS)

static unsigned int slot(unsigned int p, unsigned int t, unsigned int j)
{
	return (p * THREADS + t) * JOBS + j;
}

static uint64_t code(unsigned int p, unsigned int t, unsigned int j)
{
	return 0x5700000000000000ull | (uint64_t)p << 40 | (uint64_t)t << 32 | (j + 1);
}

/* The queue job j of (p, t) depends on (its job j - 1), for j >= 1. */
static void dep_of(unsigned int p, unsigned int t, unsigned int j,
		   unsigned int *dp, unsigned int *dt)
{
	if (j % 2) {
		*dp = (p + 1) % PROCS;	/* another process, same thread index */
		*dt = t;
	} else {
		*dp = p;		/* another thread of this process */
		*dt = (t + 1) % THREADS;
	}
}

/* ---- One process ----------------------------------------------------------- */

struct proc {
	unsigned int p;
	struct accel_dev *dev;
	int fd;
	uint64_t bo_va;			/* the shared BO in this file */
	uint32_t tl[QUEUES];		/* every queue's timeline, imported */
};

struct thread {
	struct proc *proc;
	unsigned int t;
	struct accel_queue *queue;
	struct accel_cmdbuf *cb;
	int err;			/* 0 or the first failure's -errno */
	const char *what;
};

/* Waits until @point of timeline @tl has a fence (@avail) or has signalled. */
static int tl_wait(int fd, uint32_t tl, uint64_t point, bool avail)
{
	uint32_t flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT |
			 (avail ? DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE : 0);

	if (drmSyncobjTimelineWait(fd, &tl, &point, 1, lt_now_ns() + 120 * SEC, flags, NULL))
		return -errno;
	return 0;
}

static int build(struct thread *th)
{
	struct proc *pr = th->proc;
	int ret = 0;

	for (unsigned int j = 0; j < JOBS && !ret; j++) {
		unsigned int dp, dt, s = slot(pr->p, th->t, j);
		uint64_t src;

		dep_of(pr->p, th->t, j, &dp, &dt);
		/*
		 * Job 0 has no dependency: it copies its own timestamp slot,
		 * still zero then (its TIMESTAMP comes after the COPY).
		 */
		src = j ? VAL(slot(dp, dt, j - 1)) : TS(s);
		ret = accel_cmd_copy(th->cb, pr->bo_va + IN(s), pr->bo_va + src, 8);
		if (!ret)
			ret = accel_cmd_timestamp(th->cb, pr->bo_va + TS(s));
		if (!ret)
			ret = accel_cmd_fence(th->cb, pr->bo_va + VAL(s), code(pr->p, th->t, j));
	}
	return ret;
}

/* Submits job @j: waits for its dependency's point, signals point j + 1. */
static int submit_job(struct thread *th, unsigned int j)
{
	struct proc *pr = th->proc;
	unsigned int q = pr->p * THREADS + th->t, dp, dt;
	struct drm_lumen_sync syncs[2];
	struct drm_lumen_submit args = {
		.cmdbuf_va = accel_cmdbuf_va(th->cb) + 64ull * CMDS * j,
		.cmdbuf_size = 64 * CMDS,
		.queue = accel_queue_id(th->queue),
		.flags = DRM_LUMEN_SUBMIT_QUEUE_ID | DRM_LUMEN_SUBMIT_SYNCS,
		.syncs = (uintptr_t)syncs,
	};
	int ret;

	syncs[0] = (struct drm_lumen_sync){
		.flags = DRM_LUMEN_SYNC_OUT | DRM_LUMEN_SYNC_TIMELINE,
		.handle = pr->tl[q], .point = j + 1,
	};
	args.sync_count = 1;
	if (j) {
		dep_of(pr->p, th->t, j, &dp, &dt);
		/* The driver wants the point submitted already. */
		ret = tl_wait(pr->fd, pr->tl[dp * THREADS + dt], j, true);
		if (ret) {
			th->what = "waiting for the dependency to be submitted";
			return ret;
		}
		syncs[1] = (struct drm_lumen_sync){
			.flags = DRM_LUMEN_SYNC_TIMELINE,
			.handle = pr->tl[dp * THREADS + dt], .point = j,
		};
		args.sync_count = 2;
	}
	for (;;) {
		ret = ioctl(pr->fd, DRM_IOCTL_LUMEN_SUBMIT, &args) ? -errno : 0;
		if (ret == -EINTR)
			continue;
		if (ret != -EAGAIN)
			break;
		/* Queue full: wait for an older job of it. */
		if (j < MAX_JOBS / 2) {
			th->what = "queue full with fewer than 64 jobs";
			return -EPROTO;
		}
		ret = tl_wait(pr->fd, pr->tl[q], j + 1 - MAX_JOBS / 2, false);
		if (ret) {
			th->what = "waiting for room in the queue";
			return ret;
		}
	}
	if (ret)
		th->what = "submit";
	return ret;
}

static void *thread_main(void *arg)
{
	struct thread *th = arg;
	unsigned int q = th->proc->p * THREADS + th->t;

	th->err = accel_cmdbuf_create(th->proc->dev, 64 * CMDS * JOBS + 4096, &th->cb);
	th->what = "accel_cmdbuf_create";
	if (!th->err) {
		th->err = build(th);
		th->what = "encoding";
	}
	for (unsigned int j = 0; j < JOBS && !th->err; j++)
		th->err = submit_job(th, j);
	/* Our last job done: the command buffer may go. */
	if (!th->err) {
		th->err = tl_wait(th->proc->fd, th->proc->tl[q], JOBS, false);
		th->what = "waiting for the last job";
	}
	accel_cmdbuf_free(th->cb);
	return NULL;
}

/* The child process body; its exit status says what failed (0: nothing). */
static int proc_main(unsigned int p, int dmabuf, const int *tl_fds)
{
	static const struct { enum accel_engine_class cls; enum accel_priority prio; }
	kinds[THREADS] = {
		{ ACCEL_ENGINE_COMPUTE, ACCEL_PRIORITY_NORMAL },
		{ ACCEL_ENGINE_DMA, ACCEL_PRIORITY_NORMAL },
		{ ACCEL_ENGINE_COMPUTE, ACCEL_PRIORITY_LOW },
		{ ACCEL_ENGINE_COMPUTE, ACCEL_PRIORITY_NORMAL },
	};
	struct proc pr = { .p = p };
	struct thread th[THREADS] = { 0 };
	pthread_t tid[THREADS];
	struct accel_info info;
	struct accel_bo *bo;
	int status = 0;

	if (lt_open_first(&pr.dev, &info))
		return 10;
	pr.fd = accel_fd(pr.dev);
	if (accel_bo_import(pr.dev, dmabuf, &bo))
		return 11;
	pr.bo_va = accel_bo_va(bo);
	for (unsigned int q = 0; q < QUEUES; q++)
		if (drmSyncobjFDToHandle(pr.fd, tl_fds[q], &pr.tl[q]))
			return 12;
	for (unsigned int t = 0; t < THREADS; t++) {
		th[t].proc = &pr;
		th[t].t = t;
		if (accel_queue_create(pr.dev, kinds[t].cls, ACCEL_ENGINE_ANY, kinds[t].prio,
				       &th[t].queue))
			return 13;
	}
	for (unsigned int t = 0; t < THREADS; t++)
		if (pthread_create(&tid[t], NULL, thread_main, &th[t]))
			return 14;
	for (unsigned int t = 0; t < THREADS; t++) {
		pthread_join(tid[t], NULL);
		if (th[t].err && !status) {
			fprintf(stderr, "# process %u thread %u: %s: %s\n", p, t, th[t].what,
				accel_strerror(th[t].err));
			status = 20 + t;
		}
		if (accel_queue_destroy(th[t].queue) && !status)
			status = 30 + t;
	}
	accel_bo_free(bo);
	accel_close(pr.dev);
	return status;
}

/* ---- The test ------------------------------------------------------------------ */

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

/* Well above the minute or two it takes under TCG; a hang still ends. */
TEST_F_TIMEOUT(stress, processes_threads_dependencies, 600)
{
	struct accel_dev *dev;
	struct accel_info info;
	struct accel_bo *bo;
	volatile uint64_t *map;
	uint32_t tl[QUEUES];
	int tl_fds[QUEUES], dmabuf;
	pid_t pids[PROCS];
	unsigned int bad_val = 0, bad_in = 0, bad_order = 0, bad_dep = 0;
	int64_t t0;
	void *m;

	LT_OPEN_OR_SKIP(&dev, &info);
	ASSERT_EQ(0, lt_bo_create_mapped(dev, BO_BYTES, 0, &bo, &m));
	map = m;
	ASSERT_EQ(0, accel_bo_export(bo, &dmabuf));
	for (unsigned int q = 0; q < QUEUES; q++) {
		ASSERT_EQ(0, drmSyncobjCreate(accel_fd(dev), 0, &tl[q]));
		ASSERT_EQ(0, drmSyncobjHandleToFD(accel_fd(dev), tl[q], &tl_fds[q]));
	}

	t0 = lt_now_ns();
	for (unsigned int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ASSERT_LE(0, pids[p]);
		if (pids[p] == 0)
			_exit(proc_main(p, dmabuf, tl_fds));
	}
	for (unsigned int p = 0; p < PROCS; p++) {
		int status;

		ASSERT_EQ(pids[p], waitpid(pids[p], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("process %u: status %#x (10..14 setup, 20+t thread t failed, 30+t destroy)",
			       p, status);
	}
	/* Every job's point signalled, seen from the parent's own handles too. */
	for (unsigned int q = 0; q < QUEUES; q++) {
		ASSERT_EQ(0, tl_wait(accel_fd(dev), tl[q], JOBS, false)) TH_LOG("queue %u", q);
	}
	TH_LOG("%u jobs on %u user queues in %.1f s", QUEUES * JOBS, QUEUES,
	       (lt_now_ns() - t0) / 1e9);

	for (unsigned int p = 0; p < PROCS; p++) {
		for (unsigned int t = 0; t < THREADS; t++) {
			for (unsigned int j = 0; j < JOBS; j++) {
				unsigned int s = slot(p, t, j), dp, dt;
				uint64_t want_in = 0;

				if (map[VAL(s) / 8] != code(p, t, j))
					bad_val++;
				if (j && map[TS(s) / 8] <= map[TS(s - 1) / 8])
					bad_order++;
				if (j) {
					dep_of(p, t, j, &dp, &dt);
					want_in = code(dp, dt, j - 1);
					if (map[TS(s) / 8] <= map[TS(slot(dp, dt, j - 1)) / 8])
						bad_dep++;
				}
				if (map[IN(s) / 8] != want_in) {
					if (bad_in < 5)
						TH_LOG("job %u of process %u thread %u read %#llx, want %#llx",
						       j, p, t, (unsigned long long)map[IN(s) / 8],
						       (unsigned long long)want_in);
					bad_in++;
				}
			}
		}
	}
	EXPECT_EQ(0, bad_val) TH_LOG("jobs whose value is wrong");
	EXPECT_EQ(0, bad_in) TH_LOG("jobs that ran before their dependency wrote");
	EXPECT_EQ(0, bad_order) TH_LOG("jobs out of order on their queue");
	EXPECT_EQ(0, bad_dep) TH_LOG("jobs timestamped before their dependency");

	for (unsigned int q = 0; q < QUEUES; q++) {
		close(tl_fds[q]);
		drmSyncobjDestroy(accel_fd(dev), tl[q]);
	}
	close(dmabuf);
	accel_bo_free(bo);
	accel_close(dev);
}

TEST_HARNESS_MAIN
