// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Buffer objects: sizes round up to whole pages, new objects read as zero
 * (also when they reuse memory another object dirtied), data written
 * through a mapping stays there, device memory mapped by the CPU shows what
 * the device sees, a mapping keeps its object alive, and device memory can
 * be filled up and given back without leaking.  v1: every BO has a device
 * VA in its file's address space -- page aligned, inside [va_start,
 * va_end), never overlapping another BO's -- and a read-only BO can be read
 * by the device but not written.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

static const uint64_t bo_sizes[] = {
	1, 7, 4095, 4096, 4097, 12345, 65537, LT_MIB + 3, 16 * LT_MIB,
};

#define NUM_SIZES ARRAY_SIZE(bo_sizes)

static uint64_t page_round(uint64_t size)
{
	uint64_t page = sysconf(_SC_PAGESIZE);

	return (size + page - 1) / page * page;
}

FIXTURE(bo) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
	struct lt_rng rng;
};

FIXTURE_SETUP(bo)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
	LT_SEED(&self->rng);
}

FIXTURE_TEARDOWN(bo)
{
	if (self->dev)
		accel_close(self->dev);
}

TEST_F(bo, size_rounds_up_to_pages)
{
	static const uint32_t placements[] = { 0, DRM_LUMEN_BO_DEVICE };
	size_t i, p;

	for (p = 0; p < ARRAY_SIZE(placements); p++) {
		for (i = 0; i < NUM_SIZES; i++) {
			struct drm_lumen_bo_create create = {
				.size = bo_sizes[i],
				.flags = placements[p],
			};

			ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &create))
				TH_LOG("size %llu flags %u",
				       (unsigned long long)bo_sizes[i], placements[p]);
			EXPECT_EQ(page_round(bo_sizes[i]), create.size);
			EXPECT_NE(0, create.handle);
			EXPECT_EQ(0, lt_gem_close(self->fd, create.handle));
		}
	}
}

TEST_F_TIMEOUT(bo, new_bo_is_zero_and_keeps_data, 120)
{
	size_t i;

	for (i = 0; i < NUM_SIZES; i++) {
		uint64_t size = bo_sizes[i], full = page_round(size);
		struct accel_bo *bo;
		unsigned char *copy;
		void *map;

		ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &bo, &map));
		ASSERT_EQ(full, accel_bo_size(bo));
		/* The whole allocation, rounding included, reads as zero. */
		EXPECT_EQ(full, lt_find_not(map, 0, full))
			TH_LOG("size %llu: a new BO is not zero", (unsigned long long)size);

		copy = malloc(full);
		ASSERT_NE(NULL, copy);
		lt_rng_fill(&self->rng, copy, full);
		memcpy(map, copy, full);
		/* A fresh mapping must see the object's pages, not a copy. */
		ASSERT_EQ(0, accel_bo_unmap(bo));
		ASSERT_EQ(0, accel_bo_map(bo, &map));
		EXPECT_EQ(full, lt_mismatch(map, copy, full))
			TH_LOG("size %llu: data lost across remapping",
			       (unsigned long long)size);
		free(copy);
		accel_bo_free(bo);
	}
}

/* Memory freed by one object and reused by the next never leaks data. */
TEST_F_TIMEOUT(bo, reused_system_memory_reads_zero, 120)
{
	const uint64_t size = 16 * LT_MIB;
	int round;

	for (round = 0; round < 4; round++) {
		struct accel_bo *bo;
		void *map;

		ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &bo, &map));
		ASSERT_EQ(size, lt_find_not(map, 0, size))
			TH_LOG("round %d: new BO holds old data", round);
		memset(map, 0xff, size);
		accel_bo_free(bo);
	}
}

TEST_F_TIMEOUT(bo, reused_device_memory_reads_zero, 120)
{
	static const uint64_t sizes[] = { 4096, 65536, 4 * LT_MIB, 16 * LT_MIB };
	struct accel_bo *dirt, *out;
	void *dirt_map, *out_map;
	const uint64_t max = 16 * LT_MIB;
	size_t i;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, max, 0, &dirt, &dirt_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, max, 0, &out, &out_map));
	lt_rng_fill(&self->rng, dirt_map, max);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		int round;

		for (round = 0; round < 2; round++) {
			struct accel_bo *bo;
			void *unused;

			ASSERT_EQ(0, lt_bo_create_mapped(self->dev, sizes[i],
							 ACCEL_BO_DEVICE, &bo, &unused));
			/* The canary proves the copy below really wrote. */
			memset(out_map, 0xa5, sizes[i]);
			ASSERT_EQ(0, lt_copy(self->dev, 0, out, 0, bo, 0, sizes[i]));
			EXPECT_EQ(sizes[i], lt_find_not(out_map, 0, sizes[i]))
				TH_LOG("size %llu round %d: new device BO is not zero",
				       (unsigned long long)sizes[i], round);
			/* Dirty it for whoever gets this memory next. */
			ASSERT_EQ(0, lt_copy(self->dev, 0, bo, 0, dirt, 0, sizes[i]));
			accel_bo_free(bo);
		}
	}
	accel_bo_free(out);
	accel_bo_free(dirt);
}

