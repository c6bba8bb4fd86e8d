/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Lumen accelerator: driver-wide types and the functions each file offers
 * to the others.
 */
#ifndef LUMEN_DRV_H
#define LUMEN_DRV_H

#include <linux/build_bug.h>
#include <linux/dma-fence.h>
#include <linux/gpu_buddy.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_mm.h>
#include <drm/gpu_scheduler.h>

#include "lumen_regs.h"

#define LUMEN_DRIVER_NAME	"lumen"
#define LUMEN_DRIVER_DESC	"Lumen AI inference accelerator"

/*
 * Every hardware queue gets a kernel ring of this many 64-byte commands.
 * A job takes two ring entries, an INDIRECT running the user's command
 * buffer and the FENCE that signals its completion; the scheduler never
 * lets more than LUMEN_RING_ENTRIES - 1 entries be in flight (a full ring
 * would look empty: head == tail).
 */
#define LUMEN_RING_ENTRIES	1024
#define LUMEN_JOB_RING_ENTRIES	2
static_assert(LUMEN_RING_ENTRIES - 1 >= LUMEN_JOB_RING_ENTRIES);
static_assert(LUMEN_RING_MIN_ENTRIES <= LUMEN_RING_ENTRIES);
static_assert(LUMEN_RING_ENTRIES <= LUMEN_RING_MAX_ENTRIES);
static_assert((LUMEN_RING_ENTRIES & (LUMEN_RING_ENTRIES - 1)) == 0);

/* Most BO handles one DRM_IOCTL_LUMEN_SUBMIT may list. */
#define LUMEN_MAX_JOB_BOS	4096

/*
 * Largest system-memory BO: the largest buffer v0 allowed, and 2 MiB of
 * leaf page tables in every context that maps it.
 */
#define LUMEN_SYSTEM_BO_MAX_SIZE	SZ_1G

/*
 * Device VA range of every context.  Nothing is mapped below 4 GiB, so VA
 * 0 (an absent optional operand) and any VA truncated to 32 bits fault;
 * the range ends at 2^47, well inside the device's 48 bits.  Every mapping
 * is followed by an unmapped guard page, so running off the end of a BO
 * faults instead of reaching the next one.
 */
#define LUMEN_VA_START		SZ_4G
#define LUMEN_VA_END		BIT_ULL(47)
#define LUMEN_VA_GUARD		SZ_4K
static_assert(LUMEN_VA_END <= 1ull << LUMEN_VA_BITS);
static_assert(PAGE_SIZE == LUMEN_PAGE_SIZE);

/* Each queue's fence slot gets its own cache line in the fence page. */
#define LUMEN_FENCE_SLOT_STRIDE	64
static_assert(LUMEN_MAX_QUEUES * LUMEN_FENCE_SLOT_STRIDE <= SZ_4K);

/**
 * struct lumen_hw_cmd - one ring entry, laid out as lumen_regs.h says
 * @header: opcode in bits 0..7, flags in bits 8..15, the rest zero
 * @args: command arguments
 */
struct lumen_hw_cmd {
	__le64 header;
	__le64 args[LUMEN_CMD_ARGS];
};

static_assert(sizeof(struct lumen_hw_cmd) == LUMEN_CMD_SIZE);

static inline __le64 lumen_hw_cmd_header(u8 opcode, u8 flags)
{
	return cpu_to_le64(opcode | (u64)flags << 8);
}

struct lumen_device;
struct lumen_dq;
struct lumen_dq_vec;
struct seq_file;

/**
 * struct lumen_queue - one hardware queue and the scheduler feeding it
 */
struct lumen_queue {
	/** @ldev: the device this queue belongs to */
	struct lumen_device *ldev;
	/** @id: hardware queue index */
	u32 id;
	/** @name: "lumen-q<id>", for the scheduler and the IRQ */
	char name[20];

	/** @sched: one scheduler per hardware queue */
	struct drm_gpu_scheduler sched;
	/**
	 * @sched_list: what drm_sched_entity_init() wants: a list of
	 * schedulers, here just &sched.
	 */
	struct drm_gpu_scheduler *sched_list[1];
	/** @error_work: recovers the queue after an error interrupt */
	struct work_struct error_work;

	/**
	 * @ring_lock: protects @ring contents, @tail, @generation and
	 * @next_seqno, and orders the writes of commands to the ring with
	 * the doorbell and with queue resets.
	 */
	struct mutex ring_lock;
	/** @ring: LUMEN_RING_ENTRIES commands in coherent DMA memory */
	struct lumen_hw_cmd *ring;
	/** @ring_dma: bus address of @ring */
	dma_addr_t ring_dma;
	/** @tail: next ring index the driver writes */
	u32 tail;
	/**
	 * @generation: counts queue resets; a job whose commands were
	 * written in an older generation must write them again.
	 */
	u64 generation;
	/** @next_seqno: seqno of the next hardware fence */
	u64 next_seqno;

