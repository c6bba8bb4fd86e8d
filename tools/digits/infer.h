/* SPDX-License-Identifier: MIT */
/*
 * The digit MLP on the Lumen device, through libaccel (Documentation/digits.rst,
 * "On the device").  One job per batch of images runs the whole network:
 *
 *   GEMM     H = relu(X . W1 + b1)      (bias per row, fused ReLU)
 *   GEMM     Z = H . W2 + b2
 *   SOFTMAX  P = softmax(Z) by rows
 *
 * The weights live in device memory, copied there once by a job; H and Z
 * stay in device memory between the operators; X and P are in one
 * system-memory BO that the CPU fills and reads.
 */
#ifndef LUMEN_DIGITS_INFER_H
#define LUMEN_DIGITS_INFER_H

#include <stddef.h>
#include <stdint.h>

#include <accel/accel.h>

#include "mlp.h"

struct mlp_device {
	struct accel_dev *dev;
	unsigned int queue;
	uint32_t inputs, hidden, outputs;
	size_t max_batch;
	uint64_t w1, b1, w2, b2;	/* device VAs of the weights */
	uint64_t h, z;			/* device VAs of the activations */
	struct accel_bo *weights;	/* device memory: W1, b1, W2, b2 */
	struct accel_bo *act;		/* device memory: H, Z */
	struct accel_bo *io;		/* system memory: X, then P */
	float *x, *p;			/* the CPU's view of X and P */
	struct accel_cmdbuf *cb;
	size_t cb_batch;		/* the batch size cb was built for, 0: none */
	struct accel_fence *done;
};

/*
 * Sets up @md for batches of up to @max_batch images on hardware @queue
 * (which must feed a compute engine) and copies @net's weights to device
 * memory.  0 or -errno (libaccel's, or -EIO if the copy job failed).
 */
int mlp_device_init(struct mlp_device *md, struct accel_dev *dev, unsigned int queue,
		    const struct mlp *net, size_t max_batch);
void mlp_device_free(struct mlp_device *md);

/*
 * The forward pass of @n (1 .. max_batch) rows of @x on the device, as one
 * job; @probs (n x outputs) receives the softmax probabilities.  0, or
 * -errno of libaccel, or the job's error (-EIO, -EFAULT, -ETIMEDOUT).
 */
int mlp_device_forward(struct mlp_device *md, const float *x, size_t n, float *probs);

#endif
