// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: device coredumps.
 *
 * Every recovery (lumen_sched.c) writes one, before the reset that clears
 * what it shows: a queue reset after an MMU fault, a command error or a
 * timeout, and a device reset after a fatal error.  So does a direct queue
 * the device stopped on an error (lumen_dq.c), which no reset follows.
 * The devcoredump core offers it as /sys/class/devcoredump/devcd<N>/data
 * until it is read and freed (any write to data) or for 5 minutes; while
 * one is there, later ones of the same device are dropped.  The format is text, one
 * "key: value" per line, in Documentation/uapi.rst ("Device coredumps"):
 * the reason and errno, the guilty context (pid, comm, client, hardware
 * context), the queue's state, the global registers and the queue's block,
 * the ring entry the queue stopped on and the first commands of the guilty
 * job's command buffer, read through the kernel's view of the BO.
 *
 * It is best effort: the buffer is allocated without waiting for reclaim
 * (the jobs reclaim may wait for are the ones being recovered), and a
 * command buffer whose address space is busy, or whose BO the kernel cannot
 * read (an import), is said to be so instead of being waited for.
 */

#include <linux/devcoredump.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>

#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "lumen_drv.h"

/* Bytes of one dump: a device reset shows every queue, ~1 KiB each. */
#define LUMEN_COREDUMP_SIZE	SZ_128K

/* Commands of the guilty command buffer shown. */
#define LUMEN_COREDUMP_CMDS	8

static const char *const lumen_error_names[] = {
	[LUMEN_ERR_NONE] = "none",
	[LUMEN_ERR_BAD_OPCODE] = "bad opcode",
	[LUMEN_ERR_BAD_CMD] = "bad command",
	[LUMEN_ERR_BAD_RING] = "bad ring",
	[LUMEN_ERR_BAD_TAIL] = "bad tail",
	[LUMEN_ERR_DMA] = "DMA error",
	[LUMEN_ERR_DEVMEM_RANGE] = "beyond device memory",
	[LUMEN_ERR_ALIGN] = "misaligned address",
	[LUMEN_ERR_BAD_ENGINE] = "bad engine",
	[LUMEN_ERR_MMU_FAULT] = "MMU fault",
	[LUMEN_ERR_IB_LIMIT] = "IB limit",
	[LUMEN_ERR_BAD_DESC] = "bad descriptor",
	[LUMEN_ERR_TOO_LARGE] = "operands too large",
	[LUMEN_ERR_FATAL] = "fatal error",
	[LUMEN_ERR_WRONG_ENGINE] = "operator on the DMA engine",
};

/**
 * lumen_error_name - name of a LUMEN_ERR_* code, for logs and coredumps
 * @code: the code
 *
 * Return: a static string, "unknown" for a code without a name.
 */
const char *lumen_error_name(u32 code)
{
	if (code < ARRAY_SIZE(lumen_error_names) && lumen_error_names[code])
		return lumen_error_names[code];
	return "unknown";
}

static const char *const lumen_fault_reasons[] = {
	[LUMEN_FAULT_NOT_PRESENT] = "not present",
	[LUMEN_FAULT_READ_ONLY] = "write to read-only page",
	[LUMEN_FAULT_DEVMEM_RANGE] = "beyond device memory",
	[LUMEN_FAULT_BAD_PTE] = "bad page table entry",
	[LUMEN_FAULT_VA_RANGE] = "VA out of range",
	[LUMEN_FAULT_BAD_CONTEXT] = "context without page tables",
	[LUMEN_FAULT_INJECTED] = "injected",
};

/**
 * lumen_fault_reason_name - name of a LUMEN_FAULT_* reason
 * @reason: the reason
 *
 * Return: a static string, "unknown reason" for one without a name.
 */
const char *lumen_fault_reason_name(u32 reason)
{
	if (reason < ARRAY_SIZE(lumen_fault_reasons) && lumen_fault_reasons[reason])
		return lumen_fault_reasons[reason];
	return "unknown reason";
}

/* One register's line: "  NAME: value", 64-bit registers in full. */
static void lumen_coredump_reg(struct drm_printer *p, const struct lumen_reg_name *reg, u64 val)
{
	if (reg->is64)
		drm_printf(p, "  %s: %#018llx\n", reg->name, val);
	else
		drm_printf(p, "  %s: %#010x\n", reg->name, (u32)val);
}

static void lumen_coredump_regs(struct drm_printer *p, struct lumen_device *ldev, u32 base,
				const struct lumen_reg_name *regs, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++)
		lumen_coredump_reg(p, &regs[i], lumen_reg_read(ldev, base, &regs[i]));
}

