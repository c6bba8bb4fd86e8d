// SPDX-License-Identifier: MIT
/*
 * Encoders of the device's plain commands (driver/lumen_regs.h): NOP,
 * FENCE, WAIT, TIMESTAMP, COPY (1D and 2D), FILL, INDIRECT, and raw
 * commands for tests.
 *
 * Each checks what the device would reject, so that a mistake is an
 * -EINVAL at the call that made it rather than a failed job later; the
 * device checks everything again, since it cannot trust us.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "encode.h"

/* Appends a command without descriptor: @args[0..nargs) after the header. */
static int append_cmd(struct accel_cmdbuf *cb, uint8_t opcode, uint8_t flags,
		      const uint64_t *args, unsigned int nargs)
{
	uint8_t *cmd = libaccel_cmdbuf_slot(cb, 0, NULL, NULL);

	if (!cmd)
		return -ENOSPC;
	enc_header(cmd, opcode, flags);
	for (unsigned int i = 0; i < nargs; i++)
		enc_arg(cmd, i, args[i]);
	libaccel_cmdbuf_commit(cb, 0);
	return 0;
}

int accel_cmd_nop(struct accel_cmdbuf *cb)
{
	if (!cb)
		return -EINVAL;
	return append_cmd(cb, LUMEN_OP_NOP, 0, NULL, 0);
}

/* FENCE, WAIT and TIMESTAMP all name one 8-aligned 64-bit word. */
static int append_word_cmd(struct accel_cmdbuf *cb, uint8_t opcode,
			   uint64_t va, uint64_t value, unsigned int nargs)
{
	const uint64_t args[] = { va, value };

	if (!cb || !enc_range_ok(va, sizeof(uint64_t), sizeof(uint64_t)))
		return -EINVAL;
	return append_cmd(cb, opcode, 0, args, nargs);
}

int accel_cmd_fence(struct accel_cmdbuf *cb, uint64_t va, uint64_t value)
{
	/* Never LUMEN_FENCE_IRQ: interrupts belong to the kernel's fences. */
	return append_word_cmd(cb, LUMEN_OP_FENCE, va, value, 2);
}

int accel_cmd_wait(struct accel_cmdbuf *cb, uint64_t va, uint64_t value)
{
	return append_word_cmd(cb, LUMEN_OP_WAIT, va, value, 2);
}

int accel_cmd_timestamp(struct accel_cmdbuf *cb, uint64_t va)
{
	return append_word_cmd(cb, LUMEN_OP_TIMESTAMP, va, 0, 1);
}

int accel_cmd_copy(struct accel_cmdbuf *cb, uint64_t dst_va, uint64_t src_va,
		   uint64_t size)
{
	const uint64_t args[] = { src_va, dst_va, size };

	if (!cb || size > LUMEN_COPY_MAX_SIZE ||
	    !enc_range_ok(src_va, size, 1) || !enc_range_ok(dst_va, size, 1) ||
	    enc_overlap(src_va, size, dst_va, size))
		return -EINVAL;
	return append_cmd(cb, LUMEN_OP_COPY, 0, args, 3);
}

/*
 * The bytes from the first to the last byte of a 2D region:
 * (height - 1) * pitch + width, or 0 if that does not fit below 2^48.
 */
static uint64_t extent_2d(uint64_t pitch, uint64_t width, uint64_t height)
{
	uint64_t rows;

	if (__builtin_mul_overflow(height - 1, pitch, &rows) ||
	    rows >= ENC_VA_LIMIT || width > ENC_VA_LIMIT - rows)
		return 0;
	return rows + width;
}

int accel_cmd_copy2d(struct accel_cmdbuf *cb, uint64_t dst_va,
		     uint64_t dst_pitch, uint64_t src_va, uint64_t src_pitch,
		     uint64_t width, uint64_t height)
{
	const uint64_t args[] = {
		src_va, dst_va, width, height, src_pitch, dst_pitch,
	};
	uint64_t src_len, dst_len;

	if (!cb || !width || !height || src_pitch < width ||
	    dst_pitch < width || width > LUMEN_COPY_MAX_SIZE / height)
		return -EINVAL;
	src_len = extent_2d(src_pitch, width, height);
	dst_len = extent_2d(dst_pitch, width, height);
	/* The extents, not just the rows: a conservative overlap test. */
	if (!enc_range_ok(src_va, src_len, 1) ||
	    !enc_range_ok(dst_va, dst_len, 1) ||
	    enc_overlap(src_va, src_len, dst_va, dst_len))
		return -EINVAL;
	return append_cmd(cb, LUMEN_OP_COPY, LUMEN_COPY_2D, args, 6);
}

int accel_cmd_fill(struct accel_cmdbuf *cb, uint64_t dst_va, uint64_t size,
		   uint64_t pattern)
{
	const uint64_t args[] = { dst_va, size, pattern };

	if (!cb || size > LUMEN_COPY_MAX_SIZE || !enc_range_ok(dst_va, size, 1))
		return -EINVAL;
	return append_cmd(cb, LUMEN_OP_FILL, 0, args, 3);
}

int accel_cmd_call(struct accel_cmdbuf *cb, const struct accel_cmdbuf *sub)
{
	/* Context 0 inside an IB: stay in the caller's context. */
	const uint64_t args[] = { sub ? sub->va : 0, sub ? sub->cmd_bytes : 0, 0 };

	if (!cb || !sub || sub == cb || sub->dev != cb->dev ||
	    !sub->cmd_bytes || sub->cmd_bytes > LUMEN_IB_MAX_SIZE ||
	    !enc_range_ok(sub->va, sub->cmd_bytes, LUMEN_IB_ALIGN))
		return -EINVAL;
	return append_cmd(cb, LUMEN_OP_INDIRECT, 0, args, 3);
}

int accel_cmd_raw(struct accel_cmdbuf *cb, const void *raw)
{
	uint8_t *cmd;

	if (!cb || !raw)
		return -EINVAL;
	cmd = libaccel_cmdbuf_slot(cb, 0, NULL, NULL);
	if (!cmd)
		return -ENOSPC;
	memcpy(cmd, raw, LUMEN_CMD_SIZE);
	libaccel_cmdbuf_commit(cb, 0);
	return 0;
}

int accel_cmd_raw_desc(struct accel_cmdbuf *cb, uint8_t opcode,
		       const void *raw)
{
	uint64_t desc_va;
	uint8_t *cmd, *desc;

	if (!cb || !raw)
		return -EINVAL;
	cmd = libaccel_cmdbuf_slot(cb, LUMEN_DESC_SIZE, &desc, &desc_va);
	if (!cmd)
		return -ENOSPC;
	memcpy(desc, raw, LUMEN_DESC_SIZE);
	enc_header(cmd, opcode, 0);
	enc_arg(cmd, 0, desc_va);
	libaccel_cmdbuf_commit(cb, LUMEN_DESC_SIZE);
	return 0;
}
