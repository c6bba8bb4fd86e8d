// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * WAIT: memory semaphores between queues.  A job blocked in WAIT(sem >=
 * value) must not finish before the value is there; another queue's FENCE
 * or a CPU store through the BO's mapping releases it; a queue blocked in
 * a WAIT does not hold its engine, so a queue on the same engine still
 * runs; and a WAIT that is never satisfied ends in the job timeout
 * (-ETIMEDOUT) without disturbing other queues.
 *
 * "Not finished yet" is checked after a bounded sleep: a device that
 * ignored the WAIT would have run these few commands long before.
 *
 * The semaphore BO is deliberately not listed in the jobs' BO lists: that
 * would order the producer after the blocked consumer (implicit
 * synchronisation) and deadlock the very thing under test.  The test keeps
 * every BO alive until the jobs are done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define SEM_OFF		0	/* the semaphore */
#define MARK_OFF	64	/* written by the consumer after its WAIT */
#define DATA_OFF	4096	/* producer's data, 64 KiB */
#define OUT_OFF		(DATA_OFF + DATA_SIZE)	/* consumer's copy of it */
#define DATA_SIZE	(64 * 1024)
#define BO_SIZE		(OUT_OFF + DATA_SIZE)
#define MARK		0x6c756d656e5741ull	/* "lumenWA" */
#define PENDING_MS	300	/* how long a blocked job must stay blocked */

FIXTURE(sem) {
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_rng rng;
	struct accel_bo *bo;
	unsigned char *map;
	uint64_t va;
	struct accel_cmdbuf *cb[3];
	struct accel_fence *done[3];
};

FIXTURE_SETUP(sem)
{
	void *map;
	int i;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&self->rng);
	ASSERT_GE(self->info.num_queues, 2);
	ASSERT_EQ(0, accel_bo_create(self->dev, BO_SIZE, 0, &self->bo));
	ASSERT_EQ(0, accel_bo_map(self->bo, &map));
	self->map = map;
	self->va = accel_bo_va(self->bo);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, accel_cmdbuf_create(self->dev, 4096, &self->cb[i]));
		ASSERT_EQ(0, accel_fence_create(self->dev, &self->done[i]));
	}
}

FIXTURE_TEARDOWN(sem)
{
	int i;

	/*
	 * A job still blocked would read freed memory: let it time out first.
	 * (Status 0: submitted and pending; a fence never used is -EINVAL.)
	 */
	for (i = 0; i < 3; i++)
		if (self->done[i] && accel_fence_status(self->done[i]) == 0)
			accel_fence_wait(self->done[i], 60 * 1000000000ll);
	for (i = 0; i < 3; i++) {
		accel_fence_free(self->done[i]);
		accel_cmdbuf_free(self->cb[i]);
	}
	accel_bo_free(self->bo);
	accel_close(self->dev);
}

static uint64_t sem_read(FIXTURE_DATA(sem) *self, uint64_t off)
{
	return __atomic_load_n((uint64_t *)(self->map + off), __ATOMIC_SEQ_CST);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000l };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Asserts that job @i has not finished (after giving it PENDING_MS). */
#define ASSERT_PENDING(i) do {						\
	sleep_ms(PENDING_MS);						\
	ASSERT_EQ(-ETIME, accel_fence_wait(self->done[i], 0))		\
		TH_LOG("job %d finished although its WAIT was not satisfied", i); \
	ASSERT_EQ(0, accel_fence_status(self->done[i]));		\
} while (0)

/* Waits for job @i and asserts that it succeeded. */
#define ASSERT_JOB_OK(i) do {						\
	int __ret = accel_fence_wait(self->done[i], LT_JOB_TIMEOUT_NS);	\
	ASSERT_EQ(0, __ret) TH_LOG("job %d: %s", i, accel_strerror(__ret)); \
	__ret = accel_fence_status(self->done[i]);			\
	ASSERT_EQ(1, __ret) TH_LOG("job %d failed: %s", i, accel_strerror(__ret)); \
} while (0)