	/** @fence_slot: where the device writes the last completed seqno */
	__le64 *fence_slot;
	/** @fence_slot_dma: bus address of @fence_slot */
	dma_addr_t fence_slot_dma;
	/** @fence_context: dma_fence context of the hardware fences */
	u64 fence_context;
	/**
	 * @fence_lock: protects @fences; it is also the dma_fence lock of
	 * every hardware fence of this queue.  Taken from the IRQ handler.
	 */
	spinlock_t fence_lock;
	/** @fences: unsignalled hardware fences, in seqno order */
	struct list_head fences;
	/**
	 * @last_done: when the last fence of the queue signalled, under
	 * @fence_lock; a job queued behind another starts no earlier
	 * (lumen_fdinfo.c)
	 */
	ktime_t last_done;
	/**
	 * @resets: resets of this queue by recovery, device resets
	 * included, for sysfs
	 */
	atomic64_t resets;
	/**
	 * @hang_seqno: hardware fence seqno of the job the last timeout
	 * check looked at; on &lumen_device.reset_wq only (lumen_sched.c)
	 */
	u64 hang_seqno;
	/** @hang_sample: its engine's progress counters at that check */
	u64 hang_sample;
	/** @hang_checks: timeout checks that found that job making progress */
	u32 hang_checks;
	/** @user_queues: user queues of every file fed to this queue (lumen_queue.c) */
	atomic_t user_queues;
};

/**
 * struct lumen_device - one Lumen PCI function
 */
struct lumen_device {
	/** @drm: DRM device, first so devm_drm_dev_alloc() can embed us */
	struct drm_device drm;
	/** @pdev: the PCI function */
	struct pci_dev *pdev;

	/** @regs: BAR0, registers */
	void __iomem *regs;
	/** @doorbells: BAR4, one 4 KiB doorbell page per queue */
	void __iomem *doorbells;
	/** @devmem: BAR2, device memory, mapped write-combined */
	void __iomem *devmem;
	/** @devmem_base: CPU physical address of BAR2 */
	resource_size_t devmem_base;
	/** @devmem_size: usable bytes of device memory */
	u64 devmem_size;

	/** @hw_version: LUMEN_REG_VERSION */
	u32 hw_version;
	/** @caps: LUMEN_REG_CAPS */
	u32 caps;
	/** @num_cores: compute engines */
	u32 num_cores;
	/**
	 * @num_queues: kernel queues: hardware queues [0, @num_queues) fed by
	 * drm_sched (lumen_sched.c)
	 */
	u32 num_queues;
	/**
	 * @num_hw_queues: the device's hardware queues; [@num_queues,
	 * @num_hw_queues) are reserved for direct queues (lumen_dq.c)
	 */
	u32 num_hw_queues;
	/** @num_engines: engines, compute engines first, the DMA engine last */
	u32 num_engines;
	/** @num_contexts: MMU contexts, 0 being the kernel's bypass context */
	u32 num_contexts;

	/** @ctx_ida: hardware context ids of the VMs, 1 .. @num_contexts - 1 */
	struct ida ctx_ida;
	/**
	 * @mmu_lock: serialises writes of LUMEN_MMU_CTX_ROOT() and
	 * LUMEN_REG_MMU_INVALIDATE, so a context's root and its
	 * invalidation are never interleaved with another's; protects
	 * @ctx_vms; held across a global reset.
	 */
	struct mutex mmu_lock;
	/** @ctx_vms: the VM of each context, to restore roots after a reset */
	struct lumen_vm *ctx_vms[LUMEN_NUM_CONTEXTS];
	/**
	 * @ctx_lock: protects @ctx_ida allocations, @ctx_lru and every
	 * &lumen_vm.ctx, &lumen_vm.ctx_link and &lumen_vm.ctx_pins (which VM
	 * is bound to which hardware context); taken before @mmu_lock and
	 * before &lumen_vm.jobs_lock (lumen_ctx.c).
	 */
	struct mutex ctx_lock;
	/** @ctx_lru: bound VMs, least recently submitting first */
	struct list_head ctx_lru;
	/** @ctx_wait: submitters waiting for a context to become idle */
	wait_queue_head_t ctx_wait;
	/** @ctx_gen: bumped whenever a bound VM may have become idle */
	atomic_t ctx_gen;
	/**
	 * @reset_work: global reset after a fatal device error, on
	 * @reset_wq like every other recovery
	 */
	struct work_struct reset_work;
	/** @device_resets: global resets after fatal errors, for sysfs */
	atomic64_t device_resets;
	/**
	 * @engine_resets: resets by recovery of a queue feeding each engine,
	 * plus one per device reset; for sysfs (lumen_sched.c)
	 */
	atomic64_t engine_resets[LUMEN_MAX_ENGINES];

