// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: interrupts.
 *
 * The device has one MSI-X vector per hardware queue, raised by a FENCE
 * command with LUMEN_FENCE_IRQ, and one more vector for errors.  Kernel
 * queues' vectors are always unmasked; direct queues' vectors only while
 * a task waits on them (lumen_dq.c), so LUMEN_REG_IRQ_MASK is written from
 * its shadow &lumen_device.irq_mask.
 */

#include <linux/bitops.h>
#include <linux/interrupt.h>
#include <linux/pci.h>

#include <drm/drm_print.h>

#include "lumen_drv.h"

static irqreturn_t lumen_queue_irq(int irq, void *arg)
{
	struct lumen_queue *q = arg;

	/*
	 * No register access: the device sends the vector for every FENCE
	 * that asks for it, whatever IRQ_STATUS holds, and the fence slot
	 * in memory says how far the queue got.  IRQ_STATUS is left set;
	 * it is only a record (each register access is a trap into the
	 * device model under emulation, a bus transaction on hardware).
	 */
	lumen_fence_process(q);
	return IRQ_HANDLED;
}

static irqreturn_t lumen_error_irq(int irq, void *arg)
{
	struct lumen_device *ldev = arg;
	u64 queues;

	/* Every queue is in error then: one global reset recovers them all. */
	if (lumen_read(ldev, LUMEN_REG_STATUS) & LUMEN_STATUS_FATAL) {
		lumen_device_fatal(ldev);
		return IRQ_HANDLED;
	}

	queues = lumen_read64(ldev, LUMEN_REG_ERROR_QUEUES);
	queues &= GENMASK_ULL(ldev->num_hw_queues - 1, 0);
	while (queues) {
		unsigned int id = __ffs64(queues);

		queues &= queues - 1;
		/* A direct queue stays stopped: its owner sees the error. */
		if (id >= ldev->num_queues)
			lumen_dq_hw_error(ldev, id);
		else
			lumen_queue_error(&ldev->queues[id]);
	}
	return IRQ_HANDLED;
}

/**
 * lumen_irq_init - allocate the MSI-X vectors and install the handlers
 * @ldev: the device, with its queues initialised
 *
 * Vectors and handlers are device-managed.  The device raises nothing until
 * lumen_irq_enable().
 *
 * Return: 0 or a negative errno.
 */
int lumen_irq_init(struct lumen_device *ldev)
{
	struct pci_dev *pdev = ldev->pdev;
	u32 nvec = ldev->num_hw_queues + 1;
	u32 i;
	int ret;

	lumen_write64(ldev, LUMEN_REG_IRQ_MASK, U64_MAX);

	ret = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;

	for (i = 0; i < ldev->num_queues; i++) {
		struct lumen_queue *q = &ldev->queues[i];

		ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, i),
				       lumen_queue_irq, 0, q->name, q);
		if (ret)
			return ret;
	}

	ret = lumen_dq_irq_init(ldev);
	if (ret)
		return ret;

	/* The error vector follows every hardware queue's. */
	return devm_request_irq(&pdev->dev, pci_irq_vector(pdev, ldev->num_hw_queues),
				lumen_error_irq, 0, "lumen-error", ldev);
}

/**
 * lumen_irq_enable - let the queues raise their vectors
 * @ldev: the device
 */
void lumen_irq_enable(struct lumen_device *ldev)
{
	unsigned long flags;

	spin_lock_irqsave(&ldev->dq_irq_lock, flags);
	lumen_write64(ldev, LUMEN_REG_IRQ_STATUS, U64_MAX);
	lumen_write64(ldev, LUMEN_REG_IRQ_MASK, ldev->irq_mask);
	spin_unlock_irqrestore(&ldev->dq_irq_lock, flags);
}

/**
 * lumen_irq_disable - mask every vector and wait for running handlers
 * @ldev: the device
 */
void lumen_irq_disable(struct lumen_device *ldev)
{
	u32 i;

	lumen_write64(ldev, LUMEN_REG_IRQ_MASK, U64_MAX);
	for (i = 0; i <= ldev->num_hw_queues; i++)
		synchronize_irq(pci_irq_vector(ldev->pdev, i));
}