/* A mapping holds its own reference: closing the handle does not free it. */
TEST_F(bo, mapping_outlives_handle)
{
	struct drm_lumen_bo_create create = { .size = 8192 };
	struct drm_lumen_bo_mmap_offset off = { 0 };
	unsigned char *map;

	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &create));
	off.handle = create.handle;
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &off));
	EXPECT_EQ(0, off.offset % sysconf(_SC_PAGESIZE));
	map = mmap(NULL, create.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, off.offset);
	ASSERT_NE(MAP_FAILED, map);

	ASSERT_EQ(0, lt_gem_close(self->fd, create.handle));
	memset(map, 0x3c, create.size);
	EXPECT_EQ(create.size, lt_find_not(map, 0x3c, create.size));
	EXPECT_EQ(0, munmap(map, create.size));

	/* The handle itself is gone. */
	EXPECT_EQ(-ENOENT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &off));
}

TEST_F(bo, mmap_offsets_are_distinct)
{
	struct accel_bo *a, *b;
	struct drm_lumen_bo_mmap_offset oa = { 0 }, ob = { 0 };
	uint64_t first;

	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, 0, &a));
	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, 0, &b));
	oa.handle = accel_bo_handle(a);
	ob.handle = accel_bo_handle(b);
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &oa));
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &ob));
	EXPECT_NE(oa.offset, ob.offset);
	/* Asking twice gives the same answer. */
	first = ob.offset;
	ob.offset = 0;
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &ob));
	EXPECT_EQ(first, ob.offset);
	accel_bo_free(b);
	accel_bo_free(a);
}

/*
 * A device BO mapped by the CPU (BAR2, write-combined) reads as zero when
 * new, and the CPU and the device see the same bytes both ways.
 */
TEST_F_TIMEOUT(bo, device_bo_mapping_matches_device_view, 120)
{
	const uint64_t size = LT_MIB + 4096;
	struct accel_bo *dev, *sys;
	void *dev_map, *sys_map;
	unsigned char *want;

	ASSERT_EQ(0, accel_bo_create(self->dev, size, ACCEL_BO_DEVICE, &dev));
	ASSERT_EQ(0, accel_bo_map(dev, &dev_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &sys, &sys_map));
	want = malloc(size);
	ASSERT_NE(NULL, want);
	EXPECT_EQ(size, lt_find_not(dev_map, 0, size));

	/* CPU writes, the device reads. */
	lt_rng_fill(&self->rng, want, size);
	memcpy(dev_map, want, size);
	ASSERT_EQ(0, lt_copy(self->dev, 0, sys, 0, dev, 0, size));
	EXPECT_EQ(size, lt_mismatch(sys_map, want, size));

	/* The device writes, the CPU reads. */
	lt_rng_fill(&self->rng, sys_map, size);
	ASSERT_EQ(0, lt_copy(self->dev, 0, dev, 0, sys, 0, size));
	EXPECT_EQ(size, lt_mismatch(dev_map, sys_map, size));

	free(want);
	accel_bo_free(sys);
	accel_bo_free(dev);
}

/*
 * The size limit of system BOs is inclusive: exactly 1 GiB passes the
 * argument checks.  v1 maps a BO for the device when it is created, which
 * needs its pages, so in a small guest the answer may be -ENOMEM -- but
 * never -EINVAL, which would mean the limit is off by one.  Creating,
 * zeroing and mapping 1 GiB takes half a minute or more on the debug
 * kernel, beyond the harness's default 30 s.
 */
TEST_F_TIMEOUT(bo, largest_system_bo, 180)
{
	struct drm_lumen_bo_create create = { .size = 1ull << 30 };
	int ret;

	ret = lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &create);
	EXPECT_TRUE(ret == 0 || ret == -ENOMEM) TH_LOG("1 GiB: %s", accel_strerror(ret));
	if (ret == 0) {
		EXPECT_EQ(1ull << 30, create.size);
		EXPECT_EQ(0, lt_gem_close(self->fd, create.handle));
	}
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/*
 * Device memory runs out with the documented error, never beyond its size,
 * and everything freed can be allocated again.
 */
