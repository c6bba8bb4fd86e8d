// SPDX-License-Identifier: MIT
/*
 * Devices, BOs, fences and submission without a device: what libaccel
 * refuses before any ioctl, and how it treats nodes that are not lumen's.
 *
 * These run on the build host, which has no lumen device.  Each group of
 * -EINVAL checks ends with a call whose arguments are valid: on a fake
 * device it must reach the kernel and fail with -EBADF, which shows that
 * the -EINVALs before it came from libaccel's own checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <drm.h>

#include "kselftest_harness.h"

#include "fake.h"

/*
 * Kills the (forked) test process if it opens any file for writing or
 * sends DRM_IOCTL_VERSION anywhere: libaccel must neither open nor send a
 * DRM ioctl to a node that is not an accel node.  (It opens nodes O_RDWR;
 * opendir() and the like only read.)
 */
static int forbid_touching_nodes(void)
{
	/* Jump offsets count the instructions skipped; [n] marks targets. */
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 13),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, O_ACCMODE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_RDONLY, 8, 7),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 0, 3),		/* [7] */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, O_ACCMODE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_RDONLY, 4, 3),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),		/* [11] */
		/* The low half of the request (x86-64 is little-endian). */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)DRM_IOCTL_VERSION, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),		/* [14] */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),			/* [15] */
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return -errno;
	return 0;
}

/* The filter itself must work, or the tests using it prove nothing. */
TEST_SIGNAL(forbid_touching_nodes_works, SIGSYS)
{
	ASSERT_EQ(0, forbid_touching_nodes());
	open("/dev/null", O_RDWR);
}

/* ---- Opening ------------------------------------------------------------- */

TEST(open_null_arguments)
{
	struct accel_dev *dev = NULL;

	EXPECT_EQ(-EINVAL, accel_open_path(NULL, &dev));
	EXPECT_EQ(-EINVAL, accel_open_path("/dev/null", NULL));
	EXPECT_EQ(-EINVAL, accel_open(0, NULL));
	EXPECT_EQ(-EINVAL, accel_open(-1, &dev));
	EXPECT_EQ(-EINVAL, accel_open(INT_MIN, &dev));
	EXPECT_NULL(dev);
}

/* A character device of another kind: refused without even opening it. */
TEST(open_dev_null_is_enodev)
{
	struct accel_dev *dev = NULL;

	ASSERT_EQ(0, forbid_touching_nodes());
	EXPECT_EQ(-ENODEV, accel_open_path("/dev/null", &dev));
	EXPECT_NULL(dev);
}

TEST(open_regular_file_is_enodev)
{
	char path[] = "/tmp/libaccel-test-XXXXXX";
	struct accel_dev *dev = NULL;
	int fd;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, forbid_touching_nodes());
	EXPECT_EQ(-ENODEV, accel_open_path(path, &dev));
	EXPECT_NULL(dev);
	unlink(path);
}

/* stat(2) failures come back as they are; a directory is no accel node. */
TEST(open_errors)
{
	struct accel_dev *dev = NULL;

	EXPECT_EQ(-ENOENT, accel_open_path("/nonexistent/lumen/accel0", &dev));
	EXPECT_EQ(-ENOTDIR, accel_open_path("/dev/null/accel0", &dev));
	EXPECT_EQ(-ENODEV, accel_open_path("/", &dev));
	EXPECT_NULL(dev);
}

/* accel_open(N) opens /dev/accel/accelN: absent on the host, or not lumen. */
TEST(open_index_without_device)
{
	struct accel_dev *dev = NULL;
	struct stat st;
	int expected;

	expected = stat("/dev/accel/accel0", &st) ? -ENOENT : -ENODEV;
	EXPECT_EQ(expected, accel_open(0, &dev));
	EXPECT_EQ(-ENOENT, accel_open(INT_MAX, &dev));
	EXPECT_NULL(dev);
}

/* ---- Listing ------------------------------------------------------------- */

