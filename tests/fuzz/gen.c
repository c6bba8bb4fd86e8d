// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Generators: well-formed commands built from a worker's pools, the ways
 * to break them, and interesting numbers.  "Well formed" follows
 * Documentation/uapi.rst ("Commands"): a valid command must be accepted.
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

static void gen_fence(struct fz_worker *w, struct drm_lumen_cmd *cmd)
{
	const struct fz_bo *bo = pick_bo(w, true);

	if (!bo)
		return;
	cmd->opcode = DRM_LUMEN_CMD_FENCE;
	cmd->dst_handle = bo->handle;
	cmd->dst_offset = 8 * fz_below(&w->rng, bo->size / 8);
	cmd->value = fz_next(&w->rng);
}

static void gen_copy(struct fz_worker *w, struct drm_lumen_cmd *cmd)
{
	const struct fz_bo *src = pick_bo(w, false), *dst = pick_bo(w, false);
	uint64_t size;

	if (!src || !dst)
		return;
	if (src == dst) {
		/* Two disjoint ranges of one BO. */
		if (src->size < 2)
			return;
		size = copy_size(w, src->size / 2);
		cmd->src_offset = fz_below(&w->rng, src->size / 2 - size + 1);
		cmd->dst_offset = src->size / 2 + fz_below(&w->rng, src->size - src->size / 2 - size + 1);
		if (fz_chance(&w->rng, 50)) {
			uint64_t t = cmd->src_offset;

			cmd->src_offset = cmd->dst_offset;
			cmd->dst_offset = t;
		}
	} else {
		size = copy_size(w, src->size < dst->size ? src->size : dst->size);
		cmd->src_offset = fz_below(&w->rng, src->size - size + 1);
		cmd->dst_offset = fz_below(&w->rng, dst->size - size + 1);
	}
	cmd->opcode = DRM_LUMEN_CMD_COPY;
	cmd->src_handle = src->handle;
	cmd->dst_handle = dst->handle;
	cmd->size = size;
}

void fz_gen_cmd(struct fz_worker *w, struct drm_lumen_cmd *cmd)
{
	unsigned int kind = (unsigned int)fz_below(&w->rng, 10);

	*cmd = (struct drm_lumen_cmd){ .opcode = DRM_LUMEN_CMD_NOP };
	if (kind < 3)
		gen_fence(w, cmd);
	else if (kind < 9)
		gen_copy(w, cmd);
}

void fz_mutate_cmd(struct fz_worker *w, struct drm_lumen_cmd *cmd)
{
	switch (fz_below(&w->rng, 16)) {
	case 0:
		cmd->opcode = fz_gen_u32(w);
		break;
	case 1:
		cmd->flags = 1u << fz_below(&w->rng, 32);
		break;
	case 2:
		cmd->reserved[fz_below(&w->rng, 2)] = fz_gen_u64(w) | 1;
		break;
	case 3:
		cmd->src_handle = fz_any_bo_handle(w);
		break;
	case 4:
		cmd->dst_handle = fz_any_bo_handle(w);
		break;
	case 5:
		/* Just past the end, or wrapping around. */
		cmd->src_offset += fz_chance(&w->rng, 50) ? 1 + fz_below(&w->rng, 8192) :
							    UINT64_MAX - fz_below(&w->rng, 16);
		break;
	case 6:
		cmd->dst_offset += fz_chance(&w->rng, 50) ? 1 + fz_below(&w->rng, 8192) :
							    UINT64_MAX - fz_below(&w->rng, 16);
		break;
	case 7:
		cmd->dst_offset += 1 + fz_below(&w->rng, 7);	/* misaligned fence */
		break;
	case 8:
		cmd->size = fz_gen_u64(w);
		break;
	case 9:
		cmd->size += 1 + fz_below(&w->rng, 4096);
		break;
	case 10:
		cmd->value = fz_gen_u64(w) | 1;
		break;
	case 11:
		/* The same BO on both sides, ranges overlapping. */
		cmd->src_handle = cmd->dst_handle;
		cmd->src_offset = cmd->dst_offset + fz_below(&w->rng, cmd->size ? cmd->size : 1);
		break;
	case 12:
		/* A field of another opcode. */
		cmd->opcode = (uint32_t)fz_below(&w->rng, 3);
		break;
	case 13:
		cmd->src_offset = fz_gen_u64(w);
		break;
	case 14:
		cmd->dst_offset = fz_gen_u64(w);
		break;
	default:
		/* A FENCE into device memory. */
		for (unsigned int i = 0; i < w->nbos; i++) {
			if (w->bos[i].devmem) {
				cmd->opcode = DRM_LUMEN_CMD_FENCE;
				cmd->dst_handle = w->bos[i].handle;
				cmd->dst_offset = 0;
				cmd->src_handle = 0;
				cmd->src_offset = 0;
				cmd->size = 0;
				break;
			}
		}
		break;
	}
}
