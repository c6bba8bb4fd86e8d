// SPDX-License-Identifier: MIT
/* The digit MLP on the Lumen device (see infer.h). */
#include <errno.h>
#include <string.h>

#include "infer.h"

#define JOB_TIMEOUT_NS	(30 * 1000000000ll)	/* generous: TCG guests are slow */
#define CB_CAPACITY	4096			/* 3 commands + 3 descriptors */

/* Submits md->cb on md->queue listing @bos, waits, and returns 0 or the job's error. */
static int run_job(struct mlp_device *md, const struct accel_bo *const *bos,
		   unsigned int nbos)
{
	int ret;

	ret = accel_submit(md->dev, md->queue, md->cb, bos, nbos, NULL, md->done);
	if (ret)
		return ret;
	ret = accel_fence_wait(md->done, JOB_TIMEOUT_NS);
	if (ret)
		return ret;
	ret = accel_fence_status(md->done);
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

/* Copies W1, b1, W2, b2 (back to back, as in the weights file) into device memory. */
static int upload_weights(struct mlp_device *md, const struct mlp *net)
{
	size_t n1 = (size_t)net->inputs * net->hidden, n2 = (size_t)net->hidden * net->outputs;
	size_t bytes = (n1 + net->hidden + n2 + net->outputs) * sizeof(float);
	const struct accel_bo *bos[2];
	struct accel_bo *staging;
	float *s;
	void *map;
	int ret;

	ret = accel_bo_create(md->dev, bytes, 0, &staging);
	if (ret)
		return ret;
	ret = accel_bo_map(staging, &map);
	if (ret)
		goto out;
	s = map;
	memcpy(s, net->w1, n1 * sizeof(float));
	memcpy(s + n1, net->b1, net->hidden * sizeof(float));
	memcpy(s + n1 + net->hidden, net->w2, n2 * sizeof(float));
	memcpy(s + n1 + net->hidden + n2, net->b2, net->outputs * sizeof(float));

	accel_cmdbuf_reset(md->cb);
	md->cb_batch = 0;
	ret = accel_cmd_copy(md->cb, accel_bo_va(md->weights), accel_bo_va(staging), bytes);
	if (ret)
		goto out;
	bos[0] = staging;
	bos[1] = md->weights;
	ret = run_job(md, bos, 2);
out:
	accel_bo_free(staging);
	return ret;
}

int mlp_device_init(struct mlp_device *md, struct accel_dev *dev, unsigned int queue,
		    const struct mlp *net, size_t max_batch)
{
	size_t n1 = (size_t)net->inputs * net->hidden, n2 = (size_t)net->hidden * net->outputs;
	uint64_t va;
	void *map;
	int ret;

	memset(md, 0, sizeof(*md));
	if (!max_batch || max_batch > 1u << 20)
		return -EINVAL;
	md->dev = dev;
	md->queue = queue;
	md->inputs = net->inputs;
	md->hidden = net->hidden;
	md->outputs = net->outputs;
	md->max_batch = max_batch;

	ret = accel_bo_create(dev, (n1 + net->hidden + n2 + net->outputs) * sizeof(float),
			      ACCEL_BO_DEVICE, &md->weights);
	if (!ret)
		ret = accel_bo_create(dev, max_batch * (net->hidden + net->outputs) * sizeof(float),
				      ACCEL_BO_DEVICE, &md->act);
	if (!ret)
		ret = accel_bo_create(dev, max_batch * (net->inputs + net->outputs) * sizeof(float),
				      0, &md->io);
	if (!ret)
		ret = accel_bo_map(md->io, &map);
	if (!ret)
		ret = accel_cmdbuf_create(dev, CB_CAPACITY, &md->cb);
	if (!ret)
		ret = accel_fence_create(dev, &md->done);
	if (ret)
		goto fail;

	va = accel_bo_va(md->weights);
	md->w1 = va;
	md->b1 = va + n1 * sizeof(float);
	md->w2 = md->b1 + net->hidden * sizeof(float);
	md->b2 = md->w2 + n2 * sizeof(float);
	md->h = accel_bo_va(md->act);
	md->z = md->h + max_batch * net->hidden * sizeof(float);
	md->x = map;
	md->p = md->x + max_batch * net->inputs;

	ret = upload_weights(md, net);
	if (ret)
		goto fail;
	return 0;
fail:
	mlp_device_free(md);
	return ret;
}

void mlp_device_free(struct mlp_device *md)
{
	accel_fence_free(md->done);
	accel_cmdbuf_free(md->cb);
	accel_bo_free(md->io);
	accel_bo_free(md->act);
	accel_bo_free(md->weights);
	memset(md, 0, sizeof(*md));
}

/* The three operators for a batch of @n rows. */
static int build_forward(struct mlp_device *md, size_t n)
{
	uint64_t x = accel_bo_va(md->io);
	uint64_t p = x + md->max_batch * md->inputs * sizeof(float);
	int ret;

	accel_cmdbuf_reset(md->cb);
	md->cb_batch = 0;
	ret = accel_cmd_gemm(md->cb, &(struct accel_gemm){
		.type = ACCEL_F32, .c_type = ACCEL_F32,
		.m = n, .n = md->hidden, .k = md->inputs,
		.a = x, .lda = md->inputs,
		.b = md->w1, .ldb = md->hidden,
		.c = md->h, .ldc = md->hidden,
		.bias_kind = ACCEL_BIAS_ROW, .bias = md->b1,
		.act = ACCEL_ACT_RELU, .alpha = 1.0f, .beta = 0.0f,
	});
	if (!ret)
		ret = accel_cmd_gemm(md->cb, &(struct accel_gemm){
			.type = ACCEL_F32, .c_type = ACCEL_F32,
			.m = n, .n = md->outputs, .k = md->hidden,
			.a = md->h, .lda = md->hidden,
			.b = md->w2, .ldb = md->outputs,
			.c = md->z, .ldc = md->outputs,
			.bias_kind = ACCEL_BIAS_ROW, .bias = md->b2,
			.alpha = 1.0f, .beta = 0.0f,
		});
	if (!ret)
		ret = accel_cmd_softmax(md->cb, &(struct accel_rows){
			.rows = n, .cols = md->outputs,
			.y = p, .ldy = md->outputs,
			.x = md->z, .ldx = md->outputs,
		});
	if (!ret)
		md->cb_batch = n;
	return ret;
}

int mlp_device_forward(struct mlp_device *md, const float *x, size_t n, float *probs)
{
	const struct accel_bo *bos[3] = { md->weights, md->act, md->io };
	int ret;

	if (!n || n > md->max_batch)
		return -EINVAL;
	if (md->cb_batch != n) {
		ret = build_forward(md, n);
		if (ret)
			return ret;
	}
	memcpy(md->x, x, n * md->inputs * sizeof(float));
	ret = run_job(md, bos, 3);
	if (ret)
		return ret;
	memcpy(probs, md->p, n * md->outputs * sizeof(float));
	return 0;
}
