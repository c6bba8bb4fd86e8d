// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: device address spaces.
 *
 * Every open file gets a VM: a hardware MMU context, its page tables, and
 * a VA allocator over [LUMEN_VA_START, LUMEN_VA_END).  A BO is mapped into
 * a file's VM when the file gets its first handle to it (BO_CREATE, PRIME
 * import, GEM_OPEN of a flink name: &drm_gem_object_funcs.open) and
 * unmapped when the file's last handle to it goes (GEM_CLOSE or close():
 * &drm_gem_object_funcs.close).  So a file's jobs reach exactly the BOs the
 * file holds handles to, and nothing of any other file.
 *
 * Unmap safety.  Unmapping clears the PTEs and invalidates the context, so
 * a command the device starts afterwards faults.  A job already on the
 * device may still hold a translation, so the pages (and the VA range)
 * are released only once every job the VM had pushed before the unmap
 * has been freed, which the scheduler does only after the job's fence
 * signalled (completed, failed and its queue reset, or cancelled).  The
 * VM orders its jobs by a sequence number taken at push time; an unmapped
 * mapping becomes a zombie carrying the next sequence number, and freeing
 * a job releases every zombie no older job holds back.  Nothing waits,
 * nothing allocates on the unmap path, and a job stuck behind a fence that
 * never signals delays only the release of memory, never close().
 *
 * A VM is referenced by its file and by each of its jobs, so the context
 * and its page tables outlive the file while its jobs still run; the
 * context id is freed, and the root cleared, only then.
 */

#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

/*
 * Can the device map @sgt (bus addresses) as the first @size bytes of a
 * BO, page by page?  Every DMA segment must start on a page and, except
 * where the BO ends, end on one; addresses must fit a PTE.
 */
VISIBLE_IF_KUNIT int lumen_sgt_check(struct sg_table *sgt, u64 size)
{
	struct scatterlist *sg;
	u64 covered = 0;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 addr = sg_dma_address(sg);
		u64 len = sg_dma_len(sg);

		if (covered >= size)
			break;
		if (!len || !IS_ALIGNED(addr, LUMEN_PAGE_SIZE) ||
		    addr > LUMEN_PTE_ADDR_MASK ||
		    addr + len - 1 > (LUMEN_PTE_ADDR_MASK | (LUMEN_PAGE_SIZE - 1)))
			return -EINVAL;
		if (!IS_ALIGNED(len, LUMEN_PAGE_SIZE) && covered + len < size)
			return -EINVAL;
		covered += len;
	}
	return covered >= size ? 0 : -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_sgt_check);

/* Write the leaf PTEs of a new mapping; its tables exist. */
static void lumen_vm_write_ptes_locked(struct lumen_vm *vm, struct lumen_mapping *m,
				       struct sg_table *sgt, u64 flags)
{
	struct drm_gem_object *obj = m->obj;
	u64 va = m->node.start, end = m->node.start + obj->size;
	struct scatterlist *sg;
	unsigned int i;

	lockdep_assert_held(&vm->lock);

	if (!sgt) {
		u64 offset = to_lumen_devmem_bo(obj)->offset;

		for (; va < end; va += LUMEN_PAGE_SIZE, offset += LUMEN_PAGE_SIZE)
			lumen_pt_set(vm->root, va, lumen_pte_encode(offset, flags));
		return;
	}

	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		u64 off;

		for (off = 0; off < sg_dma_len(sg) && va < end; off += LUMEN_PAGE_SIZE) {
			lumen_pt_set(vm->root, va, lumen_pte_encode(addr + off, flags));
			va += LUMEN_PAGE_SIZE;
		}
	}
}

/*
 * Map @obj into @vm at a fresh VA.  The PTEs go from invalid to valid, so
 * no invalidation is needed.
 */
static int lumen_vm_map(struct lumen_vm *vm, struct drm_gem_object *obj,
			struct lumen_mapping **out)
{
	struct device *dev = vm->ldev->drm.dev;
	struct sg_table *sgt = NULL;
	struct lumen_mapping *m;
	u64 flags = 0;
	int ret;

	if (!(lumen_bo_maps(obj)->flags & DRM_LUMEN_BO_READ_ONLY))
		flags |= LUMEN_PTE_WRITABLE;

	if (lumen_bo_is_devmem(obj)) {
		flags |= LUMEN_PTE_DEVMEM;
	} else {
		/* Pins the pages and maps them for DMA until the BO is freed. */
		sgt = drm_gem_shmem_get_pages_sgt(to_drm_gem_shmem_obj(obj));
		/* shmem says ENOSPC for pages it could not get: lack of memory. */
		if (PTR_ERR_OR_ZERO(sgt) == -ENOSPC)
			return -ENOMEM;
		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
		ret = lumen_sgt_check(sgt, obj->size);
		if (ret)
			return ret;
	}

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->obj = obj;
	m->handles = 1;

