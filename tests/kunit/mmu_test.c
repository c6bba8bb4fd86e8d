// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KUnit tests of the device page-table logic: which table entry a VA
 * uses at each level, how entries are encoded, and which scatter lists
 * (bus addresses of a BO's pages) the device can map.
 *
 * Expected values are written out by hand from the page-table format in
 * lumen_regs.h: VA bits 47..39 index level 3, 38..30 level 2, 29..21
 * level 1, 20..12 level 0; entry bit 0 valid, 1 writable, 2 device
 * memory, 12..51 the address.
 */

#include <linux/kernel.h>
#include <linux/scatterlist.h>

#include <kunit/test.h>

#include "lumen_drv.h"

struct index_case {
	const char *name;
	u64 va;
	u32 idx[4];	/* levels 0, 1, 2, 3 */
};

static const struct index_case index_cases[] = {
	{ "zero", 0, { 0, 0, 0, 0 } },
	{ "page_offset_ignored", 0xfff, { 0, 0, 0, 0 } },
	{ "second_page", 0x1000, { 1, 0, 0, 0 } },
	{ "last_leaf_of_table", 0x1ff000, { 511, 0, 0, 0 } },
	{ "2M", 0x200000, { 0, 1, 0, 0 } },
	{ "1G", 0x40000000, { 0, 0, 1, 0 } },
	{ "4G_va_start", 0x100000000ull, { 0, 0, 4, 0 } },
	{ "512G", 0x8000000000ull, { 0, 0, 0, 1 } },
	/* 3 << 39 | 5 << 30 | 7 << 21 | 9 << 12 | 0xabc */
	{ "mixed", 0x18140e09abcull, { 9, 7, 5, 3 } },
	{ "last_below_2_47", 0x7ffffffff000ull, { 511, 511, 511, 255 } },
	{ "last_below_2_48", 0xfffffffff000ull, { 511, 511, 511, 511 } },
	/* Bits above 47 are not part of any index. */
	{ "bit_48_ignored", 0x1000000001000ull, { 1, 0, 0, 0 } },
};

KUNIT_ARRAY_PARAM_DESC(index_cases, index_cases, name);

static void pt_index(struct kunit *test)
{
	const struct index_case *c = test->param_value;
	unsigned int level;

	for (level = 0; level < 4; level++)
		KUNIT_EXPECT_EQ_MSG(test, lumen_pt_index(c->va, level), c->idx[level],
				    "level %u", level);
}

static void pte_encode(struct kunit *test)
{
	/* Read-only system page: valid only. */
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0x12345000, 0), 0x12345001ull);
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0x12345000, LUMEN_PTE_WRITABLE), 0x12345003ull);
	/* Device memory: an offset, flagged. */
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0, LUMEN_PTE_DEVMEM), 0x5ull);
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0xfff000, LUMEN_PTE_DEVMEM | LUMEN_PTE_WRITABLE),
			0xfff007ull);
	/* The highest address an entry holds: bits 12..51. */
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0xffffffffff000ull, LUMEN_PTE_WRITABLE),
			0xffffffffff003ull);
	/* Reserved bits never get into an entry, from either argument. */
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0x12345678, 0), 0x12345001ull);
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0xfff0000000001000ull, 0), 0x1001ull);
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0x2000, 0x8000000000000008ull), 0x2001ull);
	KUNIT_EXPECT_EQ(test, lumen_pte_encode(0x2000, ~0ull), 0x2007ull);
}

static void pde_encode(struct kunit *test)
{
	/* Tables: valid, never writable or device memory. */
	KUNIT_EXPECT_EQ(test, lumen_pde_encode(0x76543000), 0x76543001ull);
	KUNIT_EXPECT_EQ(test, lumen_pde_encode(0xffffffffff000ull), 0xffffffffff001ull);
}

/* ---- Scatter lists ------------------------------------------------------- */

#define SEGS_MAX 3

struct sgt_case {
	const char *name;
	u64 addr[SEGS_MAX];
	u32 len[SEGS_MAX];	/* 0 ends the list, except in "zero_length" */
	unsigned int nents;
	u64 size;
	int expected;
};

static const struct sgt_case sgt_cases[] = {
	{ "one_segment", { 0x10000 }, { 0x2000 }, 1, 0x2000, 0 },
	{ "two_pages", { 0x10000, 0x40000 }, { 0x1000, 0x1000 }, 2, 0x2000, 0 },
	{ "three_segments", { 0x3000, 0x10000, 0x7000 }, { 0x1000, 0x3000, 0x1000 }, 3, 0x5000,
	  0 },
	{ "too_short", { 0x10000 }, { 0x1000 }, 1, 0x2000, -EINVAL },
	{ "unaligned_address", { 0x10800 }, { 0x2000 }, 1, 0x2000, -EINVAL },
	{ "unaligned_middle_end", { 0x10000, 0x20000 }, { 0x1800, 0x800 }, 2, 0x2000, -EINVAL },
	{ "longer_than_bo", { 0x10000 }, { 0x3000 }, 1, 0x2000, 0 },
	{ "unaligned_tail_past_end", { 0x10000 }, { 0x2100 }, 1, 0x2000, 0 },
	/* Segments after the BO's end are not looked at. */
	{ "bad_segment_after_end", { 0x10000, 0x123 }, { 0x2000, 0x10 }, 2, 0x2000, 0 },
	{ "zero_length", { 0x10000, 0x20000 }, { 0, 0x2000 }, 2, 0x2000, -EINVAL },
	{ "address_2_52", { 0x10000000000000ull }, { 0x1000 }, 1, 0x1000, -EINVAL },
	{ "end_crosses_2_52", { 0xfffffffffe000ull }, { 0x3000 }, 1, 0x3000, -EINVAL },
	{ "last_page_below_2_52", { 0xffffffffff000ull }, { 0x1000 }, 1, 0x1000, 0 },
};

KUNIT_ARRAY_PARAM_DESC(sgt_cases, sgt_cases, name);

static void free_sgt(void *sgt)
{
	sg_free_table(sgt);
}

static void sgt_check(struct kunit *test)
{
	const struct sgt_case *c = test->param_value;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	sgt = kunit_kzalloc(test, sizeof(*sgt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(sgt, c->nents, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, free_sgt, sgt), 0);

	/* Only the DMA side is read: no page is mapped for real. */
	for_each_sgtable_sg(sgt, sg, i) {
		sg_dma_address(sg) = c->addr[i];
		sg_dma_len(sg) = c->len[i];
	}
	KUNIT_EXPECT_EQ(test, lumen_sgt_check(sgt, c->size), c->expected);
}

static struct kunit_case lumen_mmu_test_cases[] = {
	KUNIT_CASE_PARAM(pt_index, index_cases_gen_params),
	KUNIT_CASE(pte_encode),
	KUNIT_CASE(pde_encode),
	KUNIT_CASE_PARAM(sgt_check, sgt_cases_gen_params),
	{ }
};

static struct kunit_suite lumen_mmu_test_suite = {
	.name = "lumen_mmu",
	.test_cases = lumen_mmu_test_cases,
};

kunit_test_suite(lumen_mmu_test_suite);
