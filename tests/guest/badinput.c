// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Bad input, ioctl by ioctl: a table of malformed arguments, each refused
 * with its own documented errno (Documentation/uapi.rst), none with side
 * effects; after every table the device must still run a copy job.  Then
 * bad jobs: the ioctl accepts them (it cannot read the device's commands),
 * the job fails with its documented error -- -EFAULT for an MMU fault, -EIO
 * for a bad command -- stops at the bad command, and the next job on the
 * same queue runs normally.
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
		{ "unknown flag 1 << 3", { .size = 4096, .flags = 1u << 3 }, -EINVAL },
		{ "unknown flag 1 << 31", { .size = 4096, .flags = 1u << 31 }, -EINVAL },
		{ "device and unknown flag",
		  { .size = 4096, .flags = DRM_LUMEN_BO_DEVICE | 1u << 3 }, -EINVAL },
		{ "read-only and unknown flag",
		  { .size = 4096, .flags = DRM_LUMEN_BO_READ_ONLY | 1u << 4 }, -EINVAL },
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
		c.va = 0;
		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &c))
			TH_LOG("BO_CREATE: %s", cases[i].name);
		EXPECT_EQ(0, c.handle) TH_LOG("BO_CREATE: %s made a handle", cases[i].name);
		EXPECT_EQ(0, c.va) TH_LOG("BO_CREATE: %s mapped a VA", cases[i].name);
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

/* ---- DRM_IOCTL_LUMEN_SUBMIT ----------------------------------------------- */

/*
 * A valid job to spoil one field of: one NOP at the start of the command
 * buffer BO @cb_bo, listing @cb_bo itself.
 */
static struct drm_lumen_submit good_submit(uint64_t cb_va, const uint32_t *handle)
{
	return (struct drm_lumen_submit) {
		.cmdbuf_va = cb_va,
		.cmdbuf_size = 64,
		.bo_handles = (uintptr_t)handle,
		.bo_count = 1,
	};
}

