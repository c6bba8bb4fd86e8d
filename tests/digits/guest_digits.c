// SPDX-License-Identifier: MIT
/*
 * In the guest: the digit classifier on the Lumen device agrees with the
 * CPU reference.  The weights and the data set are the ones the build
 * trained and put in the image (/usr/share/lumen/digits, or
 * $LUMEN_DIGITS_DIR); their absence is a failure, not a skip, since the
 * image is meant to hold them.  Without a lumen device the tests skip.
 *
 * Every prediction must be identical, and every probability within a
 * bound derived from the documented GEMM and softmax error bounds
 * (Documentation/operators.rst) applied to both sides, layer by layer
 * (Documentation/digits.rst, "On the device").
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "digits.h"
#include "infer.h"
#include "weights.h"

#define EPS_F32		0x1p-23
#define DEFAULT_DIR	"/usr/share/lumen/digits"

/* Is a PCI function with the lumen identity present (then a node must exist)? */
static bool lumen_pci_present(void)
{
	char path[512], buf[16];
	struct dirent *de;
	bool found = false;
	DIR *dir = opendir("/sys/bus/pci/devices");
	FILE *f;

	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		unsigned int vendor = 0, device = 0;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f))
			vendor = strtoul(buf, NULL, 16);
		fclose(f);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f))
			device = strtoul(buf, NULL, 16);
		fclose(f);
		found = vendor == 0x1234 && device == 0x4c4e;
	}
	closedir(dir);
	return found;
}

FIXTURE(digits) {
	struct accel_dev *dev;
	struct accel_info info;
	unsigned int queue;
	struct mlp net;
	struct digits_set all, held;
	float *cpu_hidden, *cpu_probs, *dev_probs;
};

FIXTURE_SETUP(digits)
{
	const char *dir = getenv("LUMEN_DIGITS_DIR");
	char path[512];
	int idx[ACCEL_MAX_DEVICES], count, ret;

	count = accel_list(idx, ACCEL_MAX_DEVICES);
	if (count <= 0 && !lumen_pci_present())
		SKIP(return, "no lumen device");
	ASSERT_LT(0, count) TH_LOG("a lumen PCI function but no accel node: %d", count);
	ASSERT_EQ(0, accel_open(idx[0], &self->dev));
	ASSERT_EQ(0, accel_query(self->dev, &self->info));
	self->queue = 0;	/* 0 % num_engines == 0: compute engine 0 */

	if (!dir || !*dir)
		dir = DEFAULT_DIR;
	snprintf(path, sizeof(path), "%s/digits.weights", dir);
	ret = weights_load(&self->net, path);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, strerror(-ret));
	ASSERT_EQ(DIGITS_PIXELS, self->net.inputs);
	ASSERT_EQ(DIGITS_CLASSES, self->net.outputs);
	snprintf(path, sizeof(path), "%s/digits.csv.gz", dir);
	ret = digits_load(path, &self->all);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, strerror(-ret));
	ASSERT_EQ(0, digits_split(&self->all, 1, &self->held));
	ASSERT_EQ(359, self->held.count);

	self->cpu_hidden = calloc(self->held.count * self->net.hidden, sizeof(float));
	self->cpu_probs = calloc(self->held.count * DIGITS_CLASSES, sizeof(float));
	self->dev_probs = calloc(self->held.count * DIGITS_CLASSES, sizeof(float));
	ASSERT_TRUE(self->cpu_hidden && self->cpu_probs && self->dev_probs);
	mlp_forward(&self->net, self->held.pixels, self->held.count, self->cpu_hidden,
		    self->cpu_probs);
}

FIXTURE_TEARDOWN(digits)
{
	free(self->dev_probs);
	free(self->cpu_probs);
	free(self->cpu_hidden);
	digits_free(&self->held);
	digits_free(&self->all);
	mlp_free(&self->net);
	accel_close(self->dev);
}

/*
 * The largest difference allowed between the device's and the CPU's
 * probabilities of image @r: each side's GEMM error is at most
 * (K + 8) eps S (S the sum of the magnitudes of the terms), so the hidden
 * layers differ by at most twice that; that difference propagates through
 * W2, and the logits add their own two roundings; logits off by at most E
 * change each probability by a factor within exp(+-2E); both softmaxes
 * add (8 + R + 16) eps p (R the logits' range; 16 covers the reference's
 * float sum of 10 terms and its expf).  Returns the factor f of image
 * @x: |p_dev - p_cpu| <= f max(p_dev, p_cpu) + 2^-148.
 */
