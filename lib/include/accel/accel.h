/* SPDX-License-Identifier: MIT */
/*
 * libaccel v1: a thin C library over the lumen DRM accel driver.
 *
 * Model.  Each open device file is a tenant with its own device address
 * space.  Buffer objects (BOs) are mapped into it when they are created and
 * have a device virtual address (VA).  Userspace builds a command buffer of
 * 64-byte device commands (driver/lumen_regs.h, Documentation/commands.rst)
 * in a BO of its own, and submits it; the device runs it in the file's MMU
 * context, so every address in a command is a device VA of this file.
 *
 * Conventions: every function that can fail returns 0 (or a count) on
 * success and a negative errno on failure; accel_strerror() names it.
 * There is no global state.  Distinct objects may be used from distinct
 * threads freely; one accel_dev may be shared by threads for every call
 * (the kernel serialises what needs it).  An accel_cmdbuf is not
 * thread-safe: build it in one thread.
 * Documentation/libaccel.rst is the reference.
 *
 * Every function rejects a NULL object or output pointer with -EINVAL
 * (the *_free() and accel_close() functions accept NULL and do nothing).
 * Errors the kernel returns are passed through unchanged; the errnos of
 * each ioctl are specified in Documentation/uapi.rst.  On failure, output
 * arguments and command buffers are left untouched.
 */
#ifndef ACCEL_ACCEL_H
#define ACCEL_ACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A convenient size for the array passed to accel_list(). */
#define ACCEL_MAX_DEVICES 64

struct accel_dev;
struct accel_bo;
struct accel_cmdbuf;
struct accel_fence;

/*
 * Device description, from the driver's DEVICE_INFO query.
 *
 * Engines: num_cores compute engines (0 .. num_cores - 1) and one DMA engine
 * (index num_cores), num_engines = num_cores + 1.  The driver binds queue q
 * to engine q % num_engines.  Operators (accel_cmd_gemm() ...) run only on
 * compute engines; on the DMA engine they fail the job with -EIO.
 */
struct accel_info {
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t hw_version;	/* major << 16 | minor */
	uint32_t num_cores;	/* compute engines */
	uint32_t num_engines;	/* num_cores + 1 (the DMA engine, last) */
	uint32_t num_queues;	/* hardware queues usable by accel_submit() */
	uint32_t num_contexts;	/* MMU contexts; context 0 is the kernel's */
	uint64_t devmem_size;	/* bytes */
	uint32_t caps;		/* ACCEL_CAP_* */
	uint32_t max_cmdbuf_size; /* largest command buffer a job runs, bytes */
	uint64_t timestamp_freq; /* Hz of the TIMESTAMP counter */
	uint64_t va_start;	/* lowest device VA the driver hands out */
	uint64_t va_end;	/* end (exclusive) of the device VA range */
	char driver[32];	/* "lumen" */
	char path[64];		/* "/dev/accel/accel0" */
	/*
	 * LIBACCEL_1.2: hardware queues reserved for direct queues
	 * (accel_dq_create()); 0 from a driver or device without them.
	 * Programs built against an older header get accel_query@LIBACCEL_1.0,
	 * which leaves this field out (the struct was shorter then).
	 */
	uint32_t num_direct_queues;
};

/* accel_info.caps: the device's capability bits (LUMEN_CAP_*). */
#define ACCEL_CAP_FAULT_INJECTION	(1u << 1)	/* fault-injection=on */
#define ACCEL_CAP_MMU			(1u << 2)	/* per-context page tables */
#define ACCEL_CAP_OPERATORS		(1u << 3)	/* GEMM, eltwise, ... */
#define ACCEL_CAP_DIRECT_QUEUES		(1u << 4)	/* device 1.1: accel_dq_create() */

/* ---- Devices ------------------------------------------------------------ */

/*
 * Lists the minor indices N of /dev/accel/accelN nodes driven by lumen, in
 * increasing order, into @indices (room for @max).  Returns how many were
 * found (which may exceed @max) or -errno.
 *
 * A node is counted when it can be opened read-write and its driver is
 * lumen; nodes of other drivers and nodes this process may not open are
 * left out.  No /dev/accel directory means no devices: 0.
 * Errors: -EINVAL if @max < 0 or @indices is NULL while @max > 0;
 * -ENOMEM; -errno of opendir(3) other than ENOENT.
 */
int accel_list(int *indices, int max);

/*
 * Opens /dev/accel/accel@index, like accel_open_path().
 * Errors: -EINVAL if @index < 0; otherwise as accel_open_path().
 */
int accel_open(int index, struct accel_dev **dev);

/*
 * Opens the accel node at @path (read-write, close-on-exec) and stores the
 * new device in *@dev.  Close it with accel_close().  Each open is a new
 * tenant with its own device address space.
 * Errors: -errno of stat(2) or open(2) (-ENOENT, -EACCES, ...); -ENODEV
 * if @path is not an accel character device (major 261) -- such a file is
 * never opened -- or its driver is not lumen; -ENOMEM.
 */
int accel_open_path(const char *path, struct accel_dev **dev);

/*
 * Closes @dev.  Free its command buffers, BOs and fences first: they use
 * its file.  NULL is ignored.
 */
void accel_close(struct accel_dev *dev);

/* The DRM file descriptor, for raw ioctls and poll(); -EINVAL for NULL. */
int accel_fd(const struct accel_dev *dev);

