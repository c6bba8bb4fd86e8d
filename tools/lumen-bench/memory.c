// SPDX-License-Identifier: MIT
/*
 * Memory management figures (lumen-bench --memory): what a BO's life costs
 * -- create, map with the first touch, free -- at three sizes in system
 * and device memory, and whether a context holding many BOs makes every
 * job slower (a NOP round trip with 10 and with 10,000 live BOs, measured
 * side by side in two files), what an explicit VA binding costs per
 * MiB (VM_BIND of a BIND_BO_SIZE BO, undone untimed), and how many bytes
 * of page tables mapping 1 GiB costs (the file's drm-lumen-pt-bytes in
 * fdinfo before and after binding one BO 1 GiB / BIND_BO_SIZE times at
 * consecutive VAs: a real 1 GiB of VA, no scaling).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define KIB		1024ull
#define MIB		(1024ull * 1024)
#define FEW_BOS		10
#define MANY_BOS	10000
#define LIVE_BO_SIZE	4096
#define LARGE_BO	(256 * MIB)
#define BIND_BO_SIZE	(64 * MIB)
/* Far above the VAs the driver hands out: its own grow from va_start. */
#define BIND_VA_OFFSET	(1ull << 36)
#define GIB		(1024ull * MIB)
/* A 512 GiB slot of the level-2 tables that no BO's own VA reaches. */
#define PT_VA_OFFSET	(1ull << 40)
#define PT_KEY		"drm-lumen-pt-bytes"

/* One BO life cycle: its three parts, timed separately, and the sum. */
enum { PART_CREATE, PART_MAP, PART_FREE, PART_TOTAL, NUM_PARTS };

static const char *const part_names[NUM_PARTS] = {
	[PART_CREATE] = "create", [PART_MAP] = "map+touch",
	[PART_FREE] = "free", [PART_TOTAL] = "total",
};

static const char *const part_keys[NUM_PARTS] = {
	[PART_CREATE] = "create", [PART_MAP] = "map_touch",
	[PART_FREE] = "free", [PART_TOTAL] = "total",
};

struct bo_cycle {
	uint64_t size;		/* what was asked for and measured */
	uint32_t flags;		/* 0 or ACCEL_BO_DEVICE */
	size_t iterations;
	char note[96];		/* why the size differs from the one wanted */
	struct bench_result part[NUM_PARTS];
};

/*
 * One life: accel_bo_create(), accel_bo_map() and the first access to one
 * page (a read that must see zero, then a write: the page fault that
 * really maps it), accel_bo_free() (which also unmaps).  @ns gets the
 * three times.
 */
static int bo_life(struct accel_dev *dev, uint64_t size, uint32_t flags,
		   int64_t ns[3])
{
	struct accel_bo *bo;
	volatile uint8_t *p;
	int64_t t0, t1, t2, t3;
	void *map;
	int err;

	t0 = bench_now_ns();
	err = accel_bo_create(dev, size, flags, &bo);
	t1 = bench_now_ns();
	if (err)
		return err;
	err = accel_bo_map(bo, &map);
	if (!err) {
		p = map;
		if (p[0] != 0)
			err = -EPROTO;	/* a new BO must read zero */
		p[0] = 1;
	}
	t2 = bench_now_ns();
	accel_bo_free(bo);
	t3 = bench_now_ns();
	ns[0] = t1 - t0;
	ns[1] = t2 - t1;
	ns[2] = t3 - t2;
	return err;
}

static void fail_all(struct bo_cycle *c, const char *fmt, int err)
{
	for (int k = 0; k < NUM_PARTS; k++)
		bench_fail(&c->part[k], BENCH_FAILED, fmt, accel_strerror(err));
}

/* @warmup untimed lives, then c->iterations timed ones. */
static void bo_cycle_run(struct accel_dev *dev, struct bo_cycle *c, size_t warmup)
{
	int64_t *ns[NUM_PARTS], t[3];
	int err = 0;
	size_t i;
	int k;

	for (k = 0; k < NUM_PARTS; k++) {
		ns[k] = calloc(c->iterations, sizeof(int64_t));
		if (!ns[k])
			err = -ENOMEM;
	}
	for (i = 0; i < warmup && !err; i++)
		err = bo_life(dev, c->size, c->flags, t);
	for (i = 0; i < c->iterations && !err; i++) {
		err = bo_life(dev, c->size, c->flags, t);
		if (err)
			break;
		for (k = 0; k < 3; k++)
			ns[k][i] = t[k];
		ns[PART_TOTAL][i] = t[0] + t[1] + t[2];
	}
	if (err)
		fail_all(c, "%s", err);
	for (k = 0; k < NUM_PARTS; k++) {
		if (!err)
			bench_stats_compute(ns[k], c->iterations, &c->part[k].stats);
		free(ns[k]);
	}
}

