// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Engines, shown functionally: queue q feeds engine q % num_engines, the
 * compute engines (0 .. num_cores - 1) run operators at the same time as
 * each other, the DMA engine (num_cores) runs copies while a compute
 * engine is busy, and an operator sent to the DMA engine fails its job
 * with -EIO and nothing else.
 *
 * Concurrency is read from the device's own clock: each long job is
 * bracketed by TIMESTAMP commands, and the [start, end] intervals of jobs
 * on different engines must overlap.  Nothing is timed against a
 * threshold; the jobs are only long enough (tens of 512^3 GEMMs) that
 * running them one after another could not look like overlap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define DIM		512		/* GEMM size: DIM^3 multiply-adds */
#define MAT_BYTES	(DIM * DIM * 4)
#define MAX_PAR		4		/* compute engines used at once */
#define LONG_GEMMS	24		/* GEMMs in one long job */
#define TS_SIZE		4096

FIXTURE(engines) {
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_rng rng;
	struct accel_bo *a, *b, *c[MAX_PAR], *ts;
	float *a_map, *b_map, *c_map[MAX_PAR];
	uint64_t *ts_map;
	struct accel_cmdbuf *cb[MAX_PAR + 1];
	struct accel_fence *done[MAX_PAR + 1];
};

static void map_bo(struct __test_metadata *_metadata, struct accel_dev *dev,
		   uint64_t size, struct accel_bo **bo, void **map)
{
	ASSERT_EQ(0, accel_bo_create(dev, size, 0, bo));
	ASSERT_EQ(0, accel_bo_map(*bo, map));
}

FIXTURE_SETUP(engines)
{
	void *map;
	int i;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&self->rng);
	ASSERT_EQ(self->info.num_cores + 1, self->info.num_engines);

	/* Small integers: every dot product is exact, so C can be checked exactly. */
	map_bo(_metadata, self->dev, MAT_BYTES, &self->a, &map);
	self->a_map = map;
	map_bo(_metadata, self->dev, MAT_BYTES, &self->b, &map);
	self->b_map = map;
	for (i = 0; i < DIM * DIM; i++) {
		self->a_map[i] = (float)((int)lt_rng_below(&self->rng, 7) - 3);
		self->b_map[i] = (float)((int)lt_rng_below(&self->rng, 7) - 3);
	}
	for (i = 0; i < MAX_PAR; i++) {
		map_bo(_metadata, self->dev, MAT_BYTES, &self->c[i], &map);
		self->c_map[i] = map;
	}
	map_bo(_metadata, self->dev, TS_SIZE, &self->ts, &map);
	self->ts_map = map;
	for (i = 0; i <= MAX_PAR; i++) {
		ASSERT_EQ(0, accel_cmdbuf_create(self->dev, 64 * 1024, &self->cb[i]));
		ASSERT_EQ(0, accel_fence_create(self->dev, &self->done[i]));
	}
}

FIXTURE_TEARDOWN(engines)
{
	int i;

	for (i = 0; i <= MAX_PAR; i++) {
		/* Status 0: submitted and still running (a fence never used is -EINVAL). */
		if (self->done[i] && accel_fence_status(self->done[i]) == 0)
			accel_fence_wait(self->done[i], LT_JOB_TIMEOUT_NS);
		accel_fence_free(self->done[i]);
		accel_cmdbuf_free(self->cb[i]);
	}
	for (i = 0; i < MAX_PAR; i++)
		accel_bo_free(self->c[i]);
	accel_bo_free(self->ts);
	accel_bo_free(self->b);
	accel_bo_free(self->a);
	accel_close(self->dev);
}

/* C[i] = A . B, @count times. */
static void append_gemms(struct __test_metadata *_metadata, FIXTURE_DATA(engines) *self,
			 struct accel_cmdbuf *cb, int i, int count)
{
	int n;

	for (n = 0; n < count; n++) {
		ASSERT_EQ(0, accel_cmd_gemm(cb, &(struct accel_gemm){
			.type = ACCEL_F32, .c_type = ACCEL_F32,
			.m = DIM, .n = DIM, .k = DIM,
			.a = accel_bo_va(self->a), .lda = DIM,
			.b = accel_bo_va(self->b), .ldb = DIM,
			.c = accel_bo_va(self->c[i]), .ldc = DIM,
			.alpha = 1.0f,
		}));
	}
}

/* Checks 64 random elements of C[i] against a dot product done here. */
static void check_gemm(struct __test_metadata *_metadata, FIXTURE_DATA(engines) *self, int i)
{
	int n, l;

	for (n = 0; n < 64; n++) {
		int r = lt_rng_below(&self->rng, DIM), c = lt_rng_below(&self->rng, DIM);
		float want = 0;

		for (l = 0; l < DIM; l++)
			want += self->a_map[r * DIM + l] * self->b_map[l * DIM + c];
		ASSERT_EQ(want, self->c_map[i][r * DIM + c])
			TH_LOG("C%d[%d][%d]", i, r, c);
	}
}

