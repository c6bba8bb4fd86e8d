// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Malformed command streams.  Each variant builds one job whose command
 * buffer breaks one rule of Documentation/commands.rst; the job must fail
 * with -EIO (a bad command, descriptor or indirect buffer) or -EFAULT (an
 * address the file has not mapped, or a write to a read-only BO), and:
 *  - nothing after the bad command runs: a FENCE that follows it leaves
 *    its target untouched;
 *  - a job submitted at the same time on another queue completes and
 *    copies its data correctly;
 *  - the queue that failed runs the next job normally.
 * A few variants are well-formed twins of the malformed ones (a descriptor
 * re-sent unchanged, IBs nested exactly to the limit): they must succeed,
 * so that a device refusing everything does not pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lumen_test.h"
#include "../../driver/lumen_regs.h"

#define TARGET_SIZE	4096
#define STOP_MARK	0x53544f50ull	/* the FENCE after the bad command */
#define INNOCENT_SIZE	(1024 * 1024)
#define MAX_SUBS	6
#define GEMM_DIM	8

FIXTURE(malformed) {
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_rng rng;
	struct accel_bo *target, *ro, *mat;
	uint64_t *target_map;
	struct accel_cmdbuf *cb, *subs[MAX_SUBS];
	struct accel_fence *done;
};

/* ---- Raw commands ------------------------------------------------------------ */

/* A 64-byte command: opcode, flags, six zero header bytes, seven arguments. */
static void raw_cmd(uint8_t cmd[LUMEN_CMD_SIZE], uint8_t opcode, uint8_t flags,
		    uint64_t a0, uint64_t a1, uint64_t a2)
{
	uint64_t args[LUMEN_CMD_ARGS] = { a0, a1, a2 };

	memset(cmd, 0, LUMEN_CMD_SIZE);
	cmd[0] = opcode;
	cmd[1] = flags;
	memcpy(cmd + 8, args, sizeof(args));	/* the guest is little-endian */
}

static void set_arg(uint8_t cmd[LUMEN_CMD_SIZE], int i, uint64_t v)
{
	memcpy(cmd + 8 + 8 * i, &v, 8);
}

static uint64_t get_arg(const uint8_t cmd[LUMEN_CMD_SIZE], int i)
{
	uint64_t v;

	memcpy(&v, cmd + 8 + 8 * i, 8);
	return v;
}

/* Appends the raw @cmd, then the FENCE that must never run. */
static int bad_then_stop(FIXTURE_DATA(malformed) *self, const uint8_t *cmd)
{
	int ret = accel_cmd_raw(self->cb, cmd);

	return ret ? ret : accel_cmd_fence(self->cb, accel_bo_va(self->target), STOP_MARK);
}

static int new_sub(FIXTURE_DATA(malformed) *self, int i)
{
	return accel_cmdbuf_create(self->dev, 4096, &self->subs[i]);
}

/*
 * The INDIRECT command libaccel encodes to call @sub (so its context field
 * is whatever the device wants for "this file's context"), for variants
 * that then bend its address or size.
 */
static int indirect_cmd(FIXTURE_DATA(malformed) *self, struct accel_cmdbuf *sub,
			uint8_t cmd[LUMEN_CMD_SIZE])
{
	struct accel_cmdbuf *tmp;
	int ret;

	ret = accel_cmdbuf_create(self->dev, 4096, &tmp);
	if (ret)
		return ret;
	ret = accel_cmd_call(tmp, sub);
	if (!ret) {
		memcpy(cmd, accel_cmdbuf_data(tmp), LUMEN_CMD_SIZE);
		if (cmd[0] != LUMEN_OP_INDIRECT || get_arg(cmd, 0) != accel_cmdbuf_va(sub))
			ret = -EPROTO;
	}
	accel_cmdbuf_free(tmp);
	return ret;
}

