// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: buffer objects.
 *
 * System-memory BOs are shmem GEM objects; so are dma-bufs imported from
 * other devices (their pages come as the exporter's scatter list).  Their
 * pages are pinned and DMA-mapped when the BO is first mapped into a VM
 * (lumen_vm.c), which BO_CREATE does at once, and stay so until the BO is
 * freed.  They are not populated lazily: the device cannot wait on a page
 * fault, so every PTE must point at a real page before a job may run.
 *
 * Device-memory BOs are contiguous ranges of BAR2 handed out by a buddy
 * allocator.  The device's page tables point at them by offset
 * (LUMEN_PTE_DEVMEM); the CPU maps them write-combined through BAR2.
 *
 * Every kind of BO is mapped into the VM of each file holding a handle to
 * it: &drm_gem_object_funcs.open and .close do that (lumen_vm.c).
 *
 * System BOs are cached for the CPU by default, as DMA is coherent;
 * DRM_LUMEN_BO_WC maps them write-combined (for buffers the CPU only
 * streams into).  Device BOs are write-combined in any case.
 *
 * Every new BO reads as zeroes: shmem gives zeroed pages, and device
 * memory is cleared before the BO's handle exists.
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_vma_manager.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

/* ---- System-memory BOs ------------------------------------------------- */

struct lumen_shmem_bo *to_lumen_shmem_bo(struct drm_gem_object *obj)
{
	return container_of(to_drm_gem_shmem_obj(obj), struct lumen_shmem_bo, base);
}

static void lumen_bo_maps_init(struct lumen_bo_maps *maps, u32 flags)
{
	mutex_init(&maps->lock);
	INIT_LIST_HEAD(&maps->list);
	maps->flags = flags;
}

static void lumen_bo_maps_fini(struct lumen_bo_maps *maps)
{
	/* Every mapping holds a reference: none is left at free. */
	WARN_ON(!list_empty(&maps->list));
	mutex_destroy(&maps->lock);
}

static void lumen_shmem_bo_free(struct drm_gem_object *obj)
{
	struct lumen_shmem_bo *bo = to_lumen_shmem_bo(obj);

	if (bo->accounted)
		atomic64_sub(obj->size, &to_lumen_device(obj->dev)->system_bo_bytes);
	lumen_bo_maps_fini(&bo->maps);
	drm_gem_shmem_free(&bo->base);
}

/*
 * fdinfo (lumen_fdinfo.c): a shmem BO is resident once it has its pages
 * (mapping it into the VM at creation pins them); an unlocked look is
 * enough for statistics.
 */
static enum drm_gem_object_status lumen_shmem_bo_status(struct drm_gem_object *obj)
{
	return READ_ONCE(to_drm_gem_shmem_obj(obj)->pages) ? DRM_GEM_OBJECT_RESIDENT : 0;
}

static size_t lumen_shmem_bo_rss(struct drm_gem_object *obj)
{
	return READ_ONCE(to_drm_gem_shmem_obj(obj)->pages) ? obj->size : 0;
}

static const struct drm_gem_object_funcs lumen_shmem_funcs = {
	.free = lumen_shmem_bo_free,
	.status = lumen_shmem_bo_status,
	.rss = lumen_shmem_bo_rss,
	.open = lumen_vm_bo_open,
	.close = lumen_vm_bo_close,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/**
 * lumen_gem_create_object - &drm_driver.gem_create_object for shmem BOs
 * @drm: the DRM device
 * @size: BO size
 *
 * Also makes the objects of imported dma-bufs.
 *
 * Return: the embedded GEM object of a new, zeroed &struct lumen_shmem_bo.
 */
struct drm_gem_object *lumen_gem_create_object(struct drm_device *drm, size_t size)
{
	struct lumen_shmem_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);

	/*
	 * x86 DMA is cache coherent: CPU mappings may be cached, unless
	 * BO_CREATE asks for write-combined (lumen_shmem_bo_create()).
	 */
	bo->base.map_wc = false;
	bo->base.base.funcs = &lumen_shmem_funcs;
	lumen_bo_maps_init(&bo->maps, 0);
	return &bo->base.base;
}

static struct drm_gem_object *lumen_shmem_bo_create(struct lumen_device *ldev, u64 size,
						    u32 flags)
{
	struct drm_gem_shmem_object *shmem;

	if (size > LUMEN_SYSTEM_BO_MAX_SIZE)
		return ERR_PTR(-EINVAL);

	shmem = drm_gem_shmem_create(&ldev->drm, size);
	/*
	 * shmem reports a failed inode allocation as ENOSPC; for a system
	 * BO that is lack of memory, and the uAPI says so with ENOMEM.
	 */
	if (PTR_ERR_OR_ZERO(shmem) == -ENOSPC)
		return ERR_PTR(-ENOMEM);
	if (IS_ERR(shmem))
		return ERR_CAST(shmem);
	/*
	 * Before anything gets the pages: drm_gem_shmem makes them WC in the
	 * kernel's own mapping too (no cached alias), and maps them WC into
	 * user space and vmap.
	 */
	shmem->map_wc = flags & DRM_LUMEN_BO_WC;
	container_of(shmem, struct lumen_shmem_bo, base)->maps.flags = flags;
	container_of(shmem, struct lumen_shmem_bo, base)->accounted = true;
	atomic64_add(shmem->base.size, &ldev->system_bo_bytes);
	return &shmem->base;
}

/* ---- Device-memory BOs ------------------------------------------------- */

static const struct drm_gem_object_funcs lumen_devmem_funcs;

bool lumen_bo_is_devmem(struct drm_gem_object *obj)
{
	return obj->funcs == &lumen_devmem_funcs;
}

struct lumen_devmem_bo *to_lumen_devmem_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct lumen_devmem_bo, base);
}

