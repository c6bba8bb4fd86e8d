// SPDX-License-Identifier: MIT
/*
 * libaccel's user queue calls (LIBACCEL_1.1): their own argument checks,
 * and what they hand the driver -- DRM_IOCTL_LUMEN_QUEUE_CREATE/DESTROY and
 * DRM_IOCTL_LUMEN_SUBMIT with DRM_LUMEN_SUBMIT_QUEUE_ID -- captured by a
 * stand-in for libdrm's drmIoctl() defined here.  Marshalling only; the
 * driver's side is tested in the guest (tests/guest/queues.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "fake.h"

static struct {
	int calls;
	unsigned long request;
	int fail;		/* errno the next ioctl fails with, or 0 */
	struct drm_lumen_queue_create create;
	struct drm_lumen_queue_destroy destroy;
	struct drm_lumen_submit submit;
	struct drm_lumen_sync syncs[4];
} seen;

int drmIoctl(int fd, unsigned long request, void *arg);

int drmIoctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	seen.calls++;
	seen.request = request;
	if (request == DRM_IOCTL_LUMEN_QUEUE_CREATE)
		memcpy(&seen.create, arg, sizeof(seen.create));
	if (request == DRM_IOCTL_LUMEN_QUEUE_DESTROY)
		memcpy(&seen.destroy, arg, sizeof(seen.destroy));
	if (request == DRM_IOCTL_LUMEN_SUBMIT) {
		memcpy(&seen.submit, arg, sizeof(seen.submit));
		if (seen.submit.syncs && seen.submit.sync_count <= 4)
			memcpy(seen.syncs, (void *)(uintptr_t)seen.submit.syncs,
			       seen.submit.sync_count * sizeof(seen.syncs[0]));
	}
	if (seen.fail) {
		errno = seen.fail;
		return -1;
	}
	if (request == DRM_IOCTL_LUMEN_QUEUE_CREATE) {
		struct drm_lumen_queue_create *c = arg;

		c->id = 7;
		c->hw_queue = 9;
		c->hw_engine = 4;
	}
	return 0;
}

#define CB_VA	0x100000000ull

FIXTURE(queue) {
	struct accel_dev dev, other;
	struct accel_bo cb_bo;
	struct accel_fence done;
	struct accel_cmdbuf cb;
	uint64_t mem[64];
};

FIXTURE_SETUP(queue)
{
	memset(&seen, 0, sizeof(seen));
	self->dev = fake_dev();
	self->other = fake_dev();
	self->cb_bo = fake_bo_at(&self->dev, 1, sizeof(self->mem), CB_VA);
	self->done = fake_fence(&self->dev, 11);
	fake_cmdbuf(&self->cb, &self->dev, &self->cb_bo, self->mem,
		    sizeof(self->mem), CB_VA, sizeof(self->mem));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
}

FIXTURE_TEARDOWN(queue)
{
}

TEST_F(queue, create_passes_fields_and_reads_the_answer)
{
	struct accel_queue *q = NULL;
	unsigned int hwq = 0, eng = 0;

	ASSERT_EQ(0, accel_queue_create(&self->dev, ACCEL_ENGINE_DMA, ACCEL_ENGINE_ANY,
					ACCEL_PRIORITY_HIGH, &q));
	ASSERT_NE(NULL, q);
	EXPECT_EQ(DRM_IOCTL_LUMEN_QUEUE_CREATE, seen.request);
	EXPECT_EQ(DRM_LUMEN_ENGINE_DMA, seen.create.engine_class);
	EXPECT_EQ(DRM_LUMEN_ENGINE_ANY, seen.create.engine);
	EXPECT_EQ(DRM_LUMEN_QUEUE_PRIORITY_HIGH, seen.create.priority);
	EXPECT_EQ(0, seen.create.flags);
	EXPECT_EQ(0, seen.create.pad);
	EXPECT_EQ(7, accel_queue_id(q));
	EXPECT_EQ(0, accel_queue_placement(q, &hwq, &eng));
	EXPECT_EQ(9, hwq);
	EXPECT_EQ(4, eng);
	EXPECT_EQ(0, accel_queue_placement(q, NULL, NULL));

	ASSERT_EQ(0, accel_queue_destroy(q));
	EXPECT_EQ(DRM_IOCTL_LUMEN_QUEUE_DESTROY, seen.request);
	EXPECT_EQ(7, seen.destroy.id);
	EXPECT_EQ(0, seen.destroy.pad);
}

/* The enums are the driver's values, passed through unchecked. */
TEST_F(queue, enum_values_are_the_uapi_values)
{
	EXPECT_EQ(DRM_LUMEN_ENGINE_COMPUTE, ACCEL_ENGINE_COMPUTE);
	EXPECT_EQ(DRM_LUMEN_ENGINE_DMA, ACCEL_ENGINE_DMA);
	EXPECT_EQ(DRM_LUMEN_ENGINE_ANY, ACCEL_ENGINE_ANY);
	EXPECT_EQ(DRM_LUMEN_QUEUE_PRIORITY_LOW, ACCEL_PRIORITY_LOW);
	EXPECT_EQ(DRM_LUMEN_QUEUE_PRIORITY_NORMAL, ACCEL_PRIORITY_NORMAL);
	EXPECT_EQ(DRM_LUMEN_QUEUE_PRIORITY_HIGH, ACCEL_PRIORITY_HIGH);
}

