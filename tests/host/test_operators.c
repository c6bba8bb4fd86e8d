// SPDX-License-Identifier: MIT
/*
 * Operator encoders: the command (opcode, descriptor address) and every
 * word of the 128-byte descriptor, decoded against driver/lumen_regs.h
 * (word indices LUMEN_*_W_*; codes and bit positions written out here as
 * numbers), and per operator a table of argument sets that must be
 * refused with -EINVAL, leaving the command buffer untouched.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "decode.h"
#include "fake.h"
#include "lumen_regs.h"

/* The tables below override single fields of a valid base argument set. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

#define CAP		4096
#define VA_LIMIT	(1ull << 48)
#define MIB		(1ull << 20)

FIXTURE(ops) {
	struct accel_dev dev;
	struct accel_cmdbuf cb;
	uint64_t mem[CAP / 8];
	uint8_t pristine[CAP];
};

FIXTURE_SETUP(ops)
{
	self->dev = fake_dev();
	memset(self->mem, DEC_POISON, CAP);
	memset(self->pristine, DEC_POISON, CAP);
	fake_cmdbuf(&self->cb, &self->dev, NULL, self->mem, CAP, DEC_VA, CAP);
}

FIXTURE_TEARDOWN(ops)
{
}

#define EXPECT_UNTOUCHED(self) do {					\
	EXPECT_EQ(0, accel_cmdbuf_size(&(self)->cb));			\
	EXPECT_EQ(0, memcmp((self)->pristine, (self)->mem, CAP));	\
} while (0)

/*
 * Checks that command 0 is @opcode naming the first descriptor (at the
 * end of the buffer) and that the descriptor holds @want word by word.
 */
#define EXPECT_DESC(self, opcode, ...) do {				\
	const uint64_t __w[16] = { __VA_ARGS__ };			\
	uint64_t __va = DEC_VA + CAP - 128;				\
	EXPECT_EQ(64, accel_cmdbuf_size(&(self)->cb));			\
	EXPECT_CMD((self)->mem, 0, (opcode), 0, __va);			\
	for (int __i = 0; __i < 16; __i++) {				\
		EXPECT_EQ(__w[__i], dec_desc_word((self)->mem, __va, __i)) { \
			TH_LOG("descriptor word %d", __i);		\
		}							\
	}								\
} while (0)

/* ---- GEMM ------------------------------------------------------------------ */

/* A valid F16 GEMM, as designated initialisers for the tables below. */
#define GEMM_BASE							\
	.type = ACCEL_F16, .c_type = ACCEL_F32,				\
	.trans_a = false, .trans_b = true,				\
	.m = 3, .n = 5, .k = 7,						\
	.a = 0x100000, .lda = 9,	/* A 3 x 7 */			\
	.b = 0x200000, .ldb = 8,	/* B^T stored 5 x 7 */		\
	.c = 0x300000, .ldc = 6,					\
	.bias_kind = ACCEL_BIAS_COL, .bias = 0x400000,			\
	.act = ACCEL_ACT_GELU,						\
	.alpha = 1.5f, .beta = -2.0f

TEST_F(ops, gemm_f16)
{
	const struct accel_gemm g = { GEMM_BASE };

	ASSERT_EQ(0, accel_cmd_gemm(&self->cb, &g));
	/*
	 * mode: type 2 | c_type 1 << 8 | trans_b bit 17 | bias 2 << 20 |
	 * act 2 << 24; scale: 1.5f = 0x3fc00000, -2.0f = 0xc0000000 << 32.
	 */
	EXPECT_DESC(self, 0x20,
		[LUMEN_GEMM_W_MODE] = 0x02220102ull,
		[LUMEN_GEMM_W_M] = 3, [LUMEN_GEMM_W_N] = 5, [LUMEN_GEMM_W_K] = 7,
		[LUMEN_GEMM_W_A] = 0x100000, [LUMEN_GEMM_W_LDA] = 9,
		[LUMEN_GEMM_W_B] = 0x200000, [LUMEN_GEMM_W_LDB] = 8,
		[LUMEN_GEMM_W_C] = 0x300000, [LUMEN_GEMM_W_LDC] = 6,
		[LUMEN_GEMM_W_BIAS] = 0x400000,
		[LUMEN_GEMM_W_SCALE] = 0xc00000003fc00000ull);
}

