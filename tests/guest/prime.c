// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Buffer sharing through dma-bufs (PRIME).  A vgem buffer imported into a
 * lumen file is mapped into that file's device address space: a COPY job
 * reads what the CPU wrote through vgem's own mapping and writes what the
 * CPU then reads back there, byte for byte.  A lumen BO exported and
 * imported back into the same file is the same object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"
#include "vgem.h"

FIXTURE(prime) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
	struct lt_rng rng;
};

FIXTURE_SETUP(prime)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
	LT_SEED(&self->rng);
}

FIXTURE_TEARDOWN(prime)
{
	if (self->dev)
		accel_close(self->dev);
}

/* Imports a vgem buffer of @pages pages, or SKIPs without vgem. */
#define VGEM_OR_SKIP(vb, pages) do {					\
	int __ret = vgem_buffer_create((vb), (pages));			\
	if (__ret == -ENODEV)						\
		SKIP(return, "vgem is not available");			\
	ASSERT_EQ(0, __ret) TH_LOG("vgem buffer: %s", accel_strerror(__ret)); \
} while (0)

TEST_F_TIMEOUT(prime, vgem_buffer_through_its_va, 120)
{
	static const uint64_t pages[] = { 1, 3, 256 };
	size_t p;

	for (p = 0; p < ARRAY_SIZE(pages); p++) {
		struct accel_bo *imported, *sys, *dev;
		void *sys_map, *unused;
		struct vgem_buffer vb;
		unsigned char *want;
		uint64_t size;

		VGEM_OR_SKIP(&vb, pages[p]);
		size = vb.size;
		ASSERT_EQ(0, accel_bo_import(self->dev, vb.dmabuf_fd, &imported));
		EXPECT_EQ(size, accel_bo_size(imported));
		EXPECT_EQ(0, accel_bo_va(imported) % 4096);
		EXPECT_LE(self->info.va_start, accel_bo_va(imported));
		EXPECT_GE(self->info.va_end, accel_bo_va(imported) + size);

		ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, 0, &sys, &sys_map));
		ASSERT_EQ(0, lt_bo_create_mapped(self->dev, size, ACCEL_BO_DEVICE,
						 &dev, &unused));
		want = malloc(size);
		ASSERT_NE(NULL, want);

		/* The CPU writes through vgem; the device reads the VA. */
		lt_rng_fill(&self->rng, want, size);
		memcpy(vb.map, want, size);
		ASSERT_EQ(0, lt_copy(self->dev, 0, sys, 0, imported, 0, size));
		EXPECT_EQ(size, lt_mismatch(sys_map, want, size))
			TH_LOG("%llu pages: the device read other data",
			       (unsigned long long)pages[p]);

		/* The device writes the VA (from device memory); the CPU reads vgem. */
		lt_rng_fill(&self->rng, want, size);
		memcpy(sys_map, want, size);
		ASSERT_EQ(0, lt_copy(self->dev, 0, dev, 0, sys, 0, size));
		ASSERT_EQ(0, lt_copy(self->dev, 0, imported, 0, dev, 0, size));
		EXPECT_EQ(size, lt_mismatch(vb.map, want, size))
			TH_LOG("%llu pages: vgem's mapping does not show the device's writes",
			       (unsigned long long)pages[p]);

		free(want);
		accel_bo_free(dev);
		accel_bo_free(sys);
		accel_bo_free(imported);
		vgem_buffer_destroy(&vb);
	}
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* The import's mapping ends with it: its VA faults once it is freed. */
TEST_F(prime, freed_import_is_unmapped)
{
	struct accel_bo *imported, *sys;
	struct vgem_buffer vb;
	void *sys_map;
	uint64_t va;

	VGEM_OR_SKIP(&vb, 1);
	ASSERT_EQ(0, accel_bo_import(self->dev, vb.dmabuf_fd, &imported));
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 4096, 0, &sys, &sys_map));
	va = accel_bo_va(imported);
	accel_bo_free(imported);
	EXPECT_EQ(-EFAULT, lt_copy_va(self->dev, 0, accel_bo_va(sys), va, 8));
	accel_bo_free(sys);
	vgem_buffer_destroy(&vb);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* A system BO exported as a dma-buf and imported back is the same BO. */