/*
 * Fills @info from the driver's DRM_LUMEN_QUERY_DEVICE_INFO; @info->path is
 * the path @dev was opened with (truncated to fit), @info->driver "lumen".
 * Errors: -EINVAL; -EPROTO if the driver's answer is shorter than the v1
 * structure (a v0 driver); -errno of the ioctl (-ENODEV once the device is
 * gone).
 */
int accel_query(struct accel_dev *dev, struct accel_info *info);

/* ---- Buffer objects ----------------------------------------------------- */

/*
 * In device memory (BAR2) instead of system memory.  Mappable, but
 * write-combined: CPU writes are fast, CPU reads uncached and slow.
 */
#define ACCEL_BO_DEVICE		(1u << 0)
/* Mapped read-only for the device: a device write to it is an MMU fault. */
#define ACCEL_BO_READ_ONLY	(1u << 1)
/*
 * A system BO mapped write-combined for the CPU instead of cached: CPU
 * writes stream to memory, CPU reads are uncached and slow.  For buffers
 * the CPU only fills (inputs, command buffers).  Device BOs are always
 * write-combined; the flag is accepted there and changes nothing.
 */
#define ACCEL_BO_WC		(1u << 2)

/*
 * Creates a zero-filled BO of at least @size bytes (the driver rounds up to
 * whole pages; accel_bo_size() tells the result) in system memory, or in
 * device memory with ACCEL_BO_DEVICE, and maps it into @dev's device
 * address space at accel_bo_va().
 * Errors: -EINVAL if @size is 0 or @flags has an unknown bit; -ENOMEM;
 * -errno of DRM_IOCTL_LUMEN_BO_CREATE: -EINVAL for a system BO above
 * 1 GiB, -ENOSPC when no free range of device memory (or device VA) is
 * large enough.
 */
int accel_bo_create(struct accel_dev *dev, uint64_t size, uint32_t flags,
		    struct accel_bo **bo);

/*
 * Frees @bo: closes its handle, which also unmaps it from the device
 * address space.  Wait for the jobs that use it first: a job touching it
 * afterwards fails with an MMU fault (-EFAULT).  Unmaps the CPU mapping
 * too.  NULL is ignored.  Must not race with other calls on the same @bo.
 */
void accel_bo_free(struct accel_bo *bo);

/*
 * Maps @bo read-write (shared) into the process; the same pointer on every
 * call, also when threads race to map it first.  Do not touch a range that
 * a job still uses: wait for the job's fence first.
 * Errors: -EINVAL; -errno of DRM_IOCTL_LUMEN_BO_MMAP_OFFSET or of mmap(2);
 * -ENOMEM if @bo does not fit the address space.
 */
int accel_bo_map(struct accel_bo *bo, void **ptr);

/*
 * Removes the mapping accel_bo_map() made; pointers into it become invalid.
 * Unmapping a BO that is not mapped does nothing and returns 0.
 * Errors: -EINVAL; -errno of munmap(2), leaving the mapping in place.
 */
int accel_bo_unmap(struct accel_bo *bo);

/* The GEM handle of @bo, for raw ioctls; 0 (never a valid handle) for NULL. */
uint32_t accel_bo_handle(const struct accel_bo *bo);

/* The size the driver allocated for @bo in bytes; 0 for NULL. */
uint64_t accel_bo_size(const struct accel_bo *bo);

/*
 * The device VA of @bo's first byte in its device's address space (page
 * aligned, >= accel_info.va_start); 0 (never mapped) for NULL.
 */
uint64_t accel_bo_va(const struct accel_bo *bo);

/*
 * Imports the dma-buf @dmabuf_fd (of another driver, e.g. vgem, or of a
 * lumen BO) as a BO of @dev, mapped into @dev's device address space; its
 * VA and size come from the driver (DRM_IOCTL_LUMEN_BO_INFO).  @dmabuf_fd
 * stays the caller's.  The DRM core gives a file one handle per buffer:
 * importing a buffer this file already has (say, its own export) names
 * the same handle, and freeing either accel_bo closes it for both -- so
 * import a buffer once per file.
 * Errors: -EINVAL; -ENOMEM; -errno of DRM_IOCTL_PRIME_FD_TO_HANDLE (-EBADF
 * for a file that is not a dma-buf, -EINVAL for one the driver cannot
 * map) or of DRM_IOCTL_LUMEN_BO_INFO.
 */
int accel_bo_import(struct accel_dev *dev, int dmabuf_fd, struct accel_bo **bo);

/*
 * Exports @bo as a new dma-buf file descriptor (read-write, close-on-exec)
 * in *@dmabuf_fd, for another device or process; close it when done.
 * Errors: -EINVAL; -errno of DRM_IOCTL_PRIME_HANDLE_TO_FD (-EOPNOTSUPP for
 * a BO the driver cannot export).
 */
int accel_bo_export(const struct accel_bo *bo, int *dmabuf_fd);

/* ---- Explicit VA bindings ------------------------------------------------ */

#define ACCEL_VM_BIND_READ_ONLY	(1u << 0)	/* the device may only read */

/*
 * Maps bytes [@offset, @offset + @size) of @bo at device VA @va of @dev's
 * address space too, read-write, or read-only with ACCEL_VM_BIND_READ_ONLY
 * (a read-only BO can only be bound read-only).  @offset, @size and @va
 * are multiples of 4 KiB; [@va, @va + @size) lies inside [va_start,
 * va_end) and is free.  The binding keeps @bo's memory alive until
 * accel_vm_unbind() or accel_close(), even after accel_bo_free().
 * Errors: -EINVAL (NULL, @bo of another device, unknown flags, unaligned,
 * zero or out-of-range @offset/@size/@va); -EACCES (read-write binding of
 * a read-only BO); -EEXIST (something is mapped in the range); -ENOMEM;
 * -errno of DRM_IOCTL_LUMEN_VM_BIND (Documentation/uapi.rst).
 */
