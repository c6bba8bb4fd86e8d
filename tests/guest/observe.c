// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Observability: the per-file usage statistics in /proc/self/fdinfo, the
 * device's statistics in sysfs, the debugfs views and lumen-smi top, all
 * read while the test makes them move with real BOs and real jobs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define DIM		512			/* GEMM size: DIM^3 multiply-adds */
#define MAT_BYTES	((uint64_t)DIM * DIM * sizeof(float))
#define GEMMS		4			/* GEMMs in the long job */
#define BO_SIZE		(4ull << 20)
#define MAX_ENGINES	32

/* Reads a whole small text file into @buf: its length, or -errno. */
static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

/*
 * The value of fdinfo key @key ("drm-total-system"...) of @fd, in bytes
 * or ns: -1 if the key is missing or its unit is unknown.
 */
static int64_t fdinfo_value(int fd, const char *key)
{
	char path[64], text[8192];
	unsigned long long val;
	const char *line;
	size_t klen = strlen(key);
	char *unit;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	for (line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		errno = 0;
		val = strtoull(line + klen + 1, &unit, 10);
		if (errno || unit == line + klen + 1)
			return -1;
		while (*unit == ' ' || *unit == '\t')
			unit++;
		if (!strncmp(unit, "KiB\n", 4))
			return (int64_t)val << 10;
		if (!strncmp(unit, "MiB\n", 4))
			return (int64_t)val << 20;
		if (!strncmp(unit, "GiB\n", 4))
			return (int64_t)val << 30;
		if (*unit == '\n' || !strncmp(unit, "ns\n", 3))
			return (int64_t)val;
		return -1;
	}
	return -1;
}

/* A counter of the device's sysfs "lumen" group; -1 if unreadable. */
static int64_t sysfs_value(const struct accel_info *info, const char *file)
{
	char path[256], text[64];
	const char *node = strrchr(info->path, '/');

	snprintf(path, sizeof(path), "/sys/class/accel/%s/device/lumen/%s",
		 node ? node + 1 : info->path, file);
	if (read_text(path, text, sizeof(text)) <= 0)
		return -1;
	return strtoll(text, NULL, 10);
}

static void engine_name(const struct accel_info *info, uint32_t e, char *buf, size_t len)
{
	if (e < info->num_cores)
		snprintf(buf, len, "compute%u", e);
	else
		snprintf(buf, len, "dma");
}

FIXTURE(observe) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
};

FIXTURE_SETUP(observe)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
}

FIXTURE_TEARDOWN(observe)
{
	accel_close(self->dev);
}

/* Every key a tool needs is there, with the values of a fresh file. */
TEST_F(observe, fdinfo_keys)
{
	static const char *const mem_keys[] = {
		"drm-total-system", "drm-resident-system", "drm-shared-system",
		"drm-active-system", "drm-total-devmem", "drm-resident-devmem",
	};
	char path[64], text[8192], key[48];
	uint32_t e;
	size_t i;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", self->fd);
	ASSERT_LT(0, read_text(path, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "drm-driver:\tlumen\n")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "drm-client-id:")) TH_LOG("%s", text);
	for (i = 0; i < sizeof(mem_keys) / sizeof(mem_keys[0]); i++)
		EXPECT_LE(0, fdinfo_value(self->fd, mem_keys[i])) TH_LOG("no %s", mem_keys[i]);
	for (e = 0; e < self->info.num_engines; e++) {
		snprintf(key, sizeof(key), "drm-engine-");
		engine_name(&self->info, e, key + strlen(key), sizeof(key) - strlen(key));
		EXPECT_EQ(0, fdinfo_value(self->fd, key)) TH_LOG("%s of a new file", key);
	}
	/* One engine too many is not reported. */
	snprintf(key, sizeof(key), "drm-engine-compute%u", self->info.num_cores);
	EXPECT_EQ(-1, fdinfo_value(self->fd, key));
}

