/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the encoders (commands.c, operators.c): little-endian
 * stores and the address checks every encoder applies.  Not installed.
 */
#ifndef LIBACCEL_ENCODE_H
#define LIBACCEL_ENCODE_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "lumen_regs.h"

/* Device VAs are below 2^48; an extent must end at or below it. */
#define ENC_VA_LIMIT	(1ull << LUMEN_VA_BITS)

/* Stores @v little-endian at @p, which need not be aligned. */
static inline void enc_put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* Header of the command at @cmd: byte 0 opcode, byte 1 flags, rest zero. */
static inline void enc_header(uint8_t *cmd, uint8_t opcode, uint8_t flags)
{
	cmd[0] = opcode;
	cmd[1] = flags;
}

/* Argument word @i (0 .. LUMEN_CMD_ARGS - 1) of the command at @cmd. */
static inline void enc_arg(uint8_t *cmd, unsigned int i, uint64_t v)
{
	enc_put64(cmd + 8 + 8 * i, v);
}

/* Word @i (0 .. LUMEN_DESC_WORDS - 1) of the descriptor at @desc. */
static inline void enc_word(uint8_t *desc, unsigned int i, uint64_t v)
{
	enc_put64(desc + 8 * i, v);
}

/*
 * Whether [@va, @va + @len) is a plausible operand: not at VA 0 (never
 * mapped), not empty, aligned to @align, and ending below 2^48.
 */
static inline bool enc_range_ok(uint64_t va, uint64_t len, uint64_t align)
{
	return va && len && va % align == 0 && va < ENC_VA_LIMIT &&
	       len <= ENC_VA_LIMIT - va;
}

/* Whether two ranges that passed enc_range_ok() share a byte. */
static inline bool enc_overlap(uint64_t a, uint64_t alen, uint64_t b,
			       uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

#endif /* LIBACCEL_ENCODE_H */
