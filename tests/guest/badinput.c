// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Bad input, ioctl by ioctl: a table of malformed arguments, each refused
 * with its own documented errno (Documentation/uapi.rst), none with side
 * effects; after every table the device must still run a copy job.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"
#include "vgem.h"

/* Both test BOs have this size (two pages). */
#define SZ		8192ull
/* A handle no file ever has: idr handles stay far below it. */
#define NO_HANDLE	0x7fffff00u

FIXTURE(bad) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
	struct accel_bo *sys, *dev_bo;
	void *sys_map;
};

FIXTURE_SETUP(bad)
{
	void *unused;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, SZ, 0, &self->sys, &self->sys_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, SZ, ACCEL_BO_DEVICE, &self->dev_bo, &unused));
	ASSERT_EQ(SZ, accel_bo_size(self->sys));
	ASSERT_EQ(SZ, accel_bo_size(self->dev_bo));
	ASSERT_NE(NULL, lt_bad_pointer());
}

FIXTURE_TEARDOWN(bad)
{
	if (self->dev_bo)
		accel_bo_free(self->dev_bo);
	if (self->sys)
		accel_bo_free(self->sys);
	if (self->dev)
		accel_close(self->dev);
}

/* ---- DRM_IOCTL_LUMEN_QUERY ---------------------------------------------- */

TEST_F(bad, query)
{
	struct drm_lumen_device_info info;
	const struct {
		const char *name;
		struct drm_lumen_query q;
		int err;
	} cases[] = {
		{ "unknown type 1",
		  { .type = 1, .size = sizeof(info), .data = (uintptr_t)&info }, -EINVAL },
		{ "unknown type ~0",
		  { .type = ~0u, .size = sizeof(info), .data = (uintptr_t)&info }, -EINVAL },
		{ "unknown type, size query",
		  { .type = 1, .size = 0 }, -EINVAL },
		{ "data NULL",
		  { .size = sizeof(info), .data = 0 }, -EFAULT },
		{ "data unmapped",
		  { .size = sizeof(info), .data = (uintptr_t)lt_bad_pointer() }, -EFAULT },
		{ "data unmapped, short",
		  { .size = 1, .data = (uintptr_t)lt_bad_pointer() }, -EFAULT },
		{ "data in kernel space",
		  { .size = sizeof(info), .data = 0xffffffff81000000ull }, -EFAULT },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct drm_lumen_query q = cases[i].q;

		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_QUERY, &q))
			TH_LOG("QUERY: %s", cases[i].name);
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_QUERY, lt_bad_pointer()));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- DRM_IOCTL_LUMEN_BO_CREATE ------------------------------------------ */

TEST_F(bad, bo_create)
{
	const uint64_t devmem = self->info.devmem_size;
	const struct {
		const char *name;
		struct drm_lumen_bo_create c;
		int err;
	} cases[] = {
		{ "size 0", { .size = 0 }, -EINVAL },
		{ "size 0, device", { .size = 0, .flags = DRM_LUMEN_BO_DEVICE }, -EINVAL },
		{ "unknown flag 1 << 1", { .size = 4096, .flags = 1u << 1 }, -EINVAL },
		{ "unknown flag 1 << 31", { .size = 4096, .flags = 1u << 31 }, -EINVAL },
		{ "device and unknown flag",
		  { .size = 4096, .flags = DRM_LUMEN_BO_DEVICE | 1u << 2 }, -EINVAL },
		{ "size overflows page rounding", { .size = ~0ull }, -EINVAL },
		{ "size overflows page rounding, device",
		  { .size = ~0ull, .flags = DRM_LUMEN_BO_DEVICE }, -EINVAL },
		{ "system BO of 1 GiB + 1", { .size = (1ull << 30) + 1 }, -EINVAL },
		{ "system BO of 2^62", { .size = 1ull << 62 }, -EINVAL },
		{ "device BO of 2^62",
		  { .size = 1ull << 62, .flags = DRM_LUMEN_BO_DEVICE }, -ENOSPC },
		{ "device BO beyond device memory",
		  { .size = devmem + 4096, .flags = DRM_LUMEN_BO_DEVICE }, -ENOSPC },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct drm_lumen_bo_create c = cases[i].c;

		c.handle = 0;
		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &c))
			TH_LOG("BO_CREATE: %s", cases[i].name);
		EXPECT_EQ(0, c.handle) TH_LOG("BO_CREATE: %s made a handle", cases[i].name);
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, lt_bad_pointer()));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- DRM_IOCTL_LUMEN_BO_MMAP_OFFSET and mmap() --------------------------- */