	/**
	 * @devmem_lock: protects @devmem_mm (the buddy allocator has no
	 * locking of its own).
	 */
	struct mutex devmem_lock;
	/** @devmem_mm: allocator of device memory, in bytes from BAR2 start */
	struct gpu_buddy devmem_mm;

	/** @fence_page: one coherent page holding every queue's fence slot */
	void *fence_page;
	/** @fence_page_dma: bus address of @fence_page */
	dma_addr_t fence_page_dma;

	/**
	 * @reset_wq: ordered workqueue running job timeouts and queue error
	 * recovery, so that recoveries never run concurrently.
	 */
	struct workqueue_struct *reset_wq;
	/**
	 * @submit_wq: per-CPU, high-priority workqueue running every
	 * scheduler's run_job and free_job work (see lumen_sched.c).
	 */
	struct workqueue_struct *submit_wq;
	/** @queues: @num_queues hardware queues */
	struct lumen_queue *queues;

	/**
	 * @job_count: jobs and VMs allocated and not yet freed.  The
	 * device's software state is torn down only once it drops to zero,
	 * because a job (and the VM it holds) may be freed from a workqueue
	 * after the last file is closed.
	 */
	atomic_t job_count;
	/** @system_bo_bytes: bytes of system-memory BOs created, for sysfs */
	atomic64_t system_bo_bytes;
	/** @pt_bytes: bytes of page tables of every VM, for sysfs */
	atomic64_t pt_bytes;

	/* Runtime power management (lumen_pm.c). */
	/**
	 * @pm_lock: protects @pm_refs and @pm_gone; taken inside
	 * nothing of the driver's, from any context
	 */
	spinlock_t pm_lock;
	/** @pm_refs: runtime-PM references held by live jobs and device BOs */
	u32 pm_refs;
	/** @pm_gone: removed; jobs' references were dropped already */
	bool pm_gone;
	/**
	 * @pm_awake: the device is resumed and programmed; under @mmu_lock.
	 * MMU writes are skipped while it is false (resume restores all).
	 */
	bool pm_awake;
	/** @pm_perf_lock: protects @pm_perf_base; taken before @mmu_lock */
	struct mutex pm_perf_lock;
	/** @pm_perf_base: LUMEN_PERF_* counters saved by past suspends */
	u64 pm_perf_base[LUMEN_MAX_ENGINES][4];
	/** @pm_suspends: runtime suspends, for sysfs */
	atomic64_t pm_suspends;
	/** @pm_resumes: runtime resumes, for sysfs */
	atomic64_t pm_resumes;
	/** @dummy_page: device-memory BO mappings show it after unplug */
	struct page *dummy_page;

	/* Direct queues (lumen_dq.c). */
	/**
	 * @dq_lock: protects the allocation of direct hardware queues (the
	 * writers of @dq_slots) and their programming; taken before
	 * &lumen_vm.dq_lock and @dq_irq_lock
	 */
	struct mutex dq_lock;
	/**
	 * @dq_irq_lock: protects @dq_slots for readers in interrupt handlers,
	 * every direct queue's stop state and waiter count, and @irq_mask;
	 * taken from hard IRQ context, innermost
	 */
	spinlock_t dq_irq_lock;
	/** @dq_slots: the direct queue owning each hardware queue, or NULL */
	struct lumen_dq *dq_slots[LUMEN_MAX_QUEUES];
	/** @dq_vecs: interrupt handler argument of each direct hardware queue */
	struct lumen_dq_vec *dq_vecs;
	/** @dq_mmap_ida: doorbell mmap keys (lumen_dq.c) */
	struct ida dq_mmap_ida;
	/**
	 * @irq_mask: what LUMEN_REG_IRQ_MASK holds while interrupts are
	 * enabled: direct queues' vectors are masked while nobody waits on
	 * them; under @dq_irq_lock
	 */
	u64 irq_mask;
};

static inline struct lumen_device *to_lumen_device(struct drm_device *drm)
{
	return container_of(drm, struct lumen_device, drm);
}

/* User queues one file may have; ids are 1 .. LUMEN_MAX_USER_QUEUES. */
#define LUMEN_MAX_USER_QUEUES	64
static_assert(LUMEN_MAX_USER_QUEUES <= U8_MAX);

/*
 * Jobs of one user queue submitted and not finished: a submit beyond
 * fails with -EAGAIN, so one queue's backlog ahead of other tenants'
 * jobs on the same hardware queue stays bounded (lumen_queue.c).
 */
#define LUMEN_USER_QUEUE_MAX_JOBS	64

struct lumen_user_queue;

/**
 * struct lumen_file - per open file state
 */
