// SPDX-License-Identifier: MIT
/*
 * What accel_submit() hands the driver: the struct drm_lumen_submit it
 * builds, captured by a stand-in for libdrm's drmIoctl() defined here (the
 * linker takes it before libdrm's).  This tests libaccel's marshalling
 * only; the driver's side is tested in the guest (tests/guest).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "fake.h"

/* The last SUBMIT seen, with a copy of its handle list. */
static struct {
	int calls;
	unsigned long request;
	struct drm_lumen_submit args;
	uint32_t handles[128];
} seen;

int drmIoctl(int fd, unsigned long request, void *arg);

int drmIoctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	seen.calls++;
	seen.request = request;
	if (request == DRM_IOCTL_LUMEN_SUBMIT) {
		memcpy(&seen.args, arg, sizeof(seen.args));
		if (seen.args.bo_handles && seen.args.bo_count <= 128)
			memcpy(seen.handles, (void *)(uintptr_t)seen.args.bo_handles,
			       seen.args.bo_count * sizeof(uint32_t));
	}
	return 0;
}

#define CB_VA	0x100000000ull

FIXTURE(submit) {
	struct accel_dev dev;
	struct accel_bo cb_bo, bo[40];
	struct accel_fence in, out;
	struct accel_cmdbuf cb;
	uint64_t mem[512];
};

FIXTURE_SETUP(submit)
{
	memset(&seen, 0, sizeof(seen));
	self->dev = fake_dev();
	self->cb_bo = fake_bo_at(&self->dev, 1, sizeof(self->mem), CB_VA);
	for (int i = 0; i < 40; i++)
		self->bo[i] = fake_bo_at(&self->dev, 100 + i, 4096, CB_VA * (i + 2));
	self->in = fake_fence(&self->dev, 7);
	self->out = fake_fence(&self->dev, 9);
	fake_cmdbuf(&self->cb, &self->dev, &self->cb_bo, self->mem,
		    sizeof(self->mem), CB_VA, sizeof(self->mem));
}

FIXTURE_TEARDOWN(submit)
{
}

TEST_F(submit, minimal_job_uses_the_fast_path)
{
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_submit(&self->dev, 3, &self->cb, NULL, 0, NULL, NULL));
	ASSERT_EQ(1, seen.calls);
	EXPECT_EQ(DRM_IOCTL_LUMEN_SUBMIT, seen.request);
	EXPECT_EQ(CB_VA, seen.args.cmdbuf_va);
	EXPECT_EQ(128, seen.args.cmdbuf_size);
	EXPECT_EQ(3, seen.args.queue);
	EXPECT_EQ(0, seen.args.bo_handles);
	EXPECT_EQ(0, seen.args.bo_count);
	EXPECT_EQ(0, seen.args.in_syncobj);
	EXPECT_EQ(0, seen.args.out_syncobj);
	EXPECT_EQ(0, seen.args.flags);
}

TEST_F(submit, bos_and_fences)
{
	const struct accel_bo *bos[] = { &self->bo[2], &self->bo[0], &self->bo[2] };

	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_submit(&self->dev, 0, &self->cb, bos, 3, &self->in, &self->out));
	EXPECT_EQ(3, seen.args.bo_count);
	EXPECT_NE(0, seen.args.bo_handles);
	/* In the caller's order, duplicates and all. */
	EXPECT_EQ(102, seen.handles[0]);
	EXPECT_EQ(100, seen.handles[1]);
	EXPECT_EQ(102, seen.handles[2]);
	EXPECT_EQ(7, seen.args.in_syncobj);
	EXPECT_EQ(9, seen.args.out_syncobj);
}

/* Beyond the on-stack list: the same result from the heap. */
TEST_F(submit, long_bo_list)
{
	const struct accel_bo *bos[40];

	for (int i = 0; i < 40; i++)
		bos[i] = &self->bo[39 - i];
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_submit(&self->dev, 0, &self->cb, bos, 40, NULL, NULL));
	ASSERT_EQ(40, seen.args.bo_count);
	for (int i = 0; i < 40; i++)
		EXPECT_EQ(139 - i, seen.handles[i]);
}

/* Refused arguments never reach the driver. */
TEST_F(submit, refusals_make_no_ioctl)
{
	struct accel_dev other = fake_dev();
	struct accel_bo foreign = fake_bo_at(&other, 5, 4096, CB_VA);
	const struct accel_bo *bad[] = { &self->bo[0], &foreign };
	const struct accel_bo *null[] = { NULL };

	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, NULL, 0, NULL, NULL));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, bad, 2, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, null, 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&other, 0, &self->cb, NULL, 0, NULL, NULL));
	EXPECT_EQ(0, seen.calls);
}

TEST_HARNESS_MAIN
