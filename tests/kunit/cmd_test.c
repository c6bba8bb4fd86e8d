// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests of DRM_IOCTL_LUMEN_SUBMIT's argument checks: the submit
 * header, each command's fields, the ranges and the BO handle list.
 *
 * Every expected value comes from Documentation/uapi.rst, written out by
 * hand; nothing is computed by the code under test.
 */

#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/slab.h>

#include <kunit/test.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

/* ---- One command's fields ------------------------------------------------ */

struct cmd_case {
	const char *name;
	struct drm_lumen_cmd cmd;
	int expected;
};

static const struct cmd_case cmd_cases[] = {
	/* NOP uses no field. */
	{ "nop", { .opcode = DRM_LUMEN_CMD_NOP }, 0 },
	{ "nop_src_handle", { .opcode = DRM_LUMEN_CMD_NOP, .src_handle = 1 }, -EINVAL },
	{ "nop_dst_handle", { .opcode = DRM_LUMEN_CMD_NOP, .dst_handle = 1 }, -EINVAL },
	{ "nop_src_offset", { .opcode = DRM_LUMEN_CMD_NOP, .src_offset = 8 }, -EINVAL },
	{ "nop_dst_offset", { .opcode = DRM_LUMEN_CMD_NOP, .dst_offset = 8 }, -EINVAL },
	{ "nop_size", { .opcode = DRM_LUMEN_CMD_NOP, .size = 1 }, -EINVAL },
	{ "nop_value", { .opcode = DRM_LUMEN_CMD_NOP, .value = 1 }, -EINVAL },
	/* flags and reserved must be zero for every opcode. */
	{ "nop_flags", { .opcode = DRM_LUMEN_CMD_NOP, .flags = 1 }, -EINVAL },
	{ "nop_reserved0", { .opcode = DRM_LUMEN_CMD_NOP, .reserved = { 1, 0 } }, -EINVAL },
	{ "nop_reserved1", { .opcode = DRM_LUMEN_CMD_NOP, .reserved = { 0, 1 } }, -EINVAL },
	{ "fence_flags_top_bit",
	  { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1, .flags = 0x80000000 }, -EINVAL },
	{ "copy_reserved1",
	  { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1, .dst_handle = 2, .size = 1,
	    .reserved = { 0, U64_MAX } }, -EINVAL },
	/* FENCE: dst_handle, dst_offset (8-byte aligned) and value. */
	{ "fence", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1, .dst_offset = 8,
		     .value = U64_MAX }, 0 },
	/* Handle 0 is looked up (and fails with ENOENT) later, not here. */
	{ "fence_handle_0", { .opcode = DRM_LUMEN_CMD_FENCE }, 0 },
	{ "fence_offset_4", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1,
			      .dst_offset = 4 }, -EINVAL },
	{ "fence_offset_1", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1,
			      .dst_offset = 1 }, -EINVAL },
	/* Range checks come later, against the BO: a huge aligned offset passes. */
	{ "fence_offset_huge", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1,
				 .dst_offset = U64_MAX - 7 }, 0 },
	{ "fence_src_handle", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1,
				.src_handle = 2 }, -EINVAL },
	{ "fence_src_offset", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1,
				.src_offset = 8 }, -EINVAL },
	{ "fence_size", { .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 1, .size = 8 }, -EINVAL },
	/* COPY: both handles, both offsets and size >= 1; value must be zero. */
	{ "copy", { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1, .dst_handle = 2,
		    .src_offset = 3, .dst_offset = 5, .size = 7 }, 0 },
	{ "copy_same_bo", { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1, .dst_handle = 1,
			    .dst_offset = 4096, .size = 4096 }, 0 },
	{ "copy_size_0", { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1, .dst_handle = 2 },
	  -EINVAL },
	{ "copy_value", { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1, .dst_handle = 2,
			  .size = 1, .value = 1 }, -EINVAL },
	/* Larger than any BO: the device's own limit is 2^40 bytes. */
	{ "copy_size_1T", { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1,
			      .dst_handle = 2, .size = 1ull << 40 }, 0 },
	{ "copy_size_1T_plus_1", { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1,
				.dst_handle = 2, .size = (1ull << 40) + 1 }, -EINVAL },
	{ "copy_size_max", { .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 1,
			     .dst_handle = 2, .size = U64_MAX }, -EINVAL },
	/* Unknown opcodes. */
	{ "opcode_3", { .opcode = 3 }, -EINVAL },
	{ "opcode_0x10", { .opcode = 0x10 }, -EINVAL },
	{ "opcode_max", { .opcode = U32_MAX }, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(cmd_cases, cmd_cases, name);

static void check_fields(struct kunit *test)
{
	const struct cmd_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, lumen_cmd_check_fields(&c->cmd), c->expected);
}

