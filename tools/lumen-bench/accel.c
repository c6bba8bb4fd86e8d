// SPDX-License-Identifier: MIT
/*
 * The device's side: a NOP job's round trip, and COPY bandwidth through
 * device memory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* A job run again and again: submit @cb, wait for its completion fence. */
struct job {
	struct accel_dev *dev;
	unsigned int queue;
	struct accel_cmdbuf *cb;
	struct accel_fence *done;
	/* COPY only: the system BOs at both ends, and their mappings. */
	struct accel_bo *src, *mid, *dst;
	uint8_t *src_map, *dst_map;
};

static int job_run(void *ctx)
{
	struct job *job = ctx;
	int err;

	/* No BO list: a NOP round trip takes the driver's fast path. */
	err = accel_submit(job->dev, job->queue, job->cb, NULL, 0, NULL, job->done);
	if (err)
		return err;
	return accel_fence_wait(job->done, BENCH_JOB_TIMEOUT_NS);
}

/* The wait only says the job finished; its fence's status says how. */
static int job_check(void *ctx)
{
	struct job *job = ctx;
	int status;

	status = accel_fence_status(job->done);
	if (status == 1)
		return 0;
	return status < 0 ? status : -EPROTO;	/* 0: waited, yet not signalled */
}

static void job_destroy(void *ctx)
{
	struct job *job = ctx;

	accel_bo_free(job->dst);
	accel_bo_free(job->mid);
	accel_bo_free(job->src);
	accel_fence_free(job->done);
	accel_cmdbuf_free(job->cb);
	free(job);
}

static int job_create(struct accel_dev *dev, unsigned int queue,
		      struct job **jobp)
{
	struct job *job;
	int err;

	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->dev = dev;
	job->queue = queue;
	/* One page holds every command these jobs have. */
	err = accel_cmdbuf_create(dev, 4096, &job->cb);
	if (!err)
		err = accel_fence_create(dev, &job->done);
	if (err) {
		job_destroy(job);
		return err;
	}
	*jobp = job;
	return 0;
}

/*
 * Submit a 64-byte command buffer holding one NOP: the device fetches it
 * through the file's MMU context (the ring entry is INDIRECT + FENCE),
 * retires it, raises the completion interrupt; the driver signals the
 * fence and wakes us: the whole round trip a job pays.
 */
static const struct bench_ops nop_ops = {
	.step = job_run,
	.check = job_check,
	.destroy = job_destroy,
	.strerror = accel_strerror,
};

void bench_nop_init(struct bench_measure *m, struct accel_dev *dev,
		    const struct bench_config *cfg)
{
	struct job *job;
	int err;

	err = job_create(dev, cfg->queue, &job);
	if (err) {
		bench_fail(m->result, BENCH_FAILED, "setting up: %s", accel_strerror(err));
		return;
	}
	err = accel_cmd_nop(job->cb);
	if (err) {
		bench_fail(m->result, BENCH_FAILED, "setting up: %s", accel_strerror(err));
		job_destroy(job);
		return;
	}
	m->ops = &nop_ops;
	m->ctx = job;
}

/* A byte pattern that differs for each @seed and at each offset. */
static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* Runs the copy job once on fresh data and checks every byte arrived. */
static int copy_verify(struct job *job, uint32_t seed)
{
	int err;

	fill_pattern(job->src_map, BENCH_COPY_SIZE, seed);
	memset(job->dst_map, 0, BENCH_COPY_SIZE);
	err = job_run(job);
	if (!err)
		err = job_check(job);
	if (err)
		return err;
	return memcmp(job->src_map, job->dst_map, BENCH_COPY_SIZE) ? -EIO : 0;
}

/* Once more on new data after the timed runs: no figure for a lost copy. */
static int copy_finish(void *ctx)
{
	return copy_verify(ctx, 2);
}

static const struct bench_ops copy_ops = {
	.step = job_run,
	.check = job_check,
	.finish = copy_finish,
	.destroy = job_destroy,
	.strerror = accel_strerror,
};

/* One job of two COPY commands: 4 MiB system BO -> device BO -> system BO. */
void bench_copy_init(struct bench_measure *m, struct accel_dev *dev,
		     const struct bench_config *cfg)
{
	const char *step = "setting up";
	struct job *job;
	int err;

	m->result->bytes = 2ull * BENCH_COPY_SIZE;
	err = job_create(dev, cfg->queue, &job);
	if (err) {
		bench_fail(m->result, BENCH_FAILED, "%s: %s", step, accel_strerror(err));
		return;
	}
	err = accel_bo_create(dev, BENCH_COPY_SIZE, 0, &job->src);
	if (!err)
		err = accel_bo_create(dev, BENCH_COPY_SIZE, ACCEL_BO_DEVICE, &job->mid);
	if (!err)
		err = accel_bo_create(dev, BENCH_COPY_SIZE, 0, &job->dst);
	if (!err)
		err = accel_bo_map(job->src, (void **)&job->src_map);
	if (!err)
		err = accel_bo_map(job->dst, (void **)&job->dst_map);
	if (!err)
		err = accel_cmd_copy(job->cb, accel_bo_va(job->mid),
				     accel_bo_va(job->src), BENCH_COPY_SIZE);
	if (!err)
		err = accel_cmd_copy(job->cb, accel_bo_va(job->dst),
				     accel_bo_va(job->mid), BENCH_COPY_SIZE);
	if (!err) {
		step = "checking the copied data";
		err = copy_verify(job, 1);
	}
	if (err) {
		bench_fail(m->result, BENCH_FAILED, "%s: %s", step, accel_strerror(err));
		job_destroy(job);
		return;
	}
	m->ops = &copy_ops;
	m->ctx = job;
}
