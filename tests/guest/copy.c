// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * COPY, FILL and FENCE commands in user command buffers, addressed by
 * device VA: random data through device memory and back, 1 byte to 16 MiB
 * at unaligned offsets, checked byte for byte, with the bytes around every
 * destination range checked untouched; 2D copies and fills against a CPU
 * reference; FENCE writes exactly its 8 bytes; the largest command buffer
 * runs every command; every queue runs jobs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define CANARY 0xa5

static const uint64_t copy_sizes[] = {
	1, 2, 3, 7, 8, 63, 4095, 4096, 4097, 65535, 65537, LT_MIB + 13,
	16 * LT_MIB,
};

#define NUM_COPY_SIZES ARRAY_SIZE(copy_sizes)

FIXTURE(copy) {
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_rng rng;
};

FIXTURE_SETUP(copy)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&self->rng);
}

FIXTURE_TEARDOWN(copy)
{
	if (self->dev)
		accel_close(self->dev);
}

/*
 * Checks that @map[@off, @off + @len) equals @want and that the rest of the
 * @size-byte buffer still holds @fill.  Logs and returns false otherwise.
 */
static bool check_range(struct __test_metadata *_metadata, const char *what,
			const unsigned char *map, uint64_t size, uint64_t off,
			const void *want, uint64_t len, int fill)
{
	size_t bad;

	bad = lt_mismatch(map + off, want, len);
	if (bad != len) {
		TH_LOG("%s: byte %zu of %llu differs", what, bad,
		       (unsigned long long)len);
		return false;
	}
	bad = lt_find_not(map, fill, off);
	if (bad != off) {
		TH_LOG("%s: byte %zu before the range was written", what, bad);
		return false;
	}
	bad = lt_find_not(map + off + len, fill, size - off - len);
	if (bad != size - off - len) {
		TH_LOG("%s: byte %zu after the range was written", what, bad);
		return false;
	}
	return true;
}

/* The offsets of one round trip. */
struct trip {
	uint64_t size, src_off, dev_off, dst_off;
	bool one_job;	/* both copies in a single job */
};

/*
 * System -> device -> system: @t.size random bytes from a system BO into a
 * new device BO and out into another system BO, then the whole device BO
 * out as well, to see that only the range was written.
 */
static void round_trip(struct __test_metadata *_metadata,
		       FIXTURE_DATA(copy) *self, const struct trip *t)
{
	const uint64_t bo_size = t->size + 8192;	/* room for any offset < 4096 */
	struct accel_bo *src, *dev, *dst, *whole;
	void *src_map, *dev_map, *dst_map, *whole_map;
	unsigned char *zero;
	char what[128];

	snprintf(what, sizeof(what), "%llu bytes, offsets %llu/%llu/%llu%s",
		 (unsigned long long)t->size, (unsigned long long)t->src_off,
		 (unsigned long long)t->dev_off, (unsigned long long)t->dst_off,
		 t->one_job ? ", one job" : "");

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, ACCEL_BO_DEVICE, &dev, &dev_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, 0, &dst, &dst_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, 0, &whole, &whole_map));
	lt_rng_fill(&self->rng, src_map, bo_size);
	memset(dst_map, CANARY, bo_size);
	memset(whole_map, CANARY, bo_size);

	if (t->one_job) {
		/* Commands of a job run in order: the second sees the first. */
		struct accel_cmdbuf *cb;

		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
		ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(dev) + t->dev_off,
					    accel_bo_va(src) + t->src_off, t->size));
		ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(dst) + t->dst_off,
					    accel_bo_va(dev) + t->dev_off, t->size));
		ASSERT_EQ(0, lt_run_job(self->dev, 0, cb)) TH_LOG("%s", what);
		accel_cmdbuf_free(cb);
	} else {
		ASSERT_EQ(0, lt_copy(self->dev, 0, dev, t->dev_off, src, t->src_off, t->size))
			TH_LOG("%s: into device memory", what);
		ASSERT_EQ(0, lt_copy(self->dev, 0, dst, t->dst_off, dev, t->dev_off, t->size))
			TH_LOG("%s: out of device memory", what);
	}
	EXPECT_TRUE(check_range(_metadata, what, dst_map, bo_size, t->dst_off,
				(unsigned char *)src_map + t->src_off, t->size, CANARY));

	/* The device BO: the range, and zeroes around it. */
	ASSERT_EQ(0, lt_copy(self->dev, 0, whole, 0, dev, 0, bo_size));
	zero = (unsigned char *)whole_map;
	EXPECT_TRUE(check_range(_metadata, "device BO", zero, bo_size, t->dev_off,
				(unsigned char *)src_map + t->src_off, t->size, 0));

	accel_bo_free(whole);
	accel_bo_free(dst);
	accel_bo_free(dev);
	accel_bo_free(src);
}

