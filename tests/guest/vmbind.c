// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Explicit VA bindings (DRM_IOCTL_LUMEN_VM_BIND / _UNBIND, Documentation/
 * uapi.rst): every bad argument gets its errno and changes nothing; a BO
 * bound at two VAs shows the same bytes at both; a partial bind maps
 * exactly its pages; a read-only bind faults on device writes; an unbound
 * range faults; an unbound range can be bound again; a binding keeps the
 * BO's memory after its handle is gone.  Expected bytes are the ones the
 * test wrote from the CPU.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define BO_SIZE		(64 * 1024)
#define PAGE		4096ull
#define CANARY		0x5a

FIXTURE(bind) {
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_rng rng;
	struct accel_bo *bo, *dst;
	void *bo_map, *dst_map;
	uint64_t va;		/* free VAs, far above the BOs' own */
};

FIXTURE_SETUP(bind)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&self->rng);
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, BO_SIZE, 0, &self->bo, &self->bo_map));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, BO_SIZE, 0, &self->dst, &self->dst_map));
	lt_rng_fill(&self->rng, self->bo_map, BO_SIZE);
	memset(self->dst_map, CANARY, BO_SIZE);
	self->va = self->info.va_start + (1ull << 36);
	ASSERT_LT(accel_bo_va(self->dst) + BO_SIZE, self->va);
}

FIXTURE_TEARDOWN(bind)
{
	accel_bo_free(self->dst);
	accel_bo_free(self->bo);
	if (self->dev)
		accel_close(self->dev);
}

static int raw_bind(struct accel_dev *dev, uint32_t handle, uint32_t flags, uint64_t va,
		    uint64_t offset, uint64_t size)
{
	struct drm_lumen_vm_bind args = {
		.handle = handle, .flags = flags, .va = va, .offset = offset, .size = size,
	};

	return lt_ioctl(accel_fd(dev), DRM_IOCTL_LUMEN_VM_BIND, &args);
}

static int raw_unbind(struct accel_dev *dev, uint64_t va, uint64_t size, uint32_t flags,
		      uint32_t pad)
{
	struct drm_lumen_vm_unbind args = {
		.va = va, .size = size, .flags = flags, .pad = pad,
	};

	return lt_ioctl(accel_fd(dev), DRM_IOCTL_LUMEN_VM_UNBIND, &args);
}

/* The device copies @size bytes at @va into dst; the job's result. */
static int read_va(FIXTURE_DATA(bind) *self, uint64_t va, uint64_t size)
{
	memset(self->dst_map, CANARY, BO_SIZE);
	return lt_copy_va(self->dev, 0, accel_bo_va(self->dst), va, size);
}

/* One FILL job of @size bytes at @va. */
static int fill_va(struct accel_dev *dev, uint64_t va, uint64_t size, uint64_t pattern)
{
	struct accel_cmdbuf *cb;
	int ret;

	ret = lt_cmdbuf_create(dev, &cb);
	if (ret)
		return ret;
	ret = accel_cmd_fill(cb, va, size, pattern);
	if (!ret)
		ret = lt_run_job(dev, 0, cb);
	accel_cmdbuf_free(cb);
	return ret;
}

struct bad_bind {
	const char *what;
	uint32_t flags;
	uint64_t va_delta;	/* added to the fixture's free VA ... */
	uint64_t va_abs;	/* ... or this VA, if non-zero ... */
	bool va_zero;		/* ... or VA 0 */
	uint64_t offset, size;
	int expected;
};

