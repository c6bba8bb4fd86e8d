// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: BAR mapping, identification, reset, and programming
 * of the hardware queues.  Documentation/device.rst describes the registers.
 */

#include <linux/iopoll.h>
#include <linux/log2.h>
#include <linux/pci.h>

#include <drm/drm_print.h>

#include "lumen_drv.h"

/* Resets are immediate in the model; allow real hardware some slack. */
#define LUMEN_RESET_POLL_US	10
#define LUMEN_RESET_TIMEOUT_US	(100 * USEC_PER_MSEC)

int lumen_hw_map(struct lumen_device *ldev)
{
	struct pci_dev *pdev = ldev->pdev;
	resource_size_t len;
	int ret;

	ldev->regs = pcim_iomap_region(pdev, LUMEN_BAR_REGS, LUMEN_DRIVER_NAME);
	if (IS_ERR(ldev->regs))
		return PTR_ERR(ldev->regs);
	if (pci_resource_len(pdev, LUMEN_BAR_REGS) < LUMEN_REGS_SIZE)
		return -ENODEV;

	ldev->doorbells = pcim_iomap_region(pdev, LUMEN_BAR_DOORBELL, LUMEN_DRIVER_NAME);
	if (IS_ERR(ldev->doorbells))
		return PTR_ERR(ldev->doorbells);

	/* Device memory is written by the CPU only to zero new BOs: use WC. */
	ret = pcim_request_region(pdev, LUMEN_BAR_DEVMEM, LUMEN_DRIVER_NAME);
	if (ret)
		return ret;
	ldev->devmem_base = pci_resource_start(pdev, LUMEN_BAR_DEVMEM);
	len = pci_resource_len(pdev, LUMEN_BAR_DEVMEM);
	ldev->devmem = devm_ioremap_wc(&pdev->dev, ldev->devmem_base, len);
	if (!ldev->devmem)
		return -ENOMEM;
	ldev->devmem_size = len;

	return 0;
}

/*
 * Read the identification registers and check that this driver can run
 * the device.  Called once at probe, before anything is enabled.
 */