int accel_vm_bind(struct accel_dev *dev, const struct accel_bo *bo, uint64_t offset,
		  uint64_t size, uint64_t va, uint32_t flags);

/*
 * Removes the binding accel_vm_bind() made at exactly @va and @size; a
 * part of a binding, or several at once, cannot be unbound (-ENOENT, and
 * nothing changes: unbind and bind the part to keep again).  Jobs
 * started afterwards fault there (-EFAULT); the range can be bound again
 * once the jobs submitted before the unbind are done (until then,
 * accel_vm_bind() there fails with -EEXIST).
 * Errors: -EINVAL for NULL; -ENOENT if no binding has that @va and @size.
 */
int accel_vm_unbind(struct accel_dev *dev, uint64_t va, uint64_t size);

/* ---- Command buffers ---------------------------------------------------- */

/*
 * A command buffer is one system-memory BO of @dev, mapped for the CPU,
 * that the device reads.  Commands (64 bytes each) are appended from its
 * start; operator descriptors (128 bytes each) are stacked from its end.
 * accel_submit() runs the commands, bytes [0, accel_cmdbuf_size()).
 *
 * Creates one of at least @capacity bytes (rounded up to whole pages).
 * The command part never grows beyond accel_info.max_cmdbuf_size; the
 * rest of the capacity is left for descriptors.
 * Errors: -EINVAL if @capacity is below 64; -ENOMEM; -errno of
 * accel_query() and accel_bo_create()/accel_bo_map().
 */
int accel_cmdbuf_create(struct accel_dev *dev, uint64_t capacity,
			struct accel_cmdbuf **cb);

/*
 * Frees @cb and its BO.  Wait for the jobs that run it (or call it) first.
 * NULL is ignored.
 */
void accel_cmdbuf_free(struct accel_cmdbuf *cb);

/*
 * Empties @cb (commands and descriptors) so it can be built again.  Wait
 * for the jobs that run it first: the device reads the same memory.
 * NULL is ignored.
 */
void accel_cmdbuf_reset(struct accel_cmdbuf *cb);

/* Bytes of commands in @cb (64 per command): what a job runs; 0 for NULL. */
uint32_t accel_cmdbuf_size(const struct accel_cmdbuf *cb);

/* Number of commands in @cb; 0 for NULL. */
size_t accel_cmdbuf_count(const struct accel_cmdbuf *cb);

/* Device VA of the first command of @cb; 0 for NULL. */
uint64_t accel_cmdbuf_va(const struct accel_cmdbuf *cb);

/* Total bytes of @cb's memory (commands + free space + descriptors). */
uint64_t accel_cmdbuf_capacity(const struct accel_cmdbuf *cb);

/*
 * The CPU view of @cb's memory, accel_cmdbuf_capacity() bytes starting at
 * accel_cmdbuf_va(): commands at offset 0, descriptors at the VAs the
 * operator commands name.  For tests and tools that decode what was
 * written.  NULL for NULL.
 */
const void *accel_cmdbuf_data(const struct accel_cmdbuf *cb);

/*
 * Encoders.  Each checks its arguments before anything is written and
 * returns -EINVAL for a bad one (NULL @cb or argument struct, a zero size,
 * a misaligned address, an unknown type/activation/op, a leading
 * dimension or pitch too small, an address 0 where an operand is needed,
 * an extent that does not fit below 2^48, a size above the device's
 * limit); -ENOSPC when @cb is full (its commands would exceed
 * max_cmdbuf_size, or commands and descriptors would meet).  On failure
 * @cb is unchanged.  Addresses are device VAs of @cb's device (for
 * example accel_bo_va(bo) + offset); libaccel does not check that they
 * are mapped: the device does, and an unmapped one fails the job with
 * -EFAULT.
 */

/* NOP: does nothing. */
int accel_cmd_nop(struct accel_cmdbuf *cb);

/*
 * FENCE: when the commands before it have completed, writes the 64-bit
 * @value to @va (8-aligned).
 */
int accel_cmd_fence(struct accel_cmdbuf *cb, uint64_t va, uint64_t value);

/*
 * WAIT: blocks the queue until the 64-bit value at @va (8-aligned) is
 * >= @value (unsigned).  Another queue's FENCE (or the CPU) releases it;
 * a wait that is never released ends in the job's timeout (-ETIMEDOUT).
 */
int accel_cmd_wait(struct accel_cmdbuf *cb, uint64_t va, uint64_t value);

/* TIMESTAMP: writes the device clock (ns, timestamp_freq) to @va (8-aligned). */
int accel_cmd_timestamp(struct accel_cmdbuf *cb, uint64_t va);

/*
 * COPY: @size bytes (1 .. 2^40) from @src_va to @dst_va.  Either side may
 * be system or device memory.  Overlapping ranges are -EINVAL.
 */
int accel_cmd_copy(struct accel_cmdbuf *cb, uint64_t dst_va, uint64_t src_va,
		   uint64_t size);

/*
 * 2D COPY: @height rows of @width bytes; row i is read at src_va +
 * i * src_pitch and written at dst_va + i * dst_pitch.  @width and
 * @height >= 1, pitches >= @width, width * height <= 2^40; the two
 * extents ((height - 1) * pitch + width) must not overlap.
 */