TEST_F_TIMEOUT(copy, round_trip_aligned, 300)
{
	size_t i;

	for (i = 0; i < NUM_COPY_SIZES; i++) {
		struct trip t = { .size = copy_sizes[i] };

		round_trip(_metadata, self, &t);
	}
}

TEST_F_TIMEOUT(copy, round_trip_unaligned, 300)
{
	size_t i;

	for (i = 0; i < NUM_COPY_SIZES; i++) {
		struct trip t = {
			.size = copy_sizes[i],
			/* Odd offsets: never aligned to anything useful. */
			.src_off = lt_rng_below(&self->rng, 2048) * 2 + 1,
			.dev_off = lt_rng_below(&self->rng, 2048) * 2 + 1,
			.dst_off = lt_rng_below(&self->rng, 2048) * 2 + 1,
		};

		round_trip(_metadata, self, &t);
	}
}

TEST_F_TIMEOUT(copy, round_trip_in_one_job, 300)
{
	size_t i;

	for (i = 0; i < NUM_COPY_SIZES; i++) {
		struct trip t = {
			.size = copy_sizes[i],
			.src_off = lt_rng_below(&self->rng, 4096),
			.dev_off = lt_rng_below(&self->rng, 4096),
			.dst_off = lt_rng_below(&self->rng, 4096),
			.one_job = true,
		};

		round_trip(_metadata, self, &t);
	}
}

/* Copies that never touch device memory, and ones that stay inside it. */
TEST_F_TIMEOUT(copy, system_to_system_and_device_to_device, 120)
{
	const uint64_t size = LT_MIB + 4097, bo_size = size + 8192;
	struct accel_bo *src, *sys, *dev_a, *dev_b, *dst;
	void *src_map, *sys_map, *unused, *dst_map;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, 0, &sys, &sys_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, ACCEL_BO_DEVICE, &dev_a, &unused));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, ACCEL_BO_DEVICE, &dev_b, &unused));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, bo_size, 0, &dst, &dst_map));
	lt_rng_fill(&self->rng, src_map, bo_size);
	memset(sys_map, CANARY, bo_size);
	memset(dst_map, CANARY, bo_size);

	ASSERT_EQ(0, lt_copy(self->dev, 0, sys, 4001, src, 3, size));
	EXPECT_TRUE(check_range(_metadata, "system to system", sys_map, bo_size,
				4001, (unsigned char *)src_map + 3, size, CANARY));

	ASSERT_EQ(0, lt_copy(self->dev, 0, dev_a, 17, src, 5, size));
	ASSERT_EQ(0, lt_copy(self->dev, 0, dev_b, 4095, dev_a, 17, size));
	ASSERT_EQ(0, lt_copy(self->dev, 0, dst, 1, dev_b, 4095, size));
	EXPECT_TRUE(check_range(_metadata, "device to device", dst_map, bo_size,
				1, (unsigned char *)src_map + 5, size, CANARY));

	accel_bo_free(dst);
	accel_bo_free(dev_b);
	accel_bo_free(dev_a);
	accel_bo_free(sys);
	accel_bo_free(src);
}