/* ---- Ranges ------------------------------------------------------------ */

struct range_case {
	const char *name;
	u64 offset, size, bo_size;
	bool ok;
};

static const struct range_case range_cases[] = {
	{ "whole_bo", 0, 4096, 4096, true },
	{ "empty_at_end", 4096, 0, 4096, true },
	{ "last_byte", 4095, 1, 4096, true },
	{ "last_word", 4088, 8, 4096, true },
	{ "one_past_end", 4089, 8, 4096, false },
	{ "offset_past_end", 4097, 0, 4096, false },
	{ "larger_than_bo", 0, 4097, 4096, false },
	/* offset + size wraps around: must not pass as a small end. */
	{ "wrapping_end", U64_MAX - 3, 8, 4096, false },
	{ "wrapping_end_huge_bo", U64_MAX - 3, 8, U64_MAX, false },
	{ "max_size", 0, U64_MAX, 4096, false },
	{ "max_everything", 0, U64_MAX, U64_MAX, true },
};

KUNIT_ARRAY_PARAM_DESC(range_cases, range_cases, name);

static void range_ok(struct kunit *test)
{
	const struct range_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, lumen_range_ok(c->offset, c->size, c->bo_size), c->ok);
}

/* COPY within one BO: [a, a + size) and [b, b + size), both inside the BO. */
static void ranges_overlap(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, lumen_ranges_overlap(0, 4096, 4096));	/* adjacent */
	KUNIT_EXPECT_FALSE(test, lumen_ranges_overlap(4096, 0, 4096));
	KUNIT_EXPECT_TRUE(test, lumen_ranges_overlap(0, 4095, 4096));
	KUNIT_EXPECT_TRUE(test, lumen_ranges_overlap(4095, 0, 4096));
	KUNIT_EXPECT_TRUE(test, lumen_ranges_overlap(100, 100, 1));	/* identical */
	KUNIT_EXPECT_FALSE(test, lumen_ranges_overlap(100, 101, 1));
	KUNIT_EXPECT_TRUE(test, lumen_ranges_overlap(8, 0, 9));
	KUNIT_EXPECT_FALSE(test, lumen_ranges_overlap(8, 0, 8));
}

/* ---- The submit header ---------------------------------------------------- */

static void submit_args(struct kunit *test)
{
	struct lumen_device *ldev = kunit_kzalloc(test, sizeof(*ldev), GFP_KERNEL);
	struct drm_lumen_submit ok = { .cmd_count = 1, .queue = 0 };
	struct drm_lumen_submit a;

	KUNIT_ASSERT_NOT_NULL(test, ldev);
	ldev->num_queues = 16;

	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &ok), 0);

	a = ok;
	a.queue = 15;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), 0);
	a.queue = 16;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -EINVAL);
	a.queue = U32_MAX;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -EINVAL);

	a = ok;
	a.flags = 1;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -EINVAL);
	a = ok;
	a.pad = 1;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -EINVAL);

	a = ok;
	a.cmd_count = 0;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -EINVAL);
	a.cmd_count = 512;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), 0);
	a.cmd_count = 513;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -E2BIG);
	a.cmd_count = U32_MAX;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -E2BIG);

	/* The documented order: flags, pad, queue, then cmd_count. */
	a = ok;
	a.cmd_count = 513;
	a.queue = 16;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -EINVAL);
	a.queue = 0;
	a.pad = 1;
	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(ldev, &a), -EINVAL);
}

