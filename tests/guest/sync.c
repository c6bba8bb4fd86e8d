// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Syncobjs: completion fences signal, waits time out in bounded time, jobs
 * on a queue complete in order, and a job does not run before its in-fence
 * signals -- across queues, with data that would be wrong otherwise, and
 * with a fence the test signals by hand -- and the BOs a job lists order it
 * after earlier jobs that use them (implicit synchronisation).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lumen_test.h"
#include "vgem.h"

#define MS 1000000ll

FIXTURE(sync) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
	struct lt_rng rng;
	/* A queue other than 0 when the device has one. */
	unsigned int other_queue;
};

FIXTURE_SETUP(sync)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
	self->other_queue = self->info.num_queues - 1;
	LT_SEED(&self->rng);
}

FIXTURE_TEARDOWN(sync)
{
	if (self->dev)
		accel_close(self->dev);
}

/* One FENCE command writing @value at @bo + @offset. */
static struct accel_cmdbuf *fence_job(struct accel_dev *dev,
				      const struct accel_bo *bo,
				      uint64_t offset, uint64_t value)
{
	struct accel_cmdbuf *cb;

	if (lt_cmdbuf_create(dev, &cb))
		return NULL;
	if (accel_cmd_fence(cb, accel_bo_va(bo) + offset, value)) {
		accel_cmdbuf_free(cb);
		return NULL;
	}
	return cb;
}

static uint64_t read_u64(const void *map, uint64_t offset)
{
	uint64_t v;

	memcpy(&v, (const unsigned char *)map + offset, 8);
	return v;
}

TEST_F(sync, wait_returns_zero_after_completion)
{
	struct accel_fence *done;
	struct accel_cmdbuf *cb;
	struct accel_bo *bo;
	int status;
	void *map;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 4096, 0, &bo, &map));
	ASSERT_NE(NULL, cb = fence_job(self->dev, bo, 0, 0x1234567890abcdefull));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, 0, NULL, done));
	ASSERT_EQ(0, accel_fence_wait(done, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(0x1234567890abcdefull, read_u64(map, 0));
	/* A signalled fence stays signalled: no wait needed any more. */
	EXPECT_EQ(0, accel_fence_wait(done, 0));
	EXPECT_EQ(0, accel_fence_wait(done, -1));
	/* And it tells the job succeeded. */
	ASSERT_EQ(0, lt_job_status(self->fd, accel_fence_syncobj(done), &status));
	EXPECT_EQ(1, status);
	accel_fence_free(done);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

TEST_F(sync, unsubmitted_fence_times_out_in_bounded_time)
{
	static const int64_t timeouts[] = { 0, 1 * MS, 200 * MS };
	struct accel_fence *fence;
	size_t i;

	ASSERT_EQ(0, accel_fence_create(self->dev, &fence));
	for (i = 0; i < ARRAY_SIZE(timeouts); i++) {
		int64_t start = lt_now_ns(), took;

		EXPECT_EQ(-ETIME, accel_fence_wait(fence, timeouts[i]));
		took = lt_now_ns() - start;
		/* Not early, and not much later than asked (TCG is slow). */
		EXPECT_LE(timeouts[i], took);
		EXPECT_GT(timeouts[i] + 2000 * MS, took)
			TH_LOG("a %lld ns wait took %lld ns",
			       (long long)timeouts[i], (long long)took);
	}
	accel_fence_free(fence);
}

/*
 * Jobs on one queue complete in order: once the last has signalled, every
 * earlier one has, even big copies submitted before small fences.
 */
TEST_F_TIMEOUT(sync, jobs_on_a_queue_complete_in_order, 120)
{
	enum { JOBS = 8 };
	const uint64_t big = 8 * LT_MIB;
	struct accel_fence *done[JOBS];
	struct accel_cmdbuf *cbs[JOBS];
	struct accel_bo *src, *dst;
	void *src_map, *dst_map;
	int i, ret;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, big, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, big, ACCEL_BO_DEVICE, &dst, &dst_map));
	for (i = 0; i < JOBS; i++) {
		struct accel_cmdbuf *cb;

		ASSERT_EQ(0, accel_fence_create(self->dev, &done[i]));
		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cbs[i]));
		cb = cbs[i];
		/* Big copies and empty jobs, alternating. */
		ret = i % 2 ? accel_cmd_nop(cb)
			    : accel_cmd_copy(cb, accel_bo_va(dst), accel_bo_va(src), big);
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, 0, NULL, done[i]));
	}
	ASSERT_EQ(0, accel_fence_wait(done[JOBS - 1], LT_JOB_TIMEOUT_NS));
	for (i = 0; i < JOBS - 1; i++)
		EXPECT_EQ(0, accel_fence_wait(done[i], 0)) TH_LOG("job %d", i);
	for (i = 0; i < JOBS; i++) {
		accel_fence_free(done[i]);
		accel_cmdbuf_free(cbs[i]);
	}
	accel_bo_free(dst);
	accel_bo_free(src);
}

