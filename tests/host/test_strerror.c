// SPDX-License-Identifier: MIT
/*
 * accel_strerror(): lumen's own texts for the errnos the driver and
 * libaccel document (Documentation/libaccel.rst lists them), the C
 * library's for the others, and sane answers for anything else.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "kselftest_harness.h"

#include <accel/accel.h>

/* Linux errnos are 1 .. MAX_ERRNO (4095). */
#define MAX_ERRNO	4095

static const struct {
	int err;
	const char *text;
} lumen_texts[] = {
	{ 0, "Success" },
	{ EINVAL, "Invalid argument: a bad size, offset, flag, queue, handle or command" },
	{ ENODEV, "Not a lumen device, or the device was removed" },
	{ ENOENT, "No such file or directory, or no such buffer object or fence" },
	{ ENOMEM, "Out of memory" },
	{ ENOSPC, "No space: out of device memory, device addresses or direct queues, or the command buffer is full" },
	{ EFAULT, "Bad address: the job hit an MMU fault, or memory passed to the driver is not accessible" },
	{ E2BIG, "Too large: a command buffer above max_cmdbuf_size, too many BOs in one job, or a job larger than a direct queue's ring" },
	{ EBUSY, "Device or resource busy" },
	{ ETIME, "Timed out waiting for a fence or a direct queue's job" },
	{ ETIMEDOUT, "The job ran too long and its queue was reset" },
	{ EIO, "The device stopped on a bad command in the job, or the direct queue stopped" },
	{ ESRCH, "The job was dropped: its file was closed before it started" },
	{ ECANCELED, "The job was cancelled before it ran" },
	{ EPERM, "Permission denied: check the accel node's owner and mode" },
	{ EACCES, "Permission denied: check the accel node's owner and mode" },
	{ EAGAIN, "Queue full: wait for an earlier job to complete, then submit again" },
	{ EINTR, "Interrupted by a signal" },
	{ ENOTTY, "Not a lumen accel node, or an ioctl the driver does not know" },
	{ EOPNOTSUPP, "Operation not supported for this buffer object or device" },
	{ EPROTO, "The driver answered in a form libaccel does not understand" },
};

#define N_TEXTS (sizeof(lumen_texts) / sizeof(lumen_texts[0]))

static bool has_lumen_text(int err)
{
	for (size_t i = 0; i < N_TEXTS; i++)
		if (lumen_texts[i].err == err)
			return true;
	return false;
}

TEST(documented_errnos_have_lumen_texts)
{
	for (size_t i = 0; i < N_TEXTS; i++) {
		EXPECT_STREQ(lumen_texts[i].text, accel_strerror(-lumen_texts[i].err)) {
			TH_LOG("errno %d", lumen_texts[i].err);
		}
	}
}

/* Every other errno reads as the C library describes it. */
TEST(other_errnos_use_libc_text)
{
	const char *libc;

	for (int err = 1; err <= MAX_ERRNO; err++) {
		if (has_lumen_text(err))
			continue;
		libc = strerrordesc_np(err);
		EXPECT_STREQ(libc ? libc : "Unknown error", accel_strerror(-err)) {
			TH_LOG("errno %d", err);
		}
	}
	/* Spot checks written out, so the loop above cannot agree with itself. */
	EXPECT_STREQ("Broken pipe", accel_strerror(-EPIPE));
	EXPECT_STREQ("No such device or address", accel_strerror(-ENXIO));
}

TEST(sign_does_not_matter)
{
	for (int err = 0; err <= MAX_ERRNO; err++)
		EXPECT_EQ(accel_strerror(-err), accel_strerror(err));
}

TEST(never_null_or_empty)
{
	const int odd[] = { INT_MIN, INT_MIN + 1, -100000, -(MAX_ERRNO + 1),
			    MAX_ERRNO + 1, 100000, INT_MAX };
	const char *text;

	for (int err = -MAX_ERRNO; err <= MAX_ERRNO; err++) {
		text = accel_strerror(err);
		ASSERT_NE(NULL, text);
		EXPECT_NE(0, strlen(text));
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		EXPECT_STREQ("Unknown error", accel_strerror(odd[i]));
}

/* Static strings: the same pointer on every call, never a shared buffer. */
TEST(static_text)
{
	EXPECT_EQ(accel_strerror(-EINVAL), accel_strerror(-EINVAL));
	EXPECT_EQ(accel_strerror(-EPIPE), accel_strerror(-EPIPE));
	EXPECT_EQ(accel_strerror(-99999), accel_strerror(-88888));
}

TEST_HARNESS_MAIN