/* The consumer: WAIT(sem >= @value), then copy the data and write the mark. */
static void build_consumer(struct __test_metadata *_metadata,
			   FIXTURE_DATA(sem) *self, int i, uint64_t value)
{
	ASSERT_EQ(0, accel_cmd_wait(self->cb[i], self->va + SEM_OFF, value));
	ASSERT_EQ(0, accel_cmd_copy(self->cb[i], self->va + OUT_OFF,
				    self->va + DATA_OFF, DATA_SIZE));
	ASSERT_EQ(0, accel_cmd_fence(self->cb[i], self->va + MARK_OFF, MARK));
}

static void check_consumed(struct __test_metadata *_metadata, FIXTURE_DATA(sem) *self)
{
	EXPECT_EQ(MARK, sem_read(self, MARK_OFF));
	EXPECT_EQ(DATA_SIZE, lt_mismatch(self->map + OUT_OFF, self->map + DATA_OFF,
					 DATA_SIZE)) TH_LOG("the consumer copied stale data");
}

/*
 * Producer on queue @b: writes the data, then FENCE(sem, @value).  The
 * consumer (queue @a) must see the data: commands of a job run in order.
 */
static void producer_consumer(struct __test_metadata *_metadata,
			      FIXTURE_DATA(sem) *self, unsigned int a, unsigned int b)
{
	struct accel_bo *src;
	void *src_map;

	ASSERT_EQ(0, accel_bo_create(self->dev, DATA_SIZE, 0, &src));
	ASSERT_EQ(0, accel_bo_map(src, &src_map));
	lt_rng_fill(&self->rng, src_map, DATA_SIZE);

	build_consumer(_metadata, self, 0, 1);
	ASSERT_EQ(0, accel_submit(self->dev, a, self->cb[0], NULL, 0, NULL, self->done[0]));
	ASSERT_PENDING(0);
	EXPECT_EQ(0, sem_read(self, MARK_OFF));

	ASSERT_EQ(0, accel_cmd_copy(self->cb[1], self->va + DATA_OFF,
				    accel_bo_va(src), DATA_SIZE));
	ASSERT_EQ(0, accel_cmd_fence(self->cb[1], self->va + SEM_OFF, 1));
	ASSERT_EQ(0, accel_submit(self->dev, b, self->cb[1], NULL, 0, NULL, self->done[1]));
	ASSERT_JOB_OK(1);
	ASSERT_JOB_OK(0);
	check_consumed(_metadata, self);
	EXPECT_EQ(DATA_SIZE, lt_mismatch(self->map + DATA_OFF, src_map, DATA_SIZE));
	accel_bo_free(src);
}

/* Consumer on queue 0, producer on queue 1: two engines (or a compute and the DMA engine). */
TEST_F_TIMEOUT(sem, fence_on_other_queue_releases_wait, 120)
{
	producer_consumer(_metadata, self, 0, 1);
}

/*
 * Producer on a queue bound to the same engine as the blocked consumer:
 * a WAIT parks its queue, it does not hold the engine.
 */
TEST_F_TIMEOUT(sem, wait_does_not_hold_the_engine, 120)
{
	unsigned int same = self->info.num_engines;	/* (q + num_engines) % num_engines == q */

	if (self->info.num_queues <= same)
		SKIP(return, "only %u queues: none shares engine 0 with queue 0",
		     self->info.num_queues);
	producer_consumer(_metadata, self, 0, same);
}

/* A CPU store through the BO's mapping releases a WAIT; a smaller value does not. */
TEST_F_TIMEOUT(sem, cpu_write_releases_wait, 120)
{
	lt_rng_fill(&self->rng, self->map + DATA_OFF, DATA_SIZE);
	build_consumer(_metadata, self, 0, 5);
	ASSERT_EQ(0, accel_submit(self->dev, 0, self->cb[0], NULL, 0, NULL, self->done[0]));
	ASSERT_PENDING(0);

	__atomic_store_n((uint64_t *)(self->map + SEM_OFF), 4, __ATOMIC_SEQ_CST);
	ASSERT_PENDING(0);
	EXPECT_EQ(0, sem_read(self, MARK_OFF));

	/* Unsigned comparison: 2^63 is far above 5. */
	__atomic_store_n((uint64_t *)(self->map + SEM_OFF), 1ull << 63, __ATOMIC_SEQ_CST);
	ASSERT_JOB_OK(0);
	check_consumed(_metadata, self);
}

