/* SPDX-License-Identifier: MIT */
/*
 * Training the digit MLP: minibatch SGD with momentum on softmax
 * cross-entropy.  Everything that could vary (initial weights, batch order)
 * comes from a seeded generator and every sum runs in a fixed order, so the
 * same parameters and data give the same weights bit for bit.
 */
#ifndef LUMEN_TRAIN_H
#define LUMEN_TRAIN_H

#include "digits.h"
#include "mlp.h"

struct train_params {
	uint32_t hidden;
	unsigned int epochs;
	unsigned int batch;
	float learning_rate;
	float momentum;
	uint64_t seed;
};

#define TRAIN_DEFAULTS { .hidden = 32, .epochs = 40, .batch = 16, \
			 .learning_rate = 0.05f, .momentum = 0.9f, .seed = 1 }

/* Allocates @net (DIGITS_PIXELS -> hidden -> DIGITS_CLASSES) and trains it. 0 or -errno. */
int mlp_train(struct mlp *net, const struct digits_set *data,
	      const struct train_params *params);

/* Fraction of @data that @net classifies correctly, in @accuracy.  0 or -ENOMEM. */
int mlp_accuracy(const struct mlp *net, const struct digits_set *data, double *accuracy);

#endif
