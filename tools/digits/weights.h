/* SPDX-License-Identifier: MIT */
/*
 * The MLP weights file (Documentation/digits.rst).  All fields little-endian:
 *
 *   offset size
 *    0      8   magic "LUMNMLP\0"
 *    8      4   u32 version (1)
 *   12      4   u32 inputs   (64)
 *   16      4   u32 hidden   (1..4096)
 *   20      4   u32 outputs  (10)
 *   24      8   reserved, zero
 *   32          fp32 W1[inputs x hidden], b1[hidden], W2[hidden x outputs],
 *               b2[outputs], row-major, nothing after
 */
#ifndef LUMEN_WEIGHTS_H
#define LUMEN_WEIGHTS_H

#include "mlp.h"

#define WEIGHTS_MAGIC		"LUMNMLP"	/* + its NUL: 8 bytes */
#define WEIGHTS_VERSION		1
#define WEIGHTS_HEADER_SIZE	32

/* 0 or -errno. */
int weights_save(const struct mlp *net, const char *path);
/* 0, -EINVAL (not a valid weights file) or -errno. */
int weights_load(struct mlp *net, const char *path);

#endif
