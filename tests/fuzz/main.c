// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lumen-fuzz: run several fuzzing processes against one lumen device for a
 * fixed time, then prove the device still works.  Output is KTAP:
 *
 *   ok 1 lumen-fuzz: no unexpected result   every answer was documented
 *   ok 2 lumen-fuzz: workers finished       none crashed or hung
 *   ok 3 lumen-fuzz: device still works     a copy job after the storm
 *
 * Usage: lumen-fuzz [--seed S] [--seconds T] [--procs N] [--ops N]
 *                   [--device PATH] [--verbose]
 *
 * The seed (printed first) fixes every worker's sequence of operations:
 * the same seed and --procs replay the same streams (their interleaving,
 * being up to the scheduler, varies).  --ops stops each worker after N
 * operations instead of at the deadline, for an exact replay of one worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define PAGE	4096

struct options {
	uint64_t seed;
	unsigned int seconds;
	unsigned int procs;
	uint64_t ops;
	const char *device;
	bool verbose;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t fresh_seed(void)
{
	uint64_t seed = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, &seed, sizeof(seed)) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (fd >= 0)
		close(fd);
	return seed;
}

static void usage(void)
{
	fprintf(stderr, "usage: lumen-fuzz [--seed S] [--seconds T] [--procs N] [--ops N]\n"
			"                  [--device PATH] [--verbose]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "procs", required_argument, NULL, 'p' },
		{ "ops", required_argument, NULL, 'n' },
		{ "device", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	bool seeded = false;
	char *end;
	int c;

	*o = (struct options){ .seconds = 60, .procs = 4, .device = "/dev/accel/accel0" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 's':
			o->seed = strtoull(optarg, &end, 0);
			seeded = true;
			break;
		case 't':
			o->seconds = (unsigned int)strtoul(optarg, &end, 0);
			break;
		case 'p':
			o->procs = (unsigned int)strtoul(optarg, &end, 0);
			break;
		case 'n':
			o->ops = strtoull(optarg, &end, 0);
			break;
		case 'd':
			o->device = optarg;
			continue;
		case 'v':
			o->verbose = true;
			continue;
		default:
			usage();
		}
		if (errno || *end || end == optarg)
			usage();
	}
	if (optind != argc || !o->procs || o->procs > 64)
		usage();
	if (!seeded)
		o->seed = fresh_seed();
}

/* The pages jobs' command arrays end in, then a page nobody may touch. */
static void *guard_page(void)
{
	char *p = mmap(NULL, (FZ_CMD_PAGES + 1) * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + FZ_CMD_PAGES * PAGE, PAGE, PROT_NONE))
		return NULL;
	return p + FZ_CMD_PAGES * PAGE;
}

static int worker_main(const struct options *o, unsigned int id, struct fz_stats *stats)
{
	struct fz_worker w = {
		.id = id, .path = o->device, .fd = -1, .stats = stats, .verbose = o->verbose,
	};
	double deadline = now_s() + o->seconds;
	uint64_t n;
	int ret;

	/* Each worker's stream: the seed mixed with its number. */
	w.rng.state = o->seed ^ (0x9e3779b97f4a7c15ull * (id + 1));
	fz_next(&w.rng);
	w.guard = guard_page();
	ret = fz_open(&w);
	if (!w.guard || ret) {
		printf("# worker %u: cannot open %s: %s\n", id, o->device, strerror(-ret));
		return 2;
	}
	for (n = 0; o->ops ? n < o->ops : now_s() < deadline; n++)
		fz_step(&w);
	fz_teardown(&w);
	return 0;
}

/* ---- After the storm: one copy job must still work -------------------------- */

static int bo_create(int fd, uint64_t size, uint32_t flags, uint64_t *va, void **map)
{
	struct drm_lumen_bo_create create = { .size = size, .flags = flags };
	struct drm_lumen_bo_mmap_offset off = { 0 };
	int ret;

	ret = fz_ioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &create);
	if (ret)
		return ret;
	*va = create.va;
	off.handle = create.handle;
	ret = fz_ioctl(fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &off);
	if (ret)
		return ret;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off.offset);
	return *map == MAP_FAILED ? -errno : 0;
}

