// SPDX-License-Identifier: MIT
/*
 * The report: a fixed table for people, JSON for programs.  A figure is
 * printed only for a measurement that ran to the end; ratios only when
 * both sides of them did.
 */
#include <stdio.h>

#include "bench.h"

#define MIB	(1024.0 * 1024.0)

bool bench_result_ok(const struct bench_result *r)
{
	/* A zero median (clock too coarse) would make ratios meaningless. */
	return r->state == BENCH_OK && r->stats.samples && r->stats.p50_us > 0 &&
	       r->stats.p99_us > 0;
}

/* MiB/s moved at the median iteration time. */
static double bandwidth_mib_s(const struct bench_result *r)
{
	return (double)r->bytes / MIB / (r->stats.p50_us / 1e6);
}

static bool rate_ok(const struct bench_rate *r)
{
	return r->result.state == BENCH_OK && r->ops && r->seconds > 0;
}

static double rate_per_s(const struct bench_rate *r)
{
	return (double)r->ops / r->seconds;
}

/* ---- Text ---------------------------------------------------------------- */

static void print_rate_row(const char *name, const struct bench_rate *r)
{
	switch (r->result.state) {
	case BENCH_OK:
		printf("%-30s %11.1f ", name, rate_ok(r) ? rate_per_s(r) : 0.0);
		if (r->interrupts_known)
			printf("%15.3f", (double)r->interrupts / (double)r->ops);
		else
			printf("%15s", "unknown");
		printf(" %9llu\n", (unsigned long long)r->ops);
		break;
	case BENCH_SKIPPED:
		printf("%-30s skipped: %s\n", name, r->result.reason);
		break;
	case BENCH_FAILED:
		printf("%-30s FAILED: %s\n", name, r->result.reason);
		break;
	}
}

static void print_rate_ratio(const char *name, const struct bench_rate *a,
			     const struct bench_rate *b)
{
	printf("%-30s ", name);
	if (rate_ok(a) && rate_ok(b))
		printf("%.2f (throughput)\n", rate_per_s(a) / rate_per_s(b));
	else
		printf("n/a (a side was not measured)\n");
}

static void print_depth_text(const struct bench_report *rep)
{
	if (!rep->cfg->depth_ops)
		return;
	printf("\n%-30s %11s %15s %9s\n", "at depth 64", "per second",
	       "interrupts/op", "ops");
	print_rate_row("NOP jobs over all queues", &rep->depth_jobs);
	print_rate_row("jobs over all direct queues", &rep->depth_dq_jobs);
	print_rate_row("NVMe 4 KiB reads (Linux AIO)", &rep->depth_reads);
	print_rate_ratio("ratio kernel-queue jobs / NVMe", &rep->depth_jobs,
			 &rep->depth_reads);
	print_rate_ratio("ratio direct-queue jobs / NVMe", &rep->depth_dq_jobs,
			 &rep->depth_reads);
}

void bench_print_row(const char *name, const struct bench_result *r)
{
	const struct bench_stats *s = &r->stats;

	switch (r->state) {
	case BENCH_OK:
		printf("%-30s %11.2f %11.2f %11.2f %9zu\n", name, s->p50_us,
		       s->p99_us, s->mean_us, s->samples);
		break;
	case BENCH_SKIPPED:
		printf("%-30s skipped: %s\n", name, r->reason);
		break;
	case BENCH_FAILED:
		printf("%-30s FAILED: %s\n", name, r->reason);
		break;
	}
}

void bench_print_ratio(const char *name, const struct bench_result *a,
			const struct bench_result *b, bool latency)
{
	printf("%-30s ", name);
	if (!bench_result_ok(a) || !bench_result_ok(b)) {
		printf("n/a (a side was not measured)\n");
		return;
	}
	if (latency)
		printf("p50 %.2f   p99 %.2f\n", a->stats.p50_us / b->stats.p50_us,
		       a->stats.p99_us / b->stats.p99_us);
	else
		printf("%.3f (bandwidth at p50)\n",
		       bandwidth_mib_s(a) / bandwidth_mib_s(b));
}