TEST_F_TIMEOUT(bo, device_memory_fills_up_and_is_reusable, 120)
{
	enum { MAX_BOS = 1024 };
	const uint64_t chunk = 16 * LT_MIB;
	struct accel_bo **bos;
	int n = 0, again, ret, round;

	bos = calloc(MAX_BOS, sizeof(*bos));
	ASSERT_NE(NULL, bos);
	for (round = 0; round < 2; round++) {
		int i;

		again = 0;
		for (;;) {
			ASSERT_GT(MAX_BOS, again);
			ret = accel_bo_create(self->dev, chunk, ACCEL_BO_DEVICE,
					      &bos[again]);
			if (ret)
				break;
			again++;
		}
		EXPECT_EQ(-ENOSPC, ret)
			TH_LOG("out of device memory: %s", accel_strerror(ret));
		EXPECT_GE(self->info.devmem_size, again * chunk);
		EXPECT_LE(1, again);
		if (round == 0)
			n = again;
		else
			EXPECT_EQ(n, again) TH_LOG("device memory leaked");
		for (i = 0; i < again; i++)
			accel_bo_free(bos[i]);
	}
	free(bos);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- Device virtual addresses --------------------------------------------- */

TEST_F(bo, raw_create_returns_a_va)
{
	struct drm_lumen_bo_create create = { .size = 4096 };

	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &create));
	EXPECT_NE(0, create.va);
	EXPECT_EQ(0, create.va % 4096);
	EXPECT_LE(self->info.va_start, create.va);
	EXPECT_GE(self->info.va_end, create.va + create.size);
	EXPECT_EQ(0, lt_gem_close(self->fd, create.handle));
}

/*
 * Many BOs of mixed sizes and placements: each VA page aligned, inside
 * [va_start, va_end), and no two ranges overlapping.
 */
TEST_F(bo, vas_are_aligned_in_range_and_distinct)
{
	enum { N = 48 };
	struct accel_bo *bos[N];
	uint64_t va[N], size[N];
	int i, j;

	for (i = 0; i < N; i++) {
		uint32_t flags = (i % 3 == 0) ? ACCEL_BO_DEVICE : 0;

		if (i % 5 == 0)
			flags |= ACCEL_BO_READ_ONLY;
		/* 1 byte to 6 pages and a bit: odd sizes, few pages. */
		ASSERT_EQ(0, accel_bo_create(self->dev, 4096 * (i % 7) + 1 + i,
					     flags, &bos[i]));
		va[i] = accel_bo_va(bos[i]);
		size[i] = accel_bo_size(bos[i]);
		EXPECT_EQ(0, va[i] % 4096) TH_LOG("BO %d at 0x%llx", i, (unsigned long long)va[i]);
		EXPECT_LE(self->info.va_start, va[i]);
		EXPECT_GE(self->info.va_end, va[i] + size[i]);
	}
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			EXPECT_TRUE(va[i] + size[i] <= va[j] || va[j] + size[j] <= va[i])
				TH_LOG("BOs %d and %d overlap", i, j);
	for (i = 0; i < N; i++)
		accel_bo_free(bos[i]);
}

/* The device sees through the VA exactly what the CPU wrote. */
TEST_F(bo, device_reads_what_cpu_wrote_at_the_va)
{
	const uint64_t size = 3 * 4096 + 123;
	struct accel_bo *src, *dst;
	void *src_map, *dst_map;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &dst, &dst_map));
	lt_rng_fill(&self->rng, src_map, size);
	/* Unaligned offsets on both sides, through the VAs. */
	ASSERT_EQ(0, lt_copy_va(self->dev, 0, accel_bo_va(dst) + 5,
				accel_bo_va(src) + 9, size - 9));
	EXPECT_EQ(size - 9, lt_mismatch((char *)dst_map + 5, (char *)src_map + 9,
					size - 9));
	EXPECT_EQ(5, lt_find_not(dst_map, 0, 5));
	accel_bo_free(dst);
	accel_bo_free(src);
}

