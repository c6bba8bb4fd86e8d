// SPDX-License-Identifier: MIT
/*
 * Host tests of the digit classifier's pieces: CSV loader, weights file,
 * CPU reference forward pass, trainer determinism and, when the data set
 * is in the cache (tools/digits/fetch-digits), held-out accuracy.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "digits.h"
#include "mlp.h"
#include "train.h"
#include "weights.h"

/* "v0,v1,...,v63,label\n" with pixel j = (j * step + first) % 17. */
static size_t csv_row(char *buf, unsigned int first, unsigned int step, const char *label)
{
	size_t n = 0;
	int j;

	for (j = 0; j < DIGITS_PIXELS; j++)
		n += sprintf(buf + n, "%u,", (j * step + first) % 17);
	n += sprintf(buf + n, "%s\n", label);
	return n;
}

static int parse_str(const char *text, struct digits_set *set)
{
	return digits_parse(text, strlen(text), set);
}

TEST(loader_parses_rows)
{
	char text[1024];
	struct digits_set set;
	size_t n = csv_row(text, 0, 1, "7");
	int j;

	n += csv_row(text + n, 16, 3, "0");
	text[n - 1] = '\0';	/* the last row may end without a newline */
	ASSERT_EQ(0, parse_str(text, &set));
	ASSERT_EQ(2, set.count);
	EXPECT_EQ(7, set.labels[0]);
	EXPECT_EQ(0, set.labels[1]);
	for (j = 0; j < DIGITS_PIXELS; j++) {
		EXPECT_EQ((float)(j % 17) / 16.0f, set.pixels[j]);
		EXPECT_EQ((float)((j * 3 + 16) % 17) / 16.0f, set.pixels[DIGITS_PIXELS + j]);
	}
	EXPECT_EQ(1.0f, set.pixels[16]);	/* a full count of 16 is 1.0 */
	digits_free(&set);
}

TEST(loader_accepts_crlf)
{
	char text[1024];
	struct digits_set set;
	size_t n = csv_row(text, 5, 2, "9");

	strcpy(text + n - 1, "\r\n");
	ASSERT_EQ(0, parse_str(text, &set));
	ASSERT_EQ(1, set.count);
	EXPECT_EQ(9, set.labels[0]);
	EXPECT_EQ(5.0f / 16.0f, set.pixels[0]);
	digits_free(&set);
}

TEST(loader_rejects_malformed)
{
	static const char *const bad_labels[] = {
		"10", "-1", "x", "", "1.5", " 1", "1,2", "1 ",
	};
	struct digits_set set = { 0 };
	char text[1024];
	unsigned int i;
	size_t n;

	for (i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++) {
		csv_row(text, 0, 1, bad_labels[i]);
		EXPECT_EQ(-EINVAL, parse_str(text, &set)) TH_LOG("label '%s'", bad_labels[i]);
	}
	EXPECT_EQ(-EINVAL, parse_str("", &set));
	EXPECT_EQ(-EINVAL, parse_str("\n", &set));
	/* 63 pixels + label: drop the first field */
	n = csv_row(text, 0, 1, "1");
	EXPECT_EQ(-EINVAL, digits_parse(strchr(text, ',') + 1, n - 2, &set));
	/* a pixel count above 16 */
	csv_row(text, 0, 1, "1");
	memcpy(text, "17", 2);		/* "0,1,..." -> "17..." */
	text[2] = ',';
	EXPECT_EQ(-EINVAL, parse_str(text, &set));
	/* a good row followed by a short one */
	n = csv_row(text, 0, 1, "1");
	strcpy(text + n, "1,2,3\n");
	EXPECT_EQ(-EINVAL, parse_str(text, &set));
	EXPECT_EQ(NULL, set.pixels);	/* nothing set on error */
}

TEST(split_is_every_fifth)
{
	char text[4096];
	struct digits_set all, train, held;
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < 10; i++) {
		char label[2] = { (char)('0' + i), 0 };

		n += csv_row(text + n, i, 1, label);
	}
	ASSERT_EQ(0, digits_parse(text, n, &all));
	ASSERT_EQ(0, digits_split(&all, 0, &train));
	ASSERT_EQ(0, digits_split(&all, 1, &held));
	ASSERT_EQ(8, train.count);
	ASSERT_EQ(2, held.count);
	EXPECT_EQ(4, held.labels[0]);
	EXPECT_EQ(9, held.labels[1]);
	EXPECT_EQ(3, train.labels[3]);
	EXPECT_EQ(5, train.labels[4]);
	EXPECT_EQ(5.0f / 16.0f, train.pixels[4 * DIGITS_PIXELS]);
	digits_free(&all);
	digits_free(&train);
	digits_free(&held);
}

