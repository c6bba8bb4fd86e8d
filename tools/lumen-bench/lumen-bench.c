// SPDX-License-Identifier: MIT
/*
 * lumen-bench: the device's job round trip (through the kernel's queues
 * and through a direct queue) and copy bandwidth, each as a ratio against
 * a peer measured in the same machine in the same run; with
 * --memory, the cost of buffer objects instead (memory.c).
 * Documentation/benchmarks.rst explains the method.
 *
 * Exit status: 0 if every measurement that was not skipped succeeded,
 * 1 otherwise, 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define PROG			"lumen-bench"
#define MAX_ITERATIONS		10000000

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [options]\n"
		"  -n, --iterations N       timed NOP jobs and NVMe reads (default 1000)\n"
		"  -w, --warmup N           untimed runs before them (default N/10, at least 10)\n"
		"  -c, --copy-iterations N  timed 4 MiB copies (default 100)\n"
		"  -t, --depth-ops N        NOP jobs and NVMe reads at depth 64 (default\n"
		"                           4000 each; 0: no throughput figures)\n"
		"  -d, --device I           /dev/accel/accelI (default: the first lumen device)\n"
		"  -q, --queue Q            hardware queue to submit to (default 0); the\n"
		"                           direct-queue NOPs run on its engine\n"
		"      --nvme PATH          the NVMe peer (default /dev/nvme0n1)\n"
		"  -m, --memory             only the memory figures: BO create/map/free,\n"
		"                           NOP jobs with 10 and 10,000 live BOs,\n"
		"                           VM_BIND cost per MiB\n"
		"      --memory-iterations N  timed BO life cycles per size (default 100)\n"
		"  -j, --json               print JSON\n"
		"  -h, --help               print this help\n");
}

/* Parses a whole decimal number in [min, max] into *@value. */
static bool parse_number(const char *arg, long min, long max, long *value)
{
	char *end;

	errno = 0;
	*value = strtol(arg, &end, 10);
	return !errno && end != arg && !*end && *value >= min && *value <= max;
}

