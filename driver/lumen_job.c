// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: job submission.
 *
 * DRM_IOCTL_LUMEN_SUBMIT copies the user's commands, checks every field,
 * resolves every BO handle and range, and translates each command into
 * exactly one hardware command with device addresses.  Nothing userspace
 * wrote reaches the device without being checked and rewritten here.
 */

#include <linux/bitmap.h>
#include <linux/bsearch.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>

#include <drm/drm_drv.h>
#include <drm/drm_exec.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"
#include "drm/lumen_accel.h"

/**
 * struct lumen_submit - state of one DRM_IOCTL_LUMEN_SUBMIT
 * @job: the job being built
 * @ucmds: the user's commands, copied
 * @written: bit i set if the job writes job->bos[i]
 */
struct lumen_submit {
	struct lumen_job *job;
	struct drm_lumen_cmd *ucmds;
	unsigned long *written;
};

/* Fields each command must leave zero are checked before any lookup. */
VISIBLE_IF_KUNIT int lumen_cmd_check_fields(const struct drm_lumen_cmd *cmd)
{
	if (cmd->flags || cmd->reserved[0] || cmd->reserved[1])
		return -EINVAL;

	switch (cmd->opcode) {
	case DRM_LUMEN_CMD_NOP:
		if (cmd->src_handle || cmd->dst_handle || cmd->src_offset ||
		    cmd->dst_offset || cmd->size || cmd->value)
			return -EINVAL;
		return 0;
	case DRM_LUMEN_CMD_FENCE:
		if (cmd->src_handle || cmd->src_offset || cmd->size)
			return -EINVAL;
		if (!IS_ALIGNED(cmd->dst_offset, sizeof(u64)))
			return -EINVAL;
		return 0;
	case DRM_LUMEN_CMD_COPY:
		if (cmd->value || !cmd->size || cmd->size > LUMEN_COPY_MAX_SIZE)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}
EXPORT_SYMBOL_IF_KUNIT(lumen_cmd_check_fields);

static int lumen_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Index of @handle in job->handles (it is there: every handle was looked up). */
static u32 lumen_job_bo_index(struct lumen_job *job, u32 handle)
{
	u32 *found = bsearch(&handle, job->handles, job->bo_count, sizeof(u32), lumen_cmp_u32);

	return found - job->handles;
}

static struct drm_gem_object *lumen_job_bo(struct lumen_job *job, u32 handle)
{
	return job->bos[lumen_job_bo_index(job, handle)];
}

/*
 * Gather the BO handles @count commands name into @handles (room for two
 * per command), sorted, each once.  Returns how many there are.
 */
VISIBLE_IF_KUNIT u32 lumen_cmds_collect_handles(const struct drm_lumen_cmd *cmds, u32 count,
						u32 *handles)
{
	u32 i, n = 0, unique;

	for (i = 0; i < count; i++) {
		const struct drm_lumen_cmd *cmd = &cmds[i];

		if (cmd->opcode == DRM_LUMEN_CMD_COPY)
			handles[n++] = cmd->src_handle;
		if (cmd->opcode == DRM_LUMEN_CMD_COPY || cmd->opcode == DRM_LUMEN_CMD_FENCE)
			handles[n++] = cmd->dst_handle;
	}
	if (!n)
		return 0;

	sort(handles, n, sizeof(u32), lumen_cmp_u32, NULL);
	unique = 1;
	for (i = 1; i < n; i++)
		if (handles[i] != handles[unique - 1])
			handles[unique++] = handles[i];
	return unique;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_cmds_collect_handles);

/* Take a reference on every BO the commands name, each once. */
static int lumen_submit_lookup_bos(struct lumen_submit *s, struct drm_file *file)
{
	struct lumen_job *job = s->job;
	u32 i, unique;

	job->handles = kvmalloc_array(2 * job->cmd_count, sizeof(u32), GFP_KERNEL);
	if (!job->handles)
		return -ENOMEM;

	unique = lumen_cmds_collect_handles(s->ucmds, job->cmd_count, job->handles);
	if (!unique)
		return 0;

	job->bos = kvcalloc(unique, sizeof(*job->bos), GFP_KERNEL);
	s->written = bitmap_zalloc(unique, GFP_KERNEL);
	if (!job->bos || !s->written)
		return -ENOMEM;
	job->bo_count = unique;

	for (i = 0; i < job->bo_count; i++) {
		job->bos[i] = drm_gem_object_lookup(file, job->handles[i]);
		if (!job->bos[i])
			return -ENOENT;
	}
	return 0;
}

VISIBLE_IF_KUNIT bool lumen_range_ok(u64 offset, u64 size, u64 bo_size)
{
	return size <= bo_size && offset <= bo_size - size;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_range_ok);

/* Two ranges of @size bytes, each already checked to lie inside one BO. */
VISIBLE_IF_KUNIT bool lumen_ranges_overlap(u64 a, u64 b, u64 size)
{
	return a < b + size && b < a + size;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_ranges_overlap);

/* Check every range against its BO, and note which BOs are written. */
static int lumen_submit_check_ranges(struct lumen_submit *s)
{
	struct lumen_job *job = s->job;
	u32 i;

	for (i = 0; i < job->cmd_count; i++) {
		const struct drm_lumen_cmd *cmd = &s->ucmds[i];
		struct drm_gem_object *src, *dst;

		switch (cmd->opcode) {
		case DRM_LUMEN_CMD_FENCE:
			dst = lumen_job_bo(job, cmd->dst_handle);
			/* The device writes fences to bus addresses only. */
			if (lumen_bo_is_devmem(dst))
				return -EINVAL;
			if (!lumen_range_ok(cmd->dst_offset, sizeof(u64), dst->size))
				return -EINVAL;
			break;
		case DRM_LUMEN_CMD_COPY:
			src = lumen_job_bo(job, cmd->src_handle);
			dst = lumen_job_bo(job, cmd->dst_handle);
			if (!lumen_range_ok(cmd->src_offset, cmd->size, src->size) ||
			    !lumen_range_ok(cmd->dst_offset, cmd->size, dst->size))
				return -EINVAL;
			if (src == dst &&
			    lumen_ranges_overlap(cmd->src_offset, cmd->dst_offset, cmd->size))
				return -EINVAL;
			break;
		default:
			continue;
		}
		__set_bit(lumen_job_bo_index(job, cmd->dst_handle), s->written);
	}
	return 0;
}

static int lumen_job_pin_bos(struct lumen_job *job)
{
	u32 i;
	int ret;

	for (i = 0; i < job->bo_count; i++) {
		ret = lumen_bo_pin(job->bos[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Fill one side of a hardware COPY: arguments 0, 1 and 5 describe the
 * source, arguments 2, 3 and 6 the destination.
 */
static void lumen_copy_side_locked(struct lumen_hw_cmd *hw, u8 *flags, bool dst,
				   struct drm_gem_object *obj, u64 offset)
{
	__le64 *addr = &hw->args[dst ? 2 : 0];
	__le64 *off = &hw->args[dst ? 3 : 1];
	__le64 *sgl_count = &hw->args[dst ? 6 : 5];

	dma_resv_assert_held(obj->resv);

	if (lumen_bo_is_devmem(obj)) {
		*flags |= dst ? LUMEN_COPY_DST_DEVMEM : LUMEN_COPY_SRC_DEVMEM;
		*addr = 0;
		*off = cpu_to_le64(to_lumen_devmem_bo(obj)->offset + offset);
		*sgl_count = 0;
	} else {
		struct lumen_shmem_bo *bo = to_lumen_shmem_bo(obj);

		*flags |= dst ? LUMEN_COPY_DST_SGL : LUMEN_COPY_SRC_SGL;
		*addr = cpu_to_le64(bo->sgl_dma);
		*off = cpu_to_le64(offset);
		*sgl_count = cpu_to_le64(bo->sgl_entries);
	}
}

VISIBLE_IF_KUNIT int lumen_translate_locked(struct lumen_job *job,
					    const struct drm_lumen_cmd *cmd,
					    struct lumen_hw_cmd *hw)
{
	struct drm_gem_object *dst;
	dma_addr_t addr;
	u8 flags = 0;

	memset(hw, 0, sizeof(*hw));

	switch (cmd->opcode) {
	case DRM_LUMEN_CMD_NOP:
		hw->header = lumen_hw_cmd_header(LUMEN_OP_NOP, 0);
		return 0;
	case DRM_LUMEN_CMD_FENCE:
		dst = lumen_job_bo(job, cmd->dst_handle);
		dma_resv_assert_held(dst->resv);
		addr = lumen_bo_dma_address_locked(to_lumen_shmem_bo(dst), cmd->dst_offset);
		if (addr == DMA_MAPPING_ERROR)
			return -EINVAL;
		hw->header = lumen_hw_cmd_header(LUMEN_OP_FENCE, 0);
		hw->args[0] = cpu_to_le64(addr);
		hw->args[1] = cpu_to_le64(cmd->value);
		return 0;
	case DRM_LUMEN_CMD_COPY:
		lumen_copy_side_locked(hw, &flags, false, lumen_job_bo(job, cmd->src_handle),
				       cmd->src_offset);
		lumen_copy_side_locked(hw, &flags, true, lumen_job_bo(job, cmd->dst_handle),
				       cmd->dst_offset);
		hw->header = lumen_hw_cmd_header(LUMEN_OP_COPY, flags);
		hw->args[4] = cpu_to_le64(cmd->size);
		return 0;
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_translate_locked);

/* With every BO's dma_resv held: build scatter lists, translate commands. */
static int lumen_submit_translate_locked(struct lumen_submit *s)
{
	struct lumen_job *job = s->job;
	u32 i;
	int ret;

	for (i = 0; i < job->bo_count; i++) {
		struct drm_gem_object *obj = job->bos[i];

		if (lumen_bo_is_devmem(obj))
			continue;
		ret = lumen_bo_sgl_prepare_locked(to_lumen_shmem_bo(obj));
		if (ret)
			return ret;
	}

	for (i = 0; i < job->cmd_count; i++) {
		ret = lumen_translate_locked(job, &s->ucmds[i], &job->cmds[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Lock the BOs, translate, then arm and push the job.  Once armed, a job
 * must be pushed, so everything that can fail comes before.
 */
static int lumen_submit_push(struct lumen_submit *s, struct lumen_file *lfile,
			     struct dma_fence **done)
{
	struct lumen_job *job = s->job;
	struct drm_exec exec;
	u32 i;
	int ret;

	drm_exec_init(&exec, DRM_EXEC_INTERRUPTIBLE_WAIT, job->bo_count);
	drm_exec_until_all_locked(&exec) {
		ret = drm_exec_prepare_array(&exec, job->bos, job->bo_count, 1);
		drm_exec_retry_on_contention(&exec);
		if (ret)
			goto out;
	}

	ret = lumen_submit_translate_locked(s);
	if (ret)
		goto out;

	mutex_lock(&lfile->lock);
	drm_sched_job_arm(&job->base);
	*done = dma_fence_get(&job->base.s_fence->finished);
	for (i = 0; i < job->bo_count; i++)
		dma_resv_add_fence(job->bos[i]->resv, *done,
				   test_bit(i, s->written) ? DMA_RESV_USAGE_WRITE :
							     DMA_RESV_USAGE_READ);
	/*
	 * Unlock before the push: a pushed job may complete and drop its BO
	 * references at once, and if userspace closed a handle meanwhile,
	 * drm_exec would free that BO (which takes its dma_resv lock) while
	 * still holding the locks of the others.
	 */
	drm_exec_fini(&exec);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&lfile->lock);
	return 0;
out:
	drm_exec_fini(&exec);
	return ret;
}

static struct lumen_job *lumen_job_alloc(struct lumen_device *ldev, u32 queue, u32 cmd_count)
{
	struct lumen_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return NULL;
	atomic_inc(&ldev->job_count);
	job->ldev = ldev;
	job->queue = &ldev->queues[queue];
	job->cmd_count = cmd_count;
	job->cmds = kvmalloc_array(cmd_count, sizeof(*job->cmds), GFP_KERNEL);
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL);
	if (!job->cmds || !job->hw_fence) {
		lumen_job_free(job);
		return NULL;
	}
	return job;
}

/**
 * lumen_job_free - release a job and everything it references
 * @job: the job; drm_sched_job_cleanup() was called if it was initialised
 */
void lumen_job_free(struct lumen_job *job)
{
	struct lumen_device *ldev = job->ldev;
	u32 i;

	for (i = 0; i < job->bo_count; i++)
		if (job->bos[i])
			drm_gem_object_put(job->bos[i]);
	kvfree(job->bos);
	kvfree(job->handles);
	kvfree(job->cmds);
	if (job->hw_fence_live)
		dma_fence_put(&job->hw_fence->base);
	else
		kfree(job->hw_fence);
	kfree(job);

	if (atomic_dec_and_test(&ldev->job_count))
		wake_up_var(&ldev->job_count);
}

VISIBLE_IF_KUNIT int lumen_submit_check_args(struct lumen_device *ldev,
					     const struct drm_lumen_submit *args)
{
	if (args->flags || args->pad)
		return -EINVAL;
	if (args->queue >= ldev->num_queues)
		return -EINVAL;
	if (!args->cmd_count)
		return -EINVAL;
	if (args->cmd_count > LUMEN_MAX_JOB_CMDS)
		return -E2BIG;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_submit_check_args);

static struct drm_lumen_cmd *lumen_copy_cmds(const struct drm_lumen_submit *args)
{
	struct drm_lumen_cmd *ucmds;
	u32 i;
	int ret;

	ucmds = kvmalloc_array(args->cmd_count, sizeof(*ucmds), GFP_KERNEL);
	if (!ucmds)
		return ERR_PTR(-ENOMEM);

	if (copy_from_user(ucmds, u64_to_user_ptr(args->cmds),
			   array_size(args->cmd_count, sizeof(*ucmds)))) {
		ret = -EFAULT;
		goto err;
	}

	for (i = 0; i < args->cmd_count; i++) {
		ret = lumen_cmd_check_fields(&ucmds[i]);
		if (ret)
			goto err;
	}
	return ucmds;

err:
	kvfree(ucmds);
	return ERR_PTR(ret);
}

int lumen_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_submit *args = data;
	struct drm_syncobj *out_syncobj = NULL;
	struct lumen_submit s = { };
	struct drm_sched_entity *entity;
	struct dma_fence *done;
	int ret;
	int idx;

	ret = lumen_submit_check_args(ldev, args);
	if (ret)
		return ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	s.ucmds = lumen_copy_cmds(args);
	if (IS_ERR(s.ucmds)) {
		ret = PTR_ERR(s.ucmds);
		s.ucmds = NULL;
		goto out;
	}

	s.job = lumen_job_alloc(ldev, args->queue, args->cmd_count);
	if (!s.job) {
		ret = -ENOMEM;
		goto out;
	}

	ret = lumen_submit_lookup_bos(&s, file);
	if (ret)
		goto err_free;
	ret = lumen_submit_check_ranges(&s);
	if (ret)
		goto err_free;
	ret = lumen_job_pin_bos(s.job);
	if (ret)
		goto err_free;

	if (args->out_syncobj) {
		out_syncobj = drm_syncobj_find(file, args->out_syncobj);
		if (!out_syncobj) {
			ret = -ENOENT;
			goto err_free;
		}
	}

	entity = lumen_file_entity(lfile, args->queue);
	if (IS_ERR(entity)) {
		ret = PTR_ERR(entity);
		goto err_free;
	}

	/* One ring entry per command, plus the completion FENCE. */
	ret = drm_sched_job_init(&s.job->base, entity, args->cmd_count + 1, lfile,
				 file->client_id);
	if (ret)
		goto err_free;

	if (args->in_syncobj) {
		ret = drm_sched_job_add_syncobj_dependency(&s.job->base, file,
							   args->in_syncobj, 0);
		if (ret)
			goto err_cleanup;
	}

	ret = lumen_submit_push(&s, lfile, &done);
	if (ret)
		goto err_cleanup;

	/* The scheduler owns the job now. */
	if (out_syncobj)
		drm_syncobj_replace_fence(out_syncobj, done);
	dma_fence_put(done);
	goto out;

err_cleanup:
	drm_sched_job_cleanup(&s.job->base);
err_free:
	lumen_job_free(s.job);
out:
	if (out_syncobj)
		drm_syncobj_put(out_syncobj);
	bitmap_free(s.written);
	kvfree(s.ucmds);
	drm_dev_exit(idx);
	return ret;
}
