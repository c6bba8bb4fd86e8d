// SPDX-License-Identifier: MIT
/*
 * Error descriptions.  libaccel reports every failure as a negative errno;
 * the errnos the lumen driver and libaccel give a specific meaning to
 * (Documentation/uapi.rst, Documentation/libaccel.rst) get a text that says
 * what happened in lumen's terms, every other one the C library's text.
 *
 * strerror() may return a buffer shared between threads, so the fallback
 * is glibc's strerrordesc_np(), which returns static strings.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "internal.h"

static const char *lumen_error_text(int err)
{
	switch (err) {
	case 0:
		return "Success";
	case EINVAL:
		return "Invalid argument: a bad size, offset, flag, queue, handle or command";
	case ENODEV:
		return "Not a lumen device, or the device was removed";
	case ENOENT:
		return "No such file or directory, or no such buffer object or fence";
	case ENOMEM:
		return "Out of memory";
	case ENOSPC:
		return "No space: out of device memory, device addresses or direct queues, or the command buffer is full";
	case EFAULT:
		return "Bad address: the job hit an MMU fault, or memory passed to the driver is not accessible";
	case E2BIG:
		return "Too large: a command buffer above max_cmdbuf_size, too many BOs in one job, or a job larger than a direct queue's ring";
	case EBUSY:
		return "Device or resource busy";
	case ETIME:
		return "Timed out waiting for a fence or a direct queue's job";
	case ETIMEDOUT:
		return "The job ran too long and its queue was reset";
	case EIO:
		return "The device stopped on a bad command in the job, or the direct queue stopped";
	case ESRCH:
		return "The job was dropped: its file was closed before it started";
	case ECANCELED:
		return "The job was cancelled before it ran";
	case EPERM:
	case EACCES:
		return "Permission denied: check the accel node's owner and mode";
	case EAGAIN:
		return "Queue full: wait for an earlier job to complete, then submit again";
	case EINTR:
		return "Interrupted by a signal";
	case ENOTTY:
		return "Not a lumen accel node, or an ioctl the driver does not know";
	case EOPNOTSUPP:
		return "Operation not supported for this buffer object or device";
	case EPROTO:
		return "The driver answered in a form libaccel does not understand";
	default:
		return NULL;
	}
}

/* The C library's static description of @err, or NULL. */
static const char *libc_error_text(int err)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
	return strerrordesc_np(err);
#else
	(void)err;
	return NULL;
#endif
}

const char *accel_strerror(int err)
{
	const char *text;

	/* Accept errnos of either sign; INT_MIN has no positive twin. */
	if (err == INT_MIN)
		return "Unknown error";
	if (err < 0)
		err = -err;

	text = lumen_error_text(err);
	if (!text)
		text = libc_error_text(err);
	return text ? text : "Unknown error";
}