/* A valid GEMM descriptor (8x8x8 f32 on the mat BO), as libaccel encodes it. */
static int gemm_desc(FIXTURE_DATA(malformed) *self, uint64_t desc[LUMEN_DESC_WORDS])
{
	uint64_t va = accel_bo_va(self->mat), n = GEMM_DIM;
	struct accel_cmdbuf *tmp;
	const uint8_t *data;
	int ret;

	ret = accel_cmdbuf_create(self->dev, 4096, &tmp);
	if (ret)
		return ret;
	ret = accel_cmd_gemm(tmp, &(struct accel_gemm){
		.type = ACCEL_F32, .c_type = ACCEL_F32, .m = n, .n = n, .k = n,
		.a = va, .lda = n, .b = va + 4 * n * n, .ldb = n,
		.c = va + 8 * n * n, .ldc = n, .alpha = 1.0f,
	});
	if (!ret) {
		data = accel_cmdbuf_data(tmp);
		if (data[0] != LUMEN_OP_GEMM)
			ret = -EPROTO;
		else
			memcpy(desc, data + (get_arg(data, 0) - accel_cmdbuf_va(tmp)),
			       LUMEN_DESC_SIZE);
	}
	accel_cmdbuf_free(tmp);
	return ret;
}

/* A GEMM whose descriptor word @w is replaced by @v (or unchanged if @w < 0). */
static int gemm_with_word(FIXTURE_DATA(malformed) *self, int w, uint64_t v)
{
	uint64_t desc[LUMEN_DESC_WORDS];
	int ret = gemm_desc(self, desc);

	if (ret)
		return ret;
	if (w >= 0)
		desc[w] = v;
	ret = accel_cmd_raw_desc(self->cb, LUMEN_OP_GEMM, desc);
	return ret ? ret : accel_cmd_fence(self->cb, accel_bo_va(self->target), STOP_MARK);
}

/* ---- The variants' command buffers ----------------------------------------- */

static int build_unknown_opcode(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, 0x7f, 0, 0, 0, 0);
	return bad_then_stop(self, cmd);
}

static int build_opcode_ff(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, 0xff, 0, 0, 0, 0);
	return bad_then_stop(self, cmd);
}

static int build_reserved_header_byte(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, LUMEN_OP_NOP, 0, 0, 0, 0);
	cmd[5] = 1;
	return bad_then_stop(self, cmd);
}

static int build_unknown_flag(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, LUMEN_OP_FENCE, LUMEN_FENCE_IRQ << 1,
		accel_bo_va(self->target) + 8, 1, 0);
	return bad_then_stop(self, cmd);
}

static int build_nop_with_argument(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, LUMEN_OP_NOP, 0, 0, 0, 0);
	set_arg(cmd, 6, 1);
	return bad_then_stop(self, cmd);
}

static int build_fence_unused_argument(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, LUMEN_OP_FENCE, 0, accel_bo_va(self->target) + 8, 1, 1);
	return bad_then_stop(self, cmd);
}

static int build_misaligned_fence(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, LUMEN_OP_FENCE, 0, accel_bo_va(self->target) + 12, 1, 0);
	return bad_then_stop(self, cmd);
}

static int build_misaligned_wait(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	/* Satisfied if it were read (the target is zero): only the alignment is wrong. */
	raw_cmd(cmd, LUMEN_OP_WAIT, 0, accel_bo_va(self->target) + 4, 0, 0);
	return bad_then_stop(self, cmd);
}

static int build_desc_unchanged(FIXTURE_DATA(malformed) *self)
{
	return gemm_with_word(self, -1, 0);
}

static int build_desc_zero_m(FIXTURE_DATA(malformed) *self)
{
	return gemm_with_word(self, LUMEN_GEMM_W_M, 0);
}

static int build_desc_bad_type(FIXTURE_DATA(malformed) *self)
{
	return gemm_with_word(self, LUMEN_GEMM_W_MODE, LUMEN_HW_DTYPE_F32 << 8 | 9);
}

static int build_desc_reserved_mode(FIXTURE_DATA(malformed) *self)
{
	uint64_t desc[LUMEN_DESC_WORDS];
	int ret = gemm_desc(self, desc);

	return ret ? ret : gemm_with_word(self, LUMEN_GEMM_W_MODE,
					  desc[LUMEN_GEMM_W_MODE] | 1ull << 40);
}

static int build_desc_unused_word(FIXTURE_DATA(malformed) *self)
{
	return gemm_with_word(self, LUMEN_DESC_WORDS - 1, 1);
}

static int build_desc_small_lda(FIXTURE_DATA(malformed) *self)
{
	return gemm_with_word(self, LUMEN_GEMM_W_LDA, GEMM_DIM - 1);
}

static int build_desc_misaligned(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];
	uint64_t desc[LUMEN_DESC_WORDS];
	int ret = gemm_desc(self, desc);

	if (ret)
		return ret;
	/* The descriptor sits in the target BO at offset 256 + 4: not 8-aligned. */
	memcpy((uint8_t *)self->target_map + 260, desc, LUMEN_DESC_SIZE);
	raw_cmd(cmd, LUMEN_OP_GEMM, 0, accel_bo_va(self->target) + 260, 0, 0);
	return bad_then_stop(self, cmd);
}

