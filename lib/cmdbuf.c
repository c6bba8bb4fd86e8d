// SPDX-License-Identifier: MIT
/*
 * Command buffers: jobs built in user memory as an array of uAPI commands
 * (struct drm_lumen_cmd), handed to the driver by accel_submit().
 *
 * Every appender checks its arguments against the BOs it names, so a
 * command buffer only ever holds commands the driver can accept; the
 * driver checks them again, since it cannot trust us.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

_Static_assert(sizeof(struct drm_lumen_cmd) == 64, "uAPI command size");

/* The first allocation; later ones double it. */
#define CMDBUF_INITIAL_CAPACITY	16
/* drm_lumen_submit.cmd_count is 32-bit. */
#define CMDBUF_MAX_COUNT	UINT32_MAX

int accel_cmdbuf_create(struct accel_cmdbuf **cbp)
{
	struct accel_cmdbuf *cb;

	if (!cbp)
		return -EINVAL;
	cb = calloc(1, sizeof(*cb));
	if (!cb)
		return -ENOMEM;
	*cbp = cb;
	return 0;
}

void accel_cmdbuf_free(struct accel_cmdbuf *cb)
{
	if (!cb)
		return;
	free(cb->cmds);
	free(cb);
}

void accel_cmdbuf_reset(struct accel_cmdbuf *cb)
{
	if (!cb)
		return;
	/* Keep the memory: a reset buffer is usually filled again. */
	cb->count = 0;
	cb->dev = NULL;
}

size_t accel_cmdbuf_count(const struct accel_cmdbuf *cb)
{
	return cb ? cb->count : 0;
}

const void *accel_cmdbuf_data(const struct accel_cmdbuf *cb)
{
	return cb && cb->count ? cb->cmds : NULL;
}

/* Makes room for one more command: 0 or -ENOMEM. */
static int cmdbuf_reserve(struct accel_cmdbuf *cb)
{
	struct drm_lumen_cmd *grown;
	size_t capacity;

	if (cb->count < cb->capacity)
		return 0;
	if (cb->count >= CMDBUF_MAX_COUNT)
		return -ENOMEM;

	capacity = cb->capacity ? 2 * cb->capacity : CMDBUF_INITIAL_CAPACITY;
	if (capacity > CMDBUF_MAX_COUNT)
		capacity = CMDBUF_MAX_COUNT;
	grown = reallocarray(cb->cmds, capacity, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	cb->cmds = grown;
	cb->capacity = capacity;
	return 0;
}

/* Appends @cmd, recording @dev as the buffer's device if it names BOs. */
static int cmdbuf_append(struct accel_cmdbuf *cb, const struct accel_dev *dev,
			 const struct drm_lumen_cmd *cmd)
{
	int ret;

	ret = cmdbuf_reserve(cb);
	if (ret)
		return ret;
	cb->cmds[cb->count++] = *cmd;
	if (dev)
		cb->dev = dev;
	return 0;
}

/* Whether commands of @cb may name BOs of @dev. */
static bool cmdbuf_accepts(const struct accel_cmdbuf *cb,
			   const struct accel_dev *dev)
{
	return !cb->dev || cb->dev == dev;
}

/* Whether [@offset, @offset + @size) lies inside @bo, without overflow. */
static bool bo_range_ok(const struct accel_bo *bo, uint64_t offset,
			uint64_t size)
{
	return offset <= bo->size && size <= bo->size - offset;
}

/* Whether two ranges, each already inside its BO, share a byte. */
static bool ranges_overlap(uint64_t a, uint64_t b, uint64_t size)
{
	return a < b + size && b < a + size;
}

int accel_cmd_nop(struct accel_cmdbuf *cb)
{
	const struct drm_lumen_cmd cmd = { .opcode = DRM_LUMEN_CMD_NOP };

	if (!cb)
		return -EINVAL;
	return cmdbuf_append(cb, NULL, &cmd);
}

int accel_cmd_fence(struct accel_cmdbuf *cb, const struct accel_bo *dst,
		    uint64_t dst_offset, uint64_t value)
{
	const struct drm_lumen_cmd cmd = {
		.opcode = DRM_LUMEN_CMD_FENCE,
		.dst_handle = dst ? dst->handle : 0,
		.dst_offset = dst_offset,
		.value = value,
	};

	if (!cb || !dst || !cmdbuf_accepts(cb, dst->dev))
		return -EINVAL;
	/* The device writes fences to bus addresses: system memory only. */
	if ((dst->flags & ACCEL_BO_DEVICE) || dst_offset % sizeof(uint64_t) ||
	    !bo_range_ok(dst, dst_offset, sizeof(uint64_t)))
		return -EINVAL;
	return cmdbuf_append(cb, dst->dev, &cmd);
}

int accel_cmd_copy(struct accel_cmdbuf *cb, const struct accel_bo *dst,
		   uint64_t dst_offset, const struct accel_bo *src,
		   uint64_t src_offset, uint64_t size)
{
	const struct drm_lumen_cmd cmd = {
		.opcode = DRM_LUMEN_CMD_COPY,
		.src_handle = src ? src->handle : 0,
		.dst_handle = dst ? dst->handle : 0,
		.src_offset = src_offset,
		.dst_offset = dst_offset,
		.size = size,
	};

	if (!cb || !dst || !src || src->dev != dst->dev ||
	    !cmdbuf_accepts(cb, dst->dev))
		return -EINVAL;
	if (!size || !bo_range_ok(src, src_offset, size) ||
	    !bo_range_ok(dst, dst_offset, size))
		return -EINVAL;
	/* The driver refuses overlapping ranges within one BO. */
	if (src->handle == dst->handle &&
	    ranges_overlap(src_offset, dst_offset, size))
		return -EINVAL;
	return cmdbuf_append(cb, dst->dev, &cmd);
}
