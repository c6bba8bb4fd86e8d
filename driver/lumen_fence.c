// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: hardware fences.
 *
 * Each job ends with a FENCE command that writes the job's seqno to its
 * queue's fence slot and raises the queue's vector.  Jobs on a queue
 * complete in order, so the slot holds the seqno of the last completed job,
 * and every fence up to it has signalled.
 */

#include <linux/dma-fence.h>
#include <linux/list.h>
#include <linux/spinlock.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"

static const char *lumen_fence_get_driver_name(struct dma_fence *fence)
{
	return LUMEN_DRIVER_NAME;
}

/*
 * A static name: a fence may outlive its queue (a syncobj elsewhere can
 * hold the scheduler fence that holds this one).
 */
static const char *lumen_fence_get_timeline_name(struct dma_fence *fence)
{
	return "lumen-queue";
}

static const struct dma_fence_ops lumen_fence_ops = {
	.get_driver_name = lumen_fence_get_driver_name,
	.get_timeline_name = lumen_fence_get_timeline_name,
};

/**
 * lumen_fence_init - make a fence live and track it on its queue
 * @q: the queue the fence's job runs on
 * @fence: zeroed memory for the fence
 * @seqno: the value the job's FENCE command writes; larger than every
 *         seqno given before on @q
 *
 * The caller owns the reference of the new fence; the queue's list holds
 * another one until the fence signals.
 */
void lumen_fence_init(struct lumen_queue *q, struct lumen_fence *fence, u64 seqno)
{
	unsigned long flags;

	dma_fence_init(&fence->base, &lumen_fence_ops, &q->fence_lock,
		       q->fence_context, seqno);

	spin_lock_irqsave(&q->fence_lock, flags);
	list_add_tail(&fence->link, &q->fences);
	dma_fence_get(&fence->base);
	spin_unlock_irqrestore(&q->fence_lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_fence_init);

static void lumen_fence_signal_locked(struct lumen_queue *q, struct lumen_fence *fence,
				      int error)
{
	lockdep_assert_held(&q->fence_lock);

	list_del_init(&fence->link);
	if (error)
		dma_fence_set_error(&fence->base, error);
	dma_fence_signal_locked(&fence->base);
	dma_fence_put(&fence->base);
}

/**
 * lumen_fence_process - signal every fence the device has completed
 * @q: the queue
 *
 * Called from the queue's interrupt handler and from recovery.
 */
void lumen_fence_process(struct lumen_queue *q)
{
	struct lumen_fence *fence, *next;
	unsigned long flags;
	u64 completed;

	spin_lock_irqsave(&q->fence_lock, flags);
	completed = le64_to_cpu(READ_ONCE(*q->fence_slot));
	/* The jobs' data was written before the seqno: read it after. */
	dma_rmb();
	list_for_each_entry_safe(fence, next, &q->fences, link) {
		if (fence->base.seqno > completed)
			break;
		lumen_fence_signal_locked(q, fence, 0);
	}
	spin_unlock_irqrestore(&q->fence_lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_fence_process);

/**
 * lumen_fence_fail_first - fail the oldest unsignalled fence of a queue
 * @q: the queue, stopped, with its completed fences processed
 * @error: negative errno recorded in the fence
 *
 * The oldest unsignalled fence belongs to the job the queue was executing
 * when it hung or hit an error: that job is the guilty one.
 */
void lumen_fence_fail_first(struct lumen_queue *q, int error)
{
	struct lumen_fence *fence;
	unsigned long flags;

	spin_lock_irqsave(&q->fence_lock, flags);
	fence = list_first_entry_or_null(&q->fences, struct lumen_fence, link);
	if (fence)
		lumen_fence_signal_locked(q, fence, error);
	spin_unlock_irqrestore(&q->fence_lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_fence_fail_first);

/**
 * lumen_fence_fail_all - fail every unsignalled fence of a queue
 * @q: the queue, which will never run again (the device is gone)
 * @error: negative errno recorded in the fences
 */
void lumen_fence_fail_all(struct lumen_queue *q, int error)
{
	struct lumen_fence *fence, *next;
	unsigned long flags;

	spin_lock_irqsave(&q->fence_lock, flags);
	list_for_each_entry_safe(fence, next, &q->fences, link)
		lumen_fence_signal_locked(q, fence, error);
	spin_unlock_irqrestore(&q->fence_lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_fence_fail_all);

/**
 * lumen_fence_cancel - fail one unsignalled fence whose job will not run
 * @q: the queue, reset since the fence's job was written to its ring
 * @fence: the fence
 * @error: negative errno recorded in the fence
 *
 * Recovery cancels the jobs of a guilty context that were waiting in the
 * ring behind its faulting job: the ring they were in is gone.
 */
void lumen_fence_cancel(struct lumen_queue *q, struct lumen_fence *fence, int error)
{
	unsigned long flags;

	spin_lock_irqsave(&q->fence_lock, flags);
	if (!list_empty(&fence->link))
		lumen_fence_signal_locked(q, fence, error);
	spin_unlock_irqrestore(&q->fence_lock, flags);
}
