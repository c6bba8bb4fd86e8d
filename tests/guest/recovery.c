// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Recovery with two tenants in two processes (Documentation/uapi.rst,
 * "Errors and recovery").  For each fault the device can be made to raise
 * (debugfs fault_inject: a hang, a lost interrupt, a failed DMA, an MMU
 * fault, a fatal error), on ONE hardware queue:
 *
 *   guilty (child)    G: its job the fault hits; G2: its job queued behind
 *                     the innocent one, not yet run when G fails; G3: its
 *                     job on another queue, waiting for G
 *   innocent (parent) I: a COPY of random bytes queued behind G
 *
 * and checks what the documentation promises: G fails with its errno, G2
 * and G3 with -ECANCELED, the guilty file's later submits fail with
 * -ECANCELED while its other calls (BO info, mmap, BO create) work and a
 * new file of the same process runs jobs; I is replayed and copies every
 * byte right (checked against the source, not against the device); a
 * lost interrupt and a fatal error blame nobody; each reset is counted in
 * sysfs, announced by a uevent and leaves a devcoredump with the expected
 * fields; the device works afterwards; nothing leaks (debugfs objects).
 *
 * Needs -device lumen,fault-injection=on and root; SKIPs without them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define QUEUE		0
#define BO_SIZE		4096
#define COPY_SIZE	4096
#define SEM_OFF		64	/* guilty BO: G's WAIT semaphore */
#define G2_OFF		8	/* guilty BO: G2's FENCE */
#define G3_OFF		24	/* guilty BO: G3's FENCE */
#define G3_QUEUE	1
#define GUILTY		0x6775696c7479ull	/* "guilty" */
#define GUILTY2		0x6775696c7432ull	/* "guilt2" */
#define GUILTY3		0x6775696c7433ull	/* "guilt3" */
#define BAN_PARAM	"/sys/module/lumen/parameters/ban_guilty"
/* Bounded polls of state the kernel updates asynchronously. */
#define POLL_TRIES	400
#define POLL_US		50000

enum reset_kind { RESET_NONE, RESET_QUEUE, RESET_DEVICE };

/* ---- Files of sysfs, debugfs, devcoredump -------------------------------- */

/* Pending hardware fences of queue @q in debugfs "queues", or -1. */
static int pending_fences(const char *bdf, unsigned int q)
{
	char path[PATH_MAX], head[32], *buf, *at;
	int n = -1;

	buf = malloc(65536);
	if (!buf)
		return -1;
	snprintf(head, sizeof(head), "queue %u:", q);
	lt_debugfs_path(bdf, "queues", path, sizeof(path));
	if (lt_read_file(path, buf, 65536) > 0 && (at = strstr(buf, head)) &&
	    (at = strstr(at, "pending fences: ")))
		n = atoi(at + strlen("pending fences: "));
	free(buf);
	return n;
}

/* ---- uevents ------------------------------------------------------------- */

