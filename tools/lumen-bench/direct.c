// SPDX-License-Identifier: MIT
/*
 * Direct queues (libaccel 1.2): the NOP round trip through a direct queue,
 * spinning (the library's default budget) and sleeping (spin budget 0:
 * always DRM_IOCTL_LUMEN_DQ_WAIT and the FENCE's interrupt); and the
 * jobs kept 64 deep over every direct queue for the throughput at depth
 * (throughput.c alternates them with the kernel queues' jobs and the NVMe
 * reads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Engine @engine (a device index) as accel_dq_create() names it. */
static void engine_of(const struct accel_info *info, uint32_t engine,
		      enum accel_engine_class *cls, uint32_t *index)
{
	engine %= info->num_engines;
	*cls = engine == info->num_cores ? ACCEL_ENGINE_DMA : ACCEL_ENGINE_COMPUTE;
	*index = engine == info->num_cores ? 0 : engine;
}

/*
 * A direct queue on device engine @engine, or the reason there is none:
 * a driver or device without direct queues is "skipped", never a figure.
 */
static int dq_open(struct accel_dev *dev, const struct accel_info *info,
		   uint32_t engine, struct accel_dq **dq, struct bench_result *result)
{
	enum accel_engine_class cls;
	uint32_t index;
	int err;

	if (!info->num_direct_queues) {
		bench_fail(result, BENCH_SKIPPED,
			   "the driver offers no direct queues (num_direct_queues 0)");
		return -ENODEV;
	}
	engine_of(info, engine, &cls, &index);
	err = accel_dq_create(dev, cls, index, 0, dq);
	if (err)
		bench_fail(result, err == -ENOTTY ? BENCH_SKIPPED : BENCH_FAILED,
			   "creating a direct queue: %s", accel_strerror(err));
	return err;
}

/* ---- The round trip ------------------------------------------------------ */

struct dq_job {
	struct accel_dq *dq;
	struct accel_cmdbuf *cb;
	uint64_t seq;		/* the last job submitted */
	bool sleeping;		/* spin budget 0, kicked by the wait */
	/* The queue's own vector's interrupts over its whole life. */
	struct bench_result *result;
	char tag[64];
	char vector[32];	/* "lumen-dq<q>\n": the end of its line */
	int64_t irq_start;
};

/* Interrupts of @job's hardware queue so far, or -1. */
static int64_t dq_job_irqs(const struct dq_job *job)
{
	const char *const names[] = { job->vector, NULL };

	return bench_interrupts_count(job->tag, names);
}

static int dq_job_run(void *ctx)
{
	struct dq_job *job = ctx;
	int err;

	/*
	 * Sleeping: push only, and let the wait ring the doorbell right
	 * before it enters the kernel.  A job already done when the wait
	 * (or the ioctl) first looks is reaped without sleeping, however:
	 * the queue's interrupts per job tell how often it really slept.
	 */
	if (job->sleeping)
		err = accel_dq_push(job->dq, job->cb, &job->seq);
	else
		err = accel_dq_submit(job->dq, job->cb, &job->seq);
	if (err)
		return err;
	return accel_dq_wait(job->dq, job->seq, BENCH_JOB_TIMEOUT_NS);
}

/* Its FENCE wrote its number: the job really ran, and nothing after it. */
static int dq_job_check(void *ctx)
{
	struct dq_job *job = ctx;

	return accel_dq_completed(job->dq) == job->seq ? 0 : -EPROTO;
}

static void dq_job_destroy(void *ctx)
{
	struct dq_job *job = ctx;
	int64_t irqs = job->result ? dq_job_irqs(job) : -1;

	/*
	 * Every job it ran (warm-up and settling runs too) against every
	 * interrupt of its vector: no other job uses this hardware queue.
	 */
	if (job->result && job->irq_start >= 0 && irqs >= 0 && job->seq) {
		job->result->interrupts_known = true;
		job->result->interrupts_per_op =
			(double)(irqs - job->irq_start) / (double)job->seq;
	}
	/* The queue first: it may still read the command buffer. */
	accel_dq_destroy(job->dq);
	accel_cmdbuf_free(job->cb);
	free(job);
}