TEST_F(bind, bad_binds_fail_and_change_nothing)
{
	const uint64_t va = self->va, end = self->info.va_end;
	const uint64_t own = accel_bo_va(self->bo);
	const struct bad_bind cases[] = {
		{ "unknown flag", 1u << 1, 0, 0, false, 0, PAGE, -EINVAL },
		{ "all flags", ~0u, 0, 0, false, 0, PAGE, -EINVAL },
		{ "size 0", 0, 0, 0, false, 0, 0, -EINVAL },
		{ "size unaligned", 0, 0, 0, false, 0, PAGE + 1, -EINVAL },
		{ "offset unaligned", 0, 0, 0, false, 8, PAGE, -EINVAL },
		{ "va unaligned", 0, 16, 0, false, 0, PAGE, -EINVAL },
		{ "va 0", 0, 0, 0, true, 0, PAGE, -EINVAL },
		{ "va below va_start", 0, 0, self->info.va_start - PAGE, false, 0, PAGE, -EINVAL },
		{ "va at va_end", 0, 0, end, false, 0, PAGE, -EINVAL },
		{ "range past va_end", 0, 0, end - PAGE, false, 0, 2 * PAGE, -EINVAL },
		{ "va + size wraps", 0, 0, end - PAGE, false, 0, 0ull - PAGE, -EINVAL },
		{ "offset at BO end", 0, 0, 0, false, BO_SIZE, PAGE, -EINVAL },
		{ "range past BO end", 0, 0, 0, false, BO_SIZE - PAGE, 2 * PAGE, -EINVAL },
		{ "size beyond BO", 0, 0, 0, false, 0, BO_SIZE + PAGE, -EINVAL },
		{ "offset + size wraps", 0, 0, 0, false, 0ull - PAGE, 2 * PAGE, -EINVAL },
		{ "on the BO's own mapping", 0, 0, own, false, 0, PAGE, -EEXIST },
		{ "on the BO's guard page", 0, 0, own + BO_SIZE, false, 0, PAGE, -EEXIST },
		{ "overlapping a bind", 0, PAGE, 0, false, 0, 2 * PAGE, -EEXIST },
	};
	uint64_t page;
	size_t i;
	int ret;

	/* An existing bind of 2 pages at va + 2 pages, for the overlap case. */
	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, 2 * PAGE, va + 2 * PAGE, 0));

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_bind *c = &cases[i];
		uint64_t at = c->va_abs ? c->va_abs : va + c->va_delta;

		if (c->va_zero)
			at = 0;
		ret = raw_bind(self->dev, accel_bo_handle(self->bo), c->flags, at, c->offset,
			       c->size);
		EXPECT_EQ(c->expected, ret) TH_LOG("%s: %s", c->what, accel_strerror(ret));
	}
	ret = raw_bind(self->dev, 0xdeadbeef, 0, va, 0, PAGE);
	EXPECT_EQ(-ENOENT, ret) TH_LOG("unknown handle: %s", accel_strerror(ret));

	/* Unbind: bad flags, bad padding, nothing there, not the bind's extent. */
	EXPECT_EQ(-EINVAL, raw_unbind(self->dev, va + 2 * PAGE, 2 * PAGE, 1, 0));
	EXPECT_EQ(-EINVAL, raw_unbind(self->dev, va + 2 * PAGE, 2 * PAGE, 0, 1));
	EXPECT_EQ(-ENOENT, raw_unbind(self->dev, va, PAGE, 0, 0));
	EXPECT_EQ(-ENOENT, raw_unbind(self->dev, va + 2 * PAGE, PAGE, 0, 0));
	EXPECT_EQ(-ENOENT, raw_unbind(self->dev, va + 3 * PAGE, PAGE, 0, 0));
	EXPECT_EQ(-ENOENT, raw_unbind(self->dev, own, BO_SIZE, 0, 0));

	/* Nothing changed: the first two pages are still unmapped ... */
	EXPECT_EQ(-EFAULT, read_va(self, va, PAGE));
	EXPECT_EQ(-EFAULT, read_va(self, va + PAGE, PAGE));
	EXPECT_EQ(BO_SIZE, lt_find_not(self->dst_map, CANARY, BO_SIZE));
	/* ... the existing bind still maps the BO's first two pages ... */
	EXPECT_EQ(0, read_va(self, va + 2 * PAGE, 2 * PAGE));
	EXPECT_EQ(2 * PAGE, lt_mismatch(self->dst_map, self->bo_map, 2 * PAGE));
	/* ... and the BO's own mapping is intact. */
	EXPECT_EQ(0, read_va(self, own, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, self->bo_map, BO_SIZE));
	/* The free pages can still be bound. */
	page = va;
	EXPECT_EQ(0, accel_vm_bind(self->dev, self->bo, PAGE, 2 * PAGE, page, 0));
	EXPECT_EQ(-EEXIST, accel_vm_bind(self->dev, self->bo, 0, PAGE, page + PAGE, 0));
	/* A read-only BO binds read-only only. */
	{
		struct accel_bo *ro;

		ASSERT_EQ(0, accel_bo_create(self->dev, BO_SIZE, ACCEL_BO_READ_ONLY, &ro));
		EXPECT_EQ(-EACCES, accel_vm_bind(self->dev, ro, 0, PAGE, va + 8 * PAGE, 0));
		EXPECT_EQ(0, accel_vm_bind(self->dev, ro, 0, PAGE, va + 8 * PAGE,
					   ACCEL_VM_BIND_READ_ONLY));
		accel_bo_free(ro);
	}
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_F(bind, two_vas_show_the_same_bytes)
{
	const uint64_t va1 = self->va, va2 = self->va + (1ull << 30);
	uint64_t word;

	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, BO_SIZE, va1, 0));
	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, BO_SIZE, va2, 0));
	/* Both read the CPU's bytes. */
	ASSERT_EQ(0, read_va(self, va1, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, self->bo_map, BO_SIZE));
	ASSERT_EQ(0, read_va(self, va2, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, self->bo_map, BO_SIZE));
	/* A device write through one shows through the other and to the CPU. */
	ASSERT_EQ(0, fill_va(self->dev, va1 + PAGE, PAGE, 0x62696e6431ull));
	memcpy(&word, (char *)self->bo_map + PAGE + 8, sizeof(word));
	EXPECT_EQ(0x62696e6431ull, word);
	ASSERT_EQ(0, read_va(self, va2, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, self->bo_map, BO_SIZE));
}

