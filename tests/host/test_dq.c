// SPDX-License-Identifier: MIT
/*
 * libaccel's direct queues (LIBACCEL_1.2), library logic only: the ring
 * entries accel_dq_push() writes, decoded by an independent reader
 * (decode.h); the doorbell value accel_dq_kick() stores; ring-space
 * accounting from the completion word (-EAGAIN, -E2BIG, wrap-around);
 * what accel_dq_wait() asks DRM_IOCTL_LUMEN_DQ_WAIT, captured by a
 * stand-in for drmIoctl(); and accel_query()'s num_direct_queues.
 *
 * The queue lives over plain memory (libaccel_dq_init()): the "device"
 * is this test writing the completion word and the doorbell page's
 * STATUS view.  Nothing here claims to test the device or the driver;
 * tests/guest/direct.c does, in the VM.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "decode.h"
#include "fake.h"

/* Written out as numbers (driver/lumen_regs.h), not taken from it. */
#define OP_NOP		0x00
#define OP_FENCE	0x01
#define OP_INDIRECT	0x04
#define OP_FILL		0x11
#define FENCE_IRQ	0x01
#define DB_TAIL		(0x00 / 4)
#define DB_STATUS	(0x08 / 4)
#define ST_ENABLED	0x1
#define ST_ERROR	0x4

#define RING_VA		0x0000000200000000ull
#define DONE_VA		0x0000000300000000ull
#define CB_VA		DEC_VA
#define MAX_ENTRIES	64

static struct {
	int calls;
	unsigned long request;
	int fail;			/* errno the next ioctl fails with, or 0 */
	struct drm_lumen_dq_wait wait;	/* as the library passed it */
	struct drm_lumen_dq_wait answer; /* error fields copied back on -EIO */
	bool complete;			/* make *addr = value before returning */
	uint32_t direct_queues;		/* QUERY answer */
} seen;

int drmIoctl(int fd, unsigned long request, void *arg);

int drmIoctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	seen.calls++;
	seen.request = request;
	if (request == DRM_IOCTL_LUMEN_DQ_WAIT) {
		struct drm_lumen_dq_wait *w = arg;

		seen.wait = *w;
		if (seen.complete)
			*(uint64_t *)(uintptr_t)w->addr = w->value;
		if (seen.fail == EIO) {
			w->error = seen.answer.error;
			w->error_head = seen.answer.error_head;
			w->fault_va = seen.answer.fault_va;
		}
	}
	if (request == DRM_IOCTL_LUMEN_QUERY) {
		struct drm_lumen_query *q = arg;
		struct drm_lumen_device_info di = {
			.vendor_id = 0x1234,
			.num_queues = 8,
			.num_direct_queues = seen.direct_queues,
		};

		memcpy((void *)(uintptr_t)q->data, &di, sizeof(di));
		q->size = sizeof(di);
	}
	if (seen.fail) {
		errno = seen.fail;
		return -1;
	}
	return 0;
}

FIXTURE(dq) {
	struct accel_dev dev, other;
	struct accel_bo cb_bo;
	struct accel_cmdbuf cb;
	uint64_t cb_mem[2048 / 8];
	struct accel_dq dq;
	uint8_t ring[MAX_ENTRIES * DEC_CMD_SIZE];
	uint64_t done;
	uint32_t doorbell[1024];
};

/* A queue of @entries over the fixture's memory, the ring poisoned. */
#define make_dq(self, entries) do {					\
	memset((self)->ring, DEC_POISON, sizeof((self)->ring));	\
	(self)->done = 0;						\
	memset((self)->doorbell, 0, sizeof((self)->doorbell));		\
	(self)->doorbell[DB_STATUS] = ST_ENABLED;			\
	libaccel_dq_fini(&(self)->dq);					\
	ASSERT_EQ(0, libaccel_dq_init(&(self)->dq, &(self)->dev, (entries), \
				      (self)->ring, RING_VA, &(self)->done, \
				      DONE_VA, (self)->doorbell));	\
} while (0)

/* @cb holds @n commands: FILLs whose arguments name their index. */
static int fill_cb(struct accel_cmdbuf *cb, unsigned int n)
{
	int err = 0;

	accel_cmdbuf_reset(cb);
	for (unsigned int i = 0; i < n && !err; i++)
		err = accel_cmd_fill(cb, 0x100000000ull + i * 0x1000, 8 + i, i);
	return err;
}

