// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Helpers shared by the in-guest tests: device discovery, the command-line
 * expectations, reproducible random data, one-shot jobs and raw ioctls.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/sync_file.h>
#include <time.h>
#include <unistd.h>

#include "lumen_test.h"

/* ---- Devices ------------------------------------------------------------ */

/* Reads a "0x1234"-style hexadecimal sysfs attribute; -1 if unreadable. */
static long read_hex_attr(const char *dir, const char *name)
{
	char path[512], buf[32];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	return strtol(buf, NULL, 16);
}

int lt_pci_devices(char (*bdf)[LT_BDF_LEN], int max)
{
	struct dirent *de;
	int count = 0;
	DIR *dir;

	dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (read_hex_attr(de->d_name, "vendor") != LT_PCI_VENDOR ||
		    read_hex_attr(de->d_name, "device") != LT_PCI_DEVICE)
			continue;
		if (count < max)
			snprintf(bdf[count], LT_BDF_LEN, "%.*s", LT_BDF_LEN - 1, de->d_name);
		count++;
	}
	closedir(dir);
	return count;
}

int lt_pci_device_count(void)
{
	return lt_pci_devices(NULL, 0);
}

int lt_open_first(struct accel_dev **dev, struct accel_info *info)
{
	int indices[ACCEL_MAX_DEVICES];
	int ret, count;

	count = accel_list(indices, ACCEL_MAX_DEVICES);
	if (count == -ENOENT || count == 0)
		return -ENODEV;	/* no /dev/accel, or nothing of lumen's in it */
	if (count < 0)
		return count;
	ret = accel_open(indices[0], dev);
	if (ret)
		return ret;
	ret = accel_query(*dev, info);
	if (ret) {
		accel_close(*dev);
		*dev = NULL;
	}
	return ret;
}

/* Parses "cores:4,queues:16,mem:268435456" (any order, all three needed). */
static int parse_expect(const char *spec, struct lt_expect *expect)
{
	unsigned int seen = 0;
	const char *p = spec;

	while (*p && *p != ' ' && *p != '\n') {
		unsigned long long value;
		char *end;
		size_t keylen = strcspn(p, ":, \n");
		unsigned int bit;

		if (p[keylen] != ':')
			return -EINVAL;
		errno = 0;
		value = strtoull(p + keylen + 1, &end, 0);
		if (errno || end == p + keylen + 1)
			return -EINVAL;
		if (keylen == 5 && !strncmp(p, "cores", 5)) {
			expect->cores = value;
			bit = 1;
		} else if (keylen == 6 && !strncmp(p, "queues", 6)) {
			expect->queues = value;
			bit = 2;
		} else if (keylen == 3 && !strncmp(p, "mem", 3)) {
			expect->mem = value;
			bit = 4;
		} else {
			bit = 0;	/* a property added later: ignore */
		}
		seen |= bit;
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != ' ' && *p != '\n')
			return -EINVAL;
	}
	return seen == 7 ? 0 : -EINVAL;
}

int lt_cmdline_expect(struct lt_expect *expect)
{
	static const char key[] = "lumen_vm.expect=";
	char cmdline[4096];
	const char *p;
	ssize_t len;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (len < 0)
		return -EIO;
	cmdline[len] = '\0';

	for (p = cmdline; (p = strstr(p, key)); p++)
		if (p == cmdline || p[-1] == ' ')
			return parse_expect(p + strlen(key), expect);
	return -ENOENT;
}

/* ---- Reproducible random data ------------------------------------------- */

uint64_t lt_seed(void)
{
	const char *env = getenv("LUMEN_TEST_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec + getpid();
}

void lt_rng_init(struct lt_rng *rng, uint64_t seed)
{
	rng->state = seed;
}

uint64_t lt_rng_next(struct lt_rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t lt_rng_below(struct lt_rng *rng, uint64_t bound)
{
	/* The modulo bias is irrelevant for picking test sizes and offsets. */
	return lt_rng_next(rng) % bound;
}

void lt_rng_fill(struct lt_rng *rng, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len >= 8) {
		uint64_t v = lt_rng_next(rng);

		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = lt_rng_next(rng);

		memcpy(p, &v, len);
	}
}

size_t lt_mismatch(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			break;
	return i;
}

size_t lt_find_not(const void *buf, int byte, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)byte)
			break;
	return i;
}

/* ---- Buffer objects and jobs -------------------------------------------- */

int lt_bo_create_mapped(struct accel_dev *dev, uint64_t size, uint32_t flags,
			struct accel_bo **bo, void **map)
{
	int ret;

	*map = NULL;
	ret = accel_bo_create(dev, size, flags, bo);
	if (ret || (flags & ACCEL_BO_DEVICE))
		return ret;
	ret = accel_bo_map(*bo, map);
	if (ret) {
		accel_bo_free(*bo);
		*bo = NULL;
	}
	return ret;
}