/*
 * A job on one queue that waits for a job on another reads what that job
 * wrote: 16 MiB into device memory on queue 0, out again on the other.
 */
TEST_F_TIMEOUT(sync, dependency_across_queues_carries_data, 120)
{
	const uint64_t size = 16 * LT_MIB;
	struct accel_bo *src, *dev, *dst;
	void *src_map, *unused, *dst_map;
	struct accel_fence *first, *second;
	struct accel_cmdbuf *in, *out;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, ACCEL_BO_DEVICE, &dev, &unused));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &dst, &dst_map));
	lt_rng_fill(&self->rng, src_map, size);
	ASSERT_EQ(0, accel_fence_create(self->dev, &first));
	ASSERT_EQ(0, accel_fence_create(self->dev, &second));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &in));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &out));
	ASSERT_EQ(0, accel_cmd_copy(in, accel_bo_va(dev), accel_bo_va(src), size));
	ASSERT_EQ(0, accel_cmd_copy(out, accel_bo_va(dst), accel_bo_va(dev), size));

	/* Submitted back to back: only the dependency orders them. */
	ASSERT_EQ(0, accel_submit(self->dev, 0, in, NULL, 0, NULL, first));
	ASSERT_EQ(0, accel_submit(self->dev, self->other_queue, out, NULL, 0, first, second));
	ASSERT_EQ(0, accel_fence_wait(second, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(0, accel_fence_wait(first, 0));
	EXPECT_EQ(size, lt_mismatch(dst_map, src_map, size));

	accel_cmdbuf_free(out);
	accel_cmdbuf_free(in);
	accel_fence_free(second);
	accel_fence_free(first);
	accel_bo_free(dst);
	accel_bo_free(dev);
	accel_bo_free(src);
}

/*
 * One syncobj as both the in- and the out-fence of a chain of jobs on
 * alternating queues, each copying the previous job's output one slot
 * further: only correct if every job waited for the one before.
 */
TEST_F_TIMEOUT(sync, chained_jobs_through_one_syncobj, 120)
{
	enum { LINKS = 16 };
	const uint64_t slot = 256 * 1024;
	struct accel_bo *sys, *dev;
	void *sys_map, *unused;
	struct accel_cmdbuf *cbs[LINKS];
	struct accel_fence *chain;
	int i;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 2 * slot, 0, &sys, &sys_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, (LINKS + 1) * slot,
					 ACCEL_BO_DEVICE, &dev, &unused));
	lt_rng_fill(&self->rng, sys_map, slot);
	ASSERT_EQ(0, accel_fence_create(self->dev, &chain));
	ASSERT_EQ(0, lt_copy(self->dev, 0, dev, 0, sys, 0, slot));

	for (i = 0; i < LINKS; i++) {
		ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &cbs[i]));
		ASSERT_EQ(0, accel_cmd_copy(cbs[i], accel_bo_va(dev) + (i + 1) * slot,
					    accel_bo_va(dev) + i * slot, slot));
		/* The command buffer must outlive its job: kept until the end. */
		ASSERT_EQ(0, accel_submit(self->dev, i % 2 ? self->other_queue : 0,
					  cbs[i], NULL, 0, i ? chain : NULL, chain));
	}
	ASSERT_EQ(0, accel_fence_wait(chain, LT_JOB_TIMEOUT_NS));
	ASSERT_EQ(0, lt_copy(self->dev, 0, sys, slot, dev, LINKS * slot, slot));
	EXPECT_EQ(slot, lt_mismatch((unsigned char *)sys_map + slot, sys_map, slot));

	for (i = 0; i < LINKS; i++)
		accel_cmdbuf_free(cbs[i]);
	accel_fence_free(chain);
	accel_bo_free(dev);
	accel_bo_free(sys);
}

