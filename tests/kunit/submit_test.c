// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests of DRM_IOCTL_LUMEN_SUBMIT's argument checks, of the two
 * ring entries a job becomes, and of the commands the debugfs file
 * fault_inject takes (its only input checks).
 *
 * Every expected value comes from Documentation/uapi.rst and lumen_regs.h,
 * written out by hand; nothing is computed by the code under test.
 */

#include <linux/kernel.h>
#include <linux/limits.h>

#include <kunit/test.h>

#include "lumen_drv.h"
#include "lumen_sync.h"
#include "drm/lumen_accel.h"

#define VA_START	0x100000000ull		/* 4 GiB */
#define VA_END		0x800000000000ull	/* 2^47 */
#define QUEUES		16

struct submit_case {
	const char *name;
	struct drm_lumen_submit args;
	int expected;
};

static const struct submit_case submit_cases[] = {
	{ "smallest", { .cmdbuf_va = VA_START, .cmdbuf_size = 64 }, 0 },
	{ "flags", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 4 }, -EINVAL },
	/* DRM_LUMEN_SUBMIT_SYNCS (1): syncs, sync_count up to 256; pad zero. */
	{ "syncs_flag_alone", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 1 }, 0 },
	{ "syncs_256", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 1, .syncs = 8,
			 .sync_count = 256 }, 0 },
	{ "syncs_257", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 1, .syncs = 8,
			 .sync_count = 257 }, -E2BIG },
	{ "syncs_without_flag", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .syncs = 8 },
	  -EINVAL },
	{ "sync_count_without_flag", { .cmdbuf_va = VA_START, .cmdbuf_size = 64,
				       .sync_count = 1 }, -EINVAL },
	{ "pad", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .pad = 1 }, -EINVAL },
	{ "pad_with_syncs", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 1,
			      .pad = 0x80000000 }, -EINVAL },
	{ "flags_top", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 0x80000000 },
	  -EINVAL },
	/* queue below num_queues. */
	{ "queue_last", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .queue = 15 }, 0 },
	{ "queue_past", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .queue = 16 }, -EINVAL },
	{ "queue_max", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .queue = U32_MAX },
	  -EINVAL },
	/* DRM_LUMEN_SUBMIT_QUEUE_ID (2): a user queue id, looked up later. */
	{ "queue_id_any_value", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 2,
				  .queue = U32_MAX }, 0 },
	{ "queue_id_with_syncs", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 3,
				   .queue = 16 }, 0 },
	{ "queue_id_size_still_checked", { .cmdbuf_va = VA_START, .cmdbuf_size = 65,
					   .flags = 2 }, -EINVAL },
	/* cmdbuf_size: a multiple of 64 in [64, 4 MiB]. */
	{ "size_0", { .cmdbuf_va = VA_START }, -EINVAL },
	{ "size_32", { .cmdbuf_va = VA_START, .cmdbuf_size = 32 }, -EINVAL },
	{ "size_65", { .cmdbuf_va = VA_START, .cmdbuf_size = 65 }, -EINVAL },
	{ "size_128", { .cmdbuf_va = VA_START, .cmdbuf_size = 128 }, 0 },
	{ "size_4M", { .cmdbuf_va = VA_START, .cmdbuf_size = 0x400000 }, 0 },
	{ "size_4M_plus_64", { .cmdbuf_va = VA_START, .cmdbuf_size = 0x400040 }, -E2BIG },
	{ "size_4M_plus_1", { .cmdbuf_va = VA_START, .cmdbuf_size = 0x400001 }, -EINVAL },
	{ "size_max", { .cmdbuf_va = VA_START, .cmdbuf_size = 0xffffffc0 }, -E2BIG },
	/* cmdbuf_va: 64-byte aligned, the whole buffer in [4 GiB, 2^47). */
	{ "va_0", { .cmdbuf_va = 0, .cmdbuf_size = 64 }, -EINVAL },
	{ "va_below_start", { .cmdbuf_va = VA_START - 64, .cmdbuf_size = 64 }, -EINVAL },
	{ "va_unaligned", { .cmdbuf_va = VA_START + 32, .cmdbuf_size = 64 }, -EINVAL },
	{ "va_unaligned_8", { .cmdbuf_va = VA_START + 8, .cmdbuf_size = 64 }, -EINVAL },
	{ "va_aligned_64", { .cmdbuf_va = VA_START + 64, .cmdbuf_size = 64 }, 0 },
	{ "va_last", { .cmdbuf_va = VA_END - 64, .cmdbuf_size = 64 }, 0 },
	{ "va_crosses_end", { .cmdbuf_va = VA_END - 64, .cmdbuf_size = 128 }, -EINVAL },
	{ "va_end", { .cmdbuf_va = VA_END, .cmdbuf_size = 64 }, -EINVAL },
	{ "va_2_48", { .cmdbuf_va = 0x1000000000000ull, .cmdbuf_size = 64 }, -EINVAL },
	/* va + size wraps around: must not pass as a small end. */
	{ "va_wraps", { .cmdbuf_va = 0xffffffffffffffc0ull, .cmdbuf_size = 128 }, -EINVAL },
	/* bo_count up to 4096. */
	{ "bos_4096", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .bo_count = 4096 }, 0 },
	{ "bos_4097", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .bo_count = 4097 }, -E2BIG },
	{ "bos_max", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .bo_count = U32_MAX },
	  -E2BIG },
	/* Handles and syncobjs are looked up later: any value passes here. */
	{ "handles_unchecked", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .bo_count = 1,
				 .bo_handles = 1, .in_syncobj = 7, .out_syncobj = 9 }, 0 },
	/* The documented order: flags, queue, size, va, bo_count. */
	{ "order_flags_first", { .flags = 4, .queue = 99, .bo_count = 5000 }, -EINVAL },
	{ "order_bos_before_syncs", { .cmdbuf_va = VA_START, .cmdbuf_size = 64, .flags = 1,
				      .bo_count = 5000, .sync_count = 5000 }, -E2BIG },
	{ "order_size_before_va", { .cmdbuf_va = 8, .cmdbuf_size = 0x800000 }, -E2BIG },
	{ "order_va_before_bos", { .cmdbuf_va = 8, .cmdbuf_size = 64, .bo_count = 5000 },
	  -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(submit_cases, submit_cases, name);

static void submit_args(struct kunit *test)
{
	const struct submit_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, lumen_submit_check_args(QUEUES, &c->args), c->expected);
}

