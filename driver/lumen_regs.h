/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Lumen accelerator: hardware interface (registers and command formats).
 *
 * This header is the single source of truth for the device programming
 * model.  It is included by the kernel driver, unchanged by the QEMU device
 * model, and by the QEMU-independent command core, fuzzer and libaccel, so
 * it holds only preprocessor constants: no types, no kernel- or
 * QEMU-specific helpers.  Documentation/device.rst (registers, queues, MMU)
 * and Documentation/commands.rst (command and descriptor encodings) explain
 * every value defined here.
 *
 * All registers are little-endian.  32-bit registers take aligned 32-bit
 * accesses; 64-bit registers ("64" below) take an aligned 64-bit access or
 * two 32-bit accesses to their halves.  LUMEN_Q_RING_BASE and
 * LUMEN_MMU_CTX_ROOT are read by the device only when used, so the order of
 * their two halves does not matter; a 32-bit write to a half of
 * LUMEN_REG_IRQ_STATUS or LUMEN_REG_IRQ_MASK acts on that half alone.
 */
#ifndef LUMEN_REGS_H
#define LUMEN_REGS_H

/* ---- PCI identity ------------------------------------------------------ */
#define LUMEN_PCI_VENDOR_ID		0x1234
#define LUMEN_PCI_DEVICE_ID		0x4c4e
#define LUMEN_PCI_CLASS			0x1200	/* processing accelerator */
#define LUMEN_PCI_REVISION		0x02

#define LUMEN_BAR_REGS			0	/* 64-bit, 64 KiB */
#define LUMEN_BAR_DEVMEM		2	/* 64-bit, prefetchable */
#define LUMEN_BAR_DOORBELL		4	/* 64-bit, 4 KiB per queue */

#define LUMEN_REGS_SIZE			0x10000
#define LUMEN_DOORBELL_STRIDE		0x1000

/* ---- Limits -------------------------------------------------------------- */
#define LUMEN_MAX_QUEUES		64
#define LUMEN_MAX_CORES			16
#define LUMEN_MAX_ENGINES		(LUMEN_MAX_CORES + 1)
#define LUMEN_NUM_CONTEXTS		64	/* MMU contexts, 0 is the kernel's */
#define LUMEN_RING_MIN_ENTRIES		2
#define LUMEN_RING_MAX_ENTRIES		65536

/* ---- Global registers (BAR0) ------------------------------------------- */
#define LUMEN_REG_ID			0x0000	/* RO: LUMEN_ID_MAGIC */
#define   LUMEN_ID_MAGIC		0x4c554d4eu	/* "LUMN" */
#define LUMEN_REG_VERSION		0x0004	/* RO: major << 16 | minor */
#define   LUMEN_VERSION_MAJOR(v)	((v) >> 16)
#define   LUMEN_VERSION_MINOR(v)	((v) & 0xffff)
#define   LUMEN_HW_VERSION		0x00010001u	/* 1.1: direct queues */
#define LUMEN_REG_CAPS			0x0008	/* RO: LUMEN_CAP_* */
#define   LUMEN_CAP_FAULT_INJECTION	(1u << 1)
#define   LUMEN_CAP_MMU			(1u << 2)
#define   LUMEN_CAP_OPERATORS		(1u << 3)
#define   LUMEN_CAP_DIRECT_QUEUES	(1u << 4)	/* 1.1: LUMEN_QUEUE_CTX */
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
#define LUMEN_REG_NUM_CONTEXTS		0x003c	/* RO: LUMEN_NUM_CONTEXTS */
#define LUMEN_REG_IRQ_STATUS		0x0040	/* RW1C 64: bit q, queue q raised */
#define LUMEN_REG_IRQ_MASK		0x0048	/* RW 64: bit q masks queue q's vector */
#define LUMEN_REG_NUM_ENGINES		0x0050	/* RO: cores + 1 (DMA engine last) */
#define LUMEN_TIMESTAMP_FREQ		1000000000ull	/* Hz: the counter counts ns */

/* ---- Device MMU (BAR0) --------------------------------------------------- */
/*
 * Context c's page-table root: bus address of its level-3 table (4 KiB
 * aligned) | LUMEN_MMU_ROOT_VALID.  Context 0 is the kernel's bypass
 * context: its addresses are bus addresses (or device memory with
 * LUMEN_CTX0_DEVMEM) and LUMEN_MMU_CTX_ROOT(0) reads 0 and ignores writes.
 * Changing a root needs an invalidation of that context.
 */