/*
 * An in-syncobj signalled by hand (DRM_IOCTL_SYNCOBJ_SIGNAL) lets the job
 * run; one without any fence (new, or after DRM_IOCTL_SYNCOBJ_RESET) is
 * refused, since the job could never run.
 */
TEST_F(sync, in_syncobj_signalled_by_hand)
{
	struct accel_fence *wait, *done;
	struct accel_cmdbuf *cb;
	struct accel_bo *bo;
	uint32_t handle;
	void *map;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 4096, 0, &bo, &map));
	ASSERT_NE(NULL, cb = fence_job(self->dev, bo, 0, 77));
	ASSERT_EQ(0, accel_fence_create(self->dev, &wait));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	handle = accel_fence_syncobj(wait);

	EXPECT_EQ(-EINVAL, accel_submit(self->dev, 0, cb, NULL, 0, wait, done));
	ASSERT_EQ(0, lt_syncobj_signal(self->fd, handle));
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, 0, wait, done));
	ASSERT_EQ(0, accel_fence_wait(done, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(77, read_u64(map, 0));

	ASSERT_EQ(0, lt_syncobj_reset(self->fd, handle));
	EXPECT_EQ(-EINVAL, accel_submit(self->dev, 0, cb, NULL, 0, wait, done));

	accel_fence_free(done);
	accel_fence_free(wait);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

/*
 * A job whose in-fence is pending does not run -- nor do later jobs of its
 * queue -- until the test signals the fence; other queues keep running.
 */
TEST_F(sync, job_waits_for_fence_signalled_by_hand)
{
	struct accel_fence *wait, *done, *behind;
	struct accel_cmdbuf *cb, *cb_behind;
	struct vgem_fence vf;
	struct accel_bo *bo;
	int ret, status;
	void *map;

	ret = vgem_fence_create(&vf);
	if (ret == -ENODEV)
		SKIP(return, "vgem is not available to make a pending fence");
	ASSERT_EQ(0, ret) TH_LOG("vgem fence: %s", accel_strerror(ret));
	ASSERT_EQ(0, accel_fence_create(self->dev, &wait));
	ASSERT_EQ(0, vgem_fence_to_syncobj(&vf, self->fd, accel_fence_syncobj(wait)));

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 4096, 0, &bo, &map));
	ASSERT_NE(NULL, cb = fence_job(self->dev, bo, 0, 0xfeed));
	ASSERT_NE(NULL, cb_behind = fence_job(self->dev, bo, 8, 0xbeef));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	ASSERT_EQ(0, accel_fence_create(self->dev, &behind));
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb, NULL, 0, wait, done));
	ASSERT_EQ(0, accel_submit(self->dev, 0, cb_behind, NULL, 0, NULL, behind));

	/* Well under vgem's 10 s self-signalling timeout. */
	EXPECT_EQ(-ETIME, accel_fence_wait(done, 500 * MS));
	EXPECT_EQ(-ETIME, accel_fence_wait(behind, 0));
	EXPECT_EQ(0, read_u64(map, 0));
	EXPECT_EQ(0, read_u64(map, 8));
	if (self->other_queue != 0)
		EXPECT_EQ(0, lt_device_works(self->dev, self->other_queue));
	EXPECT_EQ(-ETIME, accel_fence_wait(done, 0));
	ASSERT_EQ(0, lt_job_status(self->fd, accel_fence_syncobj(done), &status));
	EXPECT_EQ(0, status) TH_LOG("a blocked job is not pending");

	ASSERT_EQ(0, vgem_fence_signal(&vf));
	ASSERT_EQ(0, accel_fence_wait(done, LT_JOB_TIMEOUT_NS));
	ASSERT_EQ(0, accel_fence_wait(behind, LT_JOB_TIMEOUT_NS));
	EXPECT_EQ(0xfeed, read_u64(map, 0));
	EXPECT_EQ(0xbeef, read_u64(map, 8));
	ASSERT_EQ(0, lt_job_status(self->fd, accel_fence_syncobj(done), &status));
	EXPECT_EQ(1, status);

	vgem_fence_destroy(&vf);
	accel_fence_free(behind);
	accel_fence_free(done);
	accel_fence_free(wait);
	accel_cmdbuf_free(cb_behind);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