/*
 * The largest BO of @flags up to @want that fits now: device memory may be
 * smaller than @want, or a little of it taken.  Halves until one fits.
 */
static uint64_t largest_fitting(struct accel_dev *dev, uint64_t want, uint32_t flags)
{
	struct accel_bo *bo;

	for (uint64_t size = want; size >= 4 * KIB; size /= 2) {
		if (!accel_bo_create(dev, size, flags, &bo)) {
			accel_bo_free(bo);
			return size;
		}
	}
	return 0;
}

static void format_size(char *buf, size_t len, uint64_t size)
{
	if (size >= MIB && size % MIB == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(size / MIB));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(size / KIB));
}

/* Creates @count BOs of LIVE_BO_SIZE in @dev, kept until the file closes. */
static int create_live_bos(struct accel_dev *dev, size_t count)
{
	struct accel_bo *bo;
	int err;

	for (size_t i = 0; i < count; i++) {
		err = accel_bo_create(dev, LIVE_BO_SIZE, 0, &bo);
		if (err)
			return err;
	}
	return 0;	/* accel_close() frees them with the file */
}

struct memory_report {
	const struct bench_config *cfg;
	const char *path;
	struct bo_cycle cycles[6];
	size_t ncycles;
	struct bench_result few, many;
	struct bench_result bind;	/* per MiB */
	/* Page-table bytes for the first and the second GiB mapped, or error. */
	uint64_t pt_first, pt_second;
	int pt_err;
};

static void run_cycles(struct memory_report *rep, struct accel_dev *dev,
		       const struct accel_info *info)
{
	static const uint64_t sizes[] = { 4 * KIB, 2 * MIB, LARGE_BO };
	static const uint32_t placements[] = { 0, ACCEL_BO_DEVICE };
	const struct bench_config *cfg = rep->cfg;

	for (size_t s = 0; s < 3; s++) {
		for (size_t p = 0; p < 2; p++) {
			struct bo_cycle *c = &rep->cycles[rep->ncycles++];
			char want[32];

			c->size = sizes[s];
			c->flags = placements[p];
			c->iterations = sizes[s] < LARGE_BO ? cfg->memory_iterations :
					cfg->memory_iterations / 20 > 5 ?
					cfg->memory_iterations / 20 : 5;
			if (c->flags && c->size > info->devmem_size / 2) {
				c->size = largest_fitting(dev, c->size, c->flags);
				if (!c->size) {
					fail_all(c, "no device BO fits: %s", -ENOSPC);
					continue;
				}
				format_size(want, sizeof(want), sizes[s]);
				if (c->size != sizes[s])
					snprintf(c->note, sizeof(c->note),
						 "the largest device BO that fit, not %s",
						 want);
			}
			bo_cycle_run(dev, c, cfg->warmup ? 2 : 0);
		}
	}
}

/*
 * NOP round trips in two files side by side, one holding FEW_BOS BOs and
 * the other MANY_BOS (each also holds its command buffer's BO).
 */
static void run_live_bos(struct memory_report *rep)
{
	const struct bench_config *cfg = rep->cfg;
	struct bench_measure few = { .result = &rep->few };
	struct bench_measure many = { .result = &rep->many };
	struct bench_measure *const both[] = { &few, &many };
	struct accel_dev *dev_few = NULL, *dev_many = NULL;
	int err;

	err = accel_open_path(rep->path, &dev_few);
	if (!err)
		err = accel_open_path(rep->path, &dev_many);
	if (!err)
		err = create_live_bos(dev_few, FEW_BOS);
	if (!err)
		err = create_live_bos(dev_many, MANY_BOS);
	if (err) {
		bench_fail(&rep->few, BENCH_FAILED, "setting up: %s", accel_strerror(err));
		bench_fail(&rep->many, BENCH_FAILED, "setting up: %s", accel_strerror(err));
	} else {
		bench_nop_init(&few, dev_few, cfg);
		bench_nop_init(&many, dev_many, cfg);
		bench_run(both, 2, cfg->warmup, cfg->iterations, BENCH_LATENCY_BLOCKS);
		bench_destroy(&many);
		bench_destroy(&few);
	}
	accel_close(dev_many);
	accel_close(dev_few);
}

