// SPDX-License-Identifier: MIT
/*
 * Throughput at depth: NOP jobs kept BENCH_DEPTH deep across every hardware
 * queue, against 4 KiB O_DIRECT reads kept BENCH_DEPTH deep on the NVMe
 * peer with Linux AIO; and how many completion interrupts each took per
 * job or read.  The two run in alternating batches, as the latencies do.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define BATCHES		8	/* alternating batches each side runs */
#define NVME_SPAN	256	/* reads cycle over this many blocks */

/* ---- Completion interrupts, from /proc/interrupts ------------------------ */

/*
 * Sums the counts of every CPU on the /proc/interrupts lines whose text
 * contains @tag and one of @names (a NULL-terminated list).  Returns the
 * sum, or -1 if no line matched or the file cannot be read.
 */
int64_t bench_interrupts_count(const char *tag, const char *const *names)
{
	char line[1024];
	int64_t sum = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		bool named = false;
		char *p, *end;

		if (!strstr(line, tag))
			continue;
		for (size_t i = 0; names[i]; i++)
			named |= strstr(line, names[i]) != NULL;
		if (!named)
			continue;
		p = strchr(line, ':');
		if (!p)
			continue;
		if (sum < 0)
			sum = 0;
		/* Columns: one count per CPU, then the chip's name. */
		for (p++;; p = end) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
		}
	}
	fclose(f);
	return sum;
}

/* ---- The lumen side ------------------------------------------------------ */

/*
 * Jobs are reaped in groups (BENCH_GROUP), as an application keeping a
 * queue deep does (io_getevents() hands the NVMe side its completions in
 * groups too): one timeline fence takes job i as point i + 1, and a wait
 * for one point covers every job before it.
 */
#define GROUP		BENCH_GROUP

struct depth_jobs {
	struct accel_dev *dev;
	struct accel_fence *timeline;
	struct accel_cmdbuf *cb[BENCH_DEPTH];	/* job i runs cb[i % depth] */
	struct accel_bo *results;		/* job i writes i + 1 here */
	volatile uint64_t *result;		/* ...at [i % BENCH_DEPTH] */
	uint64_t point;				/* last point submitted */
	unsigned int num_queues;
	char tag[64];			/* "PCI-MSIX-<bdf>" in /proc/interrupts */
};

static void depth_jobs_free(struct depth_jobs *d)
{
	for (size_t i = 0; i < BENCH_DEPTH; i++)
		accel_cmdbuf_free(d->cb[i]);
	accel_fence_free(d->timeline);
	accel_bo_free(d->results);
	free(d);
}

/* The PCI address of @info's device names its vectors' lines. */
void bench_irq_tag(const struct accel_info *info, char *tag, size_t size)
{
	const char *node = strrchr(info->path, '/');
	char link[256], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/class/accel/%s/device",
		 node ? node + 1 : info->path);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0) {
		snprintf(tag, size, "lumen-q");
		return;
	}
	target[n] = '\0';
	node = strrchr(target, '/');
	snprintf(tag, size, "PCI-MSIX-%.40s", node ? node + 1 : target);
}

static int depth_jobs_create(struct accel_dev *dev, const struct accel_info *info,
			     struct depth_jobs **out)
{
	struct depth_jobs *d;
	void *map;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev = dev;
	d->num_queues = info->num_queues;
	bench_irq_tag(info, d->tag, sizeof(d->tag));
	err = accel_fence_create_timeline(dev, &d->timeline);
	if (!err)
		err = accel_bo_create(dev, 4096, 0, &d->results);
	if (!err)
		err = accel_bo_map(d->results, &map);
	for (size_t i = 0; !err && i < BENCH_DEPTH; i++)
		err = accel_cmdbuf_create(dev, 4096, &d->cb[i]);
	if (err) {
		depth_jobs_free(d);
		return err;
	}
	d->result = map;
	*out = d;
	return 0;
}

