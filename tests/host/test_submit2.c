// SPDX-License-Identifier: MIT
/*
 * What accel_submit2() hands the driver: struct drm_lumen_submit and its
 * drm_lumen_sync array (waits first, then signals, with the flags and
 * points the uAPI defines: Documentation/uapi.rst), captured by a
 * stand-in for libdrm's drmIoctl() defined here.  Marshalling only; the
 * driver's side is tested in the guest (tests/guest/timeline.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "fake.h"

static struct {
	int calls;
	struct drm_lumen_submit args;
	struct drm_lumen_sync syncs[ACCEL_MAX_SYNCS];
	uint32_t handles[8];
} seen;

int drmIoctl(int fd, unsigned long request, void *arg);

int drmIoctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	seen.calls++;
	if (request != DRM_IOCTL_LUMEN_SUBMIT)
		return 0;
	memcpy(&seen.args, arg, sizeof(seen.args));
	if (seen.args.syncs && seen.args.sync_count <= ACCEL_MAX_SYNCS)
		memcpy(seen.syncs, (void *)(uintptr_t)seen.args.syncs,
		       seen.args.sync_count * sizeof(seen.syncs[0]));
	if (seen.args.bo_handles && seen.args.bo_count <= 8)
		memcpy(seen.handles, (void *)(uintptr_t)seen.args.bo_handles,
		       seen.args.bo_count * sizeof(uint32_t));
	return 0;
}

#define CB_VA	0x100000000ull

FIXTURE(submit2) {
	struct accel_dev dev;
	struct accel_bo cb_bo, bo;
	struct accel_fence bin[2], tl[2];
	struct accel_cmdbuf cb;
	uint64_t mem[64];
};

FIXTURE_SETUP(submit2)
{
	memset(&seen, 0, sizeof(seen));
	self->dev = fake_dev();
	self->cb_bo = fake_bo_at(&self->dev, 1, sizeof(self->mem), CB_VA);
	self->bo = fake_bo_at(&self->dev, 50, 4096, 2 * CB_VA);
	self->bin[0] = fake_fence(&self->dev, 7);
	self->bin[1] = fake_fence(&self->dev, 8);
	self->tl[0] = fake_fence(&self->dev, 20);
	self->tl[0].timeline = true;
	self->tl[1] = fake_fence(&self->dev, 21);
	self->tl[1].timeline = true;
	fake_cmdbuf(&self->cb, &self->dev, &self->cb_bo, self->mem,
		    sizeof(self->mem), CB_VA, sizeof(self->mem));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
}

FIXTURE_TEARDOWN(submit2)
{
}

/* No fences: exactly accel_submit()'s call, which an older driver takes. */
TEST_F(submit2, no_syncs_is_the_old_call)
{
	ASSERT_EQ(0, accel_submit2(&self->dev, 2, &self->cb, NULL, 0, NULL, 0, NULL, 0));
	ASSERT_EQ(1, seen.calls);
	EXPECT_EQ(CB_VA, seen.args.cmdbuf_va);
	EXPECT_EQ(64, seen.args.cmdbuf_size);
	EXPECT_EQ(2, seen.args.queue);
	EXPECT_EQ(0, seen.args.flags);
	EXPECT_EQ(0, seen.args.syncs);
	EXPECT_EQ(0, seen.args.sync_count);
	EXPECT_EQ(0, seen.args.pad);
	EXPECT_EQ(0, seen.args.in_syncobj);
	EXPECT_EQ(0, seen.args.out_syncobj);
}

/* Waits, then signals; OUT = 1, TIMELINE = 2 (uapi/drm/lumen_accel.h). */
TEST_F(submit2, waits_then_signals_with_points)
{
	const struct accel_bo *bos[] = { &self->bo };
	const struct accel_sync waits[] = {
		{ &self->tl[0], 3 }, { &self->bin[0], 0 },
	};
	const struct accel_sync signals[] = {
		{ &self->bin[1], 0 }, { &self->tl[1], 0xffffffffffffffffull },
		{ &self->tl[0], 4 },
	};

	ASSERT_EQ(0, accel_submit2(&self->dev, 1, &self->cb, bos, 1, waits, 2, signals, 3));
	ASSERT_EQ(1, seen.calls);
	EXPECT_EQ(1, seen.args.flags);
	EXPECT_EQ(5, seen.args.sync_count);
	EXPECT_EQ(1, seen.args.bo_count);
	EXPECT_EQ(50, seen.handles[0]);
	EXPECT_EQ(0, seen.args.in_syncobj);
	EXPECT_EQ(0, seen.args.out_syncobj);

	EXPECT_EQ(2, seen.syncs[0].flags);
	EXPECT_EQ(20, seen.syncs[0].handle);
	EXPECT_EQ(3, seen.syncs[0].point);
	EXPECT_EQ(0, seen.syncs[1].flags);
	EXPECT_EQ(7, seen.syncs[1].handle);
	EXPECT_EQ(0, seen.syncs[1].point);
	EXPECT_EQ(1, seen.syncs[2].flags);
	EXPECT_EQ(8, seen.syncs[2].handle);
	EXPECT_EQ(0, seen.syncs[2].point);
	EXPECT_EQ(3, seen.syncs[3].flags);
	EXPECT_EQ(21, seen.syncs[3].handle);
	EXPECT_EQ(0xffffffffffffffffull, seen.syncs[3].point);
	EXPECT_EQ(3, seen.syncs[4].flags);
	EXPECT_EQ(20, seen.syncs[4].handle);
	EXPECT_EQ(4, seen.syncs[4].point);
}