/*
 * 2 -> 2 -> 2 by hand.  x = [1 2]:
 *   x.W1 + b1 = [1*1 + 2*2 + 0.5, 1*-1 + 2*0.5 - 1] = [5.5, -1] -> relu [5.5, 0]
 *   h.W2 + b2 = [5.5*1 + 0*3 + 0, 5.5*0 + 0*-2 + 1] = [5.5, 1]
 *   softmax   = [1/(1+e^-4.5), 1/(1+e^4.5)] = [0.98901305737, 0.01098694263]
 * x = [0 0]: hidden [0.5, 0], logits [0.5, 1],
 *   softmax   = [1/(1+e^0.5), 1/(1+e^-0.5)] = [0.37754066880, 0.62245933120]
 */
TEST(forward_matches_hand_computation)
{
	static const float x[] = { 1, 2, 0, 0 };
	float hidden[4], probs[4];
	struct mlp net;

	ASSERT_EQ(0, mlp_alloc(&net, 2, 2, 2));
	memcpy(net.w1, (float[]){ 1, -1, 2, 0.5f }, 4 * sizeof(float));
	memcpy(net.b1, (float[]){ 0.5f, -1 }, 2 * sizeof(float));
	memcpy(net.w2, (float[]){ 1, 0, 3, -2 }, 4 * sizeof(float));
	memcpy(net.b2, (float[]){ 0, 1 }, 2 * sizeof(float));
	mlp_forward(&net, x, 2, hidden, probs);
	EXPECT_EQ(5.5f, hidden[0]);
	EXPECT_EQ(0.0f, hidden[1]);
	EXPECT_EQ(0.5f, hidden[2]);
	EXPECT_EQ(0.0f, hidden[3]);
	EXPECT_LT(fabs(probs[0] - 0.98901305737), 1e-6);
	EXPECT_LT(fabs(probs[1] - 0.01098694263), 1e-6);
	EXPECT_LT(fabs(probs[2] - 0.37754066880), 1e-6);
	EXPECT_LT(fabs(probs[3] - 0.62245933120), 1e-6);
	EXPECT_EQ(0, mlp_argmax(probs, 2));
	EXPECT_EQ(1, mlp_argmax(probs + 2, 2));
	mlp_free(&net);
}

TEST(mlp_alloc_rejects_bad_dims)
{
	struct mlp net;

	EXPECT_EQ(-EINVAL, mlp_alloc(&net, 0, 2, 2));
	EXPECT_EQ(-EINVAL, mlp_alloc(&net, 2, 0, 2));
	EXPECT_EQ(-EINVAL, mlp_alloc(&net, 2, 2, MLP_MAX_DIM + 1));
}

/* 40 synthetic images: ten distinct patterns, four times each. */
static void synthetic_set(struct digits_set *set)
{
	static char text[40 * 256];
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < 40; i++) {
		char label[2] = { (char)('0' + i % 10), 0 };

		n += csv_row(text + n, i % 10, i % 10 + 1, label);
	}
	if (digits_parse(text, n, set))
		abort();
}

static int same_weights(const struct mlp *a, const struct mlp *b)
{
	return a->hidden == b->hidden &&
	       !memcmp(a->w1, b->w1, (size_t)a->inputs * a->hidden * sizeof(float)) &&
	       !memcmp(a->b1, b->b1, a->hidden * sizeof(float)) &&
	       !memcmp(a->w2, b->w2, (size_t)a->hidden * a->outputs * sizeof(float)) &&
	       !memcmp(a->b2, b->b2, a->outputs * sizeof(float));
}

TEST(trainer_is_deterministic)
{
	struct train_params p = TRAIN_DEFAULTS;
	struct mlp a, b, c;
	struct digits_set set;
	double acc;

	synthetic_set(&set);
	p.hidden = 16;
	p.epochs = 30;
	ASSERT_EQ(0, mlp_train(&a, &set, &p));
	ASSERT_EQ(0, mlp_train(&b, &set, &p));
	EXPECT_TRUE(same_weights(&a, &b));
	p.seed = 2;		/* the seed really steers the result */
	ASSERT_EQ(0, mlp_train(&c, &set, &p));
	EXPECT_FALSE(same_weights(&a, &c));
	/* and it learned: ten separable patterns */
	ASSERT_EQ(0, mlp_accuracy(&a, &set, &acc));
	TH_LOG("accuracy on the synthetic set %.3f", acc);
	EXPECT_TRUE(acc == 1.0);
	mlp_free(&a);
	mlp_free(&b);
	mlp_free(&c);
	digits_free(&set);
}

FIXTURE(weights_file) {
	char path[64];
	struct mlp net;
};

FIXTURE_SETUP(weights_file)
{
	float v = 0.25f;
	size_t i;
	int fd;

	strcpy(self->path, "/tmp/lumen-digits-test-XXXXXX");
	fd = mkstemp(self->path);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, mlp_alloc(&self->net, 3, 2, 4));
	for (i = 0; i < 6; i++, v -= 0.125f)
		self->net.w1[i] = v;
	self->net.b1[1] = -1.5f;
	for (i = 0; i < 8; i++)
		self->net.w2[i] = (float)i;
	self->net.b2[3] = 3e-7f;
	ASSERT_EQ(0, weights_save(&self->net, self->path));
}