static int parse_options(int argc, char **argv, struct bench_config *cfg)
{
	static const struct option options[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "copy-iterations", required_argument, NULL, 'c' },
		{ "depth-ops", required_argument, NULL, 't' },
		{ "device", required_argument, NULL, 'd' },
		{ "queue", required_argument, NULL, 'q' },
		{ "nvme", required_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "memory", no_argument, NULL, 'm' },
		{ "memory-iterations", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	long warmup = -1, value;
	int opt;

	while ((opt = getopt_long(argc, argv, "n:w:c:t:d:q:jmh", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!parse_number(optarg, 1, MAX_ITERATIONS, &value))
				goto bad;
			cfg->iterations = (size_t)value;
			break;
		case 'w':
			if (!parse_number(optarg, 0, MAX_ITERATIONS, &warmup))
				goto bad;
			break;
		case 'c':
			if (!parse_number(optarg, 1, MAX_ITERATIONS, &value))
				goto bad;
			cfg->copy_iterations = (size_t)value;
			break;
		case 't':
			if (!parse_number(optarg, 0, MAX_ITERATIONS, &value))
				goto bad;
			cfg->depth_ops = (size_t)value;
			break;
		case 'd':
			if (!parse_number(optarg, 0, INT_MAX, &value))
				goto bad;
			cfg->device = (int)value;
			break;
		case 'q':
			if (!parse_number(optarg, 0, UINT_MAX, &value))
				goto bad;
			cfg->queue = (unsigned int)value;
			break;
		case 'N':
			cfg->nvme_path = optarg;
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'm':
			cfg->memory = true;
			break;
		case 'M':
			if (!parse_number(optarg, 1, MAX_ITERATIONS, &value))
				goto bad;
			cfg->memory_iterations = (size_t)value;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	cfg->warmup = warmup >= 0 ? (size_t)warmup :
		      cfg->iterations / 10 > 10 ? cfg->iterations / 10 : 10;
	return 0;

bad:
	fprintf(stderr, PROG ": invalid value '%s' for option -%c\n", optarg, opt);
	return -EINVAL;
}

static int open_device(const struct bench_config *cfg, struct accel_dev **dev)
{
	int index = cfg->device, count, err;

	if (index < 0) {
		count = accel_list(&index, 1);
		if (count < 0) {
			fprintf(stderr, PROG ": cannot list devices: %s\n",
				accel_strerror(count));
			return count;
		}
		if (!count) {
			fprintf(stderr, PROG ": no lumen device found (is lumen.ko loaded?)\n");
			return -ENODEV;
		}
	}
	err = accel_open(index, dev);
	if (err)
		fprintf(stderr, PROG ": cannot open /dev/accel/accel%d: %s\n", index,
			accel_strerror(err));
	return err;
}

int main(int argc, char **argv)
{
	struct bench_config cfg = {
		.device = -1,
		.iterations = 1000,
		.copy_iterations = 100,
		.depth_ops = 4000,
		.nvme_path = "/dev/nvme0n1",
		.memory_iterations = 100,
	};
	struct bench_report report = { .cfg = &cfg };
	struct bench_measure nop = { .result = &report.nop };
	struct bench_measure nvme = { .result = &report.nvme };
	struct bench_measure copy = { .result = &report.copy };
	struct bench_measure mcpy = { .result = &report.memcpy };
	struct bench_measure dq_nop = { .result = &report.dq_nop };
	struct bench_measure dq_sleep = { .result = &report.dq_sleep };
	struct bench_measure *const latency[] = { &nop, &nvme, &dq_nop, &dq_sleep };
	struct bench_measure *const bandwidth[] = { &copy, &mcpy };
	struct accel_info info;
	struct accel_dev *dev;
	int err;

	if (parse_options(argc, argv, &cfg))
		return 2;
	if (open_device(&cfg, &dev))
		return 1;
	err = accel_query(dev, &info);
	if (err) {
		fprintf(stderr, PROG ": cannot query the device: %s\n", accel_strerror(err));
		accel_close(dev);
		return 1;
	}
	report.device_path = info.path;
	if (cfg.queue >= info.num_queues) {
		fprintf(stderr, PROG ": %s has queues 0 to %u, not %u\n", info.path,
			info.num_queues - 1, cfg.queue);
		accel_close(dev);
		return 2;
	}
	if (cfg.memory) {
		err = bench_memory(dev, &info, &cfg);
		accel_close(dev);
		return err;
	}

	/*
	 * Each pair is measured side by side, so whatever disturbs the
	 * machine during the run weighs on a measurement and its peer alike.
	 */
	bench_nop_init(&nop, dev, &cfg);
	bench_nvme_init(&nvme, &cfg);
	bench_dq_nop_init(&dq_nop, dev, &info, &cfg, false);
	bench_dq_nop_init(&dq_sleep, dev, &info, &cfg, true);
	bench_run(latency, 4, cfg.warmup, cfg.iterations, BENCH_LATENCY_BLOCKS);
	bench_destroy(&dq_sleep);
	bench_destroy(&dq_nop);
	bench_destroy(&nvme);
	bench_destroy(&nop);

	bench_copy_init(&copy, dev, &cfg);
	bench_memcpy_init(&mcpy, &cfg);
	bench_run(bandwidth, 2, cfg.warmup ? 2 : 0, cfg.copy_iterations,
		  BENCH_BANDWIDTH_BLOCKS);
	bench_destroy(&mcpy);
	bench_destroy(&copy);

	if (cfg.depth_ops)
		bench_depth(dev, &info, &cfg, &report.depth_jobs, &report.depth_reads,
			    &report.depth_dq_jobs);
	accel_close(dev);

	if (cfg.json)
		bench_print_json(&report);
	else
		bench_print_text(&report);

	return report.nop.state == BENCH_FAILED || report.nvme.state == BENCH_FAILED ||
	       report.copy.state == BENCH_FAILED || report.memcpy.state == BENCH_FAILED ||
	       report.depth_jobs.result.state == BENCH_FAILED ||
	       report.depth_reads.result.state == BENCH_FAILED ||
	       report.dq_nop.state == BENCH_FAILED || report.dq_sleep.state == BENCH_FAILED ||
	       report.depth_dq_jobs.result.state == BENCH_FAILED;
}
