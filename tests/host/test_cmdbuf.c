// SPDX-License-Identifier: MIT
/*
 * Command buffers: the exact bytes each appender encodes, the arguments it
 * refuses, and growth, reset and count.
 *
 * Expected commands are written out byte by byte from the uAPI
 * (uapi/drm/lumen_accel.h: struct drm_lumen_cmd, little-endian), never
 * built with the code under test.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "fake.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the expected command bytes below are little-endian"
#endif

#define CMD_SIZE	64
#define BIG_BO		(1ull << 40)	/* room for distinctive 64-bit offsets */

/* A NOP: opcode 0 and every other byte zero. */
static const uint8_t nop_bytes[CMD_SIZE] = { 0 };

/* FENCE to handle 0x55667788 at offset 0x7766554438, value 0xfedcba9876543210. */
static const uint8_t fence_bytes[CMD_SIZE] = {
	0x01, 0x00, 0x00, 0x00,	0x00, 0x00, 0x00, 0x00,	/* opcode 1, flags */
	0x00, 0x00, 0x00, 0x00,	0x88, 0x77, 0x66, 0x55,	/* src, dst handle */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* src_offset */
	0x38, 0x44, 0x55, 0x66, 0x77, 0x00, 0x00, 0x00,	/* dst_offset */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* size */
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,	/* value */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* reserved[0] */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* reserved[1] */
};

/*
 * COPY of 0xa0b0c0d0f bytes from handle 0x0a0b0c0d at 0xa1b2c3d4e0 to
 * handle 0x01020304 at 0x1122334450.
 */
static const uint8_t copy_bytes[CMD_SIZE] = {
	0x02, 0x00, 0x00, 0x00,	0x00, 0x00, 0x00, 0x00,	/* opcode 2, flags */
	0x0d, 0x0c, 0x0b, 0x0a,	0x04, 0x03, 0x02, 0x01,	/* src, dst handle */
	0xe0, 0xd4, 0xc3, 0xb2, 0xa1, 0x00, 0x00, 0x00,	/* src_offset */
	0x50, 0x44, 0x33, 0x22, 0x11, 0x00, 0x00, 0x00,	/* dst_offset */
	0x0f, 0x0d, 0x0c, 0x0b, 0x0a, 0x00, 0x00, 0x00,	/* size */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* value */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* reserved[0] */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* reserved[1] */
};

static int append_fence(struct accel_cmdbuf *cb, const struct accel_bo *dst)
{
	return accel_cmd_fence(cb, dst, 0x7766554438ull, 0xfedcba9876543210ull);
}

static int append_copy(struct accel_cmdbuf *cb, const struct accel_bo *dst,
		       const struct accel_bo *src)
{
	return accel_cmd_copy(cb, dst, 0x1122334450ull, src, 0xa1b2c3d4e0ull,
			      0xa0b0c0d0full);
}

FIXTURE(cmdbuf) {
	struct accel_dev dev, other_dev;
	struct accel_bo src, dst, fence_bo, small, foreign, vram;
	struct accel_cmdbuf *cb;
};

FIXTURE_SETUP(cmdbuf)
{
	self->dev = fake_dev();
	self->other_dev = fake_dev();
	self->src = fake_bo(&self->dev, 0x0a0b0c0d, BIG_BO);
	self->dst = fake_bo(&self->dev, 0x01020304, BIG_BO);
	self->fence_bo = fake_bo(&self->dev, 0x55667788, BIG_BO);
	self->small = fake_bo(&self->dev, 7, 4096);
	self->foreign = fake_bo(&self->other_dev, 9, 4096);
	self->vram = fake_device_bo(&self->dev, 11, 4096);
	self->cb = NULL;
	ASSERT_EQ(0, accel_cmdbuf_create(&self->cb));
	ASSERT_NE(NULL, self->cb);
	ASSERT_EQ(0, accel_cmdbuf_count(self->cb));
	ASSERT_NULL(accel_cmdbuf_data(self->cb));
}

FIXTURE_TEARDOWN(cmdbuf)
{
	accel_cmdbuf_free(self->cb);
}