#define make_cb(cb, n)	ASSERT_EQ(0, fill_cb((cb), (n)))

FIXTURE_SETUP(dq)
{
	memset(&seen, 0, sizeof(seen));
	self->dev = fake_dev();
	self->other = fake_dev();
	self->cb_bo = fake_bo_at(&self->dev, 1, sizeof(self->cb_mem), CB_VA);
	fake_cmdbuf(&self->cb, &self->dev, &self->cb_bo, self->cb_mem,
		    sizeof(self->cb_mem), CB_VA, sizeof(self->cb_mem));
	memset(&self->dq, 0, sizeof(self->dq));
	make_dq(self, 16);
}

FIXTURE_TEARDOWN(dq)
{
	libaccel_dq_fini(&self->dq);
}

TEST_F(dq, init_takes_powers_of_two_from_2_to_65536)
{
	const uint32_t bad[] = { 0, 1, 3, 6, 1000, 65537, 131072, 0x80000000u };
	struct accel_dq q;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, libaccel_dq_init(&q, &self->dev, bad[i], self->ring,
						    RING_VA, &self->done, DONE_VA,
						    self->doorbell)) {
			TH_LOG("entries %u", bad[i]);
		}
	}
	ASSERT_EQ(0, libaccel_dq_init(&q, &self->dev, 2, self->ring, RING_VA,
				      &self->done, DONE_VA, self->doorbell));
	libaccel_dq_fini(&q);
	ASSERT_EQ(0, libaccel_dq_init(&q, &self->dev, 65536, self->ring, RING_VA,
				      &self->done, DONE_VA, self->doorbell));
	libaccel_dq_fini(&q);
}

/* A small job is copied into the ring, then the FENCE; no doorbell yet. */
TEST_F(dq, small_job_is_inlined_then_fenced)
{
	uint64_t seq = 0;

	make_cb(&self->cb, 2);
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(1, seq);
	EXPECT_EQ(0, memcmp(self->ring, self->cb_mem, 2 * DEC_CMD_SIZE));
	EXPECT_CMD(self->ring, 0, OP_FILL, 0, 0x100000000ull, 8, 0);
	EXPECT_CMD(self->ring, 1, OP_FILL, 0, 0x100001000ull, 9, 1);
	EXPECT_CMD(self->ring, 2, OP_FENCE, FENCE_IRQ, DONE_VA, 1);
	/* Nothing else touched, and the device was not told. */
	for (size_t i = 3 * DEC_CMD_SIZE; i < 16 * DEC_CMD_SIZE; i++)
		ASSERT_EQ(DEC_POISON, self->ring[i]);
	EXPECT_EQ(0, self->doorbell[DB_TAIL]);
	EXPECT_EQ(0, accel_dq_completed(&self->dq));
	EXPECT_EQ(0, seen.calls);
}

/* More than ACCEL_DQ_INLINE_MAX (8) commands: one INDIRECT, context 0. */
TEST_F(dq, large_job_is_one_indirect)
{
	uint64_t seq;

	make_cb(&self->cb, 9);
	make_dq(self, 64);
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_CMD(self->ring, 0, OP_INDIRECT, 0, CB_VA, 9 * 64, 0);
	EXPECT_CMD(self->ring, 1, OP_FENCE, FENCE_IRQ, DONE_VA, 1);
	EXPECT_EQ(DEC_POISON, self->ring[2 * DEC_CMD_SIZE]);

	/* Exactly 8 is still copied. */
	make_cb(&self->cb, 8);
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(2, seq);
	EXPECT_CMD(self->ring, 2, OP_FILL, 0, 0x100000000ull, 8, 0);
	EXPECT_CMD(self->ring, 9, OP_FILL, 0, 0x100007000ull, 15, 7);
	EXPECT_CMD(self->ring, 10, OP_FENCE, FENCE_IRQ, DONE_VA, 2);
}

