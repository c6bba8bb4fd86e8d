// SPDX-License-Identifier: MIT
/*
 * Direct queues: a hardware queue owned by the process.  libaccel writes
 * jobs into the ring (a BO in the file's device address space), rings the
 * mapped doorbell page, and learns of completion from the FENCE that ends
 * every job, writing the job's number into a completion word: submitting
 * and reaping cost no system call.  Only a waiter that runs out of its
 * spin budget sleeps in DRM_IOCTL_LUMEN_DQ_WAIT (Documentation/uapi.rst).
 *
 * Ring space.  Positions are counted in 64 bits from the queue's creation
 * (struct accel_dq); the device's TAIL is the count modulo the ring size.
 * A job's entries are free again once the job completed, which the
 * completion word says: the device writes a FENCE's value after the
 * commands before it completed, and runs one queue in ring order.  The
 * FENCE entry itself may not have retired when its value lands, so it
 * stays counted until a later job completes.  The device wants at most
 * RING_SIZE - 1 entries in flight (HEAD == TAIL means empty).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "encode.h"

/* The completion BO: one page, the word at its start. */
#define DQ_DONE_BO_SIZE		4096u

_Static_assert(ACCEL_DQ_DEFAULT_ENTRIES >= LUMEN_RING_MIN_ENTRIES &&
	       ACCEL_DQ_DEFAULT_ENTRIES <= LUMEN_RING_MAX_ENTRIES &&
	       (ACCEL_DQ_DEFAULT_ENTRIES & (ACCEL_DQ_DEFAULT_ENTRIES - 1)) == 0,
	       "the default ring size is one the device takes");

static bool dq_entries_ok(uint32_t entries)
{
	return entries >= LUMEN_RING_MIN_ENTRIES &&
	       entries <= LUMEN_RING_MAX_ENTRIES &&
	       (entries & (entries - 1)) == 0;
}