/* The uAPI layout the expected bytes above are written for. */
TEST(uapi_cmd_layout)
{
	ASSERT_EQ(64, sizeof(struct drm_lumen_cmd));
	EXPECT_EQ(0, offsetof(struct drm_lumen_cmd, opcode));
	EXPECT_EQ(4, offsetof(struct drm_lumen_cmd, flags));
	EXPECT_EQ(8, offsetof(struct drm_lumen_cmd, src_handle));
	EXPECT_EQ(12, offsetof(struct drm_lumen_cmd, dst_handle));
	EXPECT_EQ(16, offsetof(struct drm_lumen_cmd, src_offset));
	EXPECT_EQ(24, offsetof(struct drm_lumen_cmd, dst_offset));
	EXPECT_EQ(32, offsetof(struct drm_lumen_cmd, size));
	EXPECT_EQ(40, offsetof(struct drm_lumen_cmd, value));
	EXPECT_EQ(48, offsetof(struct drm_lumen_cmd, reserved));
	EXPECT_EQ(0, DRM_LUMEN_CMD_NOP);
	EXPECT_EQ(1, DRM_LUMEN_CMD_FENCE);
	EXPECT_EQ(2, DRM_LUMEN_CMD_COPY);
}

TEST_F(cmdbuf, nop_encoding)
{
	ASSERT_EQ(0, accel_cmd_nop(self->cb));
	ASSERT_EQ(1, accel_cmdbuf_count(self->cb));
	ASSERT_EQ(0, memcmp(nop_bytes, accel_cmdbuf_data(self->cb), CMD_SIZE));
}

TEST_F(cmdbuf, fence_encoding)
{
	ASSERT_EQ(0, append_fence(self->cb, &self->fence_bo));
	ASSERT_EQ(1, accel_cmdbuf_count(self->cb));
	ASSERT_EQ(0, memcmp(fence_bytes, accel_cmdbuf_data(self->cb), CMD_SIZE));
}

TEST_F(cmdbuf, copy_encoding)
{
	ASSERT_EQ(0, append_copy(self->cb, &self->dst, &self->src));
	ASSERT_EQ(1, accel_cmdbuf_count(self->cb));
	ASSERT_EQ(0, memcmp(copy_bytes, accel_cmdbuf_data(self->cb), CMD_SIZE));
}

/* Commands are laid out back to back, in the order they were appended. */
TEST_F(cmdbuf, sequence_encoding)
{
	const uint8_t *data;

	ASSERT_EQ(0, append_copy(self->cb, &self->dst, &self->src));
	ASSERT_EQ(0, accel_cmd_nop(self->cb));
	ASSERT_EQ(0, append_fence(self->cb, &self->fence_bo));
	ASSERT_EQ(3, accel_cmdbuf_count(self->cb));
	data = accel_cmdbuf_data(self->cb);
	ASSERT_NE(NULL, data);
	EXPECT_EQ(0, memcmp(copy_bytes, data, CMD_SIZE));
	EXPECT_EQ(0, memcmp(nop_bytes, data + CMD_SIZE, CMD_SIZE));
	EXPECT_EQ(0, memcmp(fence_bytes, data + 2 * CMD_SIZE, CMD_SIZE));
}

TEST(null_cmdbuf)
{
	struct accel_dev dev = fake_dev();
	struct accel_bo bo = fake_bo(&dev, 1, 4096);

	EXPECT_EQ(-EINVAL, accel_cmdbuf_create(NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_nop(NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_fence(NULL, &bo, 0, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(NULL, &bo, 0, &bo, 0, 8));
	EXPECT_EQ(0, accel_cmdbuf_count(NULL));
	EXPECT_NULL(accel_cmdbuf_data(NULL));
	/* Accepted and ignored, like free(NULL). */
	accel_cmdbuf_reset(NULL);
	accel_cmdbuf_free(NULL);
}

TEST_F(cmdbuf, null_bo)
{
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, NULL, 0, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, NULL, 0, &self->small, 0, 8));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->small, 0, NULL, 0, 8));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, NULL, 0, NULL, 0, 8));
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));
}

TEST_F(cmdbuf, copy_zero_size)
{
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->small, 0, &self->small, 0, 0));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->dst, 64, &self->src, 128, 0));
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));
}