#define LUMEN_MMU_CTX_ROOT_BASE		0x2000
#define LUMEN_MMU_CTX_ROOT(c)		(LUMEN_MMU_CTX_ROOT_BASE + (c) * 8)	/* RW 64 */
#define   LUMEN_MMU_ROOT_VALID		(1ull << 0)
/*
 * Write a context number to drop its cached translations, or
 * LUMEN_MMU_INVALIDATE_ALL for every context.  Synchronous: a command the
 * device starts after the write completes sees the new page tables.
 */
#define LUMEN_REG_MMU_INVALIDATE	0x0080	/* WO */
#define   LUMEN_MMU_INVALIDATE_ALL	(1u << 31)
/* The first MMU fault since the last clear; later faults are not latched. */
#define LUMEN_REG_FAULT_STATUS		0x0084	/* RW1C: LUMEN_FAULT_VALID */
#define   LUMEN_FAULT_VALID		(1u << 0)
#define LUMEN_REG_FAULT_INFO		0x0088	/* RO: LUMEN_FAULT_INFO_* */
#define LUMEN_REG_FAULT_VA		0x0090	/* RO 64: faulting device VA */

/*
 * FAULT_INFO, also in LUMEN_Q_FAULT_INFO: bits 0..7 reason, bit 8 set for a
 * write access, bits 16..23 context, bits 24..31 queue.
 */
#define   LUMEN_FAULT_INFO_REASON(i)	((i) & 0xff)
#define   LUMEN_FAULT_INFO_WRITE	(1u << 8)
#define   LUMEN_FAULT_INFO_CONTEXT(i)	(((i) >> 16) & 0xff)
#define   LUMEN_FAULT_INFO_QUEUE(i)	(((i) >> 24) & 0xff)
#define   LUMEN_FAULT_NOT_PRESENT	1	/* no valid PTE on the walk */
#define   LUMEN_FAULT_READ_ONLY		2	/* write to a PTE without WRITABLE */
#define   LUMEN_FAULT_DEVMEM_RANGE	3	/* DEVMEM PTE beyond device memory */
#define   LUMEN_FAULT_BAD_PTE		4	/* reserved PTE bits, unreadable table */
#define   LUMEN_FAULT_VA_RANGE		5	/* VA not below 2^48 */
#define   LUMEN_FAULT_BAD_CONTEXT	6	/* context has no valid root */
#define   LUMEN_FAULT_INJECTED		7	/* LUMEN_FI_MMU_FAULT */

/*
 * Page tables: 4 levels of 512 64-bit entries in 4 KiB tables in system
 * memory; VA bits 47..39 index level 3 (the root), 38..30 level 2, 29..21
 * level 1, 20..12 level 0 (the leaves).  Entry: VALID, and bits 12..51 the
 * bus address of the next table (levels 3..1) or of the 4 KiB page (level
 * 0; with DEVMEM, a byte offset into device memory instead).  WRITABLE and
 * DEVMEM are only allowed in leaves; every other bit must be zero.
 */
#define LUMEN_VA_BITS			48
#define LUMEN_PAGE_SHIFT		12
#define LUMEN_PAGE_SIZE			(1ull << LUMEN_PAGE_SHIFT)
#define LUMEN_PT_LEVELS			4
#define LUMEN_PT_ENTRIES		512
#define LUMEN_PTE_VALID			(1ull << 0)
#define LUMEN_PTE_WRITABLE		(1ull << 1)
#define LUMEN_PTE_DEVMEM		(1ull << 2)
#define LUMEN_PTE_ADDR_MASK		0x000ffffffffff000ull

/* In context 0, an address with this bit is a device-memory offset. */
#define LUMEN_CTX0_DEVMEM		(1ull << 63)

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
#define   LUMEN_Q_STATUS_WAITING	(1u << 3)	/* blocked in a WAIT */
#define LUMEN_Q_ERROR			0x1c	/* RO: LUMEN_ERR_* */
#define LUMEN_Q_ERROR_HEAD		0x20	/* RO: ring index of bad entry */
#define LUMEN_Q_ENGINE			0x24	/* RW: engine this queue feeds */
#define LUMEN_Q_COMPLETED		0x28	/* RO 64: ring entries retired */
#define LUMEN_Q_FAULT_VA		0x30	/* RO 64: VA of this queue's fault */
#define LUMEN_Q_FAULT_INFO		0x38	/* RO: as LUMEN_REG_FAULT_INFO */
#define LUMEN_Q_CONTEXT			0x3c	/* RO: context of the running IB */