TEST_F(ops, gemm_i8)
{
	const struct accel_gemm g = {
		.type = ACCEL_I8, .c_type = ACCEL_I32, .trans_a = true,
		.m = 4, .n = 2, .k = 3,
		.a = 0x100001, .lda = 4,	/* A^T stored 3 x 4, bytes */
		.b = 0x200003, .ldb = 2,
		.c = 0x300000, .ldc = 2,
		.act = ACCEL_ACT_RELU,
		.ialpha = -3, .ibeta = 7,
	};

	ASSERT_EQ(0, accel_cmd_gemm(&self->cb, &g));
	/* mode: type 4 | c_type 5 << 8 | trans_a bit 16 | act 1 << 24 */
	EXPECT_DESC(self, 0x20,
		[LUMEN_GEMM_W_MODE] = 0x01010504ull,
		[LUMEN_GEMM_W_M] = 4, [LUMEN_GEMM_W_N] = 2, [LUMEN_GEMM_W_K] = 3,
		[LUMEN_GEMM_W_A] = 0x100001, [LUMEN_GEMM_W_LDA] = 4,
		[LUMEN_GEMM_W_B] = 0x200003, [LUMEN_GEMM_W_LDB] = 2,
		[LUMEN_GEMM_W_C] = 0x300000, [LUMEN_GEMM_W_LDC] = 2,
		[LUMEN_GEMM_W_SCALE] = 0x00000007fffffffdull);
}

/* Every valid type pair, with the smallest leading dimensions. */
TEST_F(ops, gemm_type_pairs)
{
	static const enum accel_dtype pairs[][2] = {
		{ ACCEL_F32, ACCEL_F32 }, { ACCEL_F16, ACCEL_F16 },
		{ ACCEL_F16, ACCEL_F32 }, { ACCEL_BF16, ACCEL_BF16 },
		{ ACCEL_BF16, ACCEL_F32 },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct accel_gemm g = {
			GEMM_BASE, .type = pairs[i][0], .c_type = pairs[i][1],
			.trans_b = false, .lda = 7, .ldb = 5, .ldc = 5,
		};

		EXPECT_EQ(0, accel_cmd_gemm(&self->cb, &g)) {
			TH_LOG("pair %zu", i);
		}
	}
}

