// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Generators: device commands on the worker's BOs (by device VA), the ways
 * to break them, and interesting numbers.  The driver does not read a
 * command buffer: any content is a valid submission, and what the device
 * makes of it (a fault, a bad command) fails only that job.  So broken
 * commands fuzz the device and the driver's error recovery; broken
 * submit arguments fuzz the driver's checks (Documentation/uapi.rst).
 */
#include "fuzz.h"

static const uint64_t edge_u64[] = {
	0, 1, 2, 7, 8, 9, 63, 64, 4095, 4096, 4097, 8192, 65536,
	1ull << 20, (1ull << 30) - 1, 1ull << 30, (1ull << 30) + 1,
	(1ull << 32) - 1, 1ull << 32, (1ull << 40) - 1, 1ull << 40, (1ull << 40) + 1,
	(1ull << 63) - 1, 1ull << 63, UINT64_MAX - 4096, UINT64_MAX - 8, UINT64_MAX - 7,
	UINT64_MAX - 1, UINT64_MAX,
};

uint64_t fz_gen_u64(struct fz_worker *w)
{
	switch (fz_below(&w->rng, 4)) {
	case 0:
		return edge_u64[fz_below(&w->rng, sizeof(edge_u64) / sizeof(edge_u64[0]))];
	case 1:
		return 1ull << fz_below(&w->rng, 64);
	case 2:
		return fz_below(&w->rng, 1 << 16);
	default:
		return fz_next(&w->rng);
	}
}

uint32_t fz_gen_u32(struct fz_worker *w)
{
	switch (fz_below(&w->rng, 4)) {
	case 0:
		return (uint32_t)edge_u64[fz_below(&w->rng, 12)];
	case 1:
		return UINT32_MAX - (uint32_t)fz_below(&w->rng, 4);
	case 2:
		return (uint32_t)fz_below(&w->rng, 64);
	default:
		return (uint32_t)fz_next(&w->rng);
	}
}

uint64_t fz_gen_bo_size(struct fz_worker *w, bool devmem, bool valid)
{
	uint64_t limit = devmem ? w->devmem_size : 1ull << 30;

	if (!valid) {
		switch (fz_below(&w->rng, 5)) {
		case 0:
			return 0;
		case 1:
			return limit + 1 + fz_below(&w->rng, 4096);
		case 2:
			return UINT64_MAX - fz_below(&w->rng, 4096);
		case 3:
			return (1ull << 63) + fz_below(&w->rng, 3);
		default:
			return fz_gen_u64(w);
		}
	}
	/* Mostly a few pages; jobs touch every page of a BO they use. */
	switch (fz_below(&w->rng, 8)) {
	case 0:
		return 1 + fz_below(&w->rng, 64);
	case 1:
		return 4096 * (1 + fz_below(&w->rng, 256));
	case 2:
		return 4096 * (1 + fz_below(&w->rng, 16)) + fz_below(&w->rng, 4096);
	default:
		return 4096 * (1 + fz_below(&w->rng, 4));
	}
}

uint32_t fz_any_bo_handle(struct fz_worker *w)
{
	if (w->nbos && fz_chance(&w->rng, 80))
		return w->bos[fz_below(&w->rng, w->nbos)].handle;
	if (fz_chance(&w->rng, 30))
		return 0;
	return fz_gen_u32(w);
}

uint32_t fz_any_syncobj_handle(struct fz_worker *w)
{
	if (w->nsyncobjs && fz_chance(&w->rng, 80))
		return w->syncobjs[fz_below(&w->rng, w->nsyncobjs)].handle;
	if (fz_chance(&w->rng, 30))
		return 0;
	return fz_gen_u32(w);
}

/* A BO of the pool, or NULL; system memory only if @system. */
static const struct fz_bo *pick_bo(struct fz_worker *w, bool system)
{
	unsigned int i, start;

	if (!w->nbos)
		return NULL;
	start = (unsigned int)fz_below(&w->rng, w->nbos);
	for (i = 0; i < w->nbos; i++) {
		const struct fz_bo *bo = &w->bos[(start + i) % w->nbos];

		if (!system || !bo->devmem)
			return bo;
	}
	return NULL;
}

/* A copy length: mostly small, sometimes the whole of the smaller BO. */
static uint64_t copy_size(struct fz_worker *w, uint64_t max)
{
	if (fz_chance(&w->rng, 10))
		return max;
	if (fz_chance(&w->rng, 60))
		return 1 + fz_below(&w->rng, max < 256 ? max : 256);
	return 1 + fz_below(&w->rng, max < 65536 ? max : 65536);
}

static uint64_t hdr(uint8_t opcode, uint8_t flags)
{
	return opcode | (uint64_t)flags << 8;
}

static void gen_fence(struct fz_worker *w, struct fz_cmd *cmd)
{
	const struct fz_bo *bo = pick_bo(w, false);

	if (!bo)
		return;
	cmd->header = hdr(fz_chance(&w->rng, 80) ? LUMEN_OP_FENCE : LUMEN_OP_TIMESTAMP, 0);
	cmd->args[0] = bo->va + 8 * fz_below(&w->rng, bo->size / 8);
	if ((cmd->header & 0xff) == LUMEN_OP_FENCE)
		cmd->args[1] = fz_next(&w->rng);
}