/* Error codes latched in LUMEN_Q_ERROR. */
/*
 * Since 1.1: queue q's ring context, RW while the queue is disabled.
 * 0: a kernel queue (RING_BASE is a bus address, ring entries run in
 * context 0).  1 .. 63: a direct queue bound to that context: RING_BASE
 * is a device VA of the context, the ring is read through its page
 * tables, ring entries run in it and a ring-level INDIRECT must name
 * context 0 ("stay").  Reset value 0; a queue reset keeps it.
 */
#define LUMEN_QUEUE_CTX_BASE		0x2200
#define LUMEN_QUEUE_CTX(q)		(LUMEN_QUEUE_CTX_BASE + (q) * 4)	/* RW 32 */

/*
 * Since 1.1: read-only views of the queue's state in its doorbell page,
 * so that a process owning a direct queue can see it without the kernel.
 * 32-bit reads; COMPLETED also as one 64-bit read.
 */
#define LUMEN_DB_TAIL			0x00	/* RW: the doorbell */
#define LUMEN_DB_HEAD			0x04	/* RO: LUMEN_Q_HEAD */
#define LUMEN_DB_STATUS			0x08	/* RO: LUMEN_Q_STATUS */
#define LUMEN_DB_ERROR			0x0c	/* RO: LUMEN_Q_ERROR */
#define LUMEN_DB_COMPLETED		0x10	/* RO 64: LUMEN_Q_COMPLETED */

#define LUMEN_ERR_NONE			0
#define LUMEN_ERR_BAD_OPCODE		1	/* unknown opcode */
#define LUMEN_ERR_BAD_CMD		2	/* reserved field/flag set, bad size */
#define LUMEN_ERR_BAD_RING		3	/* ring base/size invalid */
#define LUMEN_ERR_BAD_TAIL		4	/* tail >= ring size */
#define LUMEN_ERR_DMA			5	/* a DMA access failed */
#define LUMEN_ERR_DEVMEM_RANGE		6	/* outside device memory (context 0) */
#define LUMEN_ERR_ALIGN			7	/* misaligned address */
#define LUMEN_ERR_BAD_ENGINE		9	/* LUMEN_Q_ENGINE out of range */
#define LUMEN_ERR_MMU_FAULT		10	/* see LUMEN_Q_FAULT_* */
#define LUMEN_ERR_IB_LIMIT		11	/* IB nesting or command budget */
#define LUMEN_ERR_BAD_DESC		12	/* operator descriptor invalid */
#define LUMEN_ERR_TOO_LARGE		13	/* operands exceed LUMEN_OP_MAX_BYTES */
#define LUMEN_ERR_FATAL			14	/* device in fatal error */
#define LUMEN_ERR_WRONG_ENGINE		15	/* operator on the DMA engine */

/* ---- MSI-X -------------------------------------------------------------- */
/* Vector q (q < NUM_QUEUES) signals queue q; vector NUM_QUEUES is errors. */
#define LUMEN_MSIX_TABLE_OFFSET		0x8000
#define LUMEN_MSIX_PBA_OFFSET		0xc000

/* ---- Performance counters (BAR0), per engine, all RO 64 ---------------- */
#define LUMEN_PERF_BASE			0x3000
#define LUMEN_PERF_STRIDE		0x40
#define LUMEN_PERF_REG(e, r)		(LUMEN_PERF_BASE + (e) * LUMEN_PERF_STRIDE + (r))
#define LUMEN_PERF_BUSY_NS		0x00	/* time spent executing commands */
#define LUMEN_PERF_COMMANDS		0x08	/* commands executed (IB contents too) */
#define LUMEN_PERF_BYTES		0x10	/* bytes read + written by commands */
#define LUMEN_PERF_FAULTS		0x18	/* MMU faults raised */

/* ---- Fault injection (BAR0), only with LUMEN_CAP_FAULT_INJECTION -------- */
/* Without the capability the block reads as zero and ignores writes. */
#define LUMEN_FI_BASE			0x4000
#define LUMEN_FI_HANG_QUEUE		0x4000	/* W: q + 1: q's next command never ends */
#define LUMEN_FI_DROP_IRQ		0x4004	/* W: drop the next N queue interrupts */
#define LUMEN_FI_FAIL_DMA		0x4008	/* W: the next N DMA accesses fail */
#define LUMEN_FI_MMU_FAULT		0x400c	/* W: the next N translations fault */
#define LUMEN_FI_FATAL			0x4010	/* W 1: raise a fatal device error */