FIXTURE_TEARDOWN(weights_file)
{
	mlp_free(&self->net);
	unlink(self->path);
}

static void read_file(const char *path, unsigned char *buf, size_t *len)
{
	FILE *f = fopen(path, "rb");

	*len = f ? fread(buf, 1, 4096, f) : 0;
	if (f)
		fclose(f);
}

static void write_file(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(buf, 1, len, f) != len)
		abort();
	fclose(f);
}

TEST_F(weights_file, round_trips)
{
	struct mlp back;

	ASSERT_EQ(0, weights_load(&back, self->path));
	EXPECT_EQ(3, back.inputs);
	EXPECT_EQ(2, back.hidden);
	EXPECT_EQ(4, back.outputs);
	EXPECT_TRUE(same_weights(&self->net, &back));
	mlp_free(&back);
}

/* The layout that the device side will read, checked byte by byte. */
TEST_F(weights_file, has_documented_layout)
{
	static const unsigned char header[32] = {
		'L', 'U', 'M', 'N', 'M', 'L', 'P', 0, 1, 0, 0, 0,
		3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0,
	};
	unsigned char buf[4096];
	size_t len;

	read_file(self->path, buf, &len);
	ASSERT_EQ(32 + 4 * (3 * 2 + 2 + 2 * 4 + 4), len);
	EXPECT_EQ(0, memcmp(buf, header, sizeof(header)));
	/* W1[0][0] = 0.25f = 0x3e800000, little-endian */
	EXPECT_EQ(0, memcmp(buf + 32, "\x00\x00\x80\x3e", 4));
	/* b1[1] = -1.5f = 0xbfc00000, after the 6 floats of W1 */
	EXPECT_EQ(0, memcmp(buf + 32 + 4 * 7, "\x00\x00\xc0\xbf", 4));
	/* W2[3][1] = 7.0f = 0x40e00000, after W1, b1 and 7 floats of W2 */
	EXPECT_EQ(0, memcmp(buf + 32 + 4 * (8 + 7), "\x00\x00\xe0\x40", 4));
}

TEST_F(weights_file, rejects_bad_files)
{
	static const struct { size_t offset; unsigned char value; const char *what; } flips[] = {
		{ 0, 'X', "magic" },
		{ 7, 'X', "magic NUL" },
		{ 8, 2, "version" },
		{ 16, 0, "hidden = 0" },
		{ 19, 0x10, "hidden too large" },
		{ 13, 1, "inputs changed: size mismatch" },
		{ 28, 1, "reserved" },
	};
	unsigned char good[4096], bad[4096];
	struct mlp back = { 0 };
	size_t len, i;

	read_file(self->path, good, &len);
	ASSERT_LT(32, len);
	for (i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(bad, good, len);
		bad[flips[i].offset] = flips[i].value;
		write_file(self->path, bad, len);
		EXPECT_EQ(-EINVAL, weights_load(&back, self->path)) TH_LOG("%s", flips[i].what);
	}
	write_file(self->path, good, len - 1);
	EXPECT_EQ(-EINVAL, weights_load(&back, self->path)) TH_LOG("truncated");
	write_file(self->path, good, 20);
	EXPECT_EQ(-EINVAL, weights_load(&back, self->path)) TH_LOG("short header");
	good[len] = 0;
	write_file(self->path, good, len + 1);
	EXPECT_EQ(-EINVAL, weights_load(&back, self->path)) TH_LOG("trailing byte");
	EXPECT_EQ(NULL, back.w1);
	EXPECT_EQ(-ENOENT, weights_load(&back, "/nonexistent/lumen.weights"));
}

TEST(held_out_accuracy)
{
	struct train_params p = TRAIN_DEFAULTS;
	struct digits_set all, train, held;
	char path[4096];
	struct mlp net;
	double acc;

	ASSERT_EQ(0, digits_default_path(path, sizeof(path)));
	if (access(path, R_OK))
		SKIP(return, "no data set; run tools/digits/fetch-digits");
	ASSERT_EQ(0, digits_load(path, &all));
	ASSERT_EQ(1797, all.count);
	ASSERT_EQ(0, digits_split(&all, 0, &train));
	ASSERT_EQ(0, digits_split(&all, 1, &held));
	EXPECT_EQ(1438, train.count);
	EXPECT_EQ(359, held.count);
	ASSERT_EQ(0, mlp_train(&net, &train, &p));
	ASSERT_EQ(0, mlp_accuracy(&net, &held, &acc));
	TH_LOG("held-out accuracy %.4f", acc);
	EXPECT_LE(0.95, acc);
	mlp_free(&net);
	digits_free(&all);
	digits_free(&train);
	digits_free(&held);
}

TEST_HARNESS_MAIN
