/* SPDX-License-Identifier: MIT */
/*
 * An independent reader of the device's command and descriptor layout
 * (driver/lumen_regs.h: 64-byte commands = 8-byte header + 7 little-endian
 * 64-bit arguments; 128-byte descriptors = 16 little-endian words), for the
 * host tests of libaccel's encoders.  Bytes are assembled one by one, so
 * nothing here shares code with the encoders under test.
 */
#ifndef LUMEN_HOST_DECODE_H
#define LUMEN_HOST_DECODE_H

#include <stdint.h>
#include <string.h>

#define DEC_CMD_SIZE	64
#define DEC_DESC_SIZE	128
#define DEC_DESC_WORDS	16

/* The device would see the fake command buffer's memory at this VA. */
#define DEC_VA		0x0000123456780000ull
/* Fill byte of fresh memory: encoders must overwrite every byte they own. */
#define DEC_POISON	0xa5

static inline uint64_t dec_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A decoded command. */
struct dec_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint8_t reserved[6];	/* header bytes 2..7 */
	uint64_t arg[7];
};

static inline struct dec_cmd dec_cmd(const void *mem, size_t index)
{
	const uint8_t *p = (const uint8_t *)mem + index * DEC_CMD_SIZE;
	struct dec_cmd c;

	c.opcode = p[0];
	c.flags = p[1];
	memcpy(c.reserved, p + 2, sizeof(c.reserved));
	for (int i = 0; i < 7; i++)
		c.arg[i] = dec_le64(p + 8 + 8 * i);
	return c;
}

/* Word @i of the descriptor the device would read at @va. */
static inline uint64_t dec_desc_word(const void *mem, uint64_t va, int i)
{
	return dec_le64((const uint8_t *)mem + (va - DEC_VA) + 8 * i);
}

/*
 * Checks command @index of @mem: opcode, flags, zero header bytes, and the
 * seven arguments against @args (arguments not listed must be zero).
 */
#define EXPECT_CMD(mem, index, op, fl, ...) do {			\
	const uint64_t __want[7] = { __VA_ARGS__ };			\
	struct dec_cmd __c = dec_cmd((mem), (index));			\
	EXPECT_EQ((op), __c.opcode);					\
	EXPECT_EQ((fl), __c.flags);					\
	for (int __i = 0; __i < 6; __i++)				\
		EXPECT_EQ(0, __c.reserved[__i]);			\
	for (int __i = 0; __i < 7; __i++) {				\
		EXPECT_EQ(__want[__i], __c.arg[__i]) {			\
			TH_LOG("argument %d", __i);			\
		}							\
	}								\
} while (0)

#endif /* LUMEN_HOST_DECODE_H */