/* ---- Commands ------------------------------------------------------------ */
/*
 * Every command is 64 bytes: an 8-byte header and seven 64-bit argument
 * words.  Header: byte 0 opcode, byte 1 flags, bytes 2..7 must be zero.
 * Arguments a command does not use must be zero.  Addresses are bus
 * addresses in ring entries (context 0) and device VAs inside an indirect
 * buffer run in a context c >= 1.  Documentation/commands.rst has the rest.
 */
#define LUMEN_CMD_SIZE			64
#define LUMEN_CMD_ARGS			7

#define LUMEN_OP_NOP			0x00
#define LUMEN_OP_FENCE			0x01	/* arg0 addr (8-aligned), arg1 value */
#define   LUMEN_FENCE_IRQ		(1u << 0)	/* then raise the queue's vector */
#define LUMEN_OP_WAIT			0x02	/* arg0 addr (8-aligned), arg1 value */
#define LUMEN_OP_TIMESTAMP		0x03	/* arg0 addr (8-aligned) */
#define LUMEN_OP_INDIRECT		0x04	/* arg0 addr, arg1 bytes, arg2 context */
#define LUMEN_OP_COPY			0x10	/* arg0 src, arg1 dst, arg2 bytes */
#define   LUMEN_COPY_2D			(1u << 0)	/* arg2 width, arg3 height, */
							/* arg4 src pitch, arg5 dst pitch */
#define LUMEN_OP_FILL			0x11	/* arg0 dst, arg1 bytes, arg2 pattern */
#define LUMEN_OP_GEMM			0x20	/* arg0 descriptor address */
#define LUMEN_OP_ELTWISE		0x21	/* arg0 descriptor address */
#define LUMEN_OP_SOFTMAX		0x22	/* arg0 descriptor address */
#define LUMEN_OP_LAYER_NORM		0x23	/* arg0 descriptor address */
#define LUMEN_OP_RMS_NORM		0x24	/* arg0 descriptor address */
#define LUMEN_OP_CONV2D			0x25	/* arg0 descriptor address */
#define LUMEN_OP_POOL2D			0x26	/* arg0 descriptor address */

#define LUMEN_COPY_MAX_SIZE		(1ull << 40)
#define LUMEN_IB_ALIGN			64
#define LUMEN_IB_MAX_SIZE		(4u << 20)	/* bytes in one IB */
#define LUMEN_IB_MAX_DEPTH		4		/* IBs nested in a ring entry */
#define LUMEN_IB_MAX_COMMANDS		(1u << 20)	/* per ring entry, nested */

/*
 * Operator descriptors: LUMEN_DESC_SIZE bytes (16 little-endian 64-bit
 * words) at an 8-byte aligned address; unused words must be zero.  Word
 * indices below; element types and codes are those of the operator library
 * (tools/qemu/ops/lumen-ops.h, whose enums have the same values as the
 * LUMEN_HW_DTYPE_* and LUMEN_HW_ACT_* codes).  Optional operands (bias, gamma, beta) are
 * absent when their address is 0.  Leading dimensions count elements.
 */
#define LUMEN_DESC_SIZE			128
#define LUMEN_DESC_WORDS		16
#define LUMEN_OP_MAX_BYTES		(512ull << 20)	/* all operands of a command */
#define LUMEN_OP_MAX_MACS		(1ull << 38)	/* multiply-adds of one operator */

#define LUMEN_HW_DTYPE_F32			1
#define LUMEN_HW_DTYPE_F16			2
#define LUMEN_HW_DTYPE_BF16		3
#define LUMEN_HW_DTYPE_I8			4
#define LUMEN_HW_DTYPE_I32			5
#define LUMEN_HW_ACT_NONE			0
#define LUMEN_HW_ACT_RELU			1
#define LUMEN_HW_ACT_GELU			2
#define LUMEN_HW_ACT_SILU			3

