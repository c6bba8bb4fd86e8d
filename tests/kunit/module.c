// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * lumen_kunit.ko: KUnit tests of lumen.ko's pure logic.  Loading it runs
 * every suite; the results are in the kernel log and, in KTAP, under
 * /sys/kernel/debug/kunit/<suite>/results.  It needs a kernel with
 * CONFIG_KUNIT (the debug guest kernel, tools/debug-kernel/) and lumen.ko
 * built for it, which exports what the tests call only on such kernels.
 */

#include <linux/module.h>

MODULE_DESCRIPTION("KUnit tests of the Lumen accelerator driver");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
