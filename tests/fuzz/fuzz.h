/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lumen-fuzz: a structure-aware fuzzer of the lumen driver's ioctls.
 *
 * Each worker process keeps pools of live objects (BOs, syncobjs, CPU
 * mappings) and picks one operation at a time: a well-formed request built
 * from the pools, or one with a field mutated.  Every answer is checked
 * against Documentation/uapi.rst: an errno the document does not list for
 * that ioctl, or a failure of a request that was well formed, is a finding.
 * The kernel's own detectors (debug kernel) catch the rest.
 */
#ifndef LUMEN_FUZZ_H
#define LUMEN_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <drm/lumen_accel.h>

#include "lumen_regs.h"	/* the device's command encodings */

/* ---- Reproducible randomness: splitmix64 ------------------------------- */

struct fz_rng {
	uint64_t state;
};

static inline uint64_t fz_next(struct fz_rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [0, bound); 0 when bound is 0. */
static inline uint64_t fz_below(struct fz_rng *rng, uint64_t bound)
{
	return bound ? fz_next(rng) % bound : 0;
}

/* True with probability percent / 100. */
static inline bool fz_chance(struct fz_rng *rng, unsigned int percent)
{
	return fz_below(rng, 100) < percent;
}

/* ---- A worker's view of its device file ---------------------------------- */

#define FZ_MAX_BOS		48
#define FZ_MAX_SYNCOBJS		16
#define FZ_MAX_MAPS		24
#define FZ_MAX_CHILDREN		4
#define FZ_MAX_BINDS		32
#define FZ_MAX_QUEUES		8
/* Direct queues of one worker: few, the device has 4 by default. */
#define FZ_MAX_DQS		2
/* Largest BO a well-formed VM_BIND maps: a binding pins it after its close. */
#define FZ_BIND_MAX_BO		(1ull << 20)
/*
 * Most commands per job the fuzzer writes: jobs are command buffers of
 * the worker's own command BO (two halves of FZ_CB_SIZE, used in turn).
 */
#define FZ_MAX_CMDS		512
#define FZ_CB_SIZE		(2 * FZ_MAX_CMDS * 64)
/* Read-write pages before the guard page, for bad user pointers. */
#define FZ_CMD_PAGES		1
/* System-memory bytes one worker may hold in BOs (pinned at creation). */
#define FZ_SYSTEM_BUDGET	(24ull << 20)

struct fz_bo {
	uint32_t handle;
	uint64_t size;
	/* Device VA in the worker's context. */
	uint64_t va;
	bool devmem;
	/* Created by a forked child's parent: the child must not close it. */
	bool borrowed;
};

struct fz_syncobj {
	uint32_t handle;
	/* It holds a fence, so a job may wait on it (else EINVAL). */
	bool has_fence;
	bool borrowed;
};

struct fz_map {
	void *addr;
	size_t len;
};

/* A VM_BIND mapping of the worker's file. */
struct fz_bind {
	uint64_t va, size;
	/* Made by a forked child's parent: the child must not unbind it. */
	bool borrowed;
};

/* What one kind of operation did; kept in memory shared with the parent. */
enum fz_op {
	FZ_QUERY,
	FZ_BO_CREATE,
	FZ_BO_CREATE_BAD,
	FZ_GEM_CLOSE,
	FZ_MMAP_OFFSET,
	FZ_MMAP,
	FZ_MUNMAP,
	FZ_TOUCH,
	FZ_SYNCOBJ,
	FZ_WAIT,
	FZ_SUBMIT,
	FZ_SUBMIT_BAD,
	FZ_SYNC_FILE,
	FZ_PRIME,
	FZ_BO_INFO,
	FZ_VM_BIND,
	FZ_VM_BIND_BAD,
	FZ_VM_UNBIND,
	FZ_QUEUE,
	FZ_DQ,
	FZ_RAW_IOCTL,
	FZ_REOPEN,
	FZ_FORK,
	FZ_OP_COUNT,
};

struct fz_op_stats {
	uint64_t calls;
	uint64_t ok;
};

struct fz_stats {
	struct fz_op_stats op[FZ_OP_COUNT];
	uint64_t ops;
	uint64_t unexpected;
	uint64_t children;
};

struct fz_worker {
	unsigned int id;
	/* A forked child: inherited objects are borrowed, results relaxed. */
	bool child;
	struct fz_rng rng;
	const char *path;
	int fd;
	uint32_t num_queues;
	uint32_t num_cores;
	uint32_t max_cmdbuf_size;
	uint64_t devmem_size;
	uint64_t va_start, va_end;
	/* The command BO: handle, VA, CPU mapping, next half to use. */
	uint32_t cb_handle;
	uint64_t cb_va;
	uint8_t *cb_map;
	unsigned int cb_half;

	struct fz_bo bos[FZ_MAX_BOS];
	unsigned int nbos;
	uint64_t system_bytes;
	struct fz_syncobj syncobjs[FZ_MAX_SYNCOBJS];
	unsigned int nsyncobjs;
	struct fz_map maps[FZ_MAX_MAPS];
	unsigned int nmaps;
	struct fz_bind binds[FZ_MAX_BINDS];
	unsigned int nbinds;
	/*
	 * Where the next well-formed VM_BIND goes: VAs only ever grow, so a
	 * bind never meets a range an unbind left busy (-EEXIST until the
	 * file's earlier jobs are done).  Far above the BOs' own VAs; a
	 * forked child moves to a range of its own.
	 */
	uint64_t bind_va;
	/* User queues (DRM_IOCTL_LUMEN_QUEUE_CREATE) of the file. */
	struct {
		uint32_t id;
		bool borrowed;
	} queues[FZ_MAX_QUEUES];
	unsigned int nqueues;
	/* Direct queues (DRM_IOCTL_LUMEN_DQ_CREATE) of the file. */
	struct {
		uint32_t id;
		uint32_t entries;
		uint64_t doorbell_offset;
		bool borrowed;
	} dqs[FZ_MAX_DQS];
	unsigned int ndqs;
	pid_t children[FZ_MAX_CHILDREN];
	unsigned int nchildren;

	/* A page no process can access, and one before it that can. */
	void *guard;
	struct fz_stats *stats;
	bool verbose;
	/* A submit said ECANCELED: the file is banned, open a new one. */
	bool guilty;
};

/* ---- Generators (gen.c) ---------------------------------------------------- */

/* One device command, as lumen_regs.h lays it out (little-endian host). */
struct fz_cmd {
	uint64_t header;
	uint64_t args[LUMEN_CMD_ARGS];
};

/*
 * A device command on the worker's BOs, by VA: NOP, FENCE, TIMESTAMP,
 * COPY, FILL.  It may still fail on the device (a BO closed meanwhile,
 * a copy the device refuses): the device's checks are fuzzed too.
 */
void fz_gen_cmd(struct fz_worker *w, struct fz_cmd *cmd);
/* The same command broken: bad opcode, flags, reserved bits, addresses. */
void fz_mutate_cmd(struct fz_worker *w, struct fz_cmd *cmd);
/* A size for a new BO: mostly small, sometimes at or past the limits. */
uint64_t fz_gen_bo_size(struct fz_worker *w, bool devmem, bool valid);
/* An interesting 64-bit value: boundaries, powers of two, random. */
uint64_t fz_gen_u64(struct fz_worker *w);
uint32_t fz_gen_u32(struct fz_worker *w);
/* A handle of the pool, 0, or a random one. */
uint32_t fz_any_bo_handle(struct fz_worker *w);
uint32_t fz_any_syncobj_handle(struct fz_worker *w);

/* ---- Operations (ops.c) ------------------------------------------------------ */

/* Opens (or reopens) the device file and queries it; 0 or -errno. */
int fz_open(struct fz_worker *w);
/* Closes the device file and forgets every object of it. */
void fz_close(struct fz_worker *w);
/* Runs one randomly chosen operation. */
void fz_step(struct fz_worker *w);
/* Unmaps everything and reaps the children. */
void fz_teardown(struct fz_worker *w);

/*
 * Records a result no document allows: prints it as a KTAP diagnostic
 * with the op and the detail, and counts it.
 */
void fz_unexpected(struct fz_worker *w, enum fz_op op, int err, const char *what);
const char *fz_op_name(enum fz_op op);

/* ioctl() restarted on EINTR/EAGAIN: 0 or -errno. */
int fz_ioctl(int fd, unsigned long request, void *arg);

#endif /* LUMEN_FUZZ_H */