/* The small BO is 4096 bytes: ranges up to its end fit, one more does not. */
TEST_F(cmdbuf, copy_range)
{
	struct accel_bo *bo = &self->small, *big = &self->dst;

	/* Exactly up to the end is fine, on either side. */
	EXPECT_EQ(0, accel_cmd_copy(self->cb, big, 0, bo, 0, 4096));
	EXPECT_EQ(0, accel_cmd_copy(self->cb, big, 0, bo, 4095, 1));
	EXPECT_EQ(0, accel_cmd_copy(self->cb, bo, 4000, big, 0, 96));
	ASSERT_EQ(3, accel_cmdbuf_count(self->cb));

	/* Source past the end. */
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, big, 0, bo, 0, 4097));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, big, 0, bo, 1, 4096));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, big, 0, bo, 4096, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, big, 0, bo, 5000, 1));
	/* Destination past the end. */
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, big, 0, 4097));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 4001, big, 0, 96));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 4096, big, 0, 1));
	/* Ranges are checked against their own BO, not the other one. */
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, big, 8192, 8192));
	EXPECT_EQ(3, accel_cmdbuf_count(self->cb));
}

/* offset + size wrapping around 2^64 must not pass for "inside". */
TEST_F(cmdbuf, copy_overflow)
{
	struct accel_bo *bo = &self->small;

	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, bo, UINT64_MAX, 2));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, bo, 16, UINT64_MAX));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, bo, UINT64_MAX - 7, 16));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, UINT64_MAX, bo, 0, 2));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 16, bo, 0, UINT64_MAX));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, bo, 0, UINT64_MAX));
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));
}

TEST_F(cmdbuf, fence_alignment)
{
	for (uint64_t off = 1; off < 8; off++)
		EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, off, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, 4092, 1));
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));
	EXPECT_EQ(0, accel_cmd_fence(self->cb, &self->small, 0, 1));
	EXPECT_EQ(0, accel_cmd_fence(self->cb, &self->small, 8, 1));
	EXPECT_EQ(2, accel_cmdbuf_count(self->cb));
}

TEST_F(cmdbuf, fence_range)
{
	/* The last 8 bytes of the BO are the last place a fence fits. */
	EXPECT_EQ(0, accel_cmd_fence(self->cb, &self->small, 4088, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, 4096, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, 1ull << 32, 1));
	/* Aligned, but offset + 8 wraps around. */
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, UINT64_MAX - 7, 1));
	EXPECT_EQ(1, accel_cmdbuf_count(self->cb));
}

/* The device writes fences to bus addresses: never into device memory. */
TEST_F(cmdbuf, fence_into_device_memory)
{
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->vram, 0, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->vram, 8, 1));
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));
	/* Copies to and from device memory are fine. */
	EXPECT_EQ(0, accel_cmd_copy(self->cb, &self->vram, 0, &self->small, 0, 4096));
	EXPECT_EQ(0, accel_cmd_copy(self->cb, &self->small, 0, &self->vram, 0, 4096));
	EXPECT_EQ(2, accel_cmdbuf_count(self->cb));
}

/* Within one BO the two ranges may touch but not overlap. */
TEST_F(cmdbuf, copy_overlap_in_one_bo)
{
	struct accel_bo *bo = &self->small;

	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, bo, 0, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 0, bo, 1024, 1025));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 1024, bo, 0, 1025));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, bo, 100, bo, 200, 2000));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->vram, 0, &self->vram, 8, 16));
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));

	EXPECT_EQ(0, accel_cmd_copy(self->cb, bo, 0, bo, 1024, 1024));
	EXPECT_EQ(0, accel_cmd_copy(self->cb, bo, 1024, bo, 0, 1024));
	EXPECT_EQ(0, accel_cmd_copy(self->cb, bo, 4095, bo, 0, 1));
	EXPECT_EQ(0, accel_cmd_copy(self->cb, bo, 0, bo, 2048, 2048));
	/* Different BOs may use the same offsets. */
	EXPECT_EQ(0, accel_cmd_copy(self->cb, &self->vram, 0, bo, 0, 4096));
	EXPECT_EQ(5, accel_cmdbuf_count(self->cb));
}