/* Read-only for the device: it reads, a write faults and changes nothing. */
TEST_F(bo, read_only_bo)
{
	static const uint32_t placements[] = { 0, ACCEL_BO_DEVICE };
	const uint64_t size = 8192;
	size_t p;

	for (p = 0; p < ARRAY_SIZE(placements); p++) {
		struct accel_bo *ro, *sys;
		void *ro_map, *sys_map;
		unsigned char want[8192];
		int ret;

		ASSERT_EQ(0, accel_bo_create(self->dev, size,
					     placements[p] | ACCEL_BO_READ_ONLY, &ro));
		ASSERT_EQ(0, accel_bo_map(ro, &ro_map));
		ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &sys, &sys_map));
		/* The CPU mapping stays writable: read-only is the device's view. */
		lt_rng_fill(&self->rng, want, size);
		memcpy(ro_map, want, size);

		ASSERT_EQ(0, lt_copy(self->dev, 0, sys, 0, ro, 0, size));
		EXPECT_EQ(size, lt_mismatch(sys_map, want, size));

		memset(sys_map, 0x77, size);
		ret = lt_copy(self->dev, 0, ro, 0, sys, 0, size);
		EXPECT_EQ(-EFAULT, ret) TH_LOG("writing a read-only BO: %s",
					       accel_strerror(ret));
		EXPECT_EQ(size, lt_mismatch(ro_map, want, size))
			TH_LOG("the device wrote a read-only BO");
		ret = lt_fence_write(self->dev, 0, ro, 0, 1);
		EXPECT_EQ(-EFAULT, ret);
		accel_bo_free(sys);
		accel_bo_free(ro);
	}
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- Cached and write-combined CPU mappings ------------------------------ */

/*
 * A system BO is cached for the CPU unless created with ACCEL_BO_WC; a
 * device BO is write-combined either way.  Whatever the kind, the device
 * reads what the CPU wrote through the mapping, and the CPU reads what the
 * device wrote, and BO_INFO reports the flags the BO was created with.
 *
 * Not checked here: the caching mode itself.  The kernel tracks the memory
 * type of RAM pages in their page flags, not in
 * /sys/kernel/debug/x86/pat_memtype_list, and the guest kernels have no
 * CONFIG_PTDUMP_DEBUGFS to show the mapping's page protection; a timing
 * test would not be reliable under TCG.
 */
