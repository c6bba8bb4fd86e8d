/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT */
/*
 * Lumen accelerator: userspace interface of the lumen DRM accel driver.
 *
 * Documentation/uapi.rst specifies every ioctl: arguments, semantics and
 * each errno.  All structures have explicit padding, which must be zero;
 * unknown flags are rejected with -EINVAL.
 */
#ifndef _UAPI_LUMEN_ACCEL_H_
#define _UAPI_LUMEN_ACCEL_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_LUMEN_QUERY			0x00
#define DRM_LUMEN_BO_CREATE		0x01
#define DRM_LUMEN_BO_MMAP_OFFSET	0x02
#define DRM_LUMEN_SUBMIT		0x03
#define DRM_LUMEN_BO_INFO		0x04

#define DRM_IOCTL_LUMEN_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_QUERY, struct drm_lumen_query)
#define DRM_IOCTL_LUMEN_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_CREATE, struct drm_lumen_bo_create)
#define DRM_IOCTL_LUMEN_BO_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_MMAP_OFFSET, struct drm_lumen_bo_mmap_offset)
#define DRM_IOCTL_LUMEN_SUBMIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_SUBMIT, struct drm_lumen_submit)
#define DRM_IOCTL_LUMEN_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_INFO, struct drm_lumen_bo_info)

#define DRM_LUMEN_VM_BIND		0x08
#define DRM_LUMEN_VM_UNBIND		0x09
#define DRM_IOCTL_LUMEN_VM_BIND \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_VM_BIND, struct drm_lumen_vm_bind)
#define DRM_IOCTL_LUMEN_VM_UNBIND \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_VM_UNBIND, struct drm_lumen_vm_unbind)

#define DRM_LUMEN_QUEUE_CREATE		0x0a
#define DRM_LUMEN_QUEUE_DESTROY		0x0b
#define DRM_IOCTL_LUMEN_QUEUE_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_QUEUE_CREATE, struct drm_lumen_queue_create)
#define DRM_IOCTL_LUMEN_QUEUE_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_QUEUE_DESTROY, struct drm_lumen_queue_destroy)

#define DRM_LUMEN_DQ_CREATE		0x0c
#define DRM_LUMEN_DQ_DESTROY		0x0d
#define DRM_LUMEN_DQ_WAIT		0x0e

#define DRM_IOCTL_LUMEN_DQ_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_DQ_CREATE, struct drm_lumen_dq_create)
#define DRM_IOCTL_LUMEN_DQ_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_DQ_DESTROY, struct drm_lumen_dq_destroy)
#define DRM_IOCTL_LUMEN_DQ_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_DQ_WAIT, struct drm_lumen_dq_wait)

/**
 * enum drm_lumen_query_type - what &drm_lumen_query asks for
 * @DRM_LUMEN_QUERY_DEVICE_INFO: &struct drm_lumen_device_info
 */
enum drm_lumen_query_type {
	DRM_LUMEN_QUERY_DEVICE_INFO = 0,
};

/**
 * struct drm_lumen_query - read a block of device information
 *
 * With @size zero, the driver only writes the size of the full answer to
 * @size.  Otherwise it copies min(@size, full size) bytes to @data and sets
 * @size to the number of bytes written.  Later versions only append fields,
 * so old binaries keep working and new ones can tell what they got.
 */
struct drm_lumen_query {
	/** @type: one of &enum drm_lumen_query_type. */
	__u32 type;
	/** @size: in: bytes available at @data; out: bytes written or needed. */
	__u32 size;
	/** @data: user pointer to the answer buffer. */
	__u64 data;
};

/**
 * struct drm_lumen_device_info - answer to %DRM_LUMEN_QUERY_DEVICE_INFO
 */