static int uevent_open(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * Reads uevents (waiting at most ~10 s for each) until one carries both
 * @want and @want2 (if not NULL) among its variables: 0, or -ETIME.
 */
static int uevent_find(int fd, const char *want, const char *want2)
{
	char buf[4096];
	int i;

	for (i = 0; i < 100; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		bool got = false, got2 = !want2;
		ssize_t n, off;

		if (poll(&pfd, 1, 10000) <= 0)
			return -ETIME;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			return -EIO;
		buf[n] = '\0';
		for (off = 0; off < n; off += strlen(buf + off) + 1) {
			got |= !strcmp(buf + off, want);
			got2 |= want2 && !strcmp(buf + off, want2);
		}
		if (got && got2)
			return 0;
	}
	return -ETIME;
}

/* ---- The guilty tenant, in a child process -------------------------------- */

struct report {
	int setup;	/* 0, or the -errno of the step that failed */
	int g, g2, g3;	/* lt_job_result() of G, G2 and G3 */
	int later;	/* accel_submit() of one more job */
	int bo_info;	/* BO_INFO of its BO */
	int bo_create;	/* a new BO */
	int new_file;	/* a job through a new file */
	uint64_t v0, v_g2, v_g3, sem_va, cmdbuf_va;
};

struct pipes {
	int to_child[2], to_parent[2];
};

static int send_byte(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -EIO;
}

static int recv_byte(int fd, char want)
{
	char c;

	return read(fd, &c, 1) == 1 && c == want ? 0 : -EIO;
}

/*
 * A job of @dev on @queue after @wait (if not NULL): FENCE @value at @off
 * in @bo, after WAIT(@sem_va >= 1) if @sem_va.
 */
static int submit_fence_on(struct accel_dev *dev, unsigned int queue, struct accel_fence *wait,
			   struct accel_bo *bo, uint64_t off, uint64_t value, uint64_t sem_va,
			   struct accel_cmdbuf **cb, struct accel_fence **done)
{
	int ret = lt_cmdbuf_create(dev, cb) ?: accel_fence_create(dev, done);

	if (!ret && sem_va)
		ret = accel_cmd_wait(*cb, sem_va, 1);
	if (!ret)
		ret = accel_cmd_fence(*cb, accel_bo_va(bo) + off, value);
	if (!ret)
		ret = accel_submit(dev, queue, *cb, (const struct accel_bo *const *)&bo, 1, wait,
				   *done);
	return ret;
}

/* submit_fence_on() on QUEUE, without a fence to wait for. */
static int submit_fence(struct accel_dev *dev, struct accel_bo *bo, uint64_t off,
			uint64_t value, uint64_t sem_va, struct accel_cmdbuf **cb,
			struct accel_fence **done)
{
	return submit_fence_on(dev, QUEUE, NULL, bo, off, value, sem_va, cb, done);
}

static void guilty_main(const struct pipes *p, bool park, bool release)
{
	struct accel_cmdbuf *cb[4] = { NULL, NULL, NULL, NULL };
	struct accel_fence *done[4] = { NULL, NULL, NULL, NULL };
	struct report r = { 0 };
	struct drm_lumen_bo_info info = { 0 };
	bool sent[4] = { false, false, false, false };
	struct accel_dev *dev = NULL, *dev2 = NULL;
	struct accel_bo *bo = NULL, *bo2 = NULL;
	volatile uint64_t *map = NULL;
	void *map2;
	int rx = p->to_child[0], tx = p->to_parent[1];

	r.setup = lt_open_first(&dev, &(struct accel_info){ 0 }) ?:
		  lt_bo_create_mapped(dev, BO_SIZE, 0, &bo, (void **)&map) ?:
		  recv_byte(rx, 'g');
	if (r.setup)
		goto out;
	r.sem_va = accel_bo_va(bo) + SEM_OFF;
	r.setup = submit_fence(dev, bo, 0, GUILTY, park ? r.sem_va : 0, &cb[0], &done[0]);
	if (r.setup)
		goto out;
	sent[0] = true;
	r.cmdbuf_va = accel_cmdbuf_va(cb[0]);
	/* Not run until G ends: G's end decides its fate. */
	r.setup = submit_fence_on(dev, G3_QUEUE, done[0], bo, G3_OFF, GUILTY3, 0, &cb[3],
				  &done[3]);
	if (r.setup)
		goto out;
	sent[3] = true;
	r.setup = send_byte(tx, 'G') ?: recv_byte(rx, 'i') ?:
		  submit_fence(dev, bo, G2_OFF, GUILTY2, 0, &cb[1], &done[1]);
	if (r.setup)
		goto out;
	sent[1] = true;
	r.setup = send_byte(tx, '2') ?: recv_byte(rx, 'r');
	if (r.setup)
		goto out;
	if (release)
		map[SEM_OFF / 8] = 1;

	r.g = lt_job_result(done[0]);
	r.g2 = lt_job_result(done[1]);
	r.g3 = lt_job_result(done[3]);
	r.v0 = map[0];
	r.v_g2 = map[G2_OFF / 8];
	r.v_g3 = map[G3_OFF / 8];
	r.later = submit_fence(dev, bo, 16, GUILTY, 0, &cb[2], &done[2]);
	sent[2] = !r.later;
	if (!r.later)
		r.later = lt_job_result(done[2]) == 0 ? 0 : -EPROTO;
	/* Non-submit calls still work: the process can save its data. */
	info.handle = accel_bo_handle(bo);
	r.bo_info = lt_ioctl(accel_fd(dev), DRM_IOCTL_LUMEN_BO_INFO, &info);
	if (!r.bo_info && info.va != accel_bo_va(bo))
		r.bo_info = -EPROTO;
	r.bo_create = lt_bo_create_mapped(dev, BO_SIZE, 0, &bo2, &map2);
	/* A new file is a new, innocent context. */
	r.new_file = lt_open_first(&dev2, &(struct accel_info){ 0 }) ?:
		     lt_device_works(dev2, QUEUE);
out:
	if (write(tx, &r, sizeof(r)) != sizeof(r))
		r.setup = -EIO;
	for (int i = 0; i < 4; i++) {
		/* The device may still read a command buffer until its job ends. */
		if (sent[i])
			accel_fence_wait(done[i], LT_JOB_TIMEOUT_NS);
		if (done[i])
			accel_fence_free(done[i]);
		if (cb[i])
			accel_cmdbuf_free(cb[i]);
	}
	if (bo2)
		accel_bo_free(bo2);
	if (bo)
		accel_bo_free(bo);
	if (dev2)
		accel_close(dev2);
	if (dev)
		accel_close(dev);
	_exit(0);
}

/* ---- The test ------------------------------------------------------------- */

FIXTURE(recovery) {
	struct accel_info info;
	char bdf[LT_BDF_LEN];
	char ban_before[8];
	struct lt_objects before;
	int uevent_fd;
	pid_t child;
	struct pipes p;
};

FIXTURE_VARIANT(recovery) {
	const char *inject;	/* fault_inject command, %u: the queue */
	bool inject_first;	/* before G is submitted (else once G2 is queued) */
	bool park;		/* G first WAITs on a semaphore */
	bool release;		/* the child releases G's WAIT once told to */
	int g_error;		/* G's result: the fault's errno, 0 if not guilty */
	enum reset_kind reset;
	const char *reason;	/* the devcoredump's reason line */
};

FIXTURE_VARIANT_ADD(recovery, hang) {
	.inject = "hang %u", .inject_first = true, .g_error = -ETIMEDOUT,
	.reset = RESET_QUEUE, .reason = "timeout",
};

FIXTURE_VARIANT_ADD(recovery, lost_interrupt) {
	.inject = "drop-irq 1", .inject_first = true, .g_error = 0, .reset = RESET_NONE,
};

FIXTURE_VARIANT_ADD(recovery, dma_error) {
	.inject = "fail-dma 1", .park = true, .g_error = -EIO, .reset = RESET_QUEUE,
	.reason = "command error",
};

FIXTURE_VARIANT_ADD(recovery, mmu_fault) {
	.inject = "mmu-fault 1", .park = true, .g_error = -EFAULT, .reset = RESET_QUEUE,
	.reason = "MMU fault",
};

FIXTURE_VARIANT_ADD(recovery, fatal) {
	.inject = "fatal", .park = true, .release = true, .g_error = 0,
	.reset = RESET_DEVICE, .reason = "fatal device error",
};

FIXTURE_SETUP(recovery)
{
	struct accel_dev *dev;

	self->uevent_fd = -1;
	self->child = -1;
	self->p = (struct pipes){ { -1, -1 }, { -1, -1 } };
	LT_OPEN_OR_SKIP(&dev, &self->info);
	accel_close(dev);
	if (!(self->info.caps & ACCEL_CAP_FAULT_INJECTION))
		SKIP(return, "the device has no fault injection (fault-injection=on)");
	if (geteuid())
		SKIP(return, "needs root (debugfs, sysfs, uevents)");
	/* The device lt_open_first() opens, in the parent and the child. */
	ASSERT_EQ(0, lt_accel_bdf(self->info.path, self->bdf, sizeof(self->bdf)));
	ASSERT_LT(0, lt_read_file(BAN_PARAM, self->ban_before, sizeof(self->ban_before)));
	/* The documented default; run-all may have turned it off for older suites. */
	ASSERT_EQ(0, lt_write_file(BAN_PARAM, "Y"));
	/* A dump left by an earlier test would make ours be dropped. */
	lt_dumps_free_all(self->bdf);
	ASSERT_EQ(0, lt_read_objects(self->bdf, &self->before));
	self->uevent_fd = uevent_open();
	ASSERT_LE(0, self->uevent_fd);
	ASSERT_EQ(0, pipe(self->p.to_child));
	ASSERT_EQ(0, pipe(self->p.to_parent));
}

FIXTURE_TEARDOWN(recovery)
{
	int i;

	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	for (i = 0; i < 2; i++) {
		if (self->p.to_child[i] >= 0)
			close(self->p.to_child[i]);
		if (self->p.to_parent[i] >= 0)
			close(self->p.to_parent[i]);
	}
	if (self->uevent_fd >= 0)
		close(self->uevent_fd);
	if (self->ban_before[0])
		lt_write_file(BAN_PARAM, self->ban_before);
	lt_dumps_free_all(self->bdf);
}

/* Checks the device's devcoredump against what recovery must have written. */
static void check_dump(struct __test_metadata *_metadata, const char *bdf,
		       const FIXTURE_VARIANT(recovery) *variant, pid_t guilty,
		       uint64_t sem_va, uint64_t cmdbuf_va)
{
	char dir[PATH_MAX], path[PATH_MAX + 8], want[128], *buf, *at;
	unsigned int header;

	/* Said, not hidden: a kernel may be built without it. */
	if (access("/sys/class/devcoredump", F_OK)) {
		TH_LOG("no devcoredump check: the kernel has no CONFIG_DEV_COREDUMP");
		return;
	}
	ASSERT_EQ(0, lt_dump_find(bdf, dir, sizeof(dir))) TH_LOG("no devcoredump");
	buf = malloc(1 << 18);
	ASSERT_NE(NULL, buf);
	snprintf(path, sizeof(path), "%s/data", dir);
	ASSERT_LT(0, lt_read_file(path, buf, 1 << 18));
	EXPECT_EQ(0, lt_dump_free(dir));

	EXPECT_NE(NULL, strstr(buf, "**** lumen devcoredump ****\n"));
	EXPECT_NE(NULL, strstr(buf, "**** end ****\n")) TH_LOG("truncated dump");
	snprintf(want, sizeof(want), "\nreason: %s\n", variant->reason);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	snprintf(want, sizeof(want), "\nerrno: %d\n", variant->g_error);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	EXPECT_NE(NULL, strstr(buf, "\nglobal registers:\n  ID: 0x4c554d4e\n"));
	snprintf(want, sizeof(want), "\nqueue %u:\n", QUEUE);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	EXPECT_NE(NULL, strstr(buf, "  registers:\n  RING_BASE: "));

	if (variant->reset == RESET_DEVICE) {
		EXPECT_NE(NULL, strstr(buf, "\nrecovery: device reset\n"));
		EXPECT_NE(NULL, strstr(buf, "\nguilty: none\n"));
		/* Every queue is shown; queue 0 stopped on the fatal error. */
		EXPECT_NE(NULL, strstr(buf, "  error: 14 (fatal error)"));
		free(buf);
		return;
	}
	EXPECT_NE(NULL, strstr(buf, "\nrecovery: queue reset\n"));
	snprintf(want, sizeof(want), "\nqueue: %u\n", QUEUE);
	EXPECT_NE(NULL, strstr(buf, want));
	snprintf(want, sizeof(want), "\nguilty: pid %d comm ", (int)guilty);
	at = strstr(buf, want);
	EXPECT_NE(NULL, at) TH_LOG("no '%s' (pid of the guilty process)", want + 1);
	if (at)
		EXPECT_EQ(0, strncmp(at + strlen(want), "recovery ", 9));
	/* The ring entry the queue stopped on: the kernel's INDIRECT. */
	at = strstr(buf, "  ring entry ");
	ASSERT_NE(NULL, at);
	at = strchr(at, ':');
	ASSERT_NE(NULL, at);
	EXPECT_EQ(1, sscanf(at + 1, " %x", &header));
	EXPECT_EQ(0x04u, header) TH_LOG("ring entry header %#x", header);
	/* G's own first command, read from its command buffer BO. */
	at = strstr(buf, "\ncmd 0x");
	ASSERT_NE(NULL, at) TH_LOG("the command buffer was not dumped");
	at = strchr(at, ':');
	ASSERT_NE(NULL, at);
	EXPECT_EQ(1, sscanf(at + 1, " %x", &header));
	EXPECT_EQ(variant->park ? 0x02u : 0x01u, header & 0xff);
	snprintf(want, sizeof(want), "\ncmdbuf: va %#llx size ", (unsigned long long)cmdbuf_va);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no '%s'", want + 1);
	if (variant->g_error == -EFAULT) {
		unsigned long long va = 0;

		/*
		 * The injected fault hit G: the retry of its parked WAIT,
		 * which fetches the command again (at the command buffer)
		 * and reads the semaphore.
		 */
		at = strstr(buf, "  fault: va ");
		ASSERT_NE(NULL, at);
		EXPECT_EQ(1, sscanf(at, "  fault: va %llx", &va));
		EXPECT_TRUE(va == cmdbuf_va || va == sem_va)
			TH_LOG("fault at %#llx, G's command buffer at %#llx, semaphore at %#llx",
			       va, (unsigned long long)cmdbuf_va, (unsigned long long)sem_va);
		EXPECT_NE(NULL, strstr(buf, "reason 7 (injected) read context "));
	}
	free(buf);
}

TEST_F_TIMEOUT(recovery, two_tenants, 180)
{
	struct accel_bo *src = NULL, *dst = NULL;
	struct accel_cmdbuf *cb = NULL;
	struct accel_fence *done = NULL;
	struct accel_dev *dev = NULL;
	long long q_resets, e_resets, d_resets, commands;
	char engine[16], name[48], cmd[32], dir[PATH_MAX];
	struct lt_objects after;
	struct report r;
	struct lt_rng rng;
	void *src_map, *dst_map;
	pid_t guilty;
	int i, status;

	snprintf(engine, sizeof(engine), QUEUE % self->info.num_engines < self->info.num_cores ?
		 "compute%u" : "dma", QUEUE % self->info.num_engines);
	snprintf(name, sizeof(name), "queue%u_resets", QUEUE);
	q_resets = lt_sysfs_stat(self->bdf, name);
	snprintf(name, sizeof(name), "%s_resets", engine);
	e_resets = lt_sysfs_stat(self->bdf, name);
	d_resets = lt_sysfs_stat(self->bdf, "device_resets");
	snprintf(name, sizeof(name), "%s_commands", engine);
	commands = lt_sysfs_stat(self->bdf, name);
	ASSERT_LE(0, q_resets);
	ASSERT_LE(0, e_resets);
	ASSERT_LE(0, d_resets);
	ASSERT_LE(0, commands);

	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child)
		guilty_main(&self->p, variant->park, variant->release);

	/* The innocent tenant: I copies random bytes on the same queue. */
	lt_rng_init(&rng, lt_seed());
	ASSERT_EQ(0, lt_open_first(&dev, &(struct accel_info){ 0 }));
	ASSERT_EQ(0, lt_bo_create_mapped(dev, COPY_SIZE, 0, &src, &src_map));
	ASSERT_EQ(0, lt_bo_create_mapped(dev, COPY_SIZE, 0, &dst, &dst_map));
	lt_rng_fill(&rng, src_map, COPY_SIZE);
	memset(dst_map, 0, COPY_SIZE);
	ASSERT_EQ(0, lt_cmdbuf_create(dev, &cb));
	ASSERT_EQ(0, accel_fence_create(dev, &done));
	ASSERT_EQ(0, accel_cmd_copy(cb, accel_bo_va(dst), accel_bo_va(src), COPY_SIZE));

	snprintf(cmd, sizeof(cmd), variant->inject, QUEUE);
	if (variant->inject_first)
		ASSERT_EQ(0, lt_fault_inject(self->bdf, cmd));
	ASSERT_EQ(0, send_byte(self->p.to_child[1], 'g'));
	ASSERT_EQ(0, recv_byte(self->p.to_parent[0], 'G'));
	/* G is in the ring (its hardware fence exists) before I is submitted. */
	for (i = 0; i < POLL_TRIES && pending_fences(self->bdf, QUEUE) < 1; i++)
		usleep(POLL_US);
	ASSERT_LE(1, pending_fences(self->bdf, QUEUE)) TH_LOG("G never reached the ring");
	ASSERT_EQ(0, accel_submit(dev, QUEUE, cb, (const struct accel_bo *const[]){ src, dst },
				  2, NULL, done));
	ASSERT_EQ(0, send_byte(self->p.to_child[1], 'i'));
	ASSERT_EQ(0, recv_byte(self->p.to_parent[0], '2'));
	if (!variant->inject_first)
		ASSERT_EQ(0, lt_fault_inject(self->bdf, cmd));
	if (variant->reset == RESET_DEVICE) {
		/* Release G only once the device was reset: it is replayed. */
		for (i = 0; i < POLL_TRIES && lt_sysfs_stat(self->bdf, "device_resets") == d_resets;
		     i++)
			usleep(POLL_US);
		ASSERT_EQ(d_resets + 1, lt_sysfs_stat(self->bdf, "device_resets"));
	}
	ASSERT_EQ(0, send_byte(self->p.to_child[1], 'r'));

	/* The innocent job, queued behind G on the same queue, is complete and right. */
	EXPECT_EQ(0, lt_job_result(done));
	EXPECT_EQ(COPY_SIZE, lt_mismatch(dst_map, src_map, COPY_SIZE))
		TH_LOG("the innocent copy differs at byte %zu",
		       lt_mismatch(dst_map, src_map, COPY_SIZE));

	ASSERT_EQ(sizeof(r), read(self->p.to_parent[0], &r, sizeof(r)));
	guilty = self->child;
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = -1;
	ASSERT_EQ(0, r.setup) TH_LOG("the guilty tenant's setup failed: %s",
				     accel_strerror(r.setup));
	EXPECT_EQ(variant->g_error, r.g) TH_LOG("G: %s", accel_strerror(r.g));
	EXPECT_EQ(0, r.bo_info);
	EXPECT_EQ(0, r.bo_create);
	EXPECT_EQ(0, r.new_file) TH_LOG("a new file of the guilty process: %s",
					accel_strerror(r.new_file));
	if (variant->g_error) {
		EXPECT_EQ(0, r.v0);
		EXPECT_EQ(-ECANCELED, r.g2) TH_LOG("G2: %s", accel_strerror(r.g2));
		EXPECT_EQ(0, r.v_g2);
		EXPECT_EQ(-ECANCELED, r.g3) TH_LOG("G3: %s", accel_strerror(r.g3));
		EXPECT_EQ(0, r.v_g3);
		EXPECT_EQ(-ECANCELED, r.later) TH_LOG("a later submit: %s",
						      accel_strerror(r.later));
	} else {
		/* Nobody's fault: every job ran (again, after a device reset). */
		EXPECT_EQ(GUILTY, r.v0);
		EXPECT_EQ(0, r.g2);
		EXPECT_EQ(GUILTY2, r.v_g2);
		EXPECT_EQ(0, r.g3);
		EXPECT_EQ(GUILTY3, r.v_g3);
		EXPECT_EQ(0, r.later);
	}

	/* Counted, announced and dumped; perf counters never go back. */
	snprintf(name, sizeof(name), "queue%u_resets", QUEUE);
	EXPECT_EQ(q_resets + (variant->reset != RESET_NONE), lt_sysfs_stat(self->bdf, name));
	snprintf(name, sizeof(name), "%s_resets", engine);
	EXPECT_EQ(e_resets + (variant->reset != RESET_NONE), lt_sysfs_stat(self->bdf, name));
	EXPECT_EQ(d_resets + (variant->reset == RESET_DEVICE),
		  lt_sysfs_stat(self->bdf, "device_resets"));
	snprintf(name, sizeof(name), "%s_commands", engine);
	EXPECT_LE(commands, lt_sysfs_stat(self->bdf, name));
	if (variant->reset == RESET_NONE) {
		EXPECT_EQ(-ENOENT, lt_dump_find(self->bdf, dir, sizeof(dir)))
			TH_LOG("a devcoredump without a reset");
	} else {
		EXPECT_EQ(0, uevent_find(self->uevent_fd,
					 variant->reset == RESET_DEVICE ? "LUMEN_RESET=device" :
									  "LUMEN_RESET=queue",
					 variant->reset == RESET_DEVICE ? NULL : "LUMEN_QUEUE=0"));
		check_dump(_metadata, self->bdf, variant, guilty, r.sem_va, r.cmdbuf_va);
	}

	LT_ASSERT_DEVICE_WORKS(dev);
	accel_fence_free(done);
	accel_cmdbuf_free(cb);
	accel_bo_free(src);
	accel_bo_free(dst);
	accel_close(dev);
	EXPECT_EQ(0, lt_wait_objects(self->bdf, &self->before, &after))
		TH_LOG("leak: files %lld/%lld jobs+vms %lld/%lld fences %lld/%lld sys %lld/%lld dev %lld/%lld",
		       after.files, self->before.files, after.jobs_and_vms,
		       self->before.jobs_and_vms, after.pending_fences,
		       self->before.pending_fences, after.system_bo_bytes,
		       self->before.system_bo_bytes, after.devmem_used_bytes,
		       self->before.devmem_used_bytes);
}

