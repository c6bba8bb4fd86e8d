// SPDX-License-Identifier: MIT
/*
 * Encoders of the operator commands: each writes a 128-byte descriptor
 * (driver/lumen_regs.h, LUMEN_*_W_*) into the command buffer's descriptor
 * area and appends the command that names it.
 *
 * The checks mirror the operator library's (tools/qemu/ops/lumen-ops.h) and
 * the device's limits: a shape the device would refuse is -EINVAL here,
 * before any job exists.  Operand extents are summed in the way
 * Documentation/commands.rst counts them for LUMEN_OP_MAX_BYTES.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "encode.h"

_Static_assert(ACCEL_F32 == LUMEN_HW_DTYPE_F32 && ACCEL_F16 == LUMEN_HW_DTYPE_F16 &&
	       ACCEL_BF16 == LUMEN_HW_DTYPE_BF16 && ACCEL_I8 == LUMEN_HW_DTYPE_I8 &&
	       ACCEL_I32 == LUMEN_HW_DTYPE_I32, "libaccel types are the device's");
_Static_assert(ACCEL_ACT_NONE == LUMEN_HW_ACT_NONE && ACCEL_ACT_RELU == LUMEN_HW_ACT_RELU &&
	       ACCEL_ACT_GELU == LUMEN_HW_ACT_GELU && ACCEL_ACT_SILU == LUMEN_HW_ACT_SILU,
	       "libaccel activations are the device's");

/*
 * The device takes sizes of 1 .. 2^31 - 1 (Documentation/commands.rst);
 * strides, paddings and dilations, which travel in 32-bit halves of pair
 * words (LUMEN_PAIR), are held to the same bound.
 */
#define DIM_MAX		INT32_MAX

/* Bytes per element of @type, or 0 for an unknown type. */
static uint64_t dtype_size(uint32_t type)
{
	switch (type) {
	case ACCEL_F32:
	case ACCEL_I32:
		return 4;
	case ACCEL_F16:
	case ACCEL_BF16:
		return 2;
	case ACCEL_I8:
		return 1;
	default:
		return 0;
	}
}

static bool act_ok(uint32_t act)
{
	return act <= ACCEL_ACT_SILU;
}

static uint32_t f32_bits(float f)
{
	uint32_t bits;

	memcpy(&bits, &f, sizeof(bits));
	return bits;
}

/*
 * Operand bookkeeping of one operator: the running total of operand bytes
 * and whether every operand so far was acceptable.
 */
struct operands {
	uint64_t total;
	bool ok;
};

/* Adds an operand of @bytes at @va, aligned to @align. */
static void operand(struct operands *ops, uint64_t va, uint64_t bytes,
		    uint64_t align)
{
	if (!bytes || !enc_range_ok(va, bytes, align) ||
	    bytes > LUMEN_OP_MAX_BYTES - ops->total) {
		ops->ok = false;
		return;
	}
	ops->total += bytes;
}

/*
 * Bytes of a rows x cols matrix of @esize elements with leading dimension
 * @ld: ((rows - 1) * ld + cols) * esize; 0 for a bad shape (a zero size,
 * ld < cols) or one that overflows.
 */
static uint64_t matrix_bytes(uint64_t rows, uint64_t cols, uint64_t ld,
			     uint64_t esize)
{
	uint64_t elems, bytes;

	if (!rows || !cols || !esize || ld < cols ||
	    __builtin_mul_overflow(rows - 1, ld, &elems) ||
	    __builtin_add_overflow(elems, cols, &elems) ||
	    __builtin_mul_overflow(elems, esize, &bytes))
		return 0;
	return bytes;
}

/* Bytes of a dense a x b x c x d F32 tensor; 0 if zero-sized or overflowing. */
static uint64_t tensor_bytes(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t n;

	if (!a || !b || !c || !d ||
	    __builtin_mul_overflow(a, b, &n) ||
	    __builtin_mul_overflow(n, c, &n) ||
	    __builtin_mul_overflow(n, d, &n) ||
	    __builtin_mul_overflow(n, sizeof(float), &n))
		return 0;
	return n;
}