/* Job @job (a point below the last one submitted) wrote its mark. */
static int depth_jobs_check(struct depth_jobs *d, uint64_t job)
{
	return d->result[job % BENCH_DEPTH] == job + 1 ? 0 : -EPROTO;
}

/* Waits until job @job and every one before it completed. */
static int depth_jobs_wait(struct depth_jobs *d, uint64_t job)
{
	return accel_fence_wait_point(d->timeline, job + 1, BENCH_JOB_TIMEOUT_NS);
}

/*
 * Job @job: one FENCE command writing @job + 1 into its result slot -- as
 * small as a NOP, and it shows the job ran.  On queue @job % num_queues.
 */
static int depth_jobs_submit(struct depth_jobs *d, uint64_t job)
{
	struct accel_cmdbuf *cb = d->cb[job % BENCH_DEPTH];
	struct accel_sync signal = { d->timeline, job + 1 };
	int err;

	accel_cmdbuf_reset(cb);
	err = accel_cmd_fence(cb, accel_bo_va(d->results) +
			      job % BENCH_DEPTH * sizeof(uint64_t), job + 1);
	if (!err)
		err = accel_submit2(d->dev, (unsigned int)(job % d->num_queues), cb,
				    NULL, 0, NULL, 0, &signal, 1);
	return err;
}

/*
 * @jobs jobs, at most BENCH_DEPTH in flight over every queue: before jobs
 * i .. i + GROUP - 1 reuse the slots of jobs i - BENCH_DEPTH .., those
 * are waited for (one wait) and checked.  Ends when all completed.
 */
static int depth_jobs_batch(struct depth_jobs *d, size_t jobs)
{
	uint64_t first = d->point, end = d->point + jobs, job;
	int err = 0;

	for (job = first; job < end && !err; job++) {
		if (job - first >= BENCH_DEPTH && (job - first) % GROUP == 0) {
			uint64_t last = job - BENCH_DEPTH + GROUP - 1;

			err = depth_jobs_wait(d, last);
			for (uint64_t k = job - BENCH_DEPTH; !err && k <= last; k++)
				err = depth_jobs_check(d, k);
		}
		if (!err)
			err = depth_jobs_submit(d, job);
	}
	d->point = job;
	if (err || job == first)
		return err;
	/* Drain, and check what is left. */
	err = depth_jobs_wait(d, job - 1);
	for (uint64_t k = job > first + BENCH_DEPTH ? job - BENCH_DEPTH : first;
	     !err && k < job; k++)
		err = depth_jobs_check(d, k);
	return err;
}

/* ---- The NVMe side: Linux AIO, no library needed ------------------------- */

struct depth_reads {
	int fd;
	aio_context_t ctx;
	void *buf;			/* BENCH_DEPTH blocks */
	struct iocb cb[BENCH_DEPTH];
	char tag[32];			/* "nvme0q": the controller's queues */
};

static void depth_reads_free(struct depth_reads *r)
{
	if (r->ctx)
		syscall(SYS_io_destroy, r->ctx);
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}

static int depth_reads_create(const char *path, struct depth_reads **out)
{
	const char *name = strrchr(path, '/');
	struct depth_reads *r;
	const char *n;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (r->fd < 0) {
		err = -errno;
		goto err;
	}
	if (posix_memalign(&r->buf, 4096, (size_t)BENCH_DEPTH * BENCH_NVME_BLOCK)) {
		err = -ENOMEM;
		goto err;
	}
	memset(r->buf, 0, (size_t)BENCH_DEPTH * BENCH_NVME_BLOCK);
	if (syscall(SYS_io_setup, BENCH_DEPTH, &r->ctx)) {
		err = -errno;
		r->ctx = 0;
		goto err;
	}
	/* "nvme0n1" -> "nvme0q": its I/O queues' vectors are nvme0q1... */
	name = name ? name + 1 : path;
	n = strchr(name + (strncmp(name, "nvme", 4) ? 0 : 4), 'n');
	snprintf(r->tag, sizeof(r->tag), "%.*sq", n ? (int)(n - name) : 0, name);
	*out = r;
	return 0;
err:
	depth_reads_free(r);
	return err;
}

