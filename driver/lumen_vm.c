// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: device address spaces.
 *
 * Every open file gets a VM: its page tables and a VA allocator over
 * [LUMEN_VA_START, LUMEN_VA_END); a hardware MMU context is bound to the VM
 * only while it has work (lumen_ctx.c).  A BO is mapped into
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
 * binding and the page tables outlive the file while its jobs still run;
 * the context id is freed, and the root cleared, only then.
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

/*
 * Write the leaf PTEs of a new mapping (bytes [m->offset, m->offset +
 * m->size) of the BO at m->node.start); its tables exist.
 */
static void lumen_vm_write_ptes_locked(struct lumen_vm *vm, struct lumen_mapping *m,
				       struct sg_table *sgt, u64 flags)
{
	struct drm_gem_object *obj = m->obj;
	u64 va = m->node.start, end = m->node.start + m->size, skip = m->offset;
	struct scatterlist *sg;
	unsigned int i;

	lockdep_assert_held(&vm->lock);

	if (!sgt) {
		u64 offset = to_lumen_devmem_bo(obj)->offset + m->offset;

		for (; va < end; va += LUMEN_PAGE_SIZE, offset += LUMEN_PAGE_SIZE)
			lumen_pt_set(vm->root, va, lumen_pte_encode(offset, flags));
		return;
	}

	/* Segments are page multiples (but the last): skipping stays aligned. */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		u64 off, len = sg_dma_len(sg);

		if (skip >= len) {
			skip -= len;
			continue;
		}
		for (off = skip; off < len && va < end; off += LUMEN_PAGE_SIZE) {
			lumen_pt_set(vm->root, va, lumen_pte_encode(addr + off, flags));
			va += LUMEN_PAGE_SIZE;
		}
		skip = 0;
	}
}

/*
 * The pages of @obj as the device maps them: *@sgt (NULL for device
 * memory) and the PTE flags other than LUMEN_PTE_WRITABLE.
 */
static int lumen_vm_obj_pages(struct drm_gem_object *obj, struct sg_table **sgt, u64 *flags)
{
	*sgt = NULL;
	*flags = 0;
	if (lumen_bo_is_devmem(obj)) {
		*flags = LUMEN_PTE_DEVMEM;
		return 0;
	}

	/* Pins the pages and maps them for DMA until the BO is freed. */
	*sgt = drm_gem_shmem_get_pages_sgt(to_drm_gem_shmem_obj(obj));
	/* shmem says ENOSPC for pages it could not get: lack of memory. */
	if (PTR_ERR_OR_ZERO(*sgt) == -ENOSPC)
		return -ENOMEM;
	if (IS_ERR(*sgt))
		return PTR_ERR(*sgt);
	return lumen_sgt_check(*sgt, obj->size);
}

/* @vm grew @tables page tables: count them for fdinfo and sysfs. */
static void lumen_vm_count_pt_locked(struct lumen_vm *vm, u32 tables)
{
	u64 bytes = (u64)tables * LUMEN_PAGE_SIZE;

	lockdep_assert_held(&vm->lock);

	WRITE_ONCE(vm->pt_bytes, vm->pt_bytes + bytes);
	atomic64_add(bytes, &vm->ldev->pt_bytes);
}

/*
 * Map bytes [@offset, @offset + @size) of @obj into @vm: at a fresh VA
 * followed by a guard page (@bind_va 0), or at exactly @bind_va
 * (-EEXIST if anything is mapped there).  The PTEs go from invalid to
 * valid, so no invalidation is needed.
 */
