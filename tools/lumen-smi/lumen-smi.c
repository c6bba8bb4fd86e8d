// SPDX-License-Identifier: MIT
/*
 * lumen-smi: list the lumen accelerators of this machine and describe one.
 *
 *   lumen-smi [-j]            every device, one line each (-j: JSON)
 *   lumen-smi [-j] info N     everything known about /dev/accel/accelN
 *   lumen-smi [-j] memory [N] memory of device N (default: every device), in
 *                             total and per process (-j: JSON, exact bytes)
 *   lumen-smi [-n COUNT] [-d SECS] top [N]
 *                             live engine and process utilisation (usage.c)
 *
 * Exit status: 0 on success; 1 if no device was found or one could not be
 * opened or queried; 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <accel/accel.h>
#include <lumen_regs.h>

#include "usage.h"

#define PROG	"lumen-smi"

/* A device as lumen-smi shows it. */
struct smi_device {
	int index;
	char pci[32];		/* PCI address, "" if unknown */
	struct accel_info info;
};

static const struct {
	uint32_t bit;
	const char *name;
} cap_names[] = {
	{ LUMEN_CAP_FAULT_INJECTION, "fault-injection" },
	{ LUMEN_CAP_MMU, "mmu" },
	{ LUMEN_CAP_OPERATORS, "operators" },
	{ LUMEN_CAP_DIRECT_QUEUES, "direct_queues" },
};

#define N_CAPS (sizeof(cap_names) / sizeof(cap_names[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [-j] [-n COUNT] [-d SECS] [info N | memory [N] | top [N]]\n"
		"  (no command)  list every lumen device\n"
		"  info N        describe /dev/accel/accelN\n"
		"  memory [N]    memory used on accelN (default: every device), in total and\n"
		"                per process\n"
		"  top [N]       engine and process utilisation of accelN, refreshed in place\n"
		"  -n COUNT      top: stop after COUNT refreshes (default: run until killed)\n"
		"  -d SECS       top: refresh interval in seconds (default 1)\n"
		"  -j, --json    print JSON instead of text (list, info, memory)\n"
		"  -h, --help    print this help\n");
}

/* The PCI address of accelN, from its sysfs device link; "" if unknown. */
static void read_pci_address(int index, char *buf, size_t len)
{
	char link[64], target[PATH_MAX];
	const char *base;
	ssize_t n;

	buf[0] = '\0';
	snprintf(link, sizeof(link), "/sys/class/accel/accel%d/device", index);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	/* "dddd:bb:dd.f"; anything longer is not a PCI address. */
	if (strlen(base) < len)
		memcpy(buf, base, strlen(base) + 1);
}

static int load_device(int index, struct smi_device *d)
{
	struct accel_dev *dev;
	int err;

	d->index = index;
	read_pci_address(index, d->pci, sizeof(d->pci));
	err = accel_open(index, &dev);
	if (err) {
		fprintf(stderr, PROG ": cannot open /dev/accel/accel%d: %s\n",
			index, accel_strerror(err));
		return err;
	}
	err = accel_query(dev, &d->info);
	if (err)
		fprintf(stderr, PROG ": cannot query /dev/accel/accel%d: %s\n",
			index, accel_strerror(err));
	accel_close(dev);
	return err;
}

/* "256 MiB", "1 GiB", or the byte count when it is no whole MiB. */
static void format_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes && !(bytes % (1ull << 30)))
		snprintf(buf, len, "%" PRIu64 " GiB", bytes >> 30);
	else if (bytes && !(bytes % (1ull << 20)))
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " B", bytes);
}

/* Capability names separated by @sep, "bitN" for unknown bits, "-" for none. */
static void format_caps(uint32_t caps, const char *sep, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int bit = 0; bit < 32 && used < len; bit++) {
		const char *name = NULL;
		char unknown[8];

		if (!(caps & (1u << bit)))
			continue;
		for (size_t i = 0; i < N_CAPS; i++)
			if (cap_names[i].bit == 1u << bit)
				name = cap_names[i].name;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "bit%u", bit);
			name = unknown;
		}
		used += snprintf(buf + used, len - used, "%s%s", used ? sep : "", name);
	}
	if (!used)
		snprintf(buf, len, "-");
}

/* ---- Text ---------------------------------------------------------------- */

static void print_table_header(void)
{
	printf("%-3s  %-18s  %-12s  %-9s  %-5s  %5s  %6s  %-9s  %s\n", "IDX",
	       "PATH", "PCI ADDRESS", "ID", "HW", "CORES", "QUEUES", "MEMORY",
	       "CAPS");
}