static const struct {
	const char *why;
	struct accel_gemm g;
} bad_gemm[] = {
	{ "type 0", { GEMM_BASE, .type = 0 } },
	{ "type 6", { GEMM_BASE, .type = 6 } },
	{ "type I32", { GEMM_BASE, .type = ACCEL_I32, .c_type = ACCEL_I32 } },
	{ "F32 into F16", { GEMM_BASE, .type = ACCEL_F32, .c_type = ACCEL_F16 } },
	{ "F16 into BF16", { GEMM_BASE, .c_type = ACCEL_BF16 } },
	{ "I8 into F32", { GEMM_BASE, .type = ACCEL_I8, .c_type = ACCEL_F32,
			   .alpha = 0, .beta = 0, .act = 0 } },
	{ "activation 4", { GEMM_BASE, .act = 4 } },
	{ "I8 with GELU", { GEMM_BASE, .type = ACCEL_I8, .c_type = ACCEL_I32,
			    .alpha = 0, .beta = 0, .ialpha = 1 } },
	{ "I8 with alpha", { GEMM_BASE, .type = ACCEL_I8, .c_type = ACCEL_I32,
			     .act = 0, .bias = 0x400000, .ialpha = 1 } },
	{ "F16 with ibeta", { GEMM_BASE, .ibeta = 1 } },
	{ "bias kind 3", { GEMM_BASE, .bias_kind = 3 } },
	{ "bias kind without bias", { GEMM_BASE, .bias = 0 } },
	{ "bias without kind", { GEMM_BASE, .bias_kind = ACCEL_BIAS_NONE } },
	{ "m 0", { GEMM_BASE, .m = 0 } },
	{ "n 0", { GEMM_BASE, .n = 0 } },
	{ "k 0", { GEMM_BASE, .k = 0 } },
	{ "lda < k", { GEMM_BASE, .lda = 6 } },
	{ "transposed lda < m", { GEMM_BASE, .trans_a = true, .lda = 2 } },
	{ "transposed ldb < k", { GEMM_BASE, .ldb = 6 } },
	{ "ldb < n", { GEMM_BASE, .trans_b = false, .ldb = 4 } },
	{ "ldc < n", { GEMM_BASE, .ldc = 4 } },
	{ "a 0", { GEMM_BASE, .a = 0 } },
	{ "b 0", { GEMM_BASE, .b = 0 } },
	{ "c 0", { GEMM_BASE, .c = 0 } },
	{ "a misaligned", { GEMM_BASE, .a = 0x100001 } },
	{ "c misaligned", { GEMM_BASE, .c = 0x300002 } },
	{ "bias misaligned", { GEMM_BASE, .bias = 0x400002 } },
	{ "c crossing 2^48", { GEMM_BASE, .c = VA_LIMIT - 16 } },
	{ "operands above 512 MiB", { GEMM_BASE, .m = 16385, .k = 16384,
				      .lda = 16384, .ldb = 16384 } },
	{ "ld overflowing", { GEMM_BASE, .ldc = 1ull << 62 } },
	/* I8, m = n = k = 2^13: 2^39 multiply-adds; operands only 384 MiB. */
	{ "work above 2^38 MACs", { GEMM_BASE, .type = ACCEL_I8, .c_type = ACCEL_I32,
				    .act = ACCEL_ACT_NONE, .alpha = 0, .beta = 0,
				    .m = 8192, .n = 8192, .k = 8192, .lda = 8192,
				    .ldb = 8192, .ldc = 8192 } },
	{ "m at 2^31", { GEMM_BASE, .m = 1ull << 31 } },
};