static int lumen_vm_map_range(struct lumen_vm *vm, struct drm_gem_object *obj, u64 offset,
			      u64 size, u64 bind_va, bool writable, struct lumen_mapping **out)
{
	struct device *dev = vm->ldev->drm.dev;
	struct sg_table *sgt;
	struct lumen_mapping *m;
	u32 tables = 0;
	u64 flags;
	int ret;

	ret = lumen_vm_obj_pages(obj, &sgt, &flags);
	if (ret)
		return ret;
	if (writable)
		flags |= LUMEN_PTE_WRITABLE;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->obj = obj;
	m->handles = 1;
	m->offset = offset;
	m->size = size;
	m->writable = writable;

	mutex_lock(&vm->lock);
	if (bind_va) {
		m->node.start = bind_va;
		m->node.size = size;
		ret = drm_mm_reserve_node(&vm->va_mm, &m->node);
		if (ret == -ENOSPC)
			ret = -EEXIST;
	} else {
		ret = drm_mm_insert_node_in_range(&vm->va_mm, &m->node, size + LUMEN_VA_GUARD,
						  LUMEN_PAGE_SIZE, 0, LUMEN_VA_START,
						  LUMEN_VA_END, DRM_MM_INSERT_LOW);
	}
	if (ret)
		goto err_unlock;
	ret = lumen_pt_prepare(dev, vm->root, m->node.start, size, &tables);
	lumen_vm_count_pt_locked(vm, tables);
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

/* Map all of @obj into @vm at a fresh VA, for the file's handles. */
static int lumen_vm_map(struct lumen_vm *vm, struct drm_gem_object *obj,
			struct lumen_mapping **out)
{
	bool writable = !(lumen_bo_maps(obj)->flags & DRM_LUMEN_BO_READ_ONLY);

	return lumen_vm_map_range(vm, obj, 0, obj->size, 0, writable, out);
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
	u64 va, end = m->node.start + m->size;
	bool busy;

	mutex_lock(&vm->lock);
	for (va = m->node.start; va < end; va += LUMEN_PAGE_SIZE)
		lumen_pt_set(vm->root, va, 0);
	m->unmapped = true;
	mutex_unlock(&vm->lock);
	lumen_ctx_invalidate(vm);
	/* Direct queues are no jobs: wait for what they execute (lumen_dq.c). */
	lumen_dq_vm_sync(vm);

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
	bool idle;

	spin_lock(&vm->jobs_lock);
	if (job->vm_pushed)
		list_del(&job->vm_link);
	idle = job->vm_pushed && list_empty(&vm->jobs);
	/* Zombies are in sequence order: stop at the first still busy. */
	list_for_each_entry_safe(m, next, &vm->zombies, zombie_link) {
		if (lumen_vm_seq_busy_locked(vm, m->seq))
			break;
		list_move_tail(&m->zombie_link, &ready);
	}
	spin_unlock(&vm->jobs_lock);

	/* Its context may go to another VM now. */
	if (idle)
		lumen_ctx_idle(vm->ldev);

	list_for_each_entry_safe(m, next, &ready, zombie_link)
		lumen_vm_release_mapping(m);
}

/**
 * lumen_vm_create - make the address space of a new file
 * @ldev: the device
 * @out: the new VM, with one reference
 *
 * The VM gets a hardware context at its first submit (lumen_ctx_pin()).
 *
 * Return: 0 or -ENOMEM.
 */
int lumen_vm_create(struct lumen_device *ldev, struct lumen_vm **out)
{
	struct lumen_vm *vm;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;

	vm->root = lumen_pt_create(ldev->drm.dev, LUMEN_PT_LEVELS - 1);
	if (!vm->root) {
		kfree(vm);
		return -ENOMEM;
	}

	kref_init(&vm->ref);
	vm->ldev = ldev;
	vm->pt_bytes = LUMEN_PAGE_SIZE;
	atomic64_add(LUMEN_PAGE_SIZE, &ldev->pt_bytes);
	mutex_init(&vm->lock);
	drm_mm_init(&vm->va_mm, LUMEN_VA_START, LUMEN_VA_END - LUMEN_VA_START);
	spin_lock_init(&vm->jobs_lock);
	INIT_LIST_HEAD(&vm->jobs);
	INIT_LIST_HEAD(&vm->zombies);
	INIT_LIST_HEAD(&vm->binds);
	INIT_LIST_HEAD(&vm->ctx_link);
	mutex_init(&vm->dq_lock);
	INIT_LIST_HEAD(&vm->dqs);
	atomic_inc(&ldev->job_count);

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
	/* Bindings the file did not unbind: nothing can use them any more. */
	list_for_each_entry_safe(m, next, &vm->binds, bo_link) {
		list_del(&m->bo_link);
		lumen_vm_release_mapping(m);
	}

	/* Clear the root and free the id before freeing the tables. */
	lumen_ctx_release(vm);
	lumen_pt_destroy(ldev->drm.dev, vm->root, LUMEN_PT_LEVELS - 1);
	atomic64_sub(vm->pt_bytes, &ldev->pt_bytes);
	drm_mm_takedown(&vm->va_mm);
	WARN_ON(!list_empty(&vm->dqs));
	mutex_destroy(&vm->dq_lock);
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

/*
 * The checks of DRM_IOCTL_LUMEN_VM_BIND's arguments that need no lookup,
 * in the order Documentation/uapi.rst gives them.
 */
VISIBLE_IF_KUNIT int lumen_vm_bind_check_args(const struct drm_lumen_vm_bind *args)
{
	if (args->flags & ~DRM_LUMEN_VM_BIND_FLAGS)
		return -EINVAL;
	if (!args->size || !IS_ALIGNED(args->size, LUMEN_PAGE_SIZE) ||
	    !IS_ALIGNED(args->offset, LUMEN_PAGE_SIZE) ||
	    !IS_ALIGNED(args->va, LUMEN_PAGE_SIZE))
		return -EINVAL;
	if (args->va < LUMEN_VA_START || args->va > LUMEN_VA_END ||
	    args->size > LUMEN_VA_END - args->va)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_vm_bind_check_args);

int lumen_ioctl_vm_bind(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_vm_bind *args = data;
	struct lumen_vm *vm = lfile->vm;
	struct drm_gem_object *obj;
	struct lumen_mapping *m;
	bool writable;
	int ret;

	ret = lumen_vm_bind_check_args(args);
	if (ret)
		return ret;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;

	writable = !(args->flags & DRM_LUMEN_VM_BIND_READ_ONLY);
	if (args->offset > obj->size || args->size > obj->size - args->offset) {
		ret = -EINVAL;
	} else if (writable && (lumen_bo_maps(obj)->flags & DRM_LUMEN_BO_READ_ONLY)) {
		/* A read-only BO stays read-only for the device. */
		ret = -EACCES;
	} else {
		ret = lumen_vm_map_range(vm, obj, args->offset, args->size, args->va, writable,
					 &m);
	}
	if (!ret) {
		mutex_lock(&vm->lock);
		list_add_tail(&m->bo_link, &vm->binds);
		mutex_unlock(&vm->lock);
	}
	drm_gem_object_put(obj);
	return ret;
}

int lumen_ioctl_vm_unbind(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_vm_unbind *args = data;
	struct lumen_vm *vm = lfile->vm;
	struct lumen_mapping *m, *found = NULL;

	if (args->flags || args->pad)
		return -EINVAL;

	mutex_lock(&vm->lock);
	list_for_each_entry(m, &vm->binds, bo_link) {
		if (m->node.start == args->va && m->size == args->size) {
			found = m;
			list_del(&m->bo_link);
			break;
		}
	}
	mutex_unlock(&vm->lock);
	if (!found)
		return -ENOENT;

	lumen_vm_unmap(found);
	return 0;
}
