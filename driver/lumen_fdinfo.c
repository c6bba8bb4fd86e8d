// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: per-file usage statistics in /proc/<pid>/fdinfo/<fd>,
 * in the keys of Documentation/gpu/drm-usage-stats.rst.
 *
 * Memory.  drm_show_memory_stats() sums every BO into one "memory" region;
 * a Lumen BO lives either in system memory or in device memory, and a tool
 * wants to see the two apart, so the BOs are summed per region here, with
 * the same rules (shared: more than one handle or exported; resident: as
 * &drm_gem_object_funcs.status says; active: a fence pending in its
 * dma_resv) and printed with drm_print_memory_stats() as drm-*-system and
 * drm-*-devmem.
 *
 * Page tables.  drm-lumen-pt-bytes is the bytes of the file's device page
 * tables (Documentation/uapi.rst): not a BO, so in no drm-*-system key.
 *
 * Engine time.  Each job's time on its engine goes into its VM, which
 * lives as long as the file and every job submitted through it, so a job
 * that completes after its file is closed still has somewhere to count.
 * A job is busy from the later of its run_job and the completion of the
 * job before it on the same queue (the ring runs jobs one after the
 * other) until its hardware fence signals.
 */

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include "lumen_drv.h"
#include "lumen_trace.h"

/**
 * lumen_engine_name - the name of an engine in fdinfo, sysfs and debugfs
 * @ldev: the device
 * @engine: engine index, below &lumen_device.num_engines
 * @buf: where the name goes
 * @len: size of @buf
 *
 * Compute engines are compute0 .. compute<cores - 1>, the DMA engine dma.
 */
void lumen_engine_name(struct lumen_device *ldev, u32 engine, char *buf, size_t len)
{
	if (engine < ldev->num_cores)
		snprintf(buf, len, "compute%u", engine);
	else
		snprintf(buf, len, "dma");
}

/* Called with the queue's fence_lock held, as the hardware fence signals. */
static void lumen_job_busy_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct lumen_job *job = container_of(cb, struct lumen_job, busy_cb);
	struct lumen_queue *q = job->queue;
	ktime_t end = fence->timestamp;
	ktime_t start = ktime_after(q->last_done, job->run_time) ? q->last_done : job->run_time;
	u64 busy = ktime_after(end, start) ? ktime_to_ns(ktime_sub(end, start)) : 0;

	lockdep_assert_held(&q->fence_lock);

	q->last_done = end;
	atomic64_add(busy, &job->vm->engine_busy_ns[q->id % q->ldev->num_engines]);
	trace_lumen_job_complete(job, fence->error, busy);
}

/**
 * lumen_job_account_locked - start timing a job whose fence was just made
 * @job: the job, in its first run_job, its hardware fence initialised but
 *       its commands not yet in the ring
 */
void lumen_job_account_locked(struct lumen_job *job)
{
	lockdep_assert_held(&job->queue->ring_lock);

	job->run_time = ktime_get();
	/* Cannot fail: the device has not seen the seqno yet. */
	WARN_ON(dma_fence_add_callback(&job->hw_fence->base, &job->busy_cb,
				       lumen_job_busy_cb));
	trace_lumen_job_run(job);
}

/**
 * lumen_job_account_fini - forget a job's timing callback
 * @job: the job, being freed
 *
 * The fence has signalled whenever the scheduler frees a job; this only
 * makes sure a fence outliving its job can never call back into it.
 */
void lumen_job_account_fini(struct lumen_job *job)
{
	if (job->hw_fence_live)
		dma_fence_remove_callback(&job->hw_fence->base, &job->busy_cb);
}

struct lumen_mem_stats {
	struct drm_memory_stats system;
	struct drm_memory_stats devmem;
};

static void lumen_mem_stats_add(struct drm_memory_stats *stats, struct drm_gem_object *obj)
{
	enum drm_gem_object_status s = obj->funcs->status ? obj->funcs->status(obj) : 0;
	size_t rss = obj->funcs->rss ? obj->funcs->rss(obj) : obj->size;

	if (drm_gem_object_is_shared_for_memory_stats(obj))
		stats->shared += obj->size;
	else
		stats->private += obj->size;
	if (s & DRM_GEM_OBJECT_RESIDENT)
		stats->resident += rss;
	if (!dma_resv_test_signaled(obj->resv, dma_resv_usage_rw(true)))
		stats->active += rss;
}

static void lumen_show_memory(struct drm_printer *p, struct drm_file *file)
{
	struct lumen_mem_stats stats = {};
	struct drm_gem_object *obj;
	int id;

	spin_lock(&file->table_lock);
	idr_for_each_entry(&file->object_idr, obj, id) {
		if (lumen_bo_is_devmem(obj))
			lumen_mem_stats_add(&stats.devmem, obj);
		else
			lumen_mem_stats_add(&stats.system, obj);
	}
	spin_unlock(&file->table_lock);

	drm_print_memory_stats(p, &stats.system, DRM_GEM_OBJECT_RESIDENT, "system");
	drm_print_memory_stats(p, &stats.devmem, DRM_GEM_OBJECT_RESIDENT, "devmem");
}

/**
 * lumen_show_fdinfo - &drm_driver.show_fdinfo
 * @p: where the keys go
 * @file: the DRM file
 *
 * The DRM core has already printed drm-driver, drm-pdev and drm-client-id.
 */
void lumen_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_device *ldev = lfile->ldev;
	char name[16];
	u32 e;

	lumen_show_memory(p, file);
	/* The file's page tables: memory the driver spends on its mappings. */
	drm_printf(p, "drm-lumen-pt-bytes:\t%llu\n", READ_ONCE(lfile->vm->pt_bytes));
	/* Their work is not in drm-engine-*: the kernel does not see it. */
	drm_printf(p, "drm-lumen-direct-queues:\t%u\n", lumen_dq_file_count(lfile));
	for (e = 0; e < ldev->num_engines; e++) {
		lumen_engine_name(ldev, e, name, sizeof(name));
		drm_printf(p, "drm-engine-%s:\t%llu ns\n", name,
			   atomic64_read(&lfile->vm->engine_busy_ns[e]));
	}
}