struct lumen_file {
	/** @ldev: the device the file was opened on */
	struct lumen_device *ldev;
	/**
	 * @lock: protects @entities and keeps drm_sched_job_arm() and
	 * drm_sched_entity_push_job() of one file in the same order.  Taken
	 * inside the dma_resv locks of a job's BOs, never around them.
	 */
	struct mutex lock;
	/** @entities: scheduler entity per queue, created on first submit */
	struct drm_sched_entity *entities[LUMEN_MAX_QUEUES];
	/** @user_queues: user queue of id i + 1 at [i], or NULL; under @lock */
	struct lumen_user_queue *user_queues[LUMEN_MAX_USER_QUEUES];
	/** @hwq_users: this file's user queues per hardware queue; under @lock */
	u8 hwq_users[LUMEN_MAX_QUEUES];
	/** @vm: the file's device address space and MMU context */
	struct lumen_vm *vm;
	/** @dqs: the file's direct queues by id (lumen_dq.c); own lock */
	struct xarray dqs;
};

/* ---- Register access (lumen_hw.c) ---------------------------------------- */

static inline u32 lumen_read(struct lumen_device *ldev, u32 reg)
{
	return readl(ldev->regs + reg);
}

static inline void lumen_write(struct lumen_device *ldev, u32 reg, u32 val)
{
	writel(val, ldev->regs + reg);
}

/* 64-bit registers may be accessed as two 32-bit halves, low half first. */
static inline u64 lumen_read64(struct lumen_device *ldev, u32 reg)
{
	return lo_hi_readq(ldev->regs + reg);
}

static inline void lumen_write64(struct lumen_device *ldev, u32 reg, u64 val)
{
	lo_hi_writeq(val, ldev->regs + reg);
}

static inline u32 lumen_queue_read(struct lumen_queue *q, u32 reg)
{
	return lumen_read(q->ldev, LUMEN_QUEUE_REG(q->id, reg));
}

static inline void lumen_queue_write(struct lumen_queue *q, u32 reg, u32 val)
{
	lumen_write(q->ldev, LUMEN_QUEUE_REG(q->id, reg), val);
}

int lumen_hw_map(struct lumen_device *ldev);
int lumen_hw_probe(struct lumen_device *ldev);
int lumen_hw_reset(struct lumen_device *ldev);
void lumen_hw_start_queues(struct lumen_device *ldev);
int lumen_hw_enable(struct lumen_device *ldev);
int lumen_hw_enable_device(struct lumen_device *ldev);
void lumen_hw_disable(struct lumen_device *ldev);
void lumen_hw_queue_start_locked(struct lumen_queue *q);
int lumen_hw_queue_reset_locked(struct lumen_queue *q);
void lumen_hw_queue_doorbell_locked(struct lumen_queue *q);

/* ---- Interrupts (lumen_irq.c) ---------------------------------------------- */

int lumen_irq_init(struct lumen_device *ldev);
void lumen_irq_enable(struct lumen_device *ldev);
void lumen_irq_disable(struct lumen_device *ldev);

/* ---- Hardware fences (lumen_fence.c) --------------------------------------- */

/**
 * struct lumen_fence - completion of one job on a hardware queue
 * @base: the dma_fence, signalled when the queue's fence slot reaches
 *        @base.seqno
 * @link: entry in &lumen_queue.fences, under &lumen_queue.fence_lock
 */
struct lumen_fence {
	struct dma_fence base;
	struct list_head link;
};

void lumen_fence_init(struct lumen_queue *q, struct lumen_fence *fence, u64 seqno);
void lumen_fence_process(struct lumen_queue *q);
void lumen_fence_fail_first(struct lumen_queue *q, int error);
void lumen_fence_fail_all(struct lumen_queue *q, int error);
void lumen_fence_cancel(struct lumen_queue *q, struct lumen_fence *fence, int error);

/* ---- Scheduling (lumen_sched.c) -------------------------------------------- */

int lumen_sched_init(struct lumen_device *ldev);
void lumen_sched_fail_all(struct lumen_device *ldev, int error);
void lumen_device_fatal(struct lumen_device *ldev);
void lumen_queue_error(struct lumen_queue *q);
struct drm_sched_entity *lumen_file_entity(struct lumen_file *lfile, u32 queue);
void lumen_file_entities_fini(struct lumen_file *lfile);
int lumen_file_check_guilty(struct lumen_file *lfile);

/* ---- Device coredumps (lumen_coredump.c) ------------------------------------ */

/* Registers of a hardware queue's block a direct-queue dump can hold. */
#define LUMEN_DQ_DUMP_REGS	16

/**
 * struct lumen_dq_dump - what a direct queue's devcoredump shows
 *
 * Taken by lumen_dq.c while the queue still owns its hardware queue.
 */