/*
 * Whether the product of @count factors (multiply-adds of one operator)
 * stays within the device's LUMEN_OP_MAX_MACS, without overflow.
 */
static bool macs_ok(const uint64_t *factors, size_t count)
{
	uint64_t macs = 1;

	for (size_t i = 0; i < count; i++)
		if (__builtin_mul_overflow(macs, factors[i], &macs))
			return false;
	return macs <= LUMEN_OP_MAX_MACS;
}

/* Reserves a command and descriptor, or NULL: -ENOSPC for the caller. */
static uint8_t *op_slot(struct accel_cmdbuf *cb, uint8_t **desc,
			uint64_t *desc_va)
{
	return libaccel_cmdbuf_slot(cb, LUMEN_DESC_SIZE, desc, desc_va);
}

static void op_commit(struct accel_cmdbuf *cb, uint8_t *cmd, uint8_t opcode,
		      uint64_t desc_va)
{
	enc_header(cmd, opcode, 0);
	enc_arg(cmd, 0, desc_va);
	libaccel_cmdbuf_commit(cb, LUMEN_DESC_SIZE);
}

/* ---- GEMM ---------------------------------------------------------------- */

/* The pairs of lumen-ops.h's table: A/B type and the C types it allows. */
static bool gemm_types_ok(uint32_t type, uint32_t c_type)
{
	switch (type) {
	case ACCEL_F32:
		return c_type == ACCEL_F32;
	case ACCEL_F16:
		return c_type == ACCEL_F16 || c_type == ACCEL_F32;
	case ACCEL_BF16:
		return c_type == ACCEL_BF16 || c_type == ACCEL_F32;
	case ACCEL_I8:
		return c_type == ACCEL_I32;
	default:
		return false;
	}
}

static bool gemm_mode_ok(const struct accel_gemm *g)
{
	bool int8 = g->type == ACCEL_I8;

	if (!gemm_types_ok(g->type, g->c_type) || !act_ok(g->act) ||
	    (uint32_t)g->bias_kind > ACCEL_BIAS_COL)
		return false;
	if (int8 && g->act != ACCEL_ACT_NONE && g->act != ACCEL_ACT_RELU)
		return false;
	/* The scale pair the type does not use must be left zero. */
	if (int8 ? (g->alpha != 0.0f || g->beta != 0.0f)
		 : (g->ialpha || g->ibeta))
		return false;
	return (g->bias_kind == ACCEL_BIAS_NONE) == (g->bias == 0);
}

static bool gemm_operands_ok(const struct accel_gemm *g)
{
	uint64_t ab = dtype_size(g->type), cs = dtype_size(g->c_type);
	struct operands ops = { .ok = true };

	if (!g->m || !g->n || !g->k || g->m > DIM_MAX || g->n > DIM_MAX ||
	    g->k > DIM_MAX || !macs_ok((const uint64_t[]){ g->m, g->n, g->k }, 3))
		return false;
	/* A is stored m x k, or k x m when transposed; B likewise. */
	operand(&ops, g->a, g->trans_a ? matrix_bytes(g->k, g->m, g->lda, ab)
				       : matrix_bytes(g->m, g->k, g->lda, ab), ab);
	operand(&ops, g->b, g->trans_b ? matrix_bytes(g->n, g->k, g->ldb, ab)
				       : matrix_bytes(g->k, g->n, g->ldb, ab), ab);
	operand(&ops, g->c, matrix_bytes(g->m, g->n, g->ldc, cs), cs);
	if (g->bias_kind != ACCEL_BIAS_NONE)
		operand(&ops, g->bias,
			(g->bias_kind == ACCEL_BIAS_ROW ? g->n : g->m) * cs, cs);
	return ops.ok;
}

