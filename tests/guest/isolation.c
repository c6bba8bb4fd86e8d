// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Tenant isolation: two files of one device (tenant A and tenant B, each
 * opened on its own, so each has its own MMU context) and, for some cases,
 * a forked child process with a file of its own.
 *
 * - VAs are per context: B's commands aimed at exactly the VA of A's BO
 *   fault when B has nothing mapped there, and A's bytes stay as they
 *   were; where B has a BO of its own at the same VA, B's commands reach
 *   B's BO and never A's.
 * - BO handles and mmap offsets of one file mean nothing in another.
 * - New system and device memory reads as zero, from the CPU and from the
 *   device, right after another tenant dirtied and freed memory of the
 *   same sizes.
 * - VAs that are not mapped (a BO's guard page, the gap after it, the top
 *   of the range) and read-only BOs fault on device writes, writing
 *   nothing.
 * - After each fault, the faulting tenant runs jobs again, and a job the
 *   other tenant had in flight at the same time completes with its data
 *   intact.
 * Job outcomes are read from the fences' status (Documentation/uapi.rst,
 * "Job status"); expected bytes are the ones the test wrote.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define BO_SIZE		(64 * 1024)	/* A's and B's data BOs */
#define INNOCENT_SIZE	LT_MIB		/* the other tenant's concurrent copy */
#define MARKER		0x69736f6c61746eull	/* "isolatn" */
#define CANARY		0x5a

/* One tenant: its own file and its own objects. */
struct tenant {
	struct accel_dev *dev;
	struct accel_cmdbuf *cb;	/* for bad jobs */
	struct accel_cmdbuf *cb2;	/* for the concurrent good job */
	struct accel_fence *done, *done2;
	struct accel_bo *sys, *dbo;	/* BO_SIZE data, system and device */
	void *sys_map, *dbo_map;
	struct accel_bo *flag;		/* FENCE markers of bad jobs */
	void *flag_map;
	struct accel_bo *src, *dst;	/* the concurrent copy */
	void *src_map, *dst_map;
	struct accel_bo *pad;		/* optional, before everything else */
};

/*
 * Opens a file for @t and creates its objects.  With @pad, a device BO of
 * @pad bytes comes first, so that the tenant's objects get VAs beyond
 * those of a tenant opened without one (the driver hands out VAs from
 * va_start upwards in each context).
 */
static int tenant_open(const char *path, struct tenant *t, uint64_t pad)
{
	int ret;

	memset(t, 0, sizeof(*t));
	ret = accel_open_path(path, &t->dev);
	if (!ret && pad)
		ret = accel_bo_create(t->dev, pad, ACCEL_BO_DEVICE, &t->pad);
	if (!ret)
		ret = lt_cmdbuf_create(t->dev, &t->cb);
	if (!ret)
		ret = lt_cmdbuf_create(t->dev, &t->cb2);
	if (!ret)
		ret = accel_fence_create(t->dev, &t->done);
	if (!ret)
		ret = accel_fence_create(t->dev, &t->done2);
	if (!ret)
		ret = lt_bo_create_mapped(t->dev, BO_SIZE, 0, &t->sys, &t->sys_map);
	if (!ret)
		ret = accel_bo_create(t->dev, BO_SIZE, ACCEL_BO_DEVICE, &t->dbo);
	if (!ret)
		ret = accel_bo_map(t->dbo, &t->dbo_map);
	if (!ret)
		ret = lt_bo_create_mapped(t->dev, 4096, 0, &t->flag, &t->flag_map);
	if (!ret)
		ret = lt_bo_create_mapped(t->dev, INNOCENT_SIZE, 0, &t->src, &t->src_map);
	if (!ret)
		ret = lt_bo_create_mapped(t->dev, INNOCENT_SIZE, 0, &t->dst, &t->dst_map);
	return ret;
}

static void tenant_close(struct tenant *t)
{
	accel_bo_free(t->dst);
	accel_bo_free(t->src);
	accel_bo_free(t->flag);
	accel_bo_free(t->dbo);
	accel_bo_free(t->sys);
	accel_bo_free(t->pad);
	accel_fence_free(t->done2);
	accel_fence_free(t->done);
	accel_cmdbuf_free(t->cb2);
	accel_cmdbuf_free(t->cb);
	accel_close(t->dev);
	memset(t, 0, sizeof(*t));
}