struct sync_case {
	const char *name;
	struct drm_lumen_sync sync;
	int expected;
};

/* OUT is bit 0, TIMELINE bit 1; a point iff TIMELINE (Documentation/uapi.rst). */
static const struct sync_case sync_cases[] = {
	{ "binary_in", { .flags = 0, .handle = 1 }, 0 },
	{ "binary_out", { .flags = 1, .handle = 1 }, 0 },
	{ "timeline_in", { .flags = 2, .handle = 1, .point = 1 }, 0 },
	{ "timeline_out_max", { .flags = 3, .handle = 1, .point = U64_MAX }, 0 },
	{ "binary_with_point", { .flags = 0, .handle = 1, .point = 1 }, -EINVAL },
	{ "binary_out_with_point", { .flags = 1, .handle = 1, .point = 5 }, -EINVAL },
	{ "timeline_point_0", { .flags = 2, .handle = 1 }, -EINVAL },
	{ "timeline_out_point_0", { .flags = 3, .handle = 1 }, -EINVAL },
	{ "unknown_flag", { .flags = 4, .handle = 1 }, -EINVAL },
	{ "top_flag", { .flags = 0x80000001, .handle = 1 }, -EINVAL },
	/* Handles are looked up later: 0 passes here (and is -ENOENT there). */
	{ "handle_0", { .flags = 0 }, 0 },
};

KUNIT_ARRAY_PARAM_DESC(sync_cases, sync_cases, name);