TEST_F(submit2, the_most_syncs)
{
	struct accel_sync waits[ACCEL_MAX_SYNCS];

	for (int i = 0; i < ACCEL_MAX_SYNCS; i++)
		waits[i] = (struct accel_sync){ &self->tl[0], (uint64_t)i + 1 };
	ASSERT_EQ(0, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, waits,
				   ACCEL_MAX_SYNCS, NULL, 0));
	ASSERT_EQ(ACCEL_MAX_SYNCS, seen.args.sync_count);
	EXPECT_EQ(ACCEL_MAX_SYNCS, seen.syncs[ACCEL_MAX_SYNCS - 1].point);
	EXPECT_EQ(2, seen.syncs[ACCEL_MAX_SYNCS - 1].flags);
}

/* Refused arguments never reach the driver. */
TEST_F(submit2, refusals_make_no_ioctl)
{
	struct accel_dev other = fake_dev();
	struct accel_fence foreign = fake_fence(&other, 3);
	const struct accel_sync bin_point[] = { { &self->bin[0], 1 } };
	const struct accel_sync tl_zero[] = { { &self->tl[0], 0 } };
	const struct accel_sync null_fence[] = { { NULL, 0 } };
	const struct accel_sync foreign_fence[] = { { &foreign, 0 } };
	struct accel_sync many[ACCEL_MAX_SYNCS + 1];

	for (int i = 0; i <= ACCEL_MAX_SYNCS; i++)
		many[i] = (struct accel_sync){ &self->bin[0], 0 };
	EXPECT_EQ(-EINVAL, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, bin_point, 1,
					 NULL, 0));
	EXPECT_EQ(-EINVAL, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, NULL, 0,
					 tl_zero, 1));
	EXPECT_EQ(-EINVAL, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, null_fence, 1,
					 NULL, 0));
	EXPECT_EQ(-EINVAL, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, NULL, 0,
					 foreign_fence, 1));
	EXPECT_EQ(-EINVAL, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, NULL, 1,
					 NULL, 0));
	EXPECT_EQ(-E2BIG, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, many,
					ACCEL_MAX_SYNCS + 1, NULL, 0));
	EXPECT_EQ(-E2BIG, accel_submit2(&self->dev, 0, &self->cb, NULL, 0, many, 200,
					many, 57));
	/* accel_submit() takes binary fences only. */
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, NULL, 0, &self->tl[0], NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, NULL, 0, NULL, &self->tl[0]));
	EXPECT_EQ(0, seen.calls);
}

/* The checks of the wait, query and export calls, before any ioctl. */
TEST_F(submit2, fence_call_refusals)
{
	const struct accel_sync mixed[] = { { &self->bin[0], 0 }, { &self->tl[0], 0 } };
	uint64_t point;
	int fd;

	EXPECT_EQ(-EINVAL, accel_fence_wait_many(NULL, 1, true, 0, NULL));
	EXPECT_EQ(-EINVAL, accel_fence_wait_many(mixed, 0, true, 0, NULL));
	EXPECT_EQ(-EINVAL, accel_fence_wait_many(mixed, 2, false, 0, NULL));
	EXPECT_EQ(-EINVAL, accel_fence_wait_point(&self->bin[0], 1, 0));
	EXPECT_EQ(-EINVAL, accel_fence_wait_point(&self->tl[0], 0, 0));
	EXPECT_EQ(-EINVAL, accel_fence_query(&self->bin[0], &point));
	EXPECT_EQ(-EINVAL, accel_fence_query(&self->tl[0], NULL));
	EXPECT_EQ(-EINVAL, accel_fence_export_sync_file(&self->tl[0], 0, &fd));
	EXPECT_EQ(-EINVAL, accel_fence_export_sync_file(&self->bin[0], 2, &fd));
	EXPECT_EQ(0, seen.calls);
}

TEST_HARNESS_MAIN
