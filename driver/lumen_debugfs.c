// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: debugfs.
 *
 * /sys/kernel/debug/accel/<pci address>/regs dumps the global registers and
 * every queue's registers, with the driver's view of each queue beside them.
 *
 * /sys/kernel/debug/accel/<pci address>/fault_inject (write only, root,
 * only on a device with LUMEN_CAP_FAULT_INJECTION) drives the device's
 * fault-injection block, so tests can make every failure happen for real:
 *
 *   hang Q        queue Q's next command never ends      LUMEN_FI_HANG_QUEUE
 *   drop-irq N    the next N queue interrupts are lost   LUMEN_FI_DROP_IRQ
 *   fail-dma N    the next N DMA accesses fail           LUMEN_FI_FAIL_DMA
 *   mmu-fault N   the next N translations fault          LUMEN_FI_MMU_FAULT
 *   fatal         a fatal device error                   LUMEN_FI_FATAL
 *
 * Anything else is -EINVAL.
 *
 * objects (read only): what the driver holds (open files, guilty ones,
 * bound hardware contexts, jobs and VMs, pending hardware fences, BO
 * bytes), for leak checks; resets (read only): resets by recovery of the
 * device, per engine and per queue (lumen_sched.c).
 *
 * queues, contexts (read only) are the driver's view, for people: each
 * queue's engine, ring head/tail, seqnos, resets and pending hardware
 * fences; each open file's client id, pid, hardware context, reserved VA,
 * jobs in flight and engine time.  They take the same locks as the code
 * that changes what they print, so they are safe while jobs run.
 */

#include <linux/debugfs.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"

/* Also printed in device coredumps (lumen_coredump.c). */
const struct lumen_reg_name lumen_global_regs[] = {
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
	{ LUMEN_REG_NUM_CONTEXTS, "NUM_CONTEXTS" },
	{ LUMEN_REG_NUM_ENGINES, "NUM_ENGINES" },
	{ LUMEN_REG_FAULT_STATUS, "FAULT_STATUS" },
	{ LUMEN_REG_FAULT_INFO, "FAULT_INFO" },
	{ LUMEN_REG_FAULT_VA, "FAULT_VA", true },
};

const u32 lumen_num_global_regs = ARRAY_SIZE(lumen_global_regs);

const struct lumen_reg_name lumen_queue_regs[] = {
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
	{ LUMEN_Q_FAULT_VA, "FAULT_VA", true },
	{ LUMEN_Q_FAULT_INFO, "FAULT_INFO" },
	{ LUMEN_Q_CONTEXT, "CONTEXT" },
};

const u32 lumen_num_queue_regs = ARRAY_SIZE(lumen_queue_regs);

/**
 * lumen_reg_read - read a register of a table
 * @ldev: the device, present and resumed
 * @base: 0 for a global register, LUMEN_QUEUE_REG(q, 0) for a queue's
 * @reg: the register
 *
 * Return: its value, 32-bit registers zero-extended.
 */
u64 lumen_reg_read(struct lumen_device *ldev, u32 base, const struct lumen_reg_name *reg)
{
	return reg->is64 ? lumen_read64(ldev, base + reg->offset) :
			   lumen_read(ldev, base + reg->offset);
}

static void lumen_debugfs_print_reg(struct seq_file *m, struct lumen_device *ldev,
				    u32 base, const struct lumen_reg_name *reg)
{
	u64 val = lumen_reg_read(ldev, base, reg);

	if (reg->is64)
		seq_printf(m, "  %-14s %#06x = %#018llx\n", reg->name, base + reg->offset, val);
	else
		seq_printf(m, "  %-14s %#06x = %#010x\n", reg->name, base + reg->offset, (u32)val);
}

/**
 * lumen_debugfs_hw_enter - before a debugfs file reads registers
 * @ldev: the device
 * @idx: for lumen_debugfs_hw_exit()
 *
 * The device must be present, and resumed: the registers of a suspended
 * device read as all-ones.
 *
 * Return: 0, or -ENODEV or the resume's errno (then nothing is held).
 */
int lumen_debugfs_hw_enter(struct lumen_device *ldev, int *idx)
{
	int ret;

	if (!drm_dev_enter(&ldev->drm, idx))
		return -ENODEV;
	ret = lumen_pm_get(ldev);
	if (ret)
		drm_dev_exit(*idx);
	return ret;
}

/**
 * lumen_debugfs_hw_exit - undo lumen_debugfs_hw_enter()
 * @ldev: the device
 * @idx: what lumen_debugfs_hw_enter() gave
 */
void lumen_debugfs_hw_exit(struct lumen_device *ldev, int idx)
{
	lumen_pm_put(ldev);
	drm_dev_exit(idx);
}

static int lumen_debugfs_regs_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	u32 i, q;
	int idx;
	int ret;

	ret = lumen_debugfs_hw_enter(ldev, &idx);
	if (ret)
		return ret;

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

	lumen_debugfs_hw_exit(ldev, idx);
	return 0;
}

/* Pending fences listed per queue; the count says if there are more. */
#define LUMEN_DEBUGFS_MAX_FENCES	16