/* System and device BOs are counted in their own region, and only there. */
TEST_F(observe, fdinfo_memory_moves)
{
	int64_t sys0, dev0, used0, sysbo0;
	struct accel_bo *bo;

	sys0 = fdinfo_value(self->fd, "drm-total-system");
	dev0 = fdinfo_value(self->fd, "drm-total-devmem");
	used0 = sysfs_value(&self->info, "devmem_used_bytes");
	sysbo0 = sysfs_value(&self->info, "system_bo_bytes");
	ASSERT_LE(0, sys0);
	ASSERT_LE(0, dev0);
	ASSERT_LE(0, used0);
	ASSERT_LE(0, sysbo0);

	ASSERT_EQ(0, accel_bo_create(self->dev, BO_SIZE, 0, &bo));
	EXPECT_EQ(sys0 + (int64_t)BO_SIZE, fdinfo_value(self->fd, "drm-total-system"));
	EXPECT_EQ(sys0 + (int64_t)BO_SIZE, fdinfo_value(self->fd, "drm-resident-system"));
	EXPECT_EQ(dev0, fdinfo_value(self->fd, "drm-total-devmem"));
	/* Other processes may allocate too: at least ours is counted. */
	EXPECT_LE(sysbo0 + (int64_t)BO_SIZE, sysfs_value(&self->info, "system_bo_bytes"));
	accel_bo_free(bo);
	EXPECT_EQ(sys0, fdinfo_value(self->fd, "drm-total-system"));
	EXPECT_EQ(dev0, fdinfo_value(self->fd, "drm-total-devmem"));

	ASSERT_EQ(0, accel_bo_create(self->dev, BO_SIZE, ACCEL_BO_DEVICE, &bo));
	EXPECT_EQ(dev0 + (int64_t)BO_SIZE, fdinfo_value(self->fd, "drm-total-devmem"));
	EXPECT_EQ(dev0 + (int64_t)BO_SIZE, fdinfo_value(self->fd, "drm-resident-devmem"));
	EXPECT_EQ(sys0, fdinfo_value(self->fd, "drm-total-system"));
	EXPECT_LE(used0 + (int64_t)BO_SIZE, sysfs_value(&self->info, "devmem_used_bytes"));
	EXPECT_GE(sysfs_value(&self->info, "devmem_total_bytes"),
		  sysfs_value(&self->info, "devmem_used_bytes"));
	EXPECT_EQ((int64_t)self->info.devmem_size,
		  sysfs_value(&self->info, "devmem_total_bytes"));
	accel_bo_free(bo);
	EXPECT_EQ(dev0, fdinfo_value(self->fd, "drm-total-devmem"));
}

/*
 * A long GEMM job on queue 0 (compute0) adds to this file's compute0 time,
 * no more than the job's wall time, and to no other engine; the device's
 * own counters of compute0 move too.
 */
