// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Concurrency: processes with their own files submitting at the same time
 * on the same and on different queues, threads sharing one file, and
 * processes that exit with jobs still in flight or still waiting.  Every
 * worker checks its own data byte for byte.  Processes have their own
 * files, hence their own device address spaces, and their BOs usually get
 * the same VAs: data coming back intact also shows that one context never
 * sees another's memory.  And many more files than the device has MMU
 * contexts all work at once.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"
#include "vgem.h"

#define ROUNDS 24

/*
 * ROUNDS random round trips (system -> device -> system, one job each) on
 * @queue of @dev.  Returns 0 or -errno, -EIO on wrong data; says why on
 * stdout as a KTAP diagnostic, since workers cannot use the harness.
 */
static int round_trips(struct accel_dev *dev, unsigned int queue,
		       uint64_t seed, const char *who)
{
	const uint64_t bo_size = LT_MIB + 8192;
	struct accel_bo *src, *mid, *dst;
	void *src_map, *mid_map, *dst_map;
	struct accel_cmdbuf *cb;
	struct lt_rng rng;
	int ret, round;

	lt_rng_init(&rng, seed);
	ret = lt_bo_create_mapped(dev, bo_size, 0, &src, &src_map);
	if (ret)
		return ret;
	ret = lt_bo_create_mapped(dev, bo_size, ACCEL_BO_DEVICE, &mid, &mid_map);
	if (ret)
		goto free_src;
	ret = lt_bo_create_mapped(dev, bo_size, 0, &dst, &dst_map);
	if (ret)
		goto free_mid;
	ret = lt_cmdbuf_create(dev, &cb);
	if (ret)
		goto free_dst;

	for (round = 0; round < ROUNDS && !ret; round++) {
		uint64_t size = 1 + lt_rng_below(&rng, LT_MIB);
		uint64_t src_off = lt_rng_below(&rng, 4096);
		uint64_t mid_off = lt_rng_below(&rng, 4096);
		uint64_t dst_off = lt_rng_below(&rng, 4096);

		lt_rng_fill(&rng, (unsigned char *)src_map + src_off, size);
		accel_cmdbuf_reset(cb);
		ret = accel_cmd_copy(cb, accel_bo_va(mid) + mid_off,
				     accel_bo_va(src) + src_off, size);
		if (!ret)
			ret = accel_cmd_copy(cb, accel_bo_va(dst) + dst_off,
					     accel_bo_va(mid) + mid_off, size);
		if (!ret)
			ret = lt_run_job(dev, queue, cb);
		if (ret) {
			printf("# %s: round %d: %s\n", who, round, accel_strerror(ret));
		} else if (lt_mismatch((unsigned char *)dst_map + dst_off,
				       (unsigned char *)src_map + src_off, size) != size) {
			printf("# %s: round %d: %llu bytes came back wrong\n", who,
			       round, (unsigned long long)size);
			ret = -EIO;
		}
	}

	accel_cmdbuf_free(cb);
free_dst:
	accel_bo_free(dst);
free_mid:
	accel_bo_free(mid);
free_src:
	accel_bo_free(src);
	return ret;
}

FIXTURE(multi) {
	struct accel_dev *dev;
	struct accel_info info;
	uint64_t seed;
};

FIXTURE_SETUP(multi)
{
	struct lt_rng rng;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&rng);
	self->seed = lt_rng_next(&rng);
}

FIXTURE_TEARDOWN(multi)
{
	if (self->dev)
		accel_close(self->dev);
}

/*
 * Forks one process per entry of @queues; each opens its own file and
 * starts when all are ready.  Returns how many failed.
 */