struct lumen_dq_dump {
	/** @vm: the queue's VM, referenced: the ring is read through it */
	struct lumen_vm *vm;
	/** @id: the queue's id in its file */
	u32 id;
	/** @hw_queue: its hardware queue */
	u32 hw_queue;
	/** @engine: the engine it feeds */
	u32 engine;
	/** @ctx: its MMU context */
	u32 ctx;
	/** @entries: ring entries */
	u32 entries;
	/** @error: the LUMEN_ERR_* it stopped on */
	u32 error;
	/** @error_head: ring index of the failed entry */
	u32 error_head;
	/** @ring_va: device VA of the ring */
	u64 ring_va;
	/** @fault_va: the faulting VA, for LUMEN_ERR_MMU_FAULT */
	u64 fault_va;
	/** @regs: the hardware queue's registers, as &lumen_queue_regs lists them */
	u64 regs[LUMEN_DQ_DUMP_REGS];
};

struct lumen_job;
void lumen_coredump(struct lumen_device *ldev, struct lumen_queue *q, struct lumen_job *job,
		    const char *reason, int error);
void lumen_coredump_dq(struct lumen_device *ldev, const struct lumen_dq_dump *d);
const char *lumen_error_name(u32 code);
const char *lumen_fault_reason_name(u32 reason);

/* ---- User queues (lumen_queue.c) ------------------------------------------- */

/**
 * struct lumen_user_queue - a user queue: one entity feeding one hardware queue
 */
struct lumen_user_queue {
	/** @ref: the file's reference until the queue is destroyed, one per job */
	struct kref ref;
	/** @id: the id in its file, 1 .. LUMEN_MAX_USER_QUEUES */
	u32 id;
	/** @queue: the hardware queue the entity feeds */
	struct lumen_queue *queue;
	/** @entity: the queue's scheduler entity, with the queue's priority */
	struct drm_sched_entity entity;
	/**
	 * @dead: destroyed, no job may be pushed any more; under the
	 * owning &lumen_file.lock, which every push holds
	 */
	bool dead;
	/**
	 * @unfinished: jobs being submitted or pushed whose scheduler fence
	 * has not signalled, at most LUMEN_USER_QUEUE_MAX_JOBS
	 */
	atomic_t unfinished;
};

struct lumen_job;
struct lumen_user_queue *lumen_user_queue_get(struct lumen_file *lfile, u32 id);
void lumen_user_queue_put(struct lumen_user_queue *uq);
void lumen_user_queue_job_armed(struct lumen_job *job);
void lumen_user_queue_job_unarmed(struct lumen_job *job);
void lumen_file_queues_fini(struct lumen_file *lfile);
int lumen_ioctl_queue_create(struct drm_device *drm, void *data, struct drm_file *file);
int lumen_ioctl_queue_destroy(struct drm_device *drm, void *data, struct drm_file *file);

/* ---- Buffer objects (lumen_gem.c) ------------------------------------------ */

/**
 * struct lumen_bo_maps - where a BO is mapped, common to every kind of BO
 */
struct lumen_bo_maps {
	/**
	 * @lock: protects @list and the &lumen_mapping.handles of its
	 * entries; taken before &lumen_vm.lock
	 */
	struct mutex lock;
	/** @list: &lumen_mapping.bo_link of every VM the BO is mapped in */
	struct list_head list;
	/** @flags: DRM_LUMEN_BO_* the BO was created with (0 for an import) */
	u32 flags;
};

/**
 * struct lumen_shmem_bo - a buffer object in system memory, or imported
 * @base: the shmem object, first because drm_gem_shmem_free() kfree()s it
 * @maps: its mappings
 * @accounted: created here, not imported: counted in
 *             &lumen_device.system_bo_bytes
 */
struct lumen_shmem_bo {
	struct drm_gem_shmem_object base;
	struct lumen_bo_maps maps;
	bool accounted;
};

/**
 * struct lumen_devmem_bo - a buffer object in device memory (BAR2)
 * @base: the GEM object
 * @blocks: buddy blocks backing the BO (contiguous)
 * @offset: byte offset of the BO in device memory
 * @maps: its mappings
 */
struct lumen_devmem_bo {
	struct drm_gem_object base;
	struct list_head blocks;
	u64 offset;
	struct lumen_bo_maps maps;
};

int lumen_gem_init(struct lumen_device *ldev);
struct drm_gem_object *lumen_gem_create_object(struct drm_device *drm, size_t size);
bool lumen_bo_is_devmem(struct drm_gem_object *obj);
struct lumen_shmem_bo *to_lumen_shmem_bo(struct drm_gem_object *obj);
struct lumen_devmem_bo *to_lumen_devmem_bo(struct drm_gem_object *obj);
struct lumen_bo_maps *lumen_bo_maps(struct drm_gem_object *obj);

int lumen_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file);
int lumen_ioctl_bo_mmap_offset(struct drm_device *drm, void *data, struct drm_file *file);

/* ---- Page tables and MMU contexts (lumen_mmu.c) ------------------------------ */

struct lumen_pt;

