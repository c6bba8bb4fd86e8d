// SPDX-License-Identifier: MIT
/*
 * The measuring loop and its statistics.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least @pct % of them <= it. */
static int64_t percentile(const int64_t *sorted, size_t count, unsigned int pct)
{
	size_t rank = (pct * count + 99) / 100;

	return sorted[rank ? rank - 1 : 0];
}

void bench_stats_compute(int64_t *ns, size_t count, struct bench_stats *stats)
{
	double sum = 0;

	*stats = (struct bench_stats){ .samples = count };
	if (!count)
		return;
	qsort(ns, count, sizeof(*ns), compare_i64);
	for (size_t i = 0; i < count; i++)
		sum += (double)ns[i];
	stats->p50_us = percentile(ns, count, 50) / 1e3;
	stats->p99_us = percentile(ns, count, 99) / 1e3;
	stats->mean_us = sum / (double)count / 1e3;
	stats->min_us = ns[0] / 1e3;
	stats->max_us = ns[count - 1] / 1e3;
}

void bench_fail(struct bench_result *result, enum bench_state state,
		const char *fmt, ...)
{
	va_list ap;

	result->state = state;
	va_start(ap, fmt);
	vsnprintf(result->reason, sizeof(result->reason), fmt, ap);
	va_end(ap);
}

static bool running(const struct bench_measure *m)
{
	return m->ops && m->result->state == BENCH_OK;
}

/* One iteration of @m, timed into *@ns; stops @m on an error. */
static void run_once(struct bench_measure *m, const char *what, size_t i,
		     int64_t *ns)
{
	int64_t start;
	int err;

	start = bench_now_ns();
	err = m->ops->step(m->ctx);
	*ns = bench_now_ns() - start;
	if (!err && m->ops->check)
		err = m->ops->check(m->ctx);
	if (err)
		bench_fail(m->result, BENCH_FAILED, "%s %zu: %s", what, i,
			   m->ops->strerror(err));
}

void bench_run(struct bench_measure *const *m, size_t count, size_t warmup,
	       size_t iterations, const struct bench_blocks *blocks)
{
	int64_t unused;
	int err;

	for (size_t k = 0; k < count; k++) {
		if (!running(m[k]))
			continue;
		m[k]->ns = calloc(iterations, sizeof(*m[k]->ns));
		if (!m[k]->ns)
			bench_fail(m[k]->result, BENCH_FAILED, "%s", strerror(ENOMEM));
	}

	for (size_t i = 0; i < warmup; i++)
		for (size_t k = 0; k < count; k++)
			if (running(m[k]))
				run_once(m[k], "warm-up run", i, &unused);

	/*
	 * Blocks, every other round in reverse order, so no one always goes
	 * first.  Each block starts with untimed settling runs: work that
	 * the other measurement left behind (a kernel worker freeing a job,
	 * RCU callbacks) lands in them and not in this one's timed runs.
	 */
	for (size_t done = 0, round = 0; done < iterations; round++) {
		size_t block = iterations - done < blocks->size ?
			       iterations - done : blocks->size;

		for (size_t j = 0; j < count; j++) {
			size_t k = round % 2 ? count - 1 - j : j;

			for (size_t i = 0; i < blocks->settle && running(m[k]); i++)
				run_once(m[k], "settling run", done + i, &unused);
			for (size_t i = 0; i < block && running(m[k]); i++)
				run_once(m[k], "run", done + i, &m[k]->ns[done + i]);
		}
		done += block;
	}

	for (size_t k = 0; k < count; k++) {
		if (running(m[k]) && m[k]->ops->finish) {
			err = m[k]->ops->finish(m[k]->ctx);
			if (err)
				bench_fail(m[k]->result, BENCH_FAILED, "after the runs: %s",
					   m[k]->ops->strerror(err));
		}
		if (running(m[k]))
			bench_stats_compute(m[k]->ns, iterations, &m[k]->result->stats);
		free(m[k]->ns);
		m[k]->ns = NULL;
	}
}

void bench_destroy(struct bench_measure *m)
{
	if (m->ops)
		m->ops->destroy(m->ctx);
	m->ops = NULL;
	m->ctx = NULL;
}