TEST_F(bind, partial_bind_maps_exactly_its_pages)
{
	const uint64_t off = 4 * PAGE, size = 2 * PAGE, va = self->va;

	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, off, size, va, 0));
	ASSERT_EQ(0, read_va(self, va, size));
	EXPECT_EQ(size, lt_mismatch(self->dst_map, (char *)self->bo_map + off, size));
	EXPECT_EQ(BO_SIZE - size, lt_find_not((char *)self->dst_map + size, CANARY,
					      BO_SIZE - size));
	/* The page after and the page before are not mapped. */
	EXPECT_EQ(-EFAULT, read_va(self, va + size, PAGE));
	EXPECT_EQ(-EFAULT, read_va(self, va - PAGE, PAGE));
	EXPECT_EQ(BO_SIZE, lt_find_not(self->dst_map, CANARY, BO_SIZE));
}

/* The same with a device-memory BO: its bytes come from the system BO. */
TEST_F(bind, partial_bind_of_device_memory)
{
	const uint64_t off = 2 * PAGE, size = 3 * PAGE, va = self->va;
	struct accel_bo *dbo;

	ASSERT_EQ(0, accel_bo_create(self->dev, BO_SIZE, ACCEL_BO_DEVICE, &dbo));
	ASSERT_EQ(0, lt_copy_va(self->dev, 0, accel_bo_va(dbo), accel_bo_va(self->bo), BO_SIZE));
	ASSERT_EQ(0, accel_vm_bind(self->dev, dbo, off, size, va, 0));
	ASSERT_EQ(0, read_va(self, va, size));
	EXPECT_EQ(size, lt_mismatch(self->dst_map, (char *)self->bo_map + off, size));
	EXPECT_EQ(-EFAULT, read_va(self, va + size, PAGE));
	accel_bo_free(dbo);
}

TEST_F(bind, read_only_bind_faults_on_write)
{
	const uint64_t va = self->va;
	unsigned char before[BO_SIZE];

	memcpy(before, self->bo_map, BO_SIZE);
	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, BO_SIZE, va,
				   ACCEL_VM_BIND_READ_ONLY));
	EXPECT_EQ(-EFAULT, fill_va(self->dev, va, PAGE, 0));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->bo_map, before, BO_SIZE));
	/* Reading is allowed, and the BO's own mapping stays writable. */
	ASSERT_EQ(0, read_va(self, va, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, before, BO_SIZE));
	EXPECT_EQ(0, fill_va(self->dev, accel_bo_va(self->bo), PAGE, 0));
	EXPECT_EQ(PAGE, lt_find_not(self->bo_map, 0, PAGE));
}

TEST_F(bind, unbound_range_faults)
{
	const uint64_t va = self->va;

	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, BO_SIZE, va, 0));
	ASSERT_EQ(0, read_va(self, va, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, self->bo_map, BO_SIZE));
	ASSERT_EQ(0, accel_vm_unbind(self->dev, va, BO_SIZE));
	EXPECT_EQ(-EFAULT, read_va(self, va, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_find_not(self->dst_map, CANARY, BO_SIZE));
	EXPECT_EQ(-ENOENT, accel_vm_unbind(self->dev, va, BO_SIZE));
}

/*
 * No job of the file ran since the bind, so the unbind frees the range at
 * once and the same VA can be bound again, here to other pages.
 */
