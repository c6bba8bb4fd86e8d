// SPDX-License-Identifier: MIT
/*
 * lumen-demo: push a buffer through the device's memory and back.
 *
 * Fills a system-memory buffer with pseudo-random bytes, copies it into a
 * device-memory buffer and from there into a second system-memory buffer
 * with two COPY jobs (the second, on another queue, waits for the first
 * through a fence), and checks the result byte for byte.  Every address in
 * a command is the device VA the driver gave the buffer at creation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <accel/accel.h>

#define TIMEOUT_NS (10LL * 1000 * 1000 * 1000)

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(seed >> 56);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "lumen-demo: %s: %s\n", what, accel_strerror(err));
	return 1;
}

/* The outcome of the job that signals @done: 0, or its error. */
static int job_result(struct accel_fence *done)
{
	int err = accel_fence_wait(done, TIMEOUT_NS);

	if (err)
		return err;
	/* Finished is not succeeded: 1 is success, < 0 the job's error. */
	err = accel_fence_status(done);
	return err == 1 ? 0 : err < 0 ? err : -EPROTO;
}

/*
 * Copies @size bytes src -> dev -> dst as two jobs chained by a fence; each
 * has its own command buffer, as the device reads it while the job runs.
 */
static int round_trip(struct accel_dev *dev, struct accel_bo *src,
		      struct accel_bo *devbo, struct accel_bo *dst, uint64_t size)
{
	const struct accel_bo *in_bos[] = { src, devbo }, *out_bos[] = { devbo, dst };
	struct accel_cmdbuf *in_cb = NULL, *out_cb = NULL;
	struct accel_fence *in = NULL, *out = NULL;
	struct accel_info info;
	int err, err2;

	err = accel_query(dev, &info);
	if (!err)
		err = accel_cmdbuf_create(dev, 4096, &in_cb);
	if (!err)
		err = accel_cmdbuf_create(dev, 4096, &out_cb);
	if (!err)
		err = accel_fence_create(dev, &in);
	if (!err)
		err = accel_fence_create(dev, &out);
	if (!err)
		err = accel_cmd_copy(in_cb, accel_bo_va(devbo), accel_bo_va(src), size);
	if (!err)
		err = accel_cmd_copy(out_cb, accel_bo_va(dst), accel_bo_va(devbo), size);
	if (!err)
		err = accel_submit(dev, 0, in_cb, in_bos, 2, NULL, in);
	if (err)
		goto out;
	err = accel_submit(dev, info.num_queues > 1 ? 1 : 0, out_cb,
			   out_bos, 2, in, out);
	if (!err)
		err = job_result(out);
	/* Also when the second job failed: the first must end before its buffers. */
	err2 = job_result(in);
	if (!err)
		err = err2;
out:
	accel_fence_free(out);
	accel_fence_free(in);
	accel_cmdbuf_free(out_cb);
	accel_cmdbuf_free(in_cb);
	return err;
}

int main(int argc, char **argv)
{
	uint64_t size = argc > 1 ? strtoull(argv[1], NULL, 0) : 16 << 20;
	uint64_t seed = (uint64_t)time(NULL);
	struct accel_bo *src = NULL, *devbo = NULL, *dst = NULL;
	struct accel_dev *dev;
	void *psrc, *pdst;
	double t;
	int err;

	err = accel_open(0, &dev);
	if (err)
		return fail("open accel device 0", err);
	err = accel_bo_create(dev, size, 0, &src);
	if (!err)
		err = accel_bo_create(dev, size, ACCEL_BO_DEVICE, &devbo);
	if (!err)
		err = accel_bo_create(dev, size, 0, &dst);
	if (!err)
		err = accel_bo_map(src, &psrc);
	if (!err)
		err = accel_bo_map(dst, &pdst);
	if (err)
		return fail("create buffers", err);

	fill_random(psrc, size, seed);
	t = now_s();
	err = round_trip(dev, src, devbo, dst, size);
	t = now_s() - t;
	if (err)
		return fail("copy jobs", err);
	if (memcmp(psrc, pdst, size)) {
		fprintf(stderr, "lumen-demo: data differs after the round trip (seed %" PRIu64 ")\n", seed);
		return 1;
	}
	printf("copied %" PRIu64 " bytes system -> device -> system in %.2f ms, checked: OK\n",
	       size, t * 1e3);
	accel_bo_free(dst);
	accel_bo_free(devbo);
	accel_bo_free(src);
	accel_close(dev);
	return 0;
}
