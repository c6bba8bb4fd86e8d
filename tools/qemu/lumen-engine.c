/*
 * Lumen PCIe inference accelerator: engines
 *
 * Copyright (c) 2025-2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The device has num_cores compute engines and one DMA engine (index
 * num_cores).  Each engine is a host thread, so commands run while the
 * vCPUs keep running.  A queue feeds the engine named in its ENGINE
 * register.  An engine drives the command core one step (one command) at
 * a time, lumen_exec_step(), and serves its queues round-robin, at most
 * LUMEN_ENGINE_BATCH steps of one queue per turn, so that no queue starves
 * and a doorbell storm cannot keep a thread spinning.
 *
 * A queue whose WAIT is not satisfied yet is parked: the engine moves on
 * to its other queues and retries the parked one when any engine retires
 * a command that moved data (which may have released the semaphore; a
 * NOP or an INDIRECT cannot) or, at the latest, after LUMEN_WAIT_RETRY_MS
 * (a CPU store to the semaphore is invisible to the device).  So a waiting
 * queue never holds its engine and never spins.
 *
 * An engine holds LumenState.lock only to pick a queue, to publish and
 * retire a step and around each bus write (lumen-dma.c).  While it
 * executes a step, LumenQueue.active is set and the step polls its
 * queue's epoch.  Stopping a queue (or all of them) is: bump the epoch,
 * then wait until no bus write of the queue is in flight.  It does not
 * wait for the step itself: an operator may compute for a long time, and
 * its results are dropped anyway.  The waiter holds the BQL; this is safe
 * because an engine never takes the BQL (interrupts go through a bottom
 * half, and lumen-dma.c refuses DMA that would need the BQL).
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/log.h"
#include "qemu/timer.h"
#include "lumen.h"

/* Could @q execute a step, WAIT aside? */
static bool lumen_queue_ready_locked(LumenState *s, LumenQueue *q)
{
    return s->enabled && !s->fatal && q->enabled &&
           q->error == LUMEN_ERR_NONE && q->head != q->tail && !q->active &&
           !(q->hang && !q->in_entry);
}

/*
 * Next queue with work for engine @e, round-robin.  *deadline is the
 * earliest retry time of a parked queue of @e (INT64_MAX if none).
 */
static LumenQueue *lumen_engine_pick_locked(LumenEngine *e, int64_t now,
                                            int64_t *deadline)
{
    LumenState *s = e->dev;

    *deadline = INT64_MAX;
    for (unsigned i = 0; i < s->num_queues; i++) {
        unsigned index = (e->next_queue + i) % s->num_queues;
        LumenQueue *q = &s->queues[index];

        if (q->engine != e->index || !lumen_queue_ready_locked(s, q)) {
            continue;
        }
        if (q->waiting && q->wait_progress == s->progress &&
            now < q->wait_deadline) {
            *deadline = MIN(*deadline, q->wait_deadline);
            continue;
        }
        e->next_queue = (index + 1) % s->num_queues;
        return q;
    }
    return NULL;
}

/*
 * Make the engine's counters visible to the register file, unless a reset
 * zeroed them while the step ran: what ran across a reset is not counted.
 */
static void lumen_engine_publish_locked(LumenEngine *e)
{
    if (e->stats_gen == e->dev->perf_gen) {
        e->perf = e->stats;
        e->perf_busy_ns = e->busy_ns;
    }
}

/* Before a step: start counting afresh if a reset happened. */
static void lumen_engine_count_locked(LumenEngine *e)
{
    if (e->stats_gen != e->dev->perf_gen) {
        e->stats = (LumenStats) { 0 };
        e->busy_ns = 0;
        e->stats_gen = e->dev->perf_gen;
    }
}

/* A command that moved data retired: give the parked queues another try. */
static void lumen_wake_waiters_locked(LumenState *s)
{
    s->progress++;
    for (unsigned i = 0; i < s->num_queues; i++) {
        if (s->queues[i].waiting) {
            lumen_engine_kick_locked(s, &s->queues[i]);
        }
    }
}

/* MMU fault of @q: latch it in the queue and, if free, globally. */
static void lumen_latch_fault_locked(LumenState *s, LumenQueue *q,
                                     const LumenExec *x)
{
    uint32_t info = (x->fault_info & 0x00ffffff) |
                    (uint32_t)lumen_queue_index(s, q) << 24;

    q->fault_va = x->fault_va;
    q->fault_info = info;
    q->context = LUMEN_FAULT_INFO_CONTEXT(info);
    if (!(s->fault_status & LUMEN_FAULT_VALID)) {
        s->fault_status = LUMEN_FAULT_VALID;
        s->fault_info = info;
        s->fault_va = x->fault_va;
    }
}