/* ---- The BO handle list ------------------------------------------------- */

static const struct drm_lumen_cmd mixed_cmds[] = {
	{ .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 5, .dst_handle = 3, .size = 1 },
	{ .opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 5 },
	/* Fields a NOP must not have are ignored here (checked earlier). */
	{ .opcode = DRM_LUMEN_CMD_NOP, .src_handle = 99, .dst_handle = 98 },
	{ .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 3, .dst_handle = 3, .size = 1 },
	{ .opcode = DRM_LUMEN_CMD_FENCE, .src_handle = 97, .dst_handle = 7 },
	{ .opcode = DRM_LUMEN_CMD_COPY, .src_handle = 0, .dst_handle = U32_MAX, .size = 1 },
};

static void collect_handles(struct kunit *test)
{
	static const u32 expected[] = { 0, 3, 5, 7, U32_MAX };
	u32 handles[2 * ARRAY_SIZE(mixed_cmds)];
	u32 n, i;

	n = lumen_cmds_collect_handles(mixed_cmds, ARRAY_SIZE(mixed_cmds), handles);
	KUNIT_ASSERT_EQ(test, n, ARRAY_SIZE(expected));
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, handles[i], expected[i], "handle %u", i);
}

static void collect_handles_none(struct kunit *test)
{
	static const struct drm_lumen_cmd nops[3] = { };
	u32 handles[6] = { };

	KUNIT_EXPECT_EQ(test, lumen_cmds_collect_handles(nops, ARRAY_SIZE(nops), handles), 0);
}

/*
 * The largest job, every command naming two handles out of 0..63: the
 * answer is checked against a bitmap of the handles used, built here.
 */
static void collect_handles_full_job(struct kunit *test)
{
	const u32 count = LUMEN_MAX_JOB_CMDS;
	struct drm_lumen_cmd *cmds;
	u32 *handles;
	u64 used = 0;
	u32 i, n, bit;

	cmds = kunit_kcalloc(test, count, sizeof(*cmds), GFP_KERNEL);
	handles = kunit_kcalloc(test, 2 * count, sizeof(*handles), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmds);
	KUNIT_ASSERT_NOT_NULL(test, handles);

	for (i = 0; i < count; i++) {
		cmds[i].opcode = DRM_LUMEN_CMD_COPY;
		/* Two fixed permutations of 0..63, so most handles repeat. */
		cmds[i].src_handle = (i * 37) % 61;
		cmds[i].dst_handle = (i * 11 + 5) % 64;
		used |= BIT_ULL(cmds[i].src_handle) | BIT_ULL(cmds[i].dst_handle);
	}

	n = lumen_cmds_collect_handles(cmds, count, handles);
	KUNIT_ASSERT_EQ(test, n, hweight64(used));
	bit = 0;
	for (i = 0; i < n; i++) {
		while (!(used & BIT_ULL(bit)))
			bit++;
		KUNIT_EXPECT_EQ_MSG(test, handles[i], bit, "handle %u", i);
		bit++;
	}
}

static struct kunit_case lumen_cmd_test_cases[] = {
	KUNIT_CASE_PARAM(check_fields, cmd_cases_gen_params),
	KUNIT_CASE_PARAM(range_ok, range_cases_gen_params),
	KUNIT_CASE(ranges_overlap),
	KUNIT_CASE(submit_args),
	KUNIT_CASE(collect_handles),
	KUNIT_CASE(collect_handles_none),
	KUNIT_CASE(collect_handles_full_job),
	{ }
};

static struct kunit_suite lumen_cmd_test_suite = {
	.name = "lumen_submit_checks",
	.test_cases = lumen_cmd_test_cases,
};

kunit_test_suite(lumen_cmd_test_suite);
