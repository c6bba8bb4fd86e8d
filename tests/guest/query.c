// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Device discovery and DRM_IOCTL_LUMEN_QUERY: every lumen PCI function has
 * a working node, the answers match the properties the VM was started with,
 * and the size protocol of the query is exactly as documented.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

/* The driver bound to PCI function @bdf, "" if none. */
static void pci_driver_of(const char *bdf, char *name, size_t len)
{
	char link[PATH_MAX], path[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	base = strrchr(link, '/');
	snprintf(name, len, "%.*s", (int)len - 1, base ? base + 1 : link);
}

static int query_raw(int fd, uint32_t type, void *data, uint32_t *size)
{
	struct drm_lumen_query q = {
		.type = type,
		.size = *size,
		.data = (uintptr_t)data,
	};
	int ret;

	ret = lt_ioctl(fd, DRM_IOCTL_LUMEN_QUERY, &q);
	*size = q.size;
	return ret;
}

TEST(every_pci_function_is_bound_to_lumen)
{
	char bdf[ACCEL_MAX_DEVICES][LT_BDF_LEN], driver[64];
	int count, i;

	count = lt_pci_devices(bdf, ACCEL_MAX_DEVICES);
	if (count == 0)
		SKIP(return, "no lumen PCI function");
	ASSERT_GE(ACCEL_MAX_DEVICES, count);
	for (i = 0; i < count; i++) {
		pci_driver_of(bdf[i], driver, sizeof(driver));
		EXPECT_STREQ("lumen", driver) {
			TH_LOG("PCI function %s is bound to '%s'", bdf[i], driver);
		}
	}
}

TEST(device_found)
{
	int indices[ACCEL_MAX_DEVICES];
	int pci = lt_pci_device_count();
	int count, i;

	count = accel_list(indices, ACCEL_MAX_DEVICES);
	if (pci == 0 && (count == 0 || count == -ENOENT))
		SKIP(return, "no lumen device");
	ASSERT_LE(1, count) {
		TH_LOG("accel_list: %s", accel_strerror(count));
	}
	/* One node per lumen PCI function: none missing, none extra. */
	ASSERT_EQ(pci, count);

	for (i = 0; i < count; i++) {
		struct accel_dev *dev;
		struct accel_info info;
		drmVersionPtr version;
		char path[64];

		ASSERT_EQ(0, accel_open(indices[i], &dev));
		ASSERT_EQ(0, accel_query(dev, &info));
		snprintf(path, sizeof(path), "/dev/accel/accel%d", indices[i]);
		EXPECT_STREQ(path, info.path);
		/* Ask the DRM core itself, not libaccel, who drives the node. */
		version = drmGetVersion(accel_fd(dev));
		ASSERT_NE(NULL, version);
		EXPECT_STREQ("lumen", version->name);
		/* v1: the uAPI with device VAs (Documentation/uapi.rst). */
		EXPECT_EQ(1, version->version_major);
		/* uAPI 1.1: direct queues. */
		EXPECT_EQ(1, version->version_minor);
		drmFreeVersion(version);
		EXPECT_EQ(LT_PCI_VENDOR, info.vendor_id);
		EXPECT_EQ(LT_PCI_DEVICE, info.device_id);
		accel_close(dev);
	}
}

TEST(query_matches_cmdline)
{
	int indices[ACCEL_MAX_DEVICES];
	struct lt_expect expect;
	int ret, count, i;

	ret = lt_cmdline_expect(&expect);
	if (ret == -ENOENT)
		SKIP(return, "no lumen_vm.expect= on the kernel command line");
	ASSERT_EQ(0, ret) TH_LOG("malformed lumen_vm.expect= in /proc/cmdline");
	count = accel_list(indices, ACCEL_MAX_DEVICES);
	if (count <= 0 && lt_pci_device_count() == 0)
		SKIP(return, "no lumen device");
	ASSERT_LE(1, count);

	for (i = 0; i < count && i < ACCEL_MAX_DEVICES; i++) {
		struct accel_dev *dev;
		struct accel_info info;

		ASSERT_EQ(0, accel_open(indices[i], &dev));
		ASSERT_EQ(0, accel_query(dev, &info));
		TH_LOG("accel%d: %u cores, %u + %u direct queues, %llu bytes", indices[i],
		       info.num_cores, info.num_queues, info.num_direct_queues,
		       (unsigned long long)info.devmem_size);
		EXPECT_EQ(expect.cores, info.num_cores);
		EXPECT_EQ(expect.cores + 1, info.num_engines);
		/* The device's queues: kernel queues plus direct ones. */
		EXPECT_EQ(expect.queues, info.num_queues + info.num_direct_queues);
		EXPECT_EQ(expect.mem, info.devmem_size);
		accel_close(dev);
	}
}

FIXTURE(query) {
	struct accel_dev *dev;
	struct accel_info info;
	int fd;
};

FIXTURE_SETUP(query)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	self->fd = accel_fd(self->dev);
}