/*
 * Submit (the job is one NOP, copied into the ring with the library's
 * FENCE: two ring entries, one doorbell store) and wait for the FENCE's
 * value: no system call while the wait spins, DRM_IOCTL_LUMEN_DQ_WAIT and
 * an interrupt once it sleeps.
 */
static const struct bench_ops dq_nop_ops = {
	.step = dq_job_run,
	.check = dq_job_check,
	.destroy = dq_job_destroy,
	.strerror = accel_strerror,
};

void bench_dq_nop_init(struct bench_measure *m, struct accel_dev *dev,
		       const struct accel_info *info,
		       const struct bench_config *cfg, bool sleeping)
{
	struct dq_job *job;
	int err;

	job = calloc(1, sizeof(*job));
	if (!job) {
		bench_fail(m->result, BENCH_FAILED, "%s", strerror(ENOMEM));
		return;
	}
	/* The engine of the kernel queue's NOP, for a like comparison. */
	if (dq_open(dev, info, cfg->queue, &job->dq, m->result)) {
		free(job);
		return;
	}
	job->sleeping = sleeping;
	if (sleeping)
		accel_dq_set_spin(job->dq, 0);
	err = accel_cmdbuf_create(dev, 4096, &job->cb);
	if (!err)
		err = accel_cmd_nop(job->cb);
	if (err) {
		bench_fail(m->result, BENCH_FAILED, "setting up: %s", accel_strerror(err));
		dq_job_destroy(job);
		return;
	}
	job->result = m->result;
	bench_irq_tag(info, job->tag, sizeof(job->tag));
	snprintf(job->vector, sizeof(job->vector), "lumen-dq%u\n",
		 accel_dq_hw_queue(job->dq));
	job->irq_start = dq_job_irqs(job);
	m->ops = &dq_nop_ops;
	m->ctx = job;
}

/* ---- Jobs at depth over every direct queue ------------------------------- */

struct depth_dq {
	struct accel_dq **dq;
	unsigned int ndq;
	struct accel_cmdbuf *cb[BENCH_DEPTH];	/* job i runs cb[i % depth] */
	uint64_t seq[BENCH_DEPTH];		/* ...as that sequence number */
	struct accel_bo *results;		/* job i writes i + 1 here */
	volatile uint64_t *result;		/* ...at [i % BENCH_DEPTH] */
	uint64_t next;				/* jobs submitted so far */
};

void bench_depth_dq_free(struct depth_dq *d)
{
	if (!d)
		return;
	for (unsigned int q = 0; q < d->ndq; q++)
		accel_dq_destroy(d->dq[q]);
	free(d->dq);
	for (size_t i = 0; i < BENCH_DEPTH; i++)
		accel_cmdbuf_free(d->cb[i]);
	accel_bo_free(d->results);
	free(d);
}

/*
 * One direct queue per direct hardware queue, spread over the engines as
 * the kernel's queues are (queue k on engine k mod num_engines).
 */
int bench_depth_dq_create(struct accel_dev *dev, const struct accel_info *info,
			  struct depth_dq **out, struct bench_result *result)
{
	struct depth_dq *d;
	void *map;
	int err = 0;