static double prob_factor(const struct mlp *net, const float *x, const float *h)
{
	double e1[MLP_MAX_DIM], e_max = 0, zmin = INFINITY, zmax = -INFINITY;
	unsigned int i, j, o;

	for (j = 0; j < net->hidden; j++) {
		double s = fabs(net->b1[j]);

		for (i = 0; i < net->inputs; i++)
			s += fabs((double)x[i] * net->w1[i * net->hidden + j]);
		e1[j] = 2 * (net->inputs + 8) * EPS_F32 * s;
	}
	for (o = 0; o < net->outputs; o++) {
		double s = fabs(net->b2[o]), prop = 0, z = net->b2[o];

		for (j = 0; j < net->hidden; j++) {
			double w = fabs(net->w2[j * net->outputs + o]);

			prop += w * e1[j];
			s += (fabs(h[j]) + e1[j]) * w;
			z += (double)h[j] * net->w2[j * net->outputs + o];
		}
		e_max = fmax(e_max, prop + 2 * (net->hidden + 8) * EPS_F32 * s);
		zmin = fmin(zmin, z);
		zmax = fmax(zmax, z);
	}
	return expm1(2 * e_max) + 2 * (8 + (zmax - zmin) + 16) * EPS_F32;
}

/*
 * Runs the held-out set on the device in batches of @batch and checks it
 * against the CPU reference computed in the setup.
 */
static void check_batches(struct __test_metadata *_metadata, FIXTURE_DATA(digits) *self,
			  size_t batch)
{
	const struct digits_set *set = &self->held;
	size_t i, n, bad = 0, right_dev = 0, right_cpu = 0;
	struct mlp_device md;
	double worst = 0;
	int ret;

	ret = mlp_device_init(&md, self->dev, self->queue, &self->net, batch);
	ASSERT_EQ(0, ret) TH_LOG("weights into device memory: %s", accel_strerror(ret));
	memset(self->dev_probs, 0xff, set->count * DIGITS_CLASSES * sizeof(float));
	for (i = 0; i < set->count; i += n) {
		n = set->count - i < batch ? set->count - i : batch;
		ret = mlp_device_forward(&md, set->pixels + i * DIGITS_PIXELS, n,
					 self->dev_probs + i * DIGITS_CLASSES);
		ASSERT_EQ(0, ret) TH_LOG("batch of %zu at image %zu: %s", n, i,
					 accel_strerror(ret));
	}
	mlp_device_free(&md);

	for (i = 0; i < set->count; i++) {
		const float *pc = self->cpu_probs + i * DIGITS_CLASSES;
		const float *pd = self->dev_probs + i * DIGITS_CLASSES;
		unsigned int k, cls_cpu = mlp_argmax(pc, DIGITS_CLASSES);
		unsigned int cls_dev = mlp_argmax(pd, DIGITS_CLASSES);
		double f = prob_factor(&self->net, set->pixels + i * DIGITS_PIXELS,
				       self->cpu_hidden + i * self->net.hidden);

		right_cpu += cls_cpu == set->labels[i];
		right_dev += cls_dev == set->labels[i];
		if (cls_cpu != cls_dev && bad++ < 5)
			TH_LOG("image %zu: device says %u (p %.7g), CPU %u (p %.7g)", i,
			       cls_dev, pd[cls_dev], cls_cpu, pc[cls_cpu]);
		for (k = 0; k < DIGITS_CLASSES; k++) {
			double d = fabs((double)pd[k] - pc[k]);
			double tol = f * fmax(pd[k], pc[k]) + 0x1p-148;

			worst = fmax(worst, d);
			if (!(d <= tol) && bad++ < 5)
				TH_LOG("image %zu class %u: device %.9g, CPU %.9g (bound %.3g)",
				       i, k, pd[k], pc[k], tol);
		}
	}
	TH_LOG("batches of %zu: accuracy device %.4f, CPU %.4f; max |probability difference| %.3g",
	       batch, (double)right_dev / set->count, (double)right_cpu / set->count, worst);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(right_cpu, right_dev);
	/* Documentation/digits.rst: the default training reaches 0.9638. */
	EXPECT_LE(0.95 * set->count, (double)right_dev);
}

TEST_F_TIMEOUT(digits, whole_set_in_one_job, 120)
{
	check_batches(_metadata, self, self->held.count);
}

/* Other batch sizes: the last batch is short, and 1 is a GEMM with m = 1. */
TEST_F_TIMEOUT(digits, batches_of_64, 120)
{
	check_batches(_metadata, self, 64);
}

TEST_F_TIMEOUT(digits, batches_of_7, 300)
{
	check_batches(_metadata, self, 7);
}

TEST_F_TIMEOUT(digits, batches_of_1, 600)
{
	check_batches(_metadata, self, 1);
}

TEST_HARNESS_MAIN