static int build_ib_self(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];
	int ret;

	/* subs[0] is one INDIRECT to its own first command: endless recursion. */
	ret = new_sub(self, 0);
	if (!ret)
		ret = accel_cmd_nop(self->subs[0]);
	if (!ret)
		ret = indirect_cmd(self, self->subs[0], cmd);
	if (ret)
		return ret;
	accel_cmdbuf_reset(self->subs[0]);
	ret = accel_cmd_raw(self->subs[0], cmd);
	if (!ret)
		ret = accel_cmd_call(self->cb, self->subs[0]);
	return ret ? ret : accel_cmd_fence(self->cb, accel_bo_va(self->target), STOP_MARK);
}

/*
 * The job's buffer calls subs[0], which calls subs[1] ... subs[@n - 1]
 * (which writes a FENCE): 1 + @n buffers nested.
 */
static int nest(FIXTURE_DATA(malformed) *self, int n)
{
	int i, ret;

	for (i = n - 1; i >= 0; i--) {
		ret = new_sub(self, i);
		if (ret)
			return ret;
		if (i == n - 1)
			ret = accel_cmd_fence(self->subs[i], accel_bo_va(self->target) + 8, 1);
		else
			ret = accel_cmd_call(self->subs[i], self->subs[i + 1]);
		if (ret)
			return ret;
	}
	ret = accel_cmd_call(self->cb, self->subs[0]);
	return ret ? ret : accel_cmd_fence(self->cb, accel_bo_va(self->target), STOP_MARK);
}

/* The job's own buffer is nested once by the kernel's ring entry. */
static int build_ib_depth_limit(FIXTURE_DATA(malformed) *self)
{
	return nest(self, LUMEN_IB_MAX_DEPTH - 1);
}

static int build_ib_too_deep(FIXTURE_DATA(malformed) *self)
{
	return nest(self, LUMEN_IB_MAX_DEPTH);
}

/*
 * INDIRECT to subs[0] (four NOPs) with its address moved by @va_delta, or
 * replaced by @va when that is not 0, and its size replaced by @size.
 */
static int bent_indirect(FIXTURE_DATA(malformed) *self, uint64_t va_delta,
			 uint64_t va, uint64_t size)
{
	uint8_t cmd[LUMEN_CMD_SIZE];
	int i, ret;

	ret = new_sub(self, 0);
	for (i = 0; !ret && i < 4; i++)
		ret = accel_cmd_nop(self->subs[0]);
	if (!ret)
		ret = indirect_cmd(self, self->subs[0], cmd);
	if (ret)
		return ret;
	set_arg(cmd, 0, va ? va : get_arg(cmd, 0) + va_delta);
	set_arg(cmd, 1, size);
	return bad_then_stop(self, cmd);
}

static int build_ib_size_not_multiple(FIXTURE_DATA(malformed) *self)
{
	return bent_indirect(self, 0, 0, 100);
}

static int build_ib_size_zero(FIXTURE_DATA(malformed) *self)
{
	return bent_indirect(self, 0, 0, 0);
}

static int build_ib_misaligned(FIXTURE_DATA(malformed) *self)
{
	return bent_indirect(self, 32, 0, 128);
}

static int build_ib_unmapped(FIXTURE_DATA(malformed) *self)
{
	/* The driver never maps below va_start (>= 1 MiB); 64 KiB is below. */
	return bent_indirect(self, 0, 64 * 1024, 64);
}

static int build_fence_unmapped(FIXTURE_DATA(malformed) *self)
{
	uint8_t cmd[LUMEN_CMD_SIZE];

	raw_cmd(cmd, LUMEN_OP_FENCE, 0, 64 * 1024, 1, 0);
	return bad_then_stop(self, cmd);
}

static int build_fence_read_only(FIXTURE_DATA(malformed) *self)
{
	int ret = accel_cmd_fence(self->cb, accel_bo_va(self->ro), 1);

	return ret ? ret : accel_cmd_fence(self->cb, accel_bo_va(self->target), STOP_MARK);
}

static int build_gemm_operand_unmapped(FIXTURE_DATA(malformed) *self)
{
	return gemm_with_word(self, LUMEN_GEMM_W_B, 64 * 1024);
}

