// SPDX-License-Identifier: MIT
/*
 * lumen-digits: classifies the held-out 20% of the digit set on the Lumen
 * device (GEMM + bias + ReLU, GEMM + bias, softmax; weights in device
 * memory) and with the CPU reference, and compares them.
 *
 *   lumen-digits [-w WEIGHTS] [-d DATASET] [-D DEVICE] [-q QUEUE] [-b BATCH] [-t SECONDS]
 *
 * Prints both accuracies, images/s of each, how many predictions agree and
 * the largest probability difference.  Exit status 0 when every prediction
 * agrees, 1 when one differs or something failed, 2 for a usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "digits.h"
#include "infer.h"
#include "weights.h"

#define SHARE_DIR	"/usr/share/lumen/digits"

struct options {
	const char *weights, *data, *device;
	unsigned int queue;
	size_t batch;		/* 0: the whole set in one job */
	double seconds;		/* how long each throughput measurement runs */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One pass over @set on the device in batches of @batch; 0 or -errno. */
static int device_pass(struct mlp_device *md, const struct digits_set *set, size_t batch,
		       float *probs)
{
	size_t i, n;
	int ret;

	for (i = 0; i < set->count; i += n) {
		n = set->count - i < batch ? set->count - i : batch;
		ret = mlp_device_forward(md, set->pixels + i * DIGITS_PIXELS, n,
					 probs + i * DIGITS_CLASSES);
		if (ret)
			return ret;
	}
	return 0;
}

static double accuracy(const struct digits_set *set, const float *probs)
{
	size_t i, right = 0;

	for (i = 0; i < set->count; i++)
		right += mlp_argmax(probs + i * DIGITS_CLASSES, DIGITS_CLASSES) == set->labels[i];
	return (double)right / (double)set->count;
}

static int open_device(const char *path, struct accel_dev **dev)
{
	int idx[ACCEL_MAX_DEVICES], count;

	if (path)
		return accel_open_path(path, dev);
	count = accel_list(idx, ACCEL_MAX_DEVICES);
	if (count < 0)
		return count;
	if (count == 0)
		return -ENODEV;
	return accel_open(idx[0], dev);
}