TEST_F(bad, bo_mmap_offset)
{
	const uint32_t sys = accel_bo_handle(self->sys);
	const struct {
		const char *name;
		struct drm_lumen_bo_mmap_offset m;
		int err;
	} cases[] = {
		{ "handle 0", { .handle = 0 }, -ENOENT },
		{ "unknown handle", { .handle = NO_HANDLE }, -ENOENT },
		{ "pad set", { .handle = sys, .pad = 1 }, -EINVAL },
		{ "pad set high", { .handle = sys, .pad = 1u << 31 }, -EINVAL },
	};
	struct drm_lumen_bo_mmap_offset good = { .handle = sys };
	size_t i;
	void *map;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct drm_lumen_bo_mmap_offset m = cases[i].m;

		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m))
			TH_LOG("BO_MMAP_OFFSET: %s", cases[i].name);
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET,
				    lt_bad_pointer()));

	/* mmap() itself: shared, inside one BO, at the offsets the driver gave. */
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &good));
	errno = 0;
	map = mmap(NULL, 2 * SZ, PROT_READ, MAP_SHARED, self->fd, good.offset);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("mapped past the end of the BO");
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, 2 * SZ);
	/* A mapping always starts at the beginning of its BO (DRM core rule). */
	errno = 0;
	map = mmap(NULL, SZ - 4096, PROT_READ, MAP_SHARED, self->fd, good.offset + 4096);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("mapped from a page into the BO");
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, SZ - 4096);
	errno = 0;
	map = mmap(NULL, SZ, PROT_READ, MAP_SHARED, self->fd, good.offset + 4096);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("mapped from inside to past the end");
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, SZ);
	errno = 0;
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, good.offset + (1ull << 40));
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("mapped an offset of no BO");
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, 4096);
	errno = 0;
	map = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, good.offset);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("mapped MAP_PRIVATE");
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, SZ);

	/* GEM_CLOSE of a handle the file does not have (DRM core). */
	EXPECT_EQ(-EINVAL, lt_gem_close(self->fd, NO_HANDLE));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- DRM_IOCTL_LUMEN_SUBMIT: the submission ------------------------------ */

/* A valid one-command job (8 bytes system -> device) to spoil one field of. */
static struct drm_lumen_cmd good_cmd(FIXTURE_DATA(bad) *self)
{
	return (struct drm_lumen_cmd) {
		.opcode = DRM_LUMEN_CMD_COPY,
		.src_handle = accel_bo_handle(self->sys),
		.dst_handle = accel_bo_handle(self->dev_bo),
		.size = 8,
	};
}