/* A job copied in takes at most a quarter of the ring. */
TEST_F(dq, small_rings_inline_less)
{
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	make_dq(self, 4);	/* 1 + 1 > 4 / 4: INDIRECT */
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_CMD(self->ring, 0, OP_INDIRECT, 0, CB_VA, 64, 0);
	EXPECT_CMD(self->ring, 1, OP_FENCE, FENCE_IRQ, DONE_VA, 1);
	make_dq(self, 8);	/* 1 + 1 <= 8 / 4: copied */
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_CMD(self->ring, 0, OP_NOP, 0, 0);
	EXPECT_CMD(self->ring, 1, OP_FENCE, FENCE_IRQ, DONE_VA, 1);
	make_cb(&self->cb, 2);	/* 2 + 1 > 8 / 4 */
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_CMD(self->ring, 2, OP_INDIRECT, 0, CB_VA, 128, 0);
	EXPECT_CMD(self->ring, 3, OP_FENCE, FENCE_IRQ, DONE_VA, 2);
}

/* One doorbell store for everything pushed: the new tail, ring index. */
TEST_F(dq, kick_writes_the_tail_once)
{
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_dq_kick(&self->dq));	/* nothing pushed */
	EXPECT_EQ(0, self->doorbell[DB_TAIL]);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(0, self->doorbell[DB_TAIL]);
	ASSERT_EQ(0, accel_dq_kick(&self->dq));
	EXPECT_EQ(6, self->doorbell[DB_TAIL]);
	/* A second kick with nothing new does not store. */
	self->doorbell[DB_TAIL] = 0xdead;
	ASSERT_EQ(0, accel_dq_kick(&self->dq));
	EXPECT_EQ(0xdead, self->doorbell[DB_TAIL]);
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	EXPECT_EQ(4, seq);
	EXPECT_EQ(8, self->doorbell[DB_TAIL]);
	EXPECT_EQ(0, seen.calls);
}

/*
 * 16 entries, 2 per job: 7 jobs fit before any completes (15 entries in
 * flight at most); then each completion frees its entries, except the
 * FENCE entry of the last completed job, which may not have retired.
 */