static int64_t dq_now_ns(void)
{
	struct timespec ts;

	/* The vDSO answers without a system call where the clock allows. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Makes the ring entries written so far visible to the device before the
 * doorbell store that follows.  x86 does not reorder stores, not even
 * with an uncached one, so the compiler is all there is to stop.
 */
static inline void dq_wmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__atomic_thread_fence(__ATOMIC_RELEASE);
#elif defined(__aarch64__)
	__asm__ volatile("dmb oshst" : : : "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline void dq_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint32_t dq_db_read32(const struct accel_dq *dq, unsigned int offset)
{
	return *(const volatile uint32_t *)(dq->doorbell + offset);
}

/*
 * The completion word, no higher than the last job pushed: anything above
 * is a scribble of the program's own (the word is its memory) and must
 * not make the ring look emptier than it is.
 */
static uint64_t dq_done(const struct accel_dq *dq)
{
	uint64_t done = __atomic_load_n(dq->done, __ATOMIC_ACQUIRE);

	return done < dq->seq ? done : dq->seq;
}

int libaccel_dq_init(struct accel_dq *dq, struct accel_dev *dev,
		     uint32_t entries, void *ring, uint64_t ring_va,
		     uint64_t *done, uint64_t done_va, void *doorbell)
{
	if (!dq_entries_ok(entries))
		return -EINVAL;
	memset(dq, 0, sizeof(*dq));
	/* Every job takes two entries or more: fewer than entries / 2 fly. */
	dq->nslots = entries / 2;
	dq->end = calloc(dq->nslots, sizeof(*dq->end));
	if (!dq->end)
		return -ENOMEM;
	dq->dev = dev;
	dq->entries = entries;
	dq->ring = ring;
	dq->ring_va = ring_va;
	dq->done = done;
	dq->done_va = done_va;
	dq->doorbell = doorbell;
	dq->spin_ns = ACCEL_DQ_DEFAULT_SPIN_NS;
	return 0;
}

void libaccel_dq_fini(struct accel_dq *dq)
{
	free(dq->end);
	dq->end = NULL;
}

uint32_t libaccel_dq_job_entries(const struct accel_dq *dq,
				 const struct accel_cmdbuf *cb, bool *inline_cmds)
{
	uint64_t count = cb->cmd_bytes / LUMEN_CMD_SIZE;

	/*
	 * Copying a few commands spares the device an IB fetch; measured,
	 * small jobs as one INDIRECT had a latency tail that sent one in ten
	 * to the sleeping path (Documentation/benchmarks.rst).  A quarter of
	 * the ring at most, so a small ring still holds a few jobs.
	 */
	*inline_cmds = count <= ACCEL_DQ_INLINE_MAX && count + 1 <= dq->entries / 4;
	return (*inline_cmds ? (uint32_t)count : 1) + 1;
}

/* Job @seq's FENCE entry may not have retired: it still counts. */
static uint64_t dq_retired(const struct accel_dq *dq, uint64_t seq)
{
	return seq ? dq->end[seq % dq->nslots] - 1 : 0;
}

uint64_t libaccel_dq_space(const struct accel_dq *dq)
{
	uint64_t used = dq->written - dq_retired(dq, dq_done(dq));

	return used < dq->entries - 1 ? dq->entries - 1 - used : 0;
}

/*
 * DRM_IOCTL_LUMEN_DQ_WAIT for the completion word to reach @value, until
 * the absolute CLOCK_MONOTONIC @deadline (one in the past just tests).
 * Records a stop the kernel reports.
 */
static int dq_wait_ioctl(struct accel_dq *dq, uint64_t value, int64_t deadline)
{
	struct drm_lumen_dq_wait args = {
		.id = dq->id,
		.addr = (uintptr_t)dq->done,
		.value = value,
		.timeout_ns = deadline,
	};
	int ret;

	/* drmIoctl() restarts after a signal; the deadline is absolute. */
	if (!drmIoctl(dq->dev->fd, DRM_IOCTL_LUMEN_DQ_WAIT, &args))
		return 0;
	ret = -errno;
	if (ret == -EIO) {
		dq->stopped = -EIO;
		dq->error = args.error;
		dq->error_head = args.error_head;
		dq->fault_va = args.fault_va;
	} else if (ret == -ENODEV) {
		dq->stopped = -ENODEV;
	}
	return ret;
}

/*
 * The ring is full: normally the device is just behind.  A queue that is
 * stopped (or disabled by a reset, or gone: the dummy page reads 0) would
 * never make room; one read of its doorbell page's STATUS view tells,
 * and only then the kernel is asked why.
 */
static int dq_full(struct accel_dq *dq)
{
	uint32_t status = dq_db_read32(dq, LUMEN_DB_STATUS);
	int ret;

	if ((status & LUMEN_Q_STATUS_ENABLED) && !(status & LUMEN_Q_STATUS_ERROR))
		return -EAGAIN;
	ret = dq_wait_ioctl(dq, dq_done(dq) + 1, 0);
	return ret == 0 || ret == -ETIME ? -EAGAIN : ret;
}

static void dq_put(struct accel_dq *dq, uint64_t pos, const uint8_t *cmd)
{
	memcpy(dq->ring + (pos & (dq->entries - 1)) * LUMEN_CMD_SIZE, cmd,
	       LUMEN_CMD_SIZE);
}

/*
 * Writes job @seq -- @cb's commands or one INDIRECT to them, then the
 * FENCE of @seq -- from ring position @pos on; returns the position after.
 */
static uint64_t dq_write_job(struct accel_dq *dq, uint64_t pos,
			     const struct accel_cmdbuf *cb, bool inline_cmds,
			     uint64_t seq)
{
	uint8_t cmd[LUMEN_CMD_SIZE] = { 0 };

	if (inline_cmds) {
		for (uint64_t off = 0; off < cb->cmd_bytes; off += LUMEN_CMD_SIZE)
			dq_put(dq, pos++, cb->mem + off);
	} else {
		/* Context 0 in a direct queue's ring: run in the queue's own. */
		enc_header(cmd, LUMEN_OP_INDIRECT, 0);
		enc_arg(cmd, 0, cb->va);
		enc_arg(cmd, 1, cb->cmd_bytes);
		dq_put(dq, pos++, cmd);
		memset(cmd, 0, sizeof(cmd));
	}
	/* The interrupt reaches only a sleeping waiter (the kernel masks it). */
	enc_header(cmd, LUMEN_OP_FENCE, LUMEN_FENCE_IRQ);
	enc_arg(cmd, 0, dq->done_va);
	enc_arg(cmd, 1, seq);
	dq_put(dq, pos++, cmd);
	return pos;
}

int accel_dq_push(struct accel_dq *dq, const struct accel_cmdbuf *cb,
		  uint64_t *seq)
{
	bool inline_cmds;
	uint32_t need;

	if (!dq || !cb || !seq || !cb->bo || !cb->cmd_bytes || cb->dev != dq->dev ||
	    cb->cmd_bytes > LUMEN_IB_MAX_SIZE ||
	    !enc_range_ok(cb->va, cb->cmd_bytes, LUMEN_IB_ALIGN))
		return -EINVAL;
	if (dq->stopped)
		return dq->stopped;
	need = libaccel_dq_job_entries(dq, cb, &inline_cmds);
	/* The last completed job's FENCE entry may still be in flight. */
	if (need > dq->entries - 2)
		return -E2BIG;
	if (libaccel_dq_space(dq) < need)
		return dq_full(dq);

	dq->written = dq_write_job(dq, dq->written, cb, inline_cmds, dq->seq + 1);
	dq->seq++;
	dq->end[dq->seq % dq->nslots] = dq->written;
	*seq = dq->seq;
	return 0;
}

int accel_dq_kick(struct accel_dq *dq)
{
	if (!dq)
		return -EINVAL;
	if (dq->stopped)
		return dq->stopped;
	if (dq->kicked == dq->written)
		return 0;
	dq_wmb();
	*(volatile uint32_t *)(dq->doorbell + LUMEN_DB_TAIL) =
		(uint32_t)(dq->written & (dq->entries - 1));
	dq->kicked = dq->written;
	dq->kicked_seq = dq->seq;
	return 0;
}

int accel_dq_submit(struct accel_dq *dq, const struct accel_cmdbuf *cb,
		    uint64_t *seq)
{
	int ret = accel_dq_push(dq, cb, seq);

	return ret ? ret : accel_dq_kick(dq);
}

uint64_t accel_dq_completed(const struct accel_dq *dq)
{
	return dq ? dq_done(dq) : 0;
}

/*
 * Reads the completion word until it reaches @seq or the clock passes
 * @until; the clock is read every few rounds only.
 */
static bool dq_spin(const struct accel_dq *dq, uint64_t seq, int64_t until)
{
	for (unsigned int i = 1;; i++) {
		if (dq_done(dq) >= seq)
			return true;
		if (i % 16 == 0 && dq_now_ns() >= until)
			return false;
		dq_cpu_relax();
	}
}

int accel_dq_wait(struct accel_dq *dq, uint64_t seq, int64_t timeout_ns)
{
	int64_t deadline, until;
	int ret;

	if (!dq || !seq || seq > dq->seq)
		return -EINVAL;
	if (dq_done(dq) >= seq)
		return 0;
	if (dq->stopped)
		return dq->stopped;
	/* A job the device was not told of would never complete. */
	if (seq > dq->kicked_seq) {
		ret = accel_dq_kick(dq);
		if (ret)
			return ret;
	}

	deadline = libaccel_deadline_ns(timeout_ns);
	if (timeout_ns && dq->spin_ns) {
		until = dq_now_ns();
		until = dq->spin_ns < (uint64_t)(INT64_MAX - until) ?
			until + (int64_t)dq->spin_ns : INT64_MAX;
		if (dq_spin(dq, seq, until < deadline ? until : deadline))
			return 0;
	}
	/* A zero timeout asks the kernel too: it knows a stopped queue. */
	ret = dq_wait_ioctl(dq, seq, timeout_ns ? deadline : 0);
	/* Stopped after @seq completed: @seq itself is fine. */
	if (ret && dq_done(dq) >= seq)
		return 0;
	return ret;
}

void accel_dq_set_spin(struct accel_dq *dq, uint64_t spin_ns)
{
	if (dq)
		dq->spin_ns = spin_ns;
}

int accel_dq_error(const struct accel_dq *dq, uint32_t *code, uint32_t *head,
		   uint64_t *fault_va)
{
	if (!dq)
		return -EINVAL;
	if (dq->stopped != -EIO)
		return dq->stopped ? dq->stopped : -ENOENT;
	if (code)
		*code = dq->error;
	if (head)
		*head = dq->error_head;
	if (fault_va)
		*fault_va = dq->fault_va;
	return 0;
}

uint32_t accel_dq_id(const struct accel_dq *dq)
{
	return dq ? dq->id : 0;
}

uint32_t accel_dq_hw_queue(const struct accel_dq *dq)
{
	return dq ? dq->hw_queue : 0;
}

uint32_t accel_dq_hw_engine(const struct accel_dq *dq)
{
	return dq ? dq->hw_engine : 0;
}

/* The ring and completion BOs: system memory, cached, mapped. */
static int dq_alloc_bos(struct accel_dev *dev, uint32_t entries,
			struct accel_bo **ring_bo, void **ring,
			struct accel_bo **done_bo, void **done)
{
	int ret;

	ret = accel_bo_create(dev, (uint64_t)entries * LUMEN_CMD_SIZE, 0, ring_bo);
	if (!ret)
		ret = accel_bo_map(*ring_bo, ring);
	if (!ret)
		ret = accel_bo_create(dev, DQ_DONE_BO_SIZE, 0, done_bo);
	if (!ret)
		ret = accel_bo_map(*done_bo, done);
	return ret;
}

static int dq_map_doorbell(struct accel_dq *dq, uint64_t offset)
{
	long page = sysconf(_SC_PAGESIZE);
	void *map;

	if (page <= 0 || (uint64_t)offset > INT64_MAX)
		return -EINVAL;
	map = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED,
		   dq->dev->fd, (off_t)offset);
	if (map == MAP_FAILED)
		return -errno;
	dq->doorbell = map;
	dq->doorbell_size = (size_t)page;
	return 0;
}

int accel_dq_create(struct accel_dev *dev, enum accel_engine_class cls,
		    uint32_t engine, uint32_t entries, struct accel_dq **dqp)
{
	struct drm_lumen_dq_create args = {
		.engine_class = (uint32_t)cls,
		.engine = engine,
	};
	struct accel_bo *ring_bo = NULL, *done_bo = NULL;
	void *ring = NULL, *done = NULL;
	struct accel_dq *dq;
	int ret;

	if (!entries)
		entries = ACCEL_DQ_DEFAULT_ENTRIES;
	/* The driver checks the class and engine. */
	if (!dev || !dqp || !dq_entries_ok(entries))
		return -EINVAL;
	dq = calloc(1, sizeof(*dq));
	if (!dq)
		return -ENOMEM;
	ret = dq_alloc_bos(dev, entries, &ring_bo, &ring, &done_bo, &done);
	if (ret)
		goto err_bos;
	ret = libaccel_dq_init(dq, dev, entries, ring, accel_bo_va(ring_bo),
			       done, accel_bo_va(done_bo), NULL);
	if (ret)
		goto err_bos;
	dq->ring_bo = ring_bo;
	dq->done_bo = done_bo;

	args.ring_va = dq->ring_va;
	args.ring_entries = entries;
	if (drmIoctl(dev->fd, DRM_IOCTL_LUMEN_DQ_CREATE, &args)) {
		ret = -errno;
		goto err_init;
	}
	dq->id = args.id;
	dq->hw_queue = args.hw_queue;
	dq->hw_engine = args.hw_engine;
	ret = dq_map_doorbell(dq, args.doorbell_offset);
	if (ret)
		goto err_queue;
	*dqp = dq;
	return 0;

err_queue:
	accel_dq_destroy(dq);
	return ret;
err_init:
	libaccel_dq_fini(dq);
err_bos:
	accel_bo_free(done_bo);
	accel_bo_free(ring_bo);
	free(dq);
	return ret;
}

int accel_dq_destroy(struct accel_dq *dq)
{
	struct drm_lumen_dq_destroy args = { 0 };
	int ret = 0;

	if (!dq)
		return 0;
	/* First the queue: once it is reset, nothing writes the BOs. */
	args.id = dq->id;
	if (drmIoctl(dq->dev->fd, DRM_IOCTL_LUMEN_DQ_DESTROY, &args))
		ret = -errno;
	if (dq->doorbell_size)
		munmap((void *)dq->doorbell, dq->doorbell_size);
	accel_bo_free(dq->done_bo);
	accel_bo_free(dq->ring_bo);
	libaccel_dq_fini(dq);
	free(dq);
	return ret;
}