static void wait_ok(struct __test_metadata *_metadata, struct accel_fence *done,
		    const char *what)
{
	int ret = accel_fence_wait(done, LT_JOB_TIMEOUT_NS);

	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, accel_strerror(ret));
	ret = accel_fence_status(done);
	ASSERT_EQ(1, ret) TH_LOG("%s failed: %s", what, accel_strerror(ret));
}

/* Timestamp slots: job i writes its start at 2 i and its end at 2 i + 1. */
#define TS_VA(self, slot)	(accel_bo_va((self)->ts) + 8 * (slot))

/*
 * One long GEMM job per compute engine (queues 0 .. n - 1), submitted
 * back to back: every pair of [start, end] intervals overlaps.
 */
TEST_F_TIMEOUT(engines, compute_engines_overlap, 300)
{
	unsigned int n = self->info.num_cores < MAX_PAR ? self->info.num_cores : MAX_PAR;
	const struct accel_bo *bos[1];
	unsigned int i, j;

	if (n < 2)
		SKIP(return, "%u compute engine: nothing to overlap", self->info.num_cores);
	ASSERT_GE(self->info.num_queues, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, accel_cmd_timestamp(self->cb[i], TS_VA(self, 2 * i)));
		append_gemms(_metadata, self, self->cb[i], i, LONG_GEMMS);
		ASSERT_EQ(0, accel_cmd_timestamp(self->cb[i], TS_VA(self, 2 * i + 1)));
	}
	for (i = 0; i < n; i++) {
		/*
		 * Only C is listed: implicit synchronisation may order jobs
		 * that share a listed BO, which would serialise them.  A, B
		 * and the timestamps (distinct slots) stay alive anyway.
		 */
		bos[0] = self->c[i];
		ASSERT_EQ(0, accel_submit(self->dev, i, self->cb[i], bos, 1, NULL,
					  self->done[i]));
	}
	for (i = 0; i < n; i++)
		wait_ok(_metadata, self->done[i], "a long GEMM job");
	for (i = 0; i < n; i++) {
		TH_LOG("engine %u: %.1f .. %.1f ms", i,
		       (self->ts_map[2 * i] - self->ts_map[0]) / 1e6,
		       (self->ts_map[2 * i + 1] - self->ts_map[0]) / 1e6);
		ASSERT_LT(self->ts_map[2 * i], self->ts_map[2 * i + 1]);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			EXPECT_LT(self->ts_map[2 * i], self->ts_map[2 * j + 1])
				TH_LOG("engine %u started after engine %u had finished", i, j);
		}
	}
	for (i = 0; i < n; i++)
		check_gemm(_metadata, self, i);
}

/*
 * A copy job on the DMA engine's queue completes while a long GEMM runs on
 * compute engine 0.  The copy job first WAITs for a semaphore that the
 * GEMM job sets after its start timestamp, so it cannot run before the
 * GEMMs began; it must end before they end.
 */
TEST_F_TIMEOUT(engines, dma_engine_runs_during_gemm, 300)
{
	unsigned int dma_q = self->info.num_cores;	/* dma_q % num_engines */
	const uint64_t sem = 6, size = 256 * 1024;
	struct accel_bo *src, *dst;
	const struct accel_bo *bos[4];
	void *src_map, *dst_map;
	uint64_t *ts = self->ts_map;

	if (self->info.num_queues <= dma_q)
		SKIP(return, "%u queues: none is bound to the DMA engine", self->info.num_queues);
	map_bo(_metadata, self->dev, size, &src, &src_map);
	map_bo(_metadata, self->dev, size, &dst, &dst_map);
	lt_rng_fill(&self->rng, src_map, size);

	ASSERT_EQ(0, accel_cmd_timestamp(self->cb[0], TS_VA(self, 0)));
	ASSERT_EQ(0, accel_cmd_fence(self->cb[0], TS_VA(self, sem), 1));
	append_gemms(_metadata, self, self->cb[0], 0, 2 * LONG_GEMMS);
	ASSERT_EQ(0, accel_cmd_timestamp(self->cb[0], TS_VA(self, 1)));

	ASSERT_EQ(0, accel_cmd_wait(self->cb[1], TS_VA(self, sem), 1));
	ASSERT_EQ(0, accel_cmd_timestamp(self->cb[1], TS_VA(self, 2)));
	ASSERT_EQ(0, accel_cmd_copy(self->cb[1], accel_bo_va(dst), accel_bo_va(src), size));
	ASSERT_EQ(0, accel_cmd_timestamp(self->cb[1], TS_VA(self, 3)));

	bos[0] = self->a;
	bos[1] = self->b;
	bos[2] = self->c[0];
	ASSERT_EQ(0, accel_submit(self->dev, 0, self->cb[0], bos, 3, NULL, self->done[0]));
	bos[0] = src;
	bos[1] = dst;
	ASSERT_EQ(0, accel_submit(self->dev, dma_q, self->cb[1], bos, 2, NULL, self->done[1]));
	wait_ok(_metadata, self->done[1], "the copy job on the DMA engine");
	wait_ok(_metadata, self->done[0], "the GEMM job");
	TH_LOG("GEMM %.1f .. %.1f ms, copy %.1f .. %.1f ms", 0.0, (ts[1] - ts[0]) / 1e6,
	       (ts[2] - ts[0]) / 1e6, (ts[3] - ts[0]) / 1e6);
	EXPECT_LE(ts[0], ts[2]);
	EXPECT_LT(ts[3], ts[1]) TH_LOG("the copy ended after the GEMMs");
	EXPECT_EQ(size, lt_mismatch(src_map, dst_map, size));
	check_gemm(_metadata, self, 0);
	accel_bo_free(dst);
	accel_bo_free(src);
}

