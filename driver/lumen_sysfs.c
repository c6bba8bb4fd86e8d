// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: device statistics in sysfs, one value per file, in
 * /sys/bus/pci/devices/<pci address>/lumen/ (Documentation/uapi.rst):
 *
 *   devmem_total_bytes, devmem_used_bytes, system_bo_bytes
 *   pt_bytes              page tables of every context (system memory)
 *   runtime_suspended     1 while runtime-suspended (lumen_pm.c), else 0
 *   runtime_suspends, runtime_resumes   runtime PM transitions so far
 *   <engine>_busy_ns, <engine>_commands, <engine>_bytes, <engine>_faults
 *                         the device's LUMEN_PERF_* counters of each engine
 *   queue<q>_resets       resets of queue q by error or timeout recovery,
 *                         device resets included
 *   <engine>_resets       resets of a queue feeding the engine, device
 *                         resets included (lumen_sched.c)
 *   device_resets         global resets after a fatal device error
 *
 * The engine and queue files depend on the device, so the group is built at
 * probe.  It belongs to the PCI device and goes at unbind; the counters read
 * the hardware, so they fail with -ENODEV once the device is unplugged.
 */

#include <linux/device.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include <drm/drm_drv.h>

#include "lumen_drv.h"

enum lumen_stat {
	LUMEN_STAT_DEVMEM_TOTAL,
	LUMEN_STAT_DEVMEM_USED,
	LUMEN_STAT_SYSTEM_BO,
	LUMEN_STAT_PT,
	LUMEN_STAT_PM_SUSPENDED,
	LUMEN_STAT_PM_SUSPENDS,
	LUMEN_STAT_PM_RESUMES,
	LUMEN_STAT_DEVICE_RESETS,
	LUMEN_STAT_PERF,
	LUMEN_STAT_QUEUE_RESETS,
	LUMEN_STAT_ENGINE_RESETS,
};

struct lumen_stat_attr {
	struct device_attribute attr;
	enum lumen_stat stat;
	/* The engine (LUMEN_STAT_PERF, _ENGINE_RESETS) or the queue (_QUEUE_RESETS). */
	u32 index;
	/* The LUMEN_PERF_* register (LUMEN_STAT_PERF). */
	u32 reg;
	char name[32];
};

static int lumen_stat_perf(struct lumen_device *ldev, u32 engine, u32 reg, u64 *val)
{
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;
	/* Counted across runtime suspends; does not wake the device. */
	*val = lumen_pm_perf_read(ldev, engine, reg);
	drm_dev_exit(idx);
	return 0;
}

static ssize_t lumen_stat_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct lumen_stat_attr *sa = container_of(attr, struct lumen_stat_attr, attr);
	struct lumen_device *ldev = pci_get_drvdata(to_pci_dev(dev));
	u64 val = 0;
	int ret;

	switch (sa->stat) {
	case LUMEN_STAT_DEVMEM_TOTAL:
		val = ldev->devmem_size;
		break;
	case LUMEN_STAT_DEVMEM_USED:
		mutex_lock(&ldev->devmem_lock);
		val = ldev->devmem_mm.size - ldev->devmem_mm.avail;
		mutex_unlock(&ldev->devmem_lock);
		break;
	case LUMEN_STAT_SYSTEM_BO:
		val = atomic64_read(&ldev->system_bo_bytes);
		break;
	case LUMEN_STAT_PT:
		val = atomic64_read(&ldev->pt_bytes);
		break;
	case LUMEN_STAT_PM_SUSPENDED:
		val = pm_runtime_status_suspended(dev);
		break;
	case LUMEN_STAT_PM_SUSPENDS:
		val = atomic64_read(&ldev->pm_suspends);
		break;
	case LUMEN_STAT_PM_RESUMES:
		val = atomic64_read(&ldev->pm_resumes);
		break;
	case LUMEN_STAT_PERF:
		ret = lumen_stat_perf(ldev, sa->index, sa->reg, &val);
		if (ret)
			return ret;
		break;
	case LUMEN_STAT_QUEUE_RESETS:
		val = atomic64_read(&ldev->queues[sa->index].resets);
		break;
	case LUMEN_STAT_DEVICE_RESETS:
		val = atomic64_read(&ldev->device_resets);
		break;
	case LUMEN_STAT_ENGINE_RESETS:
		val = atomic64_read(&ldev->engine_resets[sa->index]);
		break;
	}
	return sysfs_emit(buf, "%llu\n", val);
}