static void lumen_devmem_bo_free(struct drm_gem_object *obj)
{
	struct lumen_devmem_bo *bo = to_lumen_devmem_bo(obj);
	struct lumen_device *ldev = to_lumen_device(obj->dev);

	mutex_lock(&ldev->devmem_lock);
	gpu_buddy_free_list(&ldev->devmem_mm, &bo->blocks, 0);
	mutex_unlock(&ldev->devmem_lock);

	lumen_bo_maps_fini(&bo->maps);
	drm_gem_object_release(obj);
	kfree(bo);
	/* lumen_devmem_bo_create()'s reference: the device may suspend. */
	lumen_pm_release(ldev);
}

static vm_fault_t lumen_devmem_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_gem_object *obj = vma->vm_private_data;
	struct lumen_device *ldev = to_lumen_device(obj->dev);
	pgoff_t page = vmf->pgoff - drm_vma_node_start(&obj->vma_node);
	vm_fault_t ret;
	int idx;

	if (page >= obj->size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;

	/*
	 * BAR2 is gone with the device: unplug zapped the mappings, and
	 * every page now shows the dummy page (Documentation/lifecycle.rst).
	 */
	if (!drm_dev_enter(obj->dev, &idx))
		return vmf_insert_pfn(vma, vmf->address, page_to_pfn(ldev->dummy_page));

	ret = vmf_insert_pfn(vma, vmf->address,
			     PHYS_PFN(ldev->devmem_base + to_lumen_devmem_bo(obj)->offset) + page);
	drm_dev_exit(idx);
	return ret;
}

static const struct vm_operations_struct lumen_devmem_vm_ops = {
	.fault = lumen_devmem_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

static int lumen_devmem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	/* Private copies of device memory pages make no sense. */
	if (is_cow_mapping(vma->vm_flags))
		return -EINVAL;

	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));
	return 0;
}