/* GEM handles of two files must never meet in one job. */
TEST_F(cmdbuf, one_device_per_cmdbuf)
{
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->small, 0, &self->foreign, 0, 8));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->foreign, 0, &self->small, 0, 8));
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));

	/* A NOP names no BO, so it does not tie the buffer to a device. */
	ASSERT_EQ(0, accel_cmd_nop(self->cb));
	ASSERT_EQ(0, accel_cmd_fence(self->cb, &self->foreign, 0, 1));
	/* Now it is tied to other_dev. */
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, 0, 1));
	EXPECT_EQ(-EINVAL, append_copy(self->cb, &self->dst, &self->src));
	EXPECT_EQ(0, accel_cmd_copy(self->cb, &self->foreign, 0, &self->foreign, 8, 8));
	EXPECT_EQ(3, accel_cmdbuf_count(self->cb));

	/* A later NOP does not untie it either. */
	ASSERT_EQ(0, accel_cmd_nop(self->cb));
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, 0, 1));
	EXPECT_EQ(4, accel_cmdbuf_count(self->cb));

	/* A reset unties it. */
	accel_cmdbuf_reset(self->cb);
	EXPECT_EQ(0, accel_cmd_fence(self->cb, &self->small, 0, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->foreign, 0, 1));
	EXPECT_EQ(1, accel_cmdbuf_count(self->cb));
}

/* A refused command leaves the buffer exactly as it was. */
TEST_F(cmdbuf, failure_leaves_cmdbuf_unchanged)
{
	uint8_t before[2 * CMD_SIZE];

	ASSERT_EQ(0, append_copy(self->cb, &self->dst, &self->src));
	ASSERT_EQ(0, append_fence(self->cb, &self->fence_bo));
	memcpy(before, accel_cmdbuf_data(self->cb), sizeof(before));

	EXPECT_EQ(-EINVAL, accel_cmd_fence(self->cb, &self->small, 3, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->small, 0, &self->small, 0, 0));
	EXPECT_EQ(-EINVAL, accel_cmd_copy(self->cb, &self->small, 0, &self->foreign, 0, 8));
	ASSERT_EQ(2, accel_cmdbuf_count(self->cb));
	EXPECT_EQ(0, memcmp(before, accel_cmdbuf_data(self->cb), sizeof(before)));
}

/* Many commands: every one kept, in order, across reallocations. */
TEST_F(cmdbuf, growth)
{
	const unsigned int n = 10000;
	const struct drm_lumen_cmd *cmds;

	for (unsigned int i = 0; i < n; i++) {
		if (i % 2) {
			ASSERT_EQ(0, accel_cmd_nop(self->cb));
		} else {
			ASSERT_EQ(0, accel_cmd_fence(self->cb, &self->fence_bo,
						     8ull * i, 1000 + i));
		}
		ASSERT_EQ(i + 1, accel_cmdbuf_count(self->cb));
	}

	cmds = accel_cmdbuf_data(self->cb);
	ASSERT_NE(NULL, cmds);
	for (unsigned int i = 0; i < n; i++) {
		if (i % 2) {
			ASSERT_EQ(0, memcmp(nop_bytes, &cmds[i], CMD_SIZE));
		} else {
			ASSERT_EQ(1, cmds[i].opcode);
			ASSERT_EQ(0x55667788, cmds[i].dst_handle);
			ASSERT_EQ(8ull * i, cmds[i].dst_offset);
			ASSERT_EQ(1000 + i, cmds[i].value);
		}
	}
}

TEST_F(cmdbuf, reset)
{
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(0, accel_cmd_nop(self->cb));
	ASSERT_EQ(100, accel_cmdbuf_count(self->cb));

	accel_cmdbuf_reset(self->cb);
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));
	EXPECT_NULL(accel_cmdbuf_data(self->cb));

	/* Built again from the start. */
	ASSERT_EQ(0, append_copy(self->cb, &self->dst, &self->src));
	ASSERT_EQ(1, accel_cmdbuf_count(self->cb));
	EXPECT_EQ(0, memcmp(copy_bytes, accel_cmdbuf_data(self->cb), CMD_SIZE));

	/* Resetting an empty buffer is harmless. */
	accel_cmdbuf_reset(self->cb);
	accel_cmdbuf_reset(self->cb);
	EXPECT_EQ(0, accel_cmdbuf_count(self->cb));
}

TEST_HARNESS_MAIN