/* System -> device -> system, then compare: 0, -EIO on a mismatch, -errno. */
static int device_works(const char *path, uint64_t seed)
{
	const uint64_t size = 1 << 20;
	struct fz_rng rng = { seed };
	struct drm_syncobj_create sync = { 0 };
	struct drm_lumen_submit submit = { .cmdbuf_size = 2 * sizeof(struct fz_cmd) };
	struct drm_syncobj_wait wait = { .count_handles = 1 };
	uint64_t src, mid, dst, cb;
	uint8_t *in, *out;
	struct fz_cmd *cmds;
	void *unused;
	int fd, ret;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = bo_create(fd, size, 0, &src, (void **)&in);
	if (!ret)
		ret = bo_create(fd, size, DRM_LUMEN_BO_DEVICE, &mid, &unused);
	if (!ret)
		ret = bo_create(fd, size, 0, &dst, (void **)&out);
	if (!ret)
		ret = bo_create(fd, 4096, 0, &cb, (void **)&cmds);
	if (!ret)
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sync);
	if (ret)
		goto out;
	for (uint64_t i = 0; i < size; i += 8) {
		uint64_t v = fz_next(&rng);

		memcpy(in + i, &v, 8);
	}
	cmds[0] = (struct fz_cmd){ .header = LUMEN_OP_COPY, .args = { src, mid, size } };
	cmds[1] = (struct fz_cmd){ .header = LUMEN_OP_COPY, .args = { mid, dst, size } };
	submit.cmdbuf_va = cb;
	submit.out_syncobj = sync.handle;
	ret = fz_ioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &submit);
	if (ret)
		goto out;
	wait.handles = (uintptr_t)&sync.handle;
	wait.timeout_nsec = INT64_MAX;
	ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &wait);
	if (!ret && memcmp(in, out, size))
		ret = -EIO;
out:
	close(fd);	/* the mappings go with the process */
	return ret;
}

static void print_stats(const struct fz_stats *s, double secs)
{
	printf("# %-14s %10s %10s\n", "operation", "calls", "succeeded");
	for (unsigned int op = 0; op < FZ_OP_COUNT; op++)
		printf("# %-14s %10" PRIu64 " %10" PRIu64 "\n", fz_op_name(op),
		       s->op[op].calls, s->op[op].ok);
	printf("# lumen-fuzz: %" PRIu64 " operations in %.0f s (%.0f/s), %" PRIu64
	       " forked children, %" PRIu64 " unexpected results\n",
	       s->ops, secs, secs > 0 ? s->ops / secs : 0.0, s->children, s->unexpected);
}

int main(int argc, char **argv)
{
	struct options o;
	struct fz_stats *stats;
	unsigned int i, crashed = 0;
	pid_t *pids;
	double start;
	int ret;

	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..3\n");
	printf("# lumen-fuzz: seed 0x%016" PRIx64 ", %u processes, %s %" PRIu64 "%s\n", o.seed,
	       o.procs, o.ops ? "ops" : "seconds", o.ops ? o.ops : (uint64_t)o.seconds,
	       o.ops ? " each" : "");
	printf("# replay: lumen-fuzz --seed 0x%016" PRIx64 " --procs %u --%s %" PRIu64 "\n",
	       o.seed, o.procs, o.ops ? "ops" : "seconds", o.ops ? o.ops : (uint64_t)o.seconds);

	/* Counters every worker (and its children) adds to. */
	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	pids = calloc(o.procs, sizeof(*pids));
	if (stats == MAP_FAILED || !pids) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	memset(stats, 0, sizeof(*stats));

	start = now_s();
	for (i = 0; i < o.procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(worker_main(&o, i, stats));
		if (pids[i] < 0) {
			printf("Bail out! fork: %s\n", strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < o.procs; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) < 0)
			status = -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# worker %u: %s %d\n", i,
			       WIFSIGNALED(status) ? "killed by signal" : "exited with status",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			crashed++;
		}
	}
	print_stats(stats, now_s() - start);

	printf("%s 1 lumen-fuzz: no unexpected result\n", stats->unexpected ? "not ok" : "ok");
	printf("%s 2 lumen-fuzz: workers finished\n", crashed ? "not ok" : "ok");
	ret = device_works(o.device, o.seed);
	if (ret)
		printf("# the device failed a copy job after fuzzing: %s\n", strerror(-ret));
	printf("%s 3 lumen-fuzz: device still works\n", ret ? "not ok" : "ok");
	return stats->unexpected || crashed || ret ? 1 : 0;
}