/* Does [va, va + size) overlap a BO of @t? */
static bool tenant_maps(const struct tenant *t, uint64_t va, uint64_t size)
{
	const struct accel_bo *bos[] = { t->sys, t->dbo, t->flag, t->src, t->dst };
	uint64_t cb_va = accel_cmdbuf_va(t->cb), cb2_va = accel_cmdbuf_va(t->cb2);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bos); i++) {
		uint64_t start = accel_bo_va(bos[i]), end = start + accel_bo_size(bos[i]);

		if (va < end && start < va + size)
			return true;
	}
	if (va < cb_va + accel_cmdbuf_capacity(t->cb) && cb_va < va + size)
		return true;
	return va < cb2_va + accel_cmdbuf_capacity(t->cb2) && cb2_va < va + size;
}

/* ---- The other tenant's concurrent job ---------------------------------- */

/* Submits a 1 MiB copy of fresh random data on @queue; does not wait. */
static int innocent_start(struct tenant *t, unsigned int queue, struct lt_rng *rng)
{
	int ret;

	lt_rng_fill(rng, t->src_map, INNOCENT_SIZE);
	memset(t->dst_map, 0, INNOCENT_SIZE);
	accel_cmdbuf_reset(t->cb2);
	ret = accel_cmd_copy(t->cb2, accel_bo_va(t->dst), accel_bo_va(t->src),
			     INNOCENT_SIZE);
	if (!ret)
		ret = accel_submit(t->dev, queue, t->cb2, NULL, 0, NULL, t->done2);
	return ret;
}

/* Waits for it: 0 if it succeeded and copied every byte, -EIO if not. */
static int innocent_finish(struct tenant *t)
{
	int ret = lt_job_result(t->done2);

	if (!ret && lt_mismatch(t->dst_map, t->src_map, INNOCENT_SIZE) != INNOCENT_SIZE)
		ret = -EIO;
	return ret;
}

/* ---- Bad jobs ------------------------------------------------------------ */

enum attack {
	COPY_INTO,	/* COPY from @own into @va */
	COPY_OUT_OF,	/* COPY from @va into @own */
	FILL_AT,	/* FILL at @va */
	FENCE_AT,	/* FENCE at @va */
};

static const char *const attack_names[] = {
	[COPY_INTO] = "COPY into", [COPY_OUT_OF] = "COPY out of",
	[FILL_AT] = "FILL at", [FENCE_AT] = "FENCE at",
};

static int append_attack(struct accel_cmdbuf *cb, enum attack a, uint64_t va,
			 uint64_t own, uint64_t size)
{
	switch (a) {
	case COPY_INTO:
		return accel_cmd_copy(cb, va, own, size);
	case COPY_OUT_OF:
		return accel_cmd_copy(cb, own, va, size);
	case FILL_AT:
		return accel_cmd_fill(cb, va, size, 0xdeadbeefdeadbeefull);
	case FENCE_AT:
		return accel_cmd_fence(cb, va, 0xdeadbeefdeadbeefull);
	}
	return -EINVAL;
}

/*
 * Submits on @queue one job of @t: FENCE MARKER at flag+0, the attack,
 * FENCE MARKER at flag+8; waits and returns the job's result.  *@before and
 * *@after tell whether the fences around the attack were written.
 */
static int attack_job(struct tenant *t, unsigned int queue, enum attack a,
		      uint64_t va, uint64_t own, uint64_t size, bool *before,
		      bool *after)
{
	uint64_t seen[2];
	int ret;

	memset(t->flag_map, 0, 16);
	accel_cmdbuf_reset(t->cb);
	if (accel_cmd_fence(t->cb, accel_bo_va(t->flag), MARKER) ||
	    append_attack(t->cb, a, va, own, size) ||
	    accel_cmd_fence(t->cb, accel_bo_va(t->flag) + 8, MARKER))
		return -ENOSPC;
	ret = accel_submit(t->dev, queue, t->cb, NULL, 0, NULL, t->done);
	if (!ret)
		ret = lt_job_result(t->done);
	memcpy(seen, t->flag_map, sizeof(seen));
	*before = seen[0] == MARKER;
	*after = seen[1] == MARKER;
	return ret;
}

