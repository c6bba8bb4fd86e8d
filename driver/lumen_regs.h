/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Lumen accelerator: hardware interface (registers and command formats).
 *
 * This header is the single source of truth for the device programming
 * model.  It is included by the kernel driver and, unchanged, by the QEMU
 * device model, so it holds only preprocessor constants: no types, no
 * kernel- or QEMU-specific helpers.  Documentation/device.rst explains
 * every value defined here.
 *
 * All registers are little-endian.  32-bit registers take aligned 32-bit
 * accesses; 64-bit registers ("64" below) take an aligned 64-bit access or
 * two 32-bit accesses to their halves.  LUMEN_Q_RING_BASE is read by the
 * device only when the queue is enabled, so the order of its two halves
 * does not matter; a 32-bit write to a half of LUMEN_REG_IRQ_STATUS or
 * LUMEN_REG_IRQ_MASK acts on that half alone.
 */
#ifndef LUMEN_REGS_H
#define LUMEN_REGS_H

/* ---- PCI identity ------------------------------------------------------ */
#define LUMEN_PCI_VENDOR_ID		0x1234
#define LUMEN_PCI_DEVICE_ID		0x4c4e
#define LUMEN_PCI_CLASS			0x1200	/* processing accelerator */
#define LUMEN_PCI_REVISION		0x01

#define LUMEN_BAR_REGS			0	/* 64-bit, 64 KiB */
#define LUMEN_BAR_DEVMEM		2	/* 64-bit, prefetchable */
#define LUMEN_BAR_DOORBELL		4	/* 64-bit, 4 KiB per queue */

#define LUMEN_REGS_SIZE			0x10000
#define LUMEN_DOORBELL_STRIDE		0x1000

/* ---- Limits -------------------------------------------------------------- */
#define LUMEN_MAX_QUEUES		64
#define LUMEN_MAX_CORES			16
#define LUMEN_RING_MIN_ENTRIES		2
#define LUMEN_RING_MAX_ENTRIES		65536
#define LUMEN_SGL_MAX_ENTRIES		(1u << 20)

/* ---- Global registers (BAR0) ------------------------------------------- */
#define LUMEN_REG_ID			0x0000	/* RO: LUMEN_ID_MAGIC */
#define   LUMEN_ID_MAGIC		0x4c554d4eu	/* "LUMN" */
#define LUMEN_REG_VERSION		0x0004	/* RO: major << 16 | minor */
#define   LUMEN_VERSION_MAJOR(v)	((v) >> 16)
#define   LUMEN_VERSION_MINOR(v)	((v) & 0xffff)
#define   LUMEN_HW_VERSION		0x00000001u	/* 0.1: walking skeleton */
#define LUMEN_REG_CAPS			0x0008	/* RO: LUMEN_CAP_* */
#define   LUMEN_CAP_SGL			(1u << 0)	/* COPY takes SGLs */
#define   LUMEN_CAP_FAULT_INJECTION	(1u << 1)
#define LUMEN_REG_NUM_CORES		0x000c	/* RO: compute engines */
#define LUMEN_REG_NUM_QUEUES		0x0010	/* RO: hardware queues */
#define LUMEN_REG_NUM_VECTORS		0x0014	/* RO: MSI-X vectors */
#define LUMEN_REG_DEVMEM_SIZE		0x0018	/* RO 64: bytes in BAR2 */
#define LUMEN_REG_CONTROL		0x0020	/* RW */
#define   LUMEN_CONTROL_ENABLE		(1u << 0)
#define   LUMEN_CONTROL_RESET		(1u << 1)	/* self-clearing */
#define LUMEN_REG_STATUS		0x0024	/* RO */
#define   LUMEN_STATUS_READY		(1u << 0)	/* enabled, not in reset */
#define   LUMEN_STATUS_FATAL		(1u << 1)	/* needs a global reset */
#define LUMEN_REG_ERROR_QUEUES		0x0028	/* RO 64: queues in error */
#define LUMEN_REG_TIMESTAMP		0x0030	/* RO 64: ns since reset */
#define LUMEN_REG_SCRATCH		0x0038	/* RW 32: for the driver */
#define LUMEN_REG_IRQ_STATUS		0x0040	/* RW1C 64: bit q, queue q raised */
#define LUMEN_REG_IRQ_MASK		0x0048	/* RW 64: bit q masks queue q's vector */
#define LUMEN_TIMESTAMP_FREQ		1000000000ull	/* Hz: the counter counts ns */