static uint64_t gemm_mode(const struct accel_gemm *g)
{
	return (uint64_t)g->type | (uint64_t)g->c_type << 8 |
	       (g->trans_a ? LUMEN_GEMM_TRANS_A : 0) |
	       (g->trans_b ? LUMEN_GEMM_TRANS_B : 0) |
	       (uint64_t)g->bias_kind << 20 | (uint64_t)g->act << 24;
}

static uint64_t gemm_scale(const struct accel_gemm *g)
{
	if (g->type == ACCEL_I8)
		return (uint64_t)(uint32_t)g->ialpha |
		       (uint64_t)(uint32_t)g->ibeta << 32;
	return (uint64_t)f32_bits(g->alpha) | (uint64_t)f32_bits(g->beta) << 32;
}

int accel_cmd_gemm(struct accel_cmdbuf *cb, const struct accel_gemm *g)
{
	uint8_t *cmd, *desc;
	uint64_t desc_va;

	if (!cb || !g || !gemm_mode_ok(g) || !gemm_operands_ok(g))
		return -EINVAL;
	cmd = op_slot(cb, &desc, &desc_va);
	if (!cmd)
		return -ENOSPC;
	enc_word(desc, LUMEN_GEMM_W_MODE, gemm_mode(g));
	enc_word(desc, LUMEN_GEMM_W_M, g->m);
	enc_word(desc, LUMEN_GEMM_W_N, g->n);
	enc_word(desc, LUMEN_GEMM_W_K, g->k);
	enc_word(desc, LUMEN_GEMM_W_A, g->a);
	enc_word(desc, LUMEN_GEMM_W_LDA, g->lda);
	enc_word(desc, LUMEN_GEMM_W_B, g->b);
	enc_word(desc, LUMEN_GEMM_W_LDB, g->ldb);
	enc_word(desc, LUMEN_GEMM_W_C, g->c);
	enc_word(desc, LUMEN_GEMM_W_LDC, g->ldc);
	enc_word(desc, LUMEN_GEMM_W_BIAS, g->bias);
	enc_word(desc, LUMEN_GEMM_W_SCALE, gemm_scale(g));
	op_commit(cb, cmd, LUMEN_OP_GEMM, desc_va);
	return 0;
}

/* ---- Element-wise -------------------------------------------------------- */

static bool eltwise_ok(const struct accel_eltwise *e)
{
	bool binary = e->op == ACCEL_ELT_ADD || e->op == ACCEL_ELT_MUL;
	uint64_t es = dtype_size(e->type);
	struct operands ops = { .ok = true };

	if (e->op < ACCEL_ELT_ADD || e->op > ACCEL_ELT_SILU ||
	    (e->type != ACCEL_F32 && e->type != ACCEL_F16 &&
	     e->type != ACCEL_BF16) ||
	    e->rows > DIM_MAX || e->cols > DIM_MAX)
		return false;
	operand(&ops, e->y, matrix_bytes(e->rows, e->cols, e->ldy, es), es);
	operand(&ops, e->x, matrix_bytes(e->rows, e->cols, e->ldx, es), es);
	if (!binary)
		return ops.ok && !e->b && !e->broadcast;
	operand(&ops, e->b, e->broadcast ? e->cols * es
			    : matrix_bytes(e->rows, e->cols, e->ldb, es), es);
	return ops.ok;
}