static void lumen_stat_attr_init(struct lumen_stat_attr *sa, enum lumen_stat stat,
				 u32 index, u32 reg)
{
	sysfs_attr_init(&sa->attr.attr);
	sa->attr.attr.name = sa->name;
	sa->attr.attr.mode = 0444;
	sa->attr.show = lumen_stat_show;
	sa->stat = stat;
	sa->index = index;
	sa->reg = reg;
}

static const struct {
	u32 reg;
	const char *suffix;
} lumen_perf_files[] = {
	{ LUMEN_PERF_BUSY_NS, "busy_ns" },
	{ LUMEN_PERF_COMMANDS, "commands" },
	{ LUMEN_PERF_BYTES, "bytes" },
	{ LUMEN_PERF_FAULTS, "faults" },
};

/**
 * lumen_sysfs_init - add the statistics files to the PCI device
 * @ldev: the probed device
 *
 * Return: 0 or -errno.
 */
int lumen_sysfs_init(struct lumen_device *ldev)
{
	static const char *const fixed[] = {
		[LUMEN_STAT_DEVMEM_TOTAL] = "devmem_total_bytes",
		[LUMEN_STAT_DEVMEM_USED] = "devmem_used_bytes",
		[LUMEN_STAT_SYSTEM_BO] = "system_bo_bytes",
		[LUMEN_STAT_PT] = "pt_bytes",
		[LUMEN_STAT_PM_SUSPENDED] = "runtime_suspended",
		[LUMEN_STAT_PM_SUSPENDS] = "runtime_suspends",
		[LUMEN_STAT_PM_RESUMES] = "runtime_resumes",
		[LUMEN_STAT_DEVICE_RESETS] = "device_resets",
	};
	struct device *dev = &ldev->pdev->dev;
	u32 count = ARRAY_SIZE(fixed) + ldev->num_engines * (ARRAY_SIZE(lumen_perf_files) + 1) +
		    ldev->num_queues;
	struct attribute_group *group;
	struct lumen_stat_attr *sa;
	struct attribute **attrs;
	char engine[16];
	u32 i, e, n = 0;

	sa = devm_kcalloc(dev, count, sizeof(*sa), GFP_KERNEL);
	attrs = devm_kcalloc(dev, count + 1, sizeof(*attrs), GFP_KERNEL);
	group = devm_kzalloc(dev, sizeof(*group), GFP_KERNEL);
	if (!sa || !attrs || !group)
		return -ENOMEM;

	for (i = 0; i < ARRAY_SIZE(fixed); i++, n++) {
		strscpy(sa[n].name, fixed[i]);
		lumen_stat_attr_init(&sa[n], i, 0, 0);
	}
	for (e = 0; e < ldev->num_engines; e++) {
		lumen_engine_name(ldev, e, engine, sizeof(engine));
		for (i = 0; i < ARRAY_SIZE(lumen_perf_files); i++, n++) {
			snprintf(sa[n].name, sizeof(sa[n].name), "%s_%s", engine,
				 lumen_perf_files[i].suffix);
			lumen_stat_attr_init(&sa[n], LUMEN_STAT_PERF, e, lumen_perf_files[i].reg);
		}
		snprintf(sa[n].name, sizeof(sa[n].name), "%s_resets", engine);
		lumen_stat_attr_init(&sa[n++], LUMEN_STAT_ENGINE_RESETS, e, 0);
	}
	for (i = 0; i < ldev->num_queues; i++, n++) {
		snprintf(sa[n].name, sizeof(sa[n].name), "queue%u_resets", i);
		lumen_stat_attr_init(&sa[n], LUMEN_STAT_QUEUE_RESETS, i, 0);
	}
	for (i = 0; i < count; i++)
		attrs[i] = &sa[i].attr.attr;

	group->name = "lumen";
	group->attrs = attrs;
	return devm_device_add_group(dev, group);
}
