// SPDX-License-Identifier: MIT
/*
 * Command buffer bookkeeping: commands grow from the start, descriptors
 * from the end, the command part stops at max_cmdbuf_size, a full buffer
 * says -ENOSPC and stays as it was, and reset starts both over.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "decode.h"
#include "fake.h"

#define CAP	1024

FIXTURE(cmdbuf) {
	struct accel_dev dev;
	struct accel_cmdbuf cb;
	uint64_t mem[CAP / 8];
	uint8_t desc[128];
};

FIXTURE_SETUP(cmdbuf)
{
	self->dev = fake_dev();
	memset(self->mem, DEC_POISON, CAP);
	memset(self->desc, 0x3c, sizeof(self->desc));
	fake_cmdbuf(&self->cb, &self->dev, NULL, self->mem, CAP, DEC_VA, CAP);
}

FIXTURE_TEARDOWN(cmdbuf)
{
}

TEST(null_accessors)
{
	EXPECT_EQ(0, accel_cmdbuf_size(NULL));
	EXPECT_EQ(0, accel_cmdbuf_count(NULL));
	EXPECT_EQ(0, accel_cmdbuf_va(NULL));
	EXPECT_EQ(0, accel_cmdbuf_capacity(NULL));
	EXPECT_NULL(accel_cmdbuf_data(NULL));
	accel_cmdbuf_reset(NULL);
	accel_cmdbuf_free(NULL);
}

TEST_F(cmdbuf, accessors)
{
	EXPECT_EQ(0, accel_cmdbuf_size(&self->cb));
	EXPECT_EQ(0, accel_cmdbuf_count(&self->cb));
	EXPECT_EQ(DEC_VA, accel_cmdbuf_va(&self->cb));
	EXPECT_EQ(CAP, accel_cmdbuf_capacity(&self->cb));
	EXPECT_EQ((const void *)self->mem, accel_cmdbuf_data(&self->cb));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(128, accel_cmdbuf_size(&self->cb));
	EXPECT_EQ(2, accel_cmdbuf_count(&self->cb));
}

/* Exactly CAP / 64 commands fit; the next one is -ENOSPC and changes nothing. */
TEST_F(cmdbuf, full_of_commands)
{
	uint8_t before[CAP];

	for (int i = 0; i < CAP / 64; i++)
		ASSERT_EQ(0, accel_cmd_fence(&self->cb, 0x1000 + 8 * i, i));
	memcpy(before, self->mem, CAP);
	EXPECT_EQ(-ENOSPC, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-ENOSPC, accel_cmd_fence(&self->cb, 0x1000, 1));
	EXPECT_EQ(-ENOSPC, accel_cmd_raw_desc(&self->cb, 0x20, self->desc));
	EXPECT_EQ(CAP, accel_cmdbuf_size(&self->cb));
	EXPECT_EQ(0, memcmp(before, self->mem, CAP));
	/* Invalid arguments are still -EINVAL, checked before space. */
	EXPECT_EQ(-EINVAL, accel_cmd_fence(&self->cb, 0x1001, 1));
}

/* The command part stops at the driver's max_cmdbuf_size. */
TEST_F(cmdbuf, command_limit)
{
	fake_cmdbuf(&self->cb, &self->dev, NULL, self->mem, CAP, DEC_VA, 256);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-ENOSPC, accel_cmd_nop(&self->cb));
	EXPECT_EQ(256, accel_cmdbuf_size(&self->cb));
	/* Descriptors may still use the rest, but need a command too. */
	EXPECT_EQ(-ENOSPC, accel_cmd_raw_desc(&self->cb, 0x20, self->desc));
}

/*
 * Each operator takes 64 bytes at the front and 128 at the back:
 * 5 fit in 1024 bytes (960), a sixth does not, a NOP still does.
 */
TEST_F(cmdbuf, descriptors_from_the_end)
{
	uint8_t before[CAP];

	for (int i = 0; i < 5; i++) {
		self->desc[0] = (uint8_t)i;
		ASSERT_EQ(0, accel_cmd_raw_desc(&self->cb, 0x20, self->desc));
		EXPECT_CMD(self->mem, i, 0x20, 0, DEC_VA + CAP - 128 * (i + 1));
		EXPECT_EQ(i, ((uint8_t *)self->mem)[CAP - 128 * (i + 1)]);
	}
	memcpy(before, self->mem, CAP);
	EXPECT_EQ(-ENOSPC, accel_cmd_raw_desc(&self->cb, 0x20, self->desc));
	EXPECT_EQ(0, memcmp(before, self->mem, CAP));
	EXPECT_EQ(320, accel_cmdbuf_size(&self->cb));
	ASSERT_EQ(0, accel_cmd_nop(&self->cb));
	EXPECT_EQ(-ENOSPC, accel_cmd_nop(&self->cb));
	EXPECT_EQ(384, accel_cmdbuf_size(&self->cb));
}

TEST_F(cmdbuf, reset_starts_over)
{
	ASSERT_EQ(0, accel_cmd_raw_desc(&self->cb, 0x21, self->desc));
	ASSERT_EQ(0, accel_cmd_raw_desc(&self->cb, 0x22, self->desc));
	accel_cmdbuf_reset(&self->cb);
	EXPECT_EQ(0, accel_cmdbuf_size(&self->cb));
	EXPECT_EQ(0, accel_cmdbuf_count(&self->cb));
	ASSERT_EQ(0, accel_cmd_raw_desc(&self->cb, 0x23, self->desc));
	/* First slot at both ends again. */
	EXPECT_CMD(self->mem, 0, 0x23, 0, DEC_VA + CAP - 128);
	EXPECT_EQ(64, accel_cmdbuf_size(&self->cb));
	/* And the full capacity is usable again. */
	accel_cmdbuf_reset(&self->cb);
	for (int i = 0; i < CAP / 64; i++)
		ASSERT_EQ(0, accel_cmd_nop(&self->cb));
}

TEST_HARNESS_MAIN
