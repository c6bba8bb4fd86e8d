/* SPDX-License-Identifier: MIT */
/*
 * The 8x8 handwritten-digit set: loading and the train/held-out split.
 *
 * Each CSV row is 64 pixel counts (0..16, row-major 8x8) and a label 0..9.
 * Pixels are stored scaled to [0, 1] (count / 16) as fp32, one image per
 * row, so a batch of images is directly the X[N x 64] operand of a GEMM.
 */
#ifndef LUMEN_DIGITS_H
#define LUMEN_DIGITS_H

#include <stddef.h>
#include <stdint.h>

#define DIGITS_PIXELS	64
#define DIGITS_CLASSES	10
#define DIGITS_MAX_ROWS	100000	/* bounds memory on a hostile input */

struct digits_set {
	size_t count;
	float *pixels;		/* count x DIGITS_PIXELS, row-major */
	uint8_t *labels;	/* count */
};

/* Parses CSV text; 0 or -EINVAL (malformed) / -ENOMEM.  Sets nothing on error. */
int digits_parse(const char *text, size_t len, struct digits_set *set);
/* Reads a gzip-compressed (or plain) CSV file; 0 or -errno. */
int digits_load(const char *path, struct digits_set *set);
void digits_free(struct digits_set *set);

/* Every 5th image (index % 5 == 4) is held out: a fixed 80/20 split. */
static inline int digits_is_held_out(size_t index)
{
	return index % 5 == 4;
}

/*
 * Copies the training (held_out = 0) or held-out (held_out = 1) part of
 * @all into @part, keeping the order.  0 or -ENOMEM.
 */
int digits_split(const struct digits_set *all, int held_out, struct digits_set *part);

/* Default dataset path: $LUMEN_CACHE/digits/digits.csv.gz, as fetch-digits stores it. */
int digits_default_path(char *buf, size_t size);

#endif