static void gen_copy(struct fz_worker *w, struct fz_cmd *cmd)
{
	const struct fz_bo *src = pick_bo(w, false), *dst = pick_bo(w, false);
	uint64_t size, src_off, dst_off;

	if (!src || !dst)
		return;
	if (src == dst) {
		/* Two disjoint ranges of one BO. */
		if (src->size < 2)
			return;
		size = copy_size(w, src->size / 2);
		src_off = fz_below(&w->rng, src->size / 2 - size + 1);
		dst_off = src->size / 2 + fz_below(&w->rng, src->size - src->size / 2 - size + 1);
		if (fz_chance(&w->rng, 50)) {
			uint64_t t = src_off;

			src_off = dst_off;
			dst_off = t;
		}
	} else {
		size = copy_size(w, src->size < dst->size ? src->size : dst->size);
		src_off = fz_below(&w->rng, src->size - size + 1);
		dst_off = fz_below(&w->rng, dst->size - size + 1);
	}
	cmd->header = hdr(LUMEN_OP_COPY, 0);
	cmd->args[0] = src->va + src_off;
	cmd->args[1] = dst->va + dst_off;
	cmd->args[2] = size;
}

static void gen_fill(struct fz_worker *w, struct fz_cmd *cmd)
{
	const struct fz_bo *bo = pick_bo(w, false);
	uint64_t size;

	if (!bo)
		return;
	size = copy_size(w, bo->size);
	cmd->header = hdr(LUMEN_OP_FILL, 0);
	cmd->args[0] = bo->va + fz_below(&w->rng, bo->size - size + 1);
	cmd->args[1] = size;
	cmd->args[2] = fz_next(&w->rng);
}

void fz_gen_cmd(struct fz_worker *w, struct fz_cmd *cmd)
{
	unsigned int kind = (unsigned int)fz_below(&w->rng, 10);

	*cmd = (struct fz_cmd){ .header = hdr(LUMEN_OP_NOP, 0) };
	if (kind < 3)
		gen_fence(w, cmd);
	else if (kind < 8)
		gen_copy(w, cmd);
	else if (kind < 9)
		gen_fill(w, cmd);
}

/* A VA the worker's context does not map, or cannot. */
static uint64_t bad_va(struct fz_worker *w)
{
	switch (fz_below(&w->rng, 5)) {
	case 0:
		return 0;
	case 1:
		return w->va_start - 8 * (1 + fz_below(&w->rng, 512));
	case 2:
		return w->va_end + 8 * fz_below(&w->rng, 512);
	case 3:
		return (1ull << 48) + 8 * fz_below(&w->rng, 512);
	default:
		return fz_gen_u64(w) & ~7ull;
	}
}

void fz_mutate_cmd(struct fz_worker *w, struct fz_cmd *cmd)
{
	unsigned int arg = (unsigned int)fz_below(&w->rng, LUMEN_CMD_ARGS);

	switch (fz_below(&w->rng, 12)) {
	case 0:
		/* Any opcode, operators (on garbage descriptors) included. */
		cmd->header = (cmd->header & ~0xffull) | fz_below(&w->rng, 256);
		break;
	case 1:
		cmd->header |= (uint64_t)(1u << fz_below(&w->rng, 8)) << 8;
		break;
	case 2:
		/* Reserved header bytes. */
		cmd->header |= 1ull << (16 + fz_below(&w->rng, 48));
		break;
	case 3:
		cmd->args[arg] = fz_gen_u64(w);
		break;
	case 4:
		cmd->args[0] = bad_va(w);
		break;
	case 5:
		cmd->args[1] = bad_va(w);
		break;
	case 6:
		cmd->args[0] += 1 + fz_below(&w->rng, 7);	/* misaligned */
		break;
	case 7:
		/* Past the end of its BO, into the guard page or beyond. */
		cmd->args[2] += 1 + fz_below(&w->rng, 1 << 20);
		break;
	case 8:
		/* An INDIRECT into one of the BOs: garbage, nested. */
		cmd->header = hdr(LUMEN_OP_INDIRECT, 0);
		cmd->args[0] = w->nbos ? w->bos[fz_below(&w->rng, w->nbos)].va : bad_va(w);
		cmd->args[1] = 64 * (1 + fz_below(&w->rng, 64));
		cmd->args[2] = fz_below(&w->rng, 3);	/* a context field: must be 0 */
		break;
	case 9:
		/* A WAIT that is satisfied at once (or faults). */
		cmd->header = hdr(LUMEN_OP_WAIT, 0);
		cmd->args[0] = w->nbos ? w->bos[fz_below(&w->rng, w->nbos)].va : bad_va(w);
		cmd->args[1] = 0;
		break;
	case 10:
		/* The command BO itself: commands writing commands. */
		cmd->header = hdr(LUMEN_OP_FENCE, 0);
		cmd->args[0] = w->cb_va + 8 * fz_below(&w->rng, FZ_CB_SIZE / 8);
		cmd->args[1] = fz_gen_u64(w);
		break;
	default:
		cmd->args[arg] = fz_next(&w->rng);
		break;
	}
}
