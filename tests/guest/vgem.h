/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * vgem, the kernel's virtual GEM driver, as a second DRM device for tests:
 * a foreign buffer the CPU can map through vgem, shared as a dma-buf, and a
 * dma-fence that the test signals by hand.
 *
 * Why a hand-signalled fence needs vgem: DRM syncobj ioctls alone cannot
 * make a pending fence -- a syncobj either has no fence (submit refuses
 * it) or a stub that is already signalled.  VGEM_FENCE_ATTACH puts an
 * unsignalled fence on a vgem buffer, VGEM_FENCE_SIGNAL signals it, and
 * dma-buf's EXPORT_SYNC_FILE plus the syncobj sync_file import carry it
 * into a syncobj of a lumen file.  vgem signals a forgotten fence by itself
 * after 10 seconds, so a test must not wait longer than that.
 *
 * Every function returns -ENODEV when vgem is not available (the caller
 * SKIPs), else 0 or -errno.
 */
#ifndef LUMEN_TEST_VGEM_H
#define LUMEN_TEST_VGEM_H

#include <stdint.h>

struct vgem_fence {
	int vgem_fd;
	uint32_t bo;		/* the vgem buffer carrying the fence */
	uint32_t fence;		/* vgem's id of the fence, 0 once signalled */
};

/* Creates an unsignalled fence. */
int vgem_fence_create(struct vgem_fence *vf);
/* The fence as a new sync_file: its fd, or -errno. */
int vgem_fence_export(struct vgem_fence *vf);
/* Makes the fence the fence of @syncobj of the DRM file @drm_fd. */
int vgem_fence_to_syncobj(struct vgem_fence *vf, int drm_fd, uint32_t syncobj);
int vgem_fence_signal(struct vgem_fence *vf);
/* Signals the fence if still pending and frees what create made. */
void vgem_fence_destroy(struct vgem_fence *vf);

/* A dma-buf of a new 4 KiB vgem buffer: its file descriptor. */
int vgem_dmabuf_create(void);

/* A vgem buffer mapped through vgem, and its dma-buf. */
struct vgem_buffer {
	int vgem_fd;
	uint32_t handle;
	uint64_t size;
	void *map;		/* vgem's own CPU mapping */
	int dmabuf_fd;
};

/* Creates a buffer of @pages 4 KiB pages; vgem_buffer_destroy() frees it. */
int vgem_buffer_create(struct vgem_buffer *vb, uint64_t pages);
void vgem_buffer_destroy(struct vgem_buffer *vb);

#endif /* LUMEN_TEST_VGEM_H */