static void lumen_debugfs_queue_fences(struct seq_file *m, struct lumen_queue *q)
{
	u64 seqnos[LUMEN_DEBUGFS_MAX_FENCES];
	struct lumen_fence *fence;
	unsigned long flags;
	u32 n = 0, i;

	spin_lock_irqsave(&q->fence_lock, flags);
	list_for_each_entry(fence, &q->fences, link) {
		if (n < LUMEN_DEBUGFS_MAX_FENCES)
			seqnos[n] = fence->base.seqno;
		n++;
	}
	spin_unlock_irqrestore(&q->fence_lock, flags);

	seq_printf(m, "  pending fences: %u", n);
	for (i = 0; i < min(n, LUMEN_DEBUGFS_MAX_FENCES); i++)
		seq_printf(m, " %llu", seqnos[i]);
	seq_puts(m, n > LUMEN_DEBUGFS_MAX_FENCES ? " ...\n" : "\n");
}

static int lumen_debugfs_queues_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	char engine[16];
	u32 q;
	int idx;
	int ret;

	ret = lumen_debugfs_hw_enter(ldev, &idx);
	if (ret)
		return ret;

	for (q = 0; q < ldev->num_queues; q++) {
		struct lumen_queue *queue = &ldev->queues[q];
		u32 tail, head, hw_tail;
		u64 next, gen;

		mutex_lock(&queue->ring_lock);
		tail = queue->tail;
		next = queue->next_seqno;
		gen = queue->generation;
		head = lumen_queue_read(queue, LUMEN_Q_HEAD);
		hw_tail = lumen_queue_read(queue, LUMEN_Q_TAIL);
		mutex_unlock(&queue->ring_lock);

		lumen_engine_name(ldev, q % ldev->num_engines, engine, sizeof(engine));
		seq_printf(m, "queue %u: engine %s\n", q, engine);
		seq_printf(m, "  ring: head %u tail %u (driver tail %u) of %u\n",
			   head, hw_tail, tail, LUMEN_RING_ENTRIES);
		seq_printf(m, "  seqno: last issued %llu, completed %llu\n", next,
			   le64_to_cpu(READ_ONCE(*queue->fence_slot)));
		seq_printf(m, "  generation %llu, resets %llu\n", gen,
			   (u64)atomic64_read(&queue->resets));
		seq_printf(m, "  user queues %d\n", atomic_read(&queue->user_queues));
		lumen_debugfs_queue_fences(m, queue);
	}

	lumen_debugfs_hw_exit(ldev, idx);
	return 0;
}

static void lumen_debugfs_vm(struct seq_file *m, struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;
	struct drm_mm_node *node;
	struct lumen_job *job;
	u64 va_bytes = 0;
	u32 jobs = 0, e;
	char engine[16];

	mutex_lock(&vm->lock);
	drm_mm_for_each_node(node, &vm->va_mm)
		va_bytes += node->size;
	mutex_unlock(&vm->lock);

	spin_lock(&vm->jobs_lock);
	list_for_each_entry(job, &vm->jobs, vm_link)
		jobs++;
	spin_unlock(&vm->jobs_lock);

	seq_printf(m, " ctx %u va_bytes %llu jobs %u", READ_ONCE(vm->ctx), va_bytes, jobs);
	for (e = 0; e < ldev->num_engines; e++) {
		lumen_engine_name(ldev, e, engine, sizeof(engine));
		seq_printf(m, " %s %lluns", engine, (u64)atomic64_read(&vm->engine_busy_ns[e]));
	}
	seq_putc(m, '\n');
}

static int lumen_debugfs_contexts_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct drm_device *drm = entry->dev;
	struct drm_file *file;

	mutex_lock(&drm->filelist_mutex);
	list_for_each_entry(file, &drm->filelist, lhead) {
		struct lumen_file *lfile = file->driver_priv;
		struct task_struct *task;
		struct pid *pid;

		rcu_read_lock();
		pid = rcu_dereference(file->pid);
		task = pid_task(pid, PIDTYPE_TGID);
		seq_printf(m, "client %llu pid %d comm %s:", file->client_id, pid_vnr(pid),
			   task ? task->comm : "?");
		rcu_read_unlock();
		if (lfile)
			lumen_debugfs_vm(m, lfile->vm);
		else
			seq_putc(m, '\n');
	}
	mutex_unlock(&drm->filelist_mutex);
	return 0;
}

/*
 * What the driver holds, for leak checks (a test compares the counts before
 * and after): each value is exact when nothing runs.
 */