/* ---- A long job that keeps making progress ------------------------------ */

#define FILL_SIZE	(32 * LT_MIB)
#define CALIB_FILLS	8
/* The most FILLs one command buffer holds (4 MiB / 64). */
#define MAX_FILLS	65536

FIXTURE(progress) {
	struct accel_info info;
	struct accel_dev *dev;
	struct accel_bo *bo;
	void *map;
};

FIXTURE_SETUP(progress)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	ASSERT_EQ(0, lt_bo_create_mapped(self->dev, FILL_SIZE, 0, &self->bo, &self->map));
}

FIXTURE_TEARDOWN(progress)
{
	if (self->bo)
		accel_bo_free(self->bo);
	if (self->dev)
		accel_close(self->dev);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* One job of @n FILLs of the whole BO, the last with @last: its result. */
static int fill_job(FIXTURE_DATA(progress) *self, unsigned int n, uint64_t last,
		    int64_t *ns)
{
	struct accel_cmdbuf *cb;
	unsigned int i;
	int64_t t0;
	int ret;

	ret = accel_cmdbuf_create(self->dev, (uint64_t)n * 64, &cb);
	for (i = 0; !ret && i < n; i++)
		ret = accel_cmd_fill(cb, accel_bo_va(self->bo), FILL_SIZE,
				     i == n - 1 ? last : i);
	t0 = now_ns();
	if (!ret)
		ret = lt_run_job(self->dev, 0, cb);
	*ns = now_ns() - t0;
	accel_cmdbuf_free(cb);
	return ret;
}

/*
 * A job that runs for several job timeouts but whose engine retires
 * commands all along is given more time, not reset (Documentation/uapi.rst,
 * "Errors and recovery": progress).  Its length is sized from a short
 * job's, so that it outlasts twice the timeout on any host; the check is
 * that it succeeds and wrote its last FILL, and no queue was reset.
 */
TEST_F_TIMEOUT(progress, long_job_with_progress_is_not_reset, 300)
{
	char buf[32], name[32], bdf[LT_BDF_LEN];
	long long resets;
	int64_t calib_ns, ns, timeout_ns;
	uint64_t n;

	ASSERT_LT(0, lt_read_file("/sys/module/lumen/parameters/job_timeout_ms", buf, sizeof(buf)));
	timeout_ns = strtoll(buf, NULL, 10) * 1000000ll;
	if (!timeout_ns)
		SKIP(return, "job_timeout_ms is 0: no timeouts");
	ASSERT_EQ(0, lt_accel_bdf(self->info.path, bdf, sizeof(bdf)));
	snprintf(name, sizeof(name), "queue%u_resets", 0);
	resets = lt_sysfs_stat(bdf, name);
	ASSERT_LE(0, resets);

	ASSERT_EQ(0, fill_job(self, CALIB_FILLS, 1, &calib_ns));
	n = (uint64_t)(3 * timeout_ns) / (uint64_t)(calib_ns / CALIB_FILLS + 1) + 1;
	if (n > MAX_FILLS)
		n = MAX_FILLS;
	TH_LOG("%d FILLs of %d MiB took %.3f s: running %llu (job timeout %.1f s)",
	       CALIB_FILLS, FILL_SIZE / LT_MIB, calib_ns / 1e9, (unsigned long long)n,
	       timeout_ns / 1e9);
	ASSERT_EQ(0, fill_job(self, (unsigned int)n, 0x70726f6772657373ull, &ns));
	EXPECT_EQ(0x70726f6772657373ull, ((volatile uint64_t *)self->map)[FILL_SIZE / 8 - 1]);
	EXPECT_EQ(resets, lt_sysfs_stat(bdf, name));
	TH_LOG("the job ran %.3f s", ns / 1e9);
	/* Else it proved nothing: the host ran it faster than calibrated. */
	if (ns <= timeout_ns)
		SKIP(return, "the job ended within one timeout (%.3f s)", ns / 1e9);
}

TEST_HARNESS_MAIN
