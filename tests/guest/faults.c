// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Fault injection, observed from userspace: each of the device's injected
 * failures (lumen's debugfs file fault_inject, Documentation/uapi.rst,
 * "Fault injection") hits a job of one tenant, the "guilty" one, which
 * must fail with the documented errno, while another tenant -- another
 * file, so another MMU context -- keeps getting right results.  Then the
 * guilty file's submits fail with -ECANCELED until it opens a new file
 * (Documentation/uapi.rst, "Errors and recovery"); a lost interrupt and a
 * fatal device error make nobody guilty.  recovery.c checks the same with
 * two processes and one queue, and the coredumps, uevents and counters.
 * Needs -device lumen,fault-injection=on; the tests SKIP without the
 * capability.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define BO_SIZE		4096
#define GUILTY		0x6775696c7479ull	/* "guilty" */
#define INNOCENT	0x696e6e6f63656eull	/* "innocen" */
#define BAN_PARAM	"/sys/module/lumen/parameters/ban_guilty"

/* Reads the module parameter into @buf (room for @len): 0 or -errno. */
static int ban_read(char *buf, size_t len)
{
	int fd = open(BAN_PARAM, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return 0;
}

static int ban_write(const char *val)
{
	int fd = open(BAN_PARAM, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Writes @cmd to the fault_inject file: 0 or -errno. */
static int fault_inject(const char *cmd)
{
	glob_t g;
	ssize_t n;
	int fd;

	if (glob("/sys/kernel/debug/accel/*/fault_inject", 0, NULL, &g))
		return -ENOENT;
	fd = open(g.gl_pathv[0], O_WRONLY | O_CLOEXEC);
	globfree(&g);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

struct tenant {
	struct accel_dev *dev;
	struct accel_bo *bo;
	volatile uint64_t *map;
};

FIXTURE(faults) {
	struct accel_info info;
	struct tenant t[2];	/* 0 guilty, 1 innocent */
	char ban_before[8];
};

static int tenant_open(struct tenant *t)
{
	return lt_open_first(&t->dev, &(struct accel_info){ 0 }) ?:
	       lt_bo_create_mapped(t->dev, BO_SIZE, 0, &t->bo, (void **)&t->map);
}

static void tenant_close(struct tenant *t)
{
	if (t->bo)
		accel_bo_free(t->bo);
	if (t->dev)
		accel_close(t->dev);
	t->bo = NULL;
	t->dev = NULL;
}

FIXTURE_SETUP(faults)
{
	int i;

	LT_OPEN_OR_SKIP(&self->t[0].dev, &self->info);
	if (!(self->info.caps & ACCEL_CAP_FAULT_INJECTION))
		SKIP(return, "the device has no fault injection (fault-injection=on)");
	/* The documented default; run-all turns it off for older suites. */
	ASSERT_EQ(0, ban_read(self->ban_before, sizeof(self->ban_before)));
	ASSERT_EQ(0, ban_write("Y"));
	ASSERT_EQ(0, lt_open_first(&self->t[1].dev, &self->info));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, lt_bo_create_mapped(self->t[i].dev, BO_SIZE, 0, &self->t[i].bo,
						 (void **)&self->t[i].map));
	/* The file exists whenever the capability does. */
	ASSERT_EQ(-EINVAL, fault_inject("nothing"));
}

FIXTURE_TEARDOWN(faults)
{
	int i;

	for (i = 0; i < 2; i++)
		tenant_close(&self->t[i]);
	if (self->ban_before[0])
		ban_write(self->ban_before);
}

/* A FENCE job of tenant @t writing @value into its BO, submitted on @queue. */
static int submit_fence(struct tenant *t, unsigned int queue, uint64_t value,
			struct accel_cmdbuf **cb, struct accel_fence **done)
{
	int ret = lt_cmdbuf_create(t->dev, cb) ?: accel_fence_create(t->dev, done);

	if (!ret)
		ret = accel_cmd_fence(*cb, accel_bo_va(t->bo), value);
	if (!ret)
		ret = accel_submit(t->dev, queue, *cb, (const struct accel_bo *const *)&t->bo, 1,
				   NULL, *done);
	return ret;
}

/* Runs a FENCE job of @t on @queue: lt_run_job()'s result. */
static int fence_job(struct tenant *t, unsigned int queue, uint64_t value)
{
	return lt_fence_write(t->dev, queue, t->bo, 0, value);
}

/*
 * The innocent tenant's job runs right.  The guilty tenant's file, if it
 * was found @guilty, submits no more (-ECANCELED, nothing runs) but a new
 * file of it works.  Both tenants' devices work.
 */
static void innocent_and_after(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self,
			       unsigned int queue, bool guilty)
{
	struct accel_cmdbuf *cb = NULL;
	struct accel_fence *done = NULL;

	ASSERT_EQ(0, fence_job(&self->t[1], queue, INNOCENT));
	EXPECT_EQ(INNOCENT, self->t[1].map[0]);
	if (guilty) {
		self->t[0].map[0] = 0;
		EXPECT_EQ(-ECANCELED, submit_fence(&self->t[0], queue, GUILTY + 1, &cb, &done));
		if (done)
			accel_fence_free(done);
		if (cb)
			accel_cmdbuf_free(cb);
		EXPECT_EQ(0, self->t[0].map[0]);
		tenant_close(&self->t[0]);
		ASSERT_EQ(0, tenant_open(&self->t[0]));
	}
	ASSERT_EQ(0, fence_job(&self->t[0], queue, GUILTY + 1));
	EXPECT_EQ(GUILTY + 1, self->t[0].map[0]);
	LT_ASSERT_DEVICE_WORKS(self->t[0].dev);
	LT_ASSERT_DEVICE_WORKS(self->t[1].dev);
}

/* Malformed commands change nothing. */
TEST_F(faults, bad_commands_are_refused)
{
	static const char *const bad[] = {
		"hang", "hang 64", "hang -1", "hang 0 0", "drop-irq 0", "drop-irq 1001",
		"fail-dma", "mmu-fault x", "fatal 1", "fatalx", "reset",
	};
	unsigned int i;
	char cmd[32];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(-EINVAL, fault_inject(bad[i])) TH_LOG("bad command %u", i);
	/* Direct queues' hardware queues (uAPI 1.1) may be hung too. */
	snprintf(cmd, sizeof(cmd), "hang %u",
		 self->info.num_queues + self->info.num_direct_queues);
	EXPECT_EQ(-EINVAL, fault_inject(cmd));
	innocent_and_after(_metadata, self, 0, false);
}

/* A hung queue: its job times out, another queue's job is unaffected. */
TEST_F_TIMEOUT(faults, hang_times_out, 120)
{
	struct accel_cmdbuf *cb = NULL;
	struct accel_fence *done = NULL;

	if (self->info.num_queues < 2)
		SKIP(return, "needs two queues");
	ASSERT_EQ(0, fault_inject("hang 0"));
	ASSERT_EQ(0, submit_fence(&self->t[0], 0, GUILTY, &cb, &done));
	/* While queue 0 hangs, queue 1 serves the other tenant. */
	ASSERT_EQ(0, fence_job(&self->t[1], 1, INNOCENT));
	EXPECT_EQ(INNOCENT, self->t[1].map[0]);
	EXPECT_EQ(-ETIMEDOUT, lt_job_result(done));
	EXPECT_EQ(0, self->t[0].map[0]);
	accel_fence_free(done);
	accel_cmdbuf_free(cb);
	innocent_and_after(_metadata, self, 0, true);
}

/*
 * A lost interrupt delays the job (until the timeout looks) but fails
 * nothing, and makes nobody guilty: the job did complete.
 */
TEST_F_TIMEOUT(faults, dropped_interrupt_is_recovered, 120)
{
	ASSERT_EQ(0, fault_inject("drop-irq 1"));
	EXPECT_EQ(0, fence_job(&self->t[0], 0, GUILTY));
	EXPECT_EQ(GUILTY, self->t[0].map[0]);
	innocent_and_after(_metadata, self, 0, false);
}

/* A failed DMA access fails the job that made it with -EIO. */
TEST_F_TIMEOUT(faults, failed_dma_fails_the_job, 120)
{
	ASSERT_EQ(0, fault_inject("fail-dma 1"));
	EXPECT_EQ(-EIO, fence_job(&self->t[0], 0, GUILTY));
	EXPECT_EQ(0, self->t[0].map[0]);
	innocent_and_after(_metadata, self, 0, true);
}

/* An (injected) MMU fault fails the job with -EFAULT. */
TEST_F_TIMEOUT(faults, mmu_fault_fails_the_job, 120)
{
	ASSERT_EQ(0, fault_inject("mmu-fault 1"));
	EXPECT_EQ(-EFAULT, fence_job(&self->t[0], 0, GUILTY));
	EXPECT_EQ(0, self->t[0].map[0]);
	innocent_and_after(_metadata, self, 0, true);
}

/*
 * A fatal device error: the driver resets the whole device.  Nobody is
 * guilty: the jobs that were on the hardware run again from their start
 * (the MMU contexts, device memory and BOs survive), so both tenants' WAITs
 * still wait after the reset, and finish once released.
 */
TEST_F_TIMEOUT(faults, fatal_error_resets_the_device, 120)
{
	struct accel_cmdbuf *cb[2] = { NULL, NULL };
	struct accel_fence *done[2] = { NULL, NULL };
	int i;

	if (self->info.num_queues < 3)
		SKIP(return, "needs three queues");
	for (i = 0; i < 2; i++) {
		/* WAIT(bo[8] >= 1): blocked until released. */
		ASSERT_EQ(0, lt_cmdbuf_create(self->t[i].dev, &cb[i]));
		ASSERT_EQ(0, accel_fence_create(self->t[i].dev, &done[i]));
		ASSERT_EQ(0, accel_cmd_wait(cb[i], accel_bo_va(self->t[i].bo) + 8, 1));
		ASSERT_EQ(0, accel_cmd_fence(cb[i], accel_bo_va(self->t[i].bo), GUILTY));
		ASSERT_EQ(0, accel_submit(self->t[i].dev, i % self->info.num_queues, cb[i],
					  NULL, 0, NULL, done[i]));
	}
	usleep(200 * 1000);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, accel_fence_status(done[i])) TH_LOG("tenant %d's WAIT ended", i);
	ASSERT_EQ(0, fault_inject("fatal"));
	/* The reset is done once a job submitted after it completes. */
	ASSERT_EQ(0, lt_fence_write(self->t[1].dev, 2, self->t[1].bo, 16, INNOCENT))
		TH_LOG("the device did not come back");
	EXPECT_EQ(INNOCENT, self->t[1].map[2]);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, accel_fence_status(done[i])) TH_LOG("tenant %d's WAIT ended", i);
		EXPECT_EQ(0, self->t[i].map[0]);
		self->t[i].map[1] = 1;
	}
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, lt_job_result(done[i])) TH_LOG("tenant %d", i);
		EXPECT_EQ(GUILTY, self->t[i].map[0]);
		accel_fence_free(done[i]);
		accel_cmdbuf_free(cb[i]);
	}
	innocent_and_after(_metadata, self, 0, false);
	if (self->info.num_queues > 1)
		innocent_and_after(_metadata, self, 1, false);
}

TEST_HARNESS_MAIN