/* A small GEMM on @queue: C[0] rows 0..15 = A . B over k = 16. */
static void small_gemm(struct __test_metadata *_metadata, FIXTURE_DATA(engines) *self,
		       struct accel_cmdbuf *cb)
{
	ASSERT_EQ(0, accel_cmd_gemm(cb, &(struct accel_gemm){
		.type = ACCEL_F32, .c_type = ACCEL_F32, .m = 16, .n = 16, .k = 16,
		.a = accel_bo_va(self->a), .lda = DIM,
		.b = accel_bo_va(self->b), .ldb = DIM,
		.c = accel_bo_va(self->c[0]), .ldc = DIM, .alpha = 1.0f,
	}));
}

static bool small_gemm_right(FIXTURE_DATA(engines) *self)
{
	int r, c, l;

	for (r = 0; r < 16; r++)
		for (c = 0; c < 16; c++) {
			float want = 0;

			for (l = 0; l < 16; l++)
				want += self->a_map[r * DIM + l] * self->b_map[l * DIM + c];
			if (self->c_map[0][r * DIM + c] != want)
				return false;
		}
	return true;
}

/*
 * Every queue bound to a compute engine runs an operator; every queue
 * bound to the DMA engine fails it with -EIO (LUMEN_ERR_WRONG_ENGINE),
 * writes nothing, and runs a copy job right after.
 */
TEST_F_TIMEOUT(engines, operators_only_on_compute_engines, 300)
{
	unsigned int q;

	for (q = 0; q < self->info.num_queues; q++) {
		bool dma = q % self->info.num_engines == self->info.num_cores;
		int ret;

		memset(self->c_map[0], 0, MAT_BYTES);
		accel_cmdbuf_reset(self->cb[0]);
		small_gemm(_metadata, self, self->cb[0]);
		ASSERT_EQ(0, accel_submit(self->dev, q, self->cb[0], NULL, 0, NULL,
					  self->done[0]));
		ret = accel_fence_wait(self->done[0], LT_JOB_TIMEOUT_NS);
		ASSERT_EQ(0, ret) TH_LOG("queue %u: %s", q, accel_strerror(ret));
		ret = accel_fence_status(self->done[0]);
		if (dma) {
			EXPECT_EQ(-EIO, ret)
				TH_LOG("queue %u (DMA engine): GEMM gave %s", q, accel_strerror(ret));
			EXPECT_EQ(MAT_BYTES, lt_find_not(self->c_map[0], 0, MAT_BYTES))
				TH_LOG("queue %u (DMA engine): the refused GEMM wrote C", q);
			/* The queue was reset and runs the next job. */
			accel_cmdbuf_reset(self->cb[1]);
			ASSERT_EQ(0, accel_cmd_copy(self->cb[1], accel_bo_va(self->c[1]),
						    accel_bo_va(self->a), 4096));
			ASSERT_EQ(0, accel_submit(self->dev, q, self->cb[1], NULL, 0, NULL,
						  self->done[1]));
			wait_ok(_metadata, self->done[1], "a copy after the refused GEMM");
			EXPECT_EQ(4096, lt_mismatch(self->c_map[1], self->a_map, 4096));
		} else {
			EXPECT_EQ(1, ret) TH_LOG("queue %u (engine %u): %s", q,
						 q % self->info.num_engines, accel_strerror(ret));
			EXPECT_TRUE(small_gemm_right(self)) TH_LOG("queue %u: wrong result", q);
		}
	}
}

TEST_HARNESS_MAIN
