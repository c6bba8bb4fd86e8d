// SPDX-License-Identifier: MIT
/* Minibatch SGD with momentum for the digit MLP (see train.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* splitmix64: tiny, seedable and the same everywhere, unlike rand(). */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [-limit, limit), from the top 24 bits (exact in fp32). */
static float uniform(uint64_t *state, float limit)
{
	float u = (float)(next_random(state) >> 40) / 16777216.0f;

	return (2.0f * u - 1.0f) * limit;
}

/* He-uniform for the ReLU layer, Glorot-uniform for the softmax layer; zero biases. */
static void init_weights(struct mlp *net, uint64_t *rng)
{
	float l1 = sqrtf(6.0f / (float)net->inputs);
	float l2 = sqrtf(6.0f / (float)(net->hidden + net->outputs));
	size_t i;

	for (i = 0; i < (size_t)net->inputs * net->hidden; i++)
		net->w1[i] = uniform(rng, l1);
	for (i = 0; i < (size_t)net->hidden * net->outputs; i++)
		net->w2[i] = uniform(rng, l2);
}

static void shuffle(size_t *order, size_t count, uint64_t *rng)
{
	size_t i, j, t;

	for (i = count; i > 1; i--) {
		j = (size_t)(next_random(rng) % i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

/* Gradients and momentum buffers share the mlp layout. */
struct trainer {
	struct mlp *net;
	struct mlp grad, velocity;
	float *hidden, *probs, *dhidden;	/* one row each */
};

/* Adds one image's cross-entropy gradient, scaled by @scale, to t->grad. */
static void backprop_one(struct trainer *t, const float *x, unsigned int label, float scale)
{
	const struct mlp *net = t->net;
	struct mlp *g = &t->grad;
	uint32_t i, j, k;

	mlp_forward(net, x, 1, t->hidden, t->probs);
	/* d loss / d logits = probs - onehot(label) */
	for (k = 0; k < net->outputs; k++)
		t->probs[k] = (t->probs[k] - (k == label ? 1.0f : 0.0f)) * scale;
	for (j = 0; j < net->hidden; j++) {
		float sum = 0.0f;

		for (k = 0; k < net->outputs; k++) {
			g->w2[(size_t)j * net->outputs + k] += t->hidden[j] * t->probs[k];
			sum += net->w2[(size_t)j * net->outputs + k] * t->probs[k];
		}
		t->dhidden[j] = t->hidden[j] > 0.0f ? sum : 0.0f;
	}
	for (k = 0; k < net->outputs; k++)
		g->b2[k] += t->probs[k];
	for (i = 0; i < net->inputs; i++)
		for (j = 0; j < net->hidden; j++)
			g->w1[(size_t)i * net->hidden + j] += x[i] * t->dhidden[j];
	for (j = 0; j < net->hidden; j++)
		g->b1[j] += t->dhidden[j];
}

/* v = momentum * v - lr * g; w += v; g = 0 */
static void step(float *w, float *v, float *g, size_t count, const struct train_params *p)
{
	size_t i;

	for (i = 0; i < count; i++) {
		v[i] = p->momentum * v[i] - p->learning_rate * g[i];
		w[i] += v[i];
		g[i] = 0.0f;
	}
}

static void update(struct trainer *t, const struct train_params *p)
{
	struct mlp *n = t->net;

	step(n->w1, t->velocity.w1, t->grad.w1, (size_t)n->inputs * n->hidden, p);
	step(n->b1, t->velocity.b1, t->grad.b1, n->hidden, p);
	step(n->w2, t->velocity.w2, t->grad.w2, (size_t)n->hidden * n->outputs, p);
	step(n->b2, t->velocity.b2, t->grad.b2, n->outputs, p);
}

static void run_epochs(struct trainer *t, const struct digits_set *data,
		       const struct train_params *p, size_t *order, uint64_t *rng)
{
	unsigned int epoch;
	size_t start, r, end;

	for (epoch = 0; epoch < p->epochs; epoch++) {
		shuffle(order, data->count, rng);
		for (start = 0; start < data->count; start = end) {
			end = start + p->batch < data->count ? start + p->batch : data->count;
			for (r = start; r < end; r++)
				backprop_one(t, data->pixels + order[r] * DIGITS_PIXELS,
					     data->labels[order[r]], 1.0f / (float)(end - start));
			update(t, p);
		}
	}
}

int mlp_train(struct mlp *net, const struct digits_set *data,
	      const struct train_params *p)
{
	struct trainer t = { .net = net };
	uint64_t rng = p->seed;
	size_t *order = NULL, i;
	int err;

	if (!data->count || !p->batch)
		return -EINVAL;
	err = mlp_alloc(net, DIGITS_PIXELS, p->hidden, DIGITS_CLASSES);
	if (err)
		return err;
	if (mlp_alloc(&t.grad, DIGITS_PIXELS, p->hidden, DIGITS_CLASSES) ||
	    mlp_alloc(&t.velocity, DIGITS_PIXELS, p->hidden, DIGITS_CLASSES))
		err = -ENOMEM;
	t.hidden = calloc(p->hidden, sizeof(float));
	t.dhidden = calloc(p->hidden, sizeof(float));
	t.probs = calloc(DIGITS_CLASSES, sizeof(float));
	order = calloc(data->count, sizeof(*order));
	if (!err && (!t.hidden || !t.dhidden || !t.probs || !order))
		err = -ENOMEM;
	if (!err) {
		for (i = 0; i < data->count; i++)
			order[i] = i;
		init_weights(net, &rng);
		run_epochs(&t, data, p, order, &rng);
	}
	free(order);
	free(t.probs);
	free(t.dhidden);
	free(t.hidden);
	mlp_free(&t.velocity);
	mlp_free(&t.grad);
	if (err)
		mlp_free(net);
	return err;
}

int mlp_accuracy(const struct mlp *net, const struct digits_set *data, double *accuracy)
{
	float *hidden = malloc(net->hidden * sizeof(float));
	float *probs = malloc(net->outputs * sizeof(float));
	size_t i, correct = 0;

	if (!hidden || !probs) {
		free(hidden);
		free(probs);
		return -ENOMEM;
	}
	for (i = 0; i < data->count; i++) {
		mlp_forward(net, data->pixels + i * net->inputs, 1, hidden, probs);
		correct += mlp_argmax(probs, net->outputs) == data->labels[i];
	}
	free(hidden);
	free(probs);
	*accuracy = data->count ? (double)correct / (double)data->count : 0.0;
	return 0;
}
