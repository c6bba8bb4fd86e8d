// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: device page tables and MMU contexts.
 *
 * A context's page tables are four levels of 512 little-endian 64-bit
 * entries, each table one 4 KiB page of coherent DMA memory (the device
 * walks them while the CPU edits them).  The CPU keeps a shadow tree of
 * &struct lumen_pt so it never has to read an address back from a table.
 * Tables are added on demand and kept until the context goes: an empty
 * table costs 4 KiB, and never freeing them means a table the device may
 * be walking is never freed under it.  The VA allocator hands out the
 * lowest free range first, so a context that maps and unmaps reuses its
 * tables rather than growing new ones.  Mapping 1 GiB costs 512 leaf
 * tables plus one level-1 table (and a level-2 table per 512 GiB): about
 * 2 MiB + 4 KiB, counted in &lumen_vm.pt_bytes and &lumen_device.pt_bytes.
 *
 * The device caches only valid leaf translations.  A PTE going from
 * invalid to valid needs no invalidation; clearing or changing a valid PTE,
 * or a context's root, does (lumen_mmu_invalidate()).
 */

#include <linux/dma-mapping.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"

#define LUMEN_PT_INDEX_BITS	9	/* log2(LUMEN_PT_ENTRIES) */
/* Bytes of VA one leaf table covers: 512 pages, 2 MiB. */
#define LUMEN_PT_LEAF_SPAN	(LUMEN_PAGE_SIZE * LUMEN_PT_ENTRIES)
#define LUMEN_PT_ROOT_LEVEL	(LUMEN_PT_LEVELS - 1)

/**
 * struct lumen_pt - one page table and the CPU's view of it
 * @entries: LUMEN_PT_ENTRIES entries in coherent DMA memory
 * @dma: bus address of @entries
 * @children: for levels 3..1, the tables the entries point to
 */
struct lumen_pt {
	__le64 *entries;
	dma_addr_t dma;
	struct lumen_pt **children;
};

/* Index into a table of @level (0: leaves) for @va. */
VISIBLE_IF_KUNIT u32 lumen_pt_index(u64 va, unsigned int level)
{
	return (va >> (LUMEN_PAGE_SHIFT + LUMEN_PT_INDEX_BITS * level)) &
	       (LUMEN_PT_ENTRIES - 1);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pt_index);

/**
 * lumen_pte_encode - a leaf page-table entry
 * @addr: the page's bus address, or its device memory offset with
 *        LUMEN_PTE_DEVMEM in @flags; page aligned
 * @flags: LUMEN_PTE_WRITABLE, LUMEN_PTE_DEVMEM; other bits are dropped, as
 *         every other bit of an entry must be zero
 *
 * Return: the valid entry.
 */
u64 lumen_pte_encode(u64 addr, u64 flags)
{
	return (addr & LUMEN_PTE_ADDR_MASK) |
	       (flags & (LUMEN_PTE_WRITABLE | LUMEN_PTE_DEVMEM)) | LUMEN_PTE_VALID;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pte_encode);

/* A level 3..1 entry pointing to the table at bus address @table. */
VISIBLE_IF_KUNIT u64 lumen_pde_encode(dma_addr_t table)
{
	return ((u64)table & LUMEN_PTE_ADDR_MASK) | LUMEN_PTE_VALID;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pde_encode);

/**
 * lumen_pt_create - allocate an empty page table
 * @dev: the DMA device
 * @level: 0 for a leaf table, up to 3 for a root
 *
 * Return: the table, or NULL without memory.
 */
struct lumen_pt *lumen_pt_create(struct device *dev, unsigned int level)
{
	struct lumen_pt *pt;

	pt = kzalloc(sizeof(*pt), GFP_KERNEL);
	if (!pt)
		return NULL;

	if (level) {
		pt->children = kcalloc(LUMEN_PT_ENTRIES, sizeof(*pt->children), GFP_KERNEL);
		if (!pt->children)
			goto err;
	}