/* ---- Fixture -------------------------------------------------------------- */

FIXTURE(iso) {
	struct accel_info info;
	struct tenant a, b;
	struct lt_rng rng;
	unsigned char *a_sys_want, *a_dbo_want;
};

FIXTURE_SETUP(iso)
{
	struct accel_dev *probe;

	LT_OPEN_OR_SKIP(&probe, &self->info);
	accel_close(probe);
	LT_SEED(&self->rng);
	ASSERT_EQ(0, tenant_open(self->info.path, &self->b, 0));
	/* A's data VAs lie beyond everything B has: unmapped in B's context. */
	ASSERT_EQ(0, tenant_open(self->info.path, &self->a, 4 * LT_MIB));
	self->a_sys_want = malloc(BO_SIZE);
	self->a_dbo_want = malloc(BO_SIZE);
	ASSERT_NE(NULL, self->a_sys_want);
	ASSERT_NE(NULL, self->a_dbo_want);
	lt_rng_fill(&self->rng, self->a_sys_want, BO_SIZE);
	lt_rng_fill(&self->rng, self->a_dbo_want, BO_SIZE);
	memcpy(self->a.sys_map, self->a_sys_want, BO_SIZE);
	memcpy(self->a.dbo_map, self->a_dbo_want, BO_SIZE);
}

FIXTURE_TEARDOWN(iso)
{
	if (self->a.dev)
		tenant_close(&self->a);
	if (self->b.dev)
		tenant_close(&self->b);
	free(self->a_sys_want);
	free(self->a_dbo_want);
}

/* A's system and device BOs still hold exactly what the test wrote. */
static void a_unchanged(struct __test_metadata *_metadata, FIXTURE_DATA(iso) *self,
			const char *after)
{
	size_t at;

	at = lt_mismatch(self->a.sys_map, self->a_sys_want, BO_SIZE);
	EXPECT_EQ(BO_SIZE, at) TH_LOG("%s: A's system BO changed at byte %zu", after, at);
	/* Device memory through the CPU mapping (BAR2) ... */
	at = lt_mismatch(self->a.dbo_map, self->a_dbo_want, BO_SIZE);
	EXPECT_EQ(BO_SIZE, at) TH_LOG("%s: A's device BO changed at byte %zu", after, at);
	/* ... and as A's own device sees it. */
	memset(self->a.dst_map, 0, BO_SIZE);
	ASSERT_EQ(0, lt_copy(self->a.dev, 0, self->a.dst, 0, self->a.dbo, 0, BO_SIZE));
	at = lt_mismatch(self->a.dst_map, self->a_dbo_want, BO_SIZE);
	EXPECT_EQ(BO_SIZE, at) TH_LOG("%s: A's device BO reads back wrong at %zu", after, at);
}

/*
 * Runs one attack of @t on @queue while the other tenant @other has a copy
 * job in flight on @other_queue; expects @want (0 or -EFAULT) and checks
 * that a faulting job stopped at the attack, that @t still runs jobs and
 * that @other's job was not disturbed.
 */
static void attack_with_innocent(struct __test_metadata *_metadata,
				 FIXTURE_DATA(iso) *self, struct tenant *t,
				 struct tenant *other, unsigned int queue,
				 unsigned int other_queue, enum attack a,
				 uint64_t va, uint64_t own, uint64_t size,
				 int want, const char *what)
{
	bool before, after;
	int ret;

	ASSERT_EQ(0, innocent_start(other, other_queue, &self->rng)) TH_LOG("%s", what);
	ret = attack_job(t, queue, a, va, own, size, &before, &after);
	EXPECT_EQ(want, ret)
		TH_LOG("%s %s 0x%llx: job result %s, expected %s", what, attack_names[a],
		       (unsigned long long)va, accel_strerror(ret), accel_strerror(want));
	EXPECT_TRUE(before) TH_LOG("%s: the FENCE before the attack did not run", what);
	EXPECT_EQ(want == 0, after)
		TH_LOG("%s %s: the FENCE after it %s", what, attack_names[a],
		       after ? "ran" : "did not run");
	ret = innocent_finish(other);
	EXPECT_EQ(0, ret)
		TH_LOG("%s: the other tenant's concurrent copy: %s", what, accel_strerror(ret));
	/* The faulting tenant carries on. */
	ret = lt_device_works(t->dev, queue);
	EXPECT_EQ(0, ret) TH_LOG("%s: the tenant no longer runs jobs: %s", what,
				 accel_strerror(ret));
}