TEST_F(prime, export_and_import_back)
{
	struct drm_lumen_bo_info info = { 0 };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct accel_bo *bo;
	void *map;
	int fd;

	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, 4096, 0, &bo, &map));
	ASSERT_EQ(0, accel_bo_export(bo, &fd));
	prime.fd = fd;
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	EXPECT_EQ(accel_bo_handle(bo), prime.handle);
	/* BO_INFO tells what BO_CREATE said. */
	info.handle = prime.handle;
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &info));
	EXPECT_EQ(accel_bo_va(bo), info.va);
	EXPECT_EQ(accel_bo_size(bo), info.size);
	EXPECT_EQ(0, info.flags);
	close(fd);
	accel_bo_free(bo);
}

/* BO_INFO refuses what it cannot answer, and outputs set on input. */
TEST_F(prime, bo_info_bad_input)
{
	struct accel_bo *bo;
	const uint32_t none = 0x7fffff00u;
	size_t i;

	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, ACCEL_BO_READ_ONLY, &bo));
	const struct {
		const char *name;
		struct drm_lumen_bo_info in;
		int err;
	} cases[] = {
		{ "handle 0", { .handle = 0 }, -ENOENT },
		{ "unknown handle", { .handle = none }, -ENOENT },
		{ "flags set", { .handle = accel_bo_handle(bo), .flags = 1 }, -EINVAL },
		{ "size set", { .handle = accel_bo_handle(bo), .size = 1 }, -EINVAL },
		{ "va set", { .handle = accel_bo_handle(bo), .va = 4096 }, -EINVAL },
	};
	struct drm_lumen_bo_info good = { .handle = accel_bo_handle(bo) };

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct drm_lumen_bo_info in = cases[i].in;

		EXPECT_EQ(cases[i].err, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &in))
			TH_LOG("BO_INFO: %s", cases[i].name);
	}
	EXPECT_EQ(-EFAULT, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, lt_bad_pointer()));
	ASSERT_EQ(0, lt_ioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &good));
	EXPECT_EQ(DRM_LUMEN_BO_READ_ONLY, good.flags);
	EXPECT_EQ(accel_bo_va(bo), good.va);
	EXPECT_EQ(4096, good.size);
	accel_bo_free(bo);
	LT_ASSERT_DEVICE_WORKS(self->dev);
}

/* ---- Two lumen devices ---------------------------------------------------- */

#define SHARE_SIZE	(64 * 1024 + 4096)

/*
 * Opens two distinct lumen devices, or SKIPs with the reason: the guest
 * suite boots with one device unless tools/vm/lumen-vm runs it with
 * --devices 2.
 */
#define TWO_DEVICES_OR_SKIP(a, b) do {					\
	int __idx[2], __n = accel_list(__idx, 2);			\
	ASSERT_LE(0, __n);						\
	if (__n < 2)							\
		SKIP(return, "%d lumen device(s): sharing between two devices needs " \
		     "a machine with two (lumen-vm --devices 2)", __n);	\
	ASSERT_EQ(0, accel_open(__idx[0], (a)));			\
	ASSERT_EQ(0, accel_open(__idx[1], (b)));			\
} while (0)

/*
 * A system BO of one device, exported and imported into the other: a COPY
 * job of the importing device reads what the CPU wrote through the
 * exporter's mapping, and what it writes into the import shows in the
 * exporter's mapping.  Both directions, cached and write-combined.
 */