static int build_copy_into_guard_page(FIXTURE_DATA(malformed) *self)
{
	/* Documentation/uapi.rst: an unmapped 4 KiB guard page follows each BO. */
	int ret = accel_cmd_copy(self->cb, accel_bo_va(self->target) + TARGET_SIZE - 32,
				 accel_bo_va(self->mat), 64);

	return ret ? ret : accel_cmd_fence(self->cb, accel_bo_va(self->target), STOP_MARK);
}

/* ---- Fixture ------------------------------------------------------------------ */

FIXTURE_VARIANT(malformed) {
	int (*build)(FIXTURE_DATA(malformed) *self);
	int expect;	/* the job's status: 1 success, or its -errno */
};

#define BAD(name, err) \
	FIXTURE_VARIANT_ADD(malformed, name) { .build = build_##name, .expect = (err) }

BAD(unknown_opcode, -EIO);
BAD(opcode_ff, -EIO);
BAD(reserved_header_byte, -EIO);
BAD(unknown_flag, -EIO);
BAD(nop_with_argument, -EIO);
BAD(fence_unused_argument, -EIO);
BAD(misaligned_fence, -EIO);
BAD(misaligned_wait, -EIO);
BAD(desc_unchanged, 1);
BAD(desc_zero_m, -EIO);
BAD(desc_bad_type, -EIO);
BAD(desc_reserved_mode, -EIO);
BAD(desc_unused_word, -EIO);
BAD(desc_small_lda, -EIO);
BAD(desc_misaligned, -EIO);
BAD(ib_self, -EIO);
BAD(ib_depth_limit, 1);
BAD(ib_too_deep, -EIO);
BAD(ib_size_not_multiple, -EIO);
BAD(ib_size_zero, -EIO);
BAD(ib_misaligned, -EIO);
BAD(ib_unmapped, -EFAULT);
BAD(fence_unmapped, -EFAULT);
BAD(fence_read_only, -EFAULT);
BAD(gemm_operand_unmapped, -EFAULT);
BAD(copy_into_guard_page, -EFAULT);

FIXTURE_SETUP(malformed)
{
	void *map;

	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&self->rng);
	if (self->info.num_queues < 2)
		SKIP(return, "needs a second queue for the concurrent job");
	ASSERT_GE(self->info.va_start, 1024 * 1024);
	ASSERT_EQ(0, accel_bo_create(self->dev, TARGET_SIZE, 0, &self->target));
	ASSERT_EQ(0, accel_bo_map(self->target, &map));
	self->target_map = map;
	ASSERT_EQ(0, accel_bo_create(self->dev, 4096, ACCEL_BO_READ_ONLY, &self->ro));
	ASSERT_EQ(0, accel_bo_create(self->dev, 3 * 4 * GEMM_DIM * GEMM_DIM, 0, &self->mat));
	ASSERT_EQ(0, accel_cmdbuf_create(self->dev, 16 * 1024, &self->cb));
	ASSERT_EQ(0, accel_fence_create(self->dev, &self->done));
}

FIXTURE_TEARDOWN(malformed)
{
	int i;

	/* Status 0: submitted and still running (a fence never used is -EINVAL). */
	if (self->done && accel_fence_status(self->done) == 0)
		accel_fence_wait(self->done, LT_JOB_TIMEOUT_NS);
	accel_fence_free(self->done);
	for (i = 0; i < MAX_SUBS; i++)
		accel_cmdbuf_free(self->subs[i]);
	accel_cmdbuf_free(self->cb);
	accel_bo_free(self->mat);
	accel_bo_free(self->ro);
	accel_bo_free(self->target);
	accel_close(self->dev);
}

/* The innocent job: random bytes system -> device -> system on another queue. */
struct innocent {
	struct accel_bo *src, *mid, *dst;
	void *src_map, *dst_map;
	struct accel_cmdbuf *cb;
	struct accel_fence *done;
};