static unsigned int second_queue(const FIXTURE_DATA(iso) *self)
{
	return self->info.num_queues > 1 ? 1 : 0;
}

/*
 * B aims COPY, FILL and FENCE at exactly the VAs of A's system and device
 * BOs (first byte, an inner range, last 8 bytes), where B has nothing
 * mapped: every job faults, A's bytes do not change, B's own BO (the
 * other end of B's copies) does not change either.
 */
TEST_F_TIMEOUT(iso, guessed_vas_of_another_context_fault, 180)
{
	const struct accel_bo *targets[] = { self->a.sys, self->a.dbo };
	const enum attack attacks[] = { COPY_INTO, COPY_OUT_OF, FILL_AT, FENCE_AT };
	struct tenant *b = &self->b;
	unsigned char *b_want;
	size_t i, j;
	int n = 0;

	b_want = malloc(BO_SIZE);
	ASSERT_NE(NULL, b_want);
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		const uint64_t va = accel_bo_va(targets[i]);
		const uint64_t offs[] = { 0, 4096 + 24, BO_SIZE - 8 };
		size_t k;

		/* The premise: B has nothing at these VAs. */
		ASSERT_FALSE(tenant_maps(b, va, BO_SIZE))
			TH_LOG("B has a BO at A's VA 0x%llx", (unsigned long long)va);
		for (j = 0; j < ARRAY_SIZE(attacks); j++) {
			for (k = 0; k < ARRAY_SIZE(offs); k++) {
				uint64_t size = attacks[j] == FENCE_AT ? 8 :
						offs[k] + 4096 > BO_SIZE ? 8 : 4096;
				char what[64];

				snprintf(what, sizeof(what), "B, round %d", n);
				lt_rng_fill(&self->rng, b_want, BO_SIZE);
				memcpy(b->sys_map, b_want, BO_SIZE);
				attack_with_innocent(_metadata, self, b, &self->a, 0,
						     n % 2 ? second_queue(self) : 0,
						     attacks[j], va + offs[k],
						     accel_bo_va(b->sys), size, -EFAULT, what);
				EXPECT_EQ(BO_SIZE, lt_mismatch(b->sys_map, b_want, BO_SIZE))
					TH_LOG("%s: B's own BO changed", what);
				n++;
			}
		}
		a_unchanged(_metadata, self, targets[i] == self->a.sys ?
			    "after B aimed at A's system BO" :
			    "after B aimed at A's device BO");
	}
	free(b_want);
}

/*
 * Where B does have a BO at the VA of A's, B's commands reach B's BO, not
 * A's: the same number names different memory in each context.
 */
TEST_F_TIMEOUT(iso, same_va_names_different_memory, 120)
{
	struct accel_bo *mine[8] = { NULL };
	struct accel_bo *hit = NULL;
	const uint64_t target = accel_bo_va(self->a.sys);
	unsigned char *map;
	size_t i, at;

	/* B creates BOs until one covers A's system BO's VA. */
	for (i = 0; i < ARRAY_SIZE(mine) && !hit; i++) {
		ASSERT_EQ(0, accel_bo_create(self->b.dev, 4 * LT_MIB, 0, &mine[i]));
		if (accel_bo_va(mine[i]) <= target &&
		    target + BO_SIZE <= accel_bo_va(mine[i]) + accel_bo_size(mine[i]))
			hit = mine[i];
	}
	if (!hit)
		SKIP(goto out, "B got no BO over A's VA 0x%llx (the VA allocator "
		     "did not reuse the range)", (unsigned long long)target);
	ASSERT_EQ(0, accel_bo_map(hit, (void **)&map));
	/* B fills "A's VA": B's own BO takes it. */
	accel_cmdbuf_reset(self->b.cb);
	ASSERT_EQ(0, accel_cmd_fill(self->b.cb, target, BO_SIZE, 0x4242424242424242ull));
	ASSERT_EQ(0, lt_run_job(self->b.dev, 0, self->b.cb));
	at = lt_find_not(map + (target - accel_bo_va(hit)), 0x42, BO_SIZE);
	EXPECT_EQ(BO_SIZE, at) TH_LOG("B's FILL did not land in B's own BO (byte %zu)", at);
	a_unchanged(_metadata, self, "after B filled the same VA in its own context");
out:
	for (i = 0; i < ARRAY_SIZE(mine); i++)
		accel_bo_free(mine[i]);
}

