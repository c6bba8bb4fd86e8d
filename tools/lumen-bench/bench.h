/* SPDX-License-Identifier: MIT */
/*
 * lumen-bench: measurements, their results, and the loop that runs them.
 */
#ifndef LUMEN_BENCH_H
#define LUMEN_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <accel/accel.h>

#define BENCH_COPY_SIZE		(4u << 20)	/* bytes per COPY command */
#define BENCH_NVME_BLOCK	4096u		/* bytes per NVMe read */
#define BENCH_JOB_TIMEOUT_NS	(10ll * 1000 * 1000 * 1000)
#define BENCH_DEPTH		64u		/* jobs or reads in flight */
#define BENCH_GROUP		16u		/* jobs reaped (and kicked) at once */

struct bench_config {
	int device;			/* accel index; -1: the first one */
	unsigned int queue;
	size_t iterations;		/* timed NOP jobs and NVMe reads */
	size_t warmup;			/* untimed runs before them */
	size_t copy_iterations;		/* timed copies (4 MiB each way) */
	size_t depth_ops;		/* jobs and reads at depth; 0: none */
	const char *nvme_path;
	bool json;
	bool memory;			/* --memory: only the memory figures */
	size_t memory_iterations;	/* timed BO life cycles per size */
};

/* Latency distribution of one measurement, in microseconds. */
struct bench_stats {
	size_t samples;
	double p50_us, p99_us, mean_us, min_us, max_us;
};

enum bench_state {
	BENCH_OK,
	BENCH_SKIPPED,		/* the subject is absent: no figure at all */
	BENCH_FAILED,
};

struct bench_result {
	enum bench_state state;
	char reason[160];	/* why it was skipped or failed */
	struct bench_stats stats;
	uint64_t bytes;		/* bytes moved per iteration; 0 for latencies */
	/* Completion interrupts per iteration, where measured (direct queues). */
	bool interrupts_known;
	double interrupts_per_op;
};

/* A rate: operations over seconds, and the interrupts they took. */
struct bench_rate {
	struct bench_result result;	/* state and reason; stats unused */
	uint64_t ops;
	double seconds;
	uint64_t interrupts;
	bool interrupts_known;		/* false: /proc/interrupts unreadable */
};

/* What a measurement repeats; every function returns 0 or -errno. */
struct bench_ops {
	/* One timed iteration. */
	int (*step)(void *ctx);
	/* Optional, untimed after each iteration: did it really succeed? */
	int (*check)(void *ctx);
	/* Optional, untimed after the last iteration. */
	int (*finish)(void *ctx);
	void (*destroy)(void *ctx);
	/* Describes a -errno of the functions above. */
	const char *(*strerror)(int err);
};

/*
 * One measurement.  Its *_init() function sets @ops and @ctx, or marks
 * @result skipped or failed (then @ops stays NULL).
 */
struct bench_measure {
	const struct bench_ops *ops;
	void *ctx;
	struct bench_result *result;
	int64_t *ns;		/* samples, while running */
};

/* How bench_run() alternates measurements. */
struct bench_blocks {
	size_t size;		/* timed iterations of one before the other's */
	size_t settle;		/* untimed iterations opening each block */
};

/*
 * Runs @count measurements side by side: @warmup untimed iterations each,
 * then @iterations timed ones in alternating blocks -- whatever disturbs
 * the machine for more than a block disturbs them alike, and what one
 * leaves behind is absorbed by the other's settling runs.  Each iteration
 * is timed with CLOCK_MONOTONIC.  A measurement that fails stops; the
 * others go on.
 */
void bench_run(struct bench_measure *const *m, size_t count, size_t warmup,
	       size_t iterations, const struct bench_blocks *blocks);

/* Round trips: blocks of 32, 4 settling runs; copies: 8 and 1. */
#define BENCH_LATENCY_BLOCKS	(&(const struct bench_blocks){ .size = 32, .settle = 4 })
#define BENCH_BANDWIDTH_BLOCKS	(&(const struct bench_blocks){ .size = 8, .settle = 1 })
void bench_destroy(struct bench_measure *m);