static void innocent_submit(struct __test_metadata *_metadata,
			    FIXTURE_DATA(malformed) *self, struct innocent *in,
			    unsigned int queue)
{
	const struct accel_bo *bos[3];

	ASSERT_EQ(0, accel_bo_create(self->dev, INNOCENT_SIZE, 0, &in->src));
	ASSERT_EQ(0, accel_bo_create(self->dev, INNOCENT_SIZE, ACCEL_BO_DEVICE, &in->mid));
	ASSERT_EQ(0, accel_bo_create(self->dev, INNOCENT_SIZE, 0, &in->dst));
	ASSERT_EQ(0, accel_bo_map(in->src, &in->src_map));
	ASSERT_EQ(0, accel_bo_map(in->dst, &in->dst_map));
	lt_rng_fill(&self->rng, in->src_map, INNOCENT_SIZE);
	ASSERT_EQ(0, accel_cmdbuf_create(self->dev, 4096, &in->cb));
	ASSERT_EQ(0, accel_cmd_copy(in->cb, accel_bo_va(in->mid), accel_bo_va(in->src),
				    INNOCENT_SIZE));
	ASSERT_EQ(0, accel_cmd_copy(in->cb, accel_bo_va(in->dst), accel_bo_va(in->mid),
				    INNOCENT_SIZE));
	ASSERT_EQ(0, accel_fence_create(self->dev, &in->done));
	bos[0] = in->src;
	bos[1] = in->mid;
	bos[2] = in->dst;
	ASSERT_EQ(0, accel_submit(self->dev, queue, in->cb, bos, 3, NULL, in->done));
}

static void innocent_check(struct __test_metadata *_metadata, struct innocent *in)
{
	int ret = accel_fence_wait(in->done, LT_JOB_TIMEOUT_NS);

	ASSERT_EQ(0, ret) TH_LOG("the innocent job: %s", accel_strerror(ret));
	ret = accel_fence_status(in->done);
	EXPECT_EQ(1, ret) TH_LOG("the innocent job failed: %s", accel_strerror(ret));
	EXPECT_EQ(INNOCENT_SIZE, lt_mismatch(in->src_map, in->dst_map, INNOCENT_SIZE))
		TH_LOG("the innocent job's data differs");
	accel_fence_free(in->done);
	accel_cmdbuf_free(in->cb);
	accel_bo_free(in->dst);
	accel_bo_free(in->mid);
	accel_bo_free(in->src);
}

/* After the failure: the same queue runs a FENCE and a COPY correctly. */
static void queue_still_works(struct __test_metadata *_metadata,
			      FIXTURE_DATA(malformed) *self, unsigned int queue)
{
	uint8_t *t = (uint8_t *)self->target_map;
	int ret;

	accel_cmdbuf_reset(self->cb);
	lt_rng_fill(&self->rng, t + 1024, 512);
	ASSERT_EQ(0, accel_cmd_copy(self->cb, accel_bo_va(self->target) + 2048,
				    accel_bo_va(self->target) + 1024, 512));
	ASSERT_EQ(0, accel_cmd_fence(self->cb, accel_bo_va(self->target) + 16, 0x600d));
	ASSERT_EQ(0, accel_submit(self->dev, queue, self->cb, NULL, 0, NULL, self->done));
	ret = accel_fence_wait(self->done, LT_JOB_TIMEOUT_NS);
	ASSERT_EQ(0, ret) TH_LOG("the next job: %s", accel_strerror(ret));
	ret = accel_fence_status(self->done);
	ASSERT_EQ(1, ret) TH_LOG("the next job on the same queue failed: %s",
				 accel_strerror(ret));
	EXPECT_EQ(0x600d, self->target_map[2]);
	EXPECT_EQ(512, lt_mismatch(t + 1024, t + 2048, 512));
}

TEST_F_TIMEOUT(malformed, fails_alone, 120)
{
	const struct accel_bo *bos[3] = { self->target, self->mat, self->ro };
	struct innocent in = { 0 };
	int ret;

	ret = variant->build(self);
	ASSERT_EQ(0, ret) TH_LOG("building the command buffer: %s", accel_strerror(ret));

	ASSERT_EQ(0, accel_submit(self->dev, 0, self->cb, bos, 3, NULL, self->done));
	innocent_submit(_metadata, self, &in, 1);

	ret = accel_fence_wait(self->done, LT_JOB_TIMEOUT_NS);
	ASSERT_EQ(0, ret) TH_LOG("the malformed job never ended: %s", accel_strerror(ret));
	ret = accel_fence_status(self->done);
	EXPECT_EQ(variant->expect, ret) TH_LOG("the job's status: %s (%d)",
					       accel_strerror(ret), ret);
	if (variant->expect == 1) {
		EXPECT_EQ(STOP_MARK, self->target_map[0]);
	} else {
		EXPECT_EQ(0, self->target_map[0])
			TH_LOG("a command after the bad one ran");
	}
	innocent_check(_metadata, &in);
	queue_still_works(_metadata, self, 0);
}

TEST_HARNESS_MAIN