struct drm_lumen_device_info {
	/** @vendor_id: PCI vendor ID. */
	__u16 vendor_id;
	/** @device_id: PCI device ID. */
	__u16 device_id;
	/** @hw_version: device version, major << 16 | minor. */
	__u32 hw_version;
	/** @num_cores: compute engines. */
	__u32 num_cores;
	/** @num_queues: hardware queues usable by &drm_lumen_submit.queue. */
	__u32 num_queues;
	/** @devmem_size: bytes of device memory (BAR2). */
	__u64 devmem_size;
	/** @caps: device capability bits (LUMEN_CAP_* of the device). */
	__u32 caps;
	/** @max_cmdbuf_size: largest &drm_lumen_submit.cmdbuf_size in bytes. */
	__u32 max_cmdbuf_size;
	/** @timestamp_freq: device timestamp counter frequency in Hz. */
	__u64 timestamp_freq;
	/** @va_start: lowest device VA the driver hands out. */
	__u64 va_start;
	/** @va_end: end (exclusive) of the device VA range of a context. */
	__u64 va_end;
	/** @num_engines: engines, compute engines first, the DMA engine last. */
	__u32 num_engines;
	/** @num_contexts: hardware MMU contexts (context 0 is the kernel's). */
	__u32 num_contexts;
	/**
	 * @num_direct_queues: hardware queues reserved for direct queues
	 * (%DRM_IOCTL_LUMEN_DQ_CREATE); the device has @num_queues +
	 * @num_direct_queues hardware queues in all.  Appended in uAPI 1.1.
	 */
	__u32 num_direct_queues;
	/** @pad: zero. */
	__u32 pad;
};

/* Buffer object placement, &drm_lumen_bo_create.flags. */
/** DRM_LUMEN_BO_DEVICE - allocate in device memory instead of system memory. */
#define DRM_LUMEN_BO_DEVICE		(1u << 0)
/** DRM_LUMEN_BO_READ_ONLY - map the BO read-only in the device VA space. */
#define DRM_LUMEN_BO_READ_ONLY		(1u << 1)
/**
 * DRM_LUMEN_BO_WC - map a system BO write-combined (uncached) for the CPU
 * instead of cached.  Device BOs are always write-combined: the flag is
 * allowed there and changes nothing.
 */
#define DRM_LUMEN_BO_WC			(1u << 2)
#define DRM_LUMEN_BO_FLAGS		(DRM_LUMEN_BO_DEVICE | DRM_LUMEN_BO_READ_ONLY | \
					 DRM_LUMEN_BO_WC)

/**
 * struct drm_lumen_bo_create - create a zero-filled buffer object
 *
 * The new BO is mapped into the file's device address space at a
 * driver-chosen VA, returned in @va, readable and (unless
 * %DRM_LUMEN_BO_READ_ONLY) writable by the device.  The mapping lasts as
 * long as the handle; free it with the DRM core's %DRM_IOCTL_GEM_CLOSE.
 */
struct drm_lumen_bo_create {
	/** @size: in: bytes wanted (> 0); out: bytes allocated (page multiple). */
	__u64 size;
	/** @flags: DRM_LUMEN_BO_* flags. */
	__u32 flags;
	/** @handle: out: GEM handle of the new object. */
	__u32 handle;
	/** @va: out: device virtual address of the BO in this file's context. */
	__u64 va;
};

/**
 * struct drm_lumen_bo_mmap_offset - get the fake offset to mmap() a BO
 */
struct drm_lumen_bo_mmap_offset {
	/** @handle: GEM handle. */
	__u32 handle;
	/** @pad: must be zero. */
	__u32 pad;
	/** @offset: out: offset to pass to mmap() on the device file. */
	__u64 offset;
};

/**
 * struct drm_lumen_bo_info - where a BO is mapped in this file's context
 *
 * A BO this file got by PRIME import or by GEM_OPEN of a flink name is
 * mapped into the file's device address space too, at a VA only this
 * ioctl tells.  @flags, @size and @va are outputs and must be zero on
 * input.
 */
struct drm_lumen_bo_info {
	/** @handle: GEM handle. */
	__u32 handle;
	/** @flags: out: DRM_LUMEN_BO_* it was created with; 0: another device's dma-buf. */
	__u32 flags;
	/** @size: out: bytes of the BO. */
	__u64 size;
	/** @va: out: device virtual address of the BO in this file's context. */
	__u64 va;
};

/**
 * struct drm_lumen_submit - run a command buffer on a hardware queue
 *
 * The command buffer holds device commands (Documentation/commands.rst)
 * at @cmdbuf_va in the file's device address space; the device runs it in
 * the file's MMU context, so it can reach only what the file has mapped.
 * The job runs after @in_syncobj (if any) and the in-syncs of @syncs
 * signal; @out_syncobj (if any) and the out-syncs of @syncs get the job's
 * completion fence.  Jobs on one queue complete in order.
 */