TEST_F_TIMEOUT(bo, wc_and_cached_bos_share_data_with_the_device, 120)
{
	static const uint32_t kinds[] = {
		0, ACCEL_BO_WC, ACCEL_BO_DEVICE, ACCEL_BO_DEVICE | ACCEL_BO_WC,
		ACCEL_BO_WC | ACCEL_BO_READ_ONLY,
	};
	const uint64_t size = 5 * 4096 + 17;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		struct drm_lumen_bo_info info = { 0 };
		struct accel_bo *bo, *sys;
		void *map, *sys_map;
		unsigned char *want;

		ASSERT_EQ(0, accel_bo_create(self->dev, size, kinds[k], &bo))
			TH_LOG("flags 0x%x", kinds[k]);
		ASSERT_EQ(0, accel_bo_map(bo, &map));
		ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &sys, &sys_map));
		info.handle = accel_bo_handle(bo);
		ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &info));
		EXPECT_EQ(kinds[k], info.flags);
		/* New memory reads as zero through either kind of mapping. */
		EXPECT_EQ(size, lt_find_not(map, 0, size)) TH_LOG("flags 0x%x", kinds[k]);
		want = malloc(size);
		ASSERT_NE(NULL, want);

		/* The CPU writes through the mapping, the device reads the BO. */
		lt_rng_fill(&self->rng, want, size);
		memcpy(map, want, size);
		ASSERT_EQ(0, lt_copy(self->dev, 0, sys, 0, bo, 0, size));
		EXPECT_EQ(size, lt_mismatch(sys_map, want, size))
			TH_LOG("flags 0x%x: the device read other bytes", kinds[k]);

		/* The device writes the BO, the CPU reads the mapping. */
		if (!(kinds[k] & ACCEL_BO_READ_ONLY)) {
			lt_rng_fill(&self->rng, want, size);
			memcpy(sys_map, want, size);
			ASSERT_EQ(0, lt_copy(self->dev, 0, bo, 0, sys, 0, size));
			EXPECT_EQ(size, lt_mismatch(map, want, size))
				TH_LOG("flags 0x%x: the CPU reads other bytes", kinds[k]);
		}
		free(want);
		accel_bo_free(sys);
		accel_bo_free(bo);
	}
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ACCEL_BO_WC is a known flag: only the bits above it are refused. */
TEST_F(bo, wc_flag_bad_input)
{
	const struct {
		const char *name;
		uint32_t flags;
		int err;
	} cases[] = {
		{ "WC", DRM_LUMEN_BO_WC, 0 },
		{ "WC, device (allowed, no effect)", DRM_LUMEN_BO_WC | DRM_LUMEN_BO_DEVICE, 0 },
		{ "WC, read-only", DRM_LUMEN_BO_WC | DRM_LUMEN_BO_READ_ONLY, 0 },
		{ "WC and unknown 1 << 3", DRM_LUMEN_BO_WC | 1u << 3, -EINVAL },
		{ "all flags", ~0u, -EINVAL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct drm_lumen_bo_create create = { .size = 4096, .flags = cases[i].flags };
		int ret = lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_CREATE, &create);

		EXPECT_EQ(cases[i].err, ret) TH_LOG("%s: %s", cases[i].name, accel_strerror(ret));
		if (!ret) {
			EXPECT_EQ(0, lt_gem_close(self->fd, create.handle));
		} else {
			EXPECT_EQ(0, create.handle) TH_LOG("%s: a handle on failure",
							   cases[i].name);
		}
	}
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- lumen-smi memory ---------------------------------------------------- */

/*
 * A child holding BOs in two files of the device: `lumen-smi -j memory N`
 * lists it by pid and name, with the sums of its two files, to the byte.
 */
TEST_F_TIMEOUT(bo, lumen_smi_shows_a_child_and_its_memory, 120)
{
	const char *node = strrchr(self->info.path, 'l');	/* "l<N>" of accel<N> */
	int ready[2], done[2], files = 0, pid_seen = 0;
	uint64_t sys = 0, sys_res = 0, dmem = 0, dmem_res = 0, pt = 0;
	char cmd[128], line[1024], comm[32] = "";
	bool text_seen = false;
	pid_t child;
	FILE *p;
	char c;

	ASSERT_NE(NULL, node);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct accel_dev *a, *b;
		struct accel_bo *bo;

		prctl(PR_SET_NAME, "smi-kid");
		if (accel_open_path(self->info.path, &a) || accel_open_path(self->info.path, &b) ||
		    accel_bo_create(a, 3 * LT_MIB, 0, &bo) ||
		    accel_bo_create(b, LT_MIB, ACCEL_BO_WC, &bo) ||
		    accel_bo_create(b, 2 * LT_MIB, ACCEL_BO_DEVICE, &bo))
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the child could not make its BOs");

	snprintf(cmd, sizeof(cmd), "lumen-smi -j memory %s 2>&1", node + 1);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		char *at = strstr(line, "\"pid\": ");
		int pid;

		if (!at || sscanf(at, "\"pid\": %d,", &pid) != 1 || pid != child)
			continue;
		pid_seen++;
		EXPECT_EQ(7, sscanf(at, "\"pid\": %*d, \"comm\": \"%31[^\"]\", \"files\": %d, "
				    "\"system_bytes\": %" SCNu64 ", \"system_resident_bytes\": %"
				    SCNu64 ", \"devmem_bytes\": %" SCNu64
				    ", \"devmem_resident_bytes\": %" SCNu64 ", \"pt_bytes\": %" SCNu64,
				    comm, &files, &sys, &sys_res, &dmem, &dmem_res, &pt))
			TH_LOG("lumen-smi's line: %s", line);
	}
	EXPECT_EQ(0, pclose(p));
	EXPECT_EQ(1, pid_seen) TH_LOG("lumen-smi -j memory did not list the child");
	EXPECT_STREQ("smi-kid", comm);
	EXPECT_EQ(2, files);
	EXPECT_EQ(4 * LT_MIB, sys);
	EXPECT_EQ(4 * LT_MIB, sys_res);	/* system BOs are populated at creation */
	EXPECT_EQ(2 * LT_MIB, dmem);
	EXPECT_EQ(2 * LT_MIB, dmem_res);
	EXPECT_LE(2 * 4096, pt);		/* at least the two root tables */

	/* The text view names it too. */
	snprintf(cmd, sizeof(cmd), "lumen-smi memory %s 2>&1", node + 1);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		int pid;
		char name[32];

		if (sscanf(line, "%d %31s", &pid, name) == 2 && pid == child &&
		    !strcmp(name, "smi-kid"))
			text_seen = true;
	}
	EXPECT_EQ(0, pclose(p));
	EXPECT_TRUE(text_seen);

	ASSERT_EQ(1, write(done[1], "d", 1));
	{
		int status;

		ASSERT_EQ(child, waitpid(child, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);
}

TEST_HARNESS_MAIN