/* One timed VM_BIND of all of @bo at @va, then an untimed unbind. */
static int bind_once(struct accel_dev *dev, struct accel_bo *bo, uint64_t va, int64_t *ns)
{
	int64_t t0 = bench_now_ns();
	int err = accel_vm_bind(dev, bo, 0, BIND_BO_SIZE, va, 0);

	*ns = bench_now_ns() - t0;
	if (!err)
		err = accel_vm_unbind(dev, va, BIND_BO_SIZE);
	return err;
}

/*
 * VM_BIND cost per MiB, in a file of its own that runs no job, so every
 * unbind frees its VA range at once and the next bind reuses it.  The
 * BO's pages are allocated and pinned by a first, untimed bind.
 */
static void run_bind(struct memory_report *rep)
{
	const struct bench_config *cfg = rep->cfg;
	size_t n = cfg->memory_iterations, i;
	struct accel_dev *dev = NULL;
	struct accel_bo *bo = NULL;
	struct accel_info info;
	int64_t *ns, t;
	int err;

	ns = calloc(n, sizeof(*ns));
	err = ns ? accel_open_path(rep->path, &dev) : -ENOMEM;
	if (!err)
		err = accel_query(dev, &info);
	if (!err)
		err = accel_bo_create(dev, BIND_BO_SIZE, 0, &bo);
	for (i = 0; i < cfg->warmup + 1 && !err; i++)
		err = bind_once(dev, bo, info.va_start + BIND_VA_OFFSET, &t);
	for (i = 0; i < n && !err; i++) {
		err = bind_once(dev, bo, info.va_start + BIND_VA_OFFSET, &t);
		ns[i] = t / (int64_t)(BIND_BO_SIZE / MIB);
	}
	if (err)
		bench_fail(&rep->bind, BENCH_FAILED, "VM_BIND: %s", accel_strerror(err));
	else
		bench_stats_compute(ns, n, &rep->bind.stats);
	accel_bo_free(bo);
	accel_close(dev);
	free(ns);
}