static void print_table_row(const struct smi_device *d)
{
	const struct accel_info *i = &d->info;
	char mem[32], caps[256], hw[16];

	format_size(i->devmem_size, mem, sizeof(mem));
	format_caps(i->caps, ",", caps, sizeof(caps));
	snprintf(hw, sizeof(hw), "%u.%u", LUMEN_VERSION_MAJOR(i->hw_version),
		 LUMEN_VERSION_MINOR(i->hw_version));
	printf("%-3d  %-18s  %-12s  %04x:%04x  %-5s  %5u  %6u  %-9s  %s\n",
	       d->index, i->path, d->pci[0] ? d->pci : "-", i->vendor_id,
	       i->device_id, hw, i->num_cores, i->num_queues + i->num_direct_queues,
	       mem, caps);
}

static void print_info_text(const struct smi_device *d)
{
	const struct accel_info *i = &d->info;
	char mem[32], caps[256];

	format_size(i->devmem_size, mem, sizeof(mem));
	format_caps(i->caps, ", ", caps, sizeof(caps));
	printf("lumen device %d\n", d->index);
	printf("  %-22s %s\n", "path", i->path);
	printf("  %-22s %s\n", "PCI address", d->pci[0] ? d->pci : "unknown");
	printf("  %-22s %04x:%04x\n", "PCI vendor:device", i->vendor_id, i->device_id);
	printf("  %-22s %s\n", "driver", i->driver);
	printf("  %-22s %u.%u\n", "hardware version",
	       LUMEN_VERSION_MAJOR(i->hw_version), LUMEN_VERSION_MINOR(i->hw_version));
	printf("  %-22s %u\n", "compute cores", i->num_cores);
	printf("  %-22s %u (DMA engine: %u)\n", "engines", i->num_engines,
	       i->num_engines ? i->num_engines - 1 : 0);
	printf("  %-22s %u (%u kernel, %u direct)\n", "hardware queues",
	       i->num_queues + i->num_direct_queues, i->num_queues, i->num_direct_queues);
	printf("  %-22s %u\n", "MMU contexts", i->num_contexts);
	printf("  %-22s %s (%" PRIu64 " bytes)\n", "device memory", mem, i->devmem_size);
	printf("  %-22s 0x%08x (%s)\n", "capabilities", i->caps, caps);
	printf("  %-22s %u bytes\n", "max command buffer", i->max_cmdbuf_size);
	printf("  %-22s 0x%" PRIx64 " - 0x%" PRIx64 "\n", "device VA range",
	       i->va_start, i->va_end);
	printf("  %-22s %" PRIu64 " Hz\n", "timestamp frequency", i->timestamp_freq);
}

/* ---- JSON ---------------------------------------------------------------- */

void smi_print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_device_json(const struct smi_device *d, const char *indent)
{
	const struct accel_info *i = &d->info;
	bool first = true;

	printf("%s{\n%s  \"index\": %d,\n%s  \"path\": ", indent, indent, d->index, indent);
	smi_print_json_string(i->path);
	printf(",\n%s  \"pci_address\": ", indent);
	if (d->pci[0])
		smi_print_json_string(d->pci);
	else
		printf("null");
	printf(",\n%s  \"vendor_id\": %u,\n%s  \"device_id\": %u,\n",
	       indent, i->vendor_id, indent, i->device_id);
	printf("%s  \"driver\": ", indent);
	smi_print_json_string(i->driver);
	printf(",\n%s  \"hw_version\": \"%u.%u\",\n", indent,
	       LUMEN_VERSION_MAJOR(i->hw_version), LUMEN_VERSION_MINOR(i->hw_version));
	printf("%s  \"cores\": %u,\n%s  \"engines\": %u,\n", indent, i->num_cores,
	       indent, i->num_engines);
	printf("%s  \"queues\": %u,\n%s  \"direct_queues\": %u,\n", indent, i->num_queues,
	       indent, i->num_direct_queues);
	printf("%s  \"contexts\": %u,\n", indent, i->num_contexts);
	printf("%s  \"devmem_bytes\": %" PRIu64 ",\n", indent, i->devmem_size);
	printf("%s  \"caps\": %u,\n%s  \"cap_names\": [", indent, i->caps, indent);
	for (size_t c = 0; c < N_CAPS; c++) {
		if (!(i->caps & cap_names[c].bit))
			continue;
		printf("%s", first ? "" : ", ");
		smi_print_json_string(cap_names[c].name);
		first = false;
	}
	printf("],\n%s  \"max_cmdbuf_size\": %u,\n", indent, i->max_cmdbuf_size);
	printf("%s  \"va_start\": %" PRIu64 ",\n%s  \"va_end\": %" PRIu64 ",\n",
	       indent, i->va_start, indent, i->va_end);
	printf("%s  \"timestamp_freq_hz\": %" PRIu64 "\n%s}", indent,
	       i->timestamp_freq, indent);
}

/* ---- Commands ------------------------------------------------------------ */

