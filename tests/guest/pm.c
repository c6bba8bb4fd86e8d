// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Runtime power management: the device suspends once idle for the
 * autosuspend delay, resumes for the next job, and users notice nothing.
 * Documentation/lifecycle.rst describes the states and the sysfs files.
 *
 * The tests lower power/autosuspend_delay_ms and wait (polling, with a
 * generous bound: nothing here asserts how fast it happens) for
 * power/runtime_status to say "suspended"; then they check what a suspend
 * must not lose: jobs run correctly, a BO freed while the device slept
 * is really unmapped (the TLB did not survive), and many threads racing
 * jobs around the autosuspend edge all get correct results.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define SUSPEND_WAIT_S	60	/* bound of the wait for "suspended" */
#define THREADS		4
#define ROUNDS		64
#define JOB_BYTES	(64 * 1024)

/* Reads a small sysfs file into @buf without the newline: 0 or -errno. */
/* @dir/@file's first line into @buf, without its newline: 0 or -errno. */
static int read_attr(const char *dir, const char *file, char *buf, size_t len)
{
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ret = lt_read_file(path, buf, len);
	if (ret < 0)
		return ret;
	buf[strcspn(buf, "\n")] = '\0';
	return ret ? 0 : -EIO;
}

static int write_attr(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return lt_write_file(path, val);
}

static long long attr_ll(const char *dir, const char *file)
{
	char buf[64];

	if (read_attr(dir, file, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

FIXTURE(pm) {
	struct accel_dev *dev;
	struct accel_info info;
	char power[128];	/* /sys/bus/pci/devices/<bdf>/power */
	char lumen[128];	/* /sys/bus/pci/devices/<bdf>/lumen */
	char bdf[LT_BDF_LEN];
	char old_control[16];
	char old_delay[16];
};

/* Polls until the device is runtime-suspended: true, or false after the bound. */
static bool wait_suspended(FIXTURE_DATA(pm) *self)
{
	char status[32];
	int i;

	for (i = 0; i < SUSPEND_WAIT_S * 100; i++) {
		if (!read_attr(self->power, "runtime_status", status, sizeof(status)) &&
		    !strcmp(status, "suspended"))
			return true;
		usleep(10000);
	}
	return false;
}

FIXTURE_SETUP(pm)
{
	char bdf[1][LT_BDF_LEN];

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	ASSERT_LE(1, lt_pci_devices(bdf, 1));
	strcpy(self->bdf, bdf[0]);
	snprintf(self->power, sizeof(self->power), "/sys/bus/pci/devices/%s/power", self->bdf);
	snprintf(self->lumen, sizeof(self->lumen), "/sys/bus/pci/devices/%s/lumen", self->bdf);
	ASSERT_EQ(0, read_attr(self->power, "control", self->old_control,
			       sizeof(self->old_control)));
	ASSERT_EQ(0, read_attr(self->power, "autosuspend_delay_ms", self->old_delay,
			       sizeof(self->old_delay)));
	/* Fault injection (an earlier test) leaves runtime PM forbidden. */
	ASSERT_EQ(0, write_attr(self->power, "control", "auto"));
	ASSERT_EQ(0, write_attr(self->power, "autosuspend_delay_ms", "20"));
}

FIXTURE_TEARDOWN(pm)
{
	if (self->old_delay[0])
		write_attr(self->power, "autosuspend_delay_ms", self->old_delay);
	if (self->old_control[0])
		write_attr(self->power, "control", self->old_control);
	accel_close(self->dev);
}

/* The driver enables runtime PM with the documented default delay. */
TEST_F(pm, defaults)
{
	char buf[32];

	EXPECT_STREQ("1000", self->old_delay) {
		TH_LOG("the module's default autosuspend_ms is 1000 (lifecycle.rst)");
	}
	ASSERT_EQ(0, read_attr("/sys/module/lumen/parameters", "autosuspend_ms", buf,
			       sizeof(buf)));
	EXPECT_STREQ(self->old_delay, buf);
	EXPECT_LE(0, attr_ll(self->lumen, "runtime_suspends"));
	EXPECT_LE(0, attr_ll(self->lumen, "runtime_resumes"));
}

TEST_F(pm, idle_device_suspends_and_a_job_resumes_it)
{
	long long suspends0, resumes0, suspended_ms0;

	ASSERT_TRUE(wait_suspended(self)) {
		TH_LOG("still not suspended after %d s of idleness", SUSPEND_WAIT_S);
	}
	EXPECT_EQ(1, attr_ll(self->lumen, "runtime_suspended"));
	suspends0 = attr_ll(self->lumen, "runtime_suspends");
	resumes0 = attr_ll(self->lumen, "runtime_resumes");
	suspended_ms0 = attr_ll(self->power, "runtime_suspended_time");
	ASSERT_LT(0, suspends0);

	/* Jobs resume the device, and run correctly on it. */
	LT_ASSERT_DEVICE_WORKS(self->dev);
	EXPECT_LT(resumes0, attr_ll(self->lumen, "runtime_resumes"));
	EXPECT_LE(suspended_ms0, attr_ll(self->power, "runtime_suspended_time"));

	/* And once idle again it suspends again. */
	ASSERT_TRUE(wait_suspended(self));
	EXPECT_LT(suspends0, attr_ll(self->lumen, "runtime_suspends"));
}

/*
 * A BO freed while the device is suspended is unmapped without a TLB
 * invalidation reaching the device (it is asleep): the resume must drop
 * every cached translation, so a job touching the freed range faults.
 */
TEST_F(pm, bo_freed_while_suspended_is_unmapped)
{
	struct accel_bo *bo, *dst;
	struct accel_cmdbuf *cb;
	struct accel_fence *done;
	void *map;
	uint64_t va;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, JOB_BYTES, 0, &bo, &map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, JOB_BYTES, 0, &dst, &map));
	/* Made now: a BO made after the free could get the freed VA. */
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	va = accel_bo_va(bo);
	/* The device has walked (and may cache) the BO's translations. */
	ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(dst), va, JOB_BYTES));
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, 0, NULL, done));
	ASSERT_EQ(0, lt_job_result(done));

	ASSERT_TRUE(wait_suspended(self));
	accel_bo_free(bo);
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, 0, NULL, done));
	EXPECT_EQ(-EFAULT, lt_job_result(done)) {
		TH_LOG("a job read a BO freed while the device was suspended");
	}
	/*
	 * The fault hurt only that job -- and, with lumen.ban_guilty, this
	 * file: a fresh one runs jobs.
	 */
	{
		struct accel_dev *fresh;
		struct accel_info info;

		ASSERT_EQ(0, lt_open_first(&fresh, &info));
		LT_ASSERT_DEVICE_WORKS(fresh);
		accel_close(fresh);
	}
	accel_fence_free(done);
	accel_cmdbuf_free(cb);
	accel_bo_free(dst);
}