int accel_cmd_eltwise(struct accel_cmdbuf *cb, const struct accel_eltwise *e)
{
	uint8_t *cmd, *desc;
	uint64_t desc_va;
	bool uses_ldb;

	if (!cb || !e || !eltwise_ok(e))
		return -EINVAL;
	cmd = op_slot(cb, &desc, &desc_va);
	if (!cmd)
		return -ENOSPC;
	/* An ignored ldb is written as 0: unused words must be zero. */
	uses_ldb = e->b && !e->broadcast;
	enc_word(desc, LUMEN_ELT_W_MODE, (uint64_t)e->op |
		 (uint64_t)e->type << 8 | (e->broadcast ? LUMEN_ELT_BROADCAST : 0));
	enc_word(desc, LUMEN_ELT_W_ROWS, e->rows);
	enc_word(desc, LUMEN_ELT_W_COLS, e->cols);
	enc_word(desc, LUMEN_ELT_W_Y, e->y);
	enc_word(desc, LUMEN_ELT_W_LDY, e->ldy);
	enc_word(desc, LUMEN_ELT_W_X, e->x);
	enc_word(desc, LUMEN_ELT_W_LDX, e->ldx);
	enc_word(desc, LUMEN_ELT_W_B, e->b);
	enc_word(desc, LUMEN_ELT_W_LDB, uses_ldb ? e->ldb : 0);
	op_commit(cb, cmd, LUMEN_OP_ELTWISE, desc_va);
	return 0;
}

/* ---- Row-wise: softmax, layer norm, RMS norm ----------------------------- */

enum rows_kind { ROWS_SOFTMAX, ROWS_LAYER_NORM, ROWS_RMS_NORM };

static bool rows_ok(const struct accel_rows *r, enum rows_kind kind)
{
	const uint64_t fs = sizeof(float);
	struct operands ops = { .ok = true };

	if (r->rows > DIM_MAX || r->cols > DIM_MAX)
		return false;
	operand(&ops, r->y, matrix_bytes(r->rows, r->cols, r->ldy, fs), fs);
	operand(&ops, r->x, matrix_bytes(r->rows, r->cols, r->ldx, fs), fs);
	if (kind == ROWS_SOFTMAX)
		return ops.ok && !r->gamma && !r->beta && f32_bits(r->eps) == 0;
	if (!(isfinite(r->eps) && r->eps >= 0.0f))
		return false;
	if (kind == ROWS_RMS_NORM && r->beta)
		return false;
	/* Optional vectors of cols elements: 0 means absent. */
	if (r->gamma)
		operand(&ops, r->gamma, r->cols * fs, fs);
	if (r->beta)
		operand(&ops, r->beta, r->cols * fs, fs);
	return ops.ok;
}

static int append_rows(struct accel_cmdbuf *cb, const struct accel_rows *r,
		       enum rows_kind kind, uint8_t opcode)
{
	uint8_t *cmd, *desc;
	uint64_t desc_va;

	if (!cb || !r || !rows_ok(r, kind))
		return -EINVAL;
	cmd = op_slot(cb, &desc, &desc_va);
	if (!cmd)
		return -ENOSPC;
	enc_word(desc, LUMEN_ROWS_W_ROWS, r->rows);
	enc_word(desc, LUMEN_ROWS_W_COLS, r->cols);
	enc_word(desc, LUMEN_ROWS_W_Y, r->y);
	enc_word(desc, LUMEN_ROWS_W_LDY, r->ldy);
	enc_word(desc, LUMEN_ROWS_W_X, r->x);
	enc_word(desc, LUMEN_ROWS_W_LDX, r->ldx);
	enc_word(desc, LUMEN_ROWS_W_GAMMA, r->gamma);
	enc_word(desc, LUMEN_ROWS_W_BETA, r->beta);
	/* -0.0 is accepted above as >= 0 and travels as its own bits. */
	enc_word(desc, LUMEN_ROWS_W_EPS, f32_bits(r->eps));
	op_commit(cb, cmd, opcode, desc_va);
	return 0;
}

int accel_cmd_softmax(struct accel_cmdbuf *cb, const struct accel_rows *r)
{
	return append_rows(cb, r, ROWS_SOFTMAX, LUMEN_OP_SOFTMAX);
}

int accel_cmd_layer_norm(struct accel_cmdbuf *cb, const struct accel_rows *r)
{
	return append_rows(cb, r, ROWS_LAYER_NORM, LUMEN_OP_LAYER_NORM);
}

