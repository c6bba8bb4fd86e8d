// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vgem as a second DRM device: foreign dma-bufs and hand-signalled fences
 * (see vgem.h for why).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <xf86drm.h>

#include "lumen_test.h"
#include "vgem.h"

/*
 * vgem's two fence ioctls (include/uapi/drm/vgem_drm.h, a stable uAPI that
 * libdrm does not install).
 */
struct vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define VGEM_FENCE_WRITE		0x1
#define VGEM_IOCTL_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct vgem_fence_attach)
#define VGEM_IOCTL_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct vgem_fence_signal)

/* Opens the primary node of the DRM driver named "vgem", or -ENODEV. */
static int find_vgem(void)
{
	int fd = -ENODEV;
	glob_t nodes;
	size_t i;

	if (glob("/dev/dri/card*", 0, NULL, &nodes))
		return -ENODEV;
	for (i = 0; i < nodes.gl_pathc && fd < 0; i++) {
		drmVersionPtr version;

		fd = open(nodes.gl_pathv[i], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		version = drmGetVersion(fd);
		if (!version || strcmp(version->name, "vgem")) {
			close(fd);
			fd = -ENODEV;
		}
		drmFreeVersion(version);
	}
	globfree(&nodes);
	return fd;
}

static int open_vgem(void)
{
	static const char *const modprobe[] = { "modprobe", "vgem", NULL };
	int fd = find_vgem();

	if (fd >= 0)
		return fd;
	if (lt_run_command(modprobe) != 0)
		return -ENODEV;
	return find_vgem();
}

/* A new 4 KiB vgem buffer: its handle in *@bo. */
static int create_bo(int vgem_fd, uint32_t *bo)
{
	struct drm_mode_create_dumb dumb = { .width = 1024, .height = 1, .bpp = 32 };
	int ret;

	ret = lt_ioctl(vgem_fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb);
	if (!ret)
		*bo = dumb.handle;
	return ret;
}

int vgem_dmabuf_create(void)
{
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	int vgem_fd, ret;

	vgem_fd = open_vgem();
	if (vgem_fd < 0)
		return vgem_fd;
	ret = create_bo(vgem_fd, &prime.handle);
	if (!ret)
		ret = lt_ioctl(vgem_fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
	/* The dma-buf keeps the buffer alive after its file is closed. */
	close(vgem_fd);
	return ret ? ret : prime.fd;
}

int vgem_buffer_create(struct vgem_buffer *vb, uint64_t pages)
{
	struct drm_mode_create_dumb dumb = {
		.width = 1024, .height = pages, .bpp = 32,	/* 4 KiB a row */
	};
	struct drm_mode_map_dumb map = { 0 };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	int ret;

	memset(vb, 0, sizeof(*vb));
	vb->map = MAP_FAILED;
	vb->dmabuf_fd = -1;
	vb->vgem_fd = open_vgem();
	if (vb->vgem_fd < 0)
		return vb->vgem_fd;
	ret = lt_ioctl(vb->vgem_fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb);
	if (ret)
		goto fail;
	vb->handle = dumb.handle;
	vb->size = dumb.size;
	map.handle = vb->handle;
	ret = lt_ioctl(vb->vgem_fd, DRM_IOCTL_MODE_MAP_DUMB, &map);
	if (ret)
		goto fail;
	vb->map = mmap(NULL, vb->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vb->vgem_fd, map.offset);
	if (vb->map == MAP_FAILED) {
		ret = -errno;
		goto fail;
	}
	prime.handle = vb->handle;
	ret = lt_ioctl(vb->vgem_fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
	if (ret)
		goto fail;
	vb->dmabuf_fd = prime.fd;
	return 0;

fail:
	vgem_buffer_destroy(vb);
	return ret;
}

void vgem_buffer_destroy(struct vgem_buffer *vb)
{
	if (vb->vgem_fd < 0)
		return;
	if (vb->dmabuf_fd >= 0)
		close(vb->dmabuf_fd);
	if (vb->map != MAP_FAILED)
		munmap(vb->map, vb->size);
	if (vb->handle)
		lt_gem_close(vb->vgem_fd, vb->handle);
	close(vb->vgem_fd);
	vb->vgem_fd = -1;
}

int vgem_fence_create(struct vgem_fence *vf)
{
	struct vgem_fence_attach attach = { .flags = VGEM_FENCE_WRITE };
	int ret;

	vf->bo = 0;
	vf->fence = 0;
	vf->vgem_fd = open_vgem();
	if (vf->vgem_fd < 0)
		return vf->vgem_fd;

	ret = create_bo(vf->vgem_fd, &vf->bo);
	if (ret)
		goto fail;
	attach.handle = vf->bo;
	ret = lt_ioctl(vf->vgem_fd, VGEM_IOCTL_FENCE_ATTACH, &attach);
	if (ret)
		goto fail;
	vf->fence = attach.out_fence;
	return 0;

fail:
	vgem_fence_destroy(vf);
	return ret;
}

int vgem_fence_export(struct vgem_fence *vf)
{
	struct dma_buf_export_sync_file sync = { .flags = DMA_BUF_SYNC_WRITE };
	struct drm_prime_handle prime = { .handle = vf->bo, .flags = DRM_CLOEXEC };
	int ret;

	ret = lt_ioctl(vf->vgem_fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
	if (ret)
		return ret;
	/* For a writer, every fence on the buffer: ours is the only one. */
	ret = lt_ioctl(prime.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sync);
	close(prime.fd);
	return ret ? ret : sync.fd;
}

int vgem_fence_to_syncobj(struct vgem_fence *vf, int drm_fd, uint32_t syncobj)
{
	int sync_fd, ret;

	sync_fd = vgem_fence_export(vf);
	if (sync_fd < 0)
		return sync_fd;
	ret = lt_syncobj_import(drm_fd, syncobj, sync_fd);
	close(sync_fd);
	return ret;
}

int vgem_fence_signal(struct vgem_fence *vf)
{
	struct vgem_fence_signal signal = { .fence = vf->fence };
	int ret;

	ret = lt_ioctl(vf->vgem_fd, VGEM_IOCTL_FENCE_SIGNAL, &signal);
	if (!ret)
		vf->fence = 0;
	return ret;
}

void vgem_fence_destroy(struct vgem_fence *vf)
{
	if (vf->vgem_fd < 0)
		return;
	/* Never leave a job waiting for vgem's 10 s timer. */
	if (vf->fence)
		vgem_fence_signal(vf);
	if (vf->bo)
		lt_gem_close(vf->vgem_fd, vf->bo);
	close(vf->vgem_fd);
	vf->vgem_fd = -1;
}