/* Device memory has no pages to share: no dma-buf export (yet). */
static struct dma_buf *lumen_devmem_export(struct drm_gem_object *obj, int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

/* Device memory is allocated at creation and stays until the BO goes. */
static enum drm_gem_object_status lumen_devmem_bo_status(struct drm_gem_object *obj)
{
	return DRM_GEM_OBJECT_RESIDENT;
}

static size_t lumen_devmem_bo_rss(struct drm_gem_object *obj)
{
	return obj->size;
}

static const struct drm_gem_object_funcs lumen_devmem_funcs = {
	.free = lumen_devmem_bo_free,
	.status = lumen_devmem_bo_status,
	.rss = lumen_devmem_bo_rss,
	.open = lumen_vm_bo_open,
	.close = lumen_vm_bo_close,
	.export = lumen_devmem_export,
	.mmap = lumen_devmem_mmap,
	.vm_ops = &lumen_devmem_vm_ops,
};

static struct drm_gem_object *lumen_devmem_bo_create(struct lumen_device *ldev, u64 size,
						     u32 flags)
{
	struct lumen_devmem_bo *bo;
	struct gpu_buddy_block *block;
	int ret;

	if (size > ldev->devmem_size)
		return ERR_PTR(-ENOSPC);

	/*
	 * BAR2 exists only while the device is in D0: the BO keeps it there
	 * for its whole life, for the clearing below and for every CPU
	 * mapping of it (lumen_pm.c).  Released by lumen_devmem_bo_free().
	 */
	ret = lumen_pm_hold(ldev);
	if (ret)
		return ERR_PTR(ret);

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo) {
		ret = -ENOMEM;
		goto err_release;
	}
	INIT_LIST_HEAD(&bo->blocks);

	mutex_lock(&ldev->devmem_lock);
	ret = gpu_buddy_alloc_blocks(&ldev->devmem_mm, 0, ldev->devmem_size, size,
				     PAGE_SIZE, &bo->blocks, GPU_BUDDY_CONTIGUOUS_ALLOCATION);
	mutex_unlock(&ldev->devmem_lock);
	if (ret) {
		kfree(bo);
		goto err_release;
	}

	/* A contiguous allocation may come as several adjacent blocks. */
	bo->offset = U64_MAX;
	list_for_each_entry(block, &bo->blocks, link)
		bo->offset = min(bo->offset, gpu_buddy_block_offset(block));

	memset_io(ldev->devmem + bo->offset, 0, size);

	lumen_bo_maps_init(&bo->maps, flags);
	bo->base.funcs = &lumen_devmem_funcs;
	drm_gem_private_object_init(&ldev->drm, &bo->base, size);
	ret = drm_gem_create_mmap_offset(&bo->base);
	if (ret) {
		drm_gem_object_put(&bo->base);
		return ERR_PTR(ret);
	}
	return &bo->base;

err_release:
	lumen_pm_release(ldev);
	return ERR_PTR(ret);
}

/* ---- Common ------------------------------------------------------------ */

/**
 * lumen_bo_maps - the mapping list of any BO of this device
 * @obj: the BO
 *
 * Return: its &struct lumen_bo_maps.
 */
struct lumen_bo_maps *lumen_bo_maps(struct drm_gem_object *obj)
{
	if (lumen_bo_is_devmem(obj))
		return &to_lumen_devmem_bo(obj)->maps;
	return &to_lumen_shmem_bo(obj)->maps;
}

static void lumen_gem_fini_action(struct drm_device *drm, void *arg)
{
	struct lumen_device *ldev = arg;

	gpu_buddy_fini(&ldev->devmem_mm);
}

/**
 * lumen_gem_init - set up the device memory allocator
 * @ldev: the device, with its device memory size known
 *
 * Return: 0 or a negative errno.
 */
int lumen_gem_init(struct lumen_device *ldev)
{
	int ret;

	ret = drmm_mutex_init(&ldev->drm, &ldev->devmem_lock);
	if (ret)
		return ret;

	ret = gpu_buddy_init(&ldev->devmem_mm, ldev->devmem_size, PAGE_SIZE);
	if (ret)
		return ret;

	return drmm_add_action_or_reset(&ldev->drm, lumen_gem_fini_action, ldev);
}

int lumen_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_bo_create *args = data;
	struct drm_gem_object *obj;
	u32 handle;
	u64 size, va;
	int ret;
	int idx;

	if (args->flags & ~DRM_LUMEN_BO_FLAGS)
		return -EINVAL;
	if (!args->size || args->size > U64_MAX - PAGE_SIZE + 1)
		return -EINVAL;
	size = PAGE_ALIGN(args->size);

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->flags & DRM_LUMEN_BO_DEVICE)
		obj = lumen_devmem_bo_create(ldev, size, args->flags);
	else
		obj = lumen_shmem_bo_create(ldev, size, args->flags);
	if (IS_ERR(obj)) {
		ret = PTR_ERR(obj);
		goto out;
	}

	/* Maps the BO into the file's VM (lumen_vm_bo_open()). */
	ret = drm_gem_handle_create(file, obj, &handle);
	if (!ret)
		ret = lumen_vm_bo_va(lfile->vm, obj, &va);
	drm_gem_object_put(obj);
	if (ret)
		goto out;

	args->size = size;
	args->handle = handle;
	args->va = va;
out:
	drm_dev_exit(idx);
	return ret;
}

int lumen_ioctl_bo_mmap_offset(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_lumen_bo_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;
	int idx;

	if (args->pad)
		return -EINVAL;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		ret = -ENOENT;
		goto out;
	}

	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
out:
	drm_dev_exit(idx);
	return ret;
}