	d = calloc(1, sizeof(*d));
	if (d)
		d->dq = calloc(info->num_direct_queues ? info->num_direct_queues : 1,
			       sizeof(*d->dq));
	if (!d || !d->dq) {
		free(d);
		bench_fail(result, BENCH_FAILED, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (unsigned int q = 0; !err && q < info->num_direct_queues; q++) {
		err = dq_open(dev, info, q, &d->dq[q], result);
		if (!err)
			d->ndq++;
	}
	if (!info->num_direct_queues)
		err = dq_open(dev, info, 0, &d->dq[0], result);
	if (err) {
		bench_depth_dq_free(d);
		return err;
	}
	err = accel_bo_create(dev, 4096, 0, &d->results);
	if (!err)
		err = accel_bo_map(d->results, &map);
	for (size_t i = 0; !err && i < BENCH_DEPTH; i++)
		err = accel_cmdbuf_create(dev, 4096, &d->cb[i]);
	if (err) {
		bench_fail(result, BENCH_FAILED, "setting up: %s", accel_strerror(err));
		bench_depth_dq_free(d);
		return err;
	}
	d->result = map;
	*out = d;
	return 0;
}

/* Job @job's queue. */
static struct accel_dq *job_dq(const struct depth_dq *d, uint64_t job)
{
	return d->dq[job % d->ndq];
}

/*
 * Waits for jobs @first .. @last (all submitted): on each queue, for the
 * newest of them there (its queue completes in order), then checks that
 * every one wrote its mark.
 */
static int depth_dq_reap(struct depth_dq *d, uint64_t first, uint64_t last)
{
	uint64_t newest = last - first + 1 > d->ndq ? last - d->ndq + 1 : first;
	int err = 0;

	for (uint64_t job = newest; !err && job <= last; job++)
		err = accel_dq_wait(job_dq(d, job), d->seq[job % BENCH_DEPTH],
				    BENCH_JOB_TIMEOUT_NS);
	for (uint64_t job = first; !err && job <= last; job++)
		if (d->result[job % BENCH_DEPTH] != job + 1)
			err = -EPROTO;
	return err;
}

static int depth_dq_kick_all(struct depth_dq *d)
{
	int err = 0;

	for (unsigned int q = 0; !err && q < d->ndq; q++)
		err = accel_dq_kick(d->dq[q]);
	return err;
}

/* Job @job: one FENCE writing @job + 1 into its slot, pushed, not kicked. */
static int depth_dq_push(struct depth_dq *d, uint64_t job)
{
	struct accel_cmdbuf *cb = d->cb[job % BENCH_DEPTH];
	int err;

	accel_cmdbuf_reset(cb);
	err = accel_cmd_fence(cb, accel_bo_va(d->results) +
			      job % BENCH_DEPTH * sizeof(uint64_t), job + 1);
	if (!err)
		err = accel_dq_push(job_dq(d, job), cb, &d->seq[job % BENCH_DEPTH]);
	return err;
}

/*
 * @jobs jobs, at most BENCH_DEPTH in flight over the queues, job i on
 * queue i mod ndq.  As on the kernel side, jobs are reaped in groups of
 * BENCH_GROUP: before jobs i .. i + GROUP - 1 reuse the slots of jobs
 * i - BENCH_DEPTH .., those are waited for and checked.  The doorbells
 * are batched too: every queue is kicked once per group.  Ends when all
 * completed.
 */
int bench_depth_dq_batch(struct depth_dq *d, size_t jobs)
{
	uint64_t first = d->next, end = d->next + jobs, job;
	int err = 0;

	for (job = first; job < end && !err; job++) {
		if (job - first >= BENCH_DEPTH && (job - first) % BENCH_GROUP == 0)
			err = depth_dq_reap(d, job - BENCH_DEPTH,
					    job - BENCH_DEPTH + BENCH_GROUP - 1);
		if (!err)
			err = depth_dq_push(d, job);
		if (!err && (job - first) % BENCH_GROUP == BENCH_GROUP - 1)
			err = depth_dq_kick_all(d);
	}
	d->next = job;
	if (!err)
		err = depth_dq_kick_all(d);
	if (err || job == first)
		return err;
	/* Drain, and check what is left. */
	return depth_dq_reap(d, job > first + BENCH_DEPTH ? job - BENCH_DEPTH : first,
			     job - 1);
}
