// SPDX-License-Identifier: MIT
/* The MLP's storage and CPU reference forward pass (see mlp.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "mlp.h"

int mlp_alloc(struct mlp *net, uint32_t inputs, uint32_t hidden, uint32_t outputs)
{
	struct mlp m = { inputs, hidden, outputs, NULL, NULL, NULL, NULL };

	if (!inputs || !hidden || !outputs ||
	    inputs > MLP_MAX_DIM || hidden > MLP_MAX_DIM || outputs > MLP_MAX_DIM)
		return -EINVAL;
	m.w1 = calloc((size_t)inputs * hidden, sizeof(float));
	m.b1 = calloc(hidden, sizeof(float));
	m.w2 = calloc((size_t)hidden * outputs, sizeof(float));
	m.b2 = calloc(outputs, sizeof(float));
	if (!m.w1 || !m.b1 || !m.w2 || !m.b2) {
		mlp_free(&m);
		return -ENOMEM;
	}
	*net = m;
	return 0;
}

void mlp_free(struct mlp *net)
{
	free(net->w1);
	free(net->b1);
	free(net->w2);
	free(net->b2);
	net->w1 = net->b1 = net->w2 = net->b2 = NULL;
}

/* y[cols] = x[k] . w[k x cols] + b, in index order of k. */
static void affine_row(const float *x, const float *w, const float *b,
		       uint32_t k, uint32_t cols, float *y)
{
	uint32_t i, j;

	for (j = 0; j < cols; j++)
		y[j] = b[j];
	for (i = 0; i < k; i++) {
		const float *wi = w + (size_t)i * cols;

		for (j = 0; j < cols; j++)
			y[j] += x[i] * wi[j];
	}
}

static void softmax_row(float *v, uint32_t count)
{
	float max = v[0], sum = 0.0f;
	uint32_t j;

	for (j = 1; j < count; j++)
		if (v[j] > max)
			max = v[j];
	for (j = 0; j < count; j++) {
		v[j] = expf(v[j] - max);
		sum += v[j];
	}
	for (j = 0; j < count; j++)
		v[j] /= sum;
}

void mlp_forward(const struct mlp *net, const float *x, size_t n, float *hidden,
		 float *probs)
{
	size_t r;
	uint32_t j;

	for (r = 0; r < n; r++) {
		float *h = hidden + r * net->hidden;
		float *p = probs + r * net->outputs;

		affine_row(x + r * net->inputs, net->w1, net->b1, net->inputs, net->hidden, h);
		for (j = 0; j < net->hidden; j++)
			h[j] = h[j] > 0.0f ? h[j] : 0.0f;
		affine_row(h, net->w2, net->b2, net->hidden, net->outputs, p);
		softmax_row(p, net->outputs);
	}
}

unsigned int mlp_argmax(const float *v, unsigned int count)
{
	unsigned int best = 0, j;

	for (j = 1; j < count; j++)
		if (v[j] > v[best])
			best = j;
	return best;
}