TEST_F(queue, null_arguments_are_refused_without_an_ioctl)
{
	struct accel_queue *q = (struct accel_queue *)0x1;

	EXPECT_EQ(-EINVAL, accel_queue_create(NULL, ACCEL_ENGINE_COMPUTE, 0,
					      ACCEL_PRIORITY_NORMAL, &q));
	EXPECT_EQ(-EINVAL, accel_queue_create(&self->dev, ACCEL_ENGINE_COMPUTE, 0,
					      ACCEL_PRIORITY_NORMAL, NULL));
	EXPECT_EQ((struct accel_queue *)0x1, q);
	EXPECT_EQ(0, accel_queue_destroy(NULL));
	EXPECT_EQ(0, accel_queue_id(NULL));
	EXPECT_EQ(-EINVAL, accel_queue_placement(NULL, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit_queue(NULL, &self->cb, NULL, 0, NULL, 0, NULL, 0));
	EXPECT_EQ(0, seen.calls);
}

/* The driver's errno comes back unchanged and nothing is left allocated. */
TEST_F(queue, driver_errors_are_returned)
{
	struct accel_queue *q = NULL;

	seen.fail = ENOSPC;
	EXPECT_EQ(-ENOSPC, accel_queue_create(&self->dev, ACCEL_ENGINE_COMPUTE, 0,
					      ACCEL_PRIORITY_NORMAL, &q));
	EXPECT_EQ(NULL, q);
	seen.fail = EACCES;
	EXPECT_EQ(-EACCES, accel_queue_create(&self->dev, ACCEL_ENGINE_COMPUTE, 0,
					      ACCEL_PRIORITY_HIGH, &q));
	seen.fail = 0;
	ASSERT_EQ(0, accel_queue_create(&self->dev, ACCEL_ENGINE_COMPUTE, 0,
					ACCEL_PRIORITY_NORMAL, &q));
	seen.fail = EAGAIN;
	EXPECT_EQ(-EAGAIN, accel_submit_queue(q, &self->cb, NULL, 0, NULL, 0, NULL, 0));
	/* Destroy frees the queue even when the ioctl fails (valgrind checks). */
	seen.fail = ENOENT;
	EXPECT_EQ(-ENOENT, accel_queue_destroy(q));
}

TEST_F(queue, submit_names_the_queue_by_id)
{
	struct accel_queue *q;
	struct accel_sync sig = { .fence = &self->done };

	ASSERT_EQ(0, accel_queue_create(&self->dev, ACCEL_ENGINE_COMPUTE, 1,
					ACCEL_PRIORITY_LOW, &q));
	ASSERT_EQ(0, accel_submit_queue(q, &self->cb, NULL, 0, NULL, 0, NULL, 0));
	EXPECT_EQ(DRM_IOCTL_LUMEN_SUBMIT, seen.request);
	EXPECT_EQ(DRM_LUMEN_SUBMIT_QUEUE_ID, seen.submit.flags);
	EXPECT_EQ(7, seen.submit.queue);
	EXPECT_EQ(CB_VA, seen.submit.cmdbuf_va);
	EXPECT_EQ(64, seen.submit.cmdbuf_size);
	EXPECT_EQ(0, seen.submit.sync_count);

	ASSERT_EQ(0, accel_submit_queue(q, &self->cb, NULL, 0, NULL, 0, &sig, 1));
	EXPECT_EQ(DRM_LUMEN_SUBMIT_QUEUE_ID | DRM_LUMEN_SUBMIT_SYNCS, seen.submit.flags);
	EXPECT_EQ(1, seen.submit.sync_count);
	EXPECT_EQ(DRM_LUMEN_SYNC_OUT, seen.syncs[0].flags);
	EXPECT_EQ(11, seen.syncs[0].handle);

	/* accel_submit2() still names hardware queues, without the flag. */
	ASSERT_EQ(0, accel_submit2(&self->dev, 3, &self->cb, NULL, 0, NULL, 0, NULL, 0));
	EXPECT_EQ(0, seen.submit.flags);
	EXPECT_EQ(3, seen.submit.queue);
	EXPECT_EQ(0, accel_queue_destroy(q));
}

/* accel_submit2()'s checks apply: a command buffer of another device. */
TEST_F(queue, submit_checks_like_submit2)
{
	struct accel_queue *q;
	struct accel_bo ob = fake_bo_at(&self->other, 2, sizeof(self->mem), CB_VA);
	struct accel_cmdbuf ocb;
	uint64_t omem[64];
	int calls;

	fake_cmdbuf(&ocb, &self->other, &ob, omem, sizeof(omem), CB_VA, sizeof(omem));
	ASSERT_EQ(0, accel_cmd_nop(&ocb));
	ASSERT_EQ(0, accel_queue_create(&self->dev, ACCEL_ENGINE_COMPUTE, 0,
					ACCEL_PRIORITY_NORMAL, &q));
	calls = seen.calls;
	EXPECT_EQ(-EINVAL, accel_submit_queue(q, &ocb, NULL, 0, NULL, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, accel_submit_queue(q, NULL, NULL, 0, NULL, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, accel_submit_queue(q, &self->cb, NULL, 1, NULL, 0, NULL, 0));
	EXPECT_EQ(calls, seen.calls);
	EXPECT_EQ(0, accel_queue_destroy(q));
}

TEST_HARNESS_MAIN