int accel_cmd_copy2d(struct accel_cmdbuf *cb, uint64_t dst_va,
		     uint64_t dst_pitch, uint64_t src_va, uint64_t src_pitch,
		     uint64_t width, uint64_t height);

/*
 * FILL: writes @size bytes (1 .. 2^40) at @dst_va with the 8-byte
 * little-endian @pattern repeated from @dst_va (the last repetition is cut
 * short when @size is not a multiple of 8).
 */
int accel_cmd_fill(struct accel_cmdbuf *cb, uint64_t dst_va, uint64_t size,
		   uint64_t pattern);

/*
 * INDIRECT: runs the commands @sub holds now (later appends to @sub are
 * not included) as a nested command buffer, in the same context.  @sub
 * must be non-empty, of the same device, and not @cb itself; the device
 * nests at most 4 buffers per job (deeper fails the job with -EIO).  Keep
 * @sub alive and unchanged until the jobs that call it are done.
 */
int accel_cmd_call(struct accel_cmdbuf *cb, const struct accel_cmdbuf *sub);

/*
 * Appends @cmd (64 bytes) as it is, without any check: for tests that need
 * malformed commands.  Only -EINVAL (NULL) and -ENOSPC.
 */
int accel_cmd_raw(struct accel_cmdbuf *cb, const void *cmd);

/*
 * Copies the 128-byte @desc as it is into @cb's descriptor area and
 * appends a command with @opcode whose arg0 is the descriptor's VA,
 * without any check: for tests of malformed descriptors.  Only -EINVAL
 * (NULL) and -ENOSPC.
 */
int accel_cmd_raw_desc(struct accel_cmdbuf *cb, uint8_t opcode,
		       const void *desc);

/* ---- Operators ---------------------------------------------------------- */
/*
 * Each operator writes its 128-byte descriptor into @cb's descriptor area
 * and appends the command that names it.  Semantics and tolerances:
 * Documentation/operators.rst.  Matrices are row-major with leading
 * dimensions counted in elements; tensors are dense NCHW.  Every operand
 * address must be aligned to its element size (libaccel's rule; it
 * catches mixed-up addresses).  All operands of one command together may
 * span at most 512 MiB, one command may do at most 2^38 multiply-adds
 * (GEMM m*n*k, conv2d n*k*p*q*(c/groups)*r*s, pool2d n*c*p*q*r*s), and
 * every size is 1 .. 2^31 - 1: the device's limits.  Initialise the argument
 * structs with designated initialisers so that unused fields are zero.
 * Operators need a queue bound to a compute engine (see accel_info).
 */

/* Element types; the values are the device's (LUMEN_HW_DTYPE_*). */
enum accel_dtype {
	ACCEL_F32 = 1,
	ACCEL_F16 = 2,		/* IEEE binary16 */
	ACCEL_BF16 = 3,		/* bfloat16 */
	ACCEL_I8 = 4,
	ACCEL_I32 = 5,
};

/* Fused activations; the values are the device's (LUMEN_HW_ACT_*). */
enum accel_act {
	ACCEL_ACT_NONE = 0,
	ACCEL_ACT_RELU = 1,
	ACCEL_ACT_GELU = 2,	/* tanh approximation */
	ACCEL_ACT_SILU = 3,
};

/* GEMM bias: none, n elements added to each row, m elements to each column. */
enum accel_bias {
	ACCEL_BIAS_NONE = 0,
	ACCEL_BIAS_ROW = 1,
	ACCEL_BIAS_COL = 2,
};

/*
 * GEMM: C = act(alpha * op(A) * op(B) + beta * C + bias), op(A) m x k,
 * op(B) k x n, C m x n; a transposed A is stored k x m.
 *   type   c_type        scale
 *   F32    F32           alpha, beta
 *   F16    F16 or F32    alpha, beta
 *   BF16   BF16 or F32   alpha, beta
 *   I8     I32           ialpha, ibeta (act NONE or RELU only)
 * lda >= (trans_a ? m : k), ldb >= (trans_b ? k : n), ldc >= n.  The bias
 * has C's type; bias must be 0 exactly when bias_kind is NONE.
 */
struct accel_gemm {
	enum accel_dtype type;		/* of A and B */
	enum accel_dtype c_type;	/* of C and the bias */
	bool trans_a, trans_b;
	uint64_t m, n, k;
	uint64_t a, lda;
	uint64_t b, ldb;
	uint64_t c, ldc;
	enum accel_bias bias_kind;
	uint64_t bias;
	enum accel_act act;
	float alpha, beta;		/* float types */
	int32_t ialpha, ibeta;		/* I8 */
};

int accel_cmd_gemm(struct accel_cmdbuf *cb, const struct accel_gemm *g);

/* Element-wise operations. */
enum accel_eltwise_op {
	ACCEL_ELT_ADD = 1,	/* y = x + b */
	ACCEL_ELT_MUL = 2,	/* y = x * b */
	ACCEL_ELT_RELU = 3,	/* y = relu(x) */
	ACCEL_ELT_GELU = 4,
	ACCEL_ELT_SILU = 5,
};

/*
 * Element-wise over a rows x cols matrix of type F32, F16 or BF16 (all
 * operands).  ADD and MUL need b: a rows x cols matrix (ldb >= cols) or,
 * with broadcast, one row of cols elements (ldb ignored).  The unary ops
 * need b == 0 and no broadcast.  ldy, ldx >= cols.  Works in place.
 */