	mutex_lock(&vm->lock);
	ret = drm_mm_insert_node_in_range(&vm->va_mm, &m->node, obj->size + LUMEN_VA_GUARD,
					  LUMEN_PAGE_SIZE, 0, LUMEN_VA_START, LUMEN_VA_END,
					  DRM_MM_INSERT_LOW);
	if (ret)
		goto err_unlock;
	ret = lumen_pt_prepare(dev, vm->root, m->node.start, obj->size);
	if (ret)
		goto err_remove;
	lumen_vm_write_ptes_locked(vm, m, sgt, flags);
	mutex_unlock(&vm->lock);

	drm_gem_object_get(obj);
	*out = m;
	return 0;

err_remove:
	drm_mm_remove_node(&m->node);
err_unlock:
	mutex_unlock(&vm->lock);
	kfree(m);
	return ret;
}

/* The device can no longer reach the mapping's pages: let them go. */
static void lumen_vm_release_mapping(struct lumen_mapping *m)
{
	struct lumen_vm *vm = m->vm;

	mutex_lock(&vm->lock);
	drm_mm_remove_node(&m->node);
	mutex_unlock(&vm->lock);
	drm_gem_object_put(m->obj);
	kfree(m);
}

/* Does a job pushed before sequence number @seq still exist? */
static bool lumen_vm_seq_busy_locked(struct lumen_vm *vm, u64 seq)
{
	struct lumen_job *oldest;

	lockdep_assert_held(&vm->jobs_lock);

	oldest = list_first_entry_or_null(&vm->jobs, struct lumen_job, vm_link);
	return oldest && oldest->vm_seq < seq;
}

/*
 * Clear the mapping's PTEs and invalidate: no command started from now on
 * reaches its pages.  Release them now if no earlier job is left, else
 * when the last such job is freed (lumen_vm_job_done()).
 */
static void lumen_vm_unmap(struct lumen_mapping *m)
{
	struct lumen_vm *vm = m->vm;
	u64 va, end = m->node.start + m->obj->size;
	bool busy;

	mutex_lock(&vm->lock);
	for (va = m->node.start; va < end; va += LUMEN_PAGE_SIZE)
		lumen_pt_set(vm->root, va, 0);
	mutex_unlock(&vm->lock);
	lumen_mmu_invalidate(vm->ldev, vm->ctx);

	/* After the invalidation: jobs pushed from now on cannot see the pages. */
	spin_lock(&vm->jobs_lock);
	m->seq = vm->next_seq;
	busy = lumen_vm_seq_busy_locked(vm, m->seq);
	if (busy)
		list_add_tail(&m->zombie_link, &vm->zombies);
	spin_unlock(&vm->jobs_lock);

	if (!busy)
		lumen_vm_release_mapping(m);
}

/**
 * lumen_vm_job_push - a job of @vm is about to be pushed to its entity
 * @vm: the VM
 * @job: the job, armed; it holds a reference on @vm
 */
void lumen_vm_job_push(struct lumen_vm *vm, struct lumen_job *job)
{
	spin_lock(&vm->jobs_lock);
	job->vm_seq = vm->next_seq++;
	list_add_tail(&job->vm_link, &vm->jobs);
	job->vm_pushed = true;
	spin_unlock(&vm->jobs_lock);
}

/**
 * lumen_vm_job_done - a job of @vm is being freed
 * @vm: the VM
 * @job: the job; its fence has signalled, or it never ran
 *
 * Releases the zombies no older job holds back.  Process context.
 */
void lumen_vm_job_done(struct lumen_vm *vm, struct lumen_job *job)
{
	struct lumen_mapping *m, *next;
	LIST_HEAD(ready);

	spin_lock(&vm->jobs_lock);
	if (job->vm_pushed)
		list_del(&job->vm_link);
	/* Zombies are in sequence order: stop at the first still busy. */
	list_for_each_entry_safe(m, next, &vm->zombies, zombie_link) {
		if (lumen_vm_seq_busy_locked(vm, m->seq))
			break;
		list_move_tail(&m->zombie_link, &ready);
	}
	spin_unlock(&vm->jobs_lock);

	list_for_each_entry_safe(m, next, &ready, zombie_link)
		lumen_vm_release_mapping(m);
}

/**
 * lumen_vm_create - make the address space of a new file
 * @ldev: the device
 * @out: the new VM, with one reference
 *
 * Return: 0, -EBUSY when every hardware context is taken, -ENOMEM.
 */
int lumen_vm_create(struct lumen_device *ldev, struct lumen_vm **out)
{
	struct lumen_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;

	ret = ida_alloc_range(&ldev->ctx_ida, 1, ldev->num_contexts - 1, GFP_KERNEL);
	if (ret < 0) {
		kfree(vm);
		return ret == -ENOSPC ? -EBUSY : ret;
	}
	vm->ctx = ret;

	vm->root = lumen_pt_create(ldev->drm.dev, LUMEN_PT_LEVELS - 1);
	if (!vm->root) {
		ida_free(&ldev->ctx_ida, vm->ctx);
		kfree(vm);
		return -ENOMEM;
	}

	kref_init(&vm->ref);
	vm->ldev = ldev;
	mutex_init(&vm->lock);
	drm_mm_init(&vm->va_mm, LUMEN_VA_START, LUMEN_VA_END - LUMEN_VA_START);
	spin_lock_init(&vm->jobs_lock);
	INIT_LIST_HEAD(&vm->jobs);
	INIT_LIST_HEAD(&vm->zombies);
	atomic_inc(&ldev->job_count);

	lumen_mmu_set_root(ldev, vm->ctx, vm);
	*out = vm;
	return 0;
}