/* Two disjoint ranges of one BO, also touching: allowed within a BO. */
TEST_F(copy, within_one_bo)
{
	const uint64_t size = 3 * 4096, half = size / 2;
	unsigned char want[3 * 4096 / 2];
	struct accel_bo *bo;
	void *map;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &bo, &map));
	lt_rng_fill(&self->rng, map, size);
	memcpy(want, map, half);
	/* [0, half) -> [half, size): the ranges touch but do not overlap. */
	ASSERT_EQ(0, lt_copy(self->dev, 0, bo, half, bo, 0, half));
	EXPECT_EQ(half, lt_mismatch((unsigned char *)map + half, want, half));
	EXPECT_EQ(half, lt_mismatch(map, want, half));
	accel_bo_free(bo);
}

/*
 * A command buffer of max_cmdbuf_size bytes, every command moving a small
 * random piece to its own place: the largest job runs every command, and
 * the builder refuses one command more.
 */
TEST_F_TIMEOUT(copy, largest_cmdbuf_runs_every_command, 300)
{
	const uint32_t n = self->info.max_cmdbuf_size / 64;
	const uint64_t src_size = 65536, dst_size = (uint64_t)n * 64;
	struct accel_bo *src, *dst;
	void *src_map, *dst_map;
	unsigned char *want;
	struct accel_cmdbuf *cb;
	uint64_t pos = 0;
	uint32_t i;

	ASSERT_LE(1, n);
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, src_size, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, dst_size, 0, &dst, &dst_map));
	want = malloc(dst_size);
	ASSERT_NE(NULL, want);
	lt_rng_fill(&self->rng, src_map, src_size);
	memset(dst_map, CANARY, dst_size);
	memset(want, CANARY, dst_size);

	ASSERT_EQ(0, accel_cmdbuf_create(self->dev, (uint64_t)n * 64 + 4096, &cb));
	for (i = 0; i < n; i++) {
		uint64_t len = 1 + lt_rng_below(&self->rng, 64);
		uint64_t from = lt_rng_below(&self->rng, src_size - len);

		ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(dst) + pos,
					    accel_bo_va(src) + from, len));
		memcpy(want + pos, (unsigned char *)src_map + from, len);
		pos += len;
	}
	ASSERT_EQ(n, accel_cmdbuf_count(cb));
	ASSERT_EQ(self->info.max_cmdbuf_size, accel_cmdbuf_size(cb));
	EXPECT_EQ(-ENOSPC, accel_cmd_nop(cb));
	ASSERT_EQ(0, lt_run_job(self->dev, 0, cb));
	EXPECT_EQ(dst_size, lt_mismatch(dst_map, want, dst_size));

	accel_cmdbuf_free(cb);
	free(want);
	accel_bo_free(dst);
	accel_bo_free(src);
}