/* GEMM: C = act(alpha * op(A) * op(B) + beta * C + bias). */
#define LUMEN_GEMM_W_MODE		0
#define   LUMEN_GEMM_TYPE(w)		((w) & 0xff)		/* of A and B */
#define   LUMEN_GEMM_C_TYPE(w)		(((w) >> 8) & 0xff)	/* of C and bias */
#define   LUMEN_GEMM_TRANS_A		(1u << 16)
#define   LUMEN_GEMM_TRANS_B		(1u << 17)
#define   LUMEN_GEMM_BIAS(w)		(((w) >> 20) & 0x3)	/* 0 none, 1 row, 2 col */
#define   LUMEN_GEMM_ACT(w)		(((w) >> 24) & 0xf)
#define   LUMEN_GEMM_MODE_MASK		0x0f33ffffull
#define LUMEN_GEMM_W_M			1
#define LUMEN_GEMM_W_N			2
#define LUMEN_GEMM_W_K			3
#define LUMEN_GEMM_W_A			4
#define LUMEN_GEMM_W_LDA		5
#define LUMEN_GEMM_W_B			6
#define LUMEN_GEMM_W_LDB		7
#define LUMEN_GEMM_W_C			8
#define LUMEN_GEMM_W_LDC		9
#define LUMEN_GEMM_W_BIAS		10
#define LUMEN_GEMM_W_SCALE		11	/* alpha bits | beta bits << 32 */
				/* f32 bits, or int32 ialpha/ibeta for I8 */

/* ELTWISE: y = x op b, or act(x). */
#define LUMEN_ELT_W_MODE		0
#define   LUMEN_ELT_OP(w)		((w) & 0xff)	/* 1 add 2 mul 3 relu 4 gelu 5 silu */
#define   LUMEN_ELT_TYPE(w)		(((w) >> 8) & 0xff)
#define   LUMEN_ELT_BROADCAST		(1u << 16)	/* b is one row */
#define   LUMEN_ELT_MODE_MASK		0x1ffffull
#define LUMEN_ELT_W_ROWS		1
#define LUMEN_ELT_W_COLS		2
#define LUMEN_ELT_W_Y			3
#define LUMEN_ELT_W_LDY			4
#define LUMEN_ELT_W_X			5
#define LUMEN_ELT_W_LDX			6
#define LUMEN_ELT_W_B			7
#define LUMEN_ELT_W_LDB			8

/* SOFTMAX, LAYER_NORM, RMS_NORM over the rows of an F32 matrix. */
#define LUMEN_ROWS_W_MODE		0	/* must be zero */
#define LUMEN_ROWS_W_ROWS		1
#define LUMEN_ROWS_W_COLS		2
#define LUMEN_ROWS_W_Y			3
#define LUMEN_ROWS_W_LDY		4
#define LUMEN_ROWS_W_X			5
#define LUMEN_ROWS_W_LDX		6
#define LUMEN_ROWS_W_GAMMA		7	/* norms */
#define LUMEN_ROWS_W_BETA		8	/* layer norm */
#define LUMEN_ROWS_W_EPS		9	/* f32 bits in the low half (norms) */

/* CONV2D, F32 NCHW; pairs pack h in the low and w in the high 32 bits. */
#define LUMEN_CONV_W_MODE		0	/* bits 0..3: activation */
#define LUMEN_CONV_W_N			1
#define LUMEN_CONV_W_C			2
#define LUMEN_CONV_W_H			3
#define LUMEN_CONV_W_W			4
#define LUMEN_CONV_W_K			5
#define LUMEN_CONV_W_R			6
#define LUMEN_CONV_W_S			7
#define LUMEN_CONV_W_GROUPS		8
#define LUMEN_CONV_W_STRIDE		9
#define LUMEN_CONV_W_PAD		10
#define LUMEN_CONV_W_DILATION		11
#define LUMEN_CONV_W_X			12
#define LUMEN_CONV_W_WEIGHT		13
#define LUMEN_CONV_W_BIAS		14
#define LUMEN_CONV_W_Y			15

/* POOL2D, F32 NCHW. */
#define LUMEN_POOL_W_MODE		0	/* 1 max, 2 avg */
#define LUMEN_POOL_W_N			1
#define LUMEN_POOL_W_C			2
#define LUMEN_POOL_W_H			3
#define LUMEN_POOL_W_W			4
#define LUMEN_POOL_W_R			5
#define LUMEN_POOL_W_S			6
#define LUMEN_POOL_W_STRIDE		7
#define LUMEN_POOL_W_PAD		8
#define LUMEN_POOL_W_X			9
#define LUMEN_POOL_W_Y			10

#define LUMEN_PAIR(h, w)		((unsigned long long)(h) | (unsigned long long)(w) << 32)

#endif /* LUMEN_REGS_H */