/*
 * The same attacks from a forked child with a file of its own: it exits 0
 * only if every one faulted and its own BO stayed as it was.
 */
static int child_attacks(const char *path, uint64_t sys_va, uint64_t dbo_va)
{
	const uint64_t targets[] = { sys_va, dbo_va };
	struct tenant c;
	int ret, failed = 0;
	size_t i, j;

	ret = tenant_open(path, &c, 0);
	if (ret) {
		printf("# child: open: %s\n", accel_strerror(ret));
		return 1;
	}
	memset(c.sys_map, CANARY, BO_SIZE);
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		if (tenant_maps(&c, targets[i], BO_SIZE)) {
			printf("# child: has a BO at A's VA 0x%llx\n",
			       (unsigned long long)targets[i]);
			failed++;
			continue;
		}
		for (j = COPY_INTO; j <= FENCE_AT; j++) {
			bool before, after;

			ret = attack_job(&c, 0, j, targets[i], accel_bo_va(c.sys),
					 j == FENCE_AT ? 8 : BO_SIZE, &before, &after);
			if (ret != -EFAULT || !before || after) {
				printf("# child: %s 0x%llx: %s (fences %d %d)\n",
				       attack_names[j], (unsigned long long)targets[i],
				       accel_strerror(ret), before, after);
				failed++;
			}
			ret = lt_device_works(c.dev, 0);
			if (ret) {
				printf("# child: no longer runs jobs: %s\n", accel_strerror(ret));
				failed++;
			}
		}
	}
	if (lt_find_not(c.sys_map, CANARY, BO_SIZE) != BO_SIZE) {
		printf("# child: its own BO changed\n");
		failed++;
	}
	tenant_close(&c);
	return failed ? 1 : 0;
}

TEST_F_TIMEOUT(iso, another_process_cannot_reach_our_vas, 180)
{
	int status, ret;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_attacks(self->info.path, accel_bo_va(self->a.sys),
				    accel_bo_va(self->a.dbo)));
	/* Meanwhile A keeps working, and must not notice. */
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, innocent_start(&self->a, i % 2 ? second_queue(self) : 0,
					    &self->rng));
		ret = innocent_finish(&self->a);
		EXPECT_EQ(0, ret) TH_LOG("A's copy %d: %s", i, accel_strerror(ret));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child's attacks did not all fault (status 0x%x)", status);
	a_unchanged(_metadata, self, "after the child's attacks");
}

/*
 * Raw ioctls: a GEM handle and an mmap offset of A are nothing in another
 * file -- in one with no BO at all, and in B, which has BOs of its own
 * under the same handle numbers.
 */