/*
 * Act on the result @r of a step of @q, which ran in context @ctx and
 * moved data if @moved; true if @q may go on.
 */
static bool lumen_engine_retire_locked(LumenEngine *e, LumenQueue *q,
                                       const LumenExec *x, unsigned ctx,
                                       bool moved, uint32_t r)
{
    LumenState *s = e->dev;

    q->in_entry = q->qx.depth > 0;
    q->context = q->in_entry ? q->qx.ctx : q->ring_ctx;

    switch (r) {
    case LUMEN_STEP_DONE:
        q->head = (q->head + 1) & (q->ring_size - 1);
        q->completed++;
        /* fall through */
    case LUMEN_STEP_MORE:
        q->waiting = false;
        if (x->raise_irq) {
            lumen_raise_queue_irq_locked(s, q);
        }
        /* Only a command that wrote memory can have released a WAIT. */
        if (moved) {
            lumen_wake_waiters_locked(s);
        }
        return true;
    case LUMEN_STEP_BLOCKED:
        q->waiting = true;
        q->wait_progress = s->progress;
        q->wait_deadline = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                           LUMEN_WAIT_RETRY_MS;
        return false;
    case LUMEN_STEP_CANCELLED:
        return false;
    }

    /* The failing command's context stays visible in LUMEN_Q_CONTEXT. */
    q->waiting = false;
    q->context = ctx;
    if (r == LUMEN_ERR_MMU_FAULT) {
        lumen_latch_fault_locked(s, q, x);
    }
    lumen_queue_fail_locked(s, q, r);
    return false;
}

/*
 * Execute one step of @q on @e, dropping the lock around it.  Returns
 * true if @q may go on with its next step.
 */
static bool lumen_engine_step_locked(LumenEngine *e, LumenQueue *q)
{
    LumenState *s = e->dev;
    uint64_t entry_addr = q->ring_base + (uint64_t)q->head * LUMEN_CMD_SIZE;
    uint8_t entry[LUMEN_CMD_SIZE] = { 0 };
    uint32_t epoch = q->epoch;
    bool fetch;
    LumenExec x = {
        .bus = &e->bus,
        .mmu = &s->mmu,
        .tlb = &e->tlb,
        .queue = lumen_queue_index(s, q),
        .compute = e->compute,
        .stats = &e->stats,
        .ring_ctx = q->ring_ctx,
    };
    uint64_t bytes;
    unsigned ctx;
    int64_t start;
    uint32_t r = LUMEN_ERR_NONE;

    if (q->qx_epoch != epoch) {
        /* The queue was reset or disabled: its entry starts over. */
        lumen_queue_exec_reset(&q->qx);
        q->qx_epoch = epoch;
    }
    lumen_engine_count_locked(e);
    bytes = e->stats.bytes;
    fetch = q->qx.depth == 0;
    ctx = fetch ? q->ring_ctx : q->qx.ctx;
    q->active = true;
    q->active_epoch = epoch;
    e->cur = q;
    e->cur_epoch = epoch;
    qemu_mutex_unlock(&s->lock);

    start = get_clock();
    if (fetch) {
        /* Through the MMU context of a direct queue, else a bus read. */
        r = lumen_exec_fetch_entry(&x, entry_addr, entry);
    }
    if (r == LUMEN_ERR_NONE) {
        r = lumen_exec_step(&x, &q->qx, entry);
    }
    e->busy_ns += get_clock() - start;

    qemu_mutex_lock(&s->lock);
    q->active = false;
    qemu_cond_broadcast(&s->idle);
    lumen_engine_publish_locked(e);
    if (q->epoch != epoch || s->stopping) {
        /* Abandoned; the queue may have been given to another engine. */
        lumen_engine_kick_locked(s, q);
        return false;
    }
    return lumen_engine_retire_locked(e, q, &x, ctx, e->stats.bytes != bytes,
                                      r);
}

/* Run up to LUMEN_ENGINE_BATCH steps of @q. */
static void lumen_engine_serve_locked(LumenEngine *e, LumenQueue *q)
{
    LumenState *s = e->dev;

    for (unsigned n = 0; n < LUMEN_ENGINE_BATCH && !s->stopping &&
                         lumen_queue_ready_locked(s, q); n++) {
        if (!lumen_engine_step_locked(e, q)) {
            return;
        }
    }
}