static void depth_reads_prep(struct depth_reads *r, size_t slot, size_t i)
{
	struct iocb *cb = &r->cb[slot];

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = slot;
	cb->aio_lio_opcode = IOCB_CMD_PREAD;
	cb->aio_fildes = (uint32_t)r->fd;
	cb->aio_buf = (uintptr_t)r->buf + slot * BENCH_NVME_BLOCK;
	cb->aio_nbytes = BENCH_NVME_BLOCK;
	cb->aio_offset = (int64_t)(i % NVME_SPAN) * BENCH_NVME_BLOCK;
}

static int depth_reads_submit(struct depth_reads *r, struct iocb **cbs, long n)
{
	long done = 0;

	while (done < n) {
		long ret = syscall(SYS_io_submit, r->ctx, n - done, cbs + done);

		if (ret < 0)
			return -errno;
		done += ret;
	}
	return 0;
}

/* @reads 4 KiB reads, BENCH_DEPTH in flight, each one checked. */
static int depth_reads_batch(struct depth_reads *r, size_t reads)
{
	struct io_event ev[BENCH_DEPTH];
	struct iocb *cbs[BENCH_DEPTH];
	size_t submitted = 0, completed = 0;
	long n = 0;
	int err;

	while (submitted < reads && submitted < BENCH_DEPTH) {
		depth_reads_prep(r, submitted, submitted);
		cbs[n++] = &r->cb[submitted++];
	}
	err = depth_reads_submit(r, cbs, n);
	while (!err && completed < reads) {
		long got = syscall(SYS_io_getevents, r->ctx, 1, BENCH_DEPTH, ev, NULL);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = 0;
		for (long k = 0; k < got; k++) {
			size_t slot = (size_t)ev[k].data;

			completed++;
			if (ev[k].res != BENCH_NVME_BLOCK)
				err = ev[k].res < 0 ? (int)ev[k].res : -EIO;
			else if (submitted < reads) {
				depth_reads_prep(r, slot, submitted++);
				cbs[n++] = &r->cb[slot];
			}
		}
		if (!err && n)
			err = depth_reads_submit(r, cbs, n);
	}
	return err;
}

/* ---- Alternating batches --------------------------------------------------- */

static void rate_add(struct bench_rate *rate, size_t ops, int64_t ns,
		     int64_t irq_before, int64_t irq_after)
{
	rate->ops += ops;
	rate->seconds += (double)ns / 1e9;
	if (irq_before < 0 || irq_after < 0)
		rate->interrupts_known = false;
	else
		rate->interrupts += (uint64_t)(irq_after - irq_before);
}

static void run_jobs(struct depth_jobs *d, struct bench_rate *rate, size_t jobs)
{
	static const char *const names[] = { "lumen-q", NULL };
	int64_t before, start, ns;
	int err;

	before = bench_interrupts_count(d->tag, names);
	start = bench_now_ns();
	err = depth_jobs_batch(d, jobs);
	ns = bench_now_ns() - start;
	if (err) {
		bench_fail(&rate->result, BENCH_FAILED, "NOP job: %s", accel_strerror(err));
		return;
	}
	rate_add(rate, jobs, ns, before, bench_interrupts_count(d->tag, names));
}

static void run_dq_jobs(struct depth_dq *d, const char *tag,
			struct bench_rate *rate, size_t jobs)
{
	/* Direct queues' vectors are lumen-dq<q>; the kernel's idle meanwhile. */
	static const char *const names[] = { "lumen-dq", "lumen-q", NULL };
	int64_t before, start, ns;
	int err;

