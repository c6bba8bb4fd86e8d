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

#define DRM_IOCTL_LUMEN_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_QUERY, struct drm_lumen_query)
#define DRM_IOCTL_LUMEN_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_CREATE, struct drm_lumen_bo_create)
#define DRM_IOCTL_LUMEN_BO_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_MMAP_OFFSET, struct drm_lumen_bo_mmap_offset)
#define DRM_IOCTL_LUMEN_SUBMIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_SUBMIT, struct drm_lumen_submit)

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
	/** @caps: device capability bits (LUMEN_CAP_* of the device model). */
	__u32 caps;
	/** @max_job_cmds: most commands one &drm_lumen_submit may carry. */
	__u32 max_job_cmds;
	/** @timestamp_freq: device timestamp counter frequency in Hz. */
	__u64 timestamp_freq;
};

/* Buffer object placement, &drm_lumen_bo_create.flags. */
/** DRM_LUMEN_BO_DEVICE - allocate in device memory instead of system memory. */
#define DRM_LUMEN_BO_DEVICE		(1u << 0)
#define DRM_LUMEN_BO_FLAGS		DRM_LUMEN_BO_DEVICE

/**
 * struct drm_lumen_bo_create - create a zero-filled buffer object
 *
 * Free it with the DRM core's %DRM_IOCTL_GEM_CLOSE.
 */
struct drm_lumen_bo_create {
	/** @size: in: bytes wanted (> 0); out: bytes allocated (page multiple). */
	__u64 size;
	/** @flags: DRM_LUMEN_BO_* flags. */
	__u32 flags;
	/** @handle: out: GEM handle of the new object. */
	__u32 handle;
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

/* Command opcodes, &drm_lumen_cmd.opcode. */
/** DRM_LUMEN_CMD_NOP - do nothing. */
#define DRM_LUMEN_CMD_NOP		0
/** DRM_LUMEN_CMD_FENCE - write @value (8 bytes) at @dst_handle + @dst_offset. */
#define DRM_LUMEN_CMD_FENCE		1
/** DRM_LUMEN_CMD_COPY - copy @size bytes from the source to the destination. */
#define DRM_LUMEN_CMD_COPY		2

/**
 * struct drm_lumen_cmd - one command of a job
 *
 * Buffers are named by GEM handle and byte offset; the driver checks every
 * range against its object and turns it into device addresses.  Fields a
 * command does not use must be zero.
 */
struct drm_lumen_cmd {
	/** @opcode: DRM_LUMEN_CMD_*. */
	__u32 opcode;
	/** @flags: must be zero. */
	__u32 flags;
	/** @src_handle: COPY: source BO. */
	__u32 src_handle;
	/** @dst_handle: COPY, FENCE: destination BO. */
	__u32 dst_handle;
	/** @src_offset: COPY: byte offset into the source BO. */
	__u64 src_offset;
	/** @dst_offset: COPY, FENCE (8-byte aligned): offset into the destination BO. */
	__u64 dst_offset;
	/** @size: COPY: bytes to copy, > 0. */
	__u64 size;
	/** @value: FENCE: the 64-bit value to write. */
	__u64 value;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

/**
 * struct drm_lumen_submit - queue a job on a hardware queue
 *
 * The job runs after @in_syncobj (if any) signals; @out_syncobj (if any)
 * gets the job's completion fence.  Jobs on one queue complete in order.
 */
struct drm_lumen_submit {
	/** @cmds: user pointer to an array of &struct drm_lumen_cmd. */
	__u64 cmds;
	/** @cmd_count: entries at @cmds, 1 .. &drm_lumen_device_info.max_job_cmds. */
	__u32 cmd_count;
	/** @queue: hardware queue, below &drm_lumen_device_info.num_queues. */
	__u32 queue;
	/** @in_syncobj: syncobj to wait for before running, or 0. */
	__u32 in_syncobj;
	/** @out_syncobj: syncobj to receive the completion fence, or 0. */
	__u32 out_syncobj;
	/** @flags: must be zero. */
	__u32 flags;
	/** @pad: must be zero. */
	__u32 pad;
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_LUMEN_ACCEL_H_ */
