// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests of what the driver writes for the device: the scatter list
 * of a system-memory BO, the bus address of a byte in it, and the hardware
 * command each user command becomes.
 *
 * The BOs here are stand-ins: a struct lumen_shmem_bo whose sg_table holds
 * made-up bus addresses, as dma_map_sgtable() would have left it.  The
 * expected words are written out from Documentation/device.rst and the
 * comments of lumen_regs.h, not computed by the driver's helpers.
 */

#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <kunit/test.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

struct seg {
	dma_addr_t addr;
	unsigned int len;
};

/* A system-memory BO whose pages were "mapped" at the given segments. */
struct fake_bo {
	struct lumen_shmem_bo bo;
	struct dma_resv resv;
};

KUNIT_DEFINE_ACTION_WRAPPER(sg_free_table_action, sg_free_table, struct sg_table *);
KUNIT_DEFINE_ACTION_WRAPPER(dma_resv_fini_action, dma_resv_fini, struct dma_resv *);

/* Test resources outlive the test function: no sg_table on its stack. */
static struct sg_table *fake_sgt_create(struct kunit *test, const struct seg *segs,
					unsigned int count)
{
	struct sg_table *sgt = kunit_kzalloc(test, sizeof(*sgt), GFP_KERNEL);
	struct scatterlist *sg;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(sgt, count, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, sg_free_table_action, sgt), 0);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		sg_dma_address(sg) = segs[i].addr;
		sg_dma_len(sg) = segs[i].len;
	}
	return sgt;
}

static struct fake_bo *fake_bo_create(struct kunit *test, u64 size, const struct seg *segs,
				      unsigned int count, dma_addr_t sgl_dma)
{
	struct fake_bo *fb = kunit_kzalloc(test, sizeof(*fb), GFP_KERNEL);
	struct drm_gem_object *obj;

	KUNIT_ASSERT_NOT_NULL(test, fb);
	obj = &fb->bo.base.base;
	obj->size = size;
	dma_resv_init(&fb->resv);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, dma_resv_fini_action, &fb->resv), 0);
	obj->resv = &fb->resv;
	if (count)
		fb->bo.base.sgt = fake_sgt_create(test, segs, count);
	/* What lumen_bo_sgl_prepare_locked() would have recorded. */
	fb->bo.sgl_dma = sgl_dma;
	fb->bo.sgl_entries = count;
	return fb;
}

static struct drm_gem_object *fake_obj(struct fake_bo *fb)
{
	return &fb->bo.base.base;
}

/*
 * Lock two BOs as a job does.  With CONFIG_DEBUG_WW_MUTEX_SLOWPATH the
 * second lock may report a made-up deadlock: back off and retry.
 */
static void lock_pair(struct dma_resv *a, struct dma_resv *b, struct ww_acquire_ctx *ctx)
{
	ww_acquire_init(ctx, &reservation_ww_class);
	dma_resv_lock(a, ctx);
	while (dma_resv_lock(b, ctx) == -EDEADLK) {
		dma_resv_unlock(a);
		dma_resv_lock_slow(b, ctx);
		swap(a, b);
	}
	ww_acquire_done(ctx);
}

static void unlock_pair(struct dma_resv *a, struct dma_resv *b, struct ww_acquire_ctx *ctx)
{
	dma_resv_unlock(a);
	dma_resv_unlock(b);
	ww_acquire_fini(ctx);
}

/* ---- Scatter lists ------------------------------------------------------- */

static const struct seg three_segs[] = {
	{ 0x10000, 4096 }, { 0x100000000ull, 8192 }, { 0x3000, 4096 },
};

static void sgl_fill(struct kunit *test)
{
	struct sg_table *sgt = fake_sgt_create(test, three_segs, ARRAY_SIZE(three_segs));
	struct lumen_sgl_entry sgl[4];

	memset(sgl, 0xaa, sizeof(sgl));
	lumen_sgl_fill(sgl, sgt);

	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[0].addr), 0x10000);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[0].len), 4096);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[1].addr), 0x100000000ull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[1].len), 8192);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[2].addr), 0x3000);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[2].len), 4096);
	/* Nothing past the last segment. */
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[3].addr), 0xaaaaaaaaaaaaaaaaull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[3].len), 0xaaaaaaaaaaaaaaaaull);
}

/*
 * An IOMMU may merge pages into fewer DMA segments than the table has
 * entries (nents < orig_nents): only the DMA segments count.
 */