static void sync_entry(struct kunit *test)
{
	const struct sync_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, lumen_sync_check_entry(&c->sync), c->expected);
}

/* INDIRECT(va, size, ctx), then FENCE(slot, seqno) with IRQ; all else zero. */
static void job_ring_entries(struct kunit *test)
{
	struct lumen_hw_cmd cmds[LUMEN_JOB_RING_ENTRIES];
	unsigned int i;

	memset(cmds, 0xa5, sizeof(cmds));
	lumen_ring_job_cmds(cmds, 0x123456789c0ull, 0x400000, 63, 0xfedcb000, 0x1122334455667788ull);

	KUNIT_EXPECT_EQ(test, le64_to_cpu(cmds[0].header), 0x04ull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cmds[0].args[0]), 0x123456789c0ull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cmds[0].args[1]), 0x400000ull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cmds[0].args[2]), 63ull);
	for (i = 3; i < 7; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(cmds[0].args[i]), 0ull, "INDIRECT arg %u", i);

	KUNIT_EXPECT_EQ(test, le64_to_cpu(cmds[1].header), 0x101ull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cmds[1].args[0]), 0xfedcb000ull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cmds[1].args[1]), 0x1122334455667788ull);
	for (i = 2; i < 7; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(cmds[1].args[i]), 0ull, "FENCE arg %u", i);
}

/* ---- debugfs fault_inject commands (Documentation/uapi.rst) --------------- */

struct fi_case {
	const char *name;
	const char *cmd;
	int expected;
	u32 reg, val;	/* LUMEN_FI_* offsets: 0x4000 + 4 * n */
};

static const struct fi_case fi_cases[] = {
	{ "hang_0", "hang 0", 0, 0x4000, 1 },
	{ "hang_last", "hang 15\n", 0, 0x4000, 16 },
	{ "hang_past", "hang 16", -EINVAL },
	{ "hang_no_queue", "hang", -EINVAL },
	{ "drop_irq", "drop-irq 3", 0, 0x4004, 3 },
	{ "drop_irq_0", "drop-irq 0", -EINVAL },
	{ "fail_dma_max", "fail-dma 1000", 0, 0x4008, 1000 },
	{ "fail_dma_past_max", "fail-dma 1001", -EINVAL },
	{ "mmu_fault", "mmu-fault 1\n", 0, 0x400c, 1 },
	{ "mmu_fault_word", "mmu-fault x", -EINVAL },
	{ "fatal", "fatal", 0, 0x4010, 1 },
	{ "fatal_newline", "fatal\n", 0, 0x4010, 1 },
	{ "fatal_with_count", "fatal 1", -EINVAL },
	{ "trailing_junk", "hang 1 2", -EINVAL },
	{ "unknown", "reset", -EINVAL },
	{ "prefix", "fatalx", -EINVAL },
	{ "empty", "", -EINVAL },
	{ "negative", "drop-irq -1", -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(fi_cases, fi_cases, name);

static void fault_inject_commands(struct kunit *test)
{
	const struct fi_case *c = test->param_value;
	u32 reg = 0xdead, val = 0xbeef;

	KUNIT_ASSERT_EQ(test, lumen_fi_parse(QUEUES, c->cmd, &reg, &val), c->expected);
	if (c->expected)
		return;
	KUNIT_EXPECT_EQ(test, reg, c->reg);
	KUNIT_EXPECT_EQ(test, val, c->val);
}

static struct kunit_case lumen_submit_test_cases[] = {
	KUNIT_CASE_PARAM(submit_args, submit_cases_gen_params),
	KUNIT_CASE_PARAM(sync_entry, sync_cases_gen_params),
	KUNIT_CASE(job_ring_entries),
	KUNIT_CASE_PARAM(fault_inject_commands, fi_cases_gen_params),
	{ }
};

static struct kunit_suite lumen_submit_test_suite = {
	.name = "lumen_submit_checks",
	.test_cases = lumen_submit_test_cases,
};

kunit_test_suite(lumen_submit_test_suite);