TEST_F_TIMEOUT(observe, engine_busy_time, 300)
{
	int64_t before[MAX_ENGINES], after, busy0, cmds0, t0, wall;
	struct accel_bo *a, *b, *c;
	struct accel_cmdbuf *cb;
	struct accel_fence *done;
	char key[48];
	uint32_t e;
	int i;

	ASSERT_LE(self->info.num_engines, MAX_ENGINES);
	ASSERT_EQ(0, accel_bo_create(self->dev, MAT_BYTES, 0, &a));
	ASSERT_EQ(0, accel_bo_create(self->dev, MAT_BYTES, 0, &b));
	ASSERT_EQ(0, accel_bo_create(self->dev, MAT_BYTES, 0, &c));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	for (i = 0; i < GEMMS; i++)
		ASSERT_EQ(0, accel_cmd_gemm(cb, &(struct accel_gemm){
			.type = ACCEL_F32, .c_type = ACCEL_F32,
			.m = DIM, .n = DIM, .k = DIM,
			.a = accel_bo_va(a), .lda = DIM,
			.b = accel_bo_va(b), .ldb = DIM,
			.c = accel_bo_va(c), .ldc = DIM,
			.alpha = 1.0f,
		}));

	for (e = 0; e < self->info.num_engines; e++) {
		snprintf(key, sizeof(key), "drm-engine-");
		engine_name(&self->info, e, key + strlen(key), sizeof(key) - strlen(key));
		before[e] = fdinfo_value(self->fd, key);
		ASSERT_LE(0, before[e]) TH_LOG("%s", key);
	}
	busy0 = sysfs_value(&self->info, "compute0_busy_ns");
	cmds0 = sysfs_value(&self->info, "compute0_commands");
	ASSERT_LE(0, busy0);
	ASSERT_LE(0, cmds0);

	t0 = lt_now_ns();
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, 0, NULL, done));
	ASSERT_EQ(0, lt_job_result(done));
	wall = lt_now_ns() - t0;

	for (e = 0; e < self->info.num_engines; e++) {
		snprintf(key, sizeof(key), "drm-engine-");
		engine_name(&self->info, e, key + strlen(key), sizeof(key) - strlen(key));
		after = fdinfo_value(self->fd, key);
		if (e == 0) {
			EXPECT_LT(before[e], after) TH_LOG("%s did not grow", key);
			EXPECT_GE(wall, after - before[e])
				TH_LOG("%s grew by %" PRId64 " ns in %" PRId64 " ns", key,
				       after - before[e], wall);
		} else {
			EXPECT_EQ(before[e], after) TH_LOG("%s moved", key);
		}
	}
	EXPECT_LT(busy0, sysfs_value(&self->info, "compute0_busy_ns"));
	EXPECT_LE(cmds0 + GEMMS, sysfs_value(&self->info, "compute0_commands"));

	accel_fence_free(done);
	accel_cmdbuf_free(cb);
	accel_bo_free(c);
	accel_bo_free(b);
	accel_bo_free(a);
}

/* Every sysfs file of the group reads as one decimal number. */
TEST_F(observe, sysfs_files)
{
	static const char *const suffixes[] = { "busy_ns", "commands", "bytes", "faults" };
	char name[64], engine[32];
	uint32_t e, q;
	size_t i;

	EXPECT_LT(0, sysfs_value(&self->info, "devmem_total_bytes"));
	EXPECT_LE(0, sysfs_value(&self->info, "devmem_used_bytes"));
	EXPECT_LE(0, sysfs_value(&self->info, "system_bo_bytes"));
	for (e = 0; e < self->info.num_engines; e++) {
		engine_name(&self->info, e, engine, sizeof(engine));
		for (i = 0; i < 4; i++) {
			snprintf(name, sizeof(name), "%s_%s", engine, suffixes[i]);
			EXPECT_LE(0, sysfs_value(&self->info, name)) TH_LOG("%s", name);
		}
	}
	for (q = 0; q < self->info.num_queues; q++) {
		snprintf(name, sizeof(name), "queue%u_resets", q);
		EXPECT_LE(0, sysfs_value(&self->info, name)) TH_LOG("%s", name);
	}
	snprintf(name, sizeof(name), "queue%u_resets", self->info.num_queues);
	EXPECT_EQ(-1, sysfs_value(&self->info, name));
}

/* The debugfs views read while this file has a job's worth of history. */
TEST_F(observe, debugfs_views)
{
	char bdf[1][LT_BDF_LEN], path[128], text[65536], needle[32];

	if (access("/sys/kernel/debug/accel", R_OK))
		SKIP(return, "debugfs is not mounted");
	ASSERT_LE(1, lt_pci_devices(bdf, 1));
	ASSERT_EQ(0, lt_device_works(self->dev, 0));

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%s/queues", bdf[0]);
	ASSERT_LT(0, read_text(path, text, sizeof(text))) TH_LOG("%s", path);
	EXPECT_NE(NULL, strstr(text, "queue 0: engine compute0")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "pending fences:")) TH_LOG("%s", text);

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%s/contexts", bdf[0]);
	ASSERT_LT(0, read_text(path, text, sizeof(text))) TH_LOG("%s", path);
	snprintf(needle, sizeof(needle), "pid %d ", getpid());
	EXPECT_NE(NULL, strstr(text, needle)) TH_LOG("%s", text);
}