/* 2D copies: rows of width bytes between pitched layouts, vs. a CPU loop. */
TEST_F_TIMEOUT(copy, copy2d_matches_cpu_reference, 120)
{
	static const struct {
		uint64_t width, height, src_pitch, dst_pitch;
	} shapes[] = {
		{ 1, 1, 1, 1 }, { 7, 3, 7, 9 }, { 64, 64, 100, 64 },
		{ 4096, 5, 4099, 8192 }, { 333, 77, 1000, 334 },
	};
	/* Room for the largest extent: 3 + 76 * 1000 + 333 bytes. */
	const uint64_t size = 128 * 1024;
	struct accel_bo *src, *dev, *dst;
	void *src_map, *dst_map, *unused;
	unsigned char *want;
	size_t i;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, ACCEL_BO_DEVICE, &dev, &unused));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &dst, &dst_map));
	want = malloc(size);
	ASSERT_NE(NULL, want);

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		uint64_t w = shapes[i].width, h = shapes[i].height;
		uint64_t sp = shapes[i].src_pitch, dp = shapes[i].dst_pitch;
		struct accel_cmdbuf *cb;
		uint64_t r;

		lt_rng_fill(&self->rng, src_map, size);
		memset(dst_map, CANARY, size);
		memset(want, CANARY, size);
		/* Naive reference: row by row. */
		for (r = 0; r < h; r++)
			memcpy(want + r * dp, (unsigned char *)src_map + 3 + r * sp, w);

		/* System -> device (dense) -> system (pitched), one job. */
		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
		ASSERT_EQ(0, accel_cmd_copy2d(cb, accel_bo_va(dev), w,
					      accel_bo_va(src) + 3, sp, w, h));
		ASSERT_EQ(0, accel_cmd_copy2d(cb, accel_bo_va(dst), dp,
					      accel_bo_va(dev), w, w, h));
		ASSERT_EQ(0, lt_run_job(self->dev, 0, cb)) TH_LOG("shape %zu", i);
		accel_cmdbuf_free(cb);
		EXPECT_EQ(size, lt_mismatch(dst_map, want, size))
			TH_LOG("shape %zu: %llux%llu pitches %llu/%llu", i,
			       (unsigned long long)w, (unsigned long long)h,
			       (unsigned long long)sp, (unsigned long long)dp);
	}
	free(want);
	accel_bo_free(dst);
	accel_bo_free(dev);
	accel_bo_free(src);
}

/* FILL repeats its 8-byte little-endian pattern from the destination. */
TEST_F_TIMEOUT(copy, fill_matches_cpu_reference, 120)
{
	static const struct {
		uint64_t off, len;
	} ranges[] = {
		{ 0, 1 }, { 0, 8 }, { 3, 13 }, { 4096, 4096 }, { 5, 65536 + 3 },
	};
	const uint64_t size = 80 * 1024;
	struct accel_bo *sys, *dev;
	void *sys_map, *unused;
	unsigned char *want;
	size_t i;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &sys, &sys_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, ACCEL_BO_DEVICE, &dev, &unused));
	want = malloc(size);
	ASSERT_NE(NULL, want);
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		uint64_t pattern = lt_rng_next(&self->rng), b;
		uint64_t off = ranges[i].off, len = ranges[i].len;
		struct accel_cmdbuf *cb;

		memset(sys_map, CANARY, size);
		memset(want, CANARY, size);
		for (b = 0; b < len; b++)
			want[off + b] = pattern >> (8 * (b % 8));

		/* Fill device memory, then bring the whole BO out. */
		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
		ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(dev), accel_bo_va(sys), size));
		ASSERT_EQ(0, accel_cmd_fill(cb, accel_bo_va(dev) + off, len, pattern));
		ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(sys), accel_bo_va(dev), size));
		ASSERT_EQ(0, lt_run_job(self->dev, 0, cb));
		accel_cmdbuf_free(cb);
		EXPECT_EQ(size, lt_mismatch(sys_map, want, size))
			TH_LOG("fill %llu bytes at %llu", (unsigned long long)len,
			       (unsigned long long)off);
	}
	free(want);
	accel_bo_free(dev);
	accel_bo_free(sys);
}

/* FENCE writes its 64-bit value, little-endian, and nothing else. */
TEST_F(copy, fence_writes_exactly_its_value)
{
	const uint64_t size = 8192;
	const uint64_t offsets[] = { 0, 8, 4088, 4096, size - 8 };
	unsigned char want[8192];
	struct accel_bo *bo;
	void *map;
	size_t i;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &bo, &map));
	memset(map, CANARY, size);
	memset(want, CANARY, size);
	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		uint64_t value = lt_rng_next(&self->rng);
		unsigned int b;

		ASSERT_EQ(0, lt_fence_write(self->dev, 0, bo, offsets[i], value));
		for (b = 0; b < 8; b++)	/* the device is little-endian */
			want[offsets[i] + b] = value >> (8 * b);
		EXPECT_EQ(size, lt_mismatch(map, want, size))
			TH_LOG("FENCE at %llu", (unsigned long long)offsets[i]);
	}
	accel_bo_free(bo);
}