struct accel_eltwise {
	enum accel_eltwise_op op;
	enum accel_dtype type;
	uint64_t rows, cols;
	uint64_t y, ldy;
	uint64_t x, ldx;
	uint64_t b, ldb;
	bool broadcast;
};

int accel_cmd_eltwise(struct accel_cmdbuf *cb, const struct accel_eltwise *e);

/*
 * Row-wise F32 operators over a rows x cols matrix (ldy, ldx >= cols);
 * they work in place.  gamma and beta: cols elements, or 0 for all ones /
 * all zeros.  softmax takes neither, nor eps (all must be 0); RMS norm
 * takes no beta.  eps: finite, >= 0.
 */
struct accel_rows {
	uint64_t rows, cols;
	uint64_t y, ldy;
	uint64_t x, ldx;
	uint64_t gamma;
	uint64_t beta;
	float eps;
};

int accel_cmd_softmax(struct accel_cmdbuf *cb, const struct accel_rows *r);
int accel_cmd_layer_norm(struct accel_cmdbuf *cb, const struct accel_rows *r);
int accel_cmd_rms_norm(struct accel_cmdbuf *cb, const struct accel_rows *r);

/*
 * conv2d, F32 NCHW: x n x c x h x w, weight k x (c / groups) x r x s,
 * bias k elements or 0, y n x k x p x q (accel_conv2d_out_size()).
 * groups divides c and k; strides and dilations >= 1; p, q >= 1.
 */
struct accel_conv2d {
	uint64_t n, c, h, w;
	uint64_t k, r, s;
	uint64_t groups;
	uint64_t stride_h, stride_w;
	uint64_t pad_h, pad_w;
	uint64_t dil_h, dil_w;
	uint64_t x, weight, bias, y;
	enum accel_act act;
};

/*
 * The output height @p and width @q of @cv:
 * p = (h + 2 pad_h - dil_h (r - 1) - 1) / stride_h + 1, q likewise.
 * -EINVAL when the shape is invalid (addresses are not checked).
 */
int accel_conv2d_out_size(const struct accel_conv2d *cv, uint64_t *p,
			  uint64_t *q);
int accel_cmd_conv2d(struct accel_cmdbuf *cb, const struct accel_conv2d *cv);

enum accel_pool_op {
	ACCEL_POOL_MAX = 1,
	ACCEL_POOL_AVG = 2,	/* padding not counted */
};

/*
 * Pooling, F32 NCHW: x n x c x h x w, y n x c x p x q with
 * p = (h + 2 pad_h - r) / stride_h + 1 (q likewise); pad_h < r, pad_w < s,
 * strides >= 1.
 */
struct accel_pool2d {
	enum accel_pool_op op;
	uint64_t n, c, h, w;
	uint64_t r, s;
	uint64_t stride_h, stride_w;
	uint64_t pad_h, pad_w;
	uint64_t x, y;
};

int accel_pool2d_out_size(const struct accel_pool2d *pl, uint64_t *p,
			  uint64_t *q);
int accel_cmd_pool2d(struct accel_cmdbuf *cb, const struct accel_pool2d *pl);

/* ---- Submission and fences ---------------------------------------------- */

/*
 * A fence is a DRM syncobj: created once, reused by many submissions.
 * Creates one, not signalled and with no job attached.
 * Errors: -EINVAL; -ENOMEM; -errno of DRM_IOCTL_SYNCOBJ_CREATE.
 */
int accel_fence_create(struct accel_dev *dev, struct accel_fence **fence);

/*
 * Frees @fence; a job that will signal it is unaffected.  NULL is ignored.
 * Must not race with other calls on the same @fence.
 */
void accel_fence_free(struct accel_fence *fence);

/* The syncobj handle of @fence, for raw ioctls; 0 for NULL. */
uint32_t accel_fence_syncobj(const struct accel_fence *fence);

/*
 * Submits the commands of @cb as one job on hardware queue @queue.  @bos
 * (@nbos entries, may be NULL when @nbos is 0) are the BOs the job reads
 * or writes, for implicit synchronisation: the job runs after every
 * earlier job that listed one of them (and, unless it is read-only, later
 * ones run after it).  Without BOs the job is ordered only by its queue
 * and @wait, which is the cheapest.  The job waits for @wait (or NULL) and, on
 * completion, signals @done (or NULL), replacing any earlier fence @done
 * held; @wait and @done may be the same fence.  Unlike v0, the device reads
 * @cb's memory while the job runs: do not reset, change or free @cb (or a
 * BO it uses) until @done has signalled.
 * Errors: -EINVAL if @cb is empty, if @cb, a BO, @wait or @done belongs to
 * another device than @dev, a BO is NULL, or @wait or @done is a timeline
 * fence (use accel_submit2()); -ENOMEM; -errno of
 * DRM_IOCTL_LUMEN_SUBMIT, notably -EINVAL for @queue >=
 * accel_info.num_queues or a @wait no job was ever submitted to, -ENOENT
 * for a freed BO, -E2BIG for more than 4096 BOs (Documentation/uapi.rst
 * lists them all).  Nothing is queued on error.
 */
int accel_submit(struct accel_dev *dev, unsigned int queue,
		 const struct accel_cmdbuf *cb,
		 const struct accel_bo *const *bos, unsigned int nbos,
		 struct accel_fence *wait, struct accel_fence *done);

/*
 * Waits until @fence has signalled, for at most @timeout_ns nanoseconds
 * (negative: forever; 0: just test it).  Returns 0, -ETIME on timeout, or
 * -errno.  A fence no job was ever submitted to counts as not signalled.
 * The deadline is absolute (CLOCK_MONOTONIC), so signals do not extend it.
 * Errors: -EINVAL; -ETIME; -errno of DRM_IOCTL_SYNCOBJ_WAIT.  This says
 * that the job finished, not that it succeeded: see accel_fence_status().
 */