TEST_F(bad, submit)
{
	const uint64_t va_start = self->info.va_start, va_end = self->info.va_end;
	const uint32_t max = self->info.max_cmdbuf_size;
	struct accel_bo *cmd_bo;
	uint32_t handle, bad_handles[2], *many;
	uint64_t va;
	void *map;
	size_t i;

	/* A command buffer of max_cmdbuf_size bytes of NOPs (zero bytes). */
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, max + 4096, 0, &cmd_bo, &map));
	handle = accel_bo_handle(cmd_bo);
	va = accel_bo_va(cmd_bo);
	bad_handles[0] = handle;
	bad_handles[1] = NO_HANDLE;

	const struct drm_lumen_submit good = good_submit(va, &handle);
	const struct {
		const char *name;
		struct drm_lumen_submit s;
		int err;
	} cases[] = {
#define SPOIL(field, value) ({ struct drm_lumen_submit __s = good; __s.field = (value); __s; })
		/*
		 * Bit 0 is DRM_LUMEN_SUBMIT_SYNCS (tests/guest/timeline.c has its
		 * cases), bit 1 DRM_LUMEN_SUBMIT_QUEUE_ID (tests/guest/queues.c).
		 */
		{ "flags 4", SPOIL(flags, 4), -EINVAL },
		{ "pad 1", SPOIL(pad, 1), -EINVAL },
		{ "syncs without DRM_LUMEN_SUBMIT_SYNCS", SPOIL(syncs, 8), -EINVAL },
		{ "sync_count without DRM_LUMEN_SUBMIT_SYNCS", SPOIL(sync_count, 1), -EINVAL },
		{ "flags 1 << 31", SPOIL(flags, 1u << 31), -EINVAL },
		{ "queue num_queues", SPOIL(queue, self->info.num_queues), -EINVAL },
		{ "queue 64", SPOIL(queue, 64), -EINVAL },
		{ "queue ~0", SPOIL(queue, ~0u), -EINVAL },
		{ "cmdbuf_va 0", SPOIL(cmdbuf_va, 0), -EINVAL },
		{ "cmdbuf_va misaligned by 8", SPOIL(cmdbuf_va, va + 8), -EINVAL },
		{ "cmdbuf_va misaligned by 1", SPOIL(cmdbuf_va, va + 1), -EINVAL },
		{ "cmdbuf_va below va_start", SPOIL(cmdbuf_va, va_start - 64), -EINVAL },
		{ "cmdbuf_va at va_end", SPOIL(cmdbuf_va, va_end), -EINVAL },
		{ "cmdbuf_va at 2^63", SPOIL(cmdbuf_va, 1ull << 63), -EINVAL },
		{ "cmdbuf_va ~63", SPOIL(cmdbuf_va, ~63ull), -EINVAL },
		{ "cmdbuf_size 0", SPOIL(cmdbuf_size, 0), -EINVAL },
		{ "cmdbuf_size 63", SPOIL(cmdbuf_size, 63), -EINVAL },
		{ "cmdbuf_size 65", SPOIL(cmdbuf_size, 65), -EINVAL },
		{ "cmdbuf_size max + 64", SPOIL(cmdbuf_size, max + 64), -E2BIG },
		{ "cmdbuf_size ~63", SPOIL(cmdbuf_size, ~63u), -E2BIG },
		{ "bo_count 4097", SPOIL(bo_count, 4097), -E2BIG },
		{ "bo_count ~0", SPOIL(bo_count, ~0u), -E2BIG },
		{ "bo_handles NULL", SPOIL(bo_handles, 0), -EFAULT },
		{ "bo_handles unmapped", SPOIL(bo_handles, (uintptr_t)lt_bad_pointer()), -EFAULT },
		{ "bo_handles in kernel space", SPOIL(bo_handles, 0xffffffff81000000ull), -EFAULT },
		{ "BO handle 0", SPOIL(bo_handles, (uintptr_t)&(const uint32_t){ 0 }), -ENOENT },
		{ "unknown BO handle", SPOIL(bo_handles, (uintptr_t)&(const uint32_t){ NO_HANDLE }),
		  -ENOENT },
		{ "unknown second BO handle",
		  ({ struct drm_lumen_submit __s = good; __s.bo_handles = (uintptr_t)bad_handles;
		     __s.bo_count = 2; __s; }), -ENOENT },
		{ "unknown in_syncobj", SPOIL(in_syncobj, NO_HANDLE), -ENOENT },
		{ "unknown out_syncobj", SPOIL(out_syncobj, NO_HANDLE), -ENOENT },
#undef SPOIL
	};

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct drm_lumen_submit s = cases[i].s;

		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("SUBMIT: %s", cases[i].name);
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, lt_bad_pointer()));

	/* The limits themselves are accepted: max_cmdbuf_size, no BO list. */
	{
		struct drm_lumen_submit s = good;

		s.cmdbuf_size = max;
		EXPECT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("SUBMIT: max_cmdbuf_size bytes");
		s = good;
		s.bo_handles = 0;
		s.bo_count = 0;
		EXPECT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("SUBMIT: without a BO list");
	}
	/* 4096 BOs (one, listed 4096 times) is within the limit. */
	many = calloc(4096, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (i = 0; i < 4096; i++)
		many[i] = handle;
	{
		struct drm_lumen_submit s = good;

		s.bo_handles = (uintptr_t)many;
		s.bo_count = 4096;
		EXPECT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("SUBMIT: 4096 BO handles");
	}
	free(many);

	/* Let those jobs finish before their command buffer goes away. */
	LT_ASSERT_DEVICE_WORKS(self->dev);
	accel_bo_free(cmd_bo);
}

/* ---- Bad jobs ---------------------------------------------------------------- */

/*
 * Runs a job of three commands on queue 0 from @cb (reset first): FENCE
 * "before" at sys+0, then @bad, then FENCE "after" at sys+8.  Returns the
 * job's result; *@before and *@after tell whether each fence was written.
 * @cb is the caller's, made before any VA the bad command names was
 * freed: a new BO could be mapped at that VA again.
 */
static int run_bad_job(FIXTURE_DATA(bad) *self, struct accel_cmdbuf *cb,
		       const void *bad, bool *before, bool *after)
{
	const uint64_t marker = 0x6261646a6f62ull;	/* "badjob" */
	uint64_t seen[2];
	int ret;

	memset(self->sys_map, 0, 16);
	accel_cmdbuf_reset(cb);
	if (accel_cmd_fence(cb, accel_bo_va(self->sys), marker) ||
	    accel_cmd_raw(cb, bad) ||
	    accel_cmd_fence(cb, accel_bo_va(self->sys) + 8, marker))
		return -ENOSPC;
	ret = lt_run_job(self->dev, 0, cb);
	memcpy(seen, self->sys_map, sizeof(seen));
	*before = seen[0] == marker;
	*after = seen[1] == marker;
	return ret;
}