/* Sorts @ns and computes @stats (nearest-rank percentiles). */
void bench_stats_compute(int64_t *ns, size_t count, struct bench_stats *stats);

void bench_fail(struct bench_result *result, enum bench_state state,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The measurements (accel.c, peers.c). */
void bench_nop_init(struct bench_measure *m, struct accel_dev *dev,
		    const struct bench_config *cfg);
void bench_copy_init(struct bench_measure *m, struct accel_dev *dev,
		     const struct bench_config *cfg);
void bench_nvme_init(struct bench_measure *m, const struct bench_config *cfg);
/*
 * The NOP round trip through a direct queue (direct.c) on the engine of
 * cfg->queue; @sleeping: spin budget 0, so every wait sleeps in the
 * kernel until the FENCE's interrupt.  Skipped without direct queues.
 */
void bench_dq_nop_init(struct bench_measure *m, struct accel_dev *dev,
		       const struct accel_info *info,
		       const struct bench_config *cfg, bool sleeping);
void bench_memcpy_init(struct bench_measure *m, const struct bench_config *cfg);

/*
 * Throughput at depth (throughput.c): NOP jobs BENCH_DEPTH deep over every
 * queue, and 4 KiB NVMe reads BENCH_DEPTH deep, in alternating batches.
 */
void bench_depth(struct accel_dev *dev, const struct accel_info *info,
		 const struct bench_config *cfg, struct bench_rate *jobs,
		 struct bench_rate *reads, struct bench_rate *dq_jobs);

/*
 * The same jobs over every direct queue (direct.c), for bench_depth():
 * create (or mark @result skipped/failed and return -errno), run a batch
 * of @jobs (0 or -errno; every job's mark checked), free.
 */
struct depth_dq;
int bench_depth_dq_create(struct accel_dev *dev, const struct accel_info *info,
			  struct depth_dq **d, struct bench_result *result);
int bench_depth_dq_batch(struct depth_dq *d, size_t jobs);
void bench_depth_dq_free(struct depth_dq *d);

/*
 * Completion interrupts (throughput.c): the sum over every CPU of the
 * /proc/interrupts lines that contain @tag and one of @names (NULL
 * terminated), or -1 if none matched or the file is unreadable; and the
 * tag of @info's device, "PCI-MSIX-<its PCI address>".
 */
int64_t bench_interrupts_count(const char *tag, const char *const *names);
void bench_irq_tag(const struct accel_info *info, char *tag, size_t size);

/* The whole report (report.c). */
struct bench_report {
	const struct bench_config *cfg;
	const char *device_path;
	struct bench_result nop, nvme, copy, memcpy;
	struct bench_result dq_nop, dq_sleep;	/* direct queue: spinning, sleeping */
	struct bench_rate depth_jobs, depth_reads, depth_dq_jobs;
};

void bench_print_text(const struct bench_report *report);
void bench_print_json(const struct bench_report *report);

/* Pieces of the report, shared with the memory figures. */
bool bench_result_ok(const struct bench_result *r);
void bench_print_row(const char *name, const struct bench_result *r);
/* Prints a / b: of p50 and p99 for latencies, of bandwidth otherwise. */
void bench_print_ratio(const char *name, const struct bench_result *a,
		       const struct bench_result *b, bool latency);
void bench_print_json_string(const char *s);
void bench_print_result_json(const char *name, const struct bench_result *r,
			     bool last);

/*
 * The memory figures (memory.c): BO life cycles and the NOP round trip
 * with 10 and 10,000 live BOs.  Runs, prints, and returns 0, or 1 if a
 * measurement failed.  Opens files of its own on info->path.
 */
int bench_memory(struct accel_dev *dev, const struct accel_info *info,
		 const struct bench_config *cfg);

#endif /* LUMEN_BENCH_H */