/* A register dump resumes the device; a counter read does not need to. */
TEST_F(pm, debugfs_and_sysfs_reads_while_suspended)
{
	char path[256], line[256];
	long long resumes0, busy;
	FILE *f;

	ASSERT_TRUE(wait_suspended(self));
	busy = attr_ll(self->lumen, "compute0_busy_ns");
	EXPECT_LE(0, busy);

	resumes0 = attr_ll(self->lumen, "runtime_resumes");
	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%s/regs", self->bdf);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) {
		TH_LOG("%s: %s", path, strerror(errno));
	}
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	EXPECT_STREQ("global:\n", line);
	/* The ID register reads back its magic ("LUMN"), not all-ones. */
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	EXPECT_NE(NULL, strstr(line, "4c554d4e")) {
		TH_LOG("ID register of a resumed device: %s", line);
	}
	fclose(f);
	EXPECT_LT(resumes0, attr_ll(self->lumen, "runtime_resumes"));
	/* The counters survive the suspends: they never go backwards. */
	EXPECT_LE(busy, attr_ll(self->lumen, "compute0_busy_ns"));
}

struct racer {
	struct accel_dev *dev;
	unsigned int queue;
	uint64_t seed;
	int result;		/* 0 or the first failure */
	char what[96];
};

/* Jobs arriving at random around the autosuspend edge, results checked. */
static void *race(void *arg)
{
	struct racer *r = arg;
	struct accel_bo *src = NULL, *dst = NULL;
	void *src_map, *dst_map;
	struct lt_rng rng;
	int i, ret;

	lt_rng_init(&rng, r->seed);
	ret = lt_bo_create_mapped(r->dev, JOB_BYTES, 0, &src, &src_map);
	if (!ret)
		ret = lt_bo_create_mapped(r->dev, JOB_BYTES, 0, &dst, &dst_map);
	for (i = 0; i < ROUNDS && !ret; i++) {
		/* 0 .. 6 ms: below, at and above the 2 ms delay. */
		usleep(lt_rng_below(&rng, 6000));
		lt_rng_fill(&rng, src_map, JOB_BYTES);
		ret = lt_copy(r->dev, r->queue, dst, 0, src, 0, JOB_BYTES);
		if (ret) {
			snprintf(r->what, sizeof(r->what), "round %d: copy job: %s", i,
				 accel_strerror(ret));
		} else if (lt_mismatch(src_map, dst_map, JOB_BYTES) != JOB_BYTES) {
			snprintf(r->what, sizeof(r->what), "round %d: wrong data at %zu", i,
				 lt_mismatch(src_map, dst_map, JOB_BYTES));
			ret = -EIO;
		}
	}
	if (ret && !r->what[0])
		snprintf(r->what, sizeof(r->what), "setup: %s", accel_strerror(ret));
	r->result = ret;
	accel_bo_free(dst);
	accel_bo_free(src);
	return NULL;
}