static int run_processes(const char *path, const unsigned int *queues, int n,
			 uint64_t seed)
{
	int start[2], failed = 0, i;
	pid_t pids[8];

	if (n > 8 || pipe(start))
		return n;
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct accel_dev *dev;
			char who[32], go;
			int ret;

			close(start[1]);
			snprintf(who, sizeof(who), "process %d, queue %u", i, queues[i]);
			ret = accel_open_path(path, &dev);
			/* Wait for the others: read() returns when the pipe closes. */
			if (read(start[0], &go, 1) < 0)
				_exit(2);
			if (ret) {
				printf("# %s: open: %s\n", who, accel_strerror(ret));
				_exit(1);
			}
			ret = round_trips(dev, queues[i], seed + i, who);
			accel_close(dev);
			_exit(ret ? 1 : 0);
		}
		if (pids[i] < 0)
			failed++;
	}
	close(start[0]);
	close(start[1]);	/* go */
	for (i = 0; i < n; i++) {
		int status;

		if (pids[i] < 0)
			continue;
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

TEST_F_TIMEOUT(multi, two_processes_same_queue, 300)
{
	const unsigned int queues[] = { 0, 0 };

	EXPECT_EQ(0, run_processes(self->info.path, queues, 2, self->seed));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_F_TIMEOUT(multi, two_processes_different_queues, 300)
{
	const unsigned int queues[] = { 0, self->info.num_queues - 1 };

	if (self->info.num_queues < 2)
		SKIP(return, "the device has a single queue");
	EXPECT_EQ(0, run_processes(self->info.path, queues, 2, self->seed));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_F_TIMEOUT(multi, four_processes_two_queues, 300)
{
	const unsigned int queues[] = { 0, 1, 0, 1 };

	if (self->info.num_queues < 2)
		SKIP(return, "the device has a single queue");
	EXPECT_EQ(0, run_processes(self->info.path, queues, 4, self->seed));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

struct thread_arg {
	struct accel_dev *dev;	/* shared by every thread */
	unsigned int queue;
	uint64_t seed;
	pthread_barrier_t *start;
	char who[32];
	int ret;
};

static void *thread_main(void *data)
{
	struct thread_arg *arg = data;

	pthread_barrier_wait(arg->start);
	arg->ret = round_trips(arg->dev, arg->queue, arg->seed, arg->who);
	return NULL;
}

/* Threads of one process share one file; @spread puts them on distinct queues. */
static void run_threads(struct __test_metadata *_metadata,
			FIXTURE_DATA(multi) *self, bool spread)
{
	enum { THREADS = 4 };
	struct thread_arg args[THREADS];
	pthread_t threads[THREADS];
	pthread_barrier_t start;
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, THREADS));
	for (i = 0; i < THREADS; i++) {
		args[i] = (struct thread_arg) {
			.dev = self->dev,
			.queue = spread ? i % self->info.num_queues : 0,
			.seed = self->seed + i,
			.start = &start,
		};
		snprintf(args[i].who, sizeof(args[i].who), "thread %d, queue %u",
			 i, args[i].queue);
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, thread_main, &args[i]));
	}
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		EXPECT_EQ(0, args[i].ret) TH_LOG("%s failed", args[i].who);
	}
	pthread_barrier_destroy(&start);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_F_TIMEOUT(multi, threads_share_one_file_one_queue, 300)
{
	run_threads(_metadata, self, false);
}

TEST_F_TIMEOUT(multi, threads_share_one_file_many_queues, 300)
{
	run_threads(_metadata, self, true);
}

/*
 * A process that submits a pile of work and exits (or is killed) without
 * waiting must leave the device fit for everyone else.
 */
TEST_F_TIMEOUT(multi, exit_with_jobs_in_flight, 120)
{
	int how;

	for (how = 0; how < 2; how++) {
		int status, ready[2];
		char c;
		pid_t pid;

		ASSERT_EQ(0, pipe(ready));
		fflush(stdout);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			const uint64_t size = 8 * LT_MIB;
			struct accel_bo *src, *dst;
			struct accel_cmdbuf *cb;
			struct accel_dev *dev;
			void *map;
			int i;

			if (accel_open_path(self->info.path, &dev) ||
			    lt_bo_create_mapped(dev, size, 0, &src, &map) ||
			    lt_bo_create_mapped(dev, size, ACCEL_BO_DEVICE, &dst, &map) ||
			    lt_cmdbuf_create(dev, &cb) ||
			    accel_cmd_copy(cb, accel_bo_va(dst), accel_bo_va(src), size))
				_exit(1);
			for (i = 0; i < 32; i++)
				if (accel_submit(dev, i % self->info.num_queues, cb,
						 NULL, 0, NULL, NULL))
					_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			if (how == 1)
				pause();	/* killed below */
			_exit(0);
		}
		close(ready[1]);
		ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the child could not submit");
		close(ready[0]);
		if (how == 1)
			kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (how == 0)
			EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		LT_ASSERT_DEVICE_WORKS(self->dev);
	}
}