TEST_F(bad, submit)
{
	const uint32_t max = self->info.max_job_cmds;
	struct drm_lumen_cmd cmd = good_cmd(self), *many, *straddle;
	struct drm_lumen_submit good = {
		.cmds = (uintptr_t)&cmd,
		.cmd_count = 1,
	};
	const struct {
		const char *name;
		struct drm_lumen_submit s;
		int err;
	} cases[] = {
		{ "cmds NULL", { .cmds = 0, .cmd_count = 1 }, -EFAULT },
		{ "cmds unmapped",
		  { .cmds = (uintptr_t)lt_bad_pointer(), .cmd_count = 1 }, -EFAULT },
		{ "cmds in kernel space",
		  { .cmds = 0xffffffff81000000ull, .cmd_count = 1 }, -EFAULT },
		{ "cmd_count 0", { .cmds = good.cmds, .cmd_count = 0 }, -EINVAL },
		{ "cmd_count ~0", { .cmds = good.cmds, .cmd_count = ~0u }, -E2BIG },
		{ "queue num_queues",
		  { .cmds = good.cmds, .cmd_count = 1, .queue = self->info.num_queues }, -EINVAL },
		{ "queue 64", { .cmds = good.cmds, .cmd_count = 1, .queue = 64 }, -EINVAL },
		{ "queue ~0", { .cmds = good.cmds, .cmd_count = 1, .queue = ~0u }, -EINVAL },
		{ "flags 1", { .cmds = good.cmds, .cmd_count = 1, .flags = 1 }, -EINVAL },
		{ "flags 1 << 31",
		  { .cmds = good.cmds, .cmd_count = 1, .flags = 1u << 31 }, -EINVAL },
		{ "pad set", { .cmds = good.cmds, .cmd_count = 1, .pad = 1 }, -EINVAL },
		{ "unknown in_syncobj",
		  { .cmds = good.cmds, .cmd_count = 1, .in_syncobj = NO_HANDLE }, -ENOENT },
		{ "unknown out_syncobj",
		  { .cmds = good.cmds, .cmd_count = 1, .out_syncobj = NO_HANDLE }, -ENOENT },
	};
	struct drm_lumen_submit s;
	unsigned char *pages;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		s = cases[i].s;
		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("SUBMIT: %s", cases[i].name);
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, lt_bad_pointer()));

	/* One command more than the limit, all of them valid. */
	many = calloc(max + 1, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (i = 0; i <= max; i++)
		many[i] = cmd;
	s = good;
	s.cmds = (uintptr_t)many;
	s.cmd_count = max + 1;
	EXPECT_EQ(-E2BIG, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
		TH_LOG("SUBMIT: max_job_cmds + 1 commands");
	s.cmd_count = max;
	EXPECT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
		TH_LOG("SUBMIT: max_job_cmds commands");
	free(many);

	/* An array whose second command runs into an unmapped page. */
	pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + 4096, 4096, PROT_NONE));
	straddle = (struct drm_lumen_cmd *)(pages + 4096 - sizeof(cmd) - 8);
	memcpy(&straddle[0], &cmd, sizeof(cmd));
	memcpy(&straddle[1], &cmd, 8);
	s = good;
	s.cmds = (uintptr_t)straddle;
	s.cmd_count = 2;
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
		TH_LOG("SUBMIT: command array crosses into an unmapped page");
	munmap(pages, 8192);

	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- DRM_IOCTL_LUMEN_SUBMIT: the commands -------------------------------- */

/* Stand-ins for handles in the table, resolved when a row is run. */
enum { H0 = 0, SYS, DEV, BAD };

struct cmd_case {
	const char *name;
	struct drm_lumen_cmd cmd;	/* handles are H0/SYS/DEV/BAD */
	int err;
};