TEST_F(bind, bind_after_unbind_reuses_the_va)
{
	const uint64_t va = self->va;

	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, PAGE, va, 0));
	ASSERT_EQ(0, accel_vm_unbind(self->dev, va, PAGE));
	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 3 * PAGE, PAGE, va, 0));
	ASSERT_EQ(0, read_va(self, va, PAGE));
	EXPECT_EQ(PAGE, lt_mismatch(self->dst_map, (char *)self->bo_map + 3 * PAGE, PAGE));
}

/* A binding holds the BO: its memory stays reachable after the handle goes. */
TEST_F(bind, binding_outlives_the_handle)
{
	const uint64_t va = self->va;
	unsigned char before[BO_SIZE];

	memcpy(before, self->bo_map, BO_SIZE);
	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, BO_SIZE, va, 0));
	accel_bo_free(self->bo);
	self->bo = NULL;
	ASSERT_EQ(0, read_va(self, va, BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, before, BO_SIZE));
}

/* ---- Partial unbind ------------------------------------------------------ */

/*
 * VM_UNBIND removes exactly one binding, named by its va and size.  Any
 * other range -- part of a binding, two adjacent bindings at once, an
 * unaligned or overflowing range, nothing mapped -- is -ENOENT, and every
 * binding keeps mapping what it mapped.
 */
TEST_F(bind, partial_unbind_is_refused_and_changes_nothing)
{
	const uint64_t va = self->va;
	const struct {
		const char *what;
		uint64_t va, size;
	} cases[] = {
		{ "first page of a binding", va, PAGE },
		{ "last page of a binding", va + 3 * PAGE, PAGE },
		{ "middle of a binding", va + PAGE, 2 * PAGE },
		{ "binding's va, longer", va, 5 * PAGE },
		{ "straddling two bindings", va + 2 * PAGE, 4 * PAGE },
		{ "both bindings exactly", va, 8 * PAGE },
		{ "va unaligned", va + 1, 4 * PAGE },
		{ "size unaligned", va, 4 * PAGE + 1 },
		{ "size 0", va, 0 },
		{ "va + size overflows", va, 0ull - PAGE },
		{ "va near the top, overflowing", 0ull - PAGE, 2 * PAGE },
		{ "not mapped", va + 64 * PAGE, PAGE },
		{ "the BO's own mapping", accel_bo_va(self->bo), BO_SIZE },
	};
	size_t i;

	/* Two adjacent bindings: BO pages 0..3 at va, pages 4..7 at va + 4 pages. */
	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 0, 4 * PAGE, va, 0));
	ASSERT_EQ(0, accel_vm_bind(self->dev, self->bo, 4 * PAGE, 4 * PAGE, va + 4 * PAGE, 0));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int ret = raw_unbind(self->dev, cases[i].va, cases[i].size, 0, 0);

		EXPECT_EQ(-ENOENT, ret) TH_LOG("%s: %s", cases[i].what, accel_strerror(ret));
	}
	/* Both bindings still map all of their pages, the BO's own mapping too. */
	ASSERT_EQ(0, read_va(self, va, 8 * PAGE));
	EXPECT_EQ(8 * PAGE, lt_mismatch(self->dst_map, self->bo_map, 8 * PAGE));
	ASSERT_EQ(0, read_va(self, accel_bo_va(self->bo), BO_SIZE));
	EXPECT_EQ(BO_SIZE, lt_mismatch(self->dst_map, self->bo_map, BO_SIZE));
	/* The exact ranges unbind, each only its own pages. */
	ASSERT_EQ(0, accel_vm_unbind(self->dev, va + 4 * PAGE, 4 * PAGE));
	EXPECT_EQ(-EFAULT, read_va(self, va + 4 * PAGE, PAGE));
	ASSERT_EQ(0, read_va(self, va, 4 * PAGE));
	EXPECT_EQ(4 * PAGE, lt_mismatch(self->dst_map, self->bo_map, 4 * PAGE));
	ASSERT_EQ(0, accel_vm_unbind(self->dev, va, 4 * PAGE));
	EXPECT_EQ(-EFAULT, read_va(self, va, PAGE));
}

/* ---- Page-table accounting ----------------------------------------------- */