FIXTURE_TEARDOWN(query)
{
	if (self->dev)
		accel_close(self->dev);
}

/* The values Documentation/uapi.rst gives for this version. */
TEST_F(query, answers_match_the_documentation)
{
	EXPECT_EQ(LT_PCI_VENDOR, self->info.vendor_id);
	EXPECT_EQ(LT_PCI_DEVICE, self->info.device_id);
	EXPECT_EQ(0x00010001, self->info.hw_version);
	EXPECT_LE(1, self->info.num_cores);
	EXPECT_GE(16, self->info.num_cores);
	/* The DMA engine comes after the compute engines. */
	EXPECT_EQ(self->info.num_cores + 1, self->info.num_engines);
	EXPECT_LE(1, self->info.num_queues);
	EXPECT_GE(64, self->info.num_queues + self->info.num_direct_queues);
	/* Every engine keeps a kernel queue, whatever direct_queues says. */
	EXPECT_LE(self->info.num_engines, self->info.num_queues);
	EXPECT_EQ(64, self->info.num_contexts);
	EXPECT_LT(0, self->info.devmem_size);
	EXPECT_EQ(0, self->info.devmem_size % 4096);
	/* Device MMU (bit 2) and operators (bit 3) are what v1 is about. */
	EXPECT_EQ(0x4, self->info.caps & 0x4);
	EXPECT_EQ(0x8, self->info.caps & 0x8);
	/* Device 1.1: direct queues (bit 4). */
	EXPECT_EQ(0x10, self->info.caps & 0x10);
	EXPECT_EQ(4u << 20, self->info.max_cmdbuf_size);
	EXPECT_EQ(1000000000ull, self->info.timestamp_freq);
	/* VA 0 .. 4 GiB is never mapped, so a truncated address faults. */
	EXPECT_EQ(1ull << 32, self->info.va_start);
	EXPECT_EQ(1ull << 47, self->info.va_end);
}

/* What libaccel reports is what the ioctl answers. */
TEST_F(query, libaccel_matches_raw_ioctl)
{
	struct drm_lumen_device_info raw;
	uint32_t size = sizeof(raw);

	ASSERT_EQ(0, query_raw(self->fd, DRM_LUMEN_QUERY_DEVICE_INFO, &raw, &size));
	ASSERT_EQ(sizeof(raw), size);
	EXPECT_EQ(raw.vendor_id, self->info.vendor_id);
	EXPECT_EQ(raw.device_id, self->info.device_id);
	EXPECT_EQ(raw.hw_version, self->info.hw_version);
	EXPECT_EQ(raw.num_cores, self->info.num_cores);
	EXPECT_EQ(raw.num_queues, self->info.num_queues);
	EXPECT_EQ(raw.devmem_size, self->info.devmem_size);
	EXPECT_EQ(raw.caps, self->info.caps);
	EXPECT_EQ(raw.max_cmdbuf_size, self->info.max_cmdbuf_size);
	EXPECT_EQ(raw.timestamp_freq, self->info.timestamp_freq);
	EXPECT_EQ(raw.va_start, self->info.va_start);
	EXPECT_EQ(raw.va_end, self->info.va_end);
	EXPECT_EQ(raw.num_engines, self->info.num_engines);
	EXPECT_EQ(raw.num_contexts, self->info.num_contexts);
	EXPECT_EQ(raw.num_direct_queues, self->info.num_direct_queues);
	EXPECT_EQ(0, raw.pad);
}