int lumen_mmu_init(struct lumen_device *ldev);
struct lumen_pt *lumen_pt_create(struct device *dev, unsigned int level);
void lumen_pt_destroy(struct device *dev, struct lumen_pt *pt, unsigned int level);
dma_addr_t lumen_pt_dma(const struct lumen_pt *root);
int lumen_pt_prepare(struct device *dev, struct lumen_pt *root, u64 va, u64 size,
		     u32 *made);
void lumen_pt_set(struct lumen_pt *root, u64 va, u64 pte);
u64 lumen_pte_encode(u64 addr, u64 flags);
void lumen_mmu_set_root(struct lumen_device *ldev, u32 ctx, struct lumen_vm *vm);
void lumen_mmu_invalidate(struct lumen_device *ldev, u32 ctx);
void lumen_mmu_restore_locked(struct lumen_device *ldev);

/* ---- Hardware context binding (lumen_ctx.c) ---------------------------------- */

int lumen_ctx_init(struct lumen_device *ldev);
int lumen_ctx_pin(struct lumen_vm *vm);
void lumen_ctx_unpin(struct lumen_vm *vm);
void lumen_ctx_idle(struct lumen_device *ldev);
void lumen_ctx_invalidate(struct lumen_vm *vm);
void lumen_ctx_release(struct lumen_vm *vm);

/* ---- Device address spaces (lumen_vm.c) -------------------------------------- */

/**
 * struct lumen_vm - the device address space of one open file
 *
 * Lives as long as its file and every job submitted through it, so the
 * context and the page tables stay while the device may still use them.
 */
struct lumen_vm {
	/** @ref: the file's reference, and one per job */
	struct kref ref;
	/** @ldev: the device */
	struct lumen_device *ldev;
	/**
	 * @ctx: hardware MMU context id, 1 .. num_contexts - 1, or 0 while
	 * the VM has none; under &lumen_device.ctx_lock
	 */
	u32 ctx;
	/** @ctx_link: entry in &lumen_device.ctx_lru while @ctx is set */
	struct list_head ctx_link;
	/**
	 * @ctx_pins: submits between binding and pushing their job, plus one
	 * per direct queue of the VM for its whole life (lumen_dq.c)
	 */
	u32 ctx_pins;

	/** @lock: protects @root's tables and @va_mm; inside lumen_bo_maps.lock */
	struct mutex lock;
	/** @root: level-3 page table, programmed into LUMEN_MMU_CTX_ROOT(@ctx) */
	struct lumen_pt *root;
	/** @va_mm: allocator of [LUMEN_VA_START, LUMEN_VA_END) */
	struct drm_mm va_mm;
	/**
	 * @pt_bytes: bytes of @root's tables, root included; written under
	 * @lock, read locklessly for fdinfo
	 */
	u64 pt_bytes;

	/**
	 * @jobs_lock: protects @jobs, @zombies and @next_seq.  A spinlock:
	 * taken on the submit fast path.
	 */
	spinlock_t jobs_lock;
	/** @jobs: pushed and not yet freed jobs, by &lumen_job.vm_seq */
	struct list_head jobs;
	/** @zombies: unmapped mappings whose pages jobs may still use */
	struct list_head zombies;
	/** @next_seq: &lumen_job.vm_seq of the next pushed job */
	u64 next_seq;
	/** @binds: DRM_IOCTL_LUMEN_VM_BIND mappings, by bo_link; under @lock */
	struct list_head binds;

	/** @engine_busy_ns: time this VM's jobs ran per engine, for fdinfo */
	atomic64_t engine_busy_ns[LUMEN_MAX_ENGINES];
	/**
	 * @guilty: a job of this VM faulted, hung or held a malformed
	 * command: its jobs not yet run are cancelled and its file's submits
	 * fail with -ECANCELED (lumen_sched.c)
	 */
	atomic_t guilty;

	/**
	 * @dq_lock: protects @dqs; held while an unmap waits for the direct
	 * queues (lumen_dq.c); inside &lumen_device.dq_lock
	 */
	struct mutex dq_lock;
	/** @dqs: the VM's direct queues, by their vm_link */
	struct list_head dqs;
};

/**
 * struct lumen_mapping - a BO mapped into a VM
 * @bo_link: entry in &lumen_bo_maps.list, under &lumen_bo_maps.lock
 * @zombie_link: entry in &lumen_vm.zombies once unmapped
 * @vm: the address space
 * @obj: the BO; the mapping holds a reference until it is released
 * @node: the VA range, the BO then the guard page
 * @handles: handles of @vm's file to @obj (GEM_OPEN of a flink name can
 *           give a file a second one)
 * @seq: once unmapped, jobs with a smaller &lumen_job.vm_seq may still
 *       use the pages
 * @offset: first byte of @obj mapped (0 but for VM_BIND)
 * @size: bytes of @obj mapped, from @node.start (all of it but for VM_BIND)
 * @writable: the device may write through the mapping
 * @unmapped: the PTEs are cleared (a zombie's @node stays until release);
 *            under &lumen_vm.lock
 *
 * A VM_BIND mapping has @bo_link on &lumen_vm.binds instead.
 */