static void *lumen_engine_thread(void *opaque)
{
    LumenEngine *e = opaque;
    LumenState *s = e->dev;

    qemu_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
        int64_t deadline;
        LumenQueue *q = lumen_engine_pick_locked(e, now, &deadline);

        if (q) {
            lumen_engine_serve_locked(e, q);
        } else if (deadline != INT64_MAX) {
            qemu_cond_timedwait(&e->wake, &s->lock,
                                MAX(1, MIN(deadline - now, 1000)));
        } else {
            qemu_cond_wait(&e->wake, &s->lock);
        }
    }
    qemu_mutex_unlock(&s->lock);
    return NULL;
}

void lumen_engines_start(LumenState *s)
{
    QEMU_LOCK_GUARD(&s->lock);

    s->stopping = false;
    s->engines_started = true;
    for (unsigned i = 0; i < s->num_engines; i++) {
        LumenEngine *e = &s->engines[i];
        g_autofree char *name = g_strdup_printf("lumen-eng%u", i);

        e->dev = s;
        e->index = i;
        e->compute = i < s->num_cores;
        e->next_queue = 0;
        e->cur = NULL;
        e->stats = (LumenStats) { 0 };
        e->busy_ns = 0;
        e->stats_gen = s->perf_gen;
        lumen_engine_publish_locked(e);
        lumen_tlb_flush(&e->tlb);
        lumen_bus_init(s, e);
        qemu_cond_init(&e->wake);
        qemu_thread_create(&e->thread, name, lumen_engine_thread, e,
                           QEMU_THREAD_JOINABLE);
    }
}

/*
 * Unrealize: abandon the commands in progress and end the threads.  This
 * waits for a step in progress to end: at most one operator.
 */
void lumen_engines_stop(LumenState *s)
{
    WITH_QEMU_LOCK_GUARD(&s->lock) {
        if (!s->engines_started) {
            return;
        }
        s->engines_started = false;
        qatomic_set(&s->stopping, true);
        for (unsigned i = 0; i < LUMEN_MAX_QUEUES; i++) {
            qatomic_inc(&s->queues[i].epoch);
        }
        for (unsigned i = 0; i < s->num_engines; i++) {
            qemu_cond_signal(&s->engines[i].wake);
        }
    }

    for (unsigned i = 0; i < s->num_engines; i++) {
        qemu_thread_join(&s->engines[i].thread);
        qemu_cond_destroy(&s->engines[i].wake);
    }
}

/* Queue @q may have become runnable: wake its engine. */
void lumen_engine_kick_locked(LumenState *s, LumenQueue *q)
{
    if (s->engines_started && q->engine < s->num_engines) {
        qemu_cond_signal(&s->engines[q->engine].wake);
    }
}

void lumen_engines_kick_all_locked(LumenState *s)
{
    if (s->engines_started) {
        for (unsigned i = 0; i < s->num_engines; i++) {
            qemu_cond_signal(&s->engines[i].wake);
        }
    }
}

/* Is a step of @q's current epoch executing? */
bool lumen_queue_running_locked(LumenState *s, LumenQueue *q)
{
    return q->active && q->active_epoch == q->epoch;
}

/* Counters back to zero (global reset); engines restart theirs. */
void lumen_perf_reset_locked(LumenState *s)
{
    s->perf_gen++;
    for (unsigned i = 0; i < s->num_engines; i++) {
        s->engines[i].perf = (LumenStats) { 0 };
        s->engines[i].perf_busy_ns = 0;
    }
}

/* Abandon @q's entry in progress; the caller resets or disables @q. */
static void lumen_queue_abandon_locked(LumenQueue *q)
{
    qatomic_inc(&q->epoch);
    q->waiting = false;
    q->in_entry = false;
    q->context = q->ring_ctx;
}

/*
 * On return no write of @q's current command lands any more: a command
 * notices the new epoch within one chunk, and a write already in flight
 * (at most LUMEN_BUS_MAX_XFER bytes) is waited for.  The caller has made
 * @q not runnable (disabled it) or is about to reset it.
 */
void lumen_queue_quiesce_locked(LumenState *s, LumenQueue *q)
{
    lumen_queue_abandon_locked(q);
    while (q->writing) {
        qemu_cond_wait(&s->idle, &s->lock);
    }
}

static bool lumen_any_writing_locked(LumenState *s)
{
    for (unsigned i = 0; i < LUMEN_MAX_QUEUES; i++) {
        if (s->queues[i].writing) {
            return true;
        }
    }
    return false;
}

/* The same for every queue (global reset, disable, fatal error). */
void lumen_quiesce_all_locked(LumenState *s)
{
    for (unsigned i = 0; i < LUMEN_MAX_QUEUES; i++) {
        lumen_queue_abandon_locked(&s->queues[i]);
    }
    while (lumen_any_writing_locked(s)) {
        qemu_cond_wait(&s->idle, &s->lock);
    }
}
