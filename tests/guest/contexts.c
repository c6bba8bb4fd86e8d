// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Hardware context recycling (Documentation/uapi.rst, "Contexts"): a file holds one of the device's MMU contexts only while it
 * has work, so with more files than contexts, context ids pass from file
 * to file.  Isolation must survive that: tenant A runs a job on its
 * secret (so the device caches A's translations under A's context id),
 * goes idle, then more files than there are contexts each aim a COPY at
 * the VA of A's secret.  Some of them get A's old id (the least recently
 * used idle context is recycled first, and A is the oldest); every one of
 * them must fault and receive nothing, and afterwards A, bound again to
 * some context, still reads its secret and the others still reach their
 * own memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define SECRET_SIZE	(64 * 1024)
#define PAD_SIZE	(4 * LT_MIB)	/* puts A's secret above every VA of B */
#define CANARY		0x5a
#define EXTRA_FILES	8		/* beyond the device's contexts */

struct file_objs {
	struct accel_dev *dev;
	struct accel_bo *pad;		/* A only */
	struct accel_bo *data;		/* A: the secret; B: the attack's target */
	void *data_map;
	struct accel_bo *dst;		/* A: where A copies its secret */
	void *dst_map;
};

static int objs_open(const char *path, struct file_objs *f, bool tenant_a)
{
	int ret;

	ret = accel_open_path(path, &f->dev);
	if (!ret && tenant_a)
		ret = accel_bo_create(f->dev, PAD_SIZE, 0, &f->pad);
	if (!ret)
		ret = lt_bo_create_mapped(f->dev, SECRET_SIZE, 0, &f->data, &f->data_map);
	if (!ret && tenant_a)
		ret = lt_bo_create_mapped(f->dev, SECRET_SIZE, 0, &f->dst, &f->dst_map);
	return ret;
}

static void objs_close(struct file_objs *f)
{
	accel_bo_free(f->dst);
	accel_bo_free(f->data);
	accel_bo_free(f->pad);
	accel_close(f->dev);
}

FIXTURE(ctx) {
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_rng rng;
};

FIXTURE_SETUP(ctx)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&self->rng);
}

FIXTURE_TEARDOWN(ctx)
{
	if (self->dev)
		accel_close(self->dev);
}

/* A copies its secret to its dst through the device and checks it. */
static int a_reads_secret(struct file_objs *a)
{
	int ret;

	memset(a->dst_map, 0, SECRET_SIZE);
	ret = lt_copy_va(a->dev, 0, accel_bo_va(a->dst), accel_bo_va(a->data), SECRET_SIZE);
	if (ret)
		return ret;
	return lt_mismatch(a->dst_map, a->data_map, SECRET_SIZE) == SECRET_SIZE ? 0 : -EIO;
}

TEST_F_TIMEOUT(ctx, recycled_context_does_not_reach_previous_tenant, 600)
{
	const int nb = (int)self->info.num_contexts + EXTRA_FILES;
	struct file_objs a = { 0 }, *b;
	uint64_t secret_va;
	int i, ret;

	ASSERT_EQ(0, objs_open(self->info.path, &a, true));
	lt_rng_fill(&self->rng, a.data_map, SECRET_SIZE);
	secret_va = accel_bo_va(a.data);
	ASSERT_LE(PAD_SIZE, secret_va - self->info.va_start);
	/* A's job caches A's translations under A's context. */
	ret = a_reads_secret(&a);
	ASSERT_EQ(0, ret) TH_LOG("A before: %s", accel_strerror(ret));

	b = calloc(nb, sizeof(*b));
	ASSERT_NE(NULL, b);
	for (i = 0; i < nb; i++) {
		ret = objs_open(self->info.path, &b[i], false);
		ASSERT_EQ(0, ret) TH_LOG("B%d: %s", i, accel_strerror(ret));
		/* B has nothing at A's secret VA. */
		ASSERT_GT(secret_va, accel_bo_va(b[i].data) + SECRET_SIZE);
		memset(b[i].data_map, CANARY, SECRET_SIZE);
		ret = lt_copy_va(b[i].dev, i % self->info.num_queues, accel_bo_va(b[i].data),
				 secret_va, SECRET_SIZE);
		EXPECT_EQ(-EFAULT, ret) TH_LOG("B%d read A's VA: %s", i, accel_strerror(ret));
		EXPECT_EQ(SECRET_SIZE, lt_find_not(b[i].data_map, CANARY, SECRET_SIZE))
			TH_LOG("B%d received bytes", i);
	}

	/* A is bound again, to whatever context, and sees its own secret. */
	ret = a_reads_secret(&a);
	EXPECT_EQ(0, ret) TH_LOG("A after: %s", accel_strerror(ret));
	/* Every B, rebound, still reaches its own memory. */
	for (i = 0; i < nb; i++) {
		uint64_t got;

		ret = lt_fence_write(b[i].dev, 0, b[i].data, 8, 0x6374786f6b6179ULL);
		EXPECT_EQ(0, ret) TH_LOG("B%d after: %s", i, accel_strerror(ret));
		memcpy(&got, (char *)b[i].data_map + 8, sizeof(got));
		EXPECT_EQ(0x6374786f6b6179ULL, got) TH_LOG("B%d after: wrong data", i);
		objs_close(&b[i]);
	}
	free(b);
	objs_close(&a);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * Files that never submit hold no context: more of them than the device
 * has contexts open fine, and the last one opened still runs a job.
 */
TEST_F_TIMEOUT(ctx, idle_files_hold_no_context, 300)
{
	const int n = (int)self->info.num_contexts + EXTRA_FILES;
	struct accel_dev **devs;
	int i, ret;

	devs = calloc(n, sizeof(*devs));
	ASSERT_NE(NULL, devs);
	for (i = 0; i < n; i++) {
		ret = accel_open_path(self->info.path, &devs[i]);
		ASSERT_EQ(0, ret) TH_LOG("open %d: %s", i, accel_strerror(ret));
	}
	EXPECT_EQ(0, lt_device_works(devs[n - 1], 0));
	EXPECT_EQ(0, lt_device_works(devs[0], 0));
	for (i = 0; i < n; i++)
		accel_close(devs[i]);
	free(devs);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_HARNESS_MAIN