struct drm_lumen_submit {
	/** @cmdbuf_va: device VA of the command buffer, 64-byte aligned. */
	__u64 cmdbuf_va;
	/** @cmdbuf_size: bytes, a multiple of 64, 64 .. max_cmdbuf_size. */
	__u32 cmdbuf_size;
	/**
	 * @queue: hardware queue, below &drm_lumen_device_info.num_queues;
	 * with %DRM_LUMEN_SUBMIT_QUEUE_ID, a user queue id.
	 */
	__u32 queue;
	/**
	 * @bo_handles: user pointer to @bo_count __u32 GEM handles of the BOs
	 * the job reads or writes, for implicit synchronisation; may be 0.
	 */
	__u64 bo_handles;
	/** @bo_count: entries at @bo_handles. */
	__u32 bo_count;
	/** @in_syncobj: syncobj to wait for before running, or 0. */
	__u32 in_syncobj;
	/** @out_syncobj: syncobj to receive the completion fence, or 0. */
	__u32 out_syncobj;
	/** @flags: DRM_LUMEN_SUBMIT_* flags. */
	__u32 flags;
	/**
	 * @syncs: user pointer to @sync_count &struct drm_lumen_sync, with
	 * %DRM_LUMEN_SUBMIT_SYNCS; must be zero without it.
	 *
	 * @syncs, @sync_count and @pad were appended to the first layout
	 * (which ended at @flags).  A binary built against that layout passes
	 * a shorter structure: the DRM core copies what it passed and zeroes
	 * the rest, so it keeps working unchanged.  The flag makes a new
	 * binary fail with -EINVAL on a kernel that predates the fields,
	 * rather than have its syncs silently ignored.
	 */
	__u64 syncs;
	/** @sync_count: entries at @syncs, at most 256. */
	__u32 sync_count;
	/** @pad: must be zero. */
	__u32 pad;
};

/* &drm_lumen_submit.flags */
/** DRM_LUMEN_SUBMIT_SYNCS - &drm_lumen_submit.syncs is valid. */
#define DRM_LUMEN_SUBMIT_SYNCS		(1u << 0)
/**
 * DRM_LUMEN_SUBMIT_QUEUE_ID - &drm_lumen_submit.queue is the id of a user
 * queue made by %DRM_IOCTL_LUMEN_QUEUE_CREATE, not a hardware queue index.
 */
#define DRM_LUMEN_SUBMIT_QUEUE_ID	(1u << 1)
#define DRM_LUMEN_SUBMIT_FLAGS		(DRM_LUMEN_SUBMIT_SYNCS | DRM_LUMEN_SUBMIT_QUEUE_ID)

/* &drm_lumen_sync.flags */
/** DRM_LUMEN_SYNC_OUT - signal the syncobj on completion (else: wait for it). */
#define DRM_LUMEN_SYNC_OUT		(1u << 0)
/** DRM_LUMEN_SYNC_TIMELINE - a timeline point (> 0) of the syncobj (else: binary). */
#define DRM_LUMEN_SYNC_TIMELINE		(1u << 1)
#define DRM_LUMEN_SYNC_FLAGS		(DRM_LUMEN_SYNC_OUT | DRM_LUMEN_SYNC_TIMELINE)

/**
 * struct drm_lumen_sync - one syncobj a job waits for or signals
 *
 * An in-sync (no %DRM_LUMEN_SYNC_OUT) makes the job wait for the fence
 * the syncobj holds (binary) or for the fence of timeline point @point,
 * which must have been submitted already.  An out-sync replaces the
 * syncobj's fence with the job's completion fence (binary) or adds it as
 * point @point (timeline), as the DRM core's syncobj ioctls do.
 */
struct drm_lumen_sync {
	/** @flags: DRM_LUMEN_SYNC_* flags. */
	__u32 flags;
	/** @handle: syncobj handle. */
	__u32 handle;
	/** @point: timeline point (> 0) with %DRM_LUMEN_SYNC_TIMELINE, else 0. */
	__u64 point;
};

/* &drm_lumen_vm_bind.flags */
/** DRM_LUMEN_VM_BIND_READ_ONLY - the device may read the range, not write it. */
#define DRM_LUMEN_VM_BIND_READ_ONLY	(1u << 0)
#define DRM_LUMEN_VM_BIND_FLAGS		DRM_LUMEN_VM_BIND_READ_ONLY

/**
 * struct drm_lumen_vm_bind - map part of a BO at a chosen device VA
 *
 * Maps bytes [@offset, @offset + @size) of the BO at [@va, @va + @size)
 * in this file's device address space, besides the mapping the BO got
 * when the file got its handle.  The range must be free (no other
 * mapping, nor the guard page after a BO's own mapping).  The binding
 * holds a reference to the BO until DRM_IOCTL_LUMEN_VM_UNBIND or until
 * the file is closed.  @offset, @size and @va are multiples of 4 KiB.
 */
