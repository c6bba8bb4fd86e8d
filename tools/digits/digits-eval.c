// SPDX-License-Identifier: MIT
/*
 * lumen-digits-eval: the CPU reference inference of the held-out 20% of
 * the digit set with a weights file; prints accuracy and images/s.
 *
 *   lumen-digits-eval [-d DATASET] [-w WEIGHTS]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train.h"
#include "weights.h"

#define MIN_SECONDS 0.5		/* long enough to time reliably */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Images per second of batched forward passes over the whole set. */
static double throughput(const struct mlp *net, const struct digits_set *set)
{
	float *hidden = malloc(set->count * net->hidden * sizeof(float));
	float *probs = malloc(set->count * net->outputs * sizeof(float));
	double t0 = now(), t;
	size_t images = 0;

	if (!hidden || !probs) {
		free(hidden);
		free(probs);
		return 0.0;
	}
	do {
		mlp_forward(net, set->pixels, set->count, hidden, probs);
		images += set->count;
		t = now() - t0;
	} while (t < MIN_SECONDS);
	free(hidden);
	free(probs);
	return (double)images / t;
}

int main(int argc, char **argv)
{
	struct digits_set all, held_out;
	const char *weights = "digits.weights";
	const char *data = NULL;
	char path[PATH_MAX];
	struct mlp net;
	double acc;
	int opt, err;

	while ((opt = getopt(argc, argv, "d:w:")) != -1) {
		switch (opt) {
		case 'd':
			data = optarg;
			break;
		case 'w':
			weights = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if (!data) {
		if (digits_default_path(path, sizeof(path)))
			goto usage;
		data = path;
	}
	err = weights_load(&net, weights);
	if (err) {
		fprintf(stderr, "lumen-digits-eval: %s: %s\n", weights,
			err == -EINVAL ? "not a valid weights file" : strerror(-err));
		return 1;
	}
	if (net.inputs != DIGITS_PIXELS || net.outputs != DIGITS_CLASSES) {
		fprintf(stderr, "lumen-digits-eval: %s: a %u-%u-%u network, not 64-H-10\n",
			weights, net.inputs, net.hidden, net.outputs);
		return 1;
	}
	err = digits_load(data, &all);
	if (err) {
		fprintf(stderr, "lumen-digits-eval: %s: %s (run tools/digits/fetch-digits)\n",
			data, strerror(-err));
		return 1;
	}
	if (digits_split(&all, 1, &held_out) || mlp_accuracy(&net, &held_out, &acc)) {
		fprintf(stderr, "lumen-digits-eval: out of memory\n");
		return 1;
	}
	printf("cpu reference: %zu held-out images, accuracy %.4f, %.0f images/s\n",
	       held_out.count, acc, throughput(&net, &held_out));
	mlp_free(&net);
	digits_free(&held_out);
	digits_free(&all);
	return 0;
usage:
	fprintf(stderr, "usage: lumen-digits-eval [-d DATASET] [-w WEIGHTS]\n");
	return 2;
}