static int lumen_debugfs_objects_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	struct drm_device *drm = entry->dev;
	u32 files = 0, guilty = 0, bound = 0, fences = 0, q;
	struct lumen_fence *fence;
	struct drm_file *file;
	struct lumen_vm *vm;
	unsigned long flags;
	u64 devmem_used;

	mutex_lock(&drm->filelist_mutex);
	list_for_each_entry(file, &drm->filelist, lhead) {
		struct lumen_file *lfile = file->driver_priv;

		files++;
		if (lfile && atomic_read(&lfile->vm->guilty))
			guilty++;
	}
	mutex_unlock(&drm->filelist_mutex);

	mutex_lock(&ldev->ctx_lock);
	list_for_each_entry(vm, &ldev->ctx_lru, ctx_link)
		bound++;
	mutex_unlock(&ldev->ctx_lock);

	for (q = 0; q < ldev->num_queues; q++) {
		struct lumen_queue *queue = &ldev->queues[q];

		spin_lock_irqsave(&queue->fence_lock, flags);
		list_for_each_entry(fence, &queue->fences, link)
			fences++;
		spin_unlock_irqrestore(&queue->fence_lock, flags);
	}

	mutex_lock(&ldev->devmem_lock);
	devmem_used = ldev->devmem_mm.size - ldev->devmem_mm.avail;
	mutex_unlock(&ldev->devmem_lock);

	seq_printf(m, "files %u\n", files);
	seq_printf(m, "guilty_files %u\n", guilty);
	seq_printf(m, "bound_contexts %u\n", bound);
	seq_printf(m, "jobs_and_vms %d\n", atomic_read(&ldev->job_count));
	seq_printf(m, "pending_fences %u\n", fences);
	seq_printf(m, "system_bo_bytes %llu\n", (u64)atomic64_read(&ldev->system_bo_bytes));
	seq_printf(m, "devmem_used_bytes %llu\n", devmem_used);
	seq_printf(m, "direct_queues %u\n", lumen_dq_count(ldev));
	return 0;
}

/* Resets by recovery: of the device, of each engine's queues, of each queue. */
static int lumen_debugfs_resets_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	char engine[16];
	u32 i;

	seq_printf(m, "device %llu\n", (u64)atomic64_read(&ldev->device_resets));
	for (i = 0; i < ldev->num_engines; i++) {
		lumen_engine_name(ldev, i, engine, sizeof(engine));
		seq_printf(m, "%s %llu\n", engine, (u64)atomic64_read(&ldev->engine_resets[i]));
	}
	for (i = 0; i < ldev->num_queues; i++)
		seq_printf(m, "queue%u %llu\n", i, (u64)atomic64_read(&ldev->queues[i].resets));
	return 0;
}

/* The most a count may ask for: plenty for a test, bounded for the device. */
#define LUMEN_FI_MAX_COUNT	1000

/* Parse one fault_inject command into a register and its value. */
VISIBLE_IF_KUNIT int lumen_fi_parse(u32 num_queues, const char *cmd, u32 *reg, u32 *val)
{
	static const struct {
		const char *name;
		u32 reg;
	} counted[] = {
		{ "drop-irq", LUMEN_FI_DROP_IRQ },
		{ "fail-dma", LUMEN_FI_FAIL_DMA },
		{ "mmu-fault", LUMEN_FI_MMU_FAULT },
	};
	char word[16], extra;
	unsigned int i, n;
	int fields;

	fields = sscanf(cmd, "%15s %u %c", word, &n, &extra);
	if (fields == 1 && !strcmp(word, "fatal")) {
		*reg = LUMEN_FI_FATAL;
		*val = 1;
		return 0;
	}
	if (fields != 2)
		return -EINVAL;
	if (!strcmp(word, "hang")) {
		if (n >= num_queues)
			return -EINVAL;
		*reg = LUMEN_FI_HANG_QUEUE;
		*val = n + 1;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(counted); i++) {
		if (strcmp(word, counted[i].name))
			continue;
		if (!n || n > LUMEN_FI_MAX_COUNT)
			return -EINVAL;
		*reg = counted[i].reg;
		*val = n;
		return 0;
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_fi_parse);

static ssize_t lumen_fi_write(struct file *file, const char __user *ubuf, size_t len,
			      loff_t *pos)
{
	struct lumen_device *ldev = file->private_data;
	char cmd[32];
	u32 reg, val;
	int ret;
	int idx;

	if (!len || len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';

	/* Direct hardware queues may be hung too. */
	ret = lumen_fi_parse(ldev->num_hw_queues, cmd, &reg, &val);
	if (ret)
		return ret;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;
	/* A suspend would clear the injected fault: stay resumed (lumen_pm.c). */
	lumen_pm_forbid(ldev);
	lumen_write(ldev, reg, val);
	drm_dev_exit(idx);
	return len;
}

static const struct file_operations lumen_fi_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = lumen_fi_write,
};

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
	drm_debugfs_add_file(&ldev->drm, "queues", lumen_debugfs_queues_show, NULL);
	drm_debugfs_add_file(&ldev->drm, "contexts", lumen_debugfs_contexts_show, NULL);
	drm_debugfs_add_file(&ldev->drm, "objects", lumen_debugfs_objects_show, NULL);
	drm_debugfs_add_file(&ldev->drm, "resets", lumen_debugfs_resets_show, NULL);
	drm_debugfs_add_file(&ldev->drm, "direct_queues", lumen_dq_debugfs_show, NULL);
	if (ldev->caps & LUMEN_CAP_FAULT_INJECTION)
		debugfs_create_file("fault_inject", 0200, ldev->drm.debugfs_root, ldev,
				    &lumen_fi_fops);
}