/* One fence reused by many submissions reports each job in turn. */
TEST_F(sync, out_fence_is_reusable)
{
	struct accel_fence *done;
	struct accel_bo *bo;
	void *map;
	uint64_t i;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 4096, 0, &bo, &map));
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	for (i = 1; i <= 20; i++) {
		struct accel_cmdbuf *cb = fence_job(self->dev, bo, 0, i);

		ASSERT_NE(NULL, cb);
		ASSERT_EQ(0, accel_submit(self->dev, i % self->info.num_queues,
					  cb, NULL, 0, NULL, done));
		ASSERT_EQ(0, lt_job_result(done));
		EXPECT_EQ(i, read_u64(map, 0));
		accel_cmdbuf_free(cb);
	}
	accel_fence_free(done);
	accel_bo_free(bo);
}

/*
 * Implicit synchronisation: a job that lists a BO runs after every earlier
 * job that listed it, even on another queue and without any syncobj.  The
 * first job is held back by a pending vgem fence, so the second one would
 * read the old data if it did not wait.
 */
TEST_F_TIMEOUT(sync, listed_bos_order_jobs_across_queues, 60)
{
	const uint64_t size = 64 * 1024;
	struct accel_fence *wait, *first, *second;
	struct accel_bo *src, *mid, *dst;
	void *src_map, *mid_map, *dst_map;
	struct accel_cmdbuf *in, *out;
	struct vgem_fence vf;
	int ret;

	if (self->other_queue == 0)
		SKIP(return, "needs two queues");
	ret = vgem_fence_create(&vf);
	if (ret == -ENODEV)
		SKIP(return, "vgem is not available to make a pending fence");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, accel_fence_create(self->dev, &wait));
	ASSERT_EQ(0, vgem_fence_to_syncobj(&vf, self->fd, accel_fence_syncobj(wait)));
	ASSERT_EQ(0, accel_fence_create(self->dev, &first));
	ASSERT_EQ(0, accel_fence_create(self->dev, &second));

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &mid, &mid_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &dst, &dst_map));
	lt_rng_fill(&self->rng, src_map, size);
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &in));
	ASSERT_EQ(0, lt_cmdbuf_create(self->dev, &out));
	ASSERT_EQ(0, accel_cmd_copy(in, accel_bo_va(mid), accel_bo_va(src), size));
	ASSERT_EQ(0, accel_cmd_copy(out, accel_bo_va(dst), accel_bo_va(mid), size));

	{
		const struct accel_bo *in_bos[] = { src, mid };
		const struct accel_bo *out_bos[] = { mid, dst };

		ASSERT_EQ(0, accel_submit(self->dev, 0, in, in_bos, 2, wait, first));
		ASSERT_EQ(0, accel_submit(self->dev, self->other_queue, out,
					  out_bos, 2, NULL, second));
	}
	/* Both held: the second only through the BO they share. */
	EXPECT_EQ(-ETIME, accel_fence_wait(second, 300 * MS));
	EXPECT_EQ(size, lt_find_not(dst_map, 0, size));

	ASSERT_EQ(0, vgem_fence_signal(&vf));
	ASSERT_EQ(0, lt_job_result(second));
	ASSERT_EQ(0, lt_job_result(first));
	EXPECT_EQ(size, lt_mismatch(dst_map, src_map, size));

	vgem_fence_destroy(&vf);
	accel_cmdbuf_free(out);
	accel_cmdbuf_free(in);
	accel_bo_free(dst);
	accel_bo_free(mid);
	accel_bo_free(src);
	accel_fence_free(second);
	accel_fence_free(first);
	accel_fence_free(wait);
}

TEST_HARNESS_MAIN