static void lumen_coredump_cmd(struct drm_printer *p, const char *what, u64 where,
			       const struct lumen_hw_cmd *cmd)
{
	u32 i;

	drm_printf(p, "%s %#llx: %016llx", what, where, le64_to_cpu(cmd->header));
	for (i = 0; i < LUMEN_CMD_ARGS; i++)
		drm_printf(p, " %016llx", le64_to_cpu(cmd->args[i]));
	drm_puts(p, "\n");
}

/*
 * The queue's state and registers, and the ring entry it stopped on (HEAD:
 * the failing entry after an error, the one executing when hung).  The
 * ring is the driver's own memory, written only by run_job, which
 * recovery has stopped.
 */
static void lumen_coredump_queue(struct drm_printer *p, struct lumen_queue *q)
{
	struct lumen_device *ldev = q->ldev;
	u32 head = lumen_queue_read(q, LUMEN_Q_HEAD);
	u32 status = lumen_queue_read(q, LUMEN_Q_STATUS);
	u32 code = lumen_queue_read(q, LUMEN_Q_ERROR);
	u32 info = lumen_queue_read(q, LUMEN_Q_FAULT_INFO);

	drm_printf(p, "queue %u:\n", q->id);
	drm_printf(p, "  engine: %u\n", q->id % ldev->num_engines);
	drm_printf(p, "  status: %#x%s%s%s\n", status,
		   status & LUMEN_Q_STATUS_ERROR ? " error" : "",
		   status & LUMEN_Q_STATUS_WAITING ? " waiting" : "",
		   status & LUMEN_Q_STATUS_IDLE ? " idle" : "");
	drm_printf(p, "  ring: head %u tail %u driver_tail %u entries %u generation %llu\n",
		   head, lumen_queue_read(q, LUMEN_Q_TAIL), READ_ONCE(q->tail),
		   LUMEN_RING_ENTRIES, READ_ONCE(q->generation));
	drm_printf(p, "  error: %u (%s) at ring entry %u\n", code, lumen_error_name(code),
		   lumen_queue_read(q, LUMEN_Q_ERROR_HEAD));
	drm_printf(p, "  context: %u\n", lumen_queue_read(q, LUMEN_Q_CONTEXT));
	if (code == LUMEN_ERR_MMU_FAULT)
		drm_printf(p, "  fault: va %#llx info %#x reason %u (%s) %s context %u\n",
			   lumen_read64(ldev, LUMEN_QUEUE_REG(q->id, LUMEN_Q_FAULT_VA)), info,
			   LUMEN_FAULT_INFO_REASON(info),
			   lumen_fault_reason_name(LUMEN_FAULT_INFO_REASON(info)),
			   info & LUMEN_FAULT_INFO_WRITE ? "write" : "read",
			   LUMEN_FAULT_INFO_CONTEXT(info));
	drm_printf(p, "  seqno: issued %llu completed %llu\n", READ_ONCE(q->next_seqno),
		   le64_to_cpu(READ_ONCE(*q->fence_slot)));
	drm_printf(p, "  resets: %llu\n", (u64)atomic64_read(&q->resets));
	drm_puts(p, "  registers:\n");
	lumen_coredump_regs(p, ldev, LUMEN_QUEUE_REG(q->id, 0), lumen_queue_regs,
			    lumen_num_queue_regs);
	if (!(status & LUMEN_Q_STATUS_IDLE) && head < LUMEN_RING_ENTRIES)
		lumen_coredump_cmd(p, "  ring entry", head, &q->ring[head]);
}

/* Who owns @vm: the open file whose VM it is, if it is still open. */
static void lumen_coredump_owner(struct drm_printer *p, struct lumen_device *ldev,
				 struct lumen_vm *vm)
{
	struct drm_device *drm = &ldev->drm;
	struct drm_file *file;
	bool found = false;

	mutex_lock(&drm->filelist_mutex);
	list_for_each_entry(file, &drm->filelist, lhead) {
		struct lumen_file *lfile = file->driver_priv;
		struct task_struct *task;
		struct pid *pid;

		if (!lfile || lfile->vm != vm)
			continue;
		rcu_read_lock();
		pid = rcu_dereference(file->pid);
		task = pid_task(pid, PIDTYPE_TGID);
		drm_printf(p, "guilty: pid %d comm %s client %llu context %u\n",
			   pid_nr(pid), task ? task->comm : "?", file->client_id,
			   READ_ONCE(vm->ctx));
		rcu_read_unlock();
		found = true;
		break;
	}
	mutex_unlock(&drm->filelist_mutex);
	if (!found)
		drm_printf(p, "guilty: pid 0 comm ? client 0 context %u (file closed)\n",
			   READ_ONCE(vm->ctx));
}