/* Interrupts per direct-queue NOP: spinning should take none. */
static void print_irq_line(const struct bench_report *rep)
{
	const struct bench_result *r[] = { &rep->dq_nop, &rep->dq_sleep };

	if (!bench_result_ok(r[0]) && !bench_result_ok(r[1]))
		return;
	printf("%-30s", "interrupts per direct NOP");
	for (int i = 0; i < 2; i++) {
		printf(" %s ", i ? "sleeping" : "spinning");
		if (bench_result_ok(r[i]) && r[i]->interrupts_known)
			printf("%.3f", r[i]->interrupts_per_op);
		else
			printf("n/a");
	}
	printf("\n");
}

void bench_print_text(const struct bench_report *rep)
{
	const struct bench_config *cfg = rep->cfg;

	printf("lumen-bench: %s queue %u, peer %s\n", rep->device_path,
	       cfg->queue, cfg->nvme_path);
	printf("%zu timed runs after %zu warm-up runs; %zu timed copies\n",
	       cfg->iterations, cfg->warmup, cfg->copy_iterations);
	printf("direct queues: libaccel's spin budget %.0f us (sleeping: 0)\n\n",
	       ACCEL_DQ_DEFAULT_SPIN_NS / 1e3);
	printf("%-30s %11s %11s %11s %9s\n", "measurement (microseconds)", "p50",
	       "p99", "mean", "samples");
	bench_print_row("NOP job round trip", &rep->nop);
	bench_print_row("NOP round trip, direct queue", &rep->dq_nop);
	bench_print_row("NOP direct queue, sleeping", &rep->dq_sleep);
	bench_print_row("NVMe 4 KiB O_DIRECT read", &rep->nvme);
	bench_print_row("COPY job 4 MiB sys>dev>sys", &rep->copy);
	bench_print_row("memcpy 4 MiB twice", &rep->memcpy);
	printf("\n");
	if (bench_result_ok(&rep->copy) && bench_result_ok(&rep->memcpy))
		printf("%-30s COPY %.1f MiB/s, memcpy %.1f MiB/s\n",
		       "bandwidth at p50", bandwidth_mib_s(&rep->copy),
		       bandwidth_mib_s(&rep->memcpy));
	print_irq_line(rep);
	bench_print_ratio("ratio NOP / NVMe, kernel queue", &rep->nop, &rep->nvme, true);
	bench_print_ratio("ratio NOP / NVMe, direct queue", &rep->dq_nop, &rep->nvme, true);
	bench_print_ratio("ratio NOP / NVMe, dq sleeping", &rep->dq_sleep, &rep->nvme,
			  true);
	bench_print_ratio("ratio COPY / memcpy", &rep->copy, &rep->memcpy, false);
	print_depth_text(rep);
}

/* ---- JSON ---------------------------------------------------------------- */

void bench_print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void bench_print_result_json(const char *name, const struct bench_result *r,
			      bool last)
{
	const struct bench_stats *s = &r->stats;

	printf("  \"%s\": {", name);
	switch (r->state) {
	case BENCH_OK:
		printf("\"samples\": %zu, \"p50_us\": %.3f, \"p99_us\": %.3f, "
		       "\"mean_us\": %.3f, \"min_us\": %.3f, \"max_us\": %.3f",
		       s->samples, s->p50_us, s->p99_us, s->mean_us, s->min_us,
		       s->max_us);
		if (r->bytes)
			printf(", \"bytes\": %llu, \"bandwidth_mib_s\": %.1f",
			       (unsigned long long)r->bytes, bandwidth_mib_s(r));
		if (r->interrupts_known)
			printf(", \"interrupts_per_op\": %.4f", r->interrupts_per_op);
		break;
	case BENCH_SKIPPED:
	case BENCH_FAILED:
		printf("\"%s\": true, \"reason\": ",
		       r->state == BENCH_SKIPPED ? "skipped" : "failed");
		bench_print_json_string(r->reason);
		break;
	}
	printf("}%s\n", last ? "" : ",");
}

static void print_rate_json(const char *name, const struct bench_rate *r,
			    bool last)
{
	printf("  \"%s\": {", name);
	if (r->result.state == BENCH_OK) {
		printf("\"ops\": %llu, \"seconds\": %.6f, \"per_second\": %.1f, "
		       "\"interrupts_per_op\": ", (unsigned long long)r->ops,
		       r->seconds, rate_ok(r) ? rate_per_s(r) : 0.0);
		if (r->interrupts_known)
			printf("%.4f", (double)r->interrupts / (double)r->ops);
		else
			printf("null");
	} else {
		printf("\"%s\": true, \"reason\": ",
		       r->result.state == BENCH_SKIPPED ? "skipped" : "failed");
		bench_print_json_string(r->result.reason);
	}
	printf("}%s\n", last ? "" : ",");
}

