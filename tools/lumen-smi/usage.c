// SPDX-License-Identifier: MIT
/*
 * lumen-smi memory and lumen-smi top.  Device totals come from the driver's
 * sysfs files (Documentation/uapi.rst, "Observability"); per-process
 * numbers from the drm-* keys of /proc/<pid>/fdinfo/<fd>, the same files
 * gputop and nvtop read.  A file shared by several descriptors (dup, fork)
 * is one DRM client and is counted once, by its drm-client-id.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usage.h"

void smi_engine_name(const struct accel_info *info, uint32_t e, char *buf, size_t len)
{
	if (e < info->num_cores)
		snprintf(buf, len, "compute%u", e);
	else
		snprintf(buf, len, "dma");
}

static int read_u64(const char *path, uint64_t *val)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%" SCNu64, val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int read_dev_u64(int index, const char *file, uint64_t *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/accel/accel%d/device/lumen/%s", index, file);
	return read_u64(path, val);
}

int smi_read_dev_stats(int index, const struct accel_info *info, struct smi_dev_stats *s)
{
	char name[64], engine[32];
	uint32_t e;
	int err;

	memset(s, 0, sizeof(*s));
	err = read_dev_u64(index, "devmem_total_bytes", &s->devmem_total);
	if (!err)
		err = read_dev_u64(index, "devmem_used_bytes", &s->devmem_used);
	if (!err)
		err = read_dev_u64(index, "system_bo_bytes", &s->system_bo);
	/* Older drivers have no pt_bytes: 0, not an error. */
	if (!err && read_dev_u64(index, "pt_bytes", &s->pt))
		s->pt = 0;
	for (e = 0; !err && e < info->num_engines && e < SMI_MAX_ENGINES; e++) {
		smi_engine_name(info, e, engine, sizeof(engine));
		snprintf(name, sizeof(name), "%s_busy_ns", engine);
		err = read_dev_u64(index, name, &s->busy_ns[e]);
		snprintf(name, sizeof(name), "%s_commands", engine);
		if (!err)
			err = read_dev_u64(index, name, &s->commands[e]);
		snprintf(name, sizeof(name), "%s_bytes", engine);
		if (!err)
			err = read_dev_u64(index, name, &s->bytes[e]);
		snprintf(name, sizeof(name), "%s_faults", engine);
		if (!err)
			err = read_dev_u64(index, name, &s->faults[e]);
	}
	return err;
}

/* "123 KiB" -> bytes, as drm_print_memory_stats() prints them. */
static uint64_t parse_size(const char *v)
{
	char *end;
	uint64_t n = strtoull(v, &end, 10);

	while (*end == ' ' || *end == '\t')
		end++;
	if (!strncmp(end, "KiB", 3))
		return n << 10;
	if (!strncmp(end, "MiB", 3))
		return n << 20;
	if (!strncmp(end, "GiB", 3))
		return n << 30;
	return n;
}

/* Parses one fdinfo file: true if it is a lumen file of device @pci. */
static bool parse_fdinfo(FILE *f, const char *pci, const struct accel_info *info,
			 struct smi_client *c)
{
	bool lumen = false, ours = false;
	char line[256], key[64], engine[32];
	uint32_t e;

	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		char *v;

		if (!colon || colon - line >= (long)sizeof(key))
			continue;
		memcpy(key, line, colon - line);
		key[colon - line] = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = '\0';
		if (!strcmp(key, "drm-driver"))
			lumen = !strcmp(v, "lumen");
		else if (!strcmp(key, "drm-pdev"))
			ours = !pci[0] || !strcmp(v, pci);
		else if (!strcmp(key, "drm-client-id"))
			c->client_id = strtoull(v, NULL, 10);
		else if (!strcmp(key, "drm-total-system"))
			c->system_bytes = parse_size(v);
		else if (!strcmp(key, "drm-total-devmem"))
			c->devmem_bytes = parse_size(v);
		else if (!strcmp(key, "drm-resident-system"))
			c->system_resident = parse_size(v);
		else if (!strcmp(key, "drm-resident-devmem"))
			c->devmem_resident = parse_size(v);
		else if (!strcmp(key, "drm-lumen-pt-bytes"))
			c->pt_bytes = parse_size(v);
		else if (!strncmp(key, "drm-engine-", 11))
			for (e = 0; e < info->num_engines && e < SMI_MAX_ENGINES; e++) {
				smi_engine_name(info, e, engine, sizeof(engine));
				if (!strcmp(key + 11, engine))
					c->busy_ns[e] = strtoull(v, NULL, 10);
			}
	}
	return lumen && ours;
}