/* A 64-byte command: opcode, flags, then seven little-endian arguments. */
struct raw_cmd {
	uint8_t opcode, flags, zero[6];
	uint64_t arg[7];
};

/* Header byte @i (2..7) set. */
static struct raw_cmd header_byte(uint8_t opcode, int i)
{
	struct raw_cmd c = { .opcode = opcode };

	c.zero[i - 2] = 1;
	return c;
}

TEST_F(bad, jobs_with_bad_commands_fail_with_eio)
{
	const uint64_t sys = accel_bo_va(self->sys), dev = accel_bo_va(self->dev_bo);
	const struct {
		const char *name;
		struct raw_cmd cmd;
	} cases[] = {
		{ "unknown opcode 0x05", { .opcode = 0x05 } },
		{ "unknown opcode 0x12", { .opcode = 0x12 } },
		{ "unknown opcode 0x27", { .opcode = 0x27 } },
		{ "unknown opcode 0xff", { .opcode = 0xff } },
		{ "NOP with flags", { .opcode = 0x00, .flags = 1 } },
		{ "NOP with header byte 2", header_byte(0x00, 2) },
		{ "NOP with header byte 7", header_byte(0x00, 7) },
		{ "NOP with an argument", { .opcode = 0x00, .arg = { [6] = 1 } } },
		{ "FENCE misaligned", { .opcode = 0x01, .arg = { sys + 4, 1 } } },
		{ "FENCE unknown flag", { .opcode = 0x01, .flags = 0x80, .arg = { sys, 1 } } },
		{ "TIMESTAMP misaligned", { .opcode = 0x03, .arg = { sys + 1 } } },
		{ "COPY unknown flag", { .opcode = 0x10, .flags = 0x02, .arg = { sys, dev, 8 } } },
		{ "COPY above 2^40",
		  { .opcode = 0x10, .arg = { sys, dev, (1ull << 40) + 1 } } },
		{ "COPY stray argument", { .opcode = 0x10, .arg = { sys, dev, 8, [4] = 1 } } },
		{ "2D COPY pitch < width",
		  { .opcode = 0x10, .flags = 0x01, .arg = { sys, dev, 64, 2, 32, 64 } } },
		{ "FILL stray argument", { .opcode = 0x11, .arg = { dev, 8, 0, 1 } } },
		{ "INDIRECT misaligned", { .opcode = 0x04, .arg = { sys + 8, 64 } } },
		{ "INDIRECT size not a multiple of 64", { .opcode = 0x04, .arg = { sys, 65 } } },
	};
	struct accel_cmdbuf *cb;
	size_t i;

	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool before, after;
		int ret;

		ret = run_bad_job(self, cb, &cases[i].cmd, &before, &after);
		EXPECT_EQ(-EIO, ret)
			TH_LOG("%s: job result %s", cases[i].name, accel_strerror(ret));
		EXPECT_TRUE(before) TH_LOG("%s: the command before did not run", cases[i].name);
		EXPECT_FALSE(after) TH_LOG("%s: the job went on after it", cases[i].name);
		/* The queue was reset: the next job on it runs. */
		ASSERT_EQ(0, lt_device_works(self->dev, 0)) TH_LOG("after %s", cases[i].name);
	}
	accel_cmdbuf_free(cb);
}