TEST(list_arguments)
{
	int indices[4];

	EXPECT_EQ(-EINVAL, accel_list(indices, -1));
	EXPECT_EQ(-EINVAL, accel_list(NULL, 1));
	EXPECT_EQ(-EINVAL, libaccel_list_dir(NULL, indices, 4));
}

/* The build host has no lumen device. */
TEST(list_no_devices)
{
	int indices[ACCEL_MAX_DEVICES];

	EXPECT_EQ(0, accel_list(indices, ACCEL_MAX_DEVICES));
	EXPECT_EQ(0, accel_list(NULL, 0));
}

TEST(list_missing_directory)
{
	int indices[4];

	EXPECT_EQ(0, libaccel_list_dir("/nonexistent/lumen", indices, 4));
}

TEST(list_not_a_directory)
{
	int indices[4];

	EXPECT_EQ(-ENOTDIR, libaccel_list_dir("/dev/null", indices, 4));
}

/*
 * Entries that look like accel nodes but are not lumen devices: a regular
 * file, another character device, a directory, and names that are not
 * accelN at all.  None may be counted, and none may be written.
 */
TEST(list_ignores_decoys)
{
	char dir[] = "/tmp/libaccel-list-XXXXXX";
	const char *files[] = { "accel0", "accel", "accel01", "accel1x", "card0" };
	int indices[4] = { -7, -7, -7, -7 };
	char path[PATH_MAX];
	int fd;

	ASSERT_NE(NULL, mkdtemp(dir));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		fd = open(path, O_CREAT | O_WRONLY, 0600);
		ASSERT_LE(0, fd);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/accel1", dir);
	ASSERT_EQ(0, symlink("/dev/null", path));
	snprintf(path, sizeof(path), "%s/accel2", dir);
	ASSERT_EQ(0, mkdir(path, 0700));

	ASSERT_EQ(0, forbid_touching_nodes());
	EXPECT_EQ(0, libaccel_list_dir(dir, indices, 4));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(-7, indices[i]);

	rmdir(path);
	snprintf(path, sizeof(path), "%s/accel1", dir);
	unlink(path);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* ---- Device calls --------------------------------------------------------- */

TEST(device_null_arguments)
{
	struct accel_dev dev = fake_dev();
	struct accel_info info;

	EXPECT_EQ(-EINVAL, accel_fd(NULL));
	EXPECT_EQ(FAKE_FD, accel_fd(&dev));
	EXPECT_EQ(-EINVAL, accel_query(NULL, &info));
	EXPECT_EQ(-EINVAL, accel_query(&dev, NULL));
	EXPECT_EQ(-EBADF, accel_query(&dev, &info));
	accel_close(NULL);
}

/* ---- Buffer objects ------------------------------------------------------- */

TEST(bo_create_arguments)
{
	struct accel_dev dev = fake_dev();
	struct accel_bo *bo = NULL;

	EXPECT_EQ(-EINVAL, accel_bo_create(NULL, 4096, 0, &bo));
	EXPECT_EQ(-EINVAL, accel_bo_create(&dev, 0, 0, &bo));
	EXPECT_EQ(-EINVAL, accel_bo_create(&dev, 0, ACCEL_BO_DEVICE, &bo));
	EXPECT_EQ(-EINVAL, accel_bo_create(&dev, 4096, 1u << 3, &bo));
	EXPECT_EQ(-EINVAL, accel_bo_create(&dev, 4096, 1u << 31, &bo));
	EXPECT_EQ(-EINVAL, accel_bo_create(&dev, 4096, 0, NULL));
	EXPECT_NULL(bo);
	EXPECT_EQ(-EBADF, accel_bo_create(&dev, 4096, ACCEL_BO_DEVICE, &bo));
	EXPECT_EQ(-EBADF, accel_bo_create(&dev, 1, 0, &bo));
	EXPECT_EQ(-EBADF, accel_bo_create(&dev, 1, ACCEL_BO_READ_ONLY, &bo));
	EXPECT_EQ(-EBADF, accel_bo_create(&dev, 1,
					  ACCEL_BO_DEVICE | ACCEL_BO_READ_ONLY, &bo));
	EXPECT_NULL(bo);
}

TEST(bo_accessors)
{
	struct accel_dev dev = fake_dev();
	struct accel_bo bo = fake_bo_at(&dev, 42, 8192, 0x123456789000ull);

	EXPECT_EQ(42, accel_bo_handle(&bo));
	EXPECT_EQ(8192, accel_bo_size(&bo));
	EXPECT_EQ(0x123456789000ull, accel_bo_va(&bo));
	EXPECT_EQ(0, accel_bo_handle(NULL));
	EXPECT_EQ(0, accel_bo_size(NULL));
	EXPECT_EQ(0, accel_bo_va(NULL));
	accel_bo_free(NULL);
}

TEST(bo_map_arguments)
{
	struct accel_dev dev = fake_dev();
	struct accel_bo bo = fake_bo(&dev, 42, 8192);
	void *ptr = &dev;

	EXPECT_EQ(-EINVAL, accel_bo_map(NULL, &ptr));
	EXPECT_EQ(-EINVAL, accel_bo_map(&bo, NULL));
	EXPECT_EQ(-EINVAL, accel_bo_unmap(NULL));
	/* Not mapped: unmapping does nothing. */
	EXPECT_EQ(0, accel_bo_unmap(&bo));
	EXPECT_EQ(-EBADF, accel_bo_map(&bo, &ptr));
	/* Failures leave the output alone. */
	EXPECT_EQ((void *)&dev, ptr);
}

/* The flag values are the uAPI's, which the driver checks. */
TEST(bo_flags_are_uapi)
{
	EXPECT_EQ(DRM_LUMEN_BO_DEVICE, ACCEL_BO_DEVICE);
	EXPECT_EQ(DRM_LUMEN_BO_READ_ONLY, ACCEL_BO_READ_ONLY);
	EXPECT_EQ(DRM_LUMEN_BO_WC, ACCEL_BO_WC);
}

/* ---- Command buffers ------------------------------------------------------ */

TEST(cmdbuf_create_arguments)
{
	struct accel_dev dev = fake_dev();
	struct accel_cmdbuf *cb = NULL;

	EXPECT_EQ(-EINVAL, accel_cmdbuf_create(NULL, 4096, &cb));
	EXPECT_EQ(-EINVAL, accel_cmdbuf_create(&dev, 0, &cb));
	EXPECT_EQ(-EINVAL, accel_cmdbuf_create(&dev, 63, &cb));
	EXPECT_EQ(-EINVAL, accel_cmdbuf_create(&dev, 4096, NULL));
	/* Past the checks, the query is the first ioctl. */
	EXPECT_EQ(-EBADF, accel_cmdbuf_create(&dev, 64, &cb));
	EXPECT_NULL(cb);
	accel_cmdbuf_free(NULL);
}

/* ---- Fences and submission ------------------------------------------------ */

TEST(fence_arguments)
{
	struct accel_dev dev = fake_dev();
	struct accel_fence fence = fake_fence(&dev, 5);
	struct accel_fence *out = NULL;

	EXPECT_EQ(-EINVAL, accel_fence_create(NULL, &out));
	EXPECT_EQ(-EINVAL, accel_fence_create(&dev, NULL));
	EXPECT_EQ(-EBADF, accel_fence_create(&dev, &out));
	EXPECT_NULL(out);
	EXPECT_EQ(5, accel_fence_syncobj(&fence));
	EXPECT_EQ(0, accel_fence_syncobj(NULL));
	EXPECT_EQ(-EINVAL, accel_fence_wait(NULL, 0));
	EXPECT_EQ(-EINVAL, accel_fence_wait(NULL, -1));
	EXPECT_EQ(-EBADF, accel_fence_wait(&fence, 0));
	EXPECT_EQ(-EBADF, accel_fence_wait(&fence, -1));
	EXPECT_EQ(-EBADF, accel_fence_wait(&fence, INT64_MAX));
	EXPECT_EQ(-EINVAL, accel_fence_status(NULL));
	EXPECT_EQ(-EBADF, accel_fence_status(&fence));
	accel_fence_free(NULL);
}

#define SUBMIT_VA	0x100000ull

FIXTURE(submit) {
	struct accel_dev dev, other;
	struct accel_bo cb_bo, bo, bo2, foreign_bo;
	struct accel_fence fence, foreign_fence;
	struct accel_cmdbuf cb, plain;
	uint64_t mem[512], plain_mem[512];
};

FIXTURE_SETUP(submit)
{
	self->dev = fake_dev();
	self->other = fake_dev();
	self->cb_bo = fake_bo_at(&self->dev, 1, sizeof(self->mem), SUBMIT_VA);
	self->bo = fake_bo_at(&self->dev, 2, 4096, 2 * SUBMIT_VA);
	self->bo2 = fake_bo_at(&self->dev, 3, 4096, 3 * SUBMIT_VA);
	self->foreign_bo = fake_bo_at(&self->other, 2, 4096, 2 * SUBMIT_VA);
	self->fence = fake_fence(&self->dev, 1);
	self->foreign_fence = fake_fence(&self->other, 1);
	fake_cmdbuf(&self->cb, &self->dev, &self->cb_bo, self->mem,
		    sizeof(self->mem), SUBMIT_VA, sizeof(self->mem));
	/* Over plain memory, without a BO: nothing the driver could run. */
	fake_cmdbuf(&self->plain, &self->dev, NULL, self->plain_mem,
		    sizeof(self->plain_mem), SUBMIT_VA, sizeof(self->plain_mem));
}

FIXTURE_TEARDOWN(submit)
{
}

TEST_F(submit, null_arguments)
{
	const struct accel_bo *bos[] = { &self->bo, NULL };

	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-EINVAL, accel_submit(NULL, 0, &self->cb, NULL, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, NULL, NULL, 0, NULL, NULL));
	/* A count without an array, a NULL entry. */
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, NULL, 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, bos, 2, NULL, NULL));
	/* Reaching the ioctl: -EBADF from the fake file. */
	EXPECT_EQ(-EBADF, accel_submit(&self->dev, 0, &self->cb, NULL, 0, NULL, NULL));
	EXPECT_EQ(-EBADF, accel_submit(&self->dev, 0, &self->cb, bos, 1, NULL, NULL));
	EXPECT_EQ(-EBADF, accel_submit(&self->dev, 0, &self->cb, NULL, 0,
				       &self->fence, &self->fence));
}

TEST_F(submit, empty_cmdbuf)
{
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, NULL, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, NULL, 0,
					&self->fence, &self->fence));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	accel_cmdbuf_reset(&self->cb);
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, NULL, 0, NULL, NULL));
}

/* A command buffer that is not in a BO has no VA the driver knows. */
TEST_F(submit, cmdbuf_without_bo)
{
	ASSERT_EQ(0, accel_cmd_nop(&self->plain));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->plain, NULL, 0, NULL, NULL));
}

/* Handles of one file are never sent on another. */
TEST_F(submit, objects_of_another_device)
{
	const struct accel_bo *foreign[] = { &self->foreign_bo };
	const struct accel_bo *own[] = { &self->bo };

	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-EINVAL, accel_submit(&self->other, 0, &self->cb, NULL, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, foreign, 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, own, 1,
					&self->foreign_fence, NULL));
	EXPECT_EQ(-EINVAL, accel_submit(&self->dev, 0, &self->cb, own, 1,
					NULL, &self->foreign_fence));
	EXPECT_EQ(-EBADF, accel_submit(&self->dev, 0, &self->cb, own, 1,
				       &self->fence, &self->fence));
}

TEST_HARNESS_MAIN
