// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: module, PCI driver and DRM driver.
 *
 * Lifetimes.  The PCI function owns the hardware resources (BAR mappings,
 * MSI-X vectors, rings): they are device-managed and go at unbind.  The DRM
 * device owns the software state (schedulers, fences, allocators): it is
 * DRM-managed and stays while open files, BOs or jobs remain.  Between the
 * two, drm_dev_enter()/drm_dev_exit() guard every hardware access made on
 * behalf of userspace, and remove unplugs the DRM device first.
 */

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

/*
 * Every open file gets its own device address space; a hardware context
 * is bound to it only while it has work (lumen_ctx.c).
 */
static int lumen_open(struct drm_device *drm, struct drm_file *file)
{
	struct lumen_file *lfile;
	int ret;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	lfile = kzalloc(sizeof(*lfile), GFP_KERNEL);
	if (!lfile) {
		ret = -ENOMEM;
		goto out;
	}

	ret = lumen_vm_create(to_lumen_device(drm), &lfile->vm);
	if (ret) {
		kfree(lfile);
		goto out;
	}

	lfile->ldev = to_lumen_device(drm);
	mutex_init(&lfile->lock);
	lumen_dq_file_init(lfile);
	file->driver_priv = lfile;
out:
	drm_dev_exit(idx);
	return ret;
}

/*
 * The file's handles are gone (so are its mappings, or they wait as
 * zombies for its jobs).  Destroying the entities lets queued jobs run
 * (bounded) or cancels them; the VM goes with the last job.
 */
static void lumen_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;

	/* Direct queues first: they pin the VM's context. */
	lumen_dq_file_fini(lfile);
	lumen_file_queues_fini(lfile);
	lumen_file_entities_fini(lfile);
	lumen_vm_put(lfile->vm);
	mutex_destroy(&lfile->lock);
	kfree(lfile);
}

static const struct drm_ioctl_desc lumen_ioctls[] = {
	DRM_IOCTL_DEF_DRV(LUMEN_QUERY, lumen_ioctl_query, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_BO_CREATE, lumen_ioctl_bo_create, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_BO_MMAP_OFFSET, lumen_ioctl_bo_mmap_offset, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_SUBMIT, lumen_ioctl_submit, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_BO_INFO, lumen_ioctl_bo_info, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_VM_BIND, lumen_ioctl_vm_bind, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_VM_UNBIND, lumen_ioctl_vm_unbind, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_QUEUE_CREATE, lumen_ioctl_queue_create, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_QUEUE_DESTROY, lumen_ioctl_queue_destroy, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_DQ_CREATE, lumen_ioctl_dq_create, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_DQ_DESTROY, lumen_ioctl_dq_destroy, 0),
	DRM_IOCTL_DEF_DRV(LUMEN_DQ_WAIT, lumen_ioctl_dq_wait, 0),
};

/*
 * Offsets below DRM's GEM offsets are doorbell pages of direct queues
 * (lumen_dq.c); the rest are BOs.
 */
static int lumen_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff >= LUMEN_DQ_MMAP_PGOFF &&
	    vma->vm_pgoff < LUMEN_DQ_MMAP_PGOFF + LUMEN_DQ_MMAP_KEYS)
		return lumen_dq_mmap(filp, vma);
	return drm_gem_mmap(filp, vma);
}

/*
 * DEFINE_DRM_ACCEL_FOPS() plus fdinfo (lumen_fdinfo.c), with an mmap that
 * also maps doorbells.
 */
static const struct file_operations lumen_fops = {
	.owner = THIS_MODULE,
	.open = accel_open,
	.release = drm_release,
	.unlocked_ioctl = drm_ioctl,
	.compat_ioctl = drm_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.mmap = lumen_mmap,
	.fop_flags = FOP_UNSIGNED_OFFSET,
	.show_fdinfo = drm_show_fdinfo,
};

static const struct drm_driver lumen_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL | DRIVER_GEM | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
	.open = lumen_open,
	.postclose = lumen_postclose,
	.show_fdinfo = lumen_show_fdinfo,
	.gem_create_object = lumen_gem_create_object,
	/* dma-bufs of other devices become shmem objects over their pages. */
	.gem_prime_import_sg_table = drm_gem_shmem_prime_import_sg_table,
	.ioctls = lumen_ioctls,
	.num_ioctls = ARRAY_SIZE(lumen_ioctls),
	.fops = &lumen_fops,
	.name = LUMEN_DRIVER_NAME,
	.desc = LUMEN_DRIVER_DESC,
	.major = 1,
	/* 1.1: direct queues. */
	.minor = 1,
};