int lt_job_result(struct accel_fence *done)
{
	int ret;

	ret = accel_fence_wait(done, LT_JOB_TIMEOUT_NS);
	if (ret)
		return ret;
	/* Signalled: 1 is success, a negative value the job's error. */
	ret = accel_fence_status(done);
	if (ret == 1)
		return 0;
	return ret < 0 ? ret : -EPROTO;
}

int lt_run_job(struct accel_dev *dev, unsigned int queue,
	       const struct accel_cmdbuf *cb)
{
	struct accel_fence *done;
	int ret;

	ret = accel_fence_create(dev, &done);
	if (ret)
		return ret;
	ret = accel_submit(dev, queue, cb, NULL, 0, NULL, done);
	if (!ret)
		ret = lt_job_result(done);
	accel_fence_free(done);
	return ret;
}

int lt_cmdbuf_create(struct accel_dev *dev, struct accel_cmdbuf **cb)
{
	return accel_cmdbuf_create(dev, LT_CMDBUF_SIZE, cb);
}

int lt_copy_va(struct accel_dev *dev, unsigned int queue, uint64_t dst_va,
	       uint64_t src_va, uint64_t size)
{
	struct accel_cmdbuf *cb;
	int ret;

	ret = lt_cmdbuf_create(dev, &cb);
	if (ret)
		return ret;
	ret = accel_cmd_copy(cb, dst_va, src_va, size);
	if (!ret)
		ret = lt_run_job(dev, queue, cb);
	accel_cmdbuf_free(cb);
	return ret;
}

int lt_copy(struct accel_dev *dev, unsigned int queue,
	    const struct accel_bo *dst, uint64_t dst_off,
	    const struct accel_bo *src, uint64_t src_off, uint64_t size)
{
	return lt_copy_va(dev, queue, accel_bo_va(dst) + dst_off,
			  accel_bo_va(src) + src_off, size);
}

int lt_fence_write(struct accel_dev *dev, unsigned int queue,
		   const struct accel_bo *dst, uint64_t dst_off, uint64_t value)
{
	struct accel_cmdbuf *cb;
	int ret;

	ret = lt_cmdbuf_create(dev, &cb);
	if (ret)
		return ret;
	ret = accel_cmd_fence(cb, accel_bo_va(dst) + dst_off, value);
	if (!ret)
		ret = lt_run_job(dev, queue, cb);
	accel_cmdbuf_free(cb);
	return ret;
}

int lt_device_works(struct accel_dev *dev, unsigned int queue)
{
	enum { SIZE = 3 * 4096 + 5 };
	struct accel_bo *src = NULL, *mid = NULL, *dst = NULL;
	void *src_map, *mid_map, *dst_map;
	struct lt_rng rng;
	int ret;

	lt_rng_init(&rng, 0x6c756d656e);	/* fixed: this is a health check */
	ret = lt_bo_create_mapped(dev, SIZE, 0, &src, &src_map);
	if (!ret)
		ret = lt_bo_create_mapped(dev, SIZE, ACCEL_BO_DEVICE, &mid, &mid_map);
	if (!ret)
		ret = lt_bo_create_mapped(dev, SIZE, 0, &dst, &dst_map);
	if (ret)
		goto out;
	lt_rng_fill(&rng, src_map, SIZE);
	ret = lt_copy(dev, queue, mid, 0, src, 0, SIZE);
	if (!ret)
		ret = lt_copy(dev, queue, dst, 0, mid, 0, SIZE);
	if (!ret && lt_mismatch(src_map, dst_map, SIZE) != SIZE)
		ret = -EIO;
out:
	if (dst)
		accel_bo_free(dst);
	if (mid)
		accel_bo_free(mid);
	if (src)
		accel_bo_free(src);
	return ret;
}

/* ---- Raw ioctls ---------------------------------------------------------- */

int lt_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : 0;
}

static int syncobj_array_op(int fd, unsigned long request, uint32_t handle)
{
	struct drm_syncobj_array args = {
		.handles = (uintptr_t)&handle,
		.count_handles = 1,
	};

	return lt_ioctl(fd, request, &args);
}

int lt_syncobj_signal(int fd, uint32_t handle)
{
	return syncobj_array_op(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, handle);
}

int lt_syncobj_reset(int fd, uint32_t handle)
{
	return syncobj_array_op(fd, DRM_IOCTL_SYNCOBJ_RESET, handle);
}

int lt_syncobj_export(int fd, uint32_t syncobj)
{
	struct drm_syncobj_handle export = {
		.handle = syncobj,
		.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
		.fd = -1,
	};
	int ret;

	ret = lt_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &export);
	return ret ? ret : export.fd;
}

int lt_syncobj_import(int fd, uint32_t syncobj, int sync_fd)
{
	struct drm_syncobj_handle import = {
		.handle = syncobj,
		.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
		.fd = sync_fd,
	};

	return lt_ioctl(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &import);
}

int lt_sync_file_status(int sync_fd, int *status)
{
	struct sync_file_info info = { 0 };
	int ret;

	/* With num_fences 0 the kernel fills in only the overall status. */
	ret = lt_ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info);
	if (!ret)
		*status = info.status;
	return ret;
}