int accel_fence_wait(struct accel_fence *fence, int64_t timeout_ns);

/*
 * The outcome of the last job submitted to signal @fence: 1 if it
 * completed successfully, 0 if it has not finished yet, or its error:
 * -EFAULT (an MMU fault: it touched a VA its file has not mapped, or wrote
 * a read-only BO), -EIO (the device stopped on another error in it: a bad
 * command or descriptor, an operator on the DMA engine, nesting too deep),
 * -ETIMEDOUT (it ran too long and its queue was reset), -ENODEV (the
 * device was removed), -ESRCH (its file was closed before it started),
 * -ECANCELED (dropped before it ran: an earlier job of the same device
 * handle failed with -EFAULT, -EIO or -ETIMEDOUT, which makes the handle
 * "guilty": its later accel_submit() calls fail with -ECANCELED too, and
 * it must be closed and opened again to run jobs; Documentation/uapi.rst,
 * "Errors and recovery").  Other handles' jobs on the same queue run
 * normally.
 * Errors of the call itself: -EINVAL for NULL or a fence no job was ever
 * submitted to; -errno of DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD or
 * SYNC_IOC_FILE_INFO.
 */
int accel_fence_status(const struct accel_fence *fence);

/* ---- Many fences, timeline points, sync files --------------------------- */

/*
 * A timeline fence: one syncobj whose points 1, 2, ... are signalled by
 * the jobs submitted to them (accel_submit2()); point N counts as
 * signalled once its job and every earlier point's job completed (the DRM
 * core's timeline semantics).  Free it with accel_fence_free().  It cannot
 * be used with accel_submit(), accel_fence_wait() or accel_fence_status().
 * Errors: -EINVAL, -ENOMEM, -errno of DRM_IOCTL_SYNCOBJ_CREATE.
 */
int accel_fence_create_timeline(struct accel_dev *dev, struct accel_fence **fence);

/* Most waits + signals of one accel_submit2(), and fences of one wait. */
#define ACCEL_MAX_SYNCS	256

/*
 * One fence to wait for or signal: @point > 0 of a timeline fence, or 0
 * for a fence of accel_fence_create().
 */
struct accel_sync {
	struct accel_fence *fence;
	uint64_t point;
};

/*
 * accel_submit() with any number of fences: the job waits for every entry
 * of @waits (@nwaits) and, on completion, signals every entry of @signals
 * (@nsignals): a binary fence gets the job's fence, replacing what it held;
 * a timeline fence gets it as point @point.  A wait on a timeline point
 * needs that point submitted already (else -EINVAL from the driver);
 * points of a timeline should be submitted in increasing order.
 * Errors: as accel_submit(), and -EINVAL for a NULL or foreign fence or a
 * point that does not fit its fence, -E2BIG for more than ACCEL_MAX_SYNCS
 * entries, -EINVAL from a driver older than DRM_LUMEN_SUBMIT_SYNCS.
 * Nothing is queued on error.
 */
int accel_submit2(struct accel_dev *dev, unsigned int queue,
		  const struct accel_cmdbuf *cb,
		  const struct accel_bo *const *bos, unsigned int nbos,
		  const struct accel_sync *waits, unsigned int nwaits,
		  const struct accel_sync *signals, unsigned int nsignals);

/*
 * Waits for @n (1 .. ACCEL_MAX_SYNCS) fences of one device, each at its
 * point: for all of them if @all, else for any, and then stores the index
 * of a signalled one in @first (or NULL).  A fence or point not submitted
 * yet counts as not signalled.  @timeout_ns as accel_fence_wait().
 * Errors: -EINVAL, -ENOMEM, -ETIME, -errno of DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT.
 */
int accel_fence_wait_many(const struct accel_sync *syncs, unsigned int n,
			  bool all, int64_t timeout_ns, unsigned int *first);

/* accel_fence_wait_many() of one fence at @point (0 for a binary fence). */
int accel_fence_wait_point(struct accel_fence *fence, uint64_t point,
			   int64_t timeout_ns);

/*
 * The highest point of timeline fence @fence that has signalled (with
 * every earlier one), into @point.  Errors: -EINVAL (also for a binary
 * fence), -errno of DRM_IOCTL_SYNCOBJ_QUERY.
 */
int accel_fence_query(const struct accel_fence *fence, uint64_t *point);

/*
 * A sync file (a file descriptor that poll() reports readable once the
 * fence signalled) of @fence's fence, or of timeline point @point (0 for a
 * binary fence), into @fd; the caller closes it.  Errors: -EINVAL (also
 * for a fence or point no job was submitted to), -errno of the syncobj
 * ioctls.
 */
int accel_fence_export_sync_file(const struct accel_fence *fence, uint64_t point,
				 int *fd);

/* ---- User queues (LIBACCEL_1.1) ----------------------------------------- */

/*
 * A user queue: a stream of jobs on one engine with a priority.  The
 * driver feeds it to a hardware queue of that engine, preferring ones no
 * other process uses, so tenants do not wait behind each other's
 * backlog (Documentation/scheduling.rst).  Jobs of one queue complete in
 * submission order.  A queue belongs to the accel_dev it was made on.
 */
struct accel_queue;

