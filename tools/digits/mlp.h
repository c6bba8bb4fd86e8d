/* SPDX-License-Identifier: MIT */
/*
 * A two-layer perceptron laid out for GEMM:
 *
 *   H = relu(X[N x in] . W1[in x hidden] + b1)
 *   P = softmax(H[N x hidden] . W2[hidden x out] + b2)
 *
 * All matrices are fp32, row-major, densely packed (leading dimension =
 * number of columns), so each layer is one GEMM with a row-vector bias,
 * followed by ReLU or a row softmax: the device's operators.
 */
#ifndef LUMEN_MLP_H
#define LUMEN_MLP_H

#include <stddef.h>
#include <stdint.h>

#define MLP_MAX_DIM	4096	/* bounds a hostile weights file */

struct mlp {
	uint32_t inputs, hidden, outputs;
	float *w1;	/* inputs x hidden */
	float *b1;	/* hidden */
	float *w2;	/* hidden x outputs */
	float *b2;	/* outputs */
};

/* Zeroed weights of the given shape; 0, -EINVAL (a dim 0 or > MLP_MAX_DIM), -ENOMEM. */
int mlp_alloc(struct mlp *net, uint32_t inputs, uint32_t hidden, uint32_t outputs);
void mlp_free(struct mlp *net);

/*
 * The CPU reference forward pass of @n rows of @x.  @hidden (n x net->hidden)
 * receives the ReLU activations, @probs (n x net->outputs) the softmax
 * probabilities.  Each dot product sums in index order in fp32; softmax
 * subtracts the row maximum first (numerically stable).
 */
void mlp_forward(const struct mlp *net, const float *x, size_t n, float *hidden,
		 float *probs);

/* Index of the largest of @count values (the first on ties). */
unsigned int mlp_argmax(const float *v, unsigned int count);

#endif