TEST_F(iso, handles_and_offsets_are_per_file)
{
	const uint32_t handle = accel_bo_handle(self->a.dbo);
	struct drm_lumen_bo_mmap_offset m = { .handle = handle };
	struct drm_lumen_bo_info bi = { .handle = handle };
	struct accel_dev *empty;
	struct tenant *b = &self->b;
	int fd, bfd = accel_fd(b->dev);
	void *map;

	ASSERT_EQ(0, lt_ioctl(accel_fd(self->a.dev), DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	ASSERT_EQ(0, accel_open_path(self->info.path, &empty));
	fd = accel_fd(empty);

	/* A file without BOs: every use of the handle is ENOENT/EINVAL. */
	{
		struct drm_lumen_bo_mmap_offset m2 = { .handle = handle };
		struct drm_lumen_bo_info bi2 = { .handle = handle };
		struct drm_lumen_submit s = {
			.cmdbuf_va = accel_cmdbuf_va(self->a.cb), .cmdbuf_size = 64,
			.bo_handles = (uintptr_t)&handle, .bo_count = 1,
		};

		EXPECT_EQ(-ENOENT, lt_ioctl(fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m2));
		EXPECT_EQ(-ENOENT, lt_ioctl(fd, DRM_IOCTL_LUMEN_BO_INFO, &bi2));
		EXPECT_EQ(-ENOENT, lt_ioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
		EXPECT_EQ(-EINVAL, lt_gem_close(fd, handle));
	}

	/* A's mmap offset cannot be mapped through another file. */
	errno = 0;
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("a file without BOs mapped A's BO");
	EXPECT_EQ(EACCES, errno);
	if (map != MAP_FAILED)
		munmap(map, 4096);
	errno = 0;
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, m.offset);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("B mapped A's BO");
	EXPECT_EQ(EACCES, errno);
	if (map != MAP_FAILED)
		munmap(map, 4096);

	/*
	 * B: handle numbers are per file, so B may hold the same number; if
	 * so it names B's own BO (B's VA and flags), never A's.
	 */
	if (!lt_ioctl(bfd, DRM_IOCTL_LUMEN_BO_INFO, &bi)) {
		const struct accel_bo *bos[] = { b->sys, b->dbo, b->flag, b->src, b->dst };
		const struct accel_cmdbuf *cbs[] = { b->cb, b->cb2 };
		bool found = false;
		size_t i;

		for (i = 0; i < ARRAY_SIZE(bos); i++)
			found |= accel_bo_va(bos[i]) == bi.va &&
				 accel_bo_size(bos[i]) == bi.size;
		for (i = 0; i < ARRAY_SIZE(cbs); i++)
			found |= accel_cmdbuf_va(cbs[i]) == bi.va &&
				 accel_cmdbuf_capacity(cbs[i]) == bi.size;
		EXPECT_TRUE(found)
			TH_LOG("B's handle %u answers with VA 0x%llx, size %llu: none of B's BOs",
			       handle, (unsigned long long)bi.va,
			       (unsigned long long)bi.size);
		EXPECT_FALSE(bi.va == accel_bo_va(self->a.dbo) && bi.size == BO_SIZE &&
			     (bi.flags & DRM_LUMEN_BO_DEVICE))
			TH_LOG("B's handle %u answers with A's BO", handle);
	}

	/* Everything still works in A's own file. */
	EXPECT_EQ(0, lt_ioctl(accel_fd(self->a.dev), DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, accel_fd(self->a.dev), m.offset);
	EXPECT_NE(MAP_FAILED, map);
	if (map != MAP_FAILED) {
		EXPECT_EQ(0, memcmp(map, self->a_dbo_want, 4096));
		munmap(map, 4096);
	}
	accel_close(empty);
	a_unchanged(_metadata, self, "after another file used A's handle");
}

/* ---- Fresh memory --------------------------------------------------------- */

static const uint64_t dirty_sizes[] = { 64 * 1024, 2 * LT_MIB, 8 * LT_MIB };
#define DIRTY_ROUNDS	3

/*
 * A dirties BOs of every size in system and device memory with 0xa5 --
 * through the CPU and with a device FILL -- checks that the dirt is
 * really there and frees them.
 */
static int dirty_and_free(struct accel_dev *dev, struct accel_bo *check,
			  unsigned char *check_map)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(dirty_sizes) && !ret; i++) {
		const uint64_t size = dirty_sizes[i];
		struct accel_bo *sys, *dbo;
		void *sys_map, *dbo_map;

		ret = lt_bo_create_mapped(dev, size, 0, &sys, &sys_map);
		if (ret)
			return ret;
		ret = accel_bo_create(dev, size, ACCEL_BO_DEVICE, &dbo);
		if (!ret)
			ret = accel_bo_map(dbo, &dbo_map);
		if (ret) {
			accel_bo_free(sys);
			return ret;
		}
		/* CPU writes 0x5a, the device FILL overwrites with 0xa5. */
		memset(sys_map, 0x5a, size);
		memset(dbo_map, 0x5a, size);
		{
			struct accel_cmdbuf *cb;

			ret = lt_cmdbuf_create(dev, &cb);
			if (!ret)
				ret = accel_cmd_fill(cb, accel_bo_va(sys), size,
						     0xa5a5a5a5a5a5a5a5ull);
			if (!ret)
				ret = accel_cmd_fill(cb, accel_bo_va(dbo), size,
						     0xa5a5a5a5a5a5a5a5ull);
			if (!ret)
				ret = lt_run_job(dev, 0, cb);
			accel_cmdbuf_free(cb);
		}
		/* The dirt is really there (the device copies the last bytes out). */
		if (!ret && lt_find_not(sys_map, 0xa5, size) != size)
			ret = -EIO;
		if (!ret)
			ret = lt_copy(dev, 0, check, 0, dbo, size - 4096, 4096);
		if (!ret && lt_find_not(check_map, 0xa5, 4096) != 4096)
			ret = -EIO;
		accel_bo_free(dbo);
		accel_bo_free(sys);
	}
	return ret;
}

/*
 * B creates a BO of every size in system and device memory: every byte
 * must read zero through the CPU mapping and when the device copies the
 * BO out into @out (first filled with a canary, so the copy shows).
 */
static void check_fresh_zero(struct __test_metadata *_metadata,
			     struct accel_dev *dev, struct accel_bo *out,
			     unsigned char *out_map, int round)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirty_sizes); i++) {
		const uint64_t size = dirty_sizes[i];
		static const uint32_t flags[] = { 0, ACCEL_BO_DEVICE };
		size_t f;

		for (f = 0; f < ARRAY_SIZE(flags); f++) {
			const char *where = flags[f] ? "device" : "system";
			struct accel_bo *bo;
			void *map;
			size_t at;

			ASSERT_EQ(0, accel_bo_create(dev, size, flags[f], &bo));
			ASSERT_EQ(0, accel_bo_map(bo, &map));
			at = lt_find_not(map, 0, size);
			EXPECT_EQ(size, at)
				TH_LOG("round %d: new %s BO of %llu bytes: CPU reads 0x%02x at %zu",
				       round, where, (unsigned long long)size,
				       ((unsigned char *)map)[at < size ? at : 0], at);
			memset(out_map, 0xc3, size);
			ASSERT_EQ(0, lt_copy(dev, 0, out, 0, bo, 0, size));
			at = lt_find_not(out_map, 0, size);
			EXPECT_EQ(size, at)
				TH_LOG("round %d: new %s BO of %llu bytes: device reads 0x%02x at %zu",
				       round, where, (unsigned long long)size,
				       out_map[at < size ? at : 0], at);
			accel_bo_free(bo);
		}
	}
}