TEST_F(dq, space_follows_the_completion_word)
{
	uint8_t before[sizeof(self->ring)];
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(15, libaccel_dq_space(&self->dq));
	for (uint64_t i = 1; i <= 7; i++) {
		ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
		EXPECT_EQ(i, seq);
	}
	EXPECT_EQ(1, libaccel_dq_space(&self->dq));
	memcpy(before, self->ring, sizeof(before));
	seq = 99;
	EXPECT_EQ(-EAGAIN, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(99, seq);
	EXPECT_EQ(0, memcmp(before, self->ring, sizeof(before)));
	/* A running queue (STATUS view) is just full: no system call. */
	EXPECT_EQ(0, seen.calls);

	self->done = 1;		/* job 1's NOP retired, its FENCE may not */
	EXPECT_EQ(2, libaccel_dq_space(&self->dq));
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(8, seq);
	/* Job 8 wrapped onto entries 14, 15. */
	EXPECT_CMD(self->ring, 14, OP_NOP, 0, 0);
	EXPECT_CMD(self->ring, 15, OP_FENCE, FENCE_IRQ, DONE_VA, 8);
	EXPECT_EQ(-EAGAIN, accel_dq_push(&self->dq, &self->cb, &seq));

	self->done = 8;		/* all done: only job 8's FENCE entry counts */
	EXPECT_EQ(14, libaccel_dq_space(&self->dq));
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	EXPECT_EQ(9, seq);
	/* Past the end: entries 0 and 1 again, tail 2. */
	EXPECT_CMD(self->ring, 0, OP_NOP, 0, 0);
	EXPECT_CMD(self->ring, 1, OP_FENCE, FENCE_IRQ, DONE_VA, 9);
	EXPECT_EQ(2, self->doorbell[DB_TAIL]);
	EXPECT_EQ(0, seen.calls);
}

/* Many laps of a small ring: the accounting never lets TAIL reach HEAD. */
TEST_F(dq, many_laps_keep_the_ring_consistent)
{
	uint64_t seq, pushed = 0, in_flight_max = 0;

	make_dq(self, 8);
	make_cb(&self->cb, 1);		/* copied: 2 entries per job */
	for (int round = 0; round < 1000; round++) {
		int err = accel_dq_push(&self->dq, &self->cb, &seq);

		if (err == -EAGAIN) {
			/* The "device" completes the oldest job. */
			ASSERT_LT(self->done, pushed);
			self->done++;
			continue;
		}
		ASSERT_EQ(0, err);
		ASSERT_EQ(++pushed, seq);
		/* The FENCE of job seq sits right before the new tail. */
		EXPECT_CMD(self->ring, (self->dq.written - 1) % 8, OP_FENCE,
			   FENCE_IRQ, DONE_VA, seq);
		if (pushed - self->done > in_flight_max)
			in_flight_max = pushed - self->done;
		/* Entries in flight, the last FENCE counted: <= 7. */
		ASSERT_LE(2 * (pushed - self->done) + (self->done ? 1 : 0), 7);
	}
	EXPECT_EQ(3, in_flight_max);
	ASSERT_EQ(0, accel_dq_kick(&self->dq));
	EXPECT_EQ((2 * pushed) % 8, self->doorbell[DB_TAIL]);
}

TEST_F(dq, job_that_can_never_fit_is_e2big)
{
	uint64_t seq = 0;

	make_dq(self, 2);
	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-E2BIG, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(0, seq);
	EXPECT_EQ(DEC_POISON, self->ring[0]);
	/* 4 entries hold a 2-entry job; a long one goes INDIRECT. */
	make_dq(self, 4);
	make_cb(&self->cb, 20);
	EXPECT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(1, seq);
}

/* A completion word above the last job pushed is not believed. */
TEST_F(dq, completion_word_is_clamped)
{
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	self->done = 1000;
	EXPECT_EQ(2, accel_dq_completed(&self->dq));
	EXPECT_EQ(14, libaccel_dq_space(&self->dq));
}

TEST_F(dq, bad_arguments_write_nothing)
{
	struct accel_bo ob = fake_bo_at(&self->other, 2, sizeof(self->cb_mem), CB_VA);
	struct accel_cmdbuf ocb, nobo, empty;
	uint64_t omem[16], seq = 7;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	fake_cmdbuf(&ocb, &self->other, &ob, omem, sizeof(omem), CB_VA, sizeof(omem));
	ASSERT_EQ(0, accel_cmd_nop(&ocb));
	fake_cmdbuf(&nobo, &self->dev, NULL, omem, sizeof(omem), CB_VA, sizeof(omem));
	ASSERT_EQ(0, accel_cmd_nop(&nobo));
	fake_cmdbuf(&empty, &self->dev, &self->cb_bo, omem, sizeof(omem), CB_VA,
		    sizeof(omem));

	EXPECT_EQ(-EINVAL, accel_dq_push(NULL, &self->cb, &seq));
	EXPECT_EQ(-EINVAL, accel_dq_push(&self->dq, NULL, &seq));
	EXPECT_EQ(-EINVAL, accel_dq_push(&self->dq, &self->cb, NULL));
	EXPECT_EQ(-EINVAL, accel_dq_push(&self->dq, &ocb, &seq));
	EXPECT_EQ(-EINVAL, accel_dq_push(&self->dq, &nobo, &seq));
	EXPECT_EQ(-EINVAL, accel_dq_push(&self->dq, &empty, &seq));
	EXPECT_EQ(-EINVAL, accel_dq_submit(NULL, &self->cb, &seq));
	EXPECT_EQ(-EINVAL, accel_dq_kick(NULL));
	EXPECT_EQ(-EINVAL, accel_dq_wait(NULL, 1, 0));
	EXPECT_EQ(-EINVAL, accel_dq_wait(&self->dq, 0, 0));
	EXPECT_EQ(-EINVAL, accel_dq_wait(&self->dq, 1, 0));	/* never pushed */
	EXPECT_EQ(-EINVAL, accel_dq_error(NULL, NULL, NULL, NULL));
	EXPECT_EQ(-ENOENT, accel_dq_error(&self->dq, NULL, NULL, NULL));
	EXPECT_EQ(0, accel_dq_completed(NULL));
	EXPECT_EQ(0, accel_dq_id(NULL));
	EXPECT_EQ(0, accel_dq_hw_queue(NULL));
	EXPECT_EQ(0, accel_dq_hw_engine(NULL));
	EXPECT_EQ(0, accel_dq_destroy(NULL));
	accel_dq_set_spin(NULL, 0);
	EXPECT_EQ(-EINVAL, accel_dq_create(NULL, ACCEL_ENGINE_COMPUTE, 0, 0,
					   (struct accel_dq **)&seq));
	EXPECT_EQ(-EINVAL, accel_dq_create(&self->dev, ACCEL_ENGINE_COMPUTE, 0, 0, NULL));
	for (uint32_t e = 1; e < 8; e += 2)
		EXPECT_EQ(-EINVAL, accel_dq_create(&self->dev, ACCEL_ENGINE_COMPUTE,
						   0, e, (struct accel_dq **)&seq));
	EXPECT_EQ(-EINVAL, accel_dq_create(&self->dev, ACCEL_ENGINE_COMPUTE, 0,
					   131072, (struct accel_dq **)&seq));
	EXPECT_EQ(7, seq);
	EXPECT_EQ(0, self->dq.seq);
	EXPECT_EQ(DEC_POISON, self->ring[0]);
	EXPECT_EQ(0, seen.calls);
}

/* Done already: no spin, no system call. */
TEST_F(dq, wait_for_a_completed_job_returns_at_once)
{
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	self->done = 2;
	EXPECT_EQ(0, accel_dq_wait(&self->dq, 1, -1));
	EXPECT_EQ(0, accel_dq_wait(&self->dq, 2, 0));
	EXPECT_EQ(0, seen.calls);
}

/* Spin 0: straight to the ioctl, with the completion word and the job. */
TEST_F(dq, sleeping_wait_asks_the_kernel)
{
	struct timespec now;
	int64_t now_ns;
	uint64_t seq;

	self->dq.id = 5;
	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_dq_push(&self->dq, &self->cb, &seq));
	accel_dq_set_spin(&self->dq, 0);
	seen.fail = ETIME;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = now.tv_sec * 1000000000ll + now.tv_nsec;
	EXPECT_EQ(-ETIME, accel_dq_wait(&self->dq, seq, 3000000000ll));
	EXPECT_EQ(1, seen.calls);
	EXPECT_EQ(DRM_IOCTL_LUMEN_DQ_WAIT, seen.request);
	EXPECT_EQ(5, seen.wait.id);
	EXPECT_EQ(0, seen.wait.flags);
	EXPECT_EQ((uintptr_t)&self->done, seen.wait.addr);
	EXPECT_EQ(1, seen.wait.value);
	/* An absolute deadline about 3 s from now. */
	EXPECT_GE(seen.wait.timeout_ns, now_ns + 3000000000ll);
	EXPECT_LT(seen.wait.timeout_ns, now_ns + 60000000000ll);
	/* The job was pushed, not kicked: the wait kicked it. */
	EXPECT_EQ(2, self->doorbell[DB_TAIL]);

	/* A zero timeout tests: deadline 0, in the past. */
	EXPECT_EQ(-ETIME, accel_dq_wait(&self->dq, seq, 0));
	EXPECT_EQ(0, seen.wait.timeout_ns);
	/* Forever. */
	EXPECT_EQ(-ETIME, accel_dq_wait(&self->dq, seq, -1));
	EXPECT_EQ(INT64_MAX, seen.wait.timeout_ns);

	seen.fail = 0;
	seen.complete = true;
	EXPECT_EQ(0, accel_dq_wait(&self->dq, seq, -1));
	EXPECT_EQ(1, accel_dq_completed(&self->dq));
}

