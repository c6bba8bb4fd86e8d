// SPDX-License-Identifier: MIT
/*
 * Encoders of the plain commands: what each one writes, decoded field by
 * field against the layout of driver/lumen_regs.h (opcodes, flags and
 * argument order written out here as numbers), and a table of arguments
 * each must refuse with -EINVAL without touching the command buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "decode.h"
#include "fake.h"

#define CAP		8192
#define VA_LIMIT	(1ull << 48)
#define COPY_MAX	(1ull << 40)

FIXTURE(cmds) {
	struct accel_dev dev, other_dev;
	struct accel_cmdbuf cb, sub, foreign;
	uint64_t mem[CAP / 8], sub_mem[CAP / 8], foreign_mem[CAP / 8];
	uint8_t pristine[CAP];
};

FIXTURE_SETUP(cmds)
{
	self->dev = fake_dev();
	self->other_dev = fake_dev();
	memset(self->mem, DEC_POISON, CAP);
	memset(self->pristine, DEC_POISON, CAP);
	fake_cmdbuf(&self->cb, &self->dev, NULL, self->mem, CAP, DEC_VA, CAP);
	fake_cmdbuf(&self->sub, &self->dev, NULL, self->sub_mem, CAP,
		    0x200000000ull, CAP);
	fake_cmdbuf(&self->foreign, &self->other_dev, NULL, self->foreign_mem,
		    CAP, 0x300000000ull, CAP);
}

FIXTURE_TEARDOWN(cmds)
{
}

/* Nothing was appended and not a byte of the memory changed. */
#define EXPECT_UNTOUCHED(self) do {					\
	EXPECT_EQ(0, accel_cmdbuf_size(&(self)->cb));			\
	EXPECT_EQ(0, memcmp((self)->pristine, (self)->mem, CAP));	\
} while (0)

/* ---- Encodings ------------------------------------------------------------ */

TEST_F(cmds, nop)
{
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(64, accel_cmdbuf_size(&self->cb));
	EXPECT_CMD(self->mem, 0, 0x00, 0, 0);
}

TEST_F(cmds, fence)
{
	ASSERT_EQ(0, accel_cmd_fence(&self->cb, 0x7766554438ull, 0xfedcba9876543210ull));
	/* opcode 1, no IRQ flag from userspace: arg0 address, arg1 value */
	EXPECT_CMD(self->mem, 0, 0x01, 0, 0x7766554438ull, 0xfedcba9876543210ull);
}

TEST_F(cmds, wait)
{
	ASSERT_EQ(0, accel_cmd_wait(&self->cb, 0xfff0ull, 0x8000000000000001ull));
	EXPECT_CMD(self->mem, 0, 0x02, 0, 0xfff0ull, 0x8000000000000001ull);
}

TEST_F(cmds, timestamp)
{
	ASSERT_EQ(0, accel_cmd_timestamp(&self->cb, 0xfffffffffff8ull));
	EXPECT_CMD(self->mem, 0, 0x03, 0, 0xfffffffffff8ull);
}

TEST_F(cmds, copy)
{
	ASSERT_EQ(0, accel_cmd_copy(&self->cb, 0x1122334450ull, 0xa1b2c3d4e0ull,
				    0xa0b0c0d0full));
	/* opcode 0x10: arg0 src, arg1 dst, arg2 bytes */
	EXPECT_CMD(self->mem, 0, 0x10, 0, 0xa1b2c3d4e0ull, 0x1122334450ull,
		   0xa0b0c0d0full);
}

TEST_F(cmds, copy_edges)
{
	/* The largest copy, and ranges that touch without overlapping. */
	ASSERT_EQ(0, accel_cmd_copy(&self->cb, 0x10000000000ull + COPY_MAX,
				    0x10000000000ull, COPY_MAX));
	ASSERT_EQ(0, accel_cmd_copy(&self->cb, VA_LIMIT - 1, 1, 1));
	EXPECT_CMD(self->mem, 0, 0x10, 0, 0x10000000000ull,
		   0x10000000000ull + COPY_MAX, COPY_MAX);
	EXPECT_CMD(self->mem, 1, 0x10, 0, 1, VA_LIMIT - 1, 1);
}

TEST_F(cmds, copy2d)
{
	ASSERT_EQ(0, accel_cmd_copy2d(&self->cb, 0x400000ull, 0x300, 0x100000ull,
				      0x250, 0x201, 0x17));
	/* flags bit 0 (2D): src, dst, width, height, src pitch, dst pitch */
	EXPECT_CMD(self->mem, 0, 0x10, 0x01, 0x100000ull, 0x400000ull, 0x201,
		   0x17, 0x250, 0x300);
}

TEST_F(cmds, fill)
{
	ASSERT_EQ(0, accel_cmd_fill(&self->cb, 0x123457ull, 13, 0x0102030405060708ull));
	/* opcode 0x11: arg0 dst, arg1 bytes, arg2 pattern */
	EXPECT_CMD(self->mem, 0, 0x11, 0, 0x123457ull, 13, 0x0102030405060708ull);
}

