// SPDX-License-Identifier: MIT
/* Loading the digit CSV (see digits.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "digits.h"

/* Parses an unsigned decimal field ending at ',' (more fields) or not. */
static int parse_field(const char **p, const char *end, unsigned int max,
		       unsigned int *value)
{
	unsigned int v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return -EINVAL;
		s++;
	}
	*value = v;
	*p = s;
	return 0;
}

/* One row: 64 pixels and a label, comma-separated, then "\n", "\r\n" or the end. */
static int parse_row(const char **p, const char *end, float *pixels, uint8_t *label)
{
	unsigned int v;
	int i;

	for (i = 0; i <= DIGITS_PIXELS; i++) {
		if (i > 0) {
			if (*p == end || **p != ',')
				return -EINVAL;
			(*p)++;
		}
		if (parse_field(p, end, i < DIGITS_PIXELS ? 16 : DIGITS_CLASSES - 1, &v))
			return -EINVAL;
		if (i < DIGITS_PIXELS)
			pixels[i] = (float)v / 16.0f;
		else
			*label = (uint8_t)v;
	}
	if (*p < end && **p == '\r')
		(*p)++;
	if (*p < end) {
		if (**p != '\n')
			return -EINVAL;
		(*p)++;
	}
	return 0;
}

static size_t count_rows(const char *text, size_t len)
{
	size_t rows = 0, i;

	for (i = 0; i < len; i++)
		rows += text[i] == '\n';
	if (len > 0 && text[len - 1] != '\n')
		rows++;		/* last row without a newline */
	return rows;
}

int digits_parse(const char *text, size_t len, struct digits_set *set)
{
	const char *p = text, *end = text + len;
	struct digits_set s = { 0 };
	size_t rows = count_rows(text, len);

	if (rows == 0 || rows > DIGITS_MAX_ROWS)
		return -EINVAL;
	s.pixels = malloc(rows * DIGITS_PIXELS * sizeof(*s.pixels));
	s.labels = malloc(rows);
	if (!s.pixels || !s.labels) {
		digits_free(&s);
		return -ENOMEM;
	}
	for (s.count = 0; s.count < rows; s.count++) {
		if (parse_row(&p, end, s.pixels + s.count * DIGITS_PIXELS,
			      s.labels + s.count)) {
			digits_free(&s);
			return -EINVAL;
		}
	}
	*set = s;
	return 0;
}

/* The whole decompressed file, NUL-free text expected; bounded by max bytes. */
static int read_gz(const char *path, char **text, size_t *len)
{
	const size_t max = (size_t)DIGITS_MAX_ROWS * 256;
	size_t size = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	gzFile gz;
	int n, err = 0;

	if (!buf)
		return -ENOMEM;
	gz = gzopen(path, "rb");
	if (!gz) {
		err = errno ? -errno : -ENOMEM;
		free(buf);
		return err;
	}
	for (;;) {
		if (size == cap) {
			char *bigger = cap < max ? realloc(buf, cap * 2) : NULL;

			if (!bigger) {
				err = cap < max ? -ENOMEM : -EFBIG;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		n = gzread(gz, buf + size, (unsigned int)(cap - size));
		if (n < 0) {
			err = -EIO;
			break;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	gzclose(gz);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = size;
	return 0;
}

int digits_load(const char *path, struct digits_set *set)
{
	char *text;
	size_t len;
	int err = read_gz(path, &text, &len);

	if (err)
		return err;
	err = digits_parse(text, len, set);
	free(text);
	return err;
}

void digits_free(struct digits_set *set)
{
	free(set->pixels);
	free(set->labels);
	set->pixels = NULL;
	set->labels = NULL;
	set->count = 0;
}

int digits_split(const struct digits_set *all, int held_out, struct digits_set *part)
{
	struct digits_set s = { 0 };
	size_t i;

	s.pixels = malloc(all->count * DIGITS_PIXELS * sizeof(*s.pixels) + 1);
	s.labels = malloc(all->count + 1);
	if (!s.pixels || !s.labels) {
		digits_free(&s);
		return -ENOMEM;
	}
	for (i = 0; i < all->count; i++) {
		if (digits_is_held_out(i) != !!held_out)
			continue;
		memcpy(s.pixels + s.count * DIGITS_PIXELS, all->pixels + i * DIGITS_PIXELS,
		       DIGITS_PIXELS * sizeof(*s.pixels));
		s.labels[s.count++] = all->labels[i];
	}
	*part = s;
	return 0;
}

int digits_default_path(char *buf, size_t size)
{
	const char *cache = getenv("LUMEN_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (cache && *cache)
		n = snprintf(buf, size, "%s/digits/digits.csv.gz", cache);
	else if (xdg && *xdg)
		n = snprintf(buf, size, "%s/lumen/digits/digits.csv.gz", xdg);
	else
		n = snprintf(buf, size, "%s/.cache/lumen/digits/digits.csv.gz", home ? home : ".");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
