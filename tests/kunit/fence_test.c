// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests of a queue's bookkeeping without the device: hardware fences
 * signalled from the fence slot's value, failed on errors and removal, and
 * the ring's wrap-around.  The queue is a stand-in holding only what these
 * functions use; the "device" is the test writing the fence slot.
 */

#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include <kunit/test.h>

#include "lumen_drv.h"

#define NFENCES 4

struct fence_env {
	struct lumen_queue *q;
	__le64 *slot;
	/* fences[i] has seqno i + 1; the test holds one reference on each. */
	struct lumen_fence *fences[NFENCES];
};

static void put_fences(void *arg)
{
	struct fence_env *env = arg;
	unsigned int i;

	/* Make the queue drop the references it still holds. */
	lumen_fence_fail_all(env->q, -ECANCELED);
	for (i = 0; i < NFENCES; i++)
		if (env->fences[i])
			dma_fence_put(&env->fences[i]->base);
}

static struct fence_env *fence_env_create(struct kunit *test)
{
	struct fence_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, env);
	env->q = kunit_kzalloc(test, sizeof(*env->q), GFP_KERNEL);
	env->slot = kunit_kzalloc(test, sizeof(*env->slot), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->q);
	KUNIT_ASSERT_NOT_NULL(test, env->slot);

	spin_lock_init(&env->q->fence_lock);
	INIT_LIST_HEAD(&env->q->fences);
	env->q->fence_context = dma_fence_context_alloc(1);
	env->q->fence_slot = env->slot;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, put_fences, env), 0);

	for (i = 0; i < NFENCES; i++) {
		/* Plain kzalloc: the last dma_fence_put() frees it. */
		env->fences[i] = kzalloc(sizeof(*env->fences[i]), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, env->fences[i]);
		lumen_fence_init(env->q, env->fences[i], i + 1);
	}
	return env;
}

static bool signaled(struct fence_env *env, unsigned int seqno)
{
	return test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &env->fences[seqno - 1]->base.flags);
}

static int error_of(struct fence_env *env, unsigned int seqno)
{
	return env->fences[seqno - 1]->base.error;
}

/* Test and queue hold one reference each until the fence signals. */
static unsigned int refs(struct fence_env *env, unsigned int seqno)
{
	return kref_read(&env->fences[seqno - 1]->base.refcount);
}

static void fence_init(struct kunit *test)
{
	struct fence_env *env = fence_env_create(test);
	unsigned int s;

	for (s = 1; s <= NFENCES; s++) {
		KUNIT_EXPECT_EQ(test, env->fences[s - 1]->base.seqno, s);
		KUNIT_EXPECT_EQ(test, env->fences[s - 1]->base.context, env->q->fence_context);
		KUNIT_EXPECT_FALSE(test, signaled(env, s));
		KUNIT_EXPECT_EQ(test, refs(env, s), 2);
	}
}

static void process_signals_completed(struct kunit *test)
{
	struct fence_env *env = fence_env_create(test);

	*env->slot = cpu_to_le64(0);
	lumen_fence_process(env->q);
	KUNIT_EXPECT_FALSE(test, signaled(env, 1));

	*env->slot = cpu_to_le64(2);
	lumen_fence_process(env->q);
	KUNIT_EXPECT_TRUE(test, signaled(env, 1));
	KUNIT_EXPECT_TRUE(test, signaled(env, 2));
	KUNIT_EXPECT_FALSE(test, signaled(env, 3));
	KUNIT_EXPECT_FALSE(test, signaled(env, 4));
	KUNIT_EXPECT_EQ(test, error_of(env, 1), 0);
	KUNIT_EXPECT_EQ(test, error_of(env, 2), 0);
	/* The queue let go of the signalled ones only. */
	KUNIT_EXPECT_EQ(test, refs(env, 2), 1);
	KUNIT_EXPECT_EQ(test, refs(env, 3), 2);

	/* Processing again with the same slot value changes nothing. */
	lumen_fence_process(env->q);
	KUNIT_EXPECT_FALSE(test, signaled(env, 3));

	*env->slot = cpu_to_le64(4);
	lumen_fence_process(env->q);
	KUNIT_EXPECT_TRUE(test, signaled(env, 4));
	KUNIT_EXPECT_TRUE(test, list_empty(&env->q->fences));
}

