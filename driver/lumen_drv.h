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
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/gpu_scheduler.h>

#include "lumen_regs.h"

#define LUMEN_DRIVER_NAME	"lumen"
#define LUMEN_DRIVER_DESC	"Lumen AI inference accelerator"

/*
 * Every hardware queue gets a kernel ring of this many 64-byte commands.
 * A job takes one ring entry per command plus one for the FENCE that
 * signals its completion, and the scheduler never lets more than
 * LUMEN_RING_ENTRIES - 1 entries be in flight (a full ring would look
 * empty: head == tail), so the largest job must fit in that.
 */
#define LUMEN_RING_ENTRIES	1024
#define LUMEN_MAX_JOB_CMDS	512
static_assert(LUMEN_MAX_JOB_CMDS + 1 <= LUMEN_RING_ENTRIES - 1);
static_assert(LUMEN_RING_MIN_ENTRIES <= LUMEN_RING_ENTRIES);
static_assert(LUMEN_RING_ENTRIES <= LUMEN_RING_MAX_ENTRIES);
static_assert((LUMEN_RING_ENTRIES & (LUMEN_RING_ENTRIES - 1)) == 0);

/*
 * Largest system-memory BO.  It bounds the scatter list the device reads
 * for the BO: at worst one 16-byte entry per page, 4 MiB for 1 GiB, which
 * is the largest physically contiguous buffer the page allocator gives.
 */
#define LUMEN_SYSTEM_BO_MAX_SIZE	SZ_1G
static_assert(LUMEN_SYSTEM_BO_MAX_SIZE / SZ_4K <= LUMEN_SGL_MAX_ENTRIES);

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

/**
 * struct lumen_sgl_entry - one entry of a scatter list the device reads
 * @addr: bus address of the range
 * @len: length of the range in bytes
 */
struct lumen_sgl_entry {
	__le64 addr;
	__le64 len;
};

static_assert(sizeof(struct lumen_sgl_entry) == LUMEN_SGL_ENTRY_SIZE);

struct lumen_device;

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
	/** @num_queues: hardware queues the driver uses */
	u32 num_queues;

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
	 * @job_count: jobs allocated and not yet freed.  The device's
	 * software state is torn down only once it drops to zero, because a
	 * job may be freed from a workqueue after the last file is closed.
	 */
	atomic_t job_count;
};

static inline struct lumen_device *to_lumen_device(struct drm_device *drm)
{
	return container_of(drm, struct lumen_device, drm);
}

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
int lumen_hw_enable(struct lumen_device *ldev);
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

/* ---- Scheduling (lumen_sched.c) -------------------------------------------- */

int lumen_sched_init(struct lumen_device *ldev);
void lumen_sched_fail_all(struct lumen_device *ldev, int error);
void lumen_queue_error(struct lumen_queue *q);
struct drm_sched_entity *lumen_file_entity(struct lumen_file *lfile, u32 queue);
void lumen_file_entities_fini(struct lumen_file *lfile);

/* ---- Buffer objects (lumen_gem.c) ------------------------------------------ */

/**
 * struct lumen_shmem_bo - a buffer object in system memory
 * @base: the shmem object, first because drm_gem_shmem_free() kfree()s it
 * @sgl: scatter list of the BO's pages as the device reads it, or NULL
 *       until the BO is first used by a job; protected by the BO's dma_resv
 * @sgl_dma: bus address of @sgl
 * @sgl_entries: entries in @sgl
 */
struct lumen_shmem_bo {
	struct drm_gem_shmem_object base;
	struct lumen_sgl_entry *sgl;
	dma_addr_t sgl_dma;
	u32 sgl_entries;
};

/**
 * struct lumen_devmem_bo - a buffer object in device memory (BAR2)
 * @base: the GEM object
 * @blocks: buddy blocks backing the BO (contiguous)
 * @offset: byte offset of the BO in device memory
 */
struct lumen_devmem_bo {
	struct drm_gem_object base;
	struct list_head blocks;
	u64 offset;
};

int lumen_gem_init(struct lumen_device *ldev);
struct drm_gem_object *lumen_gem_create_object(struct drm_device *drm, size_t size);
bool lumen_bo_is_devmem(struct drm_gem_object *obj);
struct lumen_shmem_bo *to_lumen_shmem_bo(struct drm_gem_object *obj);
struct lumen_devmem_bo *to_lumen_devmem_bo(struct drm_gem_object *obj);
int lumen_bo_pin(struct drm_gem_object *obj);
int lumen_bo_sgl_prepare_locked(struct lumen_shmem_bo *bo);
dma_addr_t lumen_bo_dma_address_locked(struct lumen_shmem_bo *bo, u64 offset);

int lumen_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file);
int lumen_ioctl_bo_mmap_offset(struct drm_device *drm, void *data, struct drm_file *file);

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
	/** @cmds: the job's hardware commands, checked and translated */
	struct lumen_hw_cmd *cmds;
	/** @cmd_count: entries in @cmds */
	u32 cmd_count;
	/** @bos: referenced BOs, sorted by @handles */
	struct drm_gem_object **bos;
	/** @handles: the user's handles of @bos, sorted, unique */
	u32 *handles;
	/** @bo_count: entries in @bos and @handles */
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
};

static inline struct lumen_job *to_lumen_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct lumen_job, base);
}

void lumen_job_free(struct lumen_job *job);
int lumen_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file);

/* ---- Queries (lumen_query.c) ------------------------------------------------- */

int lumen_ioctl_query(struct drm_device *drm, void *data, struct drm_file *file);

/* ---- debugfs (lumen_debugfs.c) ----------------------------------------------- */

void lumen_debugfs_init(struct lumen_device *ldev);

/* ---- Pure logic the KUnit tests call (tests/kunit/) -------------------------- */

#if IS_ENABLED(CONFIG_KUNIT)
struct drm_lumen_cmd;
struct drm_lumen_submit;
struct sg_table;

int lumen_cmd_check_fields(const struct drm_lumen_cmd *cmd);
u32 lumen_cmds_collect_handles(const struct drm_lumen_cmd *cmds, u32 count, u32 *handles);
bool lumen_range_ok(u64 offset, u64 size, u64 bo_size);
bool lumen_ranges_overlap(u64 a, u64 b, u64 size);
int lumen_submit_check_args(struct lumen_device *ldev, const struct drm_lumen_submit *args);
int lumen_translate_locked(struct lumen_job *job, const struct drm_lumen_cmd *cmd,
			   struct lumen_hw_cmd *hw);
void lumen_sgl_fill(struct lumen_sgl_entry *sgl, struct sg_table *sgt);
void lumen_ring_push_locked(struct lumen_queue *q, const struct lumen_hw_cmd *cmd);
#endif

#endif /* LUMEN_DRV_H */