	/* Page aligned, as table addresses must be, and zeroed: all invalid. */
	pt->entries = dma_alloc_coherent(dev, LUMEN_PAGE_SIZE, &pt->dma, GFP_KERNEL);
	if (!pt->entries)
		goto err;
	/* The bus address must fit an entry's address field. */
	if (pt->dma & ~LUMEN_PTE_ADDR_MASK) {
		dma_free_coherent(dev, LUMEN_PAGE_SIZE, pt->entries, pt->dma);
		goto err;
	}
	return pt;

err:
	kfree(pt->children);
	kfree(pt);
	return NULL;
}

/**
 * lumen_pt_destroy - free a table and every table below it
 * @dev: the DMA device
 * @pt: the table, no longer reachable by the device
 * @level: its level
 */
void lumen_pt_destroy(struct device *dev, struct lumen_pt *pt, unsigned int level)
{
	u32 i;

	if (level) {
		for (i = 0; i < LUMEN_PT_ENTRIES; i++)
			if (pt->children[i])
				lumen_pt_destroy(dev, pt->children[i], level - 1);
		kfree(pt->children);
	}
	dma_free_coherent(dev, LUMEN_PAGE_SIZE, pt->entries, pt->dma);
	kfree(pt);
}

/**
 * lumen_pt_dma - bus address of a table
 * @root: the table
 *
 * Return: what LUMEN_MMU_CTX_ROOT() wants for a root.
 */
dma_addr_t lumen_pt_dma(const struct lumen_pt *root)
{
	return root->dma;
}

/* The table below entry @idx of @pt (of level @level + 1), made if missing. */
static struct lumen_pt *lumen_pt_child(struct device *dev, struct lumen_pt *pt, u32 idx,
				       unsigned int level)
{
	struct lumen_pt *child = pt->children[idx];

	if (child)
		return child;

	child = lumen_pt_create(dev, level);
	if (!child)
		return NULL;
	pt->children[idx] = child;
	/* The device must find the new table zeroed once it can reach it. */
	dma_wmb();
	WRITE_ONCE(pt->entries[idx], cpu_to_le64(lumen_pde_encode(child->dma)));
	return child;
}

/**
 * lumen_pt_prepare - make sure every table down to the leaves exists
 * @dev: the DMA device
 * @root: the root table
 * @va: start of the range, page aligned
 * @size: bytes, a page multiple, @va + @size <= 2^48
 * @made: incremented by the number of tables made, also on failure
 *
 * Tables made before a failure stay: they are empty and go with the root.
 * Afterwards lumen_pt_set() cannot fail on the range.
 *
 * Return: 0 or -ENOMEM.
 */
int lumen_pt_prepare(struct device *dev, struct lumen_pt *root, u64 va, u64 size,
		     u32 *made)
{
	u64 end = va + size;

	while (va < end) {
		struct lumen_pt *pt = root;
		unsigned int level;

		for (level = LUMEN_PT_ROOT_LEVEL; level > 0; level--) {
			u32 idx = lumen_pt_index(va, level);

			if (!pt->children[idx])
				++*made;
			pt = lumen_pt_child(dev, pt, idx, level - 1);
			if (!pt) {
				--*made;
				return -ENOMEM;
			}
		}
		va = round_down(va, LUMEN_PT_LEAF_SPAN) + LUMEN_PT_LEAF_SPAN;
	}
	return 0;
}

/**
 * lumen_pt_set - write the leaf entry of one page
 * @root: the root table
 * @va: page-aligned VA inside a range lumen_pt_prepare() succeeded on
 * @pte: the entry, lumen_pte_encode() or 0 to unmap
 *
 * Clearing or changing a valid entry needs lumen_mmu_invalidate() before
 * the old page may be reused.
 */
void lumen_pt_set(struct lumen_pt *root, u64 va, u64 pte)
{
	struct lumen_pt *pt = root;
	unsigned int level;

	for (level = LUMEN_PT_ROOT_LEVEL; level > 0; level--)
		pt = pt->children[lumen_pt_index(va, level)];
	WRITE_ONCE(pt->entries[lumen_pt_index(va, 0)], cpu_to_le64(pte));
}