static void read_comm(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static bool seen_client(const struct smi_client *clients, int n, uint64_t id)
{
	for (int i = 0; i < n; i++)
		if (clients[i].client_id == id)
			return true;
	return false;
}

static int scan_pid(int pid, const char *pci, const struct accel_info *info,
		    struct smi_client *clients, int n, int max)
{
	char path[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	dir = opendir(path);
	if (!dir)
		return n;
	while (n < max && (de = readdir(dir))) {
		struct smi_client c = { .pid = pid };
		char file[320];
		FILE *f;
		bool match;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		f = fopen(file, "r");
		if (!f)
			continue;
		match = parse_fdinfo(f, pci, info, &c);
		fclose(f);
		if (!match || seen_client(clients, n, c.client_id))
			continue;
		read_comm(pid, c.comm, sizeof(c.comm));
		clients[n++] = c;
	}
	closedir(dir);
	return n;
}

int smi_scan_clients(const char *pci, const struct accel_info *info,
		     struct smi_client *clients, int max)
{
	struct dirent *de;
	DIR *proc;
	int n = 0;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (n < max && (de = readdir(proc)))
		if (isdigit((unsigned char)de->d_name[0]))
			n = scan_pid(atoi(de->d_name), pci, info, clients, n, max);
	closedir(proc);
	return n;
}

static double mib(uint64_t bytes)
{
	return (double)bytes / (1 << 20);
}

/* A process's lumen files of one device, summed. */
struct smi_proc {
	int pid;
	char comm[32];
	int files;
	uint64_t system_bytes, system_resident, devmem_bytes, devmem_resident, pt_bytes;
};

static int cmp_proc(const void *a, const void *b)
{
	const struct smi_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Sums @clients per process into @procs (room for @n); returns how many, by pid. */
static int sum_per_process(const struct smi_client *clients, int n, struct smi_proc *procs)
{
	int np = 0;

	for (int i = 0; i < n; i++) {
		const struct smi_client *c = &clients[i];
		struct smi_proc *p = NULL;

		for (int j = 0; j < np && !p; j++)
			if (procs[j].pid == c->pid)
				p = &procs[j];
		if (!p) {
			p = &procs[np++];
			memset(p, 0, sizeof(*p));
			p->pid = c->pid;
			snprintf(p->comm, sizeof(p->comm), "%s", c->comm);
		}
		p->files++;
		p->system_bytes += c->system_bytes;
		p->system_resident += c->system_resident;
		p->devmem_bytes += c->devmem_bytes;
		p->devmem_resident += c->devmem_resident;
		p->pt_bytes += c->pt_bytes;
	}
	qsort(procs, np, sizeof(*procs), cmp_proc);
	return np;
}

static void print_memory_json(int index, const char *pci, const struct smi_dev_stats *s,
			      const struct smi_proc *procs, int np)
{
	printf("    {\n      \"index\": %d,\n      \"pci_address\": ", index);
	if (pci[0])
		smi_print_json_string(pci);
	else
		printf("null");
	printf(",\n      \"devmem_total_bytes\": %" PRIu64 ",\n      \"devmem_used_bytes\": %"
	       PRIu64 ",\n      \"system_bo_bytes\": %" PRIu64 ",\n      \"pt_bytes\": %"
	       PRIu64 ",\n      \"processes\": [", s->devmem_total, s->devmem_used,
	       s->system_bo, s->pt);
	for (int i = 0; i < np; i++) {
		const struct smi_proc *p = &procs[i];

		printf("%s\n        { \"pid\": %d, \"comm\": ", i ? "," : "", p->pid);
		smi_print_json_string(p->comm);
		printf(", \"files\": %d, \"system_bytes\": %" PRIu64
		       ", \"system_resident_bytes\": %" PRIu64 ", \"devmem_bytes\": %" PRIu64
		       ", \"devmem_resident_bytes\": %" PRIu64 ", \"pt_bytes\": %" PRIu64 " }",
		       p->files, p->system_bytes, p->system_resident, p->devmem_bytes,
		       p->devmem_resident, p->pt_bytes);
	}
	printf("%s]\n    }", np ? "\n      " : "");
}

int smi_cmd_memory(int index, const char *pci, const struct accel_info *info, bool json)
{
	static struct smi_client clients[SMI_MAX_CLIENTS];
	static struct smi_proc procs[SMI_MAX_CLIENTS];
	struct smi_dev_stats s;
	int n, np, err;

	err = smi_read_dev_stats(index, info, &s);
	if (err) {
		fprintf(stderr, "lumen-smi: cannot read the statistics of accel%d: %s\n",
			index, strerror(-err));
		return 1;
	}
	n = smi_scan_clients(pci, info, clients, SMI_MAX_CLIENTS);
	np = sum_per_process(clients, n, procs);
	if (json) {
		print_memory_json(index, pci, &s, procs, np);
		return 0;
	}
	printf("accel%d %s: device memory %.1f / %.1f MiB used, system BOs %.1f MiB, "
	       "page tables %.1f MiB\n", index, pci[0] ? pci : "-", mib(s.devmem_used),
	       mib(s.devmem_total), mib(s.system_bo), mib(s.pt));
	printf("%8s  %-16s  %5s  %12s  %12s  %12s  %12s  %10s\n", "PID", "COMMAND", "FILES",
	       "SYSTEM MiB", "SYS RES MiB", "DEVMEM MiB", "DEV RES MiB", "PT KiB");
	for (int i = 0; i < np; i++)
		printf("%8d  %-16s  %5d  %12.1f  %12.1f  %12.1f  %12.1f  %10.0f\n",
		       procs[i].pid, procs[i].comm, procs[i].files, mib(procs[i].system_bytes),
		       mib(procs[i].system_resident), mib(procs[i].devmem_bytes),
		       mib(procs[i].devmem_resident), procs[i].pt_bytes / 1024.0);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static double percent(uint64_t delta_ns, double wall_s)
{
	double p = wall_s > 0 ? delta_ns / (wall_s * 1e9) * 100 : 0;

	return p > 100 ? 100 : p;
}

/*
 * The client at the previous refresh; a client opened since then has all
 * of its busy time within the interval.
 */
static const struct smi_client *find_client(const struct smi_client *prev, int n,
					    const struct smi_client *c)
{
	for (int i = 0; i < n; i++)
		if (prev[i].client_id == c->client_id && prev[i].pid == c->pid)
			return &prev[i];
	return NULL;
}

static void print_top(int index, const char *pci, const struct accel_info *info,
		      const struct smi_dev_stats *s, const struct smi_dev_stats *ps,
		      const struct smi_client *cl, int n, const struct smi_client *pcl, int pn,
		      double wall)
{
	char engine[32];
	uint32_t e, ne = info->num_engines < SMI_MAX_ENGINES ? info->num_engines :
							      SMI_MAX_ENGINES;

	/* Cursor home, clear the screen: the table redraws in place. */
	printf("\033[H\033[J");
	printf("lumen-smi top: accel%d %s, every %.1f s; device memory %.1f / %.1f MiB, "
	       "system BOs %.1f MiB\n\n", index, pci[0] ? pci : "-", wall,
	       mib(s->devmem_used), mib(s->devmem_total), mib(s->system_bo));
	printf("%-10s  %6s  %12s  %12s  %8s\n", "ENGINE", "BUSY%", "COMMANDS/s", "MiB/s",
	       "FAULTS");
	for (e = 0; e < ne; e++) {
		smi_engine_name(info, e, engine, sizeof(engine));
		printf("%-10s  %6.1f  %12.0f  %12.1f  %8" PRIu64 "\n", engine,
		       percent(s->busy_ns[e] - ps->busy_ns[e], wall),
		       (s->commands[e] - ps->commands[e]) / wall,
		       mib(s->bytes[e] - ps->bytes[e]) / wall, s->faults[e]);
	}
	printf("\n%8s  %-16s  %10s  %10s", "PID", "COMMAND", "SYS MiB", "DEV MiB");
	for (e = 0; e < ne; e++) {
		smi_engine_name(info, e, engine, sizeof(engine));
		printf("  %9s", engine);
	}
	putchar('\n');
	for (int i = 0; i < n; i++) {
		const struct smi_client *p = find_client(pcl, pn, &cl[i]);

		printf("%8d  %-16s  %10.1f  %10.1f", cl[i].pid, cl[i].comm,
		       mib(cl[i].system_bytes), mib(cl[i].devmem_bytes));
		for (e = 0; e < ne; e++)
			printf("  %8.1f%%", percent(cl[i].busy_ns[e] - (p ? p->busy_ns[e] : 0),
						   wall));
		putchar('\n');
	}
	fflush(stdout);
}

int smi_cmd_top(int index, const char *pci, const struct accel_info *info,
		long iterations, double interval)
{
	static struct smi_client clients[2][SMI_MAX_CLIENTS];
	struct smi_dev_stats stats[2];
	int n[2], cur = 0, err;
	double t[2];

	err = smi_read_dev_stats(index, info, &stats[cur]);
	if (err) {
		fprintf(stderr, "lumen-smi: cannot read the statistics of accel%d: %s\n",
			index, strerror(-err));
		return 1;
	}
	n[cur] = smi_scan_clients(pci, info, clients[cur], SMI_MAX_CLIENTS);
	t[cur] = now_s();
	for (long it = 0; iterations <= 0 || it < iterations; it++) {
		int prev = cur;

		sleep_s(interval);
		cur = !cur;
		err = smi_read_dev_stats(index, info, &stats[cur]);
		if (err) {
			fprintf(stderr, "lumen-smi: accel%d went away: %s\n", index,
				strerror(-err));
			return 1;
		}
		n[cur] = smi_scan_clients(pci, info, clients[cur], SMI_MAX_CLIENTS);
		t[cur] = now_s();
		print_top(index, pci, info, &stats[cur], &stats[prev], clients[cur], n[cur],
			  clients[prev], n[prev], t[cur] - t[prev]);
	}
	return 0;
}
