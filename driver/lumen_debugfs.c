// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: debugfs.
 *
 * /sys/kernel/debug/accel/<pci address>/regs dumps the global registers and
 * every queue's registers, with the driver's view of each queue beside them.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>

#include "lumen_drv.h"

struct lumen_reg_name {
	u32 offset;
	const char *name;
	bool is64;
};

static const struct lumen_reg_name lumen_global_regs[] = {
	{ LUMEN_REG_ID, "ID" },
	{ LUMEN_REG_VERSION, "VERSION" },
	{ LUMEN_REG_CAPS, "CAPS" },
	{ LUMEN_REG_NUM_CORES, "NUM_CORES" },
	{ LUMEN_REG_NUM_QUEUES, "NUM_QUEUES" },
	{ LUMEN_REG_NUM_VECTORS, "NUM_VECTORS" },
	{ LUMEN_REG_DEVMEM_SIZE, "DEVMEM_SIZE", true },
	{ LUMEN_REG_CONTROL, "CONTROL" },
	{ LUMEN_REG_STATUS, "STATUS" },
	{ LUMEN_REG_ERROR_QUEUES, "ERROR_QUEUES", true },
	{ LUMEN_REG_TIMESTAMP, "TIMESTAMP", true },
	{ LUMEN_REG_SCRATCH, "SCRATCH" },
	{ LUMEN_REG_IRQ_STATUS, "IRQ_STATUS", true },
	{ LUMEN_REG_IRQ_MASK, "IRQ_MASK", true },
};

static const struct lumen_reg_name lumen_queue_regs[] = {
	{ LUMEN_Q_RING_BASE, "RING_BASE", true },
	{ LUMEN_Q_RING_SIZE, "RING_SIZE" },
	{ LUMEN_Q_CONTROL, "CONTROL" },
	{ LUMEN_Q_HEAD, "HEAD" },
	{ LUMEN_Q_TAIL, "TAIL" },
	{ LUMEN_Q_STATUS, "STATUS" },
	{ LUMEN_Q_ERROR, "ERROR" },
	{ LUMEN_Q_ERROR_HEAD, "ERROR_HEAD" },
	{ LUMEN_Q_ENGINE, "ENGINE" },
	{ LUMEN_Q_COMPLETED, "COMPLETED", true },
};

static void lumen_debugfs_print_reg(struct seq_file *m, struct lumen_device *ldev,
				    u32 base, const struct lumen_reg_name *reg)
{
	if (reg->is64)
		seq_printf(m, "  %-14s %#06x = %#018llx\n", reg->name, base + reg->offset,
			   lumen_read64(ldev, base + reg->offset));
	else
		seq_printf(m, "  %-14s %#06x = %#010x\n", reg->name, base + reg->offset,
			   lumen_read(ldev, base + reg->offset));
}

static int lumen_debugfs_regs_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	u32 i, q;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;

	seq_puts(m, "global:\n");
	for (i = 0; i < ARRAY_SIZE(lumen_global_regs); i++)
		lumen_debugfs_print_reg(m, ldev, 0, &lumen_global_regs[i]);

	for (q = 0; q < ldev->num_queues; q++) {
		struct lumen_queue *queue = &ldev->queues[q];

		seq_printf(m, "queue %u: driver tail %u, fence slot %llu, last seqno %llu\n",
			   q, READ_ONCE(queue->tail),
			   le64_to_cpu(READ_ONCE(*queue->fence_slot)),
			   READ_ONCE(queue->next_seqno));
		for (i = 0; i < ARRAY_SIZE(lumen_queue_regs); i++)
			lumen_debugfs_print_reg(m, ldev, LUMEN_QUEUE_REG(q, 0),
						&lumen_queue_regs[i]);
	}

	drm_dev_exit(idx);
	return 0;
}

/**
 * lumen_debugfs_init - create the device's debugfs files
 * @ldev: the device, before drm_dev_register()
 *
 * Accel devices get no &drm_driver.debugfs_init call; files added to the
 * device before registration appear under /sys/kernel/debug/accel/.
 */
void lumen_debugfs_init(struct lumen_device *ldev)
{
	drm_debugfs_add_file(&ldev->drm, "regs", lumen_debugfs_regs_show, NULL);
}