/*
 * An injected MMU fault fails a job on queue 0: the queue's reset count and
 * its engine's fault counter go up by one, and the queue works again.
 */
TEST_F(observe, reset_and_fault_counters)
{
	char bdf[1][LT_BDF_LEN], path[128];
	int64_t resets, faults;
	FILE *f;

	ASSERT_LE(1, lt_pci_devices(bdf, 1));
	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%s/fault_inject", bdf[0]);
	if (access(path, W_OK))
		SKIP(return, "no fault injection (debugfs or the device's capability)");
	resets = sysfs_value(&self->info, "queue0_resets");
	faults = sysfs_value(&self->info, "compute0_faults");
	ASSERT_LE(0, resets);
	ASSERT_LE(0, faults);

	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	ASSERT_LT(0, fprintf(f, "mmu-fault 1"));
	ASSERT_EQ(0, fclose(f));
	EXPECT_NE(0, lt_device_works(self->dev, 0));

	EXPECT_EQ(resets + 1, sysfs_value(&self->info, "queue0_resets"));
	EXPECT_EQ(faults + 1, sysfs_value(&self->info, "compute0_faults"));
	EXPECT_EQ(0, lt_device_works(self->dev, 0));
}

/* Writes @text to the tracefs file @file: 0 or -errno. */
static int tracefs_write(const char *dir, const char *file, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/* One job leaves submit, run and complete events, in that order. */
TEST_F(observe, tracepoints)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	static char text[1 << 20];
	const char *dir = NULL, *submit, *run, *complete;
	char path[160];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !dir; i++) {
		snprintf(path, sizeof(path), "%s/events/lumen/enable", dirs[i]);
		if (!access(path, W_OK))
			dir = dirs[i];
	}
	if (!dir)
		SKIP(return, "tracefs is not mounted");
	ASSERT_EQ(0, tracefs_write(dir, "trace", ""));
	ASSERT_EQ(0, tracefs_write(dir, "events/lumen/enable", "1"));
	EXPECT_EQ(0, lt_device_works(self->dev, 0));
	ASSERT_EQ(0, tracefs_write(dir, "events/lumen/enable", "0"));
	snprintf(path, sizeof(path), "%s/trace", dir);
	ASSERT_LT(0, read_text(path, text, sizeof(text)));

	submit = strstr(text, "lumen_job_submit: queue=0");
	ASSERT_NE(NULL, submit) TH_LOG("%s", text);
	run = strstr(submit, "lumen_job_run: queue=0");
	ASSERT_NE(NULL, run) TH_LOG("%s", text);
	complete = strstr(run, "lumen_job_complete: queue=0");
	ASSERT_NE(NULL, complete) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(complete, "error=0 ")) TH_LOG("%s", text);
	ASSERT_EQ(0, tracefs_write(dir, "trace", ""));
}

/* lumen-smi top -n 2 prints two refreshes naming every engine. */
TEST_F(observe, smi_top)
{
	char out[65536], engine[32];
	const char *home;
	size_t n = 0, r;
	uint32_t e;
	FILE *p;

	p = popen("lumen-smi top -n 2 -d 0.2 2>&1", "r");
	ASSERT_NE(NULL, p);
	while (n < sizeof(out) - 1 && (r = fread(out + n, 1, sizeof(out) - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	ASSERT_EQ(0, pclose(p)) TH_LOG("%s", out);
	for (e = 0; e < self->info.num_engines; e++) {
		engine_name(&self->info, e, engine, sizeof(engine));
		EXPECT_NE(NULL, strstr(out, engine)) TH_LOG("no %s in:\n%s", engine, out);
	}
	/* Two refreshes: the cursor goes home twice. */
	home = strstr(out, "\033[H");
	ASSERT_NE(NULL, home) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(home + 1, "\033[H")) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