static const struct cmd_case cmd_cases[] = {
	/* Every command */
	{ "unknown opcode 3", { .opcode = 3 }, -EINVAL },
	{ "unknown opcode 0x10", { .opcode = 0x10 }, -EINVAL },
	{ "unknown opcode ~0", { .opcode = ~0u }, -EINVAL },
	{ "NOP flags", { .opcode = DRM_LUMEN_CMD_NOP, .flags = 1 }, -EINVAL },
	{ "NOP src_handle", { .opcode = DRM_LUMEN_CMD_NOP, .src_handle = SYS }, -EINVAL },
	{ "NOP dst_handle", { .opcode = DRM_LUMEN_CMD_NOP, .dst_handle = SYS }, -EINVAL },
	{ "NOP src_offset", { .opcode = DRM_LUMEN_CMD_NOP, .src_offset = 8 }, -EINVAL },
	{ "NOP dst_offset", { .opcode = DRM_LUMEN_CMD_NOP, .dst_offset = 8 }, -EINVAL },
	{ "NOP size", { .opcode = DRM_LUMEN_CMD_NOP, .size = 8 }, -EINVAL },
	{ "NOP value", { .opcode = DRM_LUMEN_CMD_NOP, .value = 1 }, -EINVAL },
	{ "NOP reserved[0]", { .opcode = DRM_LUMEN_CMD_NOP, .reserved = { 1, 0 } }, -EINVAL },
	{ "NOP reserved[1]", { .opcode = DRM_LUMEN_CMD_NOP, .reserved = { 0, 1 } }, -EINVAL },

	/* FENCE */
	{ "FENCE handle 0", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = H0 }, -ENOENT },
	{ "FENCE unknown handle", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = BAD }, -ENOENT },
	{ "FENCE offset 1",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .dst_offset = 1 }, -EINVAL },
	{ "FENCE offset 4",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .dst_offset = 4 }, -EINVAL },
	{ "FENCE offset 4092",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .dst_offset = 4092 }, -EINVAL },
	{ "FENCE offset at the end",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .dst_offset = SZ }, -EINVAL },
	{ "FENCE offset past the end",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .dst_offset = SZ + 8 }, -EINVAL },
	{ "FENCE into device memory",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = DEV, .dst_offset = 0 }, -EINVAL },
	{ "FENCE offset wraps around",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .dst_offset = ~7ull }, -EINVAL },
	{ "FENCE flags",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .flags = 1 }, -EINVAL },
	{ "FENCE src_handle",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .src_handle = SYS }, -EINVAL },
	{ "FENCE src_offset",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .src_offset = 8 }, -EINVAL },
	{ "FENCE size",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .size = 8 }, -EINVAL },
	{ "FENCE reserved[1]",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = SYS, .reserved = { 0, 1 } }, -EINVAL },

	/* COPY */
	{ "COPY size 0",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV }, -EINVAL },
	{ "COPY src handle 0",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = H0, .dst_handle = DEV, .size = 8 },
	  -ENOENT },
	{ "COPY unknown src handle",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = BAD, .dst_handle = DEV, .size = 8 },
	  -ENOENT },
	{ "COPY dst handle 0",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = H0, .size = 8 },
	  -ENOENT },
	{ "COPY unknown dst handle",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = BAD, .size = 8 },
	  -ENOENT },
	{ "COPY size past both ends",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .size = SZ + 1 }, -EINVAL },
	{ "COPY source range past the end",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .src_offset = SZ - 8, .size = 16 }, -EINVAL },
	{ "COPY destination range past the end",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .dst_offset = SZ - 1, .size = 2 }, -EINVAL },
	{ "COPY source offset at the end",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = DEV, .dst_handle = SYS,
	    .src_offset = SZ, .size = 1 }, -EINVAL },
	{ "COPY source offset + size wraps around",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .src_offset = ~0ull, .size = 2 }, -EINVAL },
	{ "COPY destination offset + size wraps around",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .dst_offset = 16, .size = ~0ull - 8 }, -EINVAL },
	{ "COPY size ~0",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .size = ~0ull }, -EINVAL },
	{ "COPY overlapping ranges of one BO",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = SYS,
	    .src_offset = 0, .dst_offset = 8, .size = 16 }, -EINVAL },
	{ "COPY a range onto itself",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = DEV, .dst_handle = DEV,
	    .src_offset = 64, .dst_offset = 64, .size = 1 }, -EINVAL },
	{ "COPY overlapping by one byte, backwards",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = DEV, .dst_handle = DEV,
	    .src_offset = 4095, .dst_offset = 0, .size = 4096 }, -EINVAL },
	{ "COPY flags",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .size = 8, .flags = 1 }, -EINVAL },
	{ "COPY value",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .size = 8, .value = 1 }, -EINVAL },
	{ "COPY reserved[0]",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = SYS, .dst_handle = DEV,
	    .size = 8, .reserved = { 1, 0 } }, -EINVAL },
};

static uint32_t resolve(FIXTURE_DATA(bad) *self, uint32_t stand_in)
{
	switch (stand_in) {
	case SYS:
		return accel_bo_handle(self->sys);
	case DEV:
		return accel_bo_handle(self->dev_bo);
	case BAD:
		return NO_HANDLE;
	default:
		return 0;
	}
}

/*
 * Each bad command is the second of a job whose first command is a good
 * FENCE: the whole job must be refused, so that FENCE never runs.
 */