TEST_F(bad, jobs_touching_unmapped_vas_fail_with_efault)
{
	const uint64_t sys = accel_bo_va(self->sys), dev = accel_bo_va(self->dev_bo);
	const uint64_t va_start = self->info.va_start;
	struct accel_cmdbuf *cb;
	struct accel_bo *gone;
	uint64_t gone_va;
	size_t i;

	/*
	 * A BO that was mapped and is not any more.  Nothing is created
	 * while a bad job runs, so its VA stays unmapped then.
	 */
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, 0, &gone));
	gone_va = accel_bo_va(gone);
	accel_bo_free(gone);

	const struct {
		const char *name;
		struct raw_cmd cmd;
	} cases[] = {
		{ "COPY from below va_start", { .opcode = 0x10, .arg = { 4096, sys, 8 } } },
		{ "COPY from a freed BO", { .opcode = 0x10, .arg = { gone_va, sys, 8 } } },
		{ "COPY to a freed BO", { .opcode = 0x10, .arg = { sys, gone_va, 8 } } },
		{ "COPY running off the end of a BO",
		  { .opcode = 0x10, .arg = { sys + SZ - 8, dev, 16 } } },
		{ "COPY at the top of the VA space",
		  { .opcode = 0x10, .arg = { (1ull << 48) - 4096, sys, 8 } } },
		{ "FENCE to a freed BO", { .opcode = 0x01, .arg = { gone_va, 1 } } },
		{ "FENCE to va_start - 8", { .opcode = 0x01, .arg = { va_start - 8, 1 } } },
		{ "FILL of a freed BO", { .opcode = 0x11, .arg = { gone_va, 8, 1 } } },
		{ "WAIT on a freed BO", { .opcode = 0x02, .arg = { gone_va, 1 } } },
		{ "INDIRECT into a freed BO", { .opcode = 0x04, .arg = { gone_va, 64 } } },
	};

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool before, after;
		int ret;

		ret = run_bad_job(self, cb, &cases[i].cmd, &before, &after);
		EXPECT_EQ(-EFAULT, ret)
			TH_LOG("%s: job result %s", cases[i].name, accel_strerror(ret));
		EXPECT_TRUE(before) TH_LOG("%s: the command before did not run", cases[i].name);
		EXPECT_FALSE(after) TH_LOG("%s: the job went on after it", cases[i].name);
		ASSERT_EQ(0, lt_device_works(self->dev, 0)) TH_LOG("after %s", cases[i].name);
	}
	accel_cmdbuf_free(cb);
}

/* A command buffer whose own VA is not mapped: the job faults, no more. */
TEST_F(bad, unmapped_command_buffer_faults)
{
	struct drm_lumen_submit s = { .cmdbuf_size = 64 };
	struct accel_fence *done;
	struct accel_bo *gone;

	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, 0, &gone));
	s.cmdbuf_va = accel_bo_va(gone);
	accel_bo_free(gone);
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	s.out_syncobj = accel_fence_syncobj(done);
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
	EXPECT_EQ(-EFAULT, lt_job_result(done));
	accel_fence_free(done);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * Another file of the same device is another address space: our handles
 * mean nothing there, our VAs are not mapped there, and our mmap offsets
 * cannot be mapped through it.
 */
TEST_F(bad, another_file_sees_nothing_of_ours)
{
	struct drm_lumen_bo_mmap_offset m = { .handle = accel_bo_handle(self->sys) };
	const uint32_t handle = accel_bo_handle(self->sys);
	struct accel_cmdbuf *cb;
	struct accel_fence *done;
	struct accel_dev *other;
	struct drm_lumen_submit s;
	void *map;

	/* A real command buffer of ours, with a NOP in it. */
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	ASSERT_EQ(0, accel_cmd_nop(cb));
	ASSERT_EQ(0, accel_open_path(self->info.path, &other));
	ASSERT_EQ(0, accel_fence_create(other, &done));

	s = (struct drm_lumen_submit) {
		.cmdbuf_va = accel_cmdbuf_va(cb), .cmdbuf_size = 64,
		.bo_handles = (uintptr_t)&handle, .bo_count = 1,
	};
	EXPECT_EQ(-ENOENT, lt_ioctl(accel_fd(other), DRM_IOCTL_LUMEN_SUBMIT, &s));
	EXPECT_EQ(-ENOENT, lt_ioctl(accel_fd(other), DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	/* The other file has no BO at all, so our VA is unmapped there. */
	s.bo_handles = 0;
	s.bo_count = 0;
	s.out_syncobj = accel_fence_syncobj(done);
	ASSERT_EQ(0, lt_ioctl(accel_fd(other), DRM_IOCTL_LUMEN_SUBMIT, &s));
	EXPECT_EQ(-EFAULT, lt_job_result(done));

	/* They still work in their own file... */
	EXPECT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	EXPECT_EQ(0, lt_run_job(self->dev, 0, cb));
	/* ...whose mmap offsets the other file cannot map either. */
	errno = 0;
	map = mmap(NULL, SZ, PROT_READ, MAP_SHARED, accel_fd(other), m.offset);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("another file mapped our BO");
	EXPECT_EQ(EACCES, errno);
	if (map != MAP_FAILED)
		munmap(map, SZ);
	accel_fence_free(done);
	accel_close(other);
	accel_cmdbuf_free(cb);
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

TEST_HARNESS_MAIN