static void lumen_dummy_page_fini(struct drm_device *drm, void *page)
{
	__free_page(page);
}

/*
 * What a device-memory BO mapping shows once the device is unplugged
 * (lumen_gem.c): one zeroed page, shared by every such mapping, which
 * stays as long as the DRM device (mappings hold their file open).
 */
static int lumen_dummy_page_init(struct lumen_device *ldev)
{
	ldev->dummy_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!ldev->dummy_page)
		return -ENOMEM;
	return drmm_add_action_or_reset(&ldev->drm, lumen_dummy_page_fini, ldev->dummy_page);
}

static int lumen_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct lumen_device *ldev;
	int ret;

	ldev = devm_drm_dev_alloc(&pdev->dev, &lumen_drm_driver, struct lumen_device, drm);
	if (IS_ERR(ldev))
		return PTR_ERR(ldev);
	ldev->pdev = pdev;
	pci_set_drvdata(pdev, ldev);
	ret = lumen_pm_early_init(ldev);
	if (ret)
		return ret;
	ret = lumen_dummy_page_init(ldev);
	if (ret)
		return ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	ret = lumen_hw_map(ldev);
	if (ret)
		return ret;

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);

	ret = lumen_hw_probe(ldev);
	if (ret)
		return ret;
	/* Whatever a previous driver left running stops here. */
	ret = lumen_hw_reset(ldev);
	if (ret)
		return ret;

	ret = lumen_gem_init(ldev);
	if (ret)
		return ret;
	ret = lumen_mmu_init(ldev);
	if (ret)
		return ret;
	ret = lumen_sched_init(ldev);
	if (ret)
		return ret;
	ret = lumen_dq_init(ldev);
	if (ret)
		return ret;
	ret = lumen_irq_init(ldev);
	if (ret)
		return ret;

	ret = lumen_hw_enable(ldev);
	if (ret)
		goto err_disable;
	lumen_irq_enable(ldev);

	lumen_debugfs_init(ldev);
	ret = lumen_sysfs_init(ldev);
	if (ret)
		goto err_disable;

	ret = drm_dev_register(&ldev->drm, 0);
	if (ret)
		goto err_disable;
	/* Nothing fails after this: the device may suspend from now on. */
	lumen_pm_init(ldev);
	return 0;

err_disable:
	lumen_hw_disable(ldev);
	return ret;
}

static void lumen_remove(struct pci_dev *pdev)
{
	struct lumen_device *ldev = pci_get_drvdata(pdev);
	struct drm_device *drm = &ldev->drm;

	/*
	 * No new ioctl, fault or run_job reaches the hardware after this.
	 * The PCI core resumed the device for us.
	 */
	drm_dev_unplug(drm);
	lumen_pm_fini(ldev);
	/*
	 * Every mapping faults again: system-memory BOs get their own pages
	 * back, device-memory BOs (BAR2 is gone) the dummy page.
	 */
	unmap_mapping_range(drm->anon_inode->i_mapping, 0, 0, 1);

	lumen_hw_disable(ldev);
	/* Jobs on the hardware will never complete: fail them. */
	lumen_sched_fail_all(ldev, -ENODEV);
	/* Direct queue waiters leave with -ENODEV. */
	lumen_dq_unplug(ldev);
}

/* Reboot or kexec: the next kernel must not find the device doing DMA. */
static void lumen_shutdown(struct pci_dev *pdev)
{
	struct lumen_device *ldev = pci_get_drvdata(pdev);

	lumen_hw_disable(ldev);
}

static const struct pci_device_id lumen_pci_ids[] = {
	{ PCI_DEVICE(LUMEN_PCI_VENDOR_ID, LUMEN_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, lumen_pci_ids);

static struct pci_driver lumen_pci_driver = {
	.name = LUMEN_DRIVER_NAME,
	.id_table = lumen_pci_ids,
	.probe = lumen_probe,
	.remove = lumen_remove,
	.shutdown = lumen_shutdown,
	.driver.pm = pm_ptr(&lumen_pm_ops),
};
module_pci_driver(lumen_pci_driver);

MODULE_DESCRIPTION(LUMEN_DRIVER_DESC);
MODULE_LICENSE("Dual MIT/GPL");