/* A WAIT already satisfied does not block; WAIT(>= 0) never does. */
TEST_F_TIMEOUT(sem, satisfied_wait_passes, 60)
{
	lt_rng_fill(&self->rng, self->map + DATA_OFF, DATA_SIZE);
	__atomic_store_n((uint64_t *)(self->map + SEM_OFF), 7, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, accel_cmd_wait(self->cb[0], self->va + MARK_OFF, 0));
	build_consumer(_metadata, self, 0, 7);
	ASSERT_EQ(0, accel_submit(self->dev, 0, self->cb[0], NULL, 0, NULL, self->done[0]));
	ASSERT_JOB_OK(0);
	check_consumed(_metadata, self);
}

/* The driver's job timeout in ms (module parameter), or -errno. */
static long job_timeout_ms(void)
{
	char buf[32];
	ssize_t len;
	int fd;

	fd = open("/sys/module/lumen/parameters/job_timeout_ms", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	buf[len] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * A WAIT nobody satisfies: the job fails with -ETIMEDOUT after the
 * driver's job timeout, while another queue keeps running jobs; then the
 * blocked queue runs jobs again.
 */
TEST_F_TIMEOUT(sem, unsatisfied_wait_times_out, 180)
{
	long timeout = job_timeout_ms();
	int64_t t0, elapsed;
	int i, ret;

	ASSERT_LT(0, timeout) TH_LOG("reading job_timeout_ms: %ld", timeout);
	/* 0 would mean no timeout at all; more than 30 s is too slow to test here. */
	if (timeout == 0 || timeout > 30000)
		SKIP(return, "job_timeout_ms is %ld: not testable in a bounded time", timeout);

	build_consumer(_metadata, self, 0, 1);
	t0 = lt_now_ns();
	ASSERT_EQ(0, accel_submit(self->dev, 0, self->cb[0], NULL, 0, NULL, self->done[0]));

	/* Meanwhile queue 1 runs jobs, each completing at once. */
	for (i = 0; i < 5; i++) {
		accel_cmdbuf_reset(self->cb[1]);
		ASSERT_EQ(0, accel_cmd_fence(self->cb[1], self->va + 128, i + 1));
		ASSERT_EQ(0, accel_submit(self->dev, 1, self->cb[1], NULL, 0, NULL,
					  self->done[1]));
		ASSERT_JOB_OK(1);
		EXPECT_EQ((uint64_t)i + 1, sem_read(self, 128));
	}
	ASSERT_EQ(-ETIME, accel_fence_wait(self->done[0], 0))
		TH_LOG("the blocked job ended while other queues ran");

	ret = accel_fence_wait(self->done[0], (timeout * 3 + 20000) * 1000000ll);
	ASSERT_EQ(0, ret) TH_LOG("the blocked job never ended: %s", accel_strerror(ret));
	elapsed = lt_now_ns() - t0;
	EXPECT_EQ(-ETIMEDOUT, accel_fence_status(self->done[0]));
	EXPECT_GE(elapsed, timeout * 1000000ll)
		TH_LOG("ended after %lld ms, before the %ld ms timeout",
		       (long long)(elapsed / 1000000), timeout);
	EXPECT_EQ(0, sem_read(self, MARK_OFF));

	/* The queue that timed out runs a WAIT that is satisfied. */
	lt_rng_fill(&self->rng, self->map + DATA_OFF, DATA_SIZE);
	__atomic_store_n((uint64_t *)(self->map + SEM_OFF), 1, __ATOMIC_SEQ_CST);
	accel_cmdbuf_reset(self->cb[2]);
	ASSERT_EQ(0, accel_cmd_wait(self->cb[2], self->va + SEM_OFF, 1));
	ASSERT_EQ(0, accel_cmd_copy(self->cb[2], self->va + OUT_OFF,
				    self->va + DATA_OFF, DATA_SIZE));
	ASSERT_EQ(0, accel_cmd_fence(self->cb[2], self->va + MARK_OFF, MARK));
	ASSERT_EQ(0, accel_submit(self->dev, 0, self->cb[2], NULL, 0, NULL, self->done[2]));
	ASSERT_JOB_OK(2);
	check_consumed(_metadata, self);
}

TEST_HARNESS_MAIN
