// SPDX-License-Identifier: MIT
/*
 * The peers, measured in the same guest in the same run: QEMU's NVMe
 * controller driven by Linux's nvme driver for a doorbell -> completion ->
 * MSI-X round trip, and the CPU's memcpy() for bandwidth.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

/* The C library's text for a -errno of a system call. */
static const char *os_strerror(int err)
{
	return strerror(-err);
}

struct nvme_read {
	int fd;
	void *buf;
};

/*
 * O_DIRECT: no page cache, so every read is a real NVMe command: the driver
 * writes a submission queue entry, rings the doorbell, QEMU completes it
 * and raises MSI-X, and the driver wakes us.
 */
static int nvme_step(void *ctx)
{
	struct nvme_read *r = ctx;
	ssize_t n;

	n = pread(r->fd, r->buf, BENCH_NVME_BLOCK, 0);
	if (n < 0)
		return -errno;
	return n == BENCH_NVME_BLOCK ? 0 : -EIO;
}

static void nvme_destroy(void *ctx)
{
	struct nvme_read *r = ctx;

	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}

static const struct bench_ops nvme_ops = {
	.step = nvme_step,
	.destroy = nvme_destroy,
	.strerror = os_strerror,
};

void bench_nvme_init(struct bench_measure *m, const struct bench_config *cfg)
{
	struct nvme_read *r;
	struct stat st;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r) {
		bench_fail(m->result, BENCH_FAILED, "%s", strerror(ENOMEM));
		return;
	}
	r->fd = open(cfg->nvme_path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (r->fd < 0) {
		err = errno;
		/* Absent: skipped, never a made-up figure. */
		bench_fail(m->result, err == ENOENT || err == ENXIO || err == ENODEV ?
			   BENCH_SKIPPED : BENCH_FAILED, "%s: %s", cfg->nvme_path,
			   strerror(err));
		goto err;
	}
	if (fstat(r->fd, &st) || !S_ISBLK(st.st_mode)) {
		bench_fail(m->result, BENCH_FAILED, "%s is not a block device",
			   cfg->nvme_path);
		goto err;
	}
	err = posix_memalign(&r->buf, BENCH_NVME_BLOCK, BENCH_NVME_BLOCK);
	if (err) {
		r->buf = NULL;
		bench_fail(m->result, BENCH_FAILED, "%s", strerror(err));
		goto err;
	}
	m->ops = &nvme_ops;
	m->ctx = r;
	return;
err:
	nvme_destroy(r);
}

struct memcpy_bufs {
	uint8_t *src, *mid, *dst;
};

/* The same bytes the COPY job moves: src -> mid -> dst, 4 MiB each way. */
static int memcpy_step(void *ctx)
{
	struct memcpy_bufs *b = ctx;

	memcpy(b->mid, b->src, BENCH_COPY_SIZE);
	memcpy(b->dst, b->mid, BENCH_COPY_SIZE);
	/* Keep the compiler from dropping copies nobody reads. */
	__asm__ volatile("" : : "r"(b->dst), "r"(b->mid) : "memory");
	return 0;
}

static int memcpy_finish(void *ctx)
{
	struct memcpy_bufs *b = ctx;

	return memcmp(b->src, b->dst, BENCH_COPY_SIZE) ? -EIO : 0;
}

static void memcpy_destroy(void *ctx)
{
	struct memcpy_bufs *b = ctx;

	free(b->dst);
	free(b->mid);
	free(b->src);
	free(b);
}

static const struct bench_ops memcpy_ops = {
	.step = memcpy_step,
	.finish = memcpy_finish,
	.destroy = memcpy_destroy,
	.strerror = os_strerror,
};

void bench_memcpy_init(struct bench_measure *m, const struct bench_config *cfg)
{
	struct memcpy_bufs *b;

	(void)cfg;
	m->result->bytes = 2ull * BENCH_COPY_SIZE;
	b = calloc(1, sizeof(*b));
	if (!b || posix_memalign((void **)&b->src, 4096, BENCH_COPY_SIZE) ||
	    posix_memalign((void **)&b->mid, 4096, BENCH_COPY_SIZE) ||
	    posix_memalign((void **)&b->dst, 4096, BENCH_COPY_SIZE)) {
		bench_fail(m->result, BENCH_FAILED, "%s", strerror(ENOMEM));
		if (b)
			memcpy_destroy(b);
		return;
	}
	/* Touch every page first: page faults are not part of memcpy. */
	memset(b->src, 0x5a, BENCH_COPY_SIZE);
	memset(b->mid, 0, BENCH_COPY_SIZE);
	memset(b->dst, 0, BENCH_COPY_SIZE);
	m->ops = &memcpy_ops;
	m->ctx = b;
}