/* A slot past every seqno (a stale value after a reset) signals them all. */
static void process_slot_ahead(struct kunit *test)
{
	struct fence_env *env = fence_env_create(test);

	*env->slot = cpu_to_le64(U64_MAX);
	lumen_fence_process(env->q);
	KUNIT_EXPECT_TRUE(test, signaled(env, 4));
	KUNIT_EXPECT_TRUE(test, list_empty(&env->q->fences));
}

static void fail_first(struct kunit *test)
{
	struct fence_env *env = fence_env_create(test);

	*env->slot = cpu_to_le64(1);
	lumen_fence_process(env->q);
	lumen_fence_fail_first(env->q, -EIO);

	KUNIT_EXPECT_EQ(test, error_of(env, 1), 0);
	KUNIT_EXPECT_TRUE(test, signaled(env, 2));
	KUNIT_EXPECT_EQ(test, error_of(env, 2), -EIO);
	KUNIT_EXPECT_EQ(test, refs(env, 2), 1);
	KUNIT_EXPECT_FALSE(test, signaled(env, 3));

	/* The innocent ones behind it complete normally. */
	*env->slot = cpu_to_le64(4);
	lumen_fence_process(env->q);
	KUNIT_EXPECT_TRUE(test, signaled(env, 3));
	KUNIT_EXPECT_EQ(test, error_of(env, 3), 0);
	KUNIT_EXPECT_EQ(test, error_of(env, 4), 0);
}

static void fail_first_when_idle(struct kunit *test)
{
	struct fence_env *env = fence_env_create(test);

	*env->slot = cpu_to_le64(4);
	lumen_fence_process(env->q);
	lumen_fence_fail_first(env->q, -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, error_of(env, 4), 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&env->q->fences));
}

static void fail_all(struct kunit *test)
{
	struct fence_env *env = fence_env_create(test);
	unsigned int s;

	*env->slot = cpu_to_le64(1);
	lumen_fence_process(env->q);
	lumen_fence_fail_all(env->q, -ENODEV);

	KUNIT_EXPECT_EQ(test, error_of(env, 1), 0);
	for (s = 2; s <= NFENCES; s++) {
		KUNIT_EXPECT_TRUE(test, signaled(env, s));
		KUNIT_EXPECT_EQ(test, error_of(env, s), -ENODEV);
		KUNIT_EXPECT_EQ(test, refs(env, s), 1);
	}
	KUNIT_EXPECT_TRUE(test, list_empty(&env->q->fences));
}

/* ---- The ring ------------------------------------------------------------ */

static void ring_wraps(struct kunit *test)
{
	struct lumen_queue *q = kunit_kzalloc(test, sizeof(*q), GFP_KERNEL);
	struct lumen_hw_cmd cmd = { };
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, q);
	q->ring = kunit_kcalloc(test, LUMEN_RING_ENTRIES, sizeof(*q->ring), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q->ring);
	mutex_init(&q->ring_lock);

	mutex_lock(&q->ring_lock);
	q->tail = 1022;		/* LUMEN_RING_ENTRIES is 1024 */
	for (i = 1; i <= 3; i++) {
		cmd.header = cpu_to_le64(i);
		cmd.args[6] = cpu_to_le64(~(u64)i);
		lumen_ring_push_locked(q, &cmd);
	}
	mutex_unlock(&q->ring_lock);

	KUNIT_EXPECT_EQ(test, q->tail, 1);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(q->ring[1022].header), 1);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(q->ring[1023].header), 2);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(q->ring[0].header), 3);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(q->ring[0].args[6]), ~3ull);
	/* The entry after the tail is untouched. */
	KUNIT_EXPECT_EQ(test, le64_to_cpu(q->ring[1].header), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(q->ring[1021].header), 0);
	mutex_destroy(&q->ring_lock);
}

static struct kunit_case lumen_fence_test_cases[] = {
	KUNIT_CASE(fence_init),
	KUNIT_CASE(process_signals_completed),
	KUNIT_CASE(process_slot_ahead),
	KUNIT_CASE(fail_first),
	KUNIT_CASE(fail_first_when_idle),
	KUNIT_CASE(fail_all),
	KUNIT_CASE(ring_wraps),
	{ }
};

static struct kunit_suite lumen_fence_test_suite = {
	.name = "lumen_queue",
	.test_cases = lumen_fence_test_cases,
};

kunit_test_suite(lumen_fence_test_suite);
