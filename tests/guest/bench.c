// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lumen-bench as a user runs it: a short run completes with every
 * measurement it could make (the jobs it times check their own effects, so
 * a job that did not run fails it), its JSON holds what
 * Documentation/benchmarks.rst promises, and bad options are usage errors.
 * The figures themselves are never judged here: speed is not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

/* Runs @cmd (through sh) into @out (room for @len); returns its exit status. */
static int run_capture(const char *cmd, char *out, size_t len)
{
	size_t used = 0, n;
	FILE *p;
	int status;

	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (used + 1 < len && (n = fread(out + used, 1, len - 1 - used, p)) > 0)
		used += n;
	out[used] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The number after "@key": in @json, or -1 if absent. */
static double json_number(const char *json, const char *key)
{
	char pattern[64];
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\": ", key);
	p = strstr(json, pattern);
	return p ? strtod(p + strlen(pattern), NULL) : -1;
}

/* The text of object "@key": {...} in @json, copied into @obj. */
static bool json_object(const char *json, const char *key, char *obj, size_t len)
{
	char pattern[64];
	const char *p, *end;

	snprintf(pattern, sizeof(pattern), "\"%s\": {", key);
	p = strstr(json, pattern);
	if (!p)
		return false;
	end = strchr(p, '}');
	if (!end || (size_t)(end - p) >= len)
		return false;
	memcpy(obj, p, end - p);
	obj[end - p] = '\0';
	return true;
}

FIXTURE(bench) {
	char out[16384];
};

FIXTURE_SETUP(bench)
{
	struct accel_info info;
	struct accel_dev *dev;

	ASSERT_EQ(0, lt_open_first(&dev, &info));
	accel_close(dev);
}

FIXTURE_TEARDOWN(bench)
{
}

/* Every section the run made, with the counts asked for. */
TEST_F(bench, short_json_run_is_complete)
{
	char obj[1024];

	ASSERT_EQ(0, run_capture("lumen-bench -n 20 -w 2 -c 2 -t 256 --json",
				 self->out, sizeof(self->out)))
		TH_LOG("lumen-bench failed:\n%s", self->out);

	ASSERT_TRUE(json_object(self->out, "nop", obj, sizeof(obj)));
	EXPECT_EQ(20, json_number(obj, "samples"));
	EXPECT_LT(0, json_number(obj, "p50_us"));
	ASSERT_TRUE(json_object(self->out, "copy", obj, sizeof(obj)));
	EXPECT_EQ(2, json_number(obj, "samples"));
	EXPECT_EQ(8388608, json_number(obj, "bytes"));

	/* 256 jobs at depth 64: 8 batches of 32, each job checked. */
	ASSERT_TRUE(json_object(self->out, "depth_jobs", obj, sizeof(obj)))
		TH_LOG("%s", self->out);
	EXPECT_EQ(256, json_number(obj, "ops"));
	EXPECT_LT(0, json_number(obj, "per_second"));
	/* Each job raises at most its own completion interrupt. */
	EXPECT_LE(0, json_number(obj, "interrupts_per_op"));
	EXPECT_GE(1.0, json_number(obj, "interrupts_per_op"));
	/* The NVMe side: measured with --nvme, else skipped -- never failed. */
	ASSERT_TRUE(json_object(self->out, "depth_reads", obj, sizeof(obj)));
	EXPECT_EQ(NULL, strstr(obj, "\"failed\""));
	EXPECT_NE(NULL, strstr(self->out, "\"depth_jobs_reads\": "));
}

/*
 * The direct-queue rows: measured, with every job checked, when the
 * driver has direct queues; skipped (never failed) when it has none.
 */
TEST_F(bench, direct_queue_rows_are_complete)
{
	struct accel_info info;
	struct accel_dev *dev;
	char obj[1024];

	ASSERT_EQ(0, lt_open_first(&dev, &info));
	accel_close(dev);
	ASSERT_EQ(0, run_capture("lumen-bench -n 20 -w 2 -c 1 -t 256 --json",
				 self->out, sizeof(self->out)))
		TH_LOG("lumen-bench failed:\n%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"dq_nop_nvme_p50\": "));
	EXPECT_NE(NULL, strstr(self->out, "\"depth_dq_jobs_reads\": "));
	for (int i = 0; i < 3; i++) {
		static const char *const keys[] = { "dq_nop", "dq_nop_sleep", "depth_dq_jobs" };

		ASSERT_TRUE(json_object(self->out, keys[i], obj, sizeof(obj)))
			TH_LOG("no %s in:\n%s", keys[i], self->out);
		if (!info.num_direct_queues) {
			EXPECT_NE(NULL, strstr(obj, "\"skipped\": true"));
			continue;
		}
		EXPECT_EQ(NULL, strstr(obj, "\"failed\""))
			TH_LOG("%s", obj);
		if (i < 2) {
			EXPECT_EQ(20, json_number(obj, "samples"));
			EXPECT_LT(0, json_number(obj, "p50_us"));
		} else {
			EXPECT_EQ(256, json_number(obj, "ops"));
			EXPECT_LE(0, json_number(obj, "interrupts_per_op"));
			EXPECT_GE(1.0, json_number(obj, "interrupts_per_op"));
		}
	}
}

TEST_F(bench, depth_zero_leaves_the_throughput_out)
{
	ASSERT_EQ(0, run_capture("lumen-bench -n 5 -w 0 -c 1 -t 0 --json",
				 self->out, sizeof(self->out)))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"nop\": {\"samples\": 5"));
	EXPECT_EQ(NULL, strstr(self->out, "\"depth_jobs\""));
}

TEST_F(bench, bad_options_are_usage_errors)
{
	static const char *const cmds[] = {
		"lumen-bench -q 4096 2>&1",	/* a queue the device lacks */
		"lumen-bench -t -1 2>&1",
		"lumen-bench -t 10000001 2>&1",
		"lumen-bench --no-such-option 2>&1",
		"lumen-bench extra 2>&1",
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		EXPECT_EQ(2, run_capture(cmds[i], self->out, sizeof(self->out)))
			TH_LOG("%s: %s", cmds[i], self->out);
	}
}

TEST_HARNESS_MAIN