TEST_F_TIMEOUT(iso, new_memory_is_zero_after_another_tenant_freed_dirt, 300)
{
	struct accel_bo *out, *check;
	unsigned char *out_map, *check_map;
	int round, ret;

	ASSERT_EQ(0, lt_bo_create_mapped(self->b.dev, 8 * LT_MIB, 0, &out, (void **)&out_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->a.dev, 4096, 0, &check, (void **)&check_map));
	for (round = 0; round < DIRTY_ROUNDS; round++) {
		ret = dirty_and_free(self->a.dev, check, check_map);
		ASSERT_EQ(0, ret) TH_LOG("round %d: A dirtying memory: %s", round,
					 accel_strerror(ret));
		check_fresh_zero(_metadata, self->b.dev, out, out_map, round);
	}
	accel_bo_free(check);
	accel_bo_free(out);
}

/* The same with A a process that dirties memory and exits. */
TEST_F_TIMEOUT(iso, new_memory_is_zero_after_another_process_exited, 300)
{
	struct accel_bo *out;
	unsigned char *out_map;
	int status;
	pid_t pid;

	ASSERT_EQ(0, lt_bo_create_mapped(self->b.dev, 8 * LT_MIB, 0, &out, (void **)&out_map));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct accel_dev *dev;
		struct accel_bo *check;
		void *check_map;
		int ret;

		ret = accel_open_path(self->info.path, &dev);
		if (!ret)
			ret = lt_bo_create_mapped(dev, 4096, 0, &check, &check_map);
		if (!ret)
			ret = dirty_and_free(dev, check, check_map);
		if (ret)
			printf("# child: dirtying memory: %s\n", accel_strerror(ret));
		_exit(ret ? 1 : 0);	/* the exit closes the file */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_fresh_zero(_metadata, self->b.dev, out, out_map, 0);
	accel_bo_free(out);
}

/* ---- Unmapped VAs and read-only BOs ----------------------------------------- */