TEST_F(bad, commands)
{
	const uint64_t marker = 0x6261646a6f62ull;	/* "badjob" */
	struct accel_fence *done;
	struct accel_cmdbuf *cb;
	uint64_t seen;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmd_cases); i++) {
		struct drm_lumen_cmd cmds[2] = {
			{
				.opcode = DRM_LUMEN_CMD_FENCE,
				.dst_handle = accel_bo_handle(self->sys),
				.dst_offset = 0,
				.value = marker,
			},
			cmd_cases[i].cmd,
		};
		struct drm_lumen_submit s = {
			.cmds = (uintptr_t)cmds,
			.cmd_count = 2,
		};

		cmds[1].src_handle = resolve(self, cmds[1].src_handle);
		cmds[1].dst_handle = resolve(self, cmds[1].dst_handle);
		EXPECT_EQ(cmd_cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("command: %s", cmd_cases[i].name);
	}

	/*
	 * Jobs on one queue complete in order: once a good job submitted now
	 * has completed, any part of a bad job that slipped through has too.
	 */
	ASSERT_EQ(0, accel_cmdbuf_create(&cb));
	ASSERT_EQ(0, accel_cmd_nop(cb));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, done));
	ASSERT_EQ(0, accel_fence_wait(done, LT_JOB_TIMEOUT_NS));
	memcpy(&seen, self->sys_map, sizeof(seen));
	EXPECT_EQ(0, seen) TH_LOG("part of a refused job ran");
	accel_fence_free(done);
	accel_cmdbuf_free(cb);

	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * Two faults at once: the errno is that of the check Documentation/uapi.rst
 * says comes first -- flags, pad, queue, cmd_count; reading cmds; each
 * command's fields; BO handles; ranges and placement; out_syncobj;
 * in_syncobj.
 */