int accel_cmd_rms_norm(struct accel_cmdbuf *cb, const struct accel_rows *r)
{
	return append_rows(cb, r, ROWS_RMS_NORM, LUMEN_OP_RMS_NORM);
}

/* ---- conv2d -------------------------------------------------------------- */

/*
 * One output dimension of a convolution or pooling window:
 * (in + 2 pad - span) / stride + 1 with span = dil * (win - 1) + 1, or 0
 * when the window does not fit.  Inputs are at most DIM_MAX, so nothing
 * here overflows 64 bits.
 */
static uint64_t out_dim(uint64_t in, uint64_t pad, uint64_t win,
			uint64_t dil, uint64_t stride)
{
	uint64_t span = dil * (win - 1) + 1;

	if (in + 2 * pad < span)
		return 0;
	return (in + 2 * pad - span) / stride + 1;
}

static bool dims_ok(const uint64_t *dims, size_t count, uint64_t min)
{
	for (size_t i = 0; i < count; i++)
		if (dims[i] < min || dims[i] > DIM_MAX)
			return false;
	return true;
}

int accel_conv2d_out_size(const struct accel_conv2d *cv, uint64_t *p,
			  uint64_t *q)
{
	uint64_t ph, qw;

	if (!cv || !p || !q)
		return -EINVAL;
	if (!dims_ok((const uint64_t[]){ cv->n, cv->c, cv->h, cv->w, cv->k,
					 cv->r, cv->s, cv->groups,
					 cv->stride_h, cv->stride_w,
					 cv->dil_h, cv->dil_w }, 12, 1) ||
	    !dims_ok((const uint64_t[]){ cv->pad_h, cv->pad_w }, 2, 0) ||
	    cv->c % cv->groups || cv->k % cv->groups)
		return -EINVAL;
	ph = out_dim(cv->h, cv->pad_h, cv->r, cv->dil_h, cv->stride_h);
	qw = out_dim(cv->w, cv->pad_w, cv->s, cv->dil_w, cv->stride_w);
	if (!ph || !qw)
		return -EINVAL;
	*p = ph;
	*q = qw;
	return 0;
}

int accel_cmd_conv2d(struct accel_cmdbuf *cb, const struct accel_conv2d *cv)
{
	struct operands ops = { .ok = true };
	uint8_t *cmd, *desc;
	uint64_t desc_va, p, q;

	if (!cb || !cv || accel_conv2d_out_size(cv, &p, &q) || !act_ok(cv->act) ||
	    !macs_ok((const uint64_t[]){ cv->n, cv->k, p, q, cv->c / cv->groups,
					 cv->r, cv->s }, 7))
		return -EINVAL;
	operand(&ops, cv->x, tensor_bytes(cv->n, cv->c, cv->h, cv->w), 4);
	operand(&ops, cv->weight,
		tensor_bytes(cv->k, cv->c / cv->groups, cv->r, cv->s), 4);
	if (cv->bias)
		operand(&ops, cv->bias, tensor_bytes(cv->k, 1, 1, 1), 4);
	operand(&ops, cv->y, tensor_bytes(cv->n, cv->k, p, q), 4);
	if (!ops.ok)
		return -EINVAL;

	cmd = op_slot(cb, &desc, &desc_va);
	if (!cmd)
		return -ENOSPC;
	enc_word(desc, LUMEN_CONV_W_MODE, cv->act);
	enc_word(desc, LUMEN_CONV_W_N, cv->n);
	enc_word(desc, LUMEN_CONV_W_C, cv->c);
	enc_word(desc, LUMEN_CONV_W_H, cv->h);
	enc_word(desc, LUMEN_CONV_W_W, cv->w);
	enc_word(desc, LUMEN_CONV_W_K, cv->k);
	enc_word(desc, LUMEN_CONV_W_R, cv->r);
	enc_word(desc, LUMEN_CONV_W_S, cv->s);
	enc_word(desc, LUMEN_CONV_W_GROUPS, cv->groups);
	enc_word(desc, LUMEN_CONV_W_STRIDE, LUMEN_PAIR(cv->stride_h, cv->stride_w));
	enc_word(desc, LUMEN_CONV_W_PAD, LUMEN_PAIR(cv->pad_h, cv->pad_w));
	enc_word(desc, LUMEN_CONV_W_DILATION, LUMEN_PAIR(cv->dil_h, cv->dil_w));
	enc_word(desc, LUMEN_CONV_W_X, cv->x);
	enc_word(desc, LUMEN_CONV_W_WEIGHT, cv->weight);
	enc_word(desc, LUMEN_CONV_W_BIAS, cv->bias);
	enc_word(desc, LUMEN_CONV_W_Y, cv->y);
	op_commit(cb, cmd, LUMEN_OP_CONV2D, desc_va);
	return 0;
}