static void print_ratio_json(const char *name, bool ok_both, double value,
			     bool last)
{
	printf("    \"%s\": ", name);
	if (ok_both)
		printf("%.4f", value);
	else
		printf("null");
	printf("%s\n", last ? "" : ",");
}

void bench_print_json(const struct bench_report *rep)
{
	const struct bench_config *cfg = rep->cfg;
	bool lat = bench_result_ok(&rep->nop) && bench_result_ok(&rep->nvme);
	bool bw = bench_result_ok(&rep->copy) && bench_result_ok(&rep->memcpy);
	bool depth = rate_ok(&rep->depth_jobs) && rate_ok(&rep->depth_reads);
	bool dq_lat = bench_result_ok(&rep->dq_nop) && bench_result_ok(&rep->nvme);
	bool dq_sleep = bench_result_ok(&rep->dq_sleep) && bench_result_ok(&rep->nvme);
	bool dq_depth = rate_ok(&rep->depth_dq_jobs) && rate_ok(&rep->depth_reads);

	printf("{\n  \"device\": ");
	bench_print_json_string(rep->device_path);
	printf(",\n  \"queue\": %u,\n  \"iterations\": %zu,\n  \"warmup\": %zu,\n"
	       "  \"copy_iterations\": %zu,\n  \"copy_size\": %u,\n  \"nvme_path\": ",
	       cfg->queue, cfg->iterations, cfg->warmup, cfg->copy_iterations,
	       BENCH_COPY_SIZE);
	bench_print_json_string(cfg->nvme_path);
	printf(",\n  \"dq_spin_ns\": %llu,\n", (unsigned long long)ACCEL_DQ_DEFAULT_SPIN_NS);
	bench_print_result_json("nop", &rep->nop, false);
	bench_print_result_json("dq_nop", &rep->dq_nop, false);
	bench_print_result_json("dq_nop_sleep", &rep->dq_sleep, false);
	bench_print_result_json("nvme", &rep->nvme, false);
	bench_print_result_json("copy", &rep->copy, false);
	bench_print_result_json("memcpy", &rep->memcpy, false);
	if (cfg->depth_ops) {
		print_rate_json("depth_jobs", &rep->depth_jobs, false);
		print_rate_json("depth_reads", &rep->depth_reads, false);
		print_rate_json("depth_dq_jobs", &rep->depth_dq_jobs, false);
	}
	printf("  \"ratios\": {\n");
	print_ratio_json("nop_nvme_p50", lat,
			 lat ? rep->nop.stats.p50_us / rep->nvme.stats.p50_us : 0, false);
	print_ratio_json("nop_nvme_p99", lat,
			 lat ? rep->nop.stats.p99_us / rep->nvme.stats.p99_us : 0, false);
	print_ratio_json("copy_memcpy_bandwidth", bw,
			 bw ? bandwidth_mib_s(&rep->copy) / bandwidth_mib_s(&rep->memcpy) : 0,
			 false);
	print_ratio_json("dq_nop_nvme_p50", dq_lat,
			 dq_lat ? rep->dq_nop.stats.p50_us / rep->nvme.stats.p50_us : 0, false);
	print_ratio_json("dq_nop_nvme_p99", dq_lat,
			 dq_lat ? rep->dq_nop.stats.p99_us / rep->nvme.stats.p99_us : 0, false);
	print_ratio_json("dq_sleep_nvme_p50", dq_sleep,
			 dq_sleep ? rep->dq_sleep.stats.p50_us / rep->nvme.stats.p50_us : 0,
			 false);
	print_ratio_json("dq_sleep_nvme_p99", dq_sleep,
			 dq_sleep ? rep->dq_sleep.stats.p99_us / rep->nvme.stats.p99_us : 0,
			 false);
	print_ratio_json("depth_jobs_reads", depth,
			 depth ? rate_per_s(&rep->depth_jobs) / rate_per_s(&rep->depth_reads) : 0,
			 false);
	print_ratio_json("depth_dq_jobs_reads", dq_depth,
			 dq_depth ? rate_per_s(&rep->depth_dq_jobs) /
				    rate_per_s(&rep->depth_reads) : 0,
			 true);
	printf("  }\n}\n");
}