TEST_F_TIMEOUT(prime, two_devices_share_a_buffer, 180)
{
	static const uint32_t kinds[] = { 0, ACCEL_BO_WC };
	struct accel_dev *devs[2];
	size_t dir, k;

	TWO_DEVICES_OR_SKIP(&devs[0], &devs[1]);
	for (dir = 0; dir < 2; dir++) {
		struct accel_dev *exp = devs[dir], *imp = devs[!dir];

		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			struct accel_bo *bo, *imported, *scratch;
			void *map, *scratch_map;
			unsigned char *want = malloc(SHARE_SIZE);
			int fd;

			ASSERT_NE(NULL, want);
			ASSERT_EQ(0, accel_bo_create(exp, SHARE_SIZE, kinds[k], &bo));
			ASSERT_EQ(0, accel_bo_map(bo, &map));
			ASSERT_EQ(0, accel_bo_export(bo, &fd));
			ASSERT_EQ(0, accel_bo_import(imp, fd, &imported));
			close(fd);
			EXPECT_EQ(SHARE_SIZE, accel_bo_size(imported));
			ASSERT_EQ(0, lt_bo_create_mapped(imp, SHARE_SIZE, 0, &scratch,
							 &scratch_map));

			/* The exporter's CPU writes, the importer's device reads. */
			lt_rng_fill(&self->rng, want, SHARE_SIZE);
			memcpy(map, want, SHARE_SIZE);
			ASSERT_EQ(0, lt_copy(imp, 0, scratch, 0, imported, 0, SHARE_SIZE));
			EXPECT_EQ(SHARE_SIZE, lt_mismatch(scratch_map, want, SHARE_SIZE))
				TH_LOG("device %zu read other bytes than device %zu's CPU wrote",
				       !dir, dir);

			/* The importer's device writes, the exporter's CPU reads. */
			lt_rng_fill(&self->rng, want, SHARE_SIZE);
			memcpy(scratch_map, want, SHARE_SIZE);
			ASSERT_EQ(0, lt_copy(imp, 0, imported, 0, scratch, 0, SHARE_SIZE));
			EXPECT_EQ(SHARE_SIZE, lt_mismatch(map, want, SHARE_SIZE))
				TH_LOG("device %zu's mapping misses device %zu's writes",
				       dir, !dir);

			/* The exporting device sees the same bytes through its own VA. */
			{
				struct accel_bo *mine;
				void *mine_map;

				ASSERT_EQ(0, lt_bo_create_mapped(exp, SHARE_SIZE, 0, &mine,
								 &mine_map));
				ASSERT_EQ(0, lt_copy(exp, 0, mine, 0, bo, 0, SHARE_SIZE));
				EXPECT_EQ(SHARE_SIZE,
					  lt_mismatch(mine_map, want, SHARE_SIZE));
				accel_bo_free(mine);
			}
			accel_bo_free(scratch);
			accel_bo_free(imported);
			accel_bo_free(bo);
			free(want);
		}
		LT_ASSERT_DEVICE_WORKS(exp);
		LT_ASSERT_DEVICE_WORKS(imp);
	}
	accel_close(devs[1]);
	accel_close(devs[0]);
}

/*
 * The import keeps the exporter's buffer alive: with the exporting file
 * closed (its BO, mapping, dma-buf fd and file all gone), the importing
 * device still reads and writes the buffer and gets its bytes back.
 */
TEST_F_TIMEOUT(prime, import_outlives_the_exporting_file, 180)
{
	struct accel_bo *bo, *imported, *scratch, *back;
	void *map, *scratch_map, *back_map;
	struct accel_dev *exp, *imp;
	unsigned char *want = malloc(SHARE_SIZE);
	int fd;

	ASSERT_NE(NULL, want);
	TWO_DEVICES_OR_SKIP(&exp, &imp);
	ASSERT_EQ(0, accel_bo_create(exp, SHARE_SIZE, 0, &bo));
	ASSERT_EQ(0, accel_bo_map(bo, &map));
	lt_rng_fill(&self->rng, want, SHARE_SIZE);
	memcpy(map, want, SHARE_SIZE);
	ASSERT_EQ(0, accel_bo_export(bo, &fd));
	ASSERT_EQ(0, accel_bo_import(imp, fd, &imported));
	close(fd);
	accel_bo_free(bo);
	accel_close(exp);

	ASSERT_EQ(0, lt_bo_create_mapped(imp, SHARE_SIZE, 0, &scratch, &scratch_map));
	ASSERT_EQ(0, lt_bo_create_mapped(imp, SHARE_SIZE, 0, &back, &back_map));
	ASSERT_EQ(0, lt_copy(imp, 0, scratch, 0, imported, 0, SHARE_SIZE));
	EXPECT_EQ(SHARE_SIZE, lt_mismatch(scratch_map, want, SHARE_SIZE))
		TH_LOG("the buffer lost its bytes with the exporting file");
	lt_rng_fill(&self->rng, want, SHARE_SIZE);
	memcpy(scratch_map, want, SHARE_SIZE);
	ASSERT_EQ(0, lt_copy(imp, 0, imported, 0, scratch, 0, SHARE_SIZE));
	ASSERT_EQ(0, lt_copy(imp, 0, back, 0, imported, 0, SHARE_SIZE));
	EXPECT_EQ(SHARE_SIZE, lt_mismatch(back_map, want, SHARE_SIZE));
	accel_bo_free(back);
	accel_bo_free(scratch);
	accel_bo_free(imported);
	LT_ASSERT_DEVICE_WORKS(imp);
	accel_close(imp);
	free(want);
}

TEST_HARNESS_MAIN