static void sgl_fill_merged(struct kunit *test)
{
	static const struct seg merged[] = {
		{ 0x200000, 3 * 4096 }, { 0x800000, 4096 }, { 0xdead0000, 4096 }, { 0, 0 },
	};
	struct sg_table *sgt = fake_sgt_create(test, merged, ARRAY_SIZE(merged));
	struct lumen_sgl_entry sgl[4];

	sgt->nents = 2;
	memset(sgl, 0x55, sizeof(sgl));
	lumen_sgl_fill(sgl, sgt);

	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[0].addr), 0x200000);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[0].len), 3 * 4096);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[1].addr), 0x800000);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[1].len), 4096);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(sgl[2].addr), 0x5555555555555555ull);
}

/* ---- Bus address of a byte ------------------------------------------------ */

static void dma_address(struct kunit *test)
{
	struct fake_bo *fb = fake_bo_create(test, 16384, three_segs, ARRAY_SIZE(three_segs), 0);
	struct lumen_shmem_bo *bo = &fb->bo;

	dma_resv_lock(&fb->resv, NULL);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, 0), 0x10000);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, 4095), 0x10fff);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, 4096), 0x100000000ull);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, 4096 + 8191), 0x100001fffull);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, 12288), 0x3000);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, 16383), 0x3fff);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, 16384), DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(bo, U64_MAX), DMA_MAPPING_ERROR);
	dma_resv_unlock(&fb->resv);
}

static void dma_address_unpinned(struct kunit *test)
{
	struct fake_bo *fb = fake_bo_create(test, 4096, NULL, 0, 0);

	dma_resv_lock(&fb->resv, NULL);
	KUNIT_EXPECT_EQ(test, lumen_bo_dma_address_locked(&fb->bo, 0), DMA_MAPPING_ERROR);
	dma_resv_unlock(&fb->resv);
}

/* ---- Hardware commands ------------------------------------------------------ */

/* The command header: opcode in byte 0, flags in byte 1, the rest zero. */
static void hw_header(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, le64_to_cpu(lumen_hw_cmd_header(0x00, 0x00)), 0x0000);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(lumen_hw_cmd_header(0x10, 0x0a)), 0x0a10);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(lumen_hw_cmd_header(0xff, 0xff)), 0xffff);
}

/* A job using BO handles 4 (src) and 9 (dst), with its BOs locked. */
struct xlate {
	struct lumen_job job;
	struct fake_bo *src, *dst;
	struct drm_gem_object *bos[2];
	u32 handles[2];
	struct ww_acquire_ctx ctx;
};

static const struct seg src_segs[] = { { 0x7000, 4096 }, { 0x2000, 4096 } };
static const struct seg dst_segs[] = { { 0x40000, 4096 }, { 0x91000, 4096 }, { 0x5000, 4096 } };

static void xlate_init(struct kunit *test, struct xlate *x)
{
	x->src = fake_bo_create(test, 8192, src_segs, ARRAY_SIZE(src_segs), 0xabc000);
	x->dst = fake_bo_create(test, 12288, dst_segs, ARRAY_SIZE(dst_segs), 0xdef000);
	x->handles[0] = 4;
	x->bos[0] = fake_obj(x->src);
	x->handles[1] = 9;
	x->bos[1] = fake_obj(x->dst);
	x->job.handles = x->handles;
	x->job.bos = x->bos;
	x->job.bo_count = 2;
	lock_pair(&x->src->resv, &x->dst->resv, &x->ctx);
}

static void xlate_fini(struct xlate *x)
{
	unlock_pair(&x->src->resv, &x->dst->resv, &x->ctx);
}

static void expect_hw(struct kunit *test, const struct lumen_hw_cmd *hw, u64 header,
		      const u64 args[LUMEN_CMD_ARGS])
{
	unsigned int i;

	KUNIT_EXPECT_EQ(test, le64_to_cpu(hw->header), header);
	for (i = 0; i < LUMEN_CMD_ARGS; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(hw->args[i]), args[i], "arg %u", i);
}

static void translate_nop(struct kunit *test)
{
	static const u64 zero[LUMEN_CMD_ARGS];
	const struct drm_lumen_cmd cmd = { .opcode = DRM_LUMEN_CMD_NOP };
	struct lumen_hw_cmd hw;
	struct xlate x = { };

	xlate_init(test, &x);
	/* Whatever the ring entry held before is overwritten. */
	memset(&hw, 0xee, sizeof(hw));
	KUNIT_EXPECT_EQ(test, lumen_translate_locked(&x.job, &cmd, &hw), 0);
	expect_hw(test, &hw, 0x00, zero);
	xlate_fini(&x);
}

