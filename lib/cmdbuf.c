// SPDX-License-Identifier: MIT
/*
 * Command buffers: one BO the device reads, commands growing from its
 * start and operator descriptors from its end (see struct accel_cmdbuf).
 *
 * Keeping both in one BO means one allocation, one mapping and one handle
 * per job; the device is told only the command bytes, and finds the
 * descriptors through the addresses the commands carry.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lumen_regs.h"

void libaccel_cmdbuf_init(struct accel_cmdbuf *cb, struct accel_dev *dev,
			  void *mem, uint64_t capacity, uint64_t va,
			  uint64_t max_cmd_bytes)
{
	memset(cb, 0, sizeof(*cb));
	cb->dev = dev;
	cb->mem = mem;
	cb->capacity = capacity;
	cb->va = va;
	cb->max_cmd_bytes = max_cmd_bytes;
}

int accel_cmdbuf_create(struct accel_dev *dev, uint64_t capacity,
			struct accel_cmdbuf **cbp)
{
	struct accel_cmdbuf *cb;
	struct accel_info info;
	struct accel_bo *bo;
	void *map;
	int ret;

	if (!dev || !cbp || capacity < LUMEN_CMD_SIZE)
		return -EINVAL;
	ret = accel_query(dev, &info);
	if (ret)
		return ret;

	cb = calloc(1, sizeof(*cb));
	if (!cb)
		return -ENOMEM;
	ret = accel_bo_create(dev, capacity, 0, &bo);
	if (ret)
		goto err_free;
	ret = accel_bo_map(bo, &map);
	if (ret)
		goto err_bo;

	/* BOs are whole pages, so the end (descriptor area) is 128-aligned. */
	libaccel_cmdbuf_init(cb, dev, map, accel_bo_size(bo), accel_bo_va(bo),
			     info.max_cmdbuf_size);
	cb->bo = bo;
	*cbp = cb;
	return 0;

err_bo:
	accel_bo_free(bo);
err_free:
	free(cb);
	return ret;
}

void accel_cmdbuf_free(struct accel_cmdbuf *cb)
{
	if (!cb)
		return;
	accel_bo_free(cb->bo);
	free(cb);
}

void accel_cmdbuf_reset(struct accel_cmdbuf *cb)
{
	if (!cb)
		return;
	cb->cmd_bytes = 0;
	cb->desc_bytes = 0;
}

uint32_t accel_cmdbuf_size(const struct accel_cmdbuf *cb)
{
	/* Bounded by max_cmd_bytes, a 32-bit uAPI value. */
	return cb ? (uint32_t)cb->cmd_bytes : 0;
}

size_t accel_cmdbuf_count(const struct accel_cmdbuf *cb)
{
	return cb ? (size_t)(cb->cmd_bytes / LUMEN_CMD_SIZE) : 0;
}

uint64_t accel_cmdbuf_va(const struct accel_cmdbuf *cb)
{
	return cb ? cb->va : 0;
}

uint64_t accel_cmdbuf_capacity(const struct accel_cmdbuf *cb)
{
	return cb ? cb->capacity : 0;
}

const void *accel_cmdbuf_data(const struct accel_cmdbuf *cb)
{
	return cb ? cb->mem : NULL;
}

uint8_t *libaccel_cmdbuf_slot(struct accel_cmdbuf *cb, size_t desc_size,
			      uint8_t **desc, uint64_t *desc_va)
{
	uint64_t cmd_end = cb->cmd_bytes + LUMEN_CMD_SIZE;
	uint64_t desc_start;

	if (cmd_end > cb->max_cmd_bytes || cmd_end > cb->capacity ||
	    desc_size > cb->capacity - cmd_end ||
	    cb->desc_bytes > cb->capacity - cmd_end - desc_size)
		return NULL;

	if (desc_size) {
		desc_start = cb->capacity - cb->desc_bytes - desc_size;
		*desc = cb->mem + desc_start;
		*desc_va = cb->va + desc_start;
		memset(*desc, 0, desc_size);
	}
	memset(cb->mem + cb->cmd_bytes, 0, LUMEN_CMD_SIZE);
	return cb->mem + cb->cmd_bytes;
}

void libaccel_cmdbuf_commit(struct accel_cmdbuf *cb, size_t desc_size)
{
	cb->cmd_bytes += LUMEN_CMD_SIZE;
	cb->desc_bytes += desc_size;
}
