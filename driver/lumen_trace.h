/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Lumen accelerator: tracepoints, under events/lumen/ in tracefs.
 *
 * A job's life is lumen_job_submit (the ioctl pushed it to the scheduler),
 * lumen_job_run (its commands reached the ring, with its hardware seqno),
 * lumen_job_complete (its hardware fence signalled); lumen_queue_reset
 * marks a queue reset by recovery.  Documentation/uapi.rst lists the fields.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lumen

#if !defined(LUMEN_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define LUMEN_TRACE_H

#include <linux/tracepoint.h>

#include "lumen_drv.h"

TRACE_EVENT(lumen_job_submit,
	    TP_PROTO(struct lumen_job *job),
	    TP_ARGS(job),
	    TP_STRUCT__entry(__field(u32, queue)
			     __field(u32, ctx)
			     __field(u64, sched_seqno)
			     __field(u64, cmdbuf_va)
			     __field(u32, cmdbuf_size)
			     __field(u32, bo_count)),
	    TP_fast_assign(__entry->queue = job->queue->id;
			   __entry->ctx = job->ctx;
			   __entry->sched_seqno = job->base.s_fence->finished.seqno;
			   __entry->cmdbuf_va = job->cmdbuf_va;
			   __entry->cmdbuf_size = job->cmdbuf_size;
			   __entry->bo_count = job->bo_count;),
	    TP_printk("queue=%u ctx=%u sched_seqno=%llu cmdbuf=%#llx+%u bos=%u",
		      __entry->queue, __entry->ctx, __entry->sched_seqno,
		      __entry->cmdbuf_va, __entry->cmdbuf_size, __entry->bo_count)
);

TRACE_EVENT(lumen_job_run,
	    TP_PROTO(struct lumen_job *job),
	    TP_ARGS(job),
	    TP_STRUCT__entry(__field(u32, queue)
			     __field(u32, ctx)
			     __field(u64, sched_seqno)
			     __field(u64, seqno)),
	    TP_fast_assign(__entry->queue = job->queue->id;
			   __entry->ctx = job->ctx;
			   __entry->sched_seqno = job->base.s_fence->finished.seqno;
			   __entry->seqno = job->hw_fence->base.seqno;),
	    TP_printk("queue=%u ctx=%u sched_seqno=%llu seqno=%llu",
		      __entry->queue, __entry->ctx, __entry->sched_seqno, __entry->seqno)
);

TRACE_EVENT(lumen_job_complete,
	    TP_PROTO(struct lumen_job *job, int error, u64 busy_ns),
	    TP_ARGS(job, error, busy_ns),
	    TP_STRUCT__entry(__field(u32, queue)
			     __field(u32, ctx)
			     __field(u64, seqno)
			     __field(int, error)
			     __field(u64, busy_ns)),
	    TP_fast_assign(__entry->queue = job->queue->id;
			   __entry->ctx = job->ctx;
			   __entry->seqno = job->hw_fence->base.seqno;
			   __entry->error = error;
			   __entry->busy_ns = busy_ns;),
	    TP_printk("queue=%u ctx=%u seqno=%llu error=%d busy_ns=%llu",
		      __entry->queue, __entry->ctx, __entry->seqno, __entry->error,
		      __entry->busy_ns)
);

TRACE_EVENT(lumen_queue_reset,
	    TP_PROTO(struct lumen_queue *q, int error),
	    TP_ARGS(q, error),
	    TP_STRUCT__entry(__field(u32, queue)
			     __field(int, error)
			     __field(u64, resets)),
	    TP_fast_assign(__entry->queue = q->id;
			   __entry->error = error;
			   __entry->resets = atomic64_read(&q->resets);),
	    TP_printk("queue=%u error=%d resets=%llu",
		      __entry->queue, __entry->error, __entry->resets)
);

#endif /* LUMEN_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE lumen_trace
#include <trace/define_trace.h>