/* A numeric key of /proc/self/fdinfo/@fd: 0, or -ENOENT without it. */
static int fdinfo_u64(int fd, const char *key, uint64_t *val)
{
	char path[64], line[256];
	size_t len = strlen(key);
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			*val = strtoull(line + len + 1, NULL, 10);
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* The device's pt_bytes in sysfs (the device of @info.path). */
static int sysfs_pt_bytes(const struct accel_info *info, uint64_t *val)
{
	const char *node = strrchr(info->path, '/');
	char path[128];
	FILE *f;
	int ok;

	if (!node)
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/class/accel%s/device/lumen/pt_bytes", node);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%" SCNu64, val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

#define PT_KEY		"drm-lumen-pt-bytes"
#define CHUNK		(32ull << 20)
#define GIB		(1ull << 30)

/*
 * Mapping 1 GiB at a VA no table covers yet costs exactly 512 leaf
 * tables, one level-1 table and (in a fresh 512 GiB slot) one level-2
 * table, 4 KiB each; fdinfo and the device's sysfs total grow by that.
 * Tables stay while the file is open (unbinding and binding again adds
 * none) and all go when it is closed: the device total returns to what it
 * was before the file was opened.
 */
TEST_F_TIMEOUT(bind, page_tables_are_counted_and_freed, 300)
{
	const uint64_t base = 1ull << 40;	/* level-2 slot 2: never used by BO VAs */
	const uint64_t want = (512 + 1 + 1) * PAGE;
	uint64_t dev_before, dev_open, dev_mapped, dev_after;
	uint64_t pt_before, pt_mapped, pt_unmapped, pt_again;
	struct accel_dev *dev;
	struct accel_bo *bo;
	uint64_t off;
	int fd;

	ASSERT_GT(self->info.va_end, base + GIB);
	ASSERT_EQ(0, sysfs_pt_bytes(&self->info, &dev_before));
	ASSERT_EQ(0, accel_open_path(self->info.path, &dev));
	fd = accel_fd(dev);
	ASSERT_EQ(0, fdinfo_u64(fd, PT_KEY, &pt_before));
	/* A new file has its root table, one page. */
	EXPECT_EQ(PAGE, pt_before);
	ASSERT_EQ(0, sysfs_pt_bytes(&self->info, &dev_open));
	EXPECT_EQ(dev_before + PAGE, dev_open);

	/* One 32 MiB BO (its own mapping adds tables too: baseline after it). */
	ASSERT_EQ(0, accel_bo_create(dev, CHUNK, 0, &bo));
	ASSERT_EQ(0, fdinfo_u64(fd, PT_KEY, &pt_before));
	ASSERT_EQ(0, sysfs_pt_bytes(&self->info, &dev_open));
	for (off = 0; off < GIB; off += CHUNK)
		ASSERT_EQ(0, accel_vm_bind(dev, bo, 0, CHUNK, base + off, 0));
	ASSERT_EQ(0, fdinfo_u64(fd, PT_KEY, &pt_mapped));
	EXPECT_EQ(want, pt_mapped - pt_before)
		TH_LOG("1 GiB mapped: %llu page-table bytes",
		       (unsigned long long)(pt_mapped - pt_before));
	ASSERT_EQ(0, sysfs_pt_bytes(&self->info, &dev_mapped));
	EXPECT_EQ(want, dev_mapped - dev_open);

	/* The mappings work: the last chunk reads the BO's bytes (zeroes). */
	ASSERT_EQ(0, lt_copy_va(dev, 0, base + GIB - CHUNK, base, PAGE));
	/* The job's command buffer is a BO too, mapped low: count again. */
	ASSERT_EQ(0, fdinfo_u64(fd, PT_KEY, &pt_mapped));

	/* Tables stay for the file's lifetime, and are reused. */
	for (off = 0; off < GIB; off += CHUNK)
		ASSERT_EQ(0, accel_vm_unbind(dev, base + off, CHUNK));
	ASSERT_EQ(0, fdinfo_u64(fd, PT_KEY, &pt_unmapped));
	EXPECT_EQ(pt_mapped, pt_unmapped);
	for (off = 0; off < GIB; off += CHUNK)
		ASSERT_EQ(0, accel_vm_bind(dev, bo, 0, CHUNK, base + off, 0));
	ASSERT_EQ(0, fdinfo_u64(fd, PT_KEY, &pt_again));
	EXPECT_EQ(pt_mapped, pt_again);

	/* Closing the file frees every table it had. */
	accel_bo_free(bo);
	accel_close(dev);
	/*
	 * The copy job holds the VM until the scheduler frees it, which may
	 * happen just after its fence signalled: give it a few seconds.
	 */
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(0, sysfs_pt_bytes(&self->info, &dev_after));
		if (dev_after == dev_before)
			break;
		usleep(10000);
	}
	EXPECT_EQ(dev_before, dev_after);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

TEST_HARNESS_MAIN