static void *complete_later(void *arg)
{
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	__atomic_store_n((uint64_t *)arg, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A completion that lands within the spin budget costs no system call. */
TEST_F(dq, spinning_wait_sees_the_word_without_the_kernel)
{
	pthread_t thread;
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	accel_dq_set_spin(&self->dq, 30ull * 1000 * 1000 * 1000);
	ASSERT_EQ(0, pthread_create(&thread, NULL, complete_later, &self->done));
	EXPECT_EQ(0, accel_dq_wait(&self->dq, seq, -1));
	pthread_join(thread, NULL);
	EXPECT_EQ(0, seen.calls);
}

/* A spin budget beyond the timeout ends at the timeout. */
TEST_F(dq, spin_stops_at_the_timeout)
{
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	accel_dq_set_spin(&self->dq, 3600ull * 1000 * 1000 * 1000);
	seen.fail = ETIME;
	EXPECT_EQ(-ETIME, accel_dq_wait(&self->dq, seq, 10 * 1000 * 1000));
	EXPECT_EQ(1, seen.calls);
}

/*
 * A stopped queue: the kernel's -EIO and its error fields are kept;
 * later pushes, kicks and waits fail at once, without system calls.
 */
TEST_F(dq, stop_is_reported_and_remembered)
{
	uint32_t code = 0, head = 0;
	uint64_t seq, va = 0;

	self->dq.id = 3;
	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	self->done = 1;
	accel_dq_set_spin(&self->dq, 0);
	seen.fail = EIO;
	seen.answer.error = 8;
	seen.answer.error_head = 2;
	seen.answer.fault_va = 0x123456789000ull;
	EXPECT_EQ(-EIO, accel_dq_wait(&self->dq, 2, -1));
	EXPECT_EQ(0, accel_dq_error(&self->dq, &code, &head, &va));
	EXPECT_EQ(8, code);
	EXPECT_EQ(2, head);
	EXPECT_EQ(0x123456789000ull, va);
	EXPECT_EQ(0, accel_dq_error(&self->dq, NULL, NULL, NULL));

	seen.calls = 0;
	/* Job 1 completed before the stop. */
	EXPECT_EQ(0, accel_dq_wait(&self->dq, 1, -1));
	EXPECT_EQ(-EIO, accel_dq_wait(&self->dq, 2, -1));
	EXPECT_EQ(-EIO, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(-EIO, accel_dq_kick(&self->dq));
	EXPECT_EQ(0, seen.calls);
}

/* A full ring whose STATUS view shows an error asks the kernel why. */
TEST_F(dq, full_ring_of_a_stopped_queue_is_eio)
{
	uint32_t code = 0;
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	for (int i = 0; i < 7; i++)
		ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	self->doorbell[DB_STATUS] = ST_ENABLED | ST_ERROR;
	seen.fail = EIO;
	seen.answer.error = 1;
	EXPECT_EQ(-EIO, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(1, seen.calls);
	EXPECT_EQ(1, seen.wait.value);		/* the oldest unfinished job */
	EXPECT_EQ(0, seen.wait.timeout_ns);	/* just a test */
	EXPECT_EQ(0, accel_dq_error(&self->dq, &code, NULL, NULL));
	EXPECT_EQ(1, code);
}

/* Disabled (a device reset) or gone (dummy page, 0): the kernel decides. */
TEST_F(dq, full_ring_of_a_disabled_queue_asks_the_kernel)
{
	uint64_t seq;

	accel_cmdbuf_reset(&self->cb);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	for (int i = 0; i < 7; i++)
		ASSERT_EQ(0, accel_dq_submit(&self->dq, &self->cb, &seq));
	self->doorbell[DB_STATUS] = 0;
	seen.fail = ETIME;		/* the kernel says: just busy */
	EXPECT_EQ(-EAGAIN, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(1, seen.calls);
	seen.fail = ENODEV;
	EXPECT_EQ(-ENODEV, accel_dq_push(&self->dq, &self->cb, &seq));
	EXPECT_EQ(-ENODEV, accel_dq_wait(&self->dq, 1, -1));
	EXPECT_EQ(-ENODEV, accel_dq_error(&self->dq, NULL, NULL, NULL));
	EXPECT_EQ(2, seen.calls);
}

/* num_direct_queues comes from the uAPI 1.1 field. */
TEST_F(dq, query_reports_direct_queues)
{
	struct accel_info info;

	seen.direct_queues = 4;
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, accel_query(&self->dev, &info));
	EXPECT_EQ(8, info.num_queues);
	EXPECT_EQ(4, info.num_direct_queues);
	EXPECT_EQ(DRM_IOCTL_LUMEN_QUERY, seen.request);
}

int libaccel_query_v1_0(struct accel_dev *dev, struct accel_info *info);

/*
 * accel_query@LIBACCEL_1.0 is for programs built with the 1.0 struct,
 * which ended at path[]: it must write nothing beyond.
 */
TEST_F(dq, query_v1_0_keeps_to_the_old_struct)
{
	union {
		struct accel_info info;
		uint8_t bytes[sizeof(struct accel_info) + 16];
	} u;
	size_t old_size = offsetof(struct accel_info, path) + 64;

	seen.direct_queues = 4;
	memset(&u, 0xa5, sizeof(u));
	ASSERT_EQ(0, libaccel_query_v1_0(&self->dev, &u.info));
	EXPECT_EQ(8, u.info.num_queues);
	EXPECT_STREQ("/fake/accel", u.info.path);
	for (size_t i = old_size; i < sizeof(u.bytes); i++) {
		ASSERT_EQ(0xa5, u.bytes[i]) {
			TH_LOG("byte %zu written", i);
		}
	}
}

TEST_HARNESS_MAIN