TEST_F(cmds, call)
{
	ASSERT_EQ(0, accel_cmd_nop(&self->sub));
	ASSERT_EQ(0, accel_cmd_nop(&self->sub));
	ASSERT_EQ(0, accel_cmd_call(&self->cb, &self->sub));
	/* opcode 4: arg0 IB address, arg1 bytes, arg2 context 0 = "same" */
	EXPECT_CMD(self->mem, 0, 0x04, 0, 0x200000000ull, 128, 0);
	/* What was called is a snapshot: later appends are not included. */
	ASSERT_EQ(0, accel_cmd_nop(&self->sub));
	EXPECT_EQ(128, dec_cmd(self->mem, 0).arg[1]);
}

TEST_F(cmds, raw)
{
	uint8_t raw[64];

	for (int i = 0; i < 64; i++)
		raw[i] = (uint8_t)(0x80 + i);
	ASSERT_EQ(0, accel_cmd_raw(&self->cb, raw));
	EXPECT_EQ(0, memcmp(raw, self->mem, 64));
}

TEST_F(cmds, raw_desc)
{
	uint8_t desc[128];

	for (int i = 0; i < 128; i++)
		desc[i] = (uint8_t)(0xff - i);
	ASSERT_EQ(0, accel_cmd_raw_desc(&self->cb, 0xee, desc));
	/* The descriptor is stacked at the end of the buffer. */
	EXPECT_CMD(self->mem, 0, 0xee, 0, DEC_VA + CAP - 128);
	EXPECT_EQ(0, memcmp(desc, (uint8_t *)self->mem + CAP - 128, 128));
}

/* Back to back, in order. */
TEST_F(cmds, sequence)
{
	ASSERT_EQ(0, accel_cmd_fence(&self->cb, 0x1000, 1));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_cmd_timestamp(&self->cb, 0x2000));
	ASSERT_EQ(3, accel_cmdbuf_count(&self->cb));
	ASSERT_EQ(192, accel_cmdbuf_size(&self->cb));
	EXPECT_CMD(self->mem, 0, 0x01, 0, 0x1000, 1);
	EXPECT_CMD(self->mem, 1, 0x00, 0, 0);
	EXPECT_CMD(self->mem, 2, 0x03, 0, 0x2000);
	/* The rest is untouched. */
	EXPECT_EQ(0, memcmp(self->pristine + 192, (uint8_t *)self->mem + 192,
			    CAP - 192));
}

/* ---- Refused arguments ----------------------------------------------------- */

static const struct {
	const char *why;
	uint64_t va;
} bad_word_va[] = {
	{ "address 0", 0 },
	{ "misaligned by 4", 0x1004 },
	{ "misaligned by 1", 0x1001 },
	{ "at 2^48", VA_LIMIT },
	{ "crossing 2^48", VA_LIMIT - 4 },
	{ "far beyond 2^48", ~0ull - 7 },
};