/* The file's drm-lumen-pt-bytes from /proc/self/fdinfo: 0 or -errno. */
static int read_pt_bytes(struct accel_dev *dev, uint64_t *val)
{
	char path[64], line[256];
	size_t len = strlen(PT_KEY);
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", accel_fd(dev));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, PT_KEY, len) && line[len] == ':') {
			*val = strtoull(line + len + 1, NULL, 10);
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

/* Binds all of @bo at [@va, @va + 1 GiB); *@bytes: page tables it added. */
static int map_gib(struct accel_dev *dev, struct accel_bo *bo, uint64_t va, uint64_t *bytes)
{
	uint64_t before, after;
	int err = read_pt_bytes(dev, &before);

	for (uint64_t off = 0; !err && off < GIB; off += BIND_BO_SIZE)
		err = accel_vm_bind(dev, bo, 0, BIND_BO_SIZE, va + off, 0);
	if (!err)
		err = read_pt_bytes(dev, &after);
	if (!err)
		*bytes = after - before;
	return err;
}

/*
 * Page-table overhead, in a file of its own: 1 GiB at the start of an
 * unused 512 GiB slot (a level-2 table is new too), then the next GiB.
 */
static void run_pt(struct memory_report *rep)
{
	struct accel_dev *dev = NULL;
	struct accel_bo *bo = NULL;
	struct accel_info info;
	int err;

	err = accel_open_path(rep->path, &dev);
	if (!err)
		err = accel_query(dev, &info);
	if (!err)
		err = accel_bo_create(dev, BIND_BO_SIZE, 0, &bo);
	if (!err && info.va_end < info.va_start + PT_VA_OFFSET + 2 * GIB)
		err = -ENOSPC;
	if (!err)
		err = map_gib(dev, bo, info.va_start + PT_VA_OFFSET, &rep->pt_first);
	if (!err)
		err = map_gib(dev, bo, info.va_start + PT_VA_OFFSET + GIB, &rep->pt_second);
	rep->pt_err = err;
	accel_bo_free(bo);	/* the bindings go with the file */
	accel_close(dev);
}

/* ---- Output ---------------------------------------------------------------- */

static const char *placement(const struct bo_cycle *c)
{
	return c->flags & ACCEL_BO_DEVICE ? "dev" : "sys";
}

static void print_text(const struct memory_report *rep)
{
	const struct bench_config *cfg = rep->cfg;

	printf("lumen-bench --memory: %s queue %u\n", rep->path, cfg->queue);
	printf("BO life cycles: %zu timed runs per size (fewer for the largest) "
	       "after %d warm-up runs; %zu timed NOP jobs per file after %zu warm-up runs\n\n",
	       cfg->memory_iterations, cfg->warmup ? 2 : 0, cfg->iterations, cfg->warmup);
	printf("%-30s %11s %11s %11s %9s\n", "measurement (microseconds)", "p50",
	       "p99", "mean", "samples");
	for (size_t i = 0; i < rep->ncycles; i++) {
		const struct bo_cycle *c = &rep->cycles[i];
		char size[32], name[64];

		format_size(size, sizeof(size), c->size);
		for (int k = 0; k < NUM_PARTS; k++) {
			snprintf(name, sizeof(name), "BO %s %s %s", size, placement(c),
				 part_names[k]);
			bench_print_row(name, &c->part[k]);
		}
		if (c->note[0])
			printf("%-30s (%s)\n", "", c->note);
	}
	bench_print_row("NOP, 10 live BOs", &rep->few);
	bench_print_row("NOP, 10000 live BOs", &rep->many);
	bench_print_row("VM_BIND 64 MiB sys, per MiB", &rep->bind);
	printf("\n");
	bench_print_ratio("ratio NOP 10000 / 10 BOs", &rep->many, &rep->few, true);
	if (rep->pt_err) {
		printf("page-table bytes per GiB mapped: FAILED (%s)\n",
		       accel_strerror(rep->pt_err));
		return;
	}
	printf("page-table bytes per GiB mapped: %" PRIu64 " (%" PRIu64
	       " tables of 4 KiB) for the first GiB of a 512 GiB slot, %" PRIu64
	       " (%" PRIu64 " tables) for the next GiB\n", rep->pt_first,
	       rep->pt_first / 4096, rep->pt_second, rep->pt_second / 4096);
}

static void print_json(const struct memory_report *rep)
{
	const struct bench_config *cfg = rep->cfg;
	bool both = bench_result_ok(&rep->many) && bench_result_ok(&rep->few);

	printf("{\n  \"device\": ");
	bench_print_json_string(rep->path);
	printf(",\n  \"queue\": %u,\n  \"memory_iterations\": %zu,\n"
	       "  \"iterations\": %zu,\n  \"warmup\": %zu,\n", cfg->queue,
	       cfg->memory_iterations, cfg->iterations, cfg->warmup);
	for (size_t i = 0; i < rep->ncycles; i++) {
		const struct bo_cycle *c = &rep->cycles[i];
		char key[64];

		for (int k = 0; k < NUM_PARTS; k++) {
			snprintf(key, sizeof(key), "bo_%llu_%s_%s",
				 (unsigned long long)c->size,
				 c->flags ? "device" : "system", part_keys[k]);
			bench_print_result_json(key, &c->part[k], false);
		}
	}
	bench_print_result_json("nop_10_bos", &rep->few, false);
	bench_print_result_json("nop_10000_bos", &rep->many, false);
	bench_print_result_json("vm_bind_system_per_mib", &rep->bind, false);
	if (rep->pt_err)
		printf("  \"pt_bytes_first_gib\": null,\n  \"pt_bytes_next_gib\": null,\n");
	else
		printf("  \"pt_bytes_first_gib\": %" PRIu64 ",\n  \"pt_bytes_next_gib\": %"
		       PRIu64 ",\n", rep->pt_first, rep->pt_second);
	printf("  \"ratios\": {\n");
	printf("    \"nop_10000_10_bos_p50\": ");
	if (both)
		printf("%.4f,\n", rep->many.stats.p50_us / rep->few.stats.p50_us);
	else
		printf("null,\n");
	printf("    \"nop_10000_10_bos_p99\": ");
	if (both)
		printf("%.4f\n", rep->many.stats.p99_us / rep->few.stats.p99_us);
	else
		printf("null\n");
	printf("  }\n}\n");
}

static bool any_failed(const struct memory_report *rep)
{
	for (size_t i = 0; i < rep->ncycles; i++)
		for (int k = 0; k < NUM_PARTS; k++)
			if (rep->cycles[i].part[k].state == BENCH_FAILED)
				return true;
	return rep->few.state == BENCH_FAILED || rep->many.state == BENCH_FAILED ||
	       rep->bind.state == BENCH_FAILED || rep->pt_err;
}

int bench_memory(struct accel_dev *dev, const struct accel_info *info,
		 const struct bench_config *cfg)
{
	struct memory_report *rep;
	int failed;

	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		fprintf(stderr, "lumen-bench: %s\n", strerror(ENOMEM));
		return 1;
	}
	rep->cfg = cfg;
	rep->path = info->path;
	run_cycles(rep, dev, info);
	run_live_bos(rep);
	run_bind(rep);
	run_pt(rep);
	if (cfg->json)
		print_json(rep);
	else
		print_text(rep);
	failed = any_failed(rep);
	free(rep);
	return failed;
}
