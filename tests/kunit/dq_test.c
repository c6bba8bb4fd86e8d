// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests of direct queues' pure logic: DRM_IOCTL_LUMEN_DQ_CREATE's
 * argument checks and the split of the hardware queues between kernel and
 * direct queues (module parameter direct_queues, default 4).
 *
 * Every expected value comes from Documentation/uapi.rst, written out by
 * hand; nothing is computed by the code under test.
 */

#include <linux/kernel.h>
#include <linux/limits.h>

#include <kunit/test.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

#define RING_VA		0x100000000ull	/* 4 GiB, page aligned */

struct dq_args_case {
	const char *name;
	struct drm_lumen_dq_create args;
	int expected;
};

/* A device with 4 compute engines (engines 0..3) and the DMA engine (4). */
static const struct dq_args_case dq_args_cases[] = {
	{ "dma", { .engine_class = 1, .ring_va = RING_VA, .ring_entries = 16 }, 0 },
	{ "compute_3", { .engine = 3, .ring_va = RING_VA, .ring_entries = 2 }, 0 },
	{ "compute_any", { .engine = 0xffffffff, .ring_va = RING_VA, .ring_entries = 65536 }, 0 },
	{ "dma_any", { .engine_class = 1, .engine = 0xffffffff, .ring_va = RING_VA,
		       .ring_entries = 1024 }, 0 },
	{ "flags", { .ring_va = RING_VA, .ring_entries = 16, .flags = 1 }, -EINVAL },
	{ "pad", { .ring_va = RING_VA, .ring_entries = 16, .pad = 0x80000000 }, -EINVAL },
	{ "class_2", { .engine_class = 2, .ring_va = RING_VA, .ring_entries = 16 }, -EINVAL },
	{ "compute_4", { .engine = 4, .ring_va = RING_VA, .ring_entries = 16 }, -EINVAL },
	{ "dma_1", { .engine_class = 1, .engine = 1, .ring_va = RING_VA, .ring_entries = 16 },
	  -EINVAL },
	{ "entries_0", { .ring_va = RING_VA, .ring_entries = 0 }, -EINVAL },
	{ "entries_1", { .ring_va = RING_VA, .ring_entries = 1 }, -EINVAL },
	{ "entries_3", { .ring_va = RING_VA, .ring_entries = 3 }, -EINVAL },
	{ "entries_65537", { .ring_va = RING_VA, .ring_entries = 65537 }, -EINVAL },
	{ "entries_131072", { .ring_va = RING_VA, .ring_entries = 131072 }, -EINVAL },
	{ "entries_2_31", { .ring_va = RING_VA, .ring_entries = 0x80000000 }, -EINVAL },
	{ "ring_va_64", { .ring_va = RING_VA + 64, .ring_entries = 16 }, -EINVAL },
	{ "ring_va_2048", { .ring_va = RING_VA + 2048, .ring_entries = 16 }, -EINVAL },
};

static void dq_args_desc(const struct dq_args_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(dq_args_cases, dq_args_cases, dq_args_desc);

static struct lumen_device *fake_device(struct kunit *test, u32 cores, u32 hw_queues, u32 caps)
{
	struct lumen_device *ldev = kunit_kzalloc(test, sizeof(*ldev), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ldev);
	ldev->num_cores = cores;
	ldev->num_engines = cores + 1;
	ldev->num_hw_queues = hw_queues;
	ldev->caps = caps;
	return ldev;
}

static void dq_args(struct kunit *test)
{
	const struct dq_args_case *c = test->param_value;
	struct lumen_device *ldev = fake_device(test, 4, 16, 0x1c);

	KUNIT_EXPECT_EQ(test, lumen_dq_check_args(ldev, &c->args), c->expected);
}

/* A device without compute engines has none to give, even to ANY. */
static void dq_args_no_cores(struct kunit *test)
{
	struct drm_lumen_dq_create args = {
		.engine = 0xffffffff, .ring_va = RING_VA, .ring_entries = 16,
	};
	struct lumen_device *ldev = fake_device(test, 0, 16, 0x1c);

	KUNIT_EXPECT_EQ(test, lumen_dq_check_args(ldev, &args), -EINVAL);
	args.engine_class = 1;
	KUNIT_EXPECT_EQ(test, lumen_dq_check_args(ldev, &args), 0);
}

/* Default direct_queues 4: min(4, queues - engines), 0 without bit 4 of caps. */
static void dq_partition(struct kunit *test)
{
	/* 16 queues, 5 engines: 4 direct, 12 kernel queues. */
	KUNIT_EXPECT_EQ(test, lumen_dq_partition(fake_device(test, 4, 16, 0x1c)), 4);
	/* A 1.0 device: no direct queues. */
	KUNIT_EXPECT_EQ(test, lumen_dq_partition(fake_device(test, 4, 16, 0x0c)), 0);
	/* 7 queues, 5 engines: every engine keeps one, 2 left. */
	KUNIT_EXPECT_EQ(test, lumen_dq_partition(fake_device(test, 4, 7, 0x1c)), 2);
	/* As many queues as engines, or fewer: none. */
	KUNIT_EXPECT_EQ(test, lumen_dq_partition(fake_device(test, 4, 5, 0x1c)), 0);
	KUNIT_EXPECT_EQ(test, lumen_dq_partition(fake_device(test, 4, 3, 0x1c)), 0);
	/* 64 queues, 2 engines: the parameter's 4. */
	KUNIT_EXPECT_EQ(test, lumen_dq_partition(fake_device(test, 1, 64, 0x10)), 4);
}

static struct kunit_case lumen_dq_test_cases[] = {
	KUNIT_CASE_PARAM(dq_args, dq_args_cases_gen_params),
	KUNIT_CASE(dq_args_no_cores),
	KUNIT_CASE(dq_partition),
	{ }
};

static struct kunit_suite lumen_dq_test_suite = {
	.name = "lumen_dq_checks",
	.test_cases = lumen_dq_test_cases,
};

kunit_test_suite(lumen_dq_test_suite);