/*
 * The split Documentation/uapi.rst gives: min(lumen.direct_queues, the
 * device's queues - its engines) direct queues, the rest kernel queues.
 */
TEST_F(query, direct_queues_follow_the_module_parameter)
{
	unsigned int param, total = self->info.num_queues + self->info.num_direct_queues;
	unsigned int max = total > self->info.num_engines ? total - self->info.num_engines : 0;
	FILE *f = fopen("/sys/module/lumen/parameters/direct_queues", "r");

	if (!f)
		SKIP(return, "no /sys/module/lumen/parameters/direct_queues");
	ASSERT_EQ(1, fscanf(f, "%u", &param));
	fclose(f);
	EXPECT_EQ(param < max ? param : max, self->info.num_direct_queues);
}

/* Size 0 asks for the answer's size and must not touch @data at all. */
TEST_F(query, size_zero_reports_full_size)
{
	uint32_t size = 0;

	ASSERT_EQ(0, query_raw(self->fd, DRM_LUMEN_QUERY_DEVICE_INFO, NULL, &size));
	EXPECT_EQ(sizeof(struct drm_lumen_device_info), size);

	size = 0;
	ASSERT_NE(NULL, lt_bad_pointer());
	ASSERT_EQ(0, query_raw(self->fd, DRM_LUMEN_QUERY_DEVICE_INFO,
			       lt_bad_pointer(), &size));
	EXPECT_EQ(sizeof(struct drm_lumen_device_info), size);
}

/*
 * A short buffer gets exactly its length of the answer: for every length,
 * the prefix of the full answer, with nothing written past it.
 */
TEST_F(query, short_buffer_gets_exact_prefix)
{
	enum { FULL = sizeof(struct drm_lumen_device_info), CANARY = 0xa5 };
	unsigned char full[FULL], buf[FULL + 16];
	uint32_t len, size = FULL;

	ASSERT_EQ(0, query_raw(self->fd, DRM_LUMEN_QUERY_DEVICE_INFO, full, &size));
	ASSERT_EQ(FULL, size);

	for (len = 1; len <= FULL; len++) {
		memset(buf, CANARY, sizeof(buf));
		size = len;
		ASSERT_EQ(0, query_raw(self->fd, DRM_LUMEN_QUERY_DEVICE_INFO,
				       buf, &size));
		ASSERT_EQ(len, size);
		ASSERT_EQ(len, lt_mismatch(buf, full, len))
			TH_LOG("length %u: answer differs from the full one", len);
		ASSERT_EQ(sizeof(buf) - len,
			  lt_find_not(buf + len, CANARY, sizeof(buf) - len))
			TH_LOG("length %u: wrote past the buffer", len);
	}
}

/* A longer buffer (a newer binary) gets the full answer and its size. */
TEST_F(query, long_buffer_gets_full_answer)
{
	enum { FULL = sizeof(struct drm_lumen_device_info), CANARY = 0x5a };
	unsigned char buf[FULL + 64];
	uint32_t size = sizeof(buf);

	memset(buf, CANARY, sizeof(buf));
	ASSERT_EQ(0, query_raw(self->fd, DRM_LUMEN_QUERY_DEVICE_INFO, buf, &size));
	EXPECT_EQ(FULL, size);
	EXPECT_EQ(sizeof(buf) - FULL, lt_find_not(buf + FULL, CANARY, sizeof(buf) - FULL));
	EXPECT_EQ(self->info.num_queues,
		  ((struct drm_lumen_device_info *)buf)->num_queues);
}

TEST_HARNESS_MAIN