int lumen_hw_probe(struct lumen_device *ldev)
{
	struct drm_device *drm = &ldev->drm;
	u32 num_vectors, doorbell_pages;
	u64 devmem_size;
	u32 id;

	id = lumen_read(ldev, LUMEN_REG_ID);
	if (id != LUMEN_ID_MAGIC) {
		drm_err(drm, "bad ID register %#x\n", id);
		return -ENODEV;
	}

	ldev->hw_version = lumen_read(ldev, LUMEN_REG_VERSION);
	if (LUMEN_VERSION_MAJOR(ldev->hw_version) !=
	    LUMEN_VERSION_MAJOR(LUMEN_HW_VERSION)) {
		drm_err(drm, "unsupported device version %u.%u\n",
			LUMEN_VERSION_MAJOR(ldev->hw_version),
			LUMEN_VERSION_MINOR(ldev->hw_version));
		return -ENODEV;
	}

	ldev->caps = lumen_read(ldev, LUMEN_REG_CAPS);
	if (!(ldev->caps & LUMEN_CAP_MMU)) {
		drm_err(drm, "device has no MMU\n");
		return -ENODEV;
	}

	ldev->num_cores = lumen_read(ldev, LUMEN_REG_NUM_CORES);
	ldev->num_hw_queues = lumen_read(ldev, LUMEN_REG_NUM_QUEUES);
	ldev->num_engines = lumen_read(ldev, LUMEN_REG_NUM_ENGINES);
	ldev->num_contexts = lumen_read(ldev, LUMEN_REG_NUM_CONTEXTS);
	num_vectors = lumen_read(ldev, LUMEN_REG_NUM_VECTORS);
	if (ldev->num_cores > LUMEN_MAX_CORES || !ldev->num_hw_queues ||
	    ldev->num_hw_queues > LUMEN_MAX_QUEUES ||
	    num_vectors < ldev->num_hw_queues + 1 ||
	    ldev->num_engines != ldev->num_cores + 1) {
		drm_err(drm, "bad configuration: %u cores, %u engines, %u queues, %u vectors\n",
			ldev->num_cores, ldev->num_engines, ldev->num_hw_queues, num_vectors);
		return -ENODEV;
	}
	/* The top hardware queues are for direct queues (lumen_dq.c). */
	ldev->num_queues = ldev->num_hw_queues - lumen_dq_partition(ldev);
	/* Context 0 is the kernel's: at least one must be left for files. */
	if (ldev->num_contexts < 2 || ldev->num_contexts > LUMEN_NUM_CONTEXTS) {
		drm_err(drm, "bad number of MMU contexts: %u\n", ldev->num_contexts);
		return -ENODEV;
	}

	doorbell_pages = pci_resource_len(ldev->pdev, LUMEN_BAR_DOORBELL) /
			 LUMEN_DOORBELL_STRIDE;
	if (doorbell_pages < ldev->num_hw_queues) {
		drm_err(drm, "doorbell BAR too small for %u queues\n",
			ldev->num_hw_queues);
		return -ENODEV;
	}

	/* Trust neither the register nor the BAR alone. */
	devmem_size = lumen_read64(ldev, LUMEN_REG_DEVMEM_SIZE);
	ldev->devmem_size = round_down(min(devmem_size, ldev->devmem_size), PAGE_SIZE);
	if (!ldev->devmem_size) {
		drm_err(drm, "no device memory\n");
		return -ENODEV;
	}

	drm_info(drm, "Lumen %u.%u: %u cores, %u queues (%u direct), %u MMU contexts, %llu MiB device memory\n",
		 LUMEN_VERSION_MAJOR(ldev->hw_version),
		 LUMEN_VERSION_MINOR(ldev->hw_version), ldev->num_cores,
		 ldev->num_hw_queues, ldev->num_hw_queues - ldev->num_queues,
		 ldev->num_contexts, ldev->devmem_size >> 20);
	return 0;
}

/*
 * Global reset: stops every queue and engine, disables the device and all
 * queues, and clears all error state.  No DMA or interrupt follows it.
 */
int lumen_hw_reset(struct lumen_device *ldev)
{
	u32 control;
	int ret;

	lumen_write(ldev, LUMEN_REG_CONTROL, LUMEN_CONTROL_RESET);
	ret = readl_poll_timeout(ldev->regs + LUMEN_REG_CONTROL, control,
				 !(control & LUMEN_CONTROL_RESET),
				 LUMEN_RESET_POLL_US, LUMEN_RESET_TIMEOUT_US);
	if (ret)
		drm_err(&ldev->drm, "device reset timed out\n");
	return ret;
}

static u32 lumen_hw_queue_engine(struct lumen_queue *q)
{
	/*
	 * Engines 0 .. num_cores - 1 compute, engine num_cores is the DMA
	 * engine.  Spread the queues over all of them: userspace picks the
	 * engine by picking the queue (Documentation/uapi.rst).
	 */
	return q->id % q->ldev->num_engines;
}

/**
 * lumen_hw_queue_start_locked - program an idle, disabled queue and enable it
 * @q: the queue, freshly reset
 *
 * The ring restarts empty at index 0.  Bumping the generation tells
 * run_job that commands written earlier are gone and must be written again.
 */
void lumen_hw_queue_start_locked(struct lumen_queue *q)
{
	struct lumen_device *ldev = q->ldev;

	lockdep_assert_held(&q->ring_lock);

	q->tail = 0;
	q->generation++;

	lumen_write64(ldev, LUMEN_QUEUE_REG(q->id, LUMEN_Q_RING_BASE), q->ring_dma);
	lumen_queue_write(q, LUMEN_Q_RING_SIZE, LUMEN_RING_ENTRIES);
	lumen_queue_write(q, LUMEN_Q_ENGINE, lumen_hw_queue_engine(q));
	lumen_queue_write(q, LUMEN_Q_CONTROL, LUMEN_Q_CONTROL_ENABLE);
}