struct drm_lumen_vm_bind {
	/** @handle: GEM handle of the BO. */
	__u32 handle;
	/** @flags: DRM_LUMEN_VM_BIND_* flags. */
	__u32 flags;
	/** @va: device VA of the first byte, in [va_start, va_end). */
	__u64 va;
	/** @offset: offset of the first byte in the BO. */
	__u64 offset;
	/** @size: bytes to map, > 0. */
	__u64 size;
};

/**
 * struct drm_lumen_vm_unbind - remove a mapping DRM_IOCTL_LUMEN_VM_BIND made
 *
 * @va and @size must be exactly those of one earlier bind of this file:
 * a sub-range of a binding, or a range covering more than one binding, is
 * not unbound (-ENOENT, and every binding stays as it was).
 * Commands started afterwards fault on the range; a job already on the
 * device may still finish using it, so the VA range is free again only
 * once every job the file submitted before the unbind is done.
 */
struct drm_lumen_vm_unbind {
	/** @va: the bind's @va. */
	__u64 va;
	/** @size: the bind's @size. */
	__u64 size;
	/** @flags: must be zero. */
	__u32 flags;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * enum drm_lumen_engine_class - kinds of engine a user queue can feed
 * @DRM_LUMEN_ENGINE_COMPUTE: the compute engines, which run every command
 *	(&drm_lumen_device_info.num_cores of them)
 * @DRM_LUMEN_ENGINE_DMA: the DMA engine, one, which runs every command but
 *	the operators (an operator fails its job with -EIO)
 */
enum drm_lumen_engine_class {
	DRM_LUMEN_ENGINE_COMPUTE = 0,
	DRM_LUMEN_ENGINE_DMA = 1,
};

/**
 * DRM_LUMEN_ENGINE_ANY - &drm_lumen_queue_create.engine: let the driver
 * pick the engine of the class.
 */
#define DRM_LUMEN_ENGINE_ANY		0xffffffffu

/**
 * enum drm_lumen_queue_priority - scheduling priority of a user queue
 * @DRM_LUMEN_QUEUE_PRIORITY_LOW: runs when no normal or high job is ready
 * @DRM_LUMEN_QUEUE_PRIORITY_NORMAL: the default, that of plain submits
 * @DRM_LUMEN_QUEUE_PRIORITY_HIGH: goes before normal and low jobs not yet
 *	on the hardware; needs CAP_SYS_NICE
 */
enum drm_lumen_queue_priority {
	DRM_LUMEN_QUEUE_PRIORITY_LOW = 0,
	DRM_LUMEN_QUEUE_PRIORITY_NORMAL = 1,
	DRM_LUMEN_QUEUE_PRIORITY_HIGH = 2,
};

/**
 * struct drm_lumen_queue_create - create a user queue
 *
 * A user queue is a stream of jobs of this file on one engine, with a
 * priority; jobs of one user queue complete in submission order.  The
 * driver feeds it to one of the hardware queues bound to the engine,
 * preferring hardware queues no other file's user queue uses
 * (Documentation/scheduling.rst).  Submit to it with
 * %DRM_LUMEN_SUBMIT_QUEUE_ID.  At most 64 user queues per file.
 */
struct drm_lumen_queue_create {
	/** @engine_class: one of &enum drm_lumen_engine_class. */
	__u32 engine_class;
	/**
	 * @engine: which engine of the class: 0 .. num_cores - 1 for
	 * compute, 0 for DMA, or %DRM_LUMEN_ENGINE_ANY.
	 */
	__u32 engine;
	/** @priority: one of &enum drm_lumen_queue_priority. */
	__u32 priority;
	/** @flags: must be zero. */
	__u32 flags;
	/** @id: out: the queue's id in this file, > 0. */
	__u32 id;
	/** @hw_queue: out: the hardware queue that runs the queue's jobs. */
	__u32 hw_queue;
	/**
	 * @hw_engine: out: the engine, as device engine index (compute
	 * engines first, the DMA engine is num_cores).
	 */
	__u32 hw_engine;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_lumen_queue_destroy - destroy a user queue
 *
 * Jobs already submitted to the queue still run and complete; later
 * submits naming @id fail with -ENOENT.  Returns once every job of the
 * queue has been handed to the hardware.
 */
struct drm_lumen_queue_destroy {
	/** @id: the id %DRM_IOCTL_LUMEN_QUEUE_CREATE returned. */
	__u32 id;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_lumen_dq_create - create a direct queue
 *
 * A direct queue is a hardware queue handed to the process: the ring is
 * a buffer in the file's device address space, written by the process,
 * and the queue's doorbell page is mapped into the process (mmap() of
 * @doorbell_offset on the device file, one page, shared, read-write).
 * The device runs every ring entry in the file's MMU context, so the
 * ring can reach only what the file has mapped; no job, scheduler or
 * fence of the kernel is involved.  Completion is learned from FENCE
 * values the ring writes to memory; %DRM_IOCTL_LUMEN_DQ_WAIT sleeps
 * until such a value arrives.  Documentation/uapi.rst specifies it.
 */
struct drm_lumen_dq_create {
	/** @engine_class: one of &enum drm_lumen_engine_class. */
	__u32 engine_class;
	/**
	 * @engine: which engine of the class: 0 .. num_cores - 1 for
	 * compute, 0 for DMA, or %DRM_LUMEN_ENGINE_ANY.
	 */
	__u32 engine;
	/**
	 * @ring_va: device VA of the ring, 4 KiB aligned; the whole ring
	 * (@ring_entries * 64 bytes) must lie in one writable mapping of
	 * this file.
	 */
	__u64 ring_va;
	/** @ring_entries: a power of two, 2 .. 65536. */
	__u32 ring_entries;
	/** @flags: must be zero. */
	__u32 flags;
	/** @id: out: the direct queue's id in this file, > 0. */
	__u32 id;
	/** @hw_queue: out: the hardware queue the direct queue owns. */
	__u32 hw_queue;
	/** @doorbell_offset: out: offset to pass to mmap() for the doorbell page. */
	__u64 doorbell_offset;
	/** @hw_engine: out: the engine, as device engine index. */
	__u32 hw_engine;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_lumen_dq_destroy - destroy a direct queue
 *
 * Stops and resets the hardware queue: when the ioctl returns, no
 * command of the queue writes memory any more.  Commands not executed yet
 * are dropped.  The doorbell mapping stays valid but reaches nothing.
 */
struct drm_lumen_dq_destroy {
	/** @id: the id %DRM_IOCTL_LUMEN_DQ_CREATE returned. */
	__u32 id;
	/** @pad: must be zero. */
	__u32 pad;
};

/*
 * &drm_lumen_dq_wait.error values that are not device LUMEN_ERR_* codes:
 * the kernel stopped the queue.
 */
/**
 * DRM_LUMEN_DQ_ERROR_HUNG - the kernel reset the queue because a command
 * did not finish within the job timeout while the kernel waited for it
 * (to release memory the file unmapped).
 */
#define DRM_LUMEN_DQ_ERROR_HUNG		0x100
/**
 * DRM_LUMEN_DQ_ERROR_RESET - a device reset (after a fatal error) or a
 * runtime failure of the device dropped the queue's commands.
 */
#define DRM_LUMEN_DQ_ERROR_RESET	0x101

/**
 * struct drm_lumen_dq_wait - sleep until a direct queue's FENCE lands
 *
 * Returns 0 once the 64-bit value at user address @addr is >= @value
 * (unsigned), -ETIME at @timeout_ns, -EIO if the queue stopped on an
 * error (then @error and @error_head say which).  The queue's FENCEs
 * must carry LUMEN_FENCE_IRQ to wake a sleeper; without it the wait only
 * notices the value at its timeout.
 */
struct drm_lumen_dq_wait {
	/** @id: the direct queue. */
	__u32 id;
	/** @flags: must be zero. */
	__u32 flags;
	/** @addr: user pointer to an 8-byte aligned __u64 the queue's FENCE writes. */
	__u64 addr;
	/** @value: wait until *@addr >= @value. */
	__u64 value;
	/** @timeout_ns: absolute CLOCK_MONOTONIC deadline in ns, as DRM syncobj waits. */
	__s64 timeout_ns;
	/** @error: out: the device's LUMEN_ERR_* code when -EIO, else 0. */
	__u32 error;
	/** @error_head: out: ring index of the failed entry when -EIO, else 0. */
	__u32 error_head;
	/** @fault_va: out: the faulting VA for LUMEN_ERR_MMU_FAULT, else 0. */
	__u64 fault_va;
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_LUMEN_ACCEL_H_ */