static int cmd_list(bool json)
{
	int indices[ACCEL_MAX_DEVICES];
	int count, shown = 0, status = 0;
	struct smi_device d;

	count = accel_list(indices, ACCEL_MAX_DEVICES);
	if (count < 0) {
		fprintf(stderr, PROG ": cannot list devices: %s\n", accel_strerror(count));
		return 1;
	}
	if (count > ACCEL_MAX_DEVICES) {
		fprintf(stderr, PROG ": %d devices, showing the first %d\n", count,
			ACCEL_MAX_DEVICES);
		count = ACCEL_MAX_DEVICES;
	}

	if (json)
		printf("{\n  \"devices\": [");
	else if (count)
		print_table_header();
	for (int n = 0; n < count; n++) {
		if (load_device(indices[n], &d)) {
			status = 1;
			continue;
		}
		if (json) {
			printf("%s\n", shown ? "," : "");
			print_device_json(&d, "    ");
		} else {
			print_table_row(&d);
		}
		shown++;
	}
	if (json)
		printf("%s]\n}\n", shown ? "\n  " : "");

	if (!count) {
		fprintf(stderr, PROG ": no lumen device found (is lumen.ko loaded?)\n");
		return 1;
	}
	return status;
}

static int cmd_info(const char *arg, bool json)
{
	struct smi_device d;
	char *end;
	long index;

	errno = 0;
	index = strtol(arg, &end, 10);
	if (errno || end == arg || *end || index < 0 || index > INT_MAX) {
		fprintf(stderr, PROG ": '%s' is not a device index\n", arg);
		return 2;
	}
	if (load_device((int)index, &d))
		return 1;
	if (json) {
		print_device_json(&d, "");
		putchar('\n');
	} else {
		print_info_text(&d);
	}
	return 0;
}

/* A device index argument: 0 .. INT_MAX, or -1 (said so) if it is none. */
static long parse_index(const char *arg)
{
	char *end;
	long index;

	errno = 0;
	index = strtol(arg, &end, 10);
	if (errno || end == arg || *end || index < 0 || index > INT_MAX) {
		fprintf(stderr, PROG ": '%s' is not a device index\n", arg);
		return -1;
	}
	return index;
}

/* top: the device index (default 0) and its PCI address. */
static int usage_cmd(const char *arg, long iterations, double interval)
{
	struct smi_device d;
	long index = arg ? parse_index(arg) : 0;

	if (index < 0)
		return 2;
	if (load_device((int)index, &d))
		return 1;
	return smi_cmd_top(d.index, d.pci, &d.info, iterations, interval);
}

/* memory: device @arg, or every device without it. */
static int cmd_memory(const char *arg, bool json)
{
	int indices[ACCEL_MAX_DEVICES];
	int count, shown = 0, status = 0;
	struct smi_device d;

	if (arg) {
		long index = parse_index(arg);

		if (index < 0)
			return 2;
		indices[0] = (int)index;
		count = 1;
	} else {
		count = accel_list(indices, ACCEL_MAX_DEVICES);
		if (count < 0) {
			fprintf(stderr, PROG ": cannot list devices: %s\n",
				accel_strerror(count));
			return 1;
		}
		if (!count) {
			fprintf(stderr, PROG ": no lumen device found (is lumen.ko loaded?)\n");
			return 1;
		}
		if (count > ACCEL_MAX_DEVICES)
			count = ACCEL_MAX_DEVICES;
	}
	if (json)
		printf("{\n  \"devices\": [");
	for (int n = 0; n < count; n++) {
		if (load_device(indices[n], &d)) {
			status = 1;
			continue;
		}
		if (json)
			printf("%s\n", shown ? "," : "");
		else if (shown)
			putchar('\n');
		if (smi_cmd_memory(d.index, d.pci, &d.info, json))
			status = 1;
		else
			shown++;
	}
	if (json)
		printf("%s]\n}\n", shown ? "\n  " : "");
	return status;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	double interval = 1.0;
	long iterations = 0;
	bool json = false;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "jhn:d:", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end || end == optarg || iterations <= 0) {
				fprintf(stderr, PROG ": -n wants a positive count\n");
				return 2;
			}
			break;
		case 'd':
			interval = strtod(optarg, &end);
			if (*end || end == optarg || !(interval > 0 && interval <= 3600)) {
				fprintf(stderr, PROG ": -d wants seconds in (0, 3600]\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	if (optind == argc)
		return cmd_list(json);
	if (!strcmp(argv[optind], "info") && argc - optind == 2)
		return cmd_info(argv[optind + 1], json);
	if (!strcmp(argv[optind], "memory") && argc - optind <= 2)
		return cmd_memory(argc - optind == 2 ? argv[optind + 1] : NULL, json);
	if (!strcmp(argv[optind], "top") && argc - optind <= 2)
		return usage_cmd(argc - optind == 2 ? argv[optind + 1] : NULL, iterations,
				 interval);
	usage(stderr);
	return 2;
}