TEST_F(cmds, word_commands_refuse)
{
	for (size_t i = 0; i < sizeof(bad_word_va) / sizeof(bad_word_va[0]); i++) {
		uint64_t va = bad_word_va[i].va;

		TH_LOG("case: %s", bad_word_va[i].why);
		EXPECT_EQ(-EINVAL, accel_cmd_fence(&self->cb, va, 1));
		EXPECT_EQ(-EINVAL, accel_cmd_wait(&self->cb, va, 1));
		EXPECT_EQ(-EINVAL, accel_cmd_timestamp(&self->cb, va));
	}
	EXPECT_EQ(-EINVAL, accel_cmd_fence(NULL, 0x1000, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_wait(NULL, 0x1000, 1));
	EXPECT_EQ(-EINVAL, accel_cmd_timestamp(NULL, 0x1000));
	EXPECT_EQ(-EINVAL, accel_cmd_nop(NULL));
	EXPECT_UNTOUCHED(self);
	/* The last word below 2^48 is fine. */
	EXPECT_EQ(0, accel_cmd_fence(&self->cb, VA_LIMIT - 8, 1));
}

static const struct {
	const char *why;
	uint64_t dst, src, size;
} bad_copy[] = {
	{ "zero size", 0x2000, 0x1000, 0 },
	{ "above 2^40", 0x20000000000ull, 0x1000, COPY_MAX + 1 },
	{ "src 0", 0x2000, 0, 16 },
	{ "dst 0", 0, 0x1000, 16 },
	{ "src crossing 2^48", 0x2000, VA_LIMIT - 8, 16 },
	{ "dst crossing 2^48", VA_LIMIT - 8, 0x1000, 16 },
	{ "src beyond 2^48", 0x2000, VA_LIMIT, 1 },
	{ "size wrapping", 0x2000, 0x1000, ~0ull },
	{ "same range", 0x1000, 0x1000, 16 },
	{ "dst overlaps src end", 0x100f, 0x1000, 16 },
	{ "src overlaps dst end", 0x1000, 0x100f, 16 },
};

TEST_F(cmds, copy_refuses)
{
	for (size_t i = 0; i < sizeof(bad_copy) / sizeof(bad_copy[0]); i++) {
		EXPECT_EQ(-EINVAL, accel_cmd_copy(&self->cb, bad_copy[i].dst,
						  bad_copy[i].src, bad_copy[i].size)) {
			TH_LOG("case: %s", bad_copy[i].why);
		}
	}
	EXPECT_EQ(-EINVAL, accel_cmd_copy(NULL, 0x2000, 0x1000, 16));
	EXPECT_UNTOUCHED(self);
}

static const struct {
	const char *why;
	uint64_t dst, dst_pitch, src, src_pitch, width, height;
} bad_copy2d[] = {
	{ "zero width", 0x100000, 64, 0x1000, 64, 0, 4 },
	{ "zero height", 0x100000, 64, 0x1000, 64, 16, 0 },
	{ "src pitch < width", 0x100000, 64, 0x1000, 15, 16, 4 },
	{ "dst pitch < width", 0x100000, 15, 0x1000, 64, 16, 4 },
	{ "width * height above 2^40", 0x10000000000ull, 1ull << 21,
	  0x1000, 1ull << 21, 1ull << 20, (1ull << 20) + 1 },
	{ "src 0", 0x100000, 64, 0, 64, 16, 4 },
	{ "dst 0", 0, 64, 0x1000, 64, 16, 4 },
	{ "src extent crossing 2^48", 0x100000, 64, VA_LIMIT - 200, 64, 16, 4 },
	{ "dst extent crossing 2^48", VA_LIMIT - 200, 64, 0x1000, 64, 16, 4 },
	{ "pitch * height overflowing", 0x100000, 64, 0x1000, 1ull << 62, 16, 5 },
	{ "extents overlapping", 0x1000 + 3 * 64, 64, 0x1000, 64, 16, 4 },
};

TEST_F(cmds, copy2d_refuses)
{
	for (size_t i = 0; i < sizeof(bad_copy2d) / sizeof(bad_copy2d[0]); i++) {
		EXPECT_EQ(-EINVAL, accel_cmd_copy2d(&self->cb, bad_copy2d[i].dst,
						    bad_copy2d[i].dst_pitch,
						    bad_copy2d[i].src,
						    bad_copy2d[i].src_pitch,
						    bad_copy2d[i].width,
						    bad_copy2d[i].height)) {
			TH_LOG("case: %s", bad_copy2d[i].why);
		}
	}
	EXPECT_EQ(-EINVAL, accel_cmd_copy2d(NULL, 0x100000, 64, 0x1000, 64, 16, 4));
	EXPECT_UNTOUCHED(self);
	/* Pitch == width is a plain dense copy; a one-row copy is fine. */
	EXPECT_EQ(0, accel_cmd_copy2d(&self->cb, 0x100000, 16, 0x1000, 16, 16, 4));
	EXPECT_EQ(0, accel_cmd_copy2d(&self->cb, 0x100000, 16, 0x1000, 16, 16, 1));
}

static const struct {
	const char *why;
	uint64_t dst, size;
} bad_fill[] = {
	{ "zero size", 0x1000, 0 },
	{ "above 2^40", 0x1000, COPY_MAX + 1 },
	{ "dst 0", 0, 8 },
	{ "crossing 2^48", VA_LIMIT - 4, 8 },
	{ "size wrapping", 0x1000, ~0ull },
};

TEST_F(cmds, fill_refuses)
{
	for (size_t i = 0; i < sizeof(bad_fill) / sizeof(bad_fill[0]); i++) {
		EXPECT_EQ(-EINVAL, accel_cmd_fill(&self->cb, bad_fill[i].dst,
						  bad_fill[i].size, 0x55)) {
			TH_LOG("case: %s", bad_fill[i].why);
		}
	}
	EXPECT_EQ(-EINVAL, accel_cmd_fill(NULL, 0x1000, 8, 0));
	EXPECT_UNTOUCHED(self);
}

TEST_F(cmds, call_refuses)
{
	/* Empty, itself, another device's, NULL. */
	EXPECT_EQ(-EINVAL, accel_cmd_call(&self->cb, &self->sub));
	ASSERT_EQ(0, accel_cmd_nop(&self->foreign));
	EXPECT_EQ(-EINVAL, accel_cmd_call(&self->cb, &self->foreign));
	EXPECT_EQ(-EINVAL, accel_cmd_call(&self->cb, NULL));
	ASSERT_EQ(0, accel_cmd_nop(&self->sub));
	EXPECT_EQ(-EINVAL, accel_cmd_call(NULL, &self->sub));
	EXPECT_UNTOUCHED(self);
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-EINVAL, accel_cmd_call(&self->cb, &self->cb));
	EXPECT_EQ(64, accel_cmdbuf_size(&self->cb));
}

TEST_F(cmds, raw_refuses)
{
	uint8_t bytes[128] = { 0 };

	EXPECT_EQ(-EINVAL, accel_cmd_raw(&self->cb, NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_raw(NULL, bytes));
	EXPECT_EQ(-EINVAL, accel_cmd_raw_desc(&self->cb, 0x20, NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_raw_desc(NULL, 0x20, bytes));
	EXPECT_UNTOUCHED(self);
}

TEST_HARNESS_MAIN