/* Passes file descriptor @fd over the unix socket @sock (SCM_RIGHTS). */
static int send_fd(int sock, int fd)
{
	char byte = 'f', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receives a file descriptor sent by send_fd(): the fd, or -1. */
static int recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/*
 * The child of exit_with_blocked_job_drops_it: a job waiting for the fence
 * of sync_file @in_fd, its completion fence sent to the parent as a
 * sync_file, then exit.  Exit status 0 or 1.
 */
static int submit_blocked_job_and_exit(const char *path, int in_fd, int sock)
{
	struct accel_fence *wait, *done;
	struct accel_cmdbuf *cb;
	struct accel_dev *dev;
	struct accel_bo *bo;
	int sync_fd;

	if (accel_open_path(path, &dev) || accel_fence_create(dev, &wait) ||
	    accel_fence_create(dev, &done) ||
	    lt_syncobj_import(accel_fd(dev), accel_fence_syncobj(wait), in_fd) ||
	    accel_bo_create(dev, 4096, 0, &bo) || lt_cmdbuf_create(dev, &cb) ||
	    accel_cmd_fence(cb, accel_bo_va(bo), 1) ||
	    accel_submit(dev, 0, cb, NULL, 0, wait, done))
		return 1;
	sync_fd = lt_syncobj_export(accel_fd(dev), accel_fence_syncobj(done));
	if (sync_fd < 0 || send_fd(sock, sync_fd))
		return 1;
	/* Exit with the job queued behind a fence only the parent can signal. */
	return 0;
}

/*
 * A process that exits while its job still waits for its in-fence: the
 * job is dropped and never runs, and its fence reports -ESRCH
 * (Documentation/uapi.rst, "Job status").  The parent owns the in-fence (a
 * vgem fence) and signals it only once the process is gone: a job that had
 * not been dropped would then run and report 1.  (The scheduler signals a
 * dropped job's fence only after the job's dependencies have signalled.)
 */
TEST_F_TIMEOUT(multi, exit_with_blocked_job_drops_it, 60)
{
	int sock[2], in_fd, sync_fd, status, job = 0, tries, ret;
	struct vgem_fence vf;
	pid_t pid;

	ret = vgem_fence_create(&vf);
	if (ret == -ENODEV)
		SKIP(return, "vgem is not available to make a pending fence");
	ASSERT_EQ(0, ret);
	in_fd = vgem_fence_export(&vf);
	ASSERT_LE(0, in_fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sock));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sock[0]);
		_exit(submit_blocked_job_and_exit(self->info.path, in_fd, sock[1]));
	}
	close(sock[1]);
	close(in_fd);
	sync_fd = recv_fd(sock[0]);
	close(sock[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_LE(0, sync_fd);

	ASSERT_EQ(0, lt_sync_file_status(sync_fd, &job));
	EXPECT_EQ(0, job) TH_LOG("the job finished before its in-fence signalled");
	ASSERT_EQ(0, vgem_fence_signal(&vf));
	for (tries = 0; tries < 100 && job == 0; tries++) {
		ASSERT_EQ(0, lt_sync_file_status(sync_fd, &job));
		if (job == 0)
			usleep(50 * 1000);
	}
	EXPECT_EQ(-ESRCH, job) TH_LOG("1 means the job ran after its process exited");
	vgem_fence_destroy(&vf);
	close(sync_fd);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * Many more files than the device has MMU contexts, all open at once, each
 * with a job in flight: a context is bound to a file only while it has
 * work, so every file works, and submits beyond the free contexts wait
 * for one to become idle.  Each job fills its own file's BO with a pattern
 * of its own; a job run with another file's page tables would fault or
 * fill the wrong memory.  A second round binds every file again, to
 * contexts other files used in between.
 */
#define MANY_FILES	200
#define MANY_BO_SIZE	(16 * 1024)

struct many_file {
	struct accel_dev *dev;
	struct accel_bo *bo;
	uint64_t *map;
	struct accel_cmdbuf *cb;
	struct accel_fence *done;
};

static uint64_t many_pattern(uint64_t seed, int file, int round)
{
	return seed ^ ((uint64_t)file << 32) ^ ((uint64_t)round << 56) ^ 0x5a5a5a5aULL;
}

static int many_open(const char *path, struct many_file *f)
{
	void *map;
	int ret;

	ret = accel_open_path(path, &f->dev);
	if (!ret)
		ret = lt_bo_create_mapped(f->dev, MANY_BO_SIZE, 0, &f->bo, &map);
	if (!ret) {
		f->map = map;
		ret = lt_cmdbuf_create(f->dev, &f->cb);
	}
	if (!ret)
		ret = accel_fence_create(f->dev, &f->done);
	return ret;
}

static void many_close(struct many_file *f)
{
	accel_fence_free(f->done);
	accel_cmdbuf_free(f->cb);
	accel_bo_free(f->bo);
	accel_close(f->dev);
}

static int many_submit(struct many_file *f, unsigned int queue, uint64_t pattern)
{
	int ret;

	accel_cmdbuf_reset(f->cb);
	ret = accel_cmd_fill(f->cb, accel_bo_va(f->bo), MANY_BO_SIZE, pattern);
	if (!ret)
		ret = accel_submit(f->dev, queue, f->cb, NULL, 0, NULL, f->done);
	return ret;
}

/* Index of the first word of @f's BO that is not @pattern, or -1. */
static long many_bad_word(const struct many_file *f, uint64_t pattern)
{
	size_t i;

	for (i = 0; i < MANY_BO_SIZE / sizeof(uint64_t); i++)
		if (f->map[i] != pattern)
			return (long)i;
	return -1;
}

TEST_F_TIMEOUT(multi, many_more_files_than_contexts_all_run_jobs, 600)
{
	struct many_file *files;
	int i, round, ret;

	ASSERT_LT(self->info.num_contexts, MANY_FILES) TH_LOG("too many contexts for the test");
	files = calloc(MANY_FILES, sizeof(*files));
	ASSERT_NE(NULL, files);
	for (i = 0; i < MANY_FILES; i++) {
		ret = many_open(self->info.path, &files[i]);
		ASSERT_EQ(0, ret) TH_LOG("file %d: %s", i, accel_strerror(ret));
	}

	for (round = 0; round < 2; round++) {
		/* All submitted before any is waited for. */
		for (i = 0; i < MANY_FILES; i++) {
			ret = many_submit(&files[i], i % self->info.num_queues,
					  many_pattern(self->seed, i, round));
			ASSERT_EQ(0, ret) TH_LOG("round %d file %d: submit: %s", round, i,
						 accel_strerror(ret));
		}
		for (i = 0; i < MANY_FILES; i++) {
			uint64_t pattern = many_pattern(self->seed, i, round);
			long bad;

			ret = lt_job_result(files[i].done);
			ASSERT_EQ(0, ret) TH_LOG("round %d file %d: job: %s", round, i,
						 accel_strerror(ret));
			bad = many_bad_word(&files[i], pattern);
			ASSERT_EQ(-1, bad) TH_LOG("round %d file %d: word %ld is %#llx, not %#llx",
						  round, i, bad,
						  (unsigned long long)files[i].map[bad],
						  (unsigned long long)pattern);
		}
	}

	for (i = 0; i < MANY_FILES; i++)
		many_close(&files[i]);
	free(files);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_HARNESS_MAIN