/**
 * lumen_hw_queue_reset_locked - stop a queue and clear its error state
 * @q: the queue
 *
 * When this returns the queue executes nothing and writes nothing more to
 * its fence slot; it must be started again with lumen_hw_queue_start_locked().
 *
 * Return: 0, or -ETIMEDOUT if the queue did not come out of reset.
 */
int lumen_hw_queue_reset_locked(struct lumen_queue *q)
{
	u32 control;
	int ret;

	lockdep_assert_held(&q->ring_lock);

	lumen_queue_write(q, LUMEN_Q_CONTROL, LUMEN_Q_CONTROL_RESET);
	ret = readl_poll_timeout(q->ldev->regs + LUMEN_QUEUE_REG(q->id, LUMEN_Q_CONTROL),
				 control, !(control & LUMEN_Q_CONTROL_RESET),
				 LUMEN_RESET_POLL_US, LUMEN_RESET_TIMEOUT_US);
	if (ret)
		drm_err(&q->ldev->drm, "queue %u: reset timed out\n", q->id);
	return ret;
}

/**
 * lumen_hw_queue_doorbell_locked - tell the device the ring has new commands
 * @q: the queue
 *
 * writel() orders the preceding stores to the coherent ring before the
 * doorbell write, so the device sees every command up to the new tail.
 */
void lumen_hw_queue_doorbell_locked(struct lumen_queue *q)
{
	lockdep_assert_held(&q->ring_lock);

	writel(q->tail, q->ldev->doorbells + q->id * LUMEN_DOORBELL_STRIDE);
}

/**
 * lumen_hw_enable_device - enable a freshly reset device, not its queues
 * @ldev: the device
 *
 * Return: 0, or -ETIMEDOUT if the device does not become ready.
 */
int lumen_hw_enable_device(struct lumen_device *ldev)
{
	u32 status;
	int ret;

	lumen_write(ldev, LUMEN_REG_CONTROL, LUMEN_CONTROL_ENABLE);
	ret = readl_poll_timeout(ldev->regs + LUMEN_REG_STATUS, status,
				 status & LUMEN_STATUS_READY,
				 LUMEN_RESET_POLL_US, LUMEN_RESET_TIMEOUT_US);
	if (ret)
		drm_err(&ldev->drm, "device not ready, status %#x\n", status);
	return ret;
}

/**
 * lumen_hw_start_queues - point every queue at its ring, empty
 * @ldev: the device, enabled
 */
void lumen_hw_start_queues(struct lumen_device *ldev)
{
	u32 i;

	for (i = 0; i < ldev->num_queues; i++) {
		struct lumen_queue *q = &ldev->queues[i];

		mutex_lock(&q->ring_lock);
		lumen_hw_queue_start_locked(q);
		mutex_unlock(&q->ring_lock);
	}
}

/**
 * lumen_hw_enable - bring a freshly reset device into service
 * @ldev: the device
 *
 * Enables the device, then programs and enables every queue.
 *
 * Return: 0, or -ETIMEDOUT if the device does not become ready.
 */
int lumen_hw_enable(struct lumen_device *ldev)
{
	int ret;

	ret = lumen_hw_enable_device(ldev);
	if (ret)
		return ret;

	lumen_hw_start_queues(ldev);
	return 0;
}

/**
 * lumen_hw_disable - stop all DMA and interrupts from the device
 * @ldev: the device
 *
 * The reset stops the engines; then no handler runs or will run.
 */
void lumen_hw_disable(struct lumen_device *ldev)
{
	lumen_hw_reset(ldev);
	lumen_irq_disable(ldev);
}
