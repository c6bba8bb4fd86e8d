/* SPDX-License-Identifier: MIT */
/*
 * lumen-smi: memory and engine usage, from the driver's sysfs statistics
 * (per device) and the fdinfo of every open lumen file (per process).
 */
#ifndef LUMEN_SMI_USAGE_H
#define LUMEN_SMI_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <accel/accel.h>

#define SMI_MAX_ENGINES		32
#define SMI_MAX_CLIENTS		256

/* A device's counters, from /sys/class/accel/accelN/device/lumen/. */
struct smi_dev_stats {
	uint64_t devmem_total, devmem_used, system_bo, pt;
	uint64_t busy_ns[SMI_MAX_ENGINES];
	uint64_t commands[SMI_MAX_ENGINES];
	uint64_t bytes[SMI_MAX_ENGINES];
	uint64_t faults[SMI_MAX_ENGINES];
};

/* One open lumen file (a DRM client) of a process, from its fdinfo. */
struct smi_client {
	int pid;
	char comm[32];
	uint64_t client_id;
	uint64_t system_bytes, devmem_bytes;
	uint64_t system_resident, devmem_resident;
	uint64_t pt_bytes;		/* drm-lumen-pt-bytes: its page tables */
	uint64_t busy_ns[SMI_MAX_ENGINES];
};

/* "compute<e>" for a compute engine, "dma" for the last one. */
void smi_engine_name(const struct accel_info *info, uint32_t e, char *buf, size_t len);

/* Reads the device's sysfs counters: 0 or -errno. */
int smi_read_dev_stats(int index, const struct accel_info *info, struct smi_dev_stats *s);

/*
 * Finds the lumen files open on the device at PCI address @pci in every
 * process this user may inspect; returns how many (at most @max).
 */
int smi_scan_clients(const char *pci, const struct accel_info *info,
		     struct smi_client *clients, int max);

/*
 * lumen-smi memory: the device's totals and, per process, the sum over its
 * lumen files of the device.  @json: one JSON object (no newline after).
 */
/* Prints @s as a JSON string, quoted and escaped (lumen-smi.c). */
void smi_print_json_string(const char *s);

int smi_cmd_memory(int index, const char *pci, const struct accel_info *info, bool json);
int smi_cmd_top(int index, const char *pci, const struct accel_info *info,
		long iterations, double interval);

#endif