TEST_F(pm, jobs_racing_suspend_and_resume)
{
	struct racer racers[THREADS] = { 0 };
	pthread_t threads[THREADS];
	long long suspends0;
	struct lt_rng rng;
	int i;

	LT_SEED(&rng);
	ASSERT_TRUE(wait_suspended(self));
	suspends0 = attr_ll(self->lumen, "runtime_suspends");
	/* Short: the device suspends in many of the gaps between jobs. */
	ASSERT_EQ(0, write_attr(self->power, "autosuspend_delay_ms", "2"));
	for (i = 0; i < THREADS; i++) {
		racers[i].dev = self->dev;
		racers[i].queue = i % self->info.num_queues;
		racers[i].seed = lt_rng_next(&rng);
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, race, &racers[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		EXPECT_EQ(0, racers[i].result) {
			TH_LOG("thread %d: %s", i, racers[i].what);
		}
	}
	/* At least the final idleness suspends it again. */
	ASSERT_TRUE(wait_suspended(self));
	EXPECT_LT(suspends0, attr_ll(self->lumen, "runtime_suspends"));
	TH_LOG("%lld runtime suspends during the race",
	       attr_ll(self->lumen, "runtime_suspends") - suspends0);
}

/*
 * BAR2 is unmapped while the device is in D3hot, so a device-memory BO
 * keeps the device resumed for its whole life: its clearing and its CPU
 * mapping must reach the memory.  A BO created right after a suspend --
 * over memory another BO filled -- reads as zeros and keeps what the CPU
 * writes into it; while it lives the device does not suspend; once it is
 * freed the device suspends again.
 */
TEST_F(pm, device_bo_keeps_the_device_resumed)
{
	const size_t size = 1 << 20;
	struct accel_bo *dirty = NULL, *bo = NULL;
	char status[32];
	uint8_t *p;
	void *ptr;

	ASSERT_EQ(0, accel_bo_create(self->dev, size, ACCEL_BO_DEVICE, &dirty));
	ASSERT_EQ(0, accel_bo_map(dirty, &ptr));
	memset(ptr, 0xa5, size);
	accel_bo_free(dirty);
	ASSERT_TRUE(wait_suspended(self));

	ASSERT_EQ(0, accel_bo_create(self->dev, size, ACCEL_BO_DEVICE, &bo));
	ASSERT_EQ(0, accel_bo_map(bo, &ptr));
	p = ptr;
	ASSERT_EQ(0, read_attr(self->power, "runtime_status", status, sizeof(status)));
	EXPECT_STREQ("active", status);
	EXPECT_EQ(size, lt_find_not(p, 0, size)) {
		TH_LOG("a fresh device BO is not zero at byte %zu (0x%02x)",
		       lt_find_not(p, 0, size), p[lt_find_not(p, 0, size)]);
	}
	memset(p, 0x3c, size);
	/* Twenty-five times the delay: still resumed, data still there. */
	usleep(500 * 1000);
	ASSERT_EQ(0, read_attr(self->power, "runtime_status", status, sizeof(status)));
	EXPECT_STREQ("active", status);
	EXPECT_EQ(size, lt_find_not(p, 0x3c, size));

	accel_bo_free(bo);
	EXPECT_TRUE(wait_suspended(self));
}

TEST_HARNESS_MAIN