int lt_job_status(int fd, uint32_t syncobj, int *status)
{
	int sync_fd, ret;

	sync_fd = lt_syncobj_export(fd, syncobj);
	if (sync_fd < 0)
		return sync_fd;
	ret = lt_sync_file_status(sync_fd, status);
	close(sync_fd);
	return ret;
}

int lt_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close args = { .handle = handle };

	return lt_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &args);
}

/* ---- Processes ----------------------------------------------------------- */

int lt_run_command(const char *const argv[])
{
	char line[512];
	int pipefd[2];
	int status;
	FILE *out;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		if (!getenv("PATH"))
			setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	/* Its messages become KTAP diagnostic lines, so they cannot fake a result. */
	out = fdopen(pipefd[0], "r");
	if (out) {
		while (fgets(line, sizeof(line), out))
			printf("# %s: %s%s", argv[0], line,
			       strchr(line, '\n') ? "" : "\n");
		fclose(out);
	} else {
		close(pipefd[0]);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int64_t lt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

void *lt_bad_pointer(void)
{
	static void *page;

	if (!page) {
		page = mmap(NULL, 4096, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			page = NULL;
	}
	return page;
}

/* ---- sysfs, debugfs and /proc files ---- */

int lt_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n = 0, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	n = n < 0 ? -errno : total;
	close(fd);
	buf[total] = '\0';
	return (int)n;
}

int lt_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

int lt_accel_bdf(const char *path, char *bdf, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *node = strrchr(path, '/');
	ssize_t n;

	if (!node)
		return -EINVAL;
	snprintf(link, sizeof(link), "/sys/class/accel%s/device", node);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	node = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (strlen(node) >= len)
		return -ENAMETOOLONG;
	memcpy(bdf, node, strlen(node) + 1);
	return 0;
}

void lt_debugfs_path(const char *bdf, const char *name, char *path, size_t len)
{
	snprintf(path, len, "/sys/kernel/debug/accel/%s/%s", bdf, name);
}

int lt_fault_inject(const char *bdf, const char *cmd)
{
	char path[PATH_MAX];

	lt_debugfs_path(bdf, "fault_inject", path, sizeof(path));
	return lt_write_file(path, cmd);
}

long long lt_sysfs_stat(const char *bdf, const char *name)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/lumen/%s", bdf, name);
	if (lt_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

int lt_read_objects(const char *bdf, struct lt_objects *o)
{
	static const char *const keys[] = {
		"files", "guilty_files", "bound_contexts", "jobs_and_vms", "pending_fences",
		"system_bo_bytes", "devmem_used_bytes", "direct_queues",
	};
	long long *vals[] = {
		&o->files, &o->guilty_files, &o->bound_contexts, &o->jobs_and_vms,
		&o->pending_fences, &o->system_bo_bytes, &o->devmem_used_bytes,
		&o->direct_queues,
	};
	char path[PATH_MAX], buf[2048], key[40];
	size_t i;

	lt_debugfs_path(bdf, "objects", path, sizeof(path));
	if (lt_read_file(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *at;

		snprintf(key, sizeof(key), "%s ", keys[i]);
		at = strstr(buf, key);
		/* At a line start: "files " is also the end of "guilty_files ". */
		while (at && at != buf && at[-1] != '\n')
			at = strstr(at + 1, key);
		if (!at || sscanf(at + strlen(key), "%lld", vals[i]) != 1)
			return -EPROTO;
	}
	return 0;
}

int lt_wait_objects(const char *bdf, const struct lt_objects *want, struct lt_objects *now)
{
	for (int i = 0; i < 600; i++) {
		if (!lt_read_objects(bdf, now) && !memcmp(now, want, sizeof(*now)))
			return 0;
		usleep(50000);
	}
	return -ETIME;
}

/* ---- Device coredumps ---- */

/*
 * The devcoredump of PCI function @bdf: its data directory path in @dir,
 * 0, or -ENOENT if there is none.
 */
int lt_dump_find(const char *bdf, char *dir, size_t len)
{
	char link[PATH_MAX + 32], target[PATH_MAX];
	int ret = -ENOENT;
	glob_t g;
	size_t i;

	if (glob("/sys/class/devcoredump/devcd*", 0, NULL, &g))
		return -ENOENT;
	for (i = 0; i < g.gl_pathc && ret; i++) {
		ssize_t n;

		snprintf(link, sizeof(link), "%s/failing_device", g.gl_pathv[i]);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strlen(target) >= strlen(bdf) &&
		    !strcmp(target + strlen(target) - strlen(bdf), bdf)) {
			snprintf(dir, len, "%s", g.gl_pathv[i]);
			ret = 0;
		}
	}
	globfree(&g);
	return ret;
}

/* Frees the device's dump (a write to data does it): 0 or -errno. */
int lt_dump_free(const char *dir)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/data", dir);
	return lt_write_file(path, "1");
}

void lt_dumps_free_all(const char *bdf)
{
	char dir[PATH_MAX];
	int i;

	for (i = 0; i < 8 && !lt_dump_find(bdf, dir, sizeof(dir)); i++)
		lt_dump_free(dir);
}
