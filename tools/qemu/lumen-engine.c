/*
 * Lumen PCIe inference accelerator: engines
 *
 * Copyright (c) 2025 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The device has num_cores compute engines and one DMA engine (index
 * num_cores).  Each engine is a host thread, so commands run while the
 * vCPUs keep running.  A queue feeds the engine named in its ENGINE
 * register; an engine serves its queues round-robin, at most
 * LUMEN_ENGINE_BATCH commands of one queue per turn, so that no queue
 * starves and a doorbell storm cannot keep a thread spinning.
 *
 * An engine holds LumenState.lock only to pick a command and to retire
 * it.  While it executes one, LumenEngine.running names the queue, and
 * the command polls its queue's epoch between steps.  Stopping a queue (or
 * all of them) is: bump the epoch, then wait on LumenState.idle until no
 * engine runs a command of that queue.  The waiter holds the BQL; this is
 * safe because an engine never takes the BQL (interrupts go through a
 * bottom half, and lumen-dma.c refuses DMA that would need the BQL).
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "lumen.h"

static bool lumen_queue_runnable_locked(LumenState *s, LumenQueue *q)
{
    return s->enabled && q->enabled && q->error == LUMEN_ERR_NONE &&
           q->head != q->tail;
}

/* Next queue with work for engine @e, round-robin. */
static LumenQueue *lumen_engine_pick_locked(LumenEngine *e)
{
    LumenState *s = e->dev;

    for (unsigned i = 0; i < s->num_queues; i++) {
        unsigned index = (e->next_queue + i) % s->num_queues;
        LumenQueue *q = &s->queues[index];

        if (q->engine == e->index && lumen_queue_runnable_locked(s, q)) {
            e->next_queue = (index + 1) % s->num_queues;
            return q;
        }
    }
    return NULL;
}

/* Run up to LUMEN_ENGINE_BATCH commands of @q. */
static void lumen_engine_serve_locked(LumenEngine *e, LumenQueue *q)
{
    LumenState *s = e->dev;

    for (unsigned n = 0; n < LUMEN_ENGINE_BATCH && !s->stopping &&
                         lumen_queue_runnable_locked(s, q); n++) {
        uint64_t entry = q->ring_base + (uint64_t)q->head * LUMEN_CMD_SIZE;
        uint32_t epoch = q->epoch;
        bool raise_irq = false;
        uint32_t error;

        e->running = q;
        qemu_mutex_unlock(&s->lock);
        error = lumen_cmd_execute(s, q, entry, epoch, &raise_irq);
        qemu_mutex_lock(&s->lock);
        e->running = NULL;
        qemu_cond_broadcast(&s->idle);

        if (q->epoch != epoch) {
            /* Disabled or reset meanwhile: the command did not retire. */
            return;
        }
        if (error != LUMEN_ERR_NONE) {
            lumen_queue_fail_locked(s, q, error);
            return;
        }
        q->head = (q->head + 1) & (q->ring_size - 1);
        q->completed++;
        if (raise_irq) {
            lumen_raise_queue_irq_locked(s, q);
        }
    }
}

static void *lumen_engine_thread(void *opaque)
{
    LumenEngine *e = opaque;
    LumenState *s = e->dev;

    qemu_mutex_lock(&s->lock);
    while (!s->stopping) {
        LumenQueue *q = lumen_engine_pick_locked(e);

        if (q) {
            lumen_engine_serve_locked(e, q);
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
        e->running = NULL;
        e->next_queue = 0;
        qemu_cond_init(&e->wake);
        qemu_thread_create(&e->thread, name, lumen_engine_thread, e,
                           QEMU_THREAD_JOINABLE);
    }
}

/* Unrealize: abandon the commands in progress and end the threads. */
void lumen_engines_stop(LumenState *s)
{
    WITH_QEMU_LOCK_GUARD(&s->lock) {
        if (!s->engines_started) {
            return;
        }
        s->engines_started = false;
        s->stopping = true;
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

bool lumen_queue_running_locked(LumenState *s, LumenQueue *q)
{
    for (unsigned i = 0; i < s->num_engines; i++) {
        if (s->engines[i].running == q) {
            return true;
        }
    }
    return false;
}

static bool lumen_any_running_locked(LumenState *s)
{
    for (unsigned i = 0; i < s->num_engines; i++) {
        if (s->engines[i].running) {
            return true;
        }
    }
    return false;
}

/*
 * Make @q's command in progress, if any, stop touching memory and wait for
 * it; a COPY notices within one LUMEN_COPY_CHUNK step.  The caller has
 * already made @q not runnable (disabled it), so no engine picks it again
 * while we wait.
 */
void lumen_queue_quiesce_locked(LumenState *s, LumenQueue *q)
{
    qatomic_inc(&q->epoch);
    while (lumen_queue_running_locked(s, q)) {
        qemu_cond_wait(&s->idle, &s->lock);
    }
}

/* The same for every queue; the caller has cleared LumenState.enabled. */
void lumen_quiesce_all_locked(LumenState *s)
{
    for (unsigned i = 0; i < LUMEN_MAX_QUEUES; i++) {
        qatomic_inc(&s->queues[i].epoch);
    }
    while (lumen_any_running_locked(s)) {
        qemu_cond_wait(&s->idle, &s->lock);
    }
}