struct lumen_mapping {
	struct list_head bo_link;
	struct list_head zombie_link;
	struct lumen_vm *vm;
	struct drm_gem_object *obj;
	struct drm_mm_node node;
	u32 handles;
	u64 seq;
	u64 offset;
	u64 size;
	bool writable;
	bool unmapped;
};

int lumen_vm_create(struct lumen_device *ldev, struct lumen_vm **out);
struct lumen_vm *lumen_vm_get(struct lumen_vm *vm);
void lumen_vm_put(struct lumen_vm *vm);
int lumen_vm_bo_open(struct drm_gem_object *obj, struct drm_file *file);
void lumen_vm_bo_close(struct drm_gem_object *obj, struct drm_file *file);
int lumen_vm_bo_va(struct lumen_vm *vm, struct drm_gem_object *obj, u64 *va);
struct lumen_job;
void lumen_vm_job_push(struct lumen_vm *vm, struct lumen_job *job);
void lumen_vm_job_done(struct lumen_vm *vm, struct lumen_job *job);

int lumen_ioctl_bo_info(struct drm_device *drm, void *data, struct drm_file *file);
int lumen_ioctl_vm_bind(struct drm_device *drm, void *data, struct drm_file *file);
int lumen_ioctl_vm_unbind(struct drm_device *drm, void *data, struct drm_file *file);

/* ---- Jobs (lumen_job.c) ------------------------------------------------------ */

/**
 * struct lumen_job - one submitted job
 */
struct lumen_job {
	/** @base: scheduler job */
	struct drm_sched_job base;
	/** @ldev: the device */
	struct lumen_device *ldev;
	/** @queue: the hardware queue the job runs on */
	struct lumen_queue *queue;
	/** @vm: the submitting file's address space, referenced */
	struct lumen_vm *vm;
	/** @cmdbuf_va: device VA of the command buffer in @vm */
	u64 cmdbuf_va;
	/** @cmdbuf_size: bytes of the command buffer */
	u32 cmdbuf_size;
	/** @bos: referenced BOs for implicit synchronisation */
	struct drm_gem_object **bos;
	/** @bo_count: entries in @bos */
	u32 bo_count;
	/**
	 * @hw_fence: allocated at submit (run_job must not allocate),
	 * initialised by the first run_job.
	 */
	struct lumen_fence *hw_fence;
	/** @hw_fence_live: @hw_fence was initialised (holds a reference) */
	bool hw_fence_live;
	/**
	 * @generation: &lumen_queue.generation when the commands were last
	 * written to the ring; under &lumen_queue.ring_lock.
	 */
	u64 generation;
	/** @vm_link: entry in &lumen_vm.jobs once pushed, under its jobs_lock */
	struct list_head vm_link;
	/** @vm_seq: order of the push among @vm's jobs */
	u64 vm_seq;
	/** @vm_pushed: @vm_link is on &lumen_vm.jobs */
	bool vm_pushed;
	/** @run_time: when the first run_job wrote the job to the ring */
	ktime_t run_time;
	/** @busy_cb: on @hw_fence, adds the job's engine time to @vm */
	struct dma_fence_cb busy_cb;
	/**
	 * @ctx: hardware context of @vm when the job was pushed; stays
	 * bound to @vm until the job is freed (lumen_ctx.c)
	 */
	u32 ctx;
	/** @uq: the user queue the job was submitted to (referenced), or NULL */
	struct lumen_user_queue *uq;
	/** @uq_cb: on the scheduler's finished fence, ends @uq's count of the job */
	struct dma_fence_cb uq_cb;
	/** @uq_cb_armed: @uq_cb was added; else lumen_job_free() ends the count */
	bool uq_cb_armed;
	/** @pm_ref: holds a runtime-PM reference (lumen_pm.c) */
	bool pm_ref;
};

static inline struct lumen_job *to_lumen_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct lumen_job, base);
}

void lumen_job_free(struct lumen_job *job);
int lumen_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file);

/* ---- Usage statistics (lumen_fdinfo.c, lumen_sysfs.c) ------------------------ */

struct drm_printer;

void lumen_engine_name(struct lumen_device *ldev, u32 engine, char *buf, size_t len);
void lumen_job_account_locked(struct lumen_job *job);
void lumen_job_account_fini(struct lumen_job *job);
void lumen_show_fdinfo(struct drm_printer *p, struct drm_file *file);
int lumen_sysfs_init(struct lumen_device *ldev);

/* ---- Runtime power management (lumen_pm.c) ------------------------------------ */