TEST_F(ops, gemm_refuses)
{
	for (size_t i = 0; i < sizeof(bad_gemm) / sizeof(bad_gemm[0]); i++) {
		EXPECT_EQ(-EINVAL, accel_cmd_gemm(&self->cb, &bad_gemm[i].g)) {
			TH_LOG("case: %s", bad_gemm[i].why);
		}
	}
	EXPECT_EQ(-EINVAL, accel_cmd_gemm(&self->cb, NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_gemm(NULL, &bad_gemm[0].g));
	EXPECT_UNTOUCHED(self);
}

/* ---- Element-wise ---------------------------------------------------------- */

#define ELT_BASE							\
	.op = ACCEL_ELT_ADD, .type = ACCEL_BF16,			\
	.rows = 3, .cols = 10,						\
	.y = 0x100000, .ldy = 12,					\
	.x = 0x200000, .ldx = 10,					\
	.b = 0x300000, .ldb = 11

TEST_F(ops, eltwise_add)
{
	const struct accel_eltwise e = { ELT_BASE };

	ASSERT_EQ(0, accel_cmd_eltwise(&self->cb, &e));
	/* mode: op 1 | type 3 << 8 */
	EXPECT_DESC(self, 0x21,
		[LUMEN_ELT_W_MODE] = 0x0301,
		[LUMEN_ELT_W_ROWS] = 3, [LUMEN_ELT_W_COLS] = 10,
		[LUMEN_ELT_W_Y] = 0x100000, [LUMEN_ELT_W_LDY] = 12,
		[LUMEN_ELT_W_X] = 0x200000, [LUMEN_ELT_W_LDX] = 10,
		[LUMEN_ELT_W_B] = 0x300000, [LUMEN_ELT_W_LDB] = 11);
}

/* Broadcast: bit 16, and the ignored ldb is written as zero. */
TEST_F(ops, eltwise_mul_broadcast)
{
	const struct accel_eltwise e = {
		ELT_BASE, .op = ACCEL_ELT_MUL, .type = ACCEL_F32,
		.broadcast = true, .ldb = 0,
	};

	ASSERT_EQ(0, accel_cmd_eltwise(&self->cb, &e));
	EXPECT_DESC(self, 0x21,
		[LUMEN_ELT_W_MODE] = 0x10102,
		[LUMEN_ELT_W_ROWS] = 3, [LUMEN_ELT_W_COLS] = 10,
		[LUMEN_ELT_W_Y] = 0x100000, [LUMEN_ELT_W_LDY] = 12,
		[LUMEN_ELT_W_X] = 0x200000, [LUMEN_ELT_W_LDX] = 10,
		[LUMEN_ELT_W_B] = 0x300000);
}

TEST_F(ops, eltwise_silu_in_place)
{
	const struct accel_eltwise e = {
		.op = ACCEL_ELT_SILU, .type = ACCEL_F16, .rows = 1, .cols = 1,
		.y = 0x100002, .ldy = 1, .x = 0x100002, .ldx = 1,
	};

	ASSERT_EQ(0, accel_cmd_eltwise(&self->cb, &e));
	EXPECT_DESC(self, 0x21,
		[LUMEN_ELT_W_MODE] = 0x0205,
		[LUMEN_ELT_W_ROWS] = 1, [LUMEN_ELT_W_COLS] = 1,
		[LUMEN_ELT_W_Y] = 0x100002, [LUMEN_ELT_W_LDY] = 1,
		[LUMEN_ELT_W_X] = 0x100002, [LUMEN_ELT_W_LDX] = 1);
}

static const struct {
	const char *why;
	struct accel_eltwise e;
} bad_eltwise[] = {
	{ "op 0", { ELT_BASE, .op = 0 } },
	{ "op 6", { ELT_BASE, .op = 6 } },
	{ "type 0", { ELT_BASE, .type = 0 } },
	{ "type I8", { ELT_BASE, .type = ACCEL_I8 } },
	{ "type I32", { ELT_BASE, .type = ACCEL_I32 } },
	{ "rows 0", { ELT_BASE, .rows = 0 } },
	{ "cols 0", { ELT_BASE, .cols = 0 } },
	{ "ldy < cols", { ELT_BASE, .ldy = 9 } },
	{ "ldx < cols", { ELT_BASE, .ldx = 9 } },
	{ "ldb < cols", { ELT_BASE, .ldb = 9 } },
	{ "add without b", { ELT_BASE, .b = 0 } },
	{ "relu with b", { ELT_BASE, .op = ACCEL_ELT_RELU } },
	{ "gelu with broadcast", { ELT_BASE, .op = ACCEL_ELT_GELU, .b = 0,
				   .broadcast = true } },
	{ "y 0", { ELT_BASE, .y = 0 } },
	{ "x misaligned", { ELT_BASE, .x = 0x200001 } },
	{ "b misaligned", { ELT_BASE, .b = 0x300001 } },
	{ "y crossing 2^48", { ELT_BASE, .y = VA_LIMIT - 64 } },
	{ "operands above 512 MiB", { ELT_BASE, .type = ACCEL_F32,
				      .rows = 16385, .cols = 4096, .ldy = 4096,
				      .ldx = 4096, .ldb = 4096 } },
};

TEST_F(ops, eltwise_refuses)
{
	for (size_t i = 0; i < sizeof(bad_eltwise) / sizeof(bad_eltwise[0]); i++) {
		EXPECT_EQ(-EINVAL, accel_cmd_eltwise(&self->cb, &bad_eltwise[i].e)) {
			TH_LOG("case: %s", bad_eltwise[i].why);
		}
	}
	EXPECT_EQ(-EINVAL, accel_cmd_eltwise(&self->cb, NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_eltwise(NULL, &bad_eltwise[0].e));
	EXPECT_UNTOUCHED(self);
}

/* ---- Softmax and norms ------------------------------------------------------ */

#define ROWS_BASE							\
	.rows = 5, .cols = 33,						\
	.y = 0x100000, .ldy = 40,					\
	.x = 0x200000, .ldx = 33

TEST_F(ops, softmax)
{
	const struct accel_rows r = { ROWS_BASE };

	ASSERT_EQ(0, accel_cmd_softmax(&self->cb, &r));
	EXPECT_DESC(self, 0x22,
		[LUMEN_ROWS_W_ROWS] = 5, [LUMEN_ROWS_W_COLS] = 33,
		[LUMEN_ROWS_W_Y] = 0x100000, [LUMEN_ROWS_W_LDY] = 40,
		[LUMEN_ROWS_W_X] = 0x200000, [LUMEN_ROWS_W_LDX] = 33);
}

TEST_F(ops, layer_norm)
{
	const struct accel_rows r = {
		ROWS_BASE, .gamma = 0x300000, .beta = 0x400004, .eps = 1e-5f,
	};

	ASSERT_EQ(0, accel_cmd_layer_norm(&self->cb, &r));
	/* 1e-5f is 0x3727c5ac. */
	EXPECT_DESC(self, 0x23,
		[LUMEN_ROWS_W_ROWS] = 5, [LUMEN_ROWS_W_COLS] = 33,
		[LUMEN_ROWS_W_Y] = 0x100000, [LUMEN_ROWS_W_LDY] = 40,
		[LUMEN_ROWS_W_X] = 0x200000, [LUMEN_ROWS_W_LDX] = 33,
		[LUMEN_ROWS_W_GAMMA] = 0x300000, [LUMEN_ROWS_W_BETA] = 0x400004,
		[LUMEN_ROWS_W_EPS] = 0x3727c5acull);
}

TEST_F(ops, rms_norm)
{
	const struct accel_rows r = { ROWS_BASE, .gamma = 0x300000, .eps = 0.25f };

	ASSERT_EQ(0, accel_cmd_rms_norm(&self->cb, &r));
	EXPECT_DESC(self, 0x24,
		[LUMEN_ROWS_W_ROWS] = 5, [LUMEN_ROWS_W_COLS] = 33,
		[LUMEN_ROWS_W_Y] = 0x100000, [LUMEN_ROWS_W_LDY] = 40,
		[LUMEN_ROWS_W_X] = 0x200000, [LUMEN_ROWS_W_LDX] = 33,
		[LUMEN_ROWS_W_GAMMA] = 0x300000,
		[LUMEN_ROWS_W_EPS] = 0x3e800000ull);
}

static const struct {
	const char *why;
	struct accel_rows r;
} bad_rows_all[] = {
	{ "rows 0", { ROWS_BASE, .rows = 0 } },
	{ "cols 0", { ROWS_BASE, .cols = 0 } },
	{ "ldy < cols", { ROWS_BASE, .ldy = 32 } },
	{ "ldx < cols", { ROWS_BASE, .ldx = 32 } },
	{ "y 0", { ROWS_BASE, .y = 0 } },
	{ "x 0", { ROWS_BASE, .x = 0 } },
	{ "x misaligned", { ROWS_BASE, .x = 0x200002 } },
	{ "y crossing 2^48", { ROWS_BASE, .y = VA_LIMIT - 256 } },
	{ "gamma misaligned", { ROWS_BASE, .gamma = 0x300001 } },
	{ "eps NaN", { ROWS_BASE, .eps = NAN } },
	{ "eps negative", { ROWS_BASE, .eps = -1e-5f } },
	{ "eps infinite", { ROWS_BASE, .eps = INFINITY } },
	{ "operands above 512 MiB", { ROWS_BASE, .rows = 32769, .cols = 2048,
				      .ldy = 2048, .ldx = 2048 } },
};

TEST_F(ops, rows_refuse)
{
	const struct accel_rows gamma = { ROWS_BASE, .gamma = 0x300000 };
	const struct accel_rows beta = { ROWS_BASE, .beta = 0x300000 };
	const struct accel_rows eps = { ROWS_BASE, .eps = 1.0f };

	for (size_t i = 0; i < sizeof(bad_rows_all) / sizeof(bad_rows_all[0]); i++) {
		const struct accel_rows *r = &bad_rows_all[i].r;

		TH_LOG("case: %s", bad_rows_all[i].why);
		EXPECT_EQ(-EINVAL, accel_cmd_layer_norm(&self->cb, r));
		EXPECT_EQ(-EINVAL, accel_cmd_rms_norm(&self->cb, r));
		/* softmax refuses these too, if only for the gamma or eps */
		EXPECT_EQ(-EINVAL, accel_cmd_softmax(&self->cb, r));
	}
	/* Operands an operator does not take. */
	EXPECT_EQ(-EINVAL, accel_cmd_softmax(&self->cb, &gamma));
	EXPECT_EQ(-EINVAL, accel_cmd_softmax(&self->cb, &beta));
	EXPECT_EQ(-EINVAL, accel_cmd_softmax(&self->cb, &eps));
	EXPECT_EQ(-EINVAL, accel_cmd_rms_norm(&self->cb, &beta));
	EXPECT_EQ(-EINVAL, accel_cmd_softmax(&self->cb, NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_layer_norm(NULL, &gamma));
	EXPECT_UNTOUCHED(self);
}

/* ---- conv2d ----------------------------------------------------------------- */

#define CONV_BASE							\
	.n = 2, .c = 6, .h = 17, .w = 13,				\
	.k = 4, .r = 3, .s = 5, .groups = 2,				\
	.stride_h = 2, .stride_w = 1,					\
	.pad_h = 1, .pad_w = 2,						\
	.dil_h = 1, .dil_w = 3,						\
	.x = 0x100000, .weight = 0x200000, .bias = 0x300000,		\
	.y = 0x400000, .act = ACCEL_ACT_SILU

TEST(conv2d_out_size)
{
	const struct accel_conv2d cv = { CONV_BASE };
	uint64_t p = 0, q = 0;

	/* p = (17 + 2 - 2 - 1) / 2 + 1 = 9, q = (13 + 4 - 12 - 1) / 1 + 1 = 5 */
	ASSERT_EQ(0, accel_conv2d_out_size(&cv, &p, &q));
	EXPECT_EQ(9, p);
	EXPECT_EQ(5, q);
	EXPECT_EQ(-EINVAL, accel_conv2d_out_size(NULL, &p, &q));
	EXPECT_EQ(-EINVAL, accel_conv2d_out_size(&cv, NULL, &q));
	EXPECT_EQ(-EINVAL, accel_conv2d_out_size(&cv, &p, NULL));
}

TEST_F(ops, conv2d)
{
	const struct accel_conv2d cv = { CONV_BASE };

	ASSERT_EQ(0, accel_cmd_conv2d(&self->cb, &cv));
	/* Pairs: h in the low 32 bits, w in the high. */
	EXPECT_DESC(self, 0x25,
		[LUMEN_CONV_W_MODE] = 3,
		[LUMEN_CONV_W_N] = 2, [LUMEN_CONV_W_C] = 6,
		[LUMEN_CONV_W_H] = 17, [LUMEN_CONV_W_W] = 13,
		[LUMEN_CONV_W_K] = 4, [LUMEN_CONV_W_R] = 3, [LUMEN_CONV_W_S] = 5,
		[LUMEN_CONV_W_GROUPS] = 2,
		[LUMEN_CONV_W_STRIDE] = 0x0000000100000002ull,
		[LUMEN_CONV_W_PAD] = 0x0000000200000001ull,
		[LUMEN_CONV_W_DILATION] = 0x0000000300000001ull,
		[LUMEN_CONV_W_X] = 0x100000, [LUMEN_CONV_W_WEIGHT] = 0x200000,
		[LUMEN_CONV_W_BIAS] = 0x300000, [LUMEN_CONV_W_Y] = 0x400000);
}

static const struct {
	const char *why;
	struct accel_conv2d cv;
} bad_conv[] = {
	{ "n 0", { CONV_BASE, .n = 0 } },
	{ "c 0", { CONV_BASE, .c = 0 } },
	{ "k 0", { CONV_BASE, .k = 0 } },
	{ "r 0", { CONV_BASE, .r = 0 } },
	{ "groups 0", { CONV_BASE, .groups = 0 } },
	{ "groups not dividing c", { CONV_BASE, .groups = 4 } },
	{ "groups not dividing k", { CONV_BASE, .groups = 3 } },
	{ "stride 0", { CONV_BASE, .stride_w = 0 } },
	{ "dilation 0", { CONV_BASE, .dil_h = 0 } },
	{ "window larger than input", { CONV_BASE, .s = 7 } },
	{ "pad above 32 bits", { CONV_BASE, .pad_h = 1ull << 32 } },
	{ "h above 32 bits", { CONV_BASE, .h = 1ull << 32 } },
	{ "h at 2^31", { CONV_BASE, .h = 1ull << 31 } },
	/*
	 * 128 x 128 output of one channel from 32 channels under a 1024 x 1024
	 * window: 2^39 multiply-adds; operands 170 + 128 MB.
	 */
	{ "work above 2^38 MACs", { CONV_BASE, .n = 1, .c = 32, .h = 1151, .w = 1151,
				    .k = 1, .r = 1024, .s = 1024, .groups = 1,
				    .stride_h = 1, .stride_w = 1, .pad_h = 0,
				    .pad_w = 0, .dil_h = 1, .dil_w = 1 } },
};

TEST_F(ops, conv2d_refuses)
{
	uint64_t p, q;

	for (size_t i = 0; i < sizeof(bad_conv) / sizeof(bad_conv[0]); i++) {
		EXPECT_EQ(-EINVAL, accel_cmd_conv2d(&self->cb, &bad_conv[i].cv)) {
			TH_LOG("case: %s", bad_conv[i].why);
		}
	}
	/* Shape errors are out_size errors too. */
	EXPECT_EQ(-EINVAL, accel_conv2d_out_size(&bad_conv[5].cv, &p, &q));
	EXPECT_EQ(-EINVAL, accel_cmd_conv2d(&self->cb, NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_conv2d(NULL, &bad_conv[0].cv));
	EXPECT_UNTOUCHED(self);
}

/* ---- pool2d ----------------------------------------------------------------- */

#define POOL_BASE							\
	.op = ACCEL_POOL_AVG, .n = 1, .c = 3, .h = 10, .w = 7,		\
	.r = 3, .s = 2, .stride_h = 3, .stride_w = 2,			\
	.pad_h = 2, .pad_w = 1,						\
	.x = 0x100000, .y = 0x200000

TEST(pool2d_out_size)
{
	const struct accel_pool2d pl = { POOL_BASE };
	uint64_t p = 0, q = 0;

	/* p = (10 + 4 - 3) / 3 + 1 = 4, q = (7 + 2 - 2) / 2 + 1 = 4 */
	ASSERT_EQ(0, accel_pool2d_out_size(&pl, &p, &q));
	EXPECT_EQ(4, p);
	EXPECT_EQ(4, q);
}

TEST_F(ops, pool2d)
{
	const struct accel_pool2d pl = { POOL_BASE };

	ASSERT_EQ(0, accel_cmd_pool2d(&self->cb, &pl));
	EXPECT_DESC(self, 0x26,
		[LUMEN_POOL_W_MODE] = 2,
		[LUMEN_POOL_W_N] = 1, [LUMEN_POOL_W_C] = 3,
		[LUMEN_POOL_W_H] = 10, [LUMEN_POOL_W_W] = 7,
		[LUMEN_POOL_W_R] = 3, [LUMEN_POOL_W_S] = 2,
		[LUMEN_POOL_W_STRIDE] = 0x0000000200000003ull,
		[LUMEN_POOL_W_PAD] = 0x0000000100000002ull,
		[LUMEN_POOL_W_X] = 0x100000, [LUMEN_POOL_W_Y] = 0x200000);
}

static const struct {
	const char *why;
	struct accel_pool2d pl;
} bad_pool[] = {
	{ "op 0", { POOL_BASE, .op = 0 } },
	{ "op 3", { POOL_BASE, .op = 3 } },
	{ "c 0", { POOL_BASE, .c = 0 } },
	{ "s 0", { POOL_BASE, .s = 0 } },
	{ "stride 0", { POOL_BASE, .stride_h = 0 } },
	{ "pad_h == r", { POOL_BASE, .pad_h = 3 } },
	{ "pad_w > s", { POOL_BASE, .pad_w = 5 } },
	{ "window larger than input", { POOL_BASE, .w = 1, .s = 4, .pad_w = 1 } },
	{ "x 0", { POOL_BASE, .x = 0 } },
	{ "y misaligned", { POOL_BASE, .y = 0x200001 } },
	{ "x crossing 2^48", { POOL_BASE, .x = VA_LIMIT - 64 } },
	/* 8192^2 input, 4096^2 window: ~2^48 multiply-adds; operands 323 MB. */
	{ "work above 2^38 MACs", { POOL_BASE, .n = 1, .c = 1, .h = 8192,
				    .w = 8192, .r = 4096, .s = 4096,
				    .stride_h = 1, .stride_w = 1, .pad_h = 0,
				    .pad_w = 0 } },
	{ "operands above 512 MiB", { POOL_BASE, .n = 128, .c = 1024,
				      .h = 32, .w = 32 } },
};

TEST_F(ops, pool2d_refuses)
{
	for (size_t i = 0; i < sizeof(bad_pool) / sizeof(bad_pool[0]); i++) {
		EXPECT_EQ(-EINVAL, accel_cmd_pool2d(&self->cb, &bad_pool[i].pl)) {
			TH_LOG("case: %s", bad_pool[i].why);
		}
	}
	EXPECT_EQ(-EINVAL, accel_cmd_pool2d(&self->cb, NULL));
	EXPECT_EQ(-EINVAL, accel_cmd_pool2d(NULL, &bad_pool[0].pl));
	EXPECT_UNTOUCHED(self);
}

/* The big shapes of the tables above, within every limit but the work one. */
TEST_F(ops, big_shapes_under_the_work_limit)
{
	const struct accel_gemm g = {
		GEMM_BASE, .type = ACCEL_I8, .c_type = ACCEL_I32,
		.act = ACCEL_ACT_NONE, .alpha = 0, .beta = 0,
		.m = 8192, .n = 8192, .k = 4096, .lda = 4096, .ldb = 4096, .ldc = 8192,
	};
	const struct accel_conv2d cv = {
		CONV_BASE, .n = 1, .c = 16, .h = 1151, .w = 1151, .k = 1,
		.r = 1024, .s = 1024, .groups = 1, .stride_h = 1, .stride_w = 1,
		.pad_h = 0, .pad_w = 0, .dil_h = 1, .dil_w = 1,
	};
	const struct accel_pool2d pl = {
		POOL_BASE, .n = 1, .c = 1, .h = 8192, .w = 8192, .r = 64, .s = 64,
		.stride_h = 64, .stride_w = 64, .pad_h = 0, .pad_w = 0,
	};

	/* 2^38 exactly, 2^38 exactly, 2^26 multiply-adds. */
	EXPECT_EQ(0, accel_cmd_gemm(&self->cb, &g));
	EXPECT_EQ(0, accel_cmd_conv2d(&self->cb, &cv));
	EXPECT_EQ(0, accel_cmd_pool2d(&self->cb, &pl));
}

/* The type, activation and op codes are the device's. */
TEST(codes_are_the_device_codes)
{
	EXPECT_EQ(1, ACCEL_F32);
	EXPECT_EQ(2, ACCEL_F16);
	EXPECT_EQ(3, ACCEL_BF16);
	EXPECT_EQ(4, ACCEL_I8);
	EXPECT_EQ(5, ACCEL_I32);
	EXPECT_EQ(LUMEN_HW_DTYPE_F32, ACCEL_F32);
	EXPECT_EQ(LUMEN_HW_DTYPE_I32, ACCEL_I32);
	EXPECT_EQ(LUMEN_HW_ACT_SILU, ACCEL_ACT_SILU);
	EXPECT_EQ(3, ACCEL_ACT_SILU);
	EXPECT_EQ(1, ACCEL_ELT_ADD);
	EXPECT_EQ(5, ACCEL_ELT_SILU);
	EXPECT_EQ(2, ACCEL_POOL_AVG);
	EXPECT_EQ(LUMEN_CAP_MMU, ACCEL_CAP_MMU);
	EXPECT_EQ(LUMEN_CAP_OPERATORS, ACCEL_CAP_OPERATORS);
	EXPECT_EQ(LUMEN_CAP_FAULT_INJECTION, ACCEL_CAP_FAULT_INJECTION);
}

TEST_HARNESS_MAIN