/*
 * A's own context: the guard page right after a BO, the first and last
 * byte of the gap after it, a copy that straddles a BO's end, a VA below
 * va_start and one at the top of the range all fault; A carries on, and B's
 * concurrent jobs are untouched.
 */
TEST_F_TIMEOUT(iso, unmapped_vas_fault, 180)
{
	struct tenant *a = &self->a;
	const uint64_t sys = accel_bo_va(a->sys), end = sys + accel_bo_size(a->sys);
	const struct {
		const char *name;
		enum attack a;
		uint64_t va, size;
	} cases[] = {
		{ "FENCE just past the end", FENCE_AT, end, 8 },
		{ "FILL of the guard page", FILL_AT, end, 4096 },
		{ "COPY into the last byte of the guard page", COPY_INTO, end + 4088, 8 },
		{ "COPY straddling the end", COPY_INTO, end - 8, 16 },
		{ "COPY reading past the end", COPY_OUT_OF, end - 8, 16 },
		{ "FENCE below va_start", FENCE_AT, self->info.va_start - 4096, 8 },
		{ "FILL at the top of the VA range", FILL_AT, self->info.va_end - 4096, 64 },
	};
	size_t i;

	/* The premise: nothing of A's lies in the guard page. */
	ASSERT_FALSE(tenant_maps(a, end, 4096));
	/*
	 * A copy straddling the end may write the bytes before the fault
	 * (Documentation/uapi.rst, "Job status"); its source holds what the
	 * BO already has there, so only a write past the end could show.
	 */
	memcpy(a->dst_map, self->a_sys_want + BO_SIZE - 8, 8);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		attack_with_innocent(_metadata, self, a, &self->b, 0,
				     i % 2 ? second_queue(self) : 0, cases[i].a,
				     cases[i].va, accel_bo_va(a->dst), cases[i].size,
				     -EFAULT, cases[i].name);
		EXPECT_EQ(BO_SIZE, lt_mismatch(a->sys_map, self->a_sys_want, BO_SIZE))
			TH_LOG("%s: the BO before the guard page changed", cases[i].name);
	}
	/* The well-formed twin: the last 8 bytes inside the BO are fine. */
	attack_with_innocent(_metadata, self, a, &self->b, 0, 0, FENCE_AT, end - 8,
			     0, 8, 0, "FENCE at the last 8 bytes");
}

/*
 * A read-only BO: the device reads it, but every device write faults and
 * leaves it as it was -- in the file that created it and in the other
 * tenant's file that imported it.
 */
TEST_F_TIMEOUT(iso, read_only_bo_faults_on_device_write, 180)
{
	const enum attack writes[] = { COPY_INTO, FILL_AT, FENCE_AT };
	struct tenant *a = &self->a;
	struct accel_bo *ro;
	unsigned char *want, *map;
	size_t j;

	want = malloc(BO_SIZE);
	ASSERT_NE(NULL, want);
	lt_rng_fill(&self->rng, want, BO_SIZE);
	ASSERT_EQ(0, accel_bo_create(a->dev, BO_SIZE, ACCEL_BO_READ_ONLY, &ro));
	ASSERT_EQ(0, accel_bo_map(ro, (void **)&map));
	memcpy(map, want, BO_SIZE);	/* the CPU mapping stays writable */

	for (j = 0; j < ARRAY_SIZE(writes); j++) {
		attack_with_innocent(_metadata, self, a, &self->b, 0,
				     j % 2 ? second_queue(self) : 0, writes[j],
				     accel_bo_va(ro) + 4096, accel_bo_va(a->sys),
				     writes[j] == FENCE_AT ? 8 : 4096, -EFAULT,
				     "write to a read-only BO");
		EXPECT_EQ(BO_SIZE, lt_mismatch(map, want, BO_SIZE))
			TH_LOG("%s: the read-only BO changed", attack_names[writes[j]]);
	}
	/* Reading it is allowed, and gives exactly its bytes. */
	memset(a->dst_map, 0, BO_SIZE);
	ASSERT_EQ(0, lt_copy(a->dev, 0, a->dst, 0, ro, 0, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(a->dst_map, want, BO_SIZE));
	accel_bo_free(ro);
	free(want);
}

TEST_HARNESS_MAIN