/* Copy one command at @offset of @obj through the kernel's view of the BO. */
static bool lumen_coredump_read_bo(struct lumen_device *ldev, struct drm_gem_object *obj,
				   u64 offset, struct lumen_hw_cmd *cmd)
{
	struct drm_gem_shmem_object *shmem;
	void *vaddr;

	if (offset > obj->size - sizeof(*cmd))
		return false;
	if (lumen_bo_is_devmem(obj)) {
		memcpy_fromio(cmd, ldev->devmem + to_lumen_devmem_bo(obj)->offset + offset,
			      sizeof(*cmd));
		return true;
	}
	/* Mapped BOs keep their pages pinned (lumen_vm.c); imports have none. */
	shmem = to_drm_gem_shmem_obj(obj);
	if (obj->import_attach || !shmem->pages)
		return false;
	/* Commands are 64-byte aligned, so one never crosses a page. */
	vaddr = kmap_local_page(shmem->pages[offset >> PAGE_SHIFT]);
	memcpy(cmd, vaddr + offset_in_page(offset), sizeof(*cmd));
	kunmap_local(vaddr);
	return true;
}

/*
 * Up to @count commands from @va on, read through @vm's mappings and printed
 * as "@what <va>: ...".  The VM's lock keeps the mappings (and their BO
 * references) in place; only tried, as a holder may be waiting for the very
 * jobs recovery is about to complete.  When it stops short it says why, as
 * "@area unread: <why>".
 */
static void lumen_coredump_va(struct drm_printer *p, struct lumen_vm *vm, u64 va, u32 count,
			      const char *what, const char *area)
{
	struct lumen_mapping *m = NULL;
	struct drm_mm_node *node;
	struct lumen_hw_cmd cmd;
	u32 i;

	if (!mutex_trylock(&vm->lock)) {
		drm_printf(p, "%s unread: address space busy\n", area);
		return;
	}
	drm_mm_for_each_node(node, &vm->va_mm) {
		struct lumen_mapping *cand = container_of(node, struct lumen_mapping, node);

		if (va >= node->start && va - node->start < cand->size) {
			m = cand;
			break;
		}
	}
	for (i = 0; m && m->obj && i < count; i++) {
		u64 cmd_va = va + (u64)i * LUMEN_CMD_SIZE;

		if (cmd_va - m->node.start >= m->size ||
		    !lumen_coredump_read_bo(vm->ldev, m->obj,
					    m->offset + cmd_va - m->node.start, &cmd))
			break;
		lumen_coredump_cmd(p, what, cmd_va, &cmd);
	}
	if (!m)
		drm_printf(p, "%s unread: not mapped\n", area);
	else if (i < count)
		drm_printf(p, "%s unread: not readable by the kernel\n", area);
	mutex_unlock(&vm->lock);
}

/* The first commands of the job's command buffer. */
static void lumen_coredump_cmdbuf(struct drm_printer *p, struct lumen_job *job)
{
	u32 count = min_t(u32, job->cmdbuf_size / LUMEN_CMD_SIZE, LUMEN_COREDUMP_CMDS);

	drm_printf(p, "cmdbuf: va %#llx size %u shown %u\n", job->cmdbuf_va, job->cmdbuf_size,
		   count);
	lumen_coredump_va(p, job->vm, job->cmdbuf_va, count, "cmd", "cmdbuf");
}

/* The lines every dump starts with. */
static void lumen_coredump_header(struct drm_printer *p, struct lumen_device *ldev,
				  const char *reason, const char *recovery, int error)
{
	struct timespec64 now;

	ktime_get_real_ts64(&now);
	drm_puts(p, "**** lumen devcoredump ****\n");
	drm_puts(p, "format: 1\n");
	drm_printf(p, "kernel: %s\n", init_utsname()->release);
	drm_printf(p, "time: %lld.%09ld\n", (long long)now.tv_sec, now.tv_nsec);
	drm_printf(p, "device: %s\n", dev_name(ldev->drm.dev));
	drm_printf(p, "reason: %s\n", reason);
	drm_printf(p, "recovery: %s\n", recovery);
	drm_printf(p, "errno: %d\n", error);
	drm_printf(p, "device_resets: %llu\n", (u64)atomic64_read(&ldev->device_resets));
}

static void lumen_coredump_print(struct drm_printer *p, struct lumen_device *ldev,
				 struct lumen_queue *q, struct lumen_job *job,
				 const char *reason, int error)
{
	u32 i;

	lumen_coredump_header(p, ldev, reason, q ? "queue reset" : "device reset", error);
	if (q)
		drm_printf(p, "queue: %u\n", q->id);
	if (job) {
		lumen_coredump_owner(p, ldev, job->vm);
		drm_printf(p, "job: seqno %llu hw_context %u\n",
			   job->hw_fence_live ? job->hw_fence->base.seqno : 0, job->ctx);
	} else {
		drm_puts(p, "guilty: none\n");
	}

	drm_puts(p, "global registers:\n");
	lumen_coredump_regs(p, ldev, 0, lumen_global_regs, lumen_num_global_regs);
	if (q) {
		lumen_coredump_queue(p, q);
	} else {
		for (i = 0; i < ldev->num_queues; i++)
			lumen_coredump_queue(p, &ldev->queues[i]);
	}
	if (job)
		lumen_coredump_cmdbuf(p, job);
	drm_puts(p, "**** end ****\n");
}