struct lumen_vm *lumen_vm_get(struct lumen_vm *vm)
{
	kref_get(&vm->ref);
	return vm;
}

static void lumen_vm_release(struct kref *ref)
{
	struct lumen_vm *vm = container_of(ref, struct lumen_vm, ref);
	struct lumen_device *ldev = vm->ldev;
	struct lumen_mapping *m, *next;

	/* No job is left, and every handle of the file is gone. */
	WARN_ON(!list_empty(&vm->jobs));
	list_for_each_entry_safe(m, next, &vm->zombies, zombie_link)
		lumen_vm_release_mapping(m);

	/* Clear the root before freeing the tables, then free the id. */
	lumen_mmu_set_root(ldev, vm->ctx, NULL);
	lumen_pt_destroy(ldev->drm.dev, vm->root, LUMEN_PT_LEVELS - 1);
	drm_mm_takedown(&vm->va_mm);
	ida_free(&ldev->ctx_ida, vm->ctx);
	mutex_destroy(&vm->lock);
	kfree(vm);

	if (atomic_dec_and_test(&ldev->job_count))
		wake_up_var(&ldev->job_count);
}

/**
 * lumen_vm_put - drop a reference, releasing the VM with the last one
 * @vm: the VM, or NULL
 *
 * Process context: the release takes mutexes and touches registers.
 */
void lumen_vm_put(struct lumen_vm *vm)
{
	if (vm)
		kref_put(&vm->ref, lumen_vm_release);
}

static struct lumen_mapping *lumen_bo_find_locked(struct lumen_bo_maps *maps,
						  struct lumen_vm *vm)
{
	struct lumen_mapping *m;

	lockdep_assert_held(&maps->lock);

	list_for_each_entry(m, &maps->list, bo_link)
		if (m->vm == vm)
			return m;
	return NULL;
}

/**
 * lumen_vm_bo_open - &drm_gem_object_funcs.open: @file got a handle to @obj
 * @obj: the BO
 * @file: the file
 *
 * The first handle of a file maps the BO into the file's VM.
 *
 * Return: 0, -ENOMEM, -ENOSPC (no VA range left), -EINVAL (an import
 * whose pages the device cannot map), -EINTR.
 */
int lumen_vm_bo_open(struct drm_gem_object *obj, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_bo_maps *maps = lumen_bo_maps(obj);
	struct lumen_mapping *m;
	int ret = 0;

	mutex_lock(&maps->lock);
	m = lumen_bo_find_locked(maps, lfile->vm);
	if (m) {
		m->handles++;
	} else {
		ret = lumen_vm_map(lfile->vm, obj, &m);
		if (!ret)
			list_add_tail(&m->bo_link, &maps->list);
	}
	mutex_unlock(&maps->lock);
	return ret;
}

/**
 * lumen_vm_bo_close - &drm_gem_object_funcs.close: a handle of @file went
 * @obj: the BO
 * @file: the file
 *
 * The file's last handle unmaps the BO from the file's VM.
 */
void lumen_vm_bo_close(struct drm_gem_object *obj, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_bo_maps *maps = lumen_bo_maps(obj);
	struct lumen_mapping *m;

	mutex_lock(&maps->lock);
	m = lumen_bo_find_locked(maps, lfile->vm);
	if (WARN_ON(!m) || --m->handles) {
		mutex_unlock(&maps->lock);
		return;
	}
	list_del(&m->bo_link);
	mutex_unlock(&maps->lock);

	lumen_vm_unmap(m);
}

/**
 * lumen_vm_bo_va - where a BO is mapped in a VM
 * @vm: the VM
 * @obj: the BO
 * @va: out: its device VA
 *
 * Return: 0, or -ENOENT if the BO is not mapped there.
 */
int lumen_vm_bo_va(struct lumen_vm *vm, struct drm_gem_object *obj, u64 *va)
{
	struct lumen_bo_maps *maps = lumen_bo_maps(obj);
	struct lumen_mapping *m;

	mutex_lock(&maps->lock);
	m = lumen_bo_find_locked(maps, vm);
	if (m)
		*va = m->node.start;
	mutex_unlock(&maps->lock);
	return m ? 0 : -ENOENT;
}

int lumen_ioctl_bo_info(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_bo_info *args = data;
	struct drm_gem_object *obj;
	u64 va;
	int ret;

	/* Output only: a caller passing anything there is confused. */
	if (args->flags || args->size || args->va)
		return -EINVAL;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;

	ret = lumen_vm_bo_va(lfile->vm, obj, &va);
	if (!ret) {
		args->flags = lumen_bo_maps(obj)->flags;
		args->size = obj->size;
		args->va = va;
	}
	drm_gem_object_put(obj);
	return ret;
}