/* Engine classes; the values are the driver's (DRM_LUMEN_ENGINE_*). */
enum accel_engine_class {
	ACCEL_ENGINE_COMPUTE = 0,	/* runs every command */
	ACCEL_ENGINE_DMA = 1,		/* every command but the operators */
};

/* accel_queue_create()'s @engine: any engine of the class. */
#define ACCEL_ENGINE_ANY	UINT32_MAX

/* Priorities; the values are the driver's (DRM_LUMEN_QUEUE_PRIORITY_*). */
enum accel_priority {
	ACCEL_PRIORITY_LOW = 0,
	ACCEL_PRIORITY_NORMAL = 1,	/* that of accel_submit() */
	ACCEL_PRIORITY_HIGH = 2,	/* needs CAP_SYS_NICE */
};

/* Jobs a queue may have submitted and unfinished (see accel_submit_queue()). */
#define ACCEL_QUEUE_MAX_JOBS	64

/*
 * Creates a queue on engine @engine of class @cls (0 .. num_cores - 1 for
 * compute, 0 for DMA) or on any engine of the class (ACCEL_ENGINE_ANY),
 * with priority @prio.  At most 64 queues per accel_dev.
 * Errors: -EINVAL for NULL, an unknown class or priority, an engine out
 * of range or one no hardware queue runs on; -EACCES for
 * ACCEL_PRIORITY_HIGH without CAP_SYS_NICE; -ENOSPC when @dev has 64
 * queues; -ENOMEM; -errno of DRM_IOCTL_LUMEN_QUEUE_CREATE (-ENOTTY from a
 * driver without user queues).
 */
int accel_queue_create(struct accel_dev *dev, enum accel_engine_class cls,
		       uint32_t engine, enum accel_priority prio,
		       struct accel_queue **queue);

/*
 * Destroys @queue: its jobs already submitted still run and complete (the
 * call returns once all of them are on the hardware); frees @queue.  NULL
 * is ignored.  Must not race with other calls on the same @queue.
 * Errors: -errno of DRM_IOCTL_LUMEN_QUEUE_DESTROY (the queue is freed
 * anyway).
 */
int accel_queue_destroy(struct accel_queue *queue);

/* The driver's id of @queue (DRM_LUMEN_SUBMIT_QUEUE_ID); 0 for NULL. */
uint32_t accel_queue_id(const struct accel_queue *queue);

/*
 * Where @queue runs: the hardware queue into @hw_queue and the device
 * engine (compute engines first, DMA last) into @hw_engine; either may be
 * NULL.  -EINVAL for a NULL @queue.
 */
int accel_queue_placement(const struct accel_queue *queue,
			  unsigned int *hw_queue, unsigned int *hw_engine);

/*
 * accel_submit2() on user queue @queue instead of a hardware queue.  A
 * queue holds at most ACCEL_QUEUE_MAX_JOBS unfinished jobs: beyond that
 * this fails with -EAGAIN and queues nothing; wait for one of the queue's
 * earlier jobs and try again.
 * Errors: as accel_submit2(); -EAGAIN; -ENOENT if the queue was destroyed
 * behind libaccel's back (by a raw ioctl).
 */
int accel_submit_queue(struct accel_queue *queue, const struct accel_cmdbuf *cb,
		       const struct accel_bo *const *bos, unsigned int nbos,
		       const struct accel_sync *waits, unsigned int nwaits,
		       const struct accel_sync *signals, unsigned int nsignals);

/* ---- Direct queues (LIBACCEL_1.2) ---------------------------------------- */

/*
 * A direct queue: a hardware queue owned by this process.  Its ring is a
 * BO in the file's device address space that libaccel writes, and its
 * doorbell page is mapped into the process, so a job is submitted without
 * a system call; completion is a FENCE writing the job's sequence number
 * into a completion word in memory, which accel_dq_wait() watches
 * (spinning briefly, then sleeping in DRM_IOCTL_LUMEN_DQ_WAIT until the
 * FENCE's interrupt).  The device runs every ring entry in the file's MMU
 * context, so the queue reaches only what the file has mapped.  There is
 * no kernel scheduler, no implicit synchronisation and no job timeout: a
 * job that never ends (a WAIT nobody releases) holds its queue until
 * accel_dq_destroy().  Documentation/libaccel.rst, "Direct queues".
 *
 * Threads: one accel_dq is used by one thread at a time (its ring has one
 * writer; calls on it must not race), distinct accel_dqs in distinct
 * threads are fine.
 */
struct accel_dq;

/* accel_dq_create()'s default ring size, for @entries 0. */
#define ACCEL_DQ_DEFAULT_ENTRIES	1024
/* accel_dq_set_spin()'s default: how long accel_dq_wait() spins (ns). */
#define ACCEL_DQ_DEFAULT_SPIN_NS	50000
/* Jobs of at most this many commands are copied into the ring. */
#define ACCEL_DQ_INLINE_MAX		8

/*
 * Creates a direct queue on engine @engine of class @cls (an index as for
 * accel_queue_create(), or ACCEL_ENGINE_ANY) with a ring of @entries
 * 64-byte entries: a power of two 2 .. 65536, or 0 for
 * ACCEL_DQ_DEFAULT_ENTRIES.  Allocates the ring BO and a completion BO
 * (system memory, cached), maps them, creates the queue and maps its
 * doorbell page.  A ring holds at most @entries - 1 entries in flight
 * and each job takes two or more, so a 2-entry ring holds no job at all
 * (accel_dq_push() says -E2BIG).
 * Errors: -EINVAL (NULL, @entries); -ENOMEM; -errno of accel_bo_create(),
 * accel_bo_map(), mmap(2) or DRM_IOCTL_LUMEN_DQ_CREATE: -EINVAL for a bad
 * class or engine, -ENOSPC when every direct hardware queue is taken
 * (accel_info.num_direct_queues, 0 without direct queues), -ECANCELED for
 * a guilty file, -ENODEV after unplug, -ENOTTY from a driver without
 * direct queues.
 */
