// SPDX-License-Identifier: MIT
/*
 * lumen-digits-train: trains the digit MLP on the training 80% of the
 * digit set and writes the weights file.
 *
 *   lumen-digits-train [-d DATASET] [-o WEIGHTS] [-H HIDDEN] [-e EPOCHS] [-s SEED]
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train.h"
#include "weights.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	*v = strtoul(s, &end, 10);
	return *s && !*end && *v > 0 && *v <= max ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: lumen-digits-train [-d DATASET] [-o WEIGHTS] [-H HIDDEN] [-e EPOCHS] [-s SEED]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct train_params params = TRAIN_DEFAULTS;
	struct digits_set all, train, held_out;
	const char *out = "digits.weights";
	char path[PATH_MAX];
	const char *data = NULL;
	struct mlp net;
	double t0, t1, acc_train, acc_held;
	unsigned long v;
	int opt, err;

	while ((opt = getopt(argc, argv, "d:o:H:e:s:")) != -1) {
		switch (opt) {
		case 'd':
			data = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'H':
			if (parse_uint(optarg, MLP_MAX_DIM, &v))
				return usage();
			params.hidden = (uint32_t)v;
			break;
		case 'e':
			if (parse_uint(optarg, 100000, &v))
				return usage();
			params.epochs = (unsigned int)v;
			break;
		case 's':
			if (parse_uint(optarg, ULONG_MAX, &v))
				return usage();
			params.seed = v;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (!data) {
		if (digits_default_path(path, sizeof(path)))
			return usage();
		data = path;
	}
	err = digits_load(data, &all);
	if (err) {
		fprintf(stderr, "lumen-digits-train: %s: %s (run tools/digits/fetch-digits)\n",
			data, strerror(-err));
		return 1;
	}
	if (digits_split(&all, 0, &train) || digits_split(&all, 1, &held_out)) {
		fprintf(stderr, "lumen-digits-train: out of memory\n");
		return 1;
	}
	t0 = now();
	err = mlp_train(&net, &train, &params);
	t1 = now();
	if (err) {
		fprintf(stderr, "lumen-digits-train: training failed: %s\n", strerror(-err));
		return 1;
	}
	err = weights_save(&net, out);
	if (err) {
		fprintf(stderr, "lumen-digits-train: %s: %s\n", out, strerror(-err));
		return 1;
	}
	if (mlp_accuracy(&net, &train, &acc_train) || mlp_accuracy(&net, &held_out, &acc_held))
		return 1;
	printf("trained 64-%u-10 on %zu images, %u epochs, seed %llu, in %.2f s\n",
	       params.hidden, train.count, params.epochs,
	       (unsigned long long)params.seed, t1 - t0);
	printf("accuracy: training %.4f, held-out %.4f (%zu images)\n",
	       acc_train, acc_held, held_out.count);
	printf("weights: %s\n", out);
	mlp_free(&net);
	digits_free(&held_out);
	digits_free(&train);
	digits_free(&all);
	return 0;
}
