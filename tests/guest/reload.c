// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Module unload and reload.  An open file pins the module: rmmod fails
 * and the device keeps working.  With no file open, rmmod removes every
 * node, modprobe brings them all back, and the devices work again.
 *
 * run-all runs this binary last, when no other test has a file open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

static const char *const rmmod[] = { "rmmod", "lumen", NULL };
static const char *const modprobe[] = { "modprobe", "lumen", NULL };

static bool module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/lumen", &st) == 0;
}

/* The module's reference count, -1 if unreadable. */
static int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/lumen/refcnt", "r");
	int refcnt = -1;

	if (f) {
		if (fscanf(f, "%d", &refcnt) != 1)
			refcnt = -1;
		fclose(f);
	}
	return refcnt;
}

static int lumen_nodes(void)
{
	int indices[ACCEL_MAX_DEVICES];

	return accel_list(indices, ACCEL_MAX_DEVICES);
}

/* Nodes appear during modprobe; allow the probe a moment all the same. */
static int wait_for_nodes(int want)
{
	int tries, n = 0;

	for (tries = 0; tries < 50; tries++) {
		n = lumen_nodes();
		if (n == want)
			break;
		usleep(100 * 1000);
	}
	return n;
}

/* Every node answers and runs a copy job. */
static void all_devices_work(struct __test_metadata *_metadata)
{
	int indices[ACCEL_MAX_DEVICES];
	int n, i;

	n = accel_list(indices, ACCEL_MAX_DEVICES);
	for (i = 0; i < n && i < ACCEL_MAX_DEVICES; i++) {
		struct accel_dev *dev;
		struct accel_info info;

		ASSERT_EQ(0, accel_open(indices[i], &dev));
		EXPECT_EQ(0, accel_query(dev, &info));
		EXPECT_EQ(0, lt_device_works(dev, 0)) TH_LOG("accel%d", indices[i]);
		accel_close(dev);
	}
}

FIXTURE(module) {
	int nodes;	/* lumen nodes before the test */
};

FIXTURE_SETUP(module)
{
	if (!module_loaded())
		SKIP(return, "lumen is not loaded as a module");
	self->nodes = lumen_nodes();
	if (self->nodes <= 0 && lt_pci_device_count() == 0)
		SKIP(return, "no lumen device");
	ASSERT_LE(1, self->nodes);
}

FIXTURE_TEARDOWN(module)
{
}

TEST_F(module, rmmod_fails_while_a_file_is_open)
{
	struct accel_dev *dev;
	struct accel_info info;
	int ret;

	LT_OPEN_OR_SKIP(&dev, &info);
	EXPECT_LE(1, module_refcnt());
	/* The kernel's answer for a module in use (kernel/module/main.c). */
	ret = syscall(SYS_delete_module, "lumen", O_NONBLOCK);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	/* And what an administrator sees. */
	EXPECT_NE(0, lt_run_command(rmmod));
	ASSERT_TRUE(module_loaded());

	EXPECT_EQ(0, lt_device_works(dev, 0));
	accel_close(dev);
}

TEST_F_TIMEOUT(module, unload_and_reload, 180)
{
	int cycle;

	for (cycle = 0; cycle < 3; cycle++) {
		ASSERT_EQ(0, lt_run_command(rmmod)) TH_LOG("cycle %d", cycle);
		EXPECT_FALSE(module_loaded());
		EXPECT_EQ(0, lumen_nodes());

		ASSERT_EQ(0, lt_run_command(modprobe)) TH_LOG("cycle %d", cycle);
		ASSERT_TRUE(module_loaded());
		ASSERT_EQ(self->nodes, wait_for_nodes(self->nodes))
			TH_LOG("cycle %d", cycle);
		all_devices_work(_metadata);
	}
}

TEST_HARNESS_MAIN