/* ---- pool2d -------------------------------------------------------------- */

int accel_pool2d_out_size(const struct accel_pool2d *pl, uint64_t *p,
			  uint64_t *q)
{
	uint64_t ph, qw;

	if (!pl || !p || !q)
		return -EINVAL;
	if (!dims_ok((const uint64_t[]){ pl->n, pl->c, pl->h, pl->w, pl->r,
					 pl->s, pl->stride_h, pl->stride_w },
		     8, 1) ||
	    pl->pad_h >= pl->r || pl->pad_w >= pl->s)
		return -EINVAL;
	ph = out_dim(pl->h, pl->pad_h, pl->r, 1, pl->stride_h);
	qw = out_dim(pl->w, pl->pad_w, pl->s, 1, pl->stride_w);
	if (!ph || !qw)
		return -EINVAL;
	*p = ph;
	*q = qw;
	return 0;
}

int accel_cmd_pool2d(struct accel_cmdbuf *cb, const struct accel_pool2d *pl)
{
	struct operands ops = { .ok = true };
	uint8_t *cmd, *desc;
	uint64_t desc_va, p, q;

	if (!cb || !pl || (pl->op != ACCEL_POOL_MAX && pl->op != ACCEL_POOL_AVG) ||
	    accel_pool2d_out_size(pl, &p, &q) ||
	    !macs_ok((const uint64_t[]){ pl->n, pl->c, p, q, pl->r, pl->s }, 6))
		return -EINVAL;
	operand(&ops, pl->x, tensor_bytes(pl->n, pl->c, pl->h, pl->w), 4);
	operand(&ops, pl->y, tensor_bytes(pl->n, pl->c, p, q), 4);
	if (!ops.ok)
		return -EINVAL;

	cmd = op_slot(cb, &desc, &desc_va);
	if (!cmd)
		return -ENOSPC;
	enc_word(desc, LUMEN_POOL_W_MODE, pl->op);
	enc_word(desc, LUMEN_POOL_W_N, pl->n);
	enc_word(desc, LUMEN_POOL_W_C, pl->c);
	enc_word(desc, LUMEN_POOL_W_H, pl->h);
	enc_word(desc, LUMEN_POOL_W_W, pl->w);
	enc_word(desc, LUMEN_POOL_W_R, pl->r);
	enc_word(desc, LUMEN_POOL_W_S, pl->s);
	enc_word(desc, LUMEN_POOL_W_STRIDE, LUMEN_PAIR(pl->stride_h, pl->stride_w));
	enc_word(desc, LUMEN_POOL_W_PAD, LUMEN_PAIR(pl->pad_h, pl->pad_w));
	enc_word(desc, LUMEN_POOL_W_X, pl->x);
	enc_word(desc, LUMEN_POOL_W_Y, pl->y);
	op_commit(cb, cmd, LUMEN_OP_POOL2D, desc_va);
	return 0;
}