static int usage(void)
{
	fprintf(stderr, "usage: lumen-digits [-w WEIGHTS] [-d DATASET] [-D DEVICE] [-q QUEUE] "
		"[-b BATCH] [-t SECONDS]\n");
	return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
	char *end;
	int opt;

	*o = (struct options){
		.weights = SHARE_DIR "/digits.weights",
		.data = SHARE_DIR "/digits.csv.gz",
		.seconds = 1.0,
	};
	while ((opt = getopt(argc, argv, "w:d:D:q:b:t:")) != -1) {
		switch (opt) {
		case 'w':
			o->weights = optarg;
			break;
		case 'd':
			o->data = optarg;
			break;
		case 'D':
			o->device = optarg;
			break;
		case 'q':
			o->queue = strtoul(optarg, &end, 0);
			if (*end || !*optarg)
				return -1;
			break;
		case 'b':
			o->batch = strtoul(optarg, &end, 0);
			if (*end || !o->batch)
				return -1;
			break;
		case 't':
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds >= 0 && o->seconds <= 600))
				return -1;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The CPU reference over @set, repeated for @seconds; returns images/s. */
static double cpu_run(const struct mlp *net, const struct digits_set *set, float *hidden,
		      float *probs, double seconds)
{
	double t0 = now(), t;
	size_t images = 0;

	do {
		mlp_forward(net, set->pixels, set->count, hidden, probs);
		images += set->count;
		t = now() - t0;
	} while (t < seconds);
	return (double)images / t;
}

static int compare(const struct digits_set *set, const float *dev_probs,
		   const float *cpu_probs)
{
	size_t i, j, same = 0;
	double max_diff = 0;

	for (i = 0; i < set->count; i++) {
		const float *d = dev_probs + i * DIGITS_CLASSES, *c = cpu_probs + i * DIGITS_CLASSES;

		same += mlp_argmax(d, DIGITS_CLASSES) == mlp_argmax(c, DIGITS_CLASSES);
		for (j = 0; j < DIGITS_CLASSES; j++)
			if (!(fabs((double)d[j] - c[j]) <= max_diff))
				max_diff = fabs((double)d[j] - c[j]);	/* NaN sticks */
	}
	printf("predictions: %zu/%zu identical, max |probability difference| %.3g\n",
	       same, set->count, max_diff);
	return same == set->count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct digits_set all = { 0 }, held = { 0 };
	float *dev_probs = NULL, *cpu_probs = NULL, *hidden = NULL;
	struct mlp_device md = { 0 };
	struct accel_dev *dev = NULL;
	struct accel_info info;
	struct options o;
	struct mlp net = { 0 };
	double t0, t, dev_rate, cpu_rate;
	size_t images;
	int ret, status = 1;

	if (parse(argc, argv, &o))
		return usage();
	ret = weights_load(&net, o.weights);
	if (ret) {
		fprintf(stderr, "lumen-digits: %s: %s\n", o.weights,
			ret == -EINVAL ? "not a valid weights file" : strerror(-ret));
		return 1;
	}
	if (net.inputs != DIGITS_PIXELS || net.outputs != DIGITS_CLASSES) {
		fprintf(stderr, "lumen-digits: %s: a %u-%u-%u network, not 64-H-10\n",
			o.weights, net.inputs, net.hidden, net.outputs);
		goto out;
	}
	ret = digits_load(o.data, &all);
	if (!ret)
		ret = digits_split(&all, 1, &held);
	if (ret) {
		fprintf(stderr, "lumen-digits: %s: %s\n", o.data, strerror(-ret));
		goto out;
	}
	if (!o.batch || o.batch > held.count)
		o.batch = held.count;

	ret = open_device(o.device, &dev);
	if (!ret)
		ret = accel_query(dev, &info);
	if (ret) {
		fprintf(stderr, "lumen-digits: opening the device: %s\n", accel_strerror(ret));
		goto out;
	}
	if (o.queue >= info.num_queues || o.queue % info.num_engines == info.num_cores) {
		fprintf(stderr, "lumen-digits: queue %u does not feed a compute engine "
			"(%u queues, %u compute engines)\n", o.queue, info.num_queues,
			info.num_cores);
		goto out;
	}
	dev_probs = calloc(held.count * DIGITS_CLASSES, sizeof(float));
	cpu_probs = calloc(held.count * DIGITS_CLASSES, sizeof(float));
	hidden = calloc(held.count * net.hidden, sizeof(float));
	if (!dev_probs || !cpu_probs || !hidden) {
		fprintf(stderr, "lumen-digits: out of memory\n");
		goto out;
	}
	ret = mlp_device_init(&md, dev, o.queue, &net, o.batch);
	if (ret) {
		fprintf(stderr, "lumen-digits: loading the weights into device memory: %s\n",
			accel_strerror(ret));
		goto out;
	}
	printf("lumen-digits: 64-%u-10 network, %zu held-out images, %s queue %u, "
	       "batches of %zu\n", net.hidden, held.count, info.path, o.queue, o.batch);

	/* Timed passes; the last one's probabilities are the ones compared. */
	images = 0;
	t0 = now();
	do {
		ret = device_pass(&md, &held, o.batch, dev_probs);
		if (ret) {
			fprintf(stderr, "lumen-digits: inference job: %s\n", accel_strerror(ret));
			goto out;
		}
		images += held.count;
		t = now() - t0;
	} while (t < o.seconds);
	dev_rate = (double)images / t;
	cpu_rate = cpu_run(&net, &held, hidden, cpu_probs, o.seconds);

	printf("device: accuracy %.4f, %.0f images/s\n", accuracy(&held, dev_probs), dev_rate);
	printf("cpu:    accuracy %.4f, %.0f images/s (reference, in this machine)\n",
	       accuracy(&held, cpu_probs), cpu_rate);
	status = compare(&held, dev_probs, cpu_probs);
out:
	mlp_device_free(&md);
	accel_close(dev);
	free(hidden);
	free(cpu_probs);
	free(dev_probs);
	digits_free(&held);
	digits_free(&all);
	mlp_free(&net);
	return status;
}