extern const struct dev_pm_ops lumen_pm_ops;
int lumen_pm_early_init(struct lumen_device *ldev);
void lumen_pm_init(struct lumen_device *ldev);
void lumen_pm_fini(struct lumen_device *ldev);
int lumen_pm_hold(struct lumen_device *ldev);
void lumen_pm_release(struct lumen_device *ldev);
int lumen_pm_job_get(struct lumen_job *job);
void lumen_pm_job_put(struct lumen_job *job);
int lumen_pm_get(struct lumen_device *ldev);
void lumen_pm_put(struct lumen_device *ldev);
void lumen_pm_forbid(struct lumen_device *ldev);
u64 lumen_pm_perf_read(struct lumen_device *ldev, u32 engine, u32 reg);
void lumen_pm_save_perf_locked(struct lumen_device *ldev);

/* ---- Direct queues (lumen_dq.c) ---------------------------------------------- */

/* Doorbell mmap offsets: below DRM's GEM offsets (which start at 4 GiB). */
#define LUMEN_DQ_MMAP_PGOFF	(SZ_1G >> PAGE_SHIFT)
#define LUMEN_DQ_MMAP_KEYS	65536
static_assert(LUMEN_DQ_MMAP_PGOFF + LUMEN_DQ_MMAP_KEYS <= (SZ_4G >> PAGE_SHIFT));

u32 lumen_dq_partition(struct lumen_device *ldev);
int lumen_dq_init(struct lumen_device *ldev);
int lumen_dq_irq_init(struct lumen_device *ldev);
void lumen_dq_hw_error(struct lumen_device *ldev, u32 hw_queue);
void lumen_dq_device_reset(struct lumen_device *ldev);
void lumen_dq_unplug(struct lumen_device *ldev);
void lumen_dq_vm_sync(struct lumen_vm *vm);
void lumen_dq_file_init(struct lumen_file *lfile);
void lumen_dq_file_fini(struct lumen_file *lfile);
u32 lumen_dq_file_count(struct lumen_file *lfile);
int lumen_dq_mmap(struct file *filp, struct vm_area_struct *vma);
int lumen_dq_debugfs_show(struct seq_file *m, void *data);
u32 lumen_dq_count(struct lumen_device *ldev);
int lumen_ioctl_dq_create(struct drm_device *drm, void *data, struct drm_file *file);
int lumen_ioctl_dq_destroy(struct drm_device *drm, void *data, struct drm_file *file);
int lumen_ioctl_dq_wait(struct drm_device *drm, void *data, struct drm_file *file);
u32 lumen_sched_job_timeout_ms(void);

/* ---- Queries (lumen_query.c) ------------------------------------------------- */

int lumen_ioctl_query(struct drm_device *drm, void *data, struct drm_file *file);

/* ---- debugfs (lumen_debugfs.c) ----------------------------------------------- */

void lumen_debugfs_init(struct lumen_device *ldev);

/**
 * struct lumen_reg_name - a register, for debugfs and coredumps
 * @offset: its offset, in BAR0 or in a queue's block
 * @name: its name without the LUMEN_REG_ or LUMEN_Q_ prefix
 * @is64: a 64-bit register
 */
struct lumen_reg_name {
	u32 offset;
	const char *name;
	bool is64;
};

extern const struct lumen_reg_name lumen_global_regs[];
extern const u32 lumen_num_global_regs;
extern const struct lumen_reg_name lumen_queue_regs[];
extern const u32 lumen_num_queue_regs;
u64 lumen_reg_read(struct lumen_device *ldev, u32 base, const struct lumen_reg_name *reg);
int lumen_debugfs_hw_enter(struct lumen_device *ldev, int *idx);
void lumen_debugfs_hw_exit(struct lumen_device *ldev, int idx);

/* ---- Pure logic the KUnit tests call (tests/kunit/) -------------------------- */

#if IS_ENABLED(CONFIG_KUNIT)
struct drm_lumen_submit;
struct sg_table;

int lumen_submit_check_args(u32 num_queues, const struct drm_lumen_submit *args);
u32 lumen_pt_index(u64 va, unsigned int level);
u64 lumen_pde_encode(dma_addr_t table);
int lumen_sgt_check(struct sg_table *sgt, u64 size);
struct drm_lumen_vm_bind;
int lumen_vm_bind_check_args(const struct drm_lumen_vm_bind *args);
int lumen_fi_parse(u32 num_queues, const char *cmd, u32 *reg, u32 *val);
void lumen_ring_push_locked(struct lumen_queue *q, const struct lumen_hw_cmd *cmd);
void lumen_ring_job_cmds(struct lumen_hw_cmd cmds[LUMEN_JOB_RING_ENTRIES], u64 cmdbuf_va,
			 u32 cmdbuf_size, u32 ctx, dma_addr_t fence_addr, u64 seqno);
struct drm_lumen_dq_create;
int lumen_dq_check_args(struct lumen_device *ldev, const struct drm_lumen_dq_create *args);
#endif

#endif /* LUMEN_DRV_H */