/*
 * A buffer for one dump, allocated without waiting for reclaim, and its
 * printer: false if there is none.
 */
static bool lumen_coredump_begin(struct lumen_device *ldev, struct drm_print_iterator *iter,
				 struct drm_printer *p)
{
	if (!IS_ENABLED(CONFIG_DEV_COREDUMP))
		return false;
	*iter = (struct drm_print_iterator){};
	iter->data = __vmalloc(LUMEN_COREDUMP_SIZE, GFP_NOWAIT | __GFP_NOWARN);
	if (!iter->data) {
		drm_dbg_driver(&ldev->drm, "no memory for a devcoredump\n");
		return false;
	}
	iter->remain = LUMEN_COREDUMP_SIZE;
	*p = drm_coredump_printer(iter);
	return true;
}

/* Hand the buffer to the devcoredump core, which takes it even when it drops the dump. */
static void lumen_coredump_end(struct lumen_device *ldev, struct drm_print_iterator *iter)
{
	dev_coredumpv(ldev->drm.dev, iter->data, LUMEN_COREDUMP_SIZE - iter->remain, GFP_NOWAIT);
}

/**
 * lumen_coredump - write a devcoredump for a recovery, before the reset
 * @ldev: the device, present
 * @q: the queue being reset, or NULL for a device reset (every queue shown)
 * @job: the guilty job, or NULL if none was found (or none is guilty)
 * @reason: why: "MMU fault", "command error", "timeout", "fatal device error"
 * @error: the errno the guilty job gets, 0 if none
 *
 * Called on &lumen_device.reset_wq with the queue's (or every) scheduler
 * stopped and no ring lock held.
 */
void lumen_coredump(struct lumen_device *ldev, struct lumen_queue *q, struct lumen_job *job,
		    const char *reason, int error)
{
	struct drm_print_iterator iter;
	struct drm_printer p;

	if (!lumen_coredump_begin(ldev, &iter, &p))
		return;
	lumen_coredump_print(&p, ldev, q, job, reason, error);
	lumen_coredump_end(ldev, &iter);
}

/**
 * lumen_coredump_dq - write a devcoredump for a direct queue stopped on an error
 * @ldev: the device, present
 * @d: the queue as it was when it stopped (lumen_dq.c)
 *
 * There is no recovery to come before: the queue stays stopped, with the
 * state shown, until its owner destroys it, and the owner learns of the
 * error from DQ_WAIT (-EIO).  The ring entry the queue stopped on is read
 * through its VM, as the device read it.
 */
void lumen_coredump_dq(struct lumen_device *ldev, const struct lumen_dq_dump *d)
{
	u32 nregs = min_t(u32, lumen_num_queue_regs, LUMEN_DQ_DUMP_REGS);
	struct drm_print_iterator iter;
	struct drm_printer p;
	u32 i;

	if (!lumen_coredump_begin(ldev, &iter, &p))
		return;
	lumen_coredump_header(&p, ldev, "direct queue error", "queue stopped", -EIO);
	lumen_coredump_owner(&p, ldev, d->vm);
	drm_printf(&p, "direct queue: id %u hw_queue %u engine %u context %u\n", d->id,
		   d->hw_queue, d->engine, d->ctx);
	drm_printf(&p, "ring: va %#llx entries %u\n", d->ring_va, d->entries);
	drm_printf(&p, "error: %u (%s) at ring entry %u\n", d->error, lumen_error_name(d->error),
		   d->error_head);
	if (d->error == LUMEN_ERR_MMU_FAULT)
		drm_printf(&p, "fault: va %#llx\n", d->fault_va);
	drm_puts(&p, "global registers:\n");
	lumen_coredump_regs(&p, ldev, 0, lumen_global_regs, lumen_num_global_regs);
	drm_printf(&p, "queue %u:\n", d->hw_queue);
	drm_puts(&p, "  registers:\n");
	for (i = 0; i < nregs; i++)
		lumen_coredump_reg(&p, &lumen_queue_regs[i], d->regs[i]);
	if (d->error_head < d->entries)
		lumen_coredump_va(&p, d->vm, d->ring_va + (u64)d->error_head * LUMEN_CMD_SIZE, 1,
				  "ring entry", "ring entry");
	drm_puts(&p, "**** end ****\n");
	lumen_coredump_end(ldev, &iter);
}