TEST_F(bad, submit_check_order)
{
	const uint32_t sys = accel_bo_handle(self->sys), dev = accel_bo_handle(self->dev_bo);
	const struct drm_lumen_cmd fence_ok = {
		.opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = sys,
	};
	const struct drm_lumen_cmd bad_field = {
		.opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = sys, .flags = 1,
	};
	const struct drm_lumen_cmd bad_handle = {
		.opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = NO_HANDLE,
	};
	const struct drm_lumen_cmd bad_range = {
		.opcode = DRM_LUMEN_CMD_COPY, .src_handle = sys, .dst_handle = dev,
		.src_offset = SZ, .size = 1,
	};
	const struct drm_lumen_cmd bad_placement = {
		.opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = dev,
	};
	const struct {
		const char *name;
		struct drm_lumen_cmd cmds[2];
		struct drm_lumen_submit s;	/* .cmds is filled in */
		bool null_cmds;
		int err;
	} cases[] = {
		{ "queue before reading cmds", { fence_ok },
		  { .cmd_count = 1, .queue = ~0u }, true, -EINVAL },
		{ "pad before reading cmds", { fence_ok },
		  { .cmd_count = 1, .pad = 1 }, true, -EINVAL },
		{ "cmd_count 0 before reading cmds", { fence_ok },
		  { .cmd_count = 0 }, true, -EINVAL },
		{ "cmd_count too big before reading cmds", { fence_ok },
		  { .cmd_count = self->info.max_job_cmds + 1 }, true, -E2BIG },
		{ "reading cmds before out_syncobj", { fence_ok },
		  { .cmd_count = 1, .out_syncobj = NO_HANDLE }, true, -EFAULT },
		{ "fields of a later command before handles of an earlier one",
		  { bad_handle, bad_field }, { .cmd_count = 2 }, false, -EINVAL },
		{ "handles of a later command before ranges of an earlier one",
		  { bad_range, bad_handle }, { .cmd_count = 2 }, false, -ENOENT },
		{ "handles before placement",
		  { bad_placement, bad_handle }, { .cmd_count = 2 }, false, -ENOENT },
		{ "ranges before out_syncobj", { bad_range },
		  { .cmd_count = 1, .out_syncobj = NO_HANDLE }, false, -EINVAL },
		{ "placement before in_syncobj", { bad_placement },
		  { .cmd_count = 1, .in_syncobj = NO_HANDLE }, false, -EINVAL },
		{ "handles before out_syncobj", { bad_handle },
		  { .cmd_count = 1, .out_syncobj = NO_HANDLE }, false, -ENOENT },
	};
	struct accel_fence *empty;
	struct drm_lumen_submit s;
	struct drm_lumen_cmd cmds[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(cmds, cases[i].cmds, sizeof(cmds));
		s = cases[i].s;
		s.cmds = cases[i].null_cmds ? 0 : (uintptr_t)cmds;
		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("SUBMIT: %s", cases[i].name);
	}

	/* out_syncobj (unknown: ENOENT) before in_syncobj (no fence: EINVAL). */
	ASSERT_EQ(0, accel_fence_create(self->dev, &empty));
	memcpy(cmds, &fence_ok, sizeof(fence_ok));
	s = (struct drm_lumen_submit) {
		.cmds = (uintptr_t)cmds, .cmd_count = 1,
		.in_syncobj = accel_fence_syncobj(empty), .out_syncobj = NO_HANDLE,
	};
	EXPECT_EQ(-ENOENT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
	s.out_syncobj = 0;
	EXPECT_EQ(-EINVAL, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
	accel_fence_free(empty);

	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * Handles belong to the file that made them: the same numbers mean nothing
 * to a new file of the same device, which has no objects at all.
 */
TEST_F(bad, handles_of_another_file)
{
	struct drm_lumen_cmd cmd = good_cmd(self);
	struct drm_lumen_submit s = { .cmds = (uintptr_t)&cmd, .cmd_count = 1 };
	struct drm_lumen_bo_mmap_offset m = { .handle = accel_bo_handle(self->sys) };
	struct accel_dev *other;
	void *map;

	ASSERT_EQ(0, accel_open_path(self->info.path, &other));
	EXPECT_EQ(-ENOENT, lt_ioctl(accel_fd(other), DRM_IOCTL_LUMEN_SUBMIT, &s));
	EXPECT_EQ(-ENOENT, lt_ioctl(accel_fd(other), DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	/* They still work in their own file... */
	EXPECT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	/* ...whose mmap offsets the other file cannot map either. */
	errno = 0;
	map = mmap(NULL, SZ, PROT_READ, MAP_SHARED, accel_fd(other), m.offset);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("another file mapped our BO");
	EXPECT_EQ(EACCES, errno);
	if (map != MAP_FAILED)
		munmap(map, SZ);
	accel_close(other);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ioctl numbers the driver does not have (DRM core). */
TEST_F(bad, unknown_ioctl)
{
	struct drm_lumen_query q = { 0 };

	/* Past the end of the driver's table. */
	EXPECT_EQ(-EINVAL, lt_ioctl(self->fd, DRM_IOWR(DRM_COMMAND_BASE + 0x3f,
						       struct drm_lumen_query), &q));
	/* Not a DRM ioctl at all ('x' is not DRM's type). */
	EXPECT_EQ(-ENOTTY, lt_ioctl(self->fd, _IOWR('x', DRM_COMMAND_BASE,
						    struct drm_lumen_query), &q));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* Device-memory BOs cannot be exported as dma-bufs. */
TEST_F(bad, prime_export_of_device_bo)
{
	struct drm_prime_handle prime = {
		.handle = accel_bo_handle(self->dev_bo),
		.flags = DRM_CLOEXEC | DRM_RDWR,
	};

	EXPECT_EQ(-EOPNOTSUPP, lt_ioctl(self->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* dma-bufs of another device are refused. */
TEST_F(bad, prime_import_of_foreign_dmabuf)
{
	struct drm_prime_handle prime = { 0 };
	int foreign;

	foreign = vgem_dmabuf_create();
	if (foreign == -ENODEV)
		SKIP(return, "vgem is not available to make a foreign dma-buf");
	ASSERT_LE(0, foreign) TH_LOG("vgem dma-buf: %s", accel_strerror(foreign));
	prime.fd = foreign;
	EXPECT_EQ(-EINVAL, lt_ioctl(self->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	EXPECT_EQ(0, prime.handle);
	close(foreign);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_HARNESS_MAIN
