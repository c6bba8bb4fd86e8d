// SPDX-License-Identifier: MIT
/* Reading and writing the weights file (format in weights.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weights.h"

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Floats go through their bit pattern so the file is little-endian on any host. */
static int write_floats(FILE *f, const float *v, size_t count)
{
	unsigned char b[4];
	uint32_t bits;
	size_t i;

	for (i = 0; i < count; i++) {
		memcpy(&bits, &v[i], sizeof(bits));
		put_u32(b, bits);
		if (fwrite(b, sizeof(b), 1, f) != 1)
			return -EIO;
	}
	return 0;
}

static int read_floats(FILE *f, float *v, size_t count)
{
	unsigned char b[4];
	uint32_t bits;
	size_t i;

	for (i = 0; i < count; i++) {
		if (fread(b, sizeof(b), 1, f) != 1)
			return -EINVAL;		/* truncated */
		bits = get_u32(b);
		memcpy(&v[i], &bits, sizeof(bits));
	}
	return 0;
}

static int write_all(FILE *f, const struct mlp *net)
{
	unsigned char hdr[WEIGHTS_HEADER_SIZE] = { 0 };

	memcpy(hdr, WEIGHTS_MAGIC, sizeof(WEIGHTS_MAGIC));
	put_u32(hdr + 8, WEIGHTS_VERSION);
	put_u32(hdr + 12, net->inputs);
	put_u32(hdr + 16, net->hidden);
	put_u32(hdr + 20, net->outputs);
	if (fwrite(hdr, sizeof(hdr), 1, f) != 1 ||
	    write_floats(f, net->w1, (size_t)net->inputs * net->hidden) ||
	    write_floats(f, net->b1, net->hidden) ||
	    write_floats(f, net->w2, (size_t)net->hidden * net->outputs) ||
	    write_floats(f, net->b2, net->outputs))
		return -EIO;
	return 0;
}

int weights_save(const struct mlp *net, const char *path)
{
	FILE *f = fopen(path, "wb");
	int err;

	if (!f)
		return -errno;
	err = write_all(f, net);
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}

static int read_all(FILE *f, struct mlp *net)
{
	unsigned char hdr[WEIGHTS_HEADER_SIZE];
	struct mlp m;
	int err;

	if (fread(hdr, sizeof(hdr), 1, f) != 1 ||
	    memcmp(hdr, WEIGHTS_MAGIC, sizeof(WEIGHTS_MAGIC)) ||
	    get_u32(hdr + 8) != WEIGHTS_VERSION ||
	    get_u32(hdr + 24) || get_u32(hdr + 28))
		return -EINVAL;
	err = mlp_alloc(&m, get_u32(hdr + 12), get_u32(hdr + 16), get_u32(hdr + 20));
	if (err)
		return err;
	err = read_floats(f, m.w1, (size_t)m.inputs * m.hidden);
	if (!err)
		err = read_floats(f, m.b1, m.hidden);
	if (!err)
		err = read_floats(f, m.w2, (size_t)m.hidden * m.outputs);
	if (!err)
		err = read_floats(f, m.b2, m.outputs);
	if (!err && fgetc(f) != EOF)
		err = -EINVAL;		/* trailing bytes: not what we wrote */
	if (err) {
		mlp_free(&m);
		return err;
	}
	*net = m;
	return 0;
}

int weights_load(struct mlp *net, const char *path)
{
	FILE *f = fopen(path, "rb");
	int err;

	if (!f)
		return -errno;
	err = read_all(f, net);
	fclose(f);
	return err;
}