/* ---- Per-queue registers (BAR0) ---------------------------------------- */
#define LUMEN_QUEUE_BASE		0x1000
#define LUMEN_QUEUE_STRIDE		0x40
#define LUMEN_QUEUE_REG(q, r)		(LUMEN_QUEUE_BASE + (q) * LUMEN_QUEUE_STRIDE + (r))

#define LUMEN_Q_RING_BASE		0x00	/* RW 64: DMA addr, 4 KiB aligned */
#define LUMEN_Q_RING_SIZE		0x08	/* RW: entries, power of two */
#define LUMEN_Q_CONTROL			0x0c	/* RW */
#define   LUMEN_Q_CONTROL_ENABLE	(1u << 0)
#define   LUMEN_Q_CONTROL_RESET		(1u << 1)	/* self-clearing */
#define LUMEN_Q_HEAD			0x10	/* RO: next entry to execute */
#define LUMEN_Q_TAIL			0x14	/* RW: same as the doorbell */
#define LUMEN_Q_STATUS			0x18	/* RO */
#define   LUMEN_Q_STATUS_ENABLED	(1u << 0)
#define   LUMEN_Q_STATUS_IDLE		(1u << 1)	/* head == tail, not running */
#define   LUMEN_Q_STATUS_ERROR		(1u << 2)	/* stopped on an error */
#define LUMEN_Q_ERROR			0x1c	/* RO: LUMEN_ERR_* */
#define LUMEN_Q_ERROR_HEAD		0x20	/* RO: ring index of bad entry */
#define LUMEN_Q_ENGINE			0x24	/* RW: engine this queue feeds */
#define LUMEN_Q_COMPLETED		0x28	/* RO 64: commands retired */

/* Error codes latched in LUMEN_Q_ERROR. */
#define LUMEN_ERR_NONE			0
#define LUMEN_ERR_BAD_OPCODE		1	/* unknown opcode */
#define LUMEN_ERR_BAD_CMD		2	/* reserved field/flag set, bad size */
#define LUMEN_ERR_BAD_RING		3	/* ring base/size invalid */
#define LUMEN_ERR_BAD_TAIL		4	/* tail >= ring size */
#define LUMEN_ERR_DMA			5	/* a DMA access failed */
#define LUMEN_ERR_DEVMEM_RANGE		6	/* outside device memory */
#define LUMEN_ERR_ALIGN			7	/* misaligned address */
#define LUMEN_ERR_SGL			8	/* malformed scatter list */
#define LUMEN_ERR_BAD_ENGINE		9	/* LUMEN_Q_ENGINE out of range */

/* ---- MSI-X -------------------------------------------------------------- */
/* Vector q (q < NUM_QUEUES) signals queue q; vector NUM_QUEUES is errors. */
#define LUMEN_MSIX_TABLE_OFFSET		0x8000
#define LUMEN_MSIX_PBA_OFFSET		0xc000

/* ---- Commands ------------------------------------------------------------ */
/*
 * Every ring entry is 64 bytes: an 8-byte header and seven 64-bit argument
 * words.  Header: byte 0 opcode, byte 1 flags, bytes 2..7 must be zero.
 */
#define LUMEN_CMD_SIZE			64
#define LUMEN_CMD_ARGS			7

#define LUMEN_OP_NOP			0x00
#define LUMEN_OP_FENCE			0x01
/* arg0: DMA address (8-byte aligned), arg1: 64-bit value; rest zero. */
#define   LUMEN_FENCE_IRQ		(1u << 0)	/* then raise the queue's vector */
#define LUMEN_OP_COPY			0x10
/*
 * arg0: source address, arg1: source offset, arg2: destination address,
 * arg3: destination offset, arg4: byte count (1 .. 2^40),
 * arg5: source SGL entry count, arg6: destination SGL entry count.
 * Each side is addressed as its flags say:
 *   neither flag: a bus (DMA) address; address + offset is used;
 *   *_DEVMEM: device memory; address must be 0, offset is into BAR2;
 *   *_SGL: address is the bus address (16-byte aligned) of a scatter list
 *          of arg5/arg6 entries { u64 addr; u64 len; }, offset is into
 *          the concatenation of the entries' ranges.
 * The SGL count of a side that is not an SGL must be zero.
 */
#define   LUMEN_COPY_SRC_DEVMEM		(1u << 0)
#define   LUMEN_COPY_SRC_SGL		(1u << 1)
#define   LUMEN_COPY_DST_DEVMEM		(1u << 2)
#define   LUMEN_COPY_DST_SGL		(1u << 3)
#define LUMEN_COPY_MAX_SIZE		(1ull << 40)
#define LUMEN_SGL_ENTRY_SIZE		16

#endif /* LUMEN_REGS_H */