/* Several FENCEs in one job, after a COPY into the same BO. */
TEST_F(copy, fences_in_one_job)
{
	const uint64_t size = 4096;
	const uint64_t values[] = {
		0, 1, 0x0123456789abcdefull, ~0ull, 0x8000000000000000ull,
	};
	const size_t n = ARRAY_SIZE(values);
	struct accel_bo *bo, *src;
	void *map, *src_map;
	struct accel_cmdbuf *cb;
	size_t i;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &bo, &map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &src, &src_map));
	memset(src_map, CANARY, size);

	/* The COPY fills the BO with canary bytes; the FENCEs, after it, win. */
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(bo), accel_bo_va(src), size));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, accel_cmd_fence(cb, accel_bo_va(bo) + 64 * i + 8, values[i]));
	ASSERT_EQ(0, lt_run_job(self->dev, 0, cb));
	accel_cmdbuf_free(cb);

	for (i = 0; i < n; i++) {
		uint64_t got;

		memcpy(&got, (unsigned char *)map + 64 * i + 8, 8);
		EXPECT_EQ(values[i], got) TH_LOG("FENCE %zu", i);
		EXPECT_EQ(8, lt_find_not((unsigned char *)map + 64 * i, CANARY, 8));
	}
	accel_bo_free(src);
	accel_bo_free(bo);
}

/* A nested command buffer (INDIRECT) runs in the caller's context, in order. */
TEST_F(copy, called_cmdbuf_runs_in_order)
{
	const uint64_t size = 4096;
	struct accel_cmdbuf *cb, *sub;
	struct accel_bo *bo;
	uint64_t got[3];
	void *map;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &bo, &map));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cb));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &sub));
	ASSERT_EQ(0, accel_cmd_fence(sub, accel_bo_va(bo) + 8, 0x5ab));
	ASSERT_EQ(0, accel_cmd_copy(sub, accel_bo_va(bo) + 16, accel_bo_va(bo), 8));
	ASSERT_EQ(0, accel_cmd_fence(cb, accel_bo_va(bo), 0x1111));
	ASSERT_EQ(0, accel_cmd_call(cb, sub));
	ASSERT_EQ(0, accel_cmd_fence(cb, accel_bo_va(bo), 0x2222));
	ASSERT_EQ(0, lt_run_job(self->dev, 0, cb));
	memcpy(got, map, sizeof(got));
	EXPECT_EQ(0x2222, got[0]);
	EXPECT_EQ(0x5ab, got[1]);
	EXPECT_EQ(0x1111, got[2]);	/* copied between the two outer fences */
	accel_cmdbuf_free(sub);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

TEST_F_TIMEOUT(copy, every_queue_runs_jobs, 120)
{
	uint32_t q;

	for (q = 0; q < self->info.num_queues; q++)
		EXPECT_EQ(0, lt_device_works(self->dev, q)) TH_LOG("queue %u", q);
}

/* With several devices, each runs jobs on its own. */
TEST(every_device_runs_jobs)
{
	int indices[ACCEL_MAX_DEVICES];
	int count, i;

	count = accel_list(indices, ACCEL_MAX_DEVICES);
	if (count <= 0 && lt_pci_device_count() == 0)
		SKIP(return, "no lumen device");
	ASSERT_LE(1, count);
	for (i = 0; i < count && i < ACCEL_MAX_DEVICES; i++) {
		struct accel_dev *dev;

		ASSERT_EQ(0, accel_open(indices[i], &dev));
		EXPECT_EQ(0, lt_device_works(dev, 0)) TH_LOG("accel%d", indices[i]);
		accel_close(dev);
	}
}

TEST_HARNESS_MAIN