int accel_dq_create(struct accel_dev *dev, enum accel_engine_class cls,
		    uint32_t engine, uint32_t entries, struct accel_dq **dq);

/*
 * Destroys @dq: the hardware queue is reset (when this returns, none of
 * its commands writes memory any more; jobs not finished are dropped),
 * the doorbell unmapped, the ring and completion BOs freed.  NULL is
 * ignored (0).  Errors: -errno of DRM_IOCTL_LUMEN_DQ_DESTROY (@dq is
 * freed anyway).
 */
int accel_dq_destroy(struct accel_dq *dq);

/* The driver's id of @dq, > 0; 0 for NULL. */
uint32_t accel_dq_id(const struct accel_dq *dq);
/* The hardware queue @dq owns; 0 for NULL. */
uint32_t accel_dq_hw_queue(const struct accel_dq *dq);
/* The device engine @dq feeds (compute engines first, DMA last); 0 for NULL. */
uint32_t accel_dq_hw_engine(const struct accel_dq *dq);

/*
 * Writes one job into the ring without ringing the doorbell: @cb's
 * commands -- copied into the ring when there are at most
 * ACCEL_DQ_INLINE_MAX of them and the ring is large enough, else one
 * INDIRECT to @cb's VA (context 0: the queue's own) -- then a FENCE with
 * LUMEN_FENCE_IRQ writing the job's sequence number to the completion
 * word.  *@seq gets the number: 1, 2, ... in push order.  Keep @cb (and
 * the BOs its commands use) alive and unchanged until the job completed,
 * also when it was copied.  Nothing is written on failure.
 * Errors: -EINVAL (NULL, empty @cb, @cb of another device or without a
 * BO); -EAGAIN: the ring is full, wait for earlier jobs and push again
 * (the oldest that may be unfinished is accel_dq_completed() + 1; if that
 * is above the last job pushed, all completed meanwhile: just retry);
 * -E2BIG: the job needs more ring entries than the ring can ever hold;
 * -EIO: the queue has stopped (accel_dq_error()); -ENODEV: the device
 * is gone.
 */
int accel_dq_push(struct accel_dq *dq, const struct accel_cmdbuf *cb,
		  uint64_t *seq);

/*
 * Rings the doorbell once for every job pushed since the last kick (a
 * store to the mapped doorbell page, no system call); nothing to do is
 * 0.  Errors: -EINVAL (NULL); -EIO if the queue is known to have stopped.
 */
int accel_dq_kick(struct accel_dq *dq);

/* accel_dq_push() then accel_dq_kick(). */
int accel_dq_submit(struct accel_dq *dq, const struct accel_cmdbuf *cb,
		    uint64_t *seq);

/*
 * The last sequence number that completed, read from memory (no system
 * call): every job up to it has finished.  0 for NULL or before any.
 */
uint64_t accel_dq_completed(const struct accel_dq *dq);

/*
 * Waits until job @seq (and so every earlier job of @dq) completed: spins
 * reading the completion word for up to the spin budget
 * (accel_dq_set_spin()), then sleeps in DRM_IOCTL_LUMEN_DQ_WAIT until the
 * job's FENCE interrupt.  Kicks first if @seq is pushed but not kicked.
 * @timeout_ns as accel_fence_wait(): relative, negative forever, 0 just
 * tests (a system call when the job is not done, to tell a stopped queue).
 * Returns 0 once completed -- a job completed also when an operator in it
 * failed on a bad value the device does not check; a failure the device
 * detects stops the queue instead.
 * Errors: -EINVAL (NULL, @seq 0 or never pushed); -ETIME; -EIO: the
 * queue stopped before @seq completed (accel_dq_error() says why);
 * -ENODEV: the device was removed; -errno of the ioctl.
 */
int accel_dq_wait(struct accel_dq *dq, uint64_t seq, int64_t timeout_ns);

/*
 * How long accel_dq_wait() spins before it sleeps, in ns:
 * ACCEL_DQ_DEFAULT_SPIN_NS unless set; 0 always sleeps at once (and
 * costs an interrupt per wait).  NULL is ignored.
 */
void accel_dq_set_spin(struct accel_dq *dq, uint64_t spin_ns);

/*
 * Why @dq stopped, after -EIO: the device's error code (LUMEN_ERR_*,
 * Documentation/device.rst) or DRM_LUMEN_DQ_ERROR_HUNG /
 * DRM_LUMEN_DQ_ERROR_RESET, the ring index of the failed entry, and the
 * faulting VA for an MMU fault (else 0); each pointer may be NULL.  The
 * queue stays stopped: destroy it and create another.
 * Errors: -EINVAL (NULL @dq); -ENOENT if no stop has been seen;
 * -ENODEV if the queue stopped because the device was removed.
 */
int accel_dq_error(const struct accel_dq *dq, uint32_t *code, uint32_t *head,
		   uint64_t *fault_va);

/*
 * A static description of @err, a negative errno as libaccel returns
 * (a positive errno is read the same way).  Never NULL: "Success" for 0,
 * "Unknown error" for a value that is no errno.  Thread-safe.
 */
const char *accel_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* ACCEL_ACCEL_H */