	before = bench_interrupts_count(tag, names);
	start = bench_now_ns();
	err = bench_depth_dq_batch(d, jobs);
	ns = bench_now_ns() - start;
	if (err) {
		bench_fail(&rate->result, BENCH_FAILED, "job: %s", accel_strerror(err));
		return;
	}
	rate_add(rate, jobs, ns, before, bench_interrupts_count(tag, names));
}

static void run_reads(struct depth_reads *r, struct bench_rate *rate, size_t reads)
{
	/* The I/O queues; nvme0q0 is the admin queue. */
	static const char *const names[] = { "q1", "q2", "q3", "q4", "q5", "q6",
					     "q7", "q8", "q9", NULL };
	int64_t before, start, ns;
	int err;

	before = bench_interrupts_count(r->tag, names);
	start = bench_now_ns();
	err = depth_reads_batch(r, reads);
	ns = bench_now_ns() - start;
	if (err) {
		bench_fail(&rate->result, BENCH_FAILED, "read: %s", strerror(-err));
		return;
	}
	rate_add(rate, reads, ns, before, bench_interrupts_count(r->tag, names));
}

/* The three sides of the throughput figures, in a batch's order. */
enum { SIDE_JOBS, SIDE_READS, SIDE_DQ_JOBS, NUM_SIDES };

void bench_depth(struct accel_dev *dev, const struct accel_info *info,
		 const struct bench_config *cfg, struct bench_rate *jobs,
		 struct bench_rate *reads, struct bench_rate *dq_jobs)
{
	struct depth_jobs *d = NULL;
	struct depth_reads *r = NULL;
	struct depth_dq *dq = NULL;
	size_t batch = cfg->depth_ops / BATCHES ? cfg->depth_ops / BATCHES : 1;
	char tag[64];
	int err;

	jobs->interrupts_known = reads->interrupts_known = true;
	dq_jobs->interrupts_known = true;
	bench_irq_tag(info, tag, sizeof(tag));
	err = depth_jobs_create(dev, info, &d);
	if (err)
		bench_fail(&jobs->result, BENCH_FAILED, "setting up: %s", accel_strerror(err));
	err = depth_reads_create(cfg->nvme_path, &r);
	if (err)
		bench_fail(&reads->result, err == -ENOENT || err == -ENXIO ||
			   err == -ENODEV ? BENCH_SKIPPED : BENCH_FAILED, "%s: %s",
			   cfg->nvme_path, strerror(-err));
	/* Marks the result skipped or failed itself. */
	if (bench_depth_dq_create(dev, info, &dq, &dq_jobs->result))
		dq = NULL;

	/* One untimed batch each: TCG translates the code on first use. */
	if (d && depth_jobs_batch(d, BENCH_DEPTH * 2))
		bench_fail(&jobs->result, BENCH_FAILED, "warm-up failed");
	if (r && depth_reads_batch(r, BENCH_DEPTH * 2))
		bench_fail(&reads->result, BENCH_FAILED, "warm-up failed");
	if (dq && bench_depth_dq_batch(dq, BENCH_DEPTH * 2))
		bench_fail(&dq_jobs->result, BENCH_FAILED, "warm-up failed");

	/* Batches in turn, every other round in reverse: no side always first. */
	for (size_t b = 0; b < BATCHES; b++) {
		for (int k = 0; k < NUM_SIDES; k++) {
			int side = b % 2 ? NUM_SIDES - 1 - k : k;

			if (side == SIDE_JOBS && d && jobs->result.state == BENCH_OK)
				run_jobs(d, jobs, batch);
			else if (side == SIDE_READS && r && reads->result.state == BENCH_OK)
				run_reads(r, reads, batch);
			else if (side == SIDE_DQ_JOBS && dq &&
				 dq_jobs->result.state == BENCH_OK)
				run_dq_jobs(dq, tag, dq_jobs, batch);
		}
	}

	bench_depth_dq_free(dq);
	if (d)
		depth_jobs_free(d);
	if (r)
		depth_reads_free(r);
}