/* LUMEN_MMU_CTX_ROOT() of a context with @vm, or without a VM. */
static void lumen_mmu_write_root_locked(struct lumen_device *ldev, u32 ctx)
{
	struct lumen_vm *vm = ldev->ctx_vms[ctx];

	lockdep_assert_held(&ldev->mmu_lock);

	lumen_write64(ldev, LUMEN_MMU_CTX_ROOT(ctx),
		      vm ? (u64)lumen_pt_dma(vm->root) | LUMEN_MMU_ROOT_VALID : 0);
}

/**
 * lumen_mmu_set_root - give a context its VM's page tables, or none
 * @ldev: the device
 * @ctx: context id, 1 .. num_contexts - 1
 * @vm: the VM now owning @ctx, or NULL to leave the context without page
 *      tables (every access in it then faults)
 *
 * Also drops whatever the device cached for the context.  The context's
 * VM is remembered, so a global reset can restore the root.
 */
void lumen_mmu_set_root(struct lumen_device *ldev, u32 ctx, struct lumen_vm *vm)
{
	int idx;

	mutex_lock(&ldev->mmu_lock);
	ldev->ctx_vms[ctx] = vm;
	/* Runtime-suspended: resume writes every root (lumen_pm.c). */
	if (ldev->pm_awake && drm_dev_enter(&ldev->drm, &idx)) {
		lumen_mmu_write_root_locked(ldev, ctx);
		lumen_write(ldev, LUMEN_REG_MMU_INVALIDATE, ctx);
		lumen_read(ldev, LUMEN_REG_STATUS);
		drm_dev_exit(idx);
	}
	mutex_unlock(&ldev->mmu_lock);
}

/**
 * lumen_mmu_restore_locked - program every context's root again
 * @ldev: the device, just reset and enabled, @ldev->mmu_lock held
 */
void lumen_mmu_restore_locked(struct lumen_device *ldev)
{
	u32 ctx;

	lockdep_assert_held(&ldev->mmu_lock);

	for (ctx = 1; ctx < ldev->num_contexts; ctx++)
		lumen_mmu_write_root_locked(ldev, ctx);
	lumen_write(ldev, LUMEN_REG_MMU_INVALIDATE, LUMEN_MMU_INVALIDATE_ALL);
	lumen_read(ldev, LUMEN_REG_STATUS);
}

/**
 * lumen_mmu_invalidate - drop the device's cached translations of a context
 * @ldev: the device
 * @ctx: context id
 *
 * Synchronous: when it returns, no command started afterwards uses an old
 * translation.  Without the device (unplugged) there is nothing to do: it
 * was reset and does no more DMA.
 */
void lumen_mmu_invalidate(struct lumen_device *ldev, u32 ctx)
{
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return;
	mutex_lock(&ldev->mmu_lock);
	/* Runtime-suspended: resume invalidates everything (lumen_pm.c). */
	if (ldev->pm_awake) {
		lumen_write(ldev, LUMEN_REG_MMU_INVALIDATE, ctx);
		/* A read flushes the posted write: the invalidation happened. */
		lumen_read(ldev, LUMEN_REG_STATUS);
	}
	mutex_unlock(&ldev->mmu_lock);
	drm_dev_exit(idx);
}

static void lumen_mmu_fini_action(struct drm_device *drm, void *arg)
{
	struct lumen_device *ldev = arg;

	ida_destroy(&ldev->ctx_ida);
}

/**
 * lumen_mmu_init - set up the context allocator
 * @ldev: the device, probed
 *
 * Called before lumen_sched_init(), so its release runs after the wait
 * for the last job and VM.
 *
 * Return: 0 or a negative errno.
 */
int lumen_mmu_init(struct lumen_device *ldev)
{
	int ret;

	ret = drmm_mutex_init(&ldev->drm, &ldev->mmu_lock);
	if (ret)
		return ret;
	ret = lumen_ctx_init(ldev);
	if (ret)
		return ret;
	ida_init(&ldev->ctx_ida);
	return drmm_add_action_or_reset(&ldev->drm, lumen_mmu_fini_action, ldev);
}