static void translate_fence(struct kunit *test)
{
	/* Offset 4104 of dst is byte 8 of its second segment (0x91000). */
	static const u64 args[LUMEN_CMD_ARGS] = { 0x91008, 0x0123456789abcdefull };
	const struct drm_lumen_cmd cmd = {
		.opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 9, .dst_offset = 4104,
		.value = 0x0123456789abcdefull,
	};
	struct lumen_hw_cmd hw;
	struct xlate x = { };

	xlate_init(test, &x);
	memset(&hw, 0xee, sizeof(hw));
	KUNIT_EXPECT_EQ(test, lumen_translate_locked(&x.job, &cmd, &hw), 0);
	/* FENCE (0x01), no IRQ flag: a user fence never interrupts. */
	expect_hw(test, &hw, 0x01, args);
	xlate_fini(&x);
}

/* The last word of the BO, in its last segment. */
static void translate_fence_last_word(struct kunit *test)
{
	static const u64 args[LUMEN_CMD_ARGS] = { 0x5ff8, 7 };
	const struct drm_lumen_cmd cmd = {
		.opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 9, .dst_offset = 12280, .value = 7,
	};
	struct lumen_hw_cmd hw;
	struct xlate x = { };

	xlate_init(test, &x);
	KUNIT_EXPECT_EQ(test, lumen_translate_locked(&x.job, &cmd, &hw), 0);
	expect_hw(test, &hw, 0x01, args);
	xlate_fini(&x);
}

static void translate_copy(struct kunit *test)
{
	/*
	 * Both sides are scatter lists: SRC_SGL (bit 1) | DST_SGL (bit 3) =
	 * 0x0a in the flags byte, COPY is opcode 0x10.  arg0/1/5: source SGL
	 * address, offset, entries; arg2/3/6: the same for the destination;
	 * arg4: bytes.
	 */
	static const u64 args[LUMEN_CMD_ARGS] = {
		0xabc000, 100, 0xdef000, 5000, 3000, 2, 3,
	};
	const struct drm_lumen_cmd cmd = {
		.opcode = DRM_LUMEN_CMD_COPY, .src_handle = 4, .dst_handle = 9,
		.src_offset = 100, .dst_offset = 5000, .size = 3000,
	};
	struct lumen_hw_cmd hw;
	struct xlate x = { };

	xlate_init(test, &x);
	memset(&hw, 0xee, sizeof(hw));
	KUNIT_EXPECT_EQ(test, lumen_translate_locked(&x.job, &cmd, &hw), 0);
	expect_hw(test, &hw, 0x0a10, args);
	xlate_fini(&x);
}

/* Within one BO, both sides name the same scatter list. */
static void translate_copy_same_bo(struct kunit *test)
{
	static const u64 args[LUMEN_CMD_ARGS] = {
		0xdef000, 0, 0xdef000, 8192, 4096, 3, 3,
	};
	const struct drm_lumen_cmd cmd = {
		.opcode = DRM_LUMEN_CMD_COPY, .src_handle = 9, .dst_handle = 9,
		.dst_offset = 8192, .size = 4096,
	};
	struct lumen_hw_cmd hw;
	struct xlate x = { };

	xlate_init(test, &x);
	KUNIT_EXPECT_EQ(test, lumen_translate_locked(&x.job, &cmd, &hw), 0);
	expect_hw(test, &hw, 0x0a10, args);
	xlate_fini(&x);
}

/* A FENCE the BO's pages cannot hold is refused, never sent. */
static void translate_fence_unmapped(struct kunit *test)
{
	const struct drm_lumen_cmd cmd = {
		.opcode = DRM_LUMEN_CMD_FENCE, .dst_handle = 9, .dst_offset = 12288,
	};
	struct lumen_hw_cmd hw;
	struct xlate x = { };

	xlate_init(test, &x);
	KUNIT_EXPECT_EQ(test, lumen_translate_locked(&x.job, &cmd, &hw), -EINVAL);
	xlate_fini(&x);
}

static struct kunit_case lumen_translate_test_cases[] = {
	KUNIT_CASE(sgl_fill),
	KUNIT_CASE(sgl_fill_merged),
	KUNIT_CASE(dma_address),
	KUNIT_CASE(dma_address_unpinned),
	KUNIT_CASE(hw_header),
	KUNIT_CASE(translate_nop),
	KUNIT_CASE(translate_fence),
	KUNIT_CASE(translate_fence_last_word),
	KUNIT_CASE(translate_copy),
	KUNIT_CASE(translate_copy_same_bo),
	KUNIT_CASE(translate_fence_unmapped),
	{ }
};

static struct kunit_suite lumen_translate_test_suite = {
	.name = "lumen_translate",
	.test_cases = lumen_translate_test_cases,
};

kunit_test_suite(lumen_translate_test_suite);
