#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side tests of QEMU's lumen device, through the qtest accelerator.

Each test boots its own QEMU (q35, -accel qtest, no guest code), plays
firmware and driver, and checks the device against the programming model
in Documentation/device.rst.  Every test ends by checking that QEMU is
still alive and the device still answers.

Output is KTAP; the exit status is non-zero if any test failed.
Usage: LUMEN_QEMU=... test_lumen.py [-v] [NAME-SUBSTRING...]
"""

import os
import random
import struct
import sys
import time
import traceback

from lumen_qtest import (R, Qemu, Lumen, QTestError, PciFunction, PageTables,
                         nop, fence, wait, timestamp, indirect, copy, copy2d,
                         fill, operator, descriptor, cmd, BAR0_ADDR, BAR2_ADDR,
                         BAR4_ADDR, MSI_ADDR, RAM_SIZE, find_function,
                         PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER)

# Guest RAM layout used by the tests (RAM is 512 MiB).
RING = 0x0020_0000          # queue q's ring at RING + q * 0x10000
FENCES = 0x0100_0000        # fence targets
SRC = 0x0200_0000           # copy sources (up to 16 MiB)
DST = 0x0400_0000           # copy destinations (up to 16 MiB)
TABLES = 0x0600_0000        # device page tables (1 MiB per context)
IBS = 0x0700_0000           # indirect buffers, descriptors (16 MiB)
BIG_SRC = 0x0800_0000       # 2 MiB behind the long-running copy's 2^39 bytes
BIG_DST = 0x0A00_0000       # 2 MiB

MiB = 1 << 20
DEVMEM_DEFAULT = 256 * MiB

ERR = {k[len("LUMEN_ERR_"):]: v for k, v in R.items() if k.startswith("LUMEN_ERR_")}
IDLE = R["LUMEN_Q_STATUS_IDLE"]
ENABLED = R["LUMEN_Q_STATUS_ENABLED"]
ERROR = R["LUMEN_Q_STATUS_ERROR"]
WAITING = R["LUMEN_Q_STATUS_WAITING"]
DEVMEM = R["LUMEN_CTX0_DEVMEM"]     # context 0: device-memory offset


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def eq(got, want, what):
    if got != want:
        fmt = "%#x" if isinstance(want, int) and not isinstance(want, bool) else "%r"
        raise Failure(("%s: got " + fmt + ", want " + fmt) % (what, got, want))


def ring(q):
    return RING + q * 0x10000


TESTS = []


def test(device_args="", extra_args=(), setup=True):
    """Register a test; it gets (qemu, lumen) (lumen is None if not setup)."""
    def register(fn):
        TESTS.append((fn.__name__, fn, device_args, extra_args, setup))
        return fn
    return register


def ready(d, msix=True):
    """Driver-like bring-up: MSI-X on, device enabled."""
    if msix:
        d.enable_msix()
    d.enable()


def still_alive(qemu, d):
    """QEMU answers, the device answers."""
    check(qemu.alive(), "QEMU exited")
    if d is not None:
        eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "ID after the test")


def run_fence(d, q, value, addr=None):
    """A FENCE on queue @q must land; returns nothing, raises on failure."""
    addr = FENCES + 8 * q if addr is None else addr
    d.q.writeq(addr, 0)
    d.submit(q, [fence(addr, value)])
    st = d.wait_idle(q)
    eq(st & ERROR, 0, "queue %d status error bit" % q)
    eq(d.q.readq(addr), value, "fence value of queue %d" % q)


# ==== Identity ================================================================

@test()
def pci_config_identity(qemu, d):
    f = d.pci
    eq(f.read16(0x00), 0x1234, "vendor ID")
    eq(f.read16(0x02), 0x4C4E, "device ID")
    eq(f.read32(0x08) >> 8, 0x120000, "class code")
    eq(f.read8(0x08), 0x02, "revision")
    eq(f.read8(0x0E) & 0x7F, 0, "header type")
    eq(f.read8(0x3D), 0, "interrupt pin (MSI-X only)")
    check(f.read16(0x06) & 0x10, "status: capability list")


@test()
def pci_capabilities(qemu, d):
    f = d.pci
    pm = f.find_cap(0x01)
    eq(pm, 0x40, "power management capability offset")
    eq(f.read16(pm + 2) & 0x7, 3, "PM version 1.2")
    exp = f.find_cap(0x10)
    eq(exp, 0x80, "PCIe capability offset")
    eq(f.read16(exp + 2) & 0xF, 2, "PCIe capability version")
    check(f.read32(exp + 4) & (1 << 28), "DevCap: function level reset")
    msix = f.find_cap(0x11)
    eq(msix, 0x60, "MSI-X capability offset")
    eq(f.read16(msix + 2) & 0x7FF, 16, "MSI-X table size - 1 (16 queues + error)")
    eq(f.read32(msix + 4), 0x8000 | 0, "MSI-X table BAR0 + 0x8000")
    eq(f.read32(msix + 8), 0xC000 | 0, "MSI-X PBA BAR0 + 0xc000")


@test()
def bar_layout_default(qemu, d):
    eq(d.pci.bar_size(0), (0x10000, 0x4), "BAR0 size/flags (64-bit)")
    eq(d.pci.bar_size(2), (256 * MiB, 0xC), "BAR2 size/flags (64-bit prefetchable)")
    eq(d.pci.bar_size(4), (0x10000, 0x4), "BAR4 size/flags (16 doorbell pages)")


@test(device_args="cores=2,queues=5,mem=1M")
def bar_layout_properties(qemu, d):
    eq(d.pci.bar_size(2), (1 * MiB, 0xC), "BAR2 with mem=1M")
    eq(d.pci.bar_size(4), (0x8000, 0x4), "BAR4 with 5 queues (rounded up)")
    eq(d.pci.read16(d.pci.find_cap(0x11) + 2) & 0x7FF, 5, "MSI-X table size - 1")


@test()
def identity_registers_default(qemu, d):
    eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "ID")
    eq(d.reg32("LUMEN_REG_VERSION"), 0x00010001, "VERSION 1.1")
    eq(d.reg32("LUMEN_REG_CAPS"), 0x1C, "CAPS: MMU | OPERATORS | DIRECT_QUEUES")
    eq(d.reg32("LUMEN_REG_NUM_CORES"), 4, "NUM_CORES")
    eq(d.reg32("LUMEN_REG_NUM_ENGINES"), 5, "NUM_ENGINES (4 cores + DMA)")
    eq(d.reg32("LUMEN_REG_NUM_CONTEXTS"), 64, "NUM_CONTEXTS")
    eq(d.reg32("LUMEN_REG_FAULT_STATUS"), 0, "FAULT_STATUS at reset")
    eq(d.reg32("LUMEN_REG_FAULT_INFO"), 0, "FAULT_INFO at reset")
    eq(d.reg64("LUMEN_REG_FAULT_VA"), 0, "FAULT_VA at reset")
    for e in range(5):
        for r in ("LUMEN_PERF_BUSY_NS", "LUMEN_PERF_COMMANDS", "LUMEN_PERF_BYTES",
                  "LUMEN_PERF_FAULTS"):
            eq(d.perf(e, r), 0, "engine %d %s at reset" % (e, r))
    for c in (0, 1, 63):
        eq(d.root(c), 0, "MMU root %d at reset" % c)
    for r in ("LUMEN_Q_FAULT_INFO", "LUMEN_Q_CONTEXT"):
        eq(d.qreg32(15, r), 0, "queue 15 %s at reset" % r)
    eq(d.qreg64(15, "LUMEN_Q_FAULT_VA"), 0, "queue 15 FAULT_VA at reset")
    eq(d.reg32("LUMEN_REG_NUM_QUEUES"), 16, "NUM_QUEUES")
    eq(d.reg32("LUMEN_REG_NUM_VECTORS"), 17, "NUM_VECTORS")
    eq(d.reg64("LUMEN_REG_DEVMEM_SIZE"), 256 * MiB, "DEVMEM_SIZE")
    eq(d.reg32("LUMEN_REG_CONTROL"), 0, "CONTROL at reset")
    eq(d.reg32("LUMEN_REG_STATUS"), 0, "STATUS at reset")
    eq(d.reg64("LUMEN_REG_ERROR_QUEUES"), 0, "ERROR_QUEUES at reset")
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 0, "IRQ_STATUS at reset")
    eq(d.reg64("LUMEN_REG_IRQ_MASK"), 0, "IRQ_MASK at reset")
    eq(d.reg32("LUMEN_REG_SCRATCH"), 0, "SCRATCH at reset")
    d.enable()
    eq(d.reg32("LUMEN_REG_STATUS"), 1, "STATUS.READY once enabled")


@test(device_args="cores=7,queues=64,mem=4M,fault-injection=on")
def identity_registers_properties(qemu, d):
    eq(d.reg32("LUMEN_REG_CAPS"), 0x1E,
       "CAPS: MMU | OPERATORS | DIRECT_QUEUES | FAULT_INJECTION")
    eq(d.reg32("LUMEN_REG_NUM_CORES"), 7, "NUM_CORES")
    eq(d.reg32("LUMEN_REG_NUM_ENGINES"), 8, "NUM_ENGINES")
    eq(d.reg32("LUMEN_REG_NUM_QUEUES"), 64, "NUM_QUEUES")
    eq(d.reg32("LUMEN_REG_NUM_VECTORS"), 65, "NUM_VECTORS")
    eq(d.reg64("LUMEN_REG_DEVMEM_SIZE"), 4 * MiB, "DEVMEM_SIZE")
    # Queue 63 exists and its ENGINE reset value is 63 % 7.
    eq(d.qreg32(63, "LUMEN_Q_ENGINE"), 0, "queue 63 ENGINE at reset")
    eq(d.qreg32(10, "LUMEN_Q_ENGINE"), 3, "queue 10 ENGINE at reset")


@test(setup=False)
def property_validation(qemu, d):
    bad = {
        "cores=0": "cores=0 is out of range",
        "cores=17": "cores=17 is out of range",
        "queues=0": "queues=0 is out of range",
        "queues=65": "queues=65 is out of range",
        "mem=3M": "must be a power of two",
        "mem=512K": "must be a power of two",
        "mem=32G": "must be a power of two",
    }
    for args, msg in bad.items():
        q = Qemu(args)
        try:
            q.proc.wait(timeout=20)
        except Exception:
            q.close()
            raise Failure("QEMU did not exit with -device lumen,%s" % args)
        log = q.log()
        status = q.close()
        eq(status, 1, "exit status with %s" % args)
        check(msg in log, "error message for %s (got %r)" % (args, log[-200:]))
    for args in ("cores=1,queues=1,mem=1M", "cores=16,queues=64,mem=2M"):
        q = Qemu(args)
        try:
            d = Lumen(q)
            still_alive(q, d)
        finally:
            q.close()


# ==== Registers ===============================================================

@test()
def scratch_register(qemu, d):
    d.set32("LUMEN_REG_SCRATCH", 0xDEADBEEF)
    eq(d.reg32("LUMEN_REG_SCRATCH"), 0xDEADBEEF, "SCRATCH read back")
    # A 64-bit read covers SCRATCH and NUM_CONTEXTS after it.
    eq(qemu.readq(d.bar0 + R["LUMEN_REG_SCRATCH"]), 0x40_DEADBEEF,
       "64-bit read of SCRATCH and NUM_CONTEXTS")
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    eq(d.reg32("LUMEN_REG_SCRATCH"), 0, "SCRATCH after CONTROL.RESET")


@test()
def read_only_registers(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.submit(0, [nop(), nop()])
    d.wait_idle(0)
    before = {}
    regs32 = ["LUMEN_REG_ID", "LUMEN_REG_VERSION", "LUMEN_REG_CAPS",
              "LUMEN_REG_NUM_CORES", "LUMEN_REG_NUM_QUEUES",
              "LUMEN_REG_NUM_VECTORS", "LUMEN_REG_STATUS",
              "LUMEN_REG_NUM_CONTEXTS", "LUMEN_REG_NUM_ENGINES",
              "LUMEN_REG_FAULT_INFO"]
    regs64 = ["LUMEN_REG_DEVMEM_SIZE", "LUMEN_REG_ERROR_QUEUES",
              "LUMEN_REG_TIMESTAMP", "LUMEN_REG_FAULT_VA"]
    for r in regs32:
        before[r] = d.reg32(r)
        d.set32(r, 0x12345678)
    for r in regs64:
        before[r] = d.reg64(r)
        d.set64(r, 0x1122334455667788)
        d.set32(r, 0x87654321)
    for r in regs32:
        eq(d.reg32(r), before[r], r + " after writes")
    for r in regs64:
        eq(d.reg64(r), before[r], r + " after writes")
    qregs = {"LUMEN_Q_HEAD": 2, "LUMEN_Q_STATUS": ENABLED | IDLE,
             "LUMEN_Q_ERROR": 0, "LUMEN_Q_ERROR_HEAD": 0,
             "LUMEN_Q_FAULT_INFO": 0, "LUMEN_Q_CONTEXT": 0}
    for r, want in qregs.items():
        d.qset32(0, r, 0xFFFFFFF0)
        eq(d.qreg32(0, r), want, "queue " + r + " after a write")
    d.qset64(0, "LUMEN_Q_COMPLETED", 99)
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 2, "COMPLETED after a write")
    d.qset64(0, "LUMEN_Q_FAULT_VA", 99)
    eq(d.qreg64(0, "LUMEN_Q_FAULT_VA"), 0, "Q_FAULT_VA after a write")
    for e in (0, 4):
        a = d.bar0 + R["LUMEN_PERF_BASE"] + e * R["LUMEN_PERF_STRIDE"]
        before = d.perf(e, "LUMEN_PERF_COMMANDS")
        qemu.writeq(a + R["LUMEN_PERF_COMMANDS"], 0)
        eq(d.perf(e, "LUMEN_PERF_COMMANDS"), before, "PERF_COMMANDS after a write")
    check("write to read-only register 0x0 ignored" in qemu.log(),
          "write to ID logged as a guest error")


@test()
def timestamp_counter(qemu, d):
    t0 = d.reg64("LUMEN_REG_TIMESTAMP")
    qemu.clock_step(1_000_000)
    t1 = d.reg64("LUMEN_REG_TIMESTAMP")
    eq(t1 - t0, 1_000_000, "TIMESTAMP advance over a 1 ms clock step")
    qemu.clock_step(5)
    lo = d.q.readl(d.bar0 + R["LUMEN_REG_TIMESTAMP"])
    hi = d.q.readl(d.bar0 + R["LUMEN_REG_TIMESTAMP"] + 4)
    eq((hi << 32) | lo, t1 + 5, "TIMESTAMP read as two halves")
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    eq(d.reg64("LUMEN_REG_TIMESTAMP"), 0, "TIMESTAMP right after CONTROL.RESET")
    qemu.clock_step(777)
    eq(d.reg64("LUMEN_REG_TIMESTAMP"), 777, "TIMESTAMP counts from the reset")


@test()
def register_64bit_access(qemu, d):
    a = d.qaddr(2, "LUMEN_Q_RING_BASE")
    qemu.writeq(a, 0x1234_5678_9ABC_D000)
    eq(qemu.readl(a), 0x9ABC_D000, "RING_BASE low half")
    eq(qemu.readl(a + 4), 0x1234_5678, "RING_BASE high half")
    qemu.writel(a + 4, 0xCAFE_F00D)
    qemu.writel(a, 0x0000_3000)
    eq(qemu.readq(a), 0xCAFE_F00D_0000_3000, "RING_BASE written as halves")
    m = d.bar0 + R["LUMEN_REG_IRQ_MASK"]
    qemu.writel(m + 4, 0xFFFF_FFFF)
    eq(qemu.readq(m), 0, "IRQ_MASK bits above NUM_QUEUES stay clear")
    qemu.writel(m, 0x0000_8001)
    eq(qemu.readq(m), 0x8001, "IRQ_MASK low half")


@test()
def undefined_registers(qemu, d):
    offsets = [0x54, 0x8C, 0x800, 0xFFC,
               R["LUMEN_QUEUE_BASE"] + 16 * R["LUMEN_QUEUE_STRIDE"],  # queue 16 does not exist
               0x2200 + 4 * 16,                               # QUEUE_CTX of queue 16
               0x2300,                                        # past the QUEUE_CTX block
               R["LUMEN_PERF_BASE"] + 0x20,                   # engine 0, past its counters
               R["LUMEN_PERF_BASE"] + 5 * R["LUMEN_PERF_STRIDE"],  # engine 5 does not exist
               0x4014, 0x7FFC, 0xE000]
    for off in offsets:
        qemu.writel(d.bar0 + off, 0xFFFF_FFFF)
        eq(qemu.readl(d.bar0 + off), 0, "read of undefined offset %#x" % off)
    eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "ID unaffected")
    check("read of undefined register 0x54" in qemu.log(),
          "undefined access logged as a guest error")


@test()
def odd_size_and_unaligned_access(qemu, d):
    b = d.bar0
    eq(qemu.readb(b), 0, "byte read of ID is refused (reads 0)")
    eq(qemu.readw(b), 0, "word read of ID is refused")
    # The memory core splits an unaligned access into naturally aligned
    # pieces: those narrower than 32 bits are refused, wider ones reach the
    # registers they cover.
    eq(qemu.readl(b + 2), 0, "unaligned 32-bit read (two refused 16-bit pieces)")
    eq(qemu.readq(b + 4), 0x1C_0001_0001, "unaligned 64-bit read = VERSION | CAPS << 32")
    d.set32("LUMEN_REG_SCRATCH", 0x11223344)
    s = b + R["LUMEN_REG_SCRATCH"]
    qemu.writeb(s, 0xFF)
    qemu.writew(s + 2, 0xFFFF)
    qemu.writel(s + 1, 0xFFFF_FFFF)
    eq(d.reg32("LUMEN_REG_SCRATCH"), 0x11223344, "SCRATCH after refused writes")
    ready(d)
    d.setup_queue(0, ring(0), 16)
    qemu.memwrite(ring(0), nop() * 16)
    db = d.bar4
    qemu.writeb(db, 3)
    qemu.writew(db, 3)
    qemu.writel(db + 2, 3)
    qemu.writel(db + 4, 3)          # the read-only HEAD view
    qemu.writel(db + 0x18, 3)       # aligned, but no doorbell register
    eq(d.qreg32(0, "LUMEN_Q_TAIL"), 0, "TAIL after refused doorbell writes")
    eq(qemu.readl(db + 0x18), 0, "read of a word past the doorbell registers")
    # A 64-bit write becomes two 32-bit ones: the low half rings.
    qemu.writeq(db, 0x7_0000_0003)
    d.wait_idle(0)
    eq(d.qreg32(0, "LUMEN_Q_HEAD"), 3, "the doorbell still works")
    eq(d.qreg32(0, "LUMEN_Q_ERROR"), 0, "no error")


# ==== Ring protocol ===========================================================

@test()
def nop_ring(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    eq(d.qreg32(0, "LUMEN_Q_STATUS"), ENABLED | IDLE, "STATUS of an empty queue")
    d.submit(0, [nop()] * 5)
    eq(d.wait_idle(0), ENABLED | IDLE, "STATUS when done")
    eq(d.qreg32(0, "LUMEN_Q_HEAD"), 5, "HEAD")
    eq(d.qreg32(0, "LUMEN_Q_TAIL"), 5, "TAIL")
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 5, "COMPLETED")
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 0, "no interrupt without FENCE_IRQ")


@test()
def fence_writes_value(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    qemu.memset(FENCES - 64, 192, 0xEE)
    d.submit(0, [fence(FENCES, 0x0123_4567_89AB_CDEF)])
    d.wait_idle(0)
    eq(qemu.readq(FENCES), 0x0123_4567_89AB_CDEF, "fence value")
    eq(qemu.memread(FENCES - 64, 64), b"\xee" * 64, "bytes before the fence")
    eq(qemu.memread(FENCES + 8, 64), b"\xee" * 64, "bytes after the fence")
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 0, "IRQ_STATUS without FENCE_IRQ")
    eq(d.msi_count(0), 0, "no MSI without FENCE_IRQ")


@test()
def fence_irq_msix(qemu, d):
    ready(d)
    d.setup_queue(3, ring(3), 16)
    d.submit(3, [fence(FENCES, 7, irq=True)])
    d.wait_idle(3)
    eq(qemu.readq(FENCES), 7, "fence value")
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 1 << 3, "IRQ_STATUS bit 3")
    eq(d.wait_value(lambda: d.msi_count(3), 0xA003), 0xA003, "MSI-X vector 3 message")
    for v in range(d.num_vectors):
        if v != 3:
            eq(d.msi_count(v), 0, "vector %d silent" % v)
    d.set64("LUMEN_REG_IRQ_STATUS", 1 << 3)
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 0, "IRQ_STATUS after write-1-to-clear")


@test()
def irq_mask_holds_and_releases(qemu, d):
    ready(d)
    d.set64("LUMEN_REG_IRQ_MASK", 1 << 3)
    d.setup_queue(3, ring(3), 16)
    d.setup_queue(4, ring(4), 16)
    d.submit(3, [fence(FENCES, 1, irq=True)])
    d.wait_idle(3)
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 1 << 3, "IRQ_STATUS set although masked")
    # An unmasked interrupt afterwards proves the interrupt path has run.
    d.submit(4, [fence(FENCES + 8, 1, irq=True)])
    d.wait_idle(4)
    eq(d.wait_value(lambda: d.msi_count(4), 0xA004), 0xA004, "vector 4 message")
    eq(d.msi_count(3), 0, "masked vector 3 silent")
    d.set64("LUMEN_REG_IRQ_MASK", 0)
    eq(d.wait_value(lambda: d.msi_count(3), 0xA003), 0xA003,
       "vector 3 sent when unmasked with IRQ_STATUS set")


@test()
def msix_vector_mask_sets_pba(qemu, d):
    ready(d)
    entry = d.bar0 + R["LUMEN_MSIX_TABLE_OFFSET"] + 16 * 2
    qemu.writel(entry + 12, 1)                  # mask vector 2
    d.setup_queue(2, ring(2), 16)
    d.submit(2, [fence(FENCES, 1, irq=True)])
    d.wait_idle(2)
    pba = d.bar0 + R["LUMEN_MSIX_PBA_OFFSET"]
    eq(d.wait_value(lambda: qemu.readq(pba) & 0x4, 0x4), 0x4, "PBA bit 2 pending")
    eq(d.msi_count(2), 0, "no message while masked")
    qemu.writel(entry + 12, 0)
    eq(d.wait_value(lambda: d.msi_count(2), 0xA002), 0xA002, "message after unmask")
    eq(qemu.readq(pba) & 0x4, 0, "PBA bit 2 cleared")


@test()
def msix_message_into_own_registers(qemu, d):
    """An MSI-X address pointing at our own BAR0 must not reach a register."""
    ready(d)
    entry = d.bar0 + R["LUMEN_MSIX_TABLE_OFFSET"]
    qemu.writel(entry + 0, d.bar0 + R["LUMEN_REG_CONTROL"])
    qemu.writel(entry + 8, R["LUMEN_CONTROL_RESET"])
    d.set32("LUMEN_REG_SCRATCH", 0x600D)
    d.setup_queue(0, ring(0), 16)
    d.setup_queue(1, ring(1), 16)
    d.submit(0, [fence(FENCES, 1, irq=True)])
    d.wait_idle(0)
    # Vector 1 goes to RAM; once it has arrived, vector 0 has been sent too.
    d.submit(1, [fence(FENCES + 8, 1, irq=True)])
    d.wait_idle(1)
    eq(d.wait_value(lambda: d.msi_count(1), 0xA001), 0xA001, "vector 1 message")
    eq(d.reg32("LUMEN_REG_SCRATCH"), 0x600D, "no reset by our own message")
    eq(d.reg32("LUMEN_REG_CONTROL"), R["LUMEN_CONTROL_ENABLE"], "CONTROL unchanged")


@test()
def irq_without_msix(qemu, d):
    ready(d, msix=False)
    qemu.memset(MSI_ADDR, 4 * d.num_vectors, 0)
    d.setup_queue(0, ring(0), 16)
    d.submit(0, [fence(FENCES, 1, irq=True)])
    d.wait_idle(0)
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 1, "IRQ_STATUS set")
    qemu.clock_step(1000)
    eq(qemu.memread(MSI_ADDR, 4 * d.num_vectors), b"\0" * 4 * d.num_vectors,
       "nothing written with MSI-X disabled")


@test()
def ring_wraps(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 4)
    for batch in range(5):
        d.submit(0, [fence(FENCES + 8 * batch, 100 + batch), nop(), nop()])
        d.wait_idle(0)
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 15, "COMPLETED")
    eq(d.qreg32(0, "LUMEN_Q_HEAD"), 15 % 4, "HEAD wrapped")
    for batch in range(5):
        eq(qemu.readq(FENCES + 8 * batch), 100 + batch, "fence of batch %d" % batch)


@test()
def full_ring_in_one_doorbell(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 64)
    d.submit(0, [fence(FENCES + 8 * i, i + 1) for i in range(63)])
    d.wait_idle(0)
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 63, "COMPLETED")
    data = qemu.memread(FENCES, 8 * 63)
    for i in range(63):
        eq(int.from_bytes(data[8 * i:8 * i + 8], "little"), i + 1, "fence %d" % i)


@test()
def queues_on_every_engine(qemu, d):
    ready(d)
    engines = d.reg32("LUMEN_REG_NUM_CORES") + 1     # + the DMA engine
    for q in range(10):
        d.setup_queue(q, ring(q), 32, engine=q % engines)
        eq(d.qreg32(q, "LUMEN_Q_ENGINE"), q % engines, "ENGINE of queue %d" % q)
    for q in range(10):
        d.submit(q, [fence(FENCES + 0x100 * q + 8 * i, (q << 8) | i) for i in range(20)])
    for q in range(10):
        eq(d.wait_idle(q), ENABLED | IDLE, "queue %d status" % q)
        eq(d.qreg64(q, "LUMEN_Q_COMPLETED"), 20, "queue %d COMPLETED" % q)
        for i in range(20):
            eq(qemu.readq(FENCES + 0x100 * q + 8 * i), (q << 8) | i,
               "queue %d fence %d" % (q, i))


@test()
def two_queues_share_an_engine(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 256, engine=1)
    d.setup_queue(1, ring(1), 256, engine=1)
    d.submit(0, [nop()] * 200 + [fence(FENCES, 1)], ring_doorbell=False)
    d.submit(1, [nop()] * 200 + [fence(FENCES + 8, 2)], ring_doorbell=False)
    d.doorbell(0, d.tails[0])
    d.doorbell(1, d.tails[1])
    d.wait_idle(0)
    d.wait_idle(1)
    eq(qemu.readq(FENCES), 1, "queue 0 done")
    eq(qemu.readq(FENCES + 8), 2, "queue 1 done")


@test()
def device_disable_holds_work(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.set32("LUMEN_REG_CONTROL", 0)
    eq(d.reg32("LUMEN_REG_STATUS"), 0, "STATUS.READY clear when disabled")
    d.submit(0, [fence(FENCES, 42)])
    time.sleep(0.1)
    eq(d.qreg32(0, "LUMEN_Q_HEAD"), 0, "nothing runs while the device is disabled")
    eq(qemu.readq(FENCES), 0, "fence not written while disabled")
    d.enable()
    d.wait_idle(0)
    eq(qemu.readq(FENCES), 42, "fence after enabling")


@test()
def queue_config_locked_while_enabled(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16, engine=2)
    d.qset64(0, "LUMEN_Q_RING_BASE", 0x5000)
    d.qset32(0, "LUMEN_Q_RING_SIZE", 8)
    d.qset32(0, "LUMEN_Q_ENGINE", 1)
    eq(d.qreg64(0, "LUMEN_Q_RING_BASE"), ring(0), "RING_BASE kept")
    eq(d.qreg32(0, "LUMEN_Q_RING_SIZE"), 16, "RING_SIZE kept")
    eq(d.qreg32(0, "LUMEN_Q_ENGINE"), 2, "ENGINE kept")
    run_fence(d, 0, 5)


@test()
def queue_reset_clears_progress(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.submit(0, [nop()] * 3 + [fence(FENCES, 1, irq=True)])
    d.wait_idle(0)
    d.qset32(0, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    eq(d.qreg32(0, "LUMEN_Q_HEAD"), 0, "HEAD")
    eq(d.qreg32(0, "LUMEN_Q_TAIL"), 0, "TAIL")
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 0, "COMPLETED")
    eq(d.qreg32(0, "LUMEN_Q_STATUS"), IDLE, "STATUS (disabled, idle)")
    eq(d.qreg32(0, "LUMEN_Q_CONTROL"), 0, "CONTROL")
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 0, "IRQ_STATUS bit cleared")
    eq(d.qreg64(0, "LUMEN_Q_RING_BASE"), ring(0), "RING_BASE kept")
    d.qset32(0, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_ENABLE"])
    d.tails[0] = 0
    run_fence(d, 0, 9)


@test()
def queue_disable_and_reenable(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.qset32(0, "LUMEN_Q_CONTROL", 0)
    d.submit(0, [fence(FENCES, 3)])
    eq(d.qreg32(0, "LUMEN_Q_TAIL"), 1, "TAIL stored while disabled")
    time.sleep(0.05)
    eq(qemu.readq(FENCES), 0, "nothing runs while the queue is disabled")
    d.qset32(0, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_ENABLE"])
    d.wait_idle(0)
    eq(qemu.readq(FENCES), 3, "runs once enabled")


# ==== COPY and FILL in context 0 =============================================

def random_bytes(n, seed):
    return random.Random(seed).randbytes(n)


@test()
def copy_ram_to_devmem_to_ram(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    n = 300_001                     # several 64 KiB steps, odd length
    data = random_bytes(n, 1)
    qemu.memwrite(SRC, data)
    qemu.memset(DST, n + 64, 0)
    d.submit(0, [copy(SRC, DEVMEM | 0x1235, n),
                 copy(DEVMEM | 0x1235, DST + 7, n)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    eq(qemu.memread(BAR2_ADDR + 0x1235, n), data, "device memory seen through BAR2")
    got = qemu.memread(DST, n + 64)
    eq(got[:7], b"\0" * 7, "bytes before the destination")
    check(got[7:7 + n] == data, "RAM -> devmem -> RAM round trip is byte exact")
    eq(got[7 + n:], b"\0" * 57, "bytes after the destination")


@test()
def copy_devmem_to_devmem(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    data = random_bytes(100_000, 2)
    qemu.memwrite(BAR2_ADDR + 0x10, data)       # the CPU writes device memory
    d.submit(0, [copy(DEVMEM | 0x10, DEVMEM | (DEVMEM_DEFAULT - 100_000), 100_000)])
    d.wait_idle(0)
    check(qemu.memread(BAR2_ADDR + DEVMEM_DEFAULT - 100_000, 100_000) == data,
          "copy to the last bytes of device memory")


@test()
def copy_ram_to_ram(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    data = random_bytes(70_000, 3)
    qemu.memwrite(SRC + 0x40, data)
    d.submit(0, [copy(SRC + 0x40, DST, 70_000)])
    d.wait_idle(0)
    check(qemu.memread(DST, 70_000) == data, "bus -> bus copy")


@test()
def copy_2d(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    data = random_bytes(100 * 300, 4)
    qemu.memwrite(SRC, data)
    qemu.memset(DST, 200 * 60, 0xAA)
    # 50 bytes of each of 60 rows: source pitch 300 from offset 7, dest pitch 200.
    d.submit(0, [copy2d(SRC + 7, DST, 50, 60, 300, 200)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    got = qemu.memread(DST, 200 * 60)
    for r in range(60):
        eq(got[200 * r:200 * r + 50], data[7 + 300 * r:7 + 300 * r + 50], "row %d" % r)
        eq(got[200 * r + 50:200 * r + 200], b"\xaa" * 150, "gap after row %d" % r)


@test()
def fill_pattern(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    qemu.memset(DST, 0x30000, 0x55)
    pattern = 0x0807060504030201
    n = 0x20000 + 5                 # more than one chunk, odd length
    d.submit(0, [fill(DST + 3, n, pattern), fill(DEVMEM | 0x100, 13, pattern)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    want = (bytes(range(1, 9)) * (n // 8 + 1))[:n]
    got = qemu.memread(DST, 0x30000)
    eq(got[:3], b"\x55" * 3, "bytes before the fill")
    check(got[3:3 + n] == want, "the pattern repeats from the destination")
    eq(got[3 + n:3 + n + 16], b"\x55" * 16, "bytes after the fill")
    eq(qemu.memread(BAR2_ADDR + 0x100, 13), want[:13], "fill of device memory")


@test()
def timestamp_command(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    qemu.clock_step(12345)
    before = d.reg64("LUMEN_REG_TIMESTAMP")
    qemu.writeq(FENCES, 0)
    d.submit(0, [timestamp(FENCES)])
    d.wait_idle(0)
    # Under qtest the virtual clock stands still between clock_steps.
    eq(qemu.readq(FENCES), before, "TIMESTAMP stores the TIMESTAMP register")


@test(extra_args=["-device", "intel-iommu"])
def behind_an_iommu(qemu, d):
    """With VT-d present (DMA remapping off, as before a guest enables it)."""
    ready(d)
    d.setup_queue(0, ring(0), 16)
    data = random_bytes(5000, 8)
    qemu.memwrite(SRC, data)
    d.submit(0, [copy(SRC, DEVMEM, 5000), copy(DEVMEM, DST, 5000),
                 fence(FENCES, 77, irq=True)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    check(qemu.memread(DST, 5000) == data, "data through device memory")
    eq(qemu.readq(FENCES), 77, "fence")
    eq(d.wait_value(lambda: d.msi_count(0), 0xA000), 0xA000, "vector 0 message")


# ==== Robustness: each bad command stops only its queue ======================

VICTIM, BYSTANDER = 1, 0


def expect_error(qemu, d, q, code, head, completed=None):
    st = d.wait_idle(q)
    eq(st & ERROR, ERROR, "queue %d STATUS.ERROR" % q)
    eq(d.qreg32(q, "LUMEN_Q_ERROR"), code, "queue %d ERROR" % q)
    eq(d.qreg32(q, "LUMEN_Q_ERROR_HEAD"), head, "queue %d ERROR_HEAD" % q)
    eq(d.qreg32(q, "LUMEN_Q_HEAD"), head, "queue %d HEAD stays on the bad entry" % q)
    if completed is not None:
        eq(d.qreg64(q, "LUMEN_Q_COMPLETED"), completed, "queue %d COMPLETED" % q)
    eq(d.reg64("LUMEN_REG_ERROR_QUEUES"), 1 << q, "ERROR_QUEUES")
    ev = d.error_vector()
    eq(d.wait_value(lambda: d.msi_count(ev), 0xA000 + ev), 0xA000 + ev,
       "error vector message")


def recover(qemu, d, q):
    """RESET clears the error; the queue works again."""
    d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    eq(d.qreg32(q, "LUMEN_Q_STATUS"), IDLE, "queue %d STATUS after RESET" % q)
    eq(d.qreg32(q, "LUMEN_Q_ERROR"), 0, "ERROR after RESET")
    eq(d.reg64("LUMEN_REG_ERROR_QUEUES"), 0, "ERROR_QUEUES after RESET")
    ring_base, size = d.rings[q]
    d.setup_queue(q, ring_base, size)
    run_fence(d, q, 0x600D)


def bad_command_test(name, bad, code, prepare=None, device_args=""):
    """Two good commands, then @bad: the queue stops at entry 2 with @code."""
    def body(qemu, d):
        ready(d)
        d.setup_queue(BYSTANDER, ring(BYSTANDER), 16)
        d.setup_queue(VICTIM, ring(VICTIM), 16)
        if prepare:
            prepare(qemu, d)
        d.submit(VICTIM, [nop(), fence(FENCES + 0x100, 5), bad, nop()])
        expect_error(qemu, d, VICTIM, code, head=2, completed=2)
        eq(qemu.readq(FENCES + 0x100), 5, "commands before the bad one ran")
        run_fence(d, BYSTANDER, 0xB1)
        eq(d.qreg32(BYSTANDER, "LUMEN_Q_ERROR"), 0, "bystander queue has no error")
        recover(qemu, d, VICTIM)
    body.__name__ = name
    test(device_args=device_args)(body)


MAX = R["LUMEN_COPY_MAX_SIZE"]
U64 = 2**64 - 1
IB_MAX = R["LUMEN_IB_MAX_SIZE"]
OP_GEMM = R["LUMEN_OP_GEMM"]

bad_command_test("bad_opcode", cmd(0x7F), ERR["BAD_OPCODE"])
bad_command_test("bad_opcode_ff", cmd(0xFF), ERR["BAD_OPCODE"])
bad_command_test("bad_opcode_gap_05", cmd(0x05), ERR["BAD_OPCODE"])
bad_command_test("bad_opcode_gap_12", cmd(0x12), ERR["BAD_OPCODE"])
bad_command_test("bad_opcode_after_operators", cmd(0x27), ERR["BAD_OPCODE"])
bad_command_test("reserved_header_byte2", cmd(0, header_reserved=0x01), ERR["BAD_CMD"])
bad_command_test("reserved_header_byte7", cmd(0, header_reserved=0x01 << 40), ERR["BAD_CMD"])
bad_command_test("nop_with_flags", cmd(0, flags=1), ERR["BAD_CMD"])
bad_command_test("nop_with_argument", cmd(0, args=[0, 0, 0, 0, 0, 0, 1]), ERR["BAD_CMD"])
bad_command_test("fence_unknown_flag", cmd(1, flags=2, args=[FENCES, 1]), ERR["BAD_CMD"])
bad_command_test("fence_unused_argument", cmd(1, args=[FENCES, 1, 1]), ERR["BAD_CMD"])
bad_command_test("fence_misaligned", fence(FENCES + 4, 1), ERR["ALIGN"])
bad_command_test("wait_misaligned", wait(FENCES + 4, 0), ERR["ALIGN"])
bad_command_test("wait_with_flags", cmd(R["LUMEN_OP_WAIT"], flags=1, args=[FENCES, 0]),
                 ERR["BAD_CMD"])
bad_command_test("wait_unused_argument", cmd(R["LUMEN_OP_WAIT"], args=[FENCES, 0, 0, 1]),
                 ERR["BAD_CMD"])
bad_command_test("timestamp_misaligned", timestamp(FENCES + 1), ERR["ALIGN"])
bad_command_test("timestamp_unused_argument", cmd(R["LUMEN_OP_TIMESTAMP"], args=[FENCES, 1]),
                 ERR["BAD_CMD"])
bad_command_test("copy_unknown_flag", cmd(R["LUMEN_OP_COPY"], flags=2, args=[SRC, DST, 8]),
                 ERR["BAD_CMD"])
bad_command_test("copy_unused_argument", cmd(R["LUMEN_OP_COPY"], args=[SRC, DST, 8, 1]),
                 ERR["BAD_CMD"])
bad_command_test("copy_zero_bytes", copy(SRC, DST, 0), ERR["BAD_CMD"])
bad_command_test("copy_too_large", copy(DEVMEM, DEVMEM, MAX + 1), ERR["BAD_CMD"])
bad_command_test("copy2d_zero_width", copy2d(SRC, DST, 0, 4, 16, 16), ERR["BAD_CMD"])
bad_command_test("copy2d_zero_height", copy2d(SRC, DST, 4, 0, 16, 16), ERR["BAD_CMD"])
bad_command_test("copy2d_pitch_below_width", copy2d(SRC, DST, 32, 2, 16, 32), ERR["BAD_CMD"])
bad_command_test("copy2d_too_large", copy2d(SRC, DST, 1 << 21, 1 << 20, 1 << 21, 1 << 21),
                 ERR["BAD_CMD"])
bad_command_test("copy2d_extent_overflows", copy2d(SRC, DST, 8, 1 << 20, U64 >> 4, 8),
                 ERR["BAD_CMD"])
bad_command_test("fill_zero_bytes", fill(DST, 0, 1), ERR["BAD_CMD"])
bad_command_test("fill_too_large", fill(DST, MAX + 1, 1), ERR["BAD_CMD"])
bad_command_test("fill_unused_argument", cmd(R["LUMEN_OP_FILL"], args=[DST, 8, 1, 1]),
                 ERR["BAD_CMD"])
bad_command_test("indirect_size_zero", indirect(IBS, 0, 0), ERR["BAD_CMD"])
bad_command_test("indirect_size_not_commands", indirect(IBS, 100, 0), ERR["BAD_CMD"])
bad_command_test("indirect_size_too_big", indirect(IBS, IB_MAX + 64, 0), ERR["BAD_CMD"])
bad_command_test("indirect_no_such_context", indirect(IBS, 64, 64), ERR["BAD_CMD"])
bad_command_test("indirect_misaligned", indirect(IBS + 8, 64, 0), ERR["ALIGN"])
bad_command_test("operator_unused_argument", cmd(OP_GEMM, args=[IBS, 1]), ERR["BAD_CMD"])
bad_command_test("operator_descriptor_misaligned", operator(OP_GEMM, IBS + 4), ERR["ALIGN"])
bad_command_test("operator_zero_descriptor", operator(OP_GEMM, IBS), ERR["BAD_DESC"],
                 prepare=lambda qemu, d: qemu.memset(IBS, 128, 0))
bad_command_test("devmem_offset_at_end", copy(DEVMEM | DEVMEM_DEFAULT, DST, 1),
                 ERR["DEVMEM_RANGE"])
bad_command_test("devmem_range_past_end", copy(SRC, DEVMEM | (DEVMEM_DEFAULT - 1), 2),
                 ERR["DEVMEM_RANGE"])
bad_command_test("devmem_offset_huge", copy(DEVMEM | (U64 >> 1), DST, 2), ERR["DEVMEM_RANGE"])
bad_command_test("devmem_small_device", copy(SRC, DEVMEM | (0x100000 - 8), 16),
                 ERR["DEVMEM_RANGE"], device_args="mem=1M")
bad_command_test("bus_range_reaches_devmem_form", copy(0x7FFF_FFFF_FFFF_F000, DST, 0x2000),
                 ERR["DMA"])
bad_command_test("dma_to_nothing", fence(0x40_0000_0000, 1), ERR["DMA"])
bad_command_test("dma_from_nothing", copy(0x40_0000_0000, DST, 8), ERR["DMA"])
bad_command_test("dma_write_to_rom", fence(0xFFFF_FFF0, 1), ERR["DMA"])
bad_command_test("dma_write_to_msi_window", fence(0xFEE0_0000, 0x4041), ERR["DMA"])
bad_command_test("dma_read_from_msi_window", copy(0xFEE0_0000, DST, 4), ERR["DMA"])
bad_command_test("dma_read_from_ioapic", copy(0xFEC0_0000, DST, 4), ERR["DMA"])
bad_command_test("dma_into_own_bar0", fence(BAR0_ADDR + R["LUMEN_REG_SCRATCH"], 0x77), ERR["DMA"])
bad_command_test("dma_into_own_doorbell", fence(BAR4_ADDR, 1), ERR["DMA"])
bad_command_test("dma_into_own_devmem", copy(SRC, BAR2_ADDR, 64), ERR["DMA"])
bad_command_test("dma_from_own_bar0", copy(BAR0_ADDR, DST, 8), ERR["DMA"])
bad_command_test("dma_range_reaching_own_bar", copy(SRC, BAR2_ADDR - 0x1000, 0x2000), ERR["DMA"])
bad_command_test("wait_on_nothing", wait(0x40_0000_0000, 1), ERR["DMA"])
bad_command_test("wait_on_ioapic", wait(0xFEC0_0000, 1), ERR["DMA"])
bad_command_test("wait_on_own_bar0", wait(BAR0_ADDR + R["LUMEN_REG_SCRATCH"], 1), ERR["DMA"])
bad_command_test("indirect_buffer_in_own_bar", indirect(BAR0_ADDR, 64, 0), ERR["DMA"])


@test()
def dma_refusals_leave_device_untouched(qemu, d):
    """The refused DMA into our own BARs really did not reach them."""
    ready(d)
    d.set32("LUMEN_REG_SCRATCH", 0x5A5A5A5A)
    qemu.memwrite(BAR2_ADDR, b"\x11" * 64)
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    d.submit(VICTIM, [fence(BAR0_ADDR + R["LUMEN_REG_SCRATCH"], 0x77)])
    expect_error(qemu, d, VICTIM, ERR["DMA"], head=0)
    eq(d.reg32("LUMEN_REG_SCRATCH"), 0x5A5A5A5A, "SCRATCH not written by DMA")
    recover(qemu, d, VICTIM)
    qemu.memwrite(SRC, b"\x22" * 64)
    d.submit(VICTIM, [copy(SRC, BAR2_ADDR, 64)])
    expect_error(qemu, d, VICTIM, ERR["DMA"], head=1)
    eq(qemu.memread(BAR2_ADDR, 64), b"\x11" * 64, "device memory not written by DMA")
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    d.submit(VICTIM, [fence(BAR4_ADDR, 3)])
    expect_error(qemu, d, VICTIM, ERR["DMA"], head=0)
    eq(d.qreg32(0, "LUMEN_Q_TAIL"), 0, "queue 0 doorbell not rung by DMA")


# ---- Ring configuration errors ------------------------------------------------

def enable_error_test(name, base, size, code, engine=None, tail=None, device_args=""):
    def body(qemu, d):
        ready(d)
        d.setup_queue(BYSTANDER, ring(BYSTANDER), 16)
        if tail is not None:
            d.qset32(VICTIM, "LUMEN_Q_TAIL", tail)
        d.setup_queue(VICTIM, base, size, engine=engine)
        expect_error(qemu, d, VICTIM, code, head=0, completed=0)
        run_fence(d, BYSTANDER, 0xB2)
        d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
        eq(d.qreg32(VICTIM, "LUMEN_Q_STATUS"), IDLE, "STATUS after RESET")
        d.setup_queue(VICTIM, ring(VICTIM), 16, engine=0)
        run_fence(d, VICTIM, 0x600D)
    body.__name__ = name
    test(device_args=device_args)(body)


enable_error_test("ring_base_misaligned", ring(1) + 0x100, 16, ERR["BAD_RING"])
enable_error_test("ring_size_not_power_of_two", ring(1), 3, ERR["BAD_RING"])
enable_error_test("ring_size_zero", ring(1), 0, ERR["BAD_RING"])
enable_error_test("ring_size_one", ring(1), 1, ERR["BAD_RING"])
enable_error_test("ring_size_too_big", ring(1), 2 * R["LUMEN_RING_MAX_ENTRIES"], ERR["BAD_RING"])
enable_error_test("ring_wraps_address_space", 0xFFFF_FFFF_FFFF_F000, 128, ERR["BAD_RING"])
enable_error_test("engine_out_of_range", ring(1), 16, ERR["BAD_ENGINE"], engine=5)
enable_error_test("engine_out_of_range_2_cores", ring(1), 16, ERR["BAD_ENGINE"], engine=3,
                  device_args="cores=2")
enable_error_test("tail_out_of_range_at_enable", ring(1), 16, ERR["BAD_TAIL"], tail=16)


@test()
def tail_out_of_range(qemu, d):
    ready(d)
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    d.submit(VICTIM, [nop(), nop()])
    d.wait_idle(VICTIM)
    d.doorbell(VICTIM, 16)
    expect_error(qemu, d, VICTIM, ERR["BAD_TAIL"], head=2, completed=2)
    eq(d.qreg32(VICTIM, "LUMEN_Q_TAIL"), 2, "TAIL keeps its last good value")
    d.doorbell(VICTIM, 5)
    eq(d.qreg32(VICTIM, "LUMEN_Q_TAIL"), 2, "doorbells ignored while in error")
    recover(qemu, d, VICTIM)


@test()
def ring_in_own_bar(qemu, d):
    ready(d)
    d.setup_queue(VICTIM, BAR0_ADDR, 16)
    d.doorbell(VICTIM, 1)
    expect_error(qemu, d, VICTIM, ERR["DMA"], head=0, completed=0)


@test()
def ring_in_device_registers(qemu, d):
    """A ring on another device's registers (the I/O APIC) is never read."""
    ready(d)
    d.setup_queue(VICTIM, 0xFEC0_0000, 16)
    d.doorbell(VICTIM, 1)
    expect_error(qemu, d, VICTIM, ERR["DMA"], head=0, completed=0)


@test()
def bus_master_disabled(qemu, d):
    ready(d)
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    d.pci.write16(0x04, PCI_COMMAND_MEMORY)
    d.submit(VICTIM, [fence(FENCES, 1)])
    st = d.wait_idle(VICTIM)
    eq(st & ERROR, ERROR, "STATUS.ERROR without bus mastering")
    eq(d.qreg32(VICTIM, "LUMEN_Q_ERROR"), ERR["DMA"], "ERROR")
    eq(qemu.readq(FENCES), 0, "no write without bus mastering")
    d.pci.write16(0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
    recover(qemu, d, VICTIM)


# ==== Device MMU: contexts, indirect buffers, faults, TLB =====================

VA_BASE = 0x12_3400_0000        # where the tests map things in a context
PAGE = 4096
FAULT = {k[len("LUMEN_FAULT_"):]: v for k, v in R.items()
         if k.startswith("LUMEN_FAULT_") and k not in
         ("LUMEN_FAULT_VALID", "LUMEN_FAULT_INFO_WRITE")}


def context(qemu, d, ctx):
    """Fresh page tables for context @ctx (1..14), installed as its root."""
    pt = PageTables(qemu, TABLES + ctx * 0x100000, 0x100000)
    d.set_root(ctx, pt.root_value())
    return pt


def put_ib(qemu, pt, va, pa, cmds):
    """Write commands at bus address @pa and map them read-only at @va."""
    data = b"".join(cmds)
    qemu.memwrite(pa, data)
    pt.map(va, pa, (len(data) + PAGE - 1) // PAGE * PAGE, writable=False)
    return len(data)


def fault_info(reason, write, ctx, queue):
    return reason | (R["LUMEN_FAULT_INFO_WRITE"] if write else 0) | ctx << 16 | queue << 24


@test()
def mmu_root_registers(qemu, d):
    eq(d.root(0), 0, "context 0 root")
    d.set_root(0, TABLES | 1)
    eq(d.root(0), 0, "context 0 root ignores writes")
    d.set_root(5, 0x1234_5000 | 1)
    eq(d.root(5), 0x1234_5001, "context 5 root")
    a = d.bar0 + R["LUMEN_MMU_CTX_ROOT_BASE"] + 8 * 63
    qemu.writel(a + 4, 0x000F_FFFF)
    qemu.writel(a, 0xFFFF_F001)
    eq(d.root(63), 0x000F_FFFF_FFFF_F001, "context 63 root written as halves")
    for bad in (0x1234_5002, 0x1234_5801, 1 << 52 | 1, 1 << 63):
        d.set_root(5, bad)
        eq(d.root(5), 0x1234_5001, "root %#x refused" % bad)
    d.set32("LUMEN_REG_MMU_INVALIDATE", 5)
    d.set32("LUMEN_REG_MMU_INVALIDATE", R["LUMEN_MMU_INVALIDATE_ALL"])
    d.set32("LUMEN_REG_MMU_INVALIDATE", 64)              # no such context
    eq(d.reg32("LUMEN_REG_MMU_INVALIDATE"), 0, "MMU_INVALIDATE reads 0")
    check("MMU_INVALIDATE of 0x40" in qemu.log(), "bad invalidation logged")
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    eq(d.root(5), 0, "root after CONTROL.RESET")
    eq(d.root(63), 0, "root 63 after CONTROL.RESET")


@test()
def indirect_in_context(qemu, d):
    """A ring-level INDIRECT runs COPY, FILL, FENCE and TIMESTAMP in context
    3 through page tables written by the test; physical pages scattered."""
    ready(d)
    d.setup_queue(0, ring(0), 16)
    pt = context(qemu, d, 3)
    va_ib, va_src, va_dst = VA_BASE, VA_BASE + 0x10000, VA_BASE + 0x20000
    va_dm, va_f = VA_BASE + 0x30000, VA_BASE + 0x40000
    src_pages, dst_pages = [2, 0, 1], [1, 2, 0]
    data = random_bytes(3 * PAGE, 11)
    for i, p in enumerate(src_pages):
        pt.map(va_src + i * PAGE, SRC + p * PAGE, PAGE, writable=False)
        qemu.memwrite(SRC + p * PAGE, data[i * PAGE:(i + 1) * PAGE])
    for i, p in enumerate(dst_pages):
        pt.map(va_dst + i * PAGE, DST + p * PAGE, PAGE)
    qemu.memset(DST, 3 * PAGE, 0xCC)
    pt.map(va_dm, 0x5000, 2 * PAGE, devmem=True)
    pt.map(va_f, FENCES + 0x1000, PAGE)
    qemu.memset(BAR2_ADDR + 0x5000, 2 * PAGE, 0)
    qemu.clock_step(999)
    ts = d.reg64("LUMEN_REG_TIMESTAMP")
    pattern = 0x1122334455667788
    size = put_ib(qemu, pt, va_ib, IBS, [
        copy(va_src + 100, va_dst + 50, 3 * PAGE - 200),
        fill(va_dm + 8, 100, pattern),
        copy(va_src, va_dm + PAGE - 32, 64),          # crosses into the next devmem page
        timestamp(va_f),
        fence(va_f + 8, 0x1234),
    ])
    d.submit(0, [indirect(va_ib, size, 3), fence(FENCES, 7)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 2, "COMPLETED (IB contents are one entry)")
    eq(qemu.readq(FENCES), 7, "the ring fence after the IB")
    dst = qemu.memread(DST, 3 * PAGE)
    virt = b"".join(dst[p * PAGE:(p + 1) * PAGE] for p in dst_pages)
    eq(virt[:50], b"\xcc" * 50, "bytes before the copy")
    check(virt[50:50 + 3 * PAGE - 200] == data[100:3 * PAGE - 100],
          "copy between scattered pages, in VA order")
    eq(virt[50 + 3 * PAGE - 200:], b"\xcc" * 150, "bytes after the copy")
    want = (pattern.to_bytes(8, "little") * 13)[:100]
    eq(qemu.memread(BAR2_ADDR + 0x5008, 100), want, "FILL through a DEVMEM PTE")
    eq(qemu.memread(BAR2_ADDR + 0x5000 + PAGE - 32, 64), data[:64],
       "COPY across two DEVMEM pages")
    eq(qemu.readq(FENCES + 0x1000), ts, "TIMESTAMP through the MMU")
    eq(qemu.readq(FENCES + 0x1008), 0x1234, "FENCE through the MMU")
    eq(d.qreg32(0, "LUMEN_Q_CONTEXT"), 0, "Q_CONTEXT after the IB")


@test()
def indirect_nested(qemu, d):
    """An IB calls another (context 0 in the call = stay in the context);
    a context number in a nested call is refused."""
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.setup_queue(1, ring(1), 16)
    pt = context(qemu, d, 2)
    pt.map(VA_BASE + 0x40000, FENCES + 0x2000, PAGE)
    inner = put_ib(qemu, pt, VA_BASE + 0x10000, IBS + 0x10000,
                   [fence(VA_BASE + 0x40000, 0x77), nop()])
    outer = put_ib(qemu, pt, VA_BASE, IBS, [nop(), indirect(VA_BASE + 0x10000, inner, 0),
                                            fence(VA_BASE + 0x40008, 0x88)])
    d.submit(0, [indirect(VA_BASE, outer, 2)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    eq(qemu.readq(FENCES + 0x2000), 0x77, "inner IB ran")
    eq(qemu.readq(FENCES + 0x2008), 0x88, "outer IB resumed after it")
    bad = put_ib(qemu, pt, VA_BASE + 0x20000, IBS + 0x20000,
                 [indirect(VA_BASE + 0x10000, inner, 2)])
    d.submit(1, [indirect(VA_BASE + 0x20000, bad, 2)])
    expect_error(qemu, d, 1, ERR["BAD_CMD"], head=0, completed=0)
    eq(d.qreg32(1, "LUMEN_Q_CONTEXT"), 2, "Q_CONTEXT names the failing IB's context")


@test()
def indirect_nesting_limit(qemu, d):
    """An IB that calls itself stops at the nesting limit, in bounded time."""
    ready(d)
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    d.setup_queue(BYSTANDER, ring(BYSTANDER), 16)
    pt = context(qemu, d, 2)
    size = put_ib(qemu, pt, VA_BASE, IBS, [nop(), indirect(VA_BASE, 128, 0)])
    d.submit(VICTIM, [indirect(VA_BASE, size, 2)])
    expect_error(qemu, d, VICTIM, ERR["IB_LIMIT"], head=0, completed=0)
    run_fence(d, BYSTANDER, 3)


FAULT_PAGE = VA_BASE + 0x400000     # its own level-0 table
FAULT_VA = FAULT_PAGE + 0x10


def fault_test(name, reason, write, prepare, device_args=""):
    """@prepare(qemu, d, pt) returns the IB commands; the IB runs in context
    2 on queue VICTIM and must fault with @reason at FAULT_VA."""
    def body(qemu, d):
        ready(d)
        d.setup_queue(BYSTANDER, ring(BYSTANDER), 16, engine=1)
        d.setup_queue(VICTIM, ring(VICTIM), 16, engine=2)
        ok = context(qemu, d, 1)
        ok.map(VA_BASE, FENCES + 0x3000, PAGE)
        pt = context(qemu, d, 2)
        pt.map(VA_BASE + 0x40000, FENCES + 0x2000, PAGE)
        cmds = [fence(VA_BASE + 0x40000, 1)] + prepare(qemu, d, pt) + [fence(VA_BASE + 0x40008, 2)]
        size = put_ib(qemu, pt, VA_BASE, IBS, cmds)
        d.submit(VICTIM, [nop(), indirect(VA_BASE, size, 2), fence(FENCES, 9)])
        d.submit(BYSTANDER, [indirect(VA_BASE, 64, 1)], ring_doorbell=False)
        ok_ib = put_ib(qemu, ok, VA_BASE + 0x10000, IBS + 0x10000, [fence(VA_BASE, 0xB)])
        d.tails[BYSTANDER] = 0
        d.submit(BYSTANDER, [indirect(VA_BASE + 0x10000, ok_ib, 1)])
        expect_error(qemu, d, VICTIM, ERR["MMU_FAULT"], head=1, completed=1)
        info = fault_info(reason, write, 2, VICTIM)
        va = FAULT_VA
        eq(d.qreg64(VICTIM, "LUMEN_Q_FAULT_VA"), va, "Q_FAULT_VA")
        eq(d.qreg32(VICTIM, "LUMEN_Q_FAULT_INFO"), info, "Q_FAULT_INFO")
        eq(d.qreg32(VICTIM, "LUMEN_Q_CONTEXT"), 2, "Q_CONTEXT")
        eq(d.reg32("LUMEN_REG_FAULT_STATUS"), R["LUMEN_FAULT_VALID"], "FAULT_STATUS")
        eq(d.reg32("LUMEN_REG_FAULT_INFO"), info, "FAULT_INFO")
        eq(d.reg64("LUMEN_REG_FAULT_VA"), va, "FAULT_VA")
        eq(qemu.readq(FENCES + 0x2000), 1, "the IB's commands before the fault ran")
        eq(qemu.readq(FENCES + 0x2008), 0, "the IB's commands after the fault did not")
        eq(qemu.readq(FENCES), 0, "the ring entry after the IB did not run")
        eq(d.perf(2, "LUMEN_PERF_FAULTS"), 1, "PERF_FAULTS of the victim's engine")
        eq(d.perf(1, "LUMEN_PERF_FAULTS"), 0, "PERF_FAULTS of the bystander's engine")
        d.wait_idle(BYSTANDER)
        eq(d.qreg32(BYSTANDER, "LUMEN_Q_ERROR"), 0, "bystander (context 1) unaffected")
        eq(qemu.readq(FENCES + 0x3000), 0xB, "bystander's IB ran")
        d.set32("LUMEN_REG_FAULT_STATUS", R["LUMEN_FAULT_VALID"])
        eq(d.reg32("LUMEN_REG_FAULT_STATUS"), 0, "FAULT_STATUS after write-1-to-clear")
        d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
        eq(d.qreg64(VICTIM, "LUMEN_Q_FAULT_VA"), 0, "Q_FAULT_VA after queue RESET")
        eq(d.qreg32(VICTIM, "LUMEN_Q_FAULT_INFO"), 0, "Q_FAULT_INFO after queue RESET")
        eq(d.qreg32(VICTIM, "LUMEN_Q_CONTEXT"), 0, "Q_CONTEXT after queue RESET")
    body.__name__ = name
    test(device_args=device_args)(body)


fault_test("fault_not_present_write", FAULT["NOT_PRESENT"], True,
           lambda qemu, d, pt: [fence(FAULT_VA, 1)])
fault_test("fault_not_present_read", FAULT["NOT_PRESENT"], False,
           lambda qemu, d, pt: [copy(FAULT_VA, VA_BASE + 0x40010, 8)])


def _read_only(qemu, d, pt):
    pt.map(FAULT_PAGE, DST, PAGE, writable=False)
    return [fence(FAULT_VA, 1)]


def _devmem_beyond(qemu, d, pt):
    pt.map(FAULT_PAGE, 0x100000, PAGE, devmem=True)     # mem=1M: just past the end
    return [fill(FAULT_VA, 8, 1)]


def _bad_pte(qemu, d, pt):
    pt.set_leaf(FAULT_PAGE, DST | R["LUMEN_PTE_VALID"] | 1 << 5)
    return [copy(FAULT_VA, VA_BASE + 0x40010, 8)]


def _bad_table_entry(qemu, d, pt):
    pt.map(FAULT_PAGE, DST, PAGE)
    l1 = pt.entry_addr(FAULT_PAGE, 1)
    qemu.writeq(l1, qemu.readq(l1) | R["LUMEN_PTE_WRITABLE"])    # only leaves may
    return [fence(FAULT_VA, 1)]


fault_test("fault_read_only", FAULT["READ_ONLY"], True, _read_only)
fault_test("fault_devmem_beyond_end", FAULT["DEVMEM_RANGE"], True, _devmem_beyond,
           device_args="mem=1M")
fault_test("fault_reserved_pte_bit", FAULT["BAD_PTE"], False, _bad_pte)
fault_test("fault_writable_table_entry", FAULT["BAD_PTE"], True, _bad_table_entry)


@test()
def fault_va_range_and_bad_context(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.setup_queue(1, ring(1), 16)
    pt = context(qemu, d, 4)
    size = put_ib(qemu, pt, VA_BASE, IBS, [fence(1 << 48, 1)])
    d.submit(0, [indirect(VA_BASE, size, 4)])
    st = d.wait_idle(0)
    eq(d.qreg32(0, "LUMEN_Q_ERROR"), ERR["MMU_FAULT"], "VA beyond 2^48: ERROR")
    eq(d.qreg32(0, "LUMEN_Q_FAULT_INFO"), fault_info(FAULT["VA_RANGE"], True, 4, 0),
       "VA beyond 2^48: FAULT_INFO")
    eq(d.qreg64(0, "LUMEN_Q_FAULT_VA"), 1 << 48, "VA beyond 2^48: FAULT_VA")
    # Context 9 has no root: its IB cannot even be fetched.
    d.submit(1, [indirect(VA_BASE, 64, 9)])
    d.wait_idle(1)
    eq(d.qreg32(1, "LUMEN_Q_ERROR"), ERR["MMU_FAULT"], "no root: ERROR")
    eq(d.qreg32(1, "LUMEN_Q_FAULT_INFO"), fault_info(FAULT["BAD_CONTEXT"], False, 9, 1),
       "no root: FAULT_INFO")
    eq(d.qreg64(1, "LUMEN_Q_FAULT_VA"), VA_BASE, "no root: FAULT_VA")
    # Only the first fault is latched globally.
    eq(d.reg32("LUMEN_REG_FAULT_INFO"), fault_info(FAULT["VA_RANGE"], True, 4, 0),
       "global FAULT_INFO keeps the first fault")
    d.set32("LUMEN_REG_FAULT_STATUS", 1)
    d.qset32(1, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    d.setup_queue(1, ring(1), 16)
    d.submit(1, [indirect(VA_BASE, 64, 9)])
    d.wait_idle(1)
    eq(d.reg32("LUMEN_REG_FAULT_INFO"), fault_info(FAULT["BAD_CONTEXT"], False, 9, 1),
       "global FAULT_INFO latches again once cleared")


@test()
def page_tables_in_device_registers(qemu, d):
    """A root or table pointing at device registers is never dispatched to:
    the walk fails with BAD_PTE."""
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.set_root(3, 0xFEC0_0000 | 1)
    d.submit(0, [indirect(VA_BASE, 64, 3)])
    d.wait_idle(0)
    eq(d.qreg32(0, "LUMEN_Q_ERROR"), ERR["MMU_FAULT"], "ERROR")
    eq(d.qreg32(0, "LUMEN_Q_FAULT_INFO"), fault_info(FAULT["BAD_PTE"], False, 3, 0),
       "FAULT_INFO")
    d.set_root(3, BAR0_ADDR | 1)
    d.set_root(4, (BAR2_ADDR + 0x1000) | 1)
    for q, ctx in ((1, 3), (2, 4)):
        d.setup_queue(q, ring(q), 16)
        d.submit(q, [indirect(VA_BASE, 64, ctx)])
        d.wait_idle(q)
        eq(d.qreg32(q, "LUMEN_Q_FAULT_INFO"), fault_info(FAULT["BAD_PTE"], False, ctx, q),
           "tables in our own BAR%d" % (0 if ctx == 3 else 2))


@test()
def tlb_invalidation(qemu, d):
    """Changing a valid PTE takes effect only after MMU_INVALIDATE; filling an
    invalid one needs no invalidation."""
    ready(d)
    d.setup_queue(0, ring(0), 64)
    pt = context(qemu, d, 6)
    # Consecutive pages: the IB, the source, the destination.
    va_src, va_dst = VA_BASE + PAGE, VA_BASE + 2 * PAGE
    size = put_ib(qemu, pt, VA_BASE, IBS, [copy(va_src, va_dst, 8)])
    pt.map(va_dst, DST, PAGE)
    for i, v in enumerate((0x1111, 0x2222, 0x3333, 0x4444)):
        qemu.writeq(SRC + i * PAGE, v)

    def run(want, what):
        qemu.writeq(DST, 0)
        d.submit(0, [indirect(VA_BASE, size, 6)])
        eq(d.wait_idle(0), ENABLED | IDLE, what + ": status")
        eq(qemu.readq(DST), want, what)

    pt.map(va_src, SRC, PAGE, writable=False)
    run(0x1111, "first translation")
    pt.map(va_src, SRC + PAGE, PAGE, writable=False)
    run(0x1111, "changed PTE, not invalidated: the TLB still has the old page")
    d.set32("LUMEN_REG_MMU_INVALIDATE", 5)
    run(0x1111, "invalidating another context changes nothing")
    d.set32("LUMEN_REG_MMU_INVALIDATE", 6)
    run(0x2222, "after MMU_INVALIDATE of the context")
    pt.map(va_src, SRC + 2 * PAGE, PAGE, writable=False)
    d.set32("LUMEN_REG_MMU_INVALIDATE", R["LUMEN_MMU_INVALIDATE_ALL"])
    run(0x3333, "after MMU_INVALIDATE_ALL")
    # A root change, invalidated: a whole new table tree.
    pt2 = context(qemu, d, 7)
    put_ib(qemu, pt2, VA_BASE, IBS, [copy(va_src, va_dst, 8)])
    pt2.map(va_dst, DST, PAGE)
    pt2.map(va_src, SRC + 3 * PAGE, PAGE, writable=False)
    d.set_root(6, pt2.root_value())
    d.set32("LUMEN_REG_MMU_INVALIDATE", 6)
    run(0x4444, "after a new root and its invalidation")
    # Unmapped, then mapped without invalidation: faults are never cached.
    va_new = VA_BASE + 3 * PAGE
    size2 = put_ib(qemu, pt2, VA_BASE + 8 * PAGE, IBS + 0x8000, [copy(va_new, va_dst, 8)])
    d.submit(0, [indirect(VA_BASE + 8 * PAGE, size2, 6)])
    d.wait_idle(0)
    eq(d.qreg32(0, "LUMEN_Q_ERROR"), ERR["MMU_FAULT"], "unmapped page faults")
    pt2.map(va_new, SRC, PAGE, writable=False)
    d.qset32(0, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    d.setup_queue(0, ring(0), 64)
    qemu.writeq(DST, 0)
    d.submit(0, [indirect(VA_BASE + 8 * PAGE, size2, 6)])
    eq(d.wait_idle(0), ENABLED | IDLE, "filled PTE, no invalidation: status")
    eq(qemu.readq(DST), 0x1111, "a newly filled PTE is used at once")


@test()
def fairness_and_command_budget(qemu, d):
    """A ring entry whose IBs run ~1M commands shares its engine with
    another queue, and one more command than the budget stops it."""
    ready(d)
    d.setup_queue(0, ring(0), 16, engine=1)
    d.setup_queue(1, ring(1), 16, engine=1)
    d.setup_queue(2, ring(2), 16, engine=2)
    pt = context(qemu, d, 1)
    nops = R["LUMEN_IB_MAX_SIZE"]
    qemu.memset(IBS, nops, 0)                                   # 65536 NOPs
    pt.map(VA_BASE, IBS, nops, writable=False)
    calls = R["LUMEN_IB_MAX_COMMANDS"] // (nops // 64)         # 16 calls
    qemu.memwrite(IBS + nops, indirect(VA_BASE, nops, 0) * (calls - 1))
    qemu.memwrite(IBS + nops + 0x1000, indirect(VA_BASE, nops, 0) * calls)
    pt.map(VA_BASE + nops, IBS + nops, 0x2000, writable=False)
    d.submit(0, [indirect(VA_BASE + nops, 64 * (calls - 1), 1), fence(FENCES, 1)])
    d.submit(1, [fence(FENCES + 8, 2)])
    eq(d.wait_idle(1), ENABLED | IDLE, "the other queue on the engine ran")
    eq(qemu.readq(FENCES + 8), 2, "its fence")
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 0, "while the long entry still runs")
    eq(d.wait_idle(0, timeout=120), ENABLED | IDLE, "the long entry finished")
    eq(qemu.readq(FENCES), 1, "the fence after it")
    # 16 x 65536 NOPs + 16 INDIRECTs + the ring entry exceed 2^20 commands.
    d.submit(2, [indirect(VA_BASE + nops + 0x1000, 64 * calls, 1)])
    d.wait_idle(2, timeout=120)
    eq(d.qreg32(2, "LUMEN_Q_ERROR"), ERR["IB_LIMIT"], "command budget exceeded")


# ==== WAIT: semaphores across queues ==========================================

SEM = FENCES + 0x4000


def cpu_seconds(qemu):
    with open("/proc/%d/stat" % qemu.proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_status(d, q, bit, timeout=5.0):
    deadline = time.time() + timeout
    while not d.qreg32(q, "LUMEN_Q_STATUS") & bit:
        if time.time() > deadline:
            raise Failure("queue %d never showed status bit %#x" % (q, bit))
        time.sleep(0.002)


@test()
def wait_released_by_other_queue(qemu, d):
    ready(d)
    qemu.writeq(SEM, 0)
    d.setup_queue(0, ring(0), 16, engine=0)     # waits
    d.setup_queue(1, ring(1), 16, engine=4)     # releases, on the DMA engine
    d.setup_queue(2, ring(2), 16, engine=0)     # shares the waiter's engine
    d.submit(0, [nop(), wait(SEM, 5), fence(FENCES, 0xA)])
    wait_for_status(d, 0, WAITING)
    eq(d.qreg32(0, "LUMEN_Q_STATUS"), ENABLED | WAITING, "STATUS while waiting")
    eq(d.qreg32(0, "LUMEN_Q_HEAD"), 1, "HEAD on the WAIT")
    # The waiting queue does not hold its engine ...
    d.submit(2, [fence(FENCES + 8, 0xB)])
    eq(d.wait_idle(2), ENABLED | IDLE, "queue on the same engine runs")
    eq(qemu.readq(FENCES + 8), 0xB, "its fence")
    # ... nor a host CPU.
    c0, t0 = cpu_seconds(qemu), time.time()
    time.sleep(1.0)
    used = cpu_seconds(qemu) - c0
    check(used < 0.3 * (time.time() - t0), "QEMU used %.2f s of CPU in 1 s of WAIT" % used)
    d.submit(1, [fence(SEM, 4)])
    d.wait_idle(1)
    time.sleep(0.05)
    eq(d.qreg32(0, "LUMEN_Q_STATUS"), ENABLED | WAITING, "4 < 5: still waiting")
    eq(qemu.readq(FENCES), 0, "nothing after the WAIT ran")
    d.submit(1, [fence(SEM, 5)])
    eq(d.wait_idle(0, timeout=2), ENABLED | IDLE, "released by the other queue's FENCE")
    eq(qemu.readq(FENCES), 0xA, "the command after the WAIT")
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 3, "COMPLETED")


@test()
def wait_released_by_cpu(qemu, d):
    ready(d)
    qemu.writeq(SEM, 0)
    d.setup_queue(0, ring(0), 16)
    d.submit(0, [wait(SEM, 1), fence(FENCES, 1)])
    wait_for_status(d, 0, WAITING)
    qemu.writeq(SEM, 1 << 40)                   # unsigned >=
    eq(d.wait_idle(0, timeout=2), ENABLED | IDLE, "released by a CPU store")
    eq(qemu.readq(FENCES), 1, "fence after the WAIT")
    # The same inside an IB, through the MMU, on a devmem semaphore.
    pt = context(qemu, d, 1)
    pt.map(VA_BASE + 0x10000, 0x8000, PAGE, devmem=True)
    pt.map(VA_BASE + 0x20000, FENCES + 0x5000, PAGE)
    qemu.writeq(BAR2_ADDR + 0x8000, 0)
    size = put_ib(qemu, pt, VA_BASE, IBS, [wait(VA_BASE + 0x10000, 3),
                                           fence(VA_BASE + 0x20000, 2)])
    d.submit(0, [indirect(VA_BASE, size, 1)])
    wait_for_status(d, 0, WAITING)
    eq(d.qreg32(0, "LUMEN_Q_CONTEXT"), 1, "Q_CONTEXT while waiting in the IB")
    qemu.writeq(BAR2_ADDR + 0x8000, 3)
    eq(d.wait_idle(0, timeout=2), ENABLED | IDLE, "IB WAIT released")
    eq(qemu.readq(FENCES + 0x5000), 2, "fence after the IB's WAIT")


@test()
def wait_then_queue_reset(qemu, d):
    ready(d)
    qemu.writeq(SEM, 0)
    d.setup_queue(0, ring(0), 16)
    d.submit(0, [wait(SEM, 1), fence(FENCES, 1)])
    wait_for_status(d, 0, WAITING)
    d.qset32(0, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    eq(d.qreg32(0, "LUMEN_Q_STATUS"), IDLE, "STATUS after RESET of a waiting queue")
    qemu.writeq(SEM, 1)
    time.sleep(0.05)
    eq(qemu.readq(FENCES), 0, "the abandoned entry never continues")
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 2)


# ==== Operators ===============================================================

def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def f32_bytes(values):
    return struct.pack("<%df" % len(values), *values)


def gemm_desc(mode, m, n, k, a, lda, b, ldb, c, ldc, bias=0, alpha=1.0, beta=0.0,
              ialpha=None, ibeta=None):
    if ialpha is not None:
        scale = (ialpha & 0xFFFFFFFF) | (ibeta & 0xFFFFFFFF) << 32
    else:
        scale = (struct.unpack("<I", struct.pack("<f", alpha))[0] |
                 struct.unpack("<I", struct.pack("<f", beta))[0] << 32)
    return descriptor({R["LUMEN_GEMM_W_MODE"]: mode, R["LUMEN_GEMM_W_M"]: m,
                       R["LUMEN_GEMM_W_N"]: n, R["LUMEN_GEMM_W_K"]: k,
                       R["LUMEN_GEMM_W_A"]: a, R["LUMEN_GEMM_W_LDA"]: lda,
                       R["LUMEN_GEMM_W_B"]: b, R["LUMEN_GEMM_W_LDB"]: ldb,
                       R["LUMEN_GEMM_W_C"]: c, R["LUMEN_GEMM_W_LDC"]: ldc,
                       R["LUMEN_GEMM_W_BIAS"]: bias, R["LUMEN_GEMM_W_SCALE"]: scale})


F32, I8, I32 = R["LUMEN_HW_DTYPE_F32"], R["LUMEN_HW_DTYPE_I8"], R["LUMEN_HW_DTYPE_I32"]


@test()
def gemm_f32_descriptor(qemu, d):
    """C = relu(1.5 * A * B^T + 0.5 * C + bias_row), against a naive reference."""
    ready(d)
    d.setup_queue(0, ring(0), 16, engine=1)
    m, n, k = 5, 7, 9
    lda, ldb, ldc = 11, 10, 8                   # padded rows
    rng = random.Random(21)
    A = [[f32(rng.uniform(-1, 1)) for _ in range(lda)] for _ in range(m)]
    B = [[f32(rng.uniform(-1, 1)) for _ in range(ldb)] for _ in range(n)]   # n x k, transposed
    C0 = [[f32(rng.uniform(-1, 1)) for _ in range(ldc)] for _ in range(m)]
    bias = [f32(rng.uniform(-0.5, 0.5)) for _ in range(n)]
    a_addr, b_addr, c_addr, bias_addr = SRC, SRC + 0x1000, DST, SRC + 0x2000
    qemu.memwrite(a_addr, f32_bytes([x for row in A for x in row]))
    qemu.memwrite(b_addr, f32_bytes([x for row in B for x in row]))
    qemu.memwrite(c_addr, f32_bytes([x for row in C0 for x in row]))
    # The bias lives in device memory (context 0 DEVMEM form).
    qemu.memwrite(BAR2_ADDR + 0x100, f32_bytes(bias))
    mode = F32 | F32 << 8 | R["LUMEN_GEMM_TRANS_B"] | 1 << 20 | R["LUMEN_HW_ACT_RELU"] << 24
    qemu.memwrite(IBS, gemm_desc(mode, m, n, k, a_addr, lda, b_addr, ldb, c_addr, ldc,
                                 bias=DEVMEM | 0x100, alpha=1.5, beta=0.5))
    d.submit(0, [operator(R["LUMEN_OP_GEMM"], IBS), fence(FENCES, 1)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    eq(d.qreg32(0, "LUMEN_Q_ERROR"), 0, "no error")
    got = struct.unpack("<%df" % (m * ldc), qemu.memread(c_addr, 4 * m * ldc))
    for i in range(m):
        for j in range(ldc):
            if j >= n:
                eq(got[i * ldc + j], C0[i][j], "padding C[%d][%d] untouched" % (i, j))
                continue
            acc = sum(A[i][p] * B[j][p] for p in range(k))
            want = max(0.0, 1.5 * acc + 0.5 * C0[i][j] + bias[j])
            check(abs(got[i * ldc + j] - want) <= 1e-5 + 1e-5 * abs(want),
                  "C[%d][%d] = %r, want %r" % (i, j, got[i * ldc + j], want))


@test()
def gemm_i8_in_context(qemu, d):
    """int8 x int8 -> int32, exact, operands and descriptor behind the MMU."""
    ready(d)
    d.setup_queue(0, ring(0), 16, engine=0)
    pt = context(qemu, d, 5)
    m, n, k = 4, 6, 33
    rng = random.Random(22)
    A = [[rng.randrange(-128, 128) for _ in range(k)] for _ in range(m)]
    B = [[rng.randrange(-128, 128) for _ in range(n)] for _ in range(k)]
    C0 = [[rng.randrange(-1000, 1000) for _ in range(n)] for _ in range(m)]
    qemu.memwrite(SRC, bytes(x & 0xFF for row in A for x in row))
    qemu.memwrite(SRC + 0x1000, bytes(x & 0xFF for row in B for x in row))
    qemu.memwrite(DST, struct.pack("<%di" % (m * n), *[x for row in C0 for x in row]))
    va_a, va_b, va_c, va_d = VA_BASE + 0x10000, VA_BASE + 0x20000, VA_BASE + 0x30000, VA_BASE + 0x40000
    pt.map(va_a, SRC, PAGE, writable=False)
    pt.map(va_b, SRC + 0x1000, PAGE, writable=False)
    pt.map(va_c, DST, PAGE)
    pt.map(va_d, IBS + 0x10000, PAGE, writable=False)
    qemu.memwrite(IBS + 0x10000, gemm_desc(I8 | I32 << 8, m, n, k, va_a, k, va_b, n, va_c, n,
                                           ialpha=3, ibeta=-2))
    size = put_ib(qemu, pt, VA_BASE, IBS, [operator(R["LUMEN_OP_GEMM"], va_d)])
    d.submit(0, [indirect(VA_BASE, size, 5)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    got = struct.unpack("<%di" % (m * n), qemu.memread(DST, 4 * m * n))
    for i in range(m):
        for j in range(n):
            want = 3 * sum(A[i][p] * B[p][j] for p in range(k)) - 2 * C0[i][j]
            eq(got[i * n + j], want, "C[%d][%d]" % (i, j))


@test()
def operator_on_dma_engine(qemu, d):
    ready(d)
    dma = d.reg32("LUMEN_REG_NUM_ENGINES") - 1
    d.setup_queue(VICTIM, ring(VICTIM), 16, engine=dma)
    d.setup_queue(BYSTANDER, ring(BYSTANDER), 16, engine=dma)
    qemu.memwrite(IBS, gemm_desc(F32 | F32 << 8, 1, 1, 1, SRC, 1, SRC, 1, DST, 1))
    d.submit(VICTIM, [copy(SRC, DST, 64), operator(R["LUMEN_OP_GEMM"], IBS)])
    expect_error(qemu, d, VICTIM, ERR["WRONG_ENGINE"], head=1, completed=1)
    for op in ("ELTWISE", "SOFTMAX", "LAYER_NORM", "RMS_NORM", "CONV2D", "POOL2D"):
        d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
        d.setup_queue(VICTIM, ring(VICTIM), 16, engine=dma)
        d.submit(VICTIM, [operator(R["LUMEN_OP_" + op], IBS)])
        d.wait_idle(VICTIM)
        eq(d.qreg32(VICTIM, "LUMEN_Q_ERROR"), ERR["WRONG_ENGINE"], op + " on the DMA engine")
    # The DMA engine still runs everything else.
    run_fence(d, BYSTANDER, 0xD)


def start_long_gemm(qemu, d, q, c_devmem=False, n=4096):
    """An n^3 f32 GEMM (seconds of work), returning once it runs.  A and B
    are in device memory and C, filled with 0xEE, in RAM (GEMM_C); or A and
    B in RAM and C in device memory (@c_devmem, at offset 0)."""
    size = n * n * 4
    if c_devmem:
        qemu.memset(GEMM_AB, 2 * size, 0x3C)
        qemu.memset(BAR2_ADDR, size, 0xEE)
        a, b, c = GEMM_AB, GEMM_AB + size, DEVMEM
    else:
        qemu.memset(BAR2_ADDR, 2 * size, 0x3C)
        qemu.memset(GEMM_C, size, 0xEE)
        a, b, c = DEVMEM, DEVMEM | size, GEMM_C
    qemu.memwrite(IBS, gemm_desc(F32 | F32 << 8, n, n, n, a, n, b, n, c, n))
    d.setup_queue(q, ring(q), 16, engine=0)
    d.submit(q, [operator(R["LUMEN_OP_GEMM"], IBS), fence(FENCES + 0x800, 1)])
    time.sleep(0.3)
    eq(d.qreg32(q, "LUMEN_Q_STATUS") & (IDLE | ERROR), 0, "the GEMM is running")
    eq(qemu.readq(FENCES + 0x800), 0, "the GEMM has not finished")


def check_gemm_dropped(qemu, d, c_devmem=False, n=4096):
    time.sleep(4)       # longer than the GEMM takes
    c = BAR2_ADDR if c_devmem else GEMM_C
    for off in (0, n * n * 2, n * n * 4 - 8):
        eq(qemu.readq(c + off), 0xEEEEEEEEEEEEEEEE,
           "C at %#x never written after the reset" % off)
    eq(qemu.readq(FENCES + 0x800), 0, "the fence after the GEMM never ran")


GEMM_C = 0x1000_0000        # 64 MiB
GEMM_AB = 0x1000_0000       # 128 MiB (when C is in device memory)


@test()
def queue_reset_during_gemm(qemu, d):
    ready(d)
    start_long_gemm(qemu, d, VICTIM)
    t = time.time()
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    took = time.time() - t
    check(took < 0.5, "queue RESET during a GEMM took %.2f s" % took)
    eq(d.qreg32(VICTIM, "LUMEN_Q_STATUS"), IDLE, "STATUS right after RESET")
    check_gemm_dropped(qemu, d)
    # The engine is free again; a small GEMM on it completes and writes.
    d.setup_queue(VICTIM, ring(VICTIM), 16, engine=0)
    qemu.memwrite(SRC, f32_bytes([2.0, 3.0]))
    qemu.memwrite(IBS + 0x1000, gemm_desc(F32 | F32 << 8, 1, 1, 2, SRC, 2, SRC, 1, DST, 1))
    qemu.writeq(DST, 0)
    d.submit(VICTIM, [operator(R["LUMEN_OP_GEMM"], IBS + 0x1000)])
    eq(d.wait_idle(VICTIM, timeout=20), ENABLED | IDLE, "small GEMM after the reset")
    eq(struct.unpack("<f", qemu.memread(DST, 4))[0], 2.0 * 2.0 + 3.0 * 3.0,
       "small GEMM result ([2 3] x [2 3]^T)")


@test()
def queue_reset_during_gemm_devmem_output(qemu, d):
    ready(d)
    start_long_gemm(qemu, d, VICTIM, c_devmem=True)
    t = time.time()
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    took = time.time() - t
    check(took < 0.5, "queue RESET during a GEMM took %.2f s" % took)
    check_gemm_dropped(qemu, d, c_devmem=True)


@test()
def device_reset_during_gemm(qemu, d):
    ready(d)
    start_long_gemm(qemu, d, VICTIM)
    t = time.time()
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    took = time.time() - t
    check(took < 0.5, "CONTROL.RESET during a GEMM took %.2f s" % took)
    check_gemm_dropped(qemu, d)
    eq(d.perf(0, "LUMEN_PERF_COMMANDS"), 0, "the abandoned GEMM is not counted")
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0x42)


# ==== Performance counters ===================================================

@test()
def perf_counters(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16, engine=1)
    d.submit(0, [nop(), nop(), nop(), copy(SRC, DST, 10000), fence(FENCES, 1)])
    d.wait_idle(0)
    eq(d.perf(1, "LUMEN_PERF_COMMANDS"), 5, "COMMANDS of engine 1")
    eq(d.perf(1, "LUMEN_PERF_BYTES"), 2 * 10000 + 8, "BYTES of engine 1 (copy read+write, fence)")
    check(d.perf(1, "LUMEN_PERF_BUSY_NS") > 0, "BUSY_NS of engine 1 moved")
    eq(d.perf(1, "LUMEN_PERF_FAULTS"), 0, "FAULTS of engine 1")
    for e in (0, 2, 3, 4):
        eq(d.perf(e, "LUMEN_PERF_COMMANDS"), 0, "COMMANDS of idle engine %d" % e)
        eq(d.perf(e, "LUMEN_PERF_BUSY_NS"), 0, "BUSY_NS of idle engine %d" % e)
    # IB contents count as commands; an IB fetch is not data.
    pt = context(qemu, d, 1)
    pt.map(VA_BASE + 0x10000, FENCES + 0x5000, PAGE)
    size = put_ib(qemu, pt, VA_BASE, IBS, [nop(), fence(VA_BASE + 0x10000, 1)])
    d.setup_queue(1, ring(1), 16, engine=4)
    d.submit(1, [indirect(VA_BASE, size, 1)])
    d.wait_idle(1)
    eq(d.perf(4, "LUMEN_PERF_COMMANDS"), 3, "COMMANDS of the DMA engine (INDIRECT + 2)")
    eq(d.perf(4, "LUMEN_PERF_BYTES"), 8, "BYTES of the DMA engine")
    busy = d.perf(1, "LUMEN_PERF_BUSY_NS")
    lo = qemu.readl(d.bar0 + R["LUMEN_PERF_BASE"] + R["LUMEN_PERF_STRIDE"])
    hi = qemu.readl(d.bar0 + R["LUMEN_PERF_BASE"] + R["LUMEN_PERF_STRIDE"] + 4)
    eq(hi << 32 | lo, busy, "BUSY_NS read as halves")
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    for e in (1, 4):
        for r in ("LUMEN_PERF_BUSY_NS", "LUMEN_PERF_COMMANDS", "LUMEN_PERF_BYTES"):
            eq(d.perf(e, r), 0, "engine %d %s after CONTROL.RESET" % (e, r))


# ==== Fault injection ========================================================

FI = "fault-injection=on"


@test()
def fault_injection_off_is_invisible(qemu, d):
    ready(d)
    eq(d.reg32("LUMEN_REG_CAPS") & R["LUMEN_CAP_FAULT_INJECTION"], 0, "CAPS bit clear")
    d.setup_queue(0, ring(0), 16)
    for reg, val in (("LUMEN_FI_FAIL_DMA", 5), ("LUMEN_FI_DROP_IRQ", 5),
                     ("LUMEN_FI_HANG_QUEUE", 1), ("LUMEN_FI_MMU_FAULT", 5),
                     ("LUMEN_FI_FATAL", 1)):
        d.set32(reg, val)
        eq(d.reg32(reg), 0, reg + " reads 0")
    eq(d.reg32("LUMEN_REG_STATUS") & R["LUMEN_STATUS_FATAL"], 0, "no FATAL")
    d.submit(0, [fence(FENCES, 1, irq=True)])
    eq(d.wait_idle(0), ENABLED | IDLE, "queue runs normally")
    eq(d.wait_value(lambda: d.msi_count(0), 0xA000), 0xA000, "interrupt not dropped")
    pt = context(qemu, d, 1)
    pt.map(VA_BASE + 0x10000, FENCES + 0x5000, PAGE)
    size = put_ib(qemu, pt, VA_BASE, IBS, [fence(VA_BASE + 0x10000, 2)])
    d.submit(0, [indirect(VA_BASE, size, 1)])
    eq(d.wait_idle(0), ENABLED | IDLE, "translations do not fault")
    check("without fault-injection=on" in qemu.log(), "FI writes logged as guest errors")


@test(device_args=FI)
def fi_hang_queue(qemu, d):
    ready(d)
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    d.setup_queue(BYSTANDER, ring(BYSTANDER), 16)
    d.set32("LUMEN_FI_HANG_QUEUE", VICTIM + 1)
    d.set32("LUMEN_FI_HANG_QUEUE", 17)              # no queue 16: ignored
    d.submit(VICTIM, [fence(FENCES, 1), fence(FENCES + 8, 2)])
    time.sleep(0.3)
    eq(d.qreg32(VICTIM, "LUMEN_Q_STATUS"), ENABLED, "hung: enabled, not idle, no error")
    eq(d.qreg32(VICTIM, "LUMEN_Q_HEAD"), 0, "HEAD does not move")
    eq(qemu.readq(FENCES), 0, "the hung entry never completes")
    run_fence(d, BYSTANDER, 0xB)
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    run_fence(d, VICTIM, 0xC)


@test(device_args=FI)
def fi_drop_irq(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.set32("LUMEN_FI_DROP_IRQ", 2)
    eq(d.reg32("LUMEN_FI_DROP_IRQ"), 2, "DROP_IRQ pending")
    d.submit(0, [fence(FENCES, 1, irq=True), fence(FENCES, 2, irq=True)])
    d.wait_idle(0)
    eq(d.reg64("LUMEN_REG_IRQ_STATUS"), 1, "IRQ_STATUS set although the message was dropped")
    eq(d.reg32("LUMEN_FI_DROP_IRQ"), 0, "both drops used")
    time.sleep(0.1)
    eq(d.msi_count(0), 0, "no message")
    d.set64("LUMEN_REG_IRQ_STATUS", 1)
    d.submit(0, [fence(FENCES, 3, irq=True)])
    eq(d.wait_value(lambda: d.msi_count(0), 0xA000), 0xA000, "the next interrupt arrives")


@test(device_args=FI)
def fi_fail_dma(qemu, d):
    ready(d)
    d.setup_queue(VICTIM, ring(VICTIM), 16)
    d.setup_queue(BYSTANDER, ring(BYSTANDER), 16)
    d.set32("LUMEN_FI_FAIL_DMA", 1)
    eq(d.reg32("LUMEN_FI_FAIL_DMA"), 1, "FAIL_DMA pending")
    d.submit(VICTIM, [fence(FENCES, 1)])
    expect_error(qemu, d, VICTIM, ERR["DMA"], head=0, completed=0)
    eq(d.reg32("LUMEN_FI_FAIL_DMA"), 0, "used up")
    eq(qemu.readq(FENCES), 0, "nothing written")
    recover(qemu, d, VICTIM)


@test(device_args=FI)
def fi_mmu_fault(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    pt = context(qemu, d, 1)
    pt.map(VA_BASE + 0x10000, FENCES + 0x5000, PAGE)
    size = put_ib(qemu, pt, VA_BASE, IBS, [fence(VA_BASE + 0x10000, 2)])
    d.set32("LUMEN_FI_MMU_FAULT", 1)
    d.submit(0, [fence(FENCES, 1), indirect(VA_BASE, size, 1)])
    d.wait_idle(0)
    eq(qemu.readq(FENCES), 1, "context 0 does not translate: no fault there")
    eq(d.qreg32(0, "LUMEN_Q_ERROR"), ERR["MMU_FAULT"], "ERROR")
    eq(d.qreg32(0, "LUMEN_Q_FAULT_INFO"), fault_info(FAULT["INJECTED"], False, 1, 0),
       "FAULT_INFO: injected, on the IB fetch")
    eq(d.reg32("LUMEN_FI_MMU_FAULT"), 0, "used up")
    d.qset32(0, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    d.setup_queue(0, ring(0), 16)
    d.submit(0, [indirect(VA_BASE, size, 1)])
    eq(d.wait_idle(0), ENABLED | IDLE, "translations work again")
    eq(qemu.readq(FENCES + 0x5000), 2, "IB fence")


@test(device_args=FI)
def fi_fatal(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    d.setup_queue(1, ring(1), 16)
    run_fence(d, 0, 1)
    d.set32("LUMEN_FI_FATAL", 1)
    eq(d.reg32("LUMEN_REG_STATUS"), R["LUMEN_STATUS_READY"] | R["LUMEN_STATUS_FATAL"],
       "STATUS.FATAL")
    eq(d.reg32("LUMEN_FI_FATAL"), 1, "FI_FATAL reads 1")
    for q in range(d.num_queues):
        eq(d.qreg32(q, "LUMEN_Q_ERROR"), ERR["FATAL"], "queue %d ERROR" % q)
    eq(d.reg64("LUMEN_REG_ERROR_QUEUES"), 0xFFFF, "ERROR_QUEUES: every queue")
    ev = d.error_vector()
    eq(d.wait_value(lambda: d.msi_count(ev), 0xA000 + ev), 0xA000 + ev, "error vector")
    d.submit(0, [fence(FENCES, 2)])
    time.sleep(0.05)
    eq(qemu.readq(FENCES + 0), 1, "nothing runs")
    d.qset32(1, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    d.setup_queue(1, ring(1), 16)
    eq(d.qreg32(1, "LUMEN_Q_ERROR"), ERR["FATAL"], "a queue reset does not clear FATAL")
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    eq(d.reg32("LUMEN_REG_STATUS"), 0, "STATUS after CONTROL.RESET")
    eq(d.reg32("LUMEN_FI_FATAL"), 0, "FI_FATAL after CONTROL.RESET")
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 3)


@test(device_args=FI)
def fi_state_cleared_by_reset(qemu, d):
    d.set32("LUMEN_FI_FAIL_DMA", 3)
    d.set32("LUMEN_FI_DROP_IRQ", 3)
    d.set32("LUMEN_FI_MMU_FAULT", 3)
    d.set32("LUMEN_FI_HANG_QUEUE", 1)
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    for reg in ("LUMEN_FI_FAIL_DMA", "LUMEN_FI_DROP_IRQ", "LUMEN_FI_MMU_FAULT"):
        eq(d.reg32(reg), 0, reg + " after CONTROL.RESET")
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 4)


# ==== Hostile guests ==========================================================

@test()
def garbage_register_writes(qemu, d):
    """Random values at random BAR0/BAR4 offsets, random sizes; the device
    stays sane and works after a reset."""
    ready(d)
    rng = random.Random(31)
    lines = []
    for i in range(4000):
        size = rng.choice((4, 8))
        off = rng.randrange(0, 0x10000, size)
        if 0x8000 <= off < 0x8000 + 16 * 17:
            continue        # leave the MSI-X table alone: it is QEMU's, not ours
        val = rng.choice((0, 1, 2, 3, 0xFFFFFFFF, rng.getrandbits(64), rng.randrange(64)))
        op = "writel" if size == 4 else "writeq"
        lines.append("%s 0x%x 0x%x" % (op, d.bar0 + off, val & (2**(8 * size) - 1)))
        if i % 10 == 0:
            lines.append("writel 0x%x 0x%x" % (d.bar4 + rng.randrange(0, 0x10000, 4),
                                               rng.getrandbits(32)))
        if i % 10 == 5:         # doorbell views: 64-bit accesses too
            lines.append("writeq 0x%x 0x%x" % (d.bar4 + rng.randrange(0, 0x10000, 8),
                                               rng.getrandbits(64)))
            lines.append("readq 0x%x" % (d.bar4 + rng.randrange(0, 0x10000, 8)))
        if i % 7 == 0:
            lines.append("readq 0x%x" % (d.bar0 + rng.randrange(0, 0x10000, 8)))
    for line in lines:
        qemu.cmd(line)
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    eq(d.reg32("LUMEN_REG_STATUS"), 0, "STATUS after reset")
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0x6A6A)


def random_command(rng, ctxs):
    opcodes = [0, 1, 2, 3, 4, 0x10, 0x11, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26,
               rng.randrange(256)]
    addrs = [SRC + rng.randrange(0, 1 << 20, 8), DEVMEM | rng.randrange(0, 1 << 20, 8),
             VA_BASE + rng.randrange(0, 1 << 18, 64), IBS + rng.randrange(0, 1 << 16, 64),
             rng.getrandbits(64), 0, BAR0_ADDR, 1 << 48]
    small = [0, 1, 8, 64, 128, 4096, rng.randrange(1 << 16), 1 << 40, 2**64 - 1]
    args = [rng.choice(addrs + small) for _ in range(7)]
    op = rng.choice(opcodes)
    if op == 2:
        args[1] = rng.choice((0, 1))            # a WAIT that may block forever
    if op == 4:
        args[2] = rng.choice(ctxs + [0, 64, 2**64 - 1])
    nargs = rng.randrange(8)
    args = args[:nargs] + [0] * (7 - nargs)
    return cmd(op, rng.choice((0, 0, 1, rng.randrange(256))), args,
               header_reserved=rng.choice((0,) * 15 + (1,)))


def wait_queues_settled(d, nqueues, seconds, what):
    """Waits until queues 0..nqueues-1 are idle, stopped or parked."""
    deadline = time.time() + seconds
    for q in range(nqueues):
        while True:
            st = d.qreg32(q, "LUMEN_Q_STATUS")
            if st & (IDLE | ERROR | WAITING):
                break
            check(time.time() < deadline, "%s: queue %d still busy (%#x)" % (what, q, st))
            time.sleep(0.01)


@test()
def hostile_rings(qemu, d):
    """Rings, IBs, descriptors and page tables full of random commands and
    values: every queue ends idle, stopped or waiting; QEMU survives."""
    ready(d)
    rng = random.Random(41)
    pts = [context(qemu, d, c) for c in (1, 2)]
    for pt in pts:
        pt.map(VA_BASE, IBS, 1 << 18)
        pt.map(VA_BASE + (1 << 18), DST, 1 << 16, writable=True)
        # Garbage tables: a level-1 entry pointing at random bytes.
        qemu.memwrite(TABLES + 0xF0000, random_bytes(4096, 42))
        qemu.writeq(pt.entry_addr(VA_BASE + (1 << 30), 1),
                    (TABLES + 0xF0000) | R["LUMEN_PTE_VALID"])
    qemu.memwrite(IBS, b"".join(random_command(rng, [1, 2]) for _ in range(1 << 12)))
    for rnd in range(6):
        for q in range(8):
            d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
            d.setup_queue(q, ring(q), 64, engine=q % 5)
            d.submit(q, [random_command(rng, [1, 2]) for _ in range(40)])
        wait_queues_settled(d, 8, 20, "round %d" % rnd)
        eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "ID after round %d" % rnd)
    for q in range(8):
        d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0x5AFE)


@test(device_args=FI)
def reset_storm(qemu, d):
    """Queue resets, disables, device resets and injected faults racing with
    copies, WAITs and GEMMs on every engine: nothing hangs or crashes, and
    the device works afterwards."""
    rng = random.Random(51)
    pt = None
    qemu.memwrite(IBS + 0x10000, gemm_desc(F32 | F32 << 8, 256, 256, 256, DEVMEM, 256,
                                           DEVMEM | 0x40000, 256, DST, 256))
    for rnd in range(40):
        if rnd % 10 == 0:
            d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
            ready(d)
            pt = context(qemu, d, 1)
            pt.map(VA_BASE, SRC, 1 << 20)
            pt.map(VA_BASE + (1 << 20), DST, 1 << 20)
        for q in range(6):
            d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
            d.setup_queue(q, ring(q), 16, engine=rng.randrange(5))
            work = rng.choice([
                [copy(SRC, DST, 1 << 20)],
                [wait(SEM, 1 << 62)],
                [operator(R["LUMEN_OP_GEMM"], IBS + 0x10000)],
                [indirect(IBS + 0x20000, 64, 1)],
                [fill(DEVMEM, 4 << 20, 7)],
            ])
            d.submit(q, work + [fence(FENCES + 8 * q, rnd)])
        # Queue 6 is a direct queue of context 1 (the class is defined below).
        d.qset32(6, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
        dq = Direct(qemu, d, 6, 1, pt, engine=rng.randrange(5))
        dq.submit([rng.choice([copy(VA_BASE, VA_BASE + (1 << 20), 1 << 20),
                               wait(VA_BASE, 1 << 62), indirect(VA_BASE + 0x1000, 64, 0)]),
                   fence(VA_BASE + (1 << 20), rnd)])
        qemu.memwrite(IBS + 0x20000, copy(VA_BASE, VA_BASE + (1 << 20), 1 << 20))
        action = rng.randrange(6)
        q = rng.randrange(7)
        if action == 0:
            d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
        elif action == 1:
            d.qset32(q, "LUMEN_Q_CONTROL", 0)
        elif action == 2:
            d.set32("LUMEN_REG_CONTROL", 0)
            d.enable()
        elif action == 3:
            d.set32("LUMEN_FI_FAIL_DMA", rng.randrange(1, 4))
        elif action == 4:
            d.set32("LUMEN_FI_MMU_FAULT", rng.randrange(1, 4))
        else:
            d.set32("LUMEN_REG_MMU_INVALIDATE", R["LUMEN_MMU_INVALIDATE_ALL"])
        eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "ID in round %d" % rnd)
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0x5707)


# ==== Storms, resets, unplug ================================================

@test(device_args="queues=5")
def doorbell_storm(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 64)
    d.setup_queue(1, ring(1), 16)
    qemu.memwrite(ring(0), nop() * 64)
    rng = random.Random(7)
    lines = []
    for i in range(20000):
        lines.append("writel 0x%x 0x%x" % (d.bar4, rng.randrange(64)))
        if i % 50 == 0:         # pages and offsets that are no doorbell
            lines.append("writel 0x%x 0x1" % (d.bar4 + 0x1000 * (5 + i % 3)))
            lines.append("writel 0x%x 0x1" % (d.bar4 + 0x1000 + 4 + (i % 1000) * 4))
    lines.append("writel 0x%x 0x%x" % (d.bar4, 9))
    start = time.time()
    for line in lines:
        qemu.cmd(line)
    eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "QEMU responsive right after the storm")
    d.wait_idle(0, timeout=30)
    eq(d.qreg32(0, "LUMEN_Q_ERROR"), 0, "no error from valid tails")
    eq(d.qreg32(0, "LUMEN_Q_HEAD"), 9, "queue ends at the last tail")
    eq(d.qreg32(1, "LUMEN_Q_TAIL"), 0, "queue 1 untouched by stray writes")
    run_fence(d, 1, 0x5708)
    check(time.time() - start < 120, "storm handled in reasonable time")


LONG_CTX = 1
LONG_TABLES = TABLES + 63 * MiB // 64       # 1 MiB before IBS, away from the others


def aliased_tables(qemu, base, pages_pa, writable):
    """Level-2 table whose 512 GiB all alias the 2 MiB at @pages_pa."""
    l0, l1, l2 = base, base + 0x1000, base + 0x2000
    leaf = R["LUMEN_PTE_VALID"] | (R["LUMEN_PTE_WRITABLE"] if writable else 0)
    qemu.memwrite(l0, b"".join((pages_pa + 4096 * i | leaf).to_bytes(8, "little")
                               for i in range(512)))
    qemu.memwrite(l1, (l0 | R["LUMEN_PTE_VALID"]).to_bytes(8, "little") * 512)
    qemu.memwrite(l2, (l1 | R["LUMEN_PTE_VALID"]).to_bytes(8, "little") * 512)
    return l2


def start_long_copy(qemu, d, q):
    """A 2^39-byte copy in context 1 (it would run for minutes), through
    page tables that alias every page of the source onto BIG_SRC and of the
    destination onto BIG_DST; waits until it runs."""
    qemu.memset(BIG_SRC, 2 * MiB, 0x5A)
    qemu.memset(BIG_DST, 2 * MiB, 0)
    pt = PageTables(qemu, LONG_TABLES + 0x10000, 0x10000)
    src_l2 = aliased_tables(qemu, LONG_TABLES, BIG_SRC, False)
    dst_l2 = aliased_tables(qemu, LONG_TABLES + 0x3000, BIG_DST, True)
    qemu.writeq(pt.root + 0, src_l2 | R["LUMEN_PTE_VALID"])    # VA [0, 2^39)
    qemu.writeq(pt.root + 8, dst_l2 | R["LUMEN_PTE_VALID"])    # VA [2^39, 2^40)
    ib_va = 1 << 40
    pt.map(ib_va, IBS + 0xF0000, 4096, writable=False)
    qemu.memwrite(IBS + 0xF0000, copy(0, 1 << 39, 1 << 39))
    d.set_root(LONG_CTX, pt.root_value())
    d.setup_queue(q, ring(q), 16, engine=0)
    d.submit(q, [indirect(ib_va, 64, LONG_CTX), fence(FENCES + 0x800, 1)])
    got = d.wait_value(lambda: qemu.readq(BIG_DST), 0x5A5A5A5A5A5A5A5A)
    eq(got, 0x5A5A5A5A5A5A5A5A, "the long copy is running")
    eq(d.qreg32(q, "LUMEN_Q_STATUS") & IDLE, 0, "queue busy")
    eq(d.qreg32(q, "LUMEN_Q_CONTEXT"), LONG_CTX, "Q_CONTEXT while in the IB")


def check_copy_stopped(qemu, d):
    """After a reset the engine no longer writes the destination."""
    qemu.writeq(BIG_DST, 0)
    qemu.writeq(BIG_DST + 2 * MiB - 8, 0)
    time.sleep(0.2)
    eq(qemu.readq(BIG_DST), 0, "destination start untouched after the reset")
    eq(qemu.readq(BIG_DST + 2 * MiB - 8), 0, "destination end untouched after the reset")
    eq(qemu.readq(FENCES + 0x800), 0, "the command after the copy never ran")


@test()
def queue_reset_while_busy(qemu, d):
    ready(d)
    d.setup_queue(BYSTANDER, ring(BYSTANDER), 16, engine=1)
    start_long_copy(qemu, d, VICTIM)
    t = time.time()
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    check(time.time() - t < 2, "queue RESET returns promptly")
    eq(d.qreg32(VICTIM, "LUMEN_Q_STATUS"), IDLE, "STATUS after RESET")
    eq(d.qreg32(VICTIM, "LUMEN_Q_HEAD"), 0, "HEAD after RESET")
    eq(d.qreg64(VICTIM, "LUMEN_Q_COMPLETED"), 0, "COMPLETED after RESET")
    check_copy_stopped(qemu, d)
    # Engine 0 is free again for other work.
    d.setup_queue(VICTIM, ring(VICTIM), 16, engine=0)
    run_fence(d, VICTIM, 0xAB)
    run_fence(d, BYSTANDER, 0xCD)


@test()
def queue_disable_while_busy(qemu, d):
    ready(d)
    start_long_copy(qemu, d, VICTIM)
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", 0)
    eq(d.qreg32(VICTIM, "LUMEN_Q_STATUS"), 0, "STATUS: disabled, not idle (work left)")
    check_copy_stopped(qemu, d)
    eq(d.qreg32(VICTIM, "LUMEN_Q_HEAD"), 0, "the abandoned copy did not retire")
    # Re-enabling starts the copy over.
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_ENABLE"])
    eq(d.wait_value(lambda: qemu.readq(BIG_DST), 0x5A5A5A5A5A5A5A5A), 0x5A5A5A5A5A5A5A5A,
       "the copy runs again")
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    check_copy_stopped(qemu, d)


@test()
def device_reset_while_busy(qemu, d):
    ready(d)
    d.set32("LUMEN_REG_SCRATCH", 0x1234)
    d.set64("LUMEN_REG_IRQ_MASK", 0xF0)
    start_long_copy(qemu, d, VICTIM)
    t = time.time()
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    check(time.time() - t < 2, "CONTROL.RESET returns promptly")
    eq(d.reg32("LUMEN_REG_CONTROL"), 0, "CONTROL after reset (RESET self-clears)")
    eq(d.reg32("LUMEN_REG_SCRATCH"), 0, "SCRATCH after reset")
    eq(d.reg64("LUMEN_REG_IRQ_MASK"), 0, "IRQ_MASK after reset")
    eq(d.qreg64(VICTIM, "LUMEN_Q_RING_BASE"), 0, "RING_BASE after reset")
    eq(d.qreg32(VICTIM, "LUMEN_Q_STATUS"), IDLE, "queue STATUS after reset")
    eq(d.root(LONG_CTX), 0, "MMU root after reset")
    eq(d.perf(0, "LUMEN_PERF_BUSY_NS"), 0, "PERF_BUSY_NS after reset")
    check_copy_stopped(qemu, d)
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0xEF)


@test()
def flr_while_busy(qemu, d):
    ready(d)
    d.set32("LUMEN_REG_SCRATCH", 0x1234)
    start_long_copy(qemu, d, VICTIM)
    exp = d.pci.find_cap(0x10)
    devctl = d.pci.read16(exp + 8)
    d.pci.write16(exp + 8, devctl | 0x8000)         # Initiate FLR
    eq(d.pci.read32(0x10), 0x4, "BAR0 cleared by the FLR")
    check_copy_stopped(qemu, d)
    d2 = Lumen(qemu)
    eq(d2.reg32("LUMEN_REG_SCRATCH"), 0, "SCRATCH after FLR")
    eq(d2.reg32("LUMEN_REG_CONTROL"), 0, "CONTROL after FLR")
    eq(d2.qreg32(VICTIM, "LUMEN_Q_STATUS"), IDLE, "queue STATUS after FLR")
    eq(d2.root(LONG_CTX), 0, "MMU root after FLR")
    eq(d2.perf(0, "LUMEN_PERF_COMMANDS"), 0, "PERF_COMMANDS after FLR")
    ready(d2)
    d2.setup_queue(0, ring(0), 16)
    run_fence(d2, 0, 0x123)


@test()
def system_reset_while_busy(qemu, d):
    ready(d)
    start_long_copy(qemu, d, VICTIM)
    qemu.qmp("system_reset")
    qemu.qmp_wait_event("RESET")
    check_copy_stopped(qemu, d)
    d2 = Lumen(qemu)
    eq(d2.qreg32(VICTIM, "LUMEN_Q_STATUS"), IDLE, "queue STATUS after system reset")
    ready(d2)
    d2.setup_queue(0, ring(0), 16)
    run_fence(d2, 0, 0x456)


@test()
def quit_while_busy(qemu, d):
    ready(d)
    start_long_copy(qemu, d, VICTIM)
    eq(qemu.close(), 0, "QEMU exit status on SIGTERM with a busy engine")


ROOT_PORT = ["-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
             "-device", "pcie-root-port,id=rp1,bus=pcie.0,addr=0x3,chassis=1,slot=1"]


def program_root_port(qemu):
    """Firmware work: bus numbers and windows of the root port at 00:03.0."""
    rp = PciFunction(qemu, 0, 3)
    rp.write32(0x18, 0x00010100)                    # primary 0, secondary 1, subordinate 1
    rp.write32(0x20, 0xE1F0E000)                    # memory window 0xe0000000..0xe1ffffff
    rp.write32(0x24, 0x0FF00000)                    # prefetchable window ..
    rp.write32(0x28, 0x1)                           # .. 0x1_0000_0000 ..
    rp.write32(0x2C, 0x1)                           # .. 0x1_0fff_ffff
    rp.write16(0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
    return rp


@test(device_args=None, extra_args=ROOT_PORT + ["-device", "lumen,id=lumen0,bus=rp1"],
      setup=False)
def hot_unplug_while_busy(qemu, d):
    rp = program_root_port(qemu)
    d = Lumen(qemu, bus_range=[1])
    ready(d)
    start_long_copy(qemu, d, VICTIM)
    qemu.qmp("device_del", id="lumen0")
    # Play the guest's pciehp: power the slot off, which completes the unplug.
    exp = rp.find_cap(0x10)
    sltctl = rp.read16(exp + 0x18)
    rp.write16(exp + 0x18, (sltctl & ~0x0300) | 0x0300 | 0x0400)
    qemu.qmp_wait_event("DEVICE_DELETED")
    check(find_function(qemu, 0x1234, 0x4C4E, [1]) is None, "function gone from bus 1")
    check_copy_stopped(qemu, d)
    eq(qemu.qmp("query-status")["status"], "running", "QEMU still running")
    # Plug a new one into the same slot; it must come up clean.
    rp.write16(exp + 0x18, sltctl)
    qemu.qmp("device_add", driver="lumen", id="lumen1", bus="rp1", queues=2)
    d2 = Lumen(qemu, bus_range=[1])
    eq(d2.reg32("LUMEN_REG_NUM_QUEUES"), 2, "new device's NUM_QUEUES")
    ready(d2)
    d2.setup_queue(0, ring(0), 16)
    run_fence(d2, 0, 0x777)


@test(device_args=None, extra_args=["-device", "pcie-root-port,id=rp1,bus=pcie.0,"
                                    "addr=0x3,chassis=1,slot=1",
                                    "-device", "lumen,id=lumen0,bus=rp1"], setup=False)
def device_del_acpi_hotplug(qemu, d):
    """The default q35 set-up: ACPI hot-plug, completed by a system reset."""
    for i in range(3):
        qemu.qmp("device_del", id="lumen%d" % i)
        qemu.qmp("system_reset")
        qemu.qmp_wait_event("DEVICE_DELETED")
        qemu.qmp("device_add", driver="lumen", id="lumen%d" % (i + 1), bus="rp1")
    program_root_port(qemu)
    d = Lumen(qemu, bus_range=[1])
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0x999)


# ==== Direct queues (device 1.1) ==============================================

DQ_CTX = 5
DQ_VA = 0x7E_0000_0000              # the ring of a direct queue, in its context
DQ_DATA = DQ_VA + 0x100000          # its data
DQ_PA = 0x0B00_0000                 # backing pages (4 MiB)
DB = {k[len("LUMEN_DB_"):]: v for k, v in R.items() if k.startswith("LUMEN_DB_")}


def queue_ctx_addr(d, q):
    return d.bar0 + R["LUMEN_QUEUE_CTX_BASE"] + 4 * q


def queue_ctx(d, q):
    return d.q.readl(queue_ctx_addr(d, q))


def set_queue_ctx(d, q, ctx):
    d.q.writel(queue_ctx_addr(d, q), ctx)


class Direct:
    """Queue @q bound to context @ctx as a driver would bind it: its ring of
    @size entries at @va, mapped read-only (the device only reads it) onto
    the 4 KiB pages @pages (bus addresses, or device-memory offsets when
    @devmem).  The test writes ring entries at those pages."""

    def __init__(self, qemu, d, q, ctx, pt, size=16, va=DQ_VA, pages=None,
                 engine=None, devmem=False, map_ring=True, enable=True):
        self.qemu, self.d, self.q, self.size, self.devmem = qemu, d, q, size, devmem
        npages = max(1, size * 64 // PAGE)
        self.pages = pages or [DQ_PA + q * 0x10000 + i * PAGE for i in range(npages)]
        if map_ring:
            for i, p in enumerate(self.pages):
                pt.map(va + i * PAGE, p, PAGE, writable=False, devmem=devmem)
        set_queue_ctx(d, q, ctx)
        d.qset64(q, "LUMEN_Q_RING_BASE", va)
        d.qset32(q, "LUMEN_Q_RING_SIZE", size)
        if engine is not None:
            d.qset32(q, "LUMEN_Q_ENGINE", engine)
        self.tail = 0
        if enable:
            self.enable()

    def enable(self):
        self.d.qset32(self.q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_ENABLE"])

    def entry_addr(self, index):
        off = index * 64
        base = self.pages[off // PAGE] + off % PAGE
        return BAR2_ADDR + base if self.devmem else base

    def submit(self, cmds, ring_doorbell=True):
        for c in cmds:
            self.qemu.memwrite(self.entry_addr(self.tail), c)
            self.tail = (self.tail + 1) % self.size
        if ring_doorbell:
            self.d.doorbell(self.q, self.tail)
        return self.tail


def dq_setup(qemu, d, ctx=DQ_CTX):
    """Context @ctx with a read-only source page, a writable destination
    and fence page, and a writable device-memory page."""
    ready(d)
    pt = context(qemu, d, ctx)
    pt.map(DQ_DATA, SRC, 4 * PAGE, writable=False)
    pt.map(DQ_DATA + 0x10000, DST, 4 * PAGE)
    pt.map(DQ_DATA + 0x20000, FENCES + 0x1000, PAGE)
    pt.map(DQ_DATA + 0x30000, 0x5000, PAGE, devmem=True)
    qemu.memset(FENCES + 0x1000, PAGE, 0)
    return pt


DQ_SRC, DQ_DST = DQ_DATA, DQ_DATA + 0x10000
DQ_F, DQ_DM = DQ_DATA + 0x20000, DQ_DATA + 0x30000     # fence page: FENCES + 0x1000


@test()
def queue_ctx_register(qemu, d):
    for q in range(16):
        eq(queue_ctx(d, q), 0, "QUEUE_CTX(%d) at reset" % q)
    set_queue_ctx(d, 3, 5)
    eq(queue_ctx(d, 3), 5, "QUEUE_CTX(3) = 5")
    eq(d.qreg32(3, "LUMEN_Q_CONTEXT"), 5, "Q_CONTEXT of a bound, idle queue")
    set_queue_ctx(d, 3, 63)
    eq(queue_ctx(d, 3), 63, "QUEUE_CTX(3) = 63")
    for bad in (64, 65, 0x100, 0xFFFF_FFFF):
        set_queue_ctx(d, 3, bad)
        eq(queue_ctx(d, 3), 63, "QUEUE_CTX %#x refused" % bad)
    check("QUEUE_CTX 64 is no context" in qemu.log(), "refused value logged")
    eq(queue_ctx(d, 2), 0, "neighbour untouched")
    eq(queue_ctx(d, 4), 0, "neighbour untouched")
    # A 64-bit write covers two queues' registers, lower first.
    qemu.writeq(queue_ctx_addr(d, 6), 7 | 9 << 32)
    eq(queue_ctx(d, 6), 7, "QUEUE_CTX(6) from a 64-bit write")
    eq(queue_ctx(d, 7), 9, "QUEUE_CTX(7) from a 64-bit write")
    eq(qemu.readq(queue_ctx_addr(d, 6)), 7 | 9 << 32, "64-bit read of two")
    # No queue 16: reads 0, writes ignored.
    set_queue_ctx(d, 16, 5)
    eq(queue_ctx(d, 16), 0, "QUEUE_CTX(16) of a 16-queue device")
    eq(queue_ctx(d, 63), 0, "QUEUE_CTX(63) of a 16-queue device")
    check("undefined register 0x2240" in qemu.log(), "absent queue's register logged")
    # Writes while enabled are ignored; the root is not checked at enable.
    ready(d)
    set_queue_ctx(d, 3, 9)
    d.setup_queue(3, DQ_VA, 16)
    eq(d.qreg32(3, "LUMEN_Q_STATUS"), ENABLED | IDLE, "enabled without a root for 9")
    eq(d.qreg32(3, "LUMEN_Q_ERROR"), 0, "no error at enable")
    set_queue_ctx(d, 3, 4)
    set_queue_ctx(d, 3, 0)
    eq(queue_ctx(d, 3), 9, "QUEUE_CTX while enabled")
    check("write to register 0x220c of enabled queue 3 ignored" in qemu.log(),
          "write while enabled logged")
    # Disable: writable again.  Queue reset keeps it.
    d.qset32(3, "LUMEN_Q_CONTROL", 0)
    set_queue_ctx(d, 3, 8)
    eq(queue_ctx(d, 3), 8, "QUEUE_CTX once disabled")
    d.qset32(3, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    eq(queue_ctx(d, 3), 8, "QUEUE_CTX kept by a queue reset")
    eq(d.qreg32(3, "LUMEN_Q_CONTEXT"), 8, "Q_CONTEXT after the queue reset")
    eq(d.qreg64(3, "LUMEN_Q_RING_BASE"), DQ_VA, "RING_BASE kept too")
    set_queue_ctx(d, 3, 0)
    eq(queue_ctx(d, 3), 0, "back to a kernel queue")
    eq(d.qreg32(3, "LUMEN_Q_CONTEXT"), 0, "Q_CONTEXT of a kernel queue")
    # A device reset clears every one.
    for q in (0, 3, 15):
        set_queue_ctx(d, q, 1 + q)
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    for q in (0, 3, 15):
        eq(queue_ctx(d, q), 0, "QUEUE_CTX(%d) after CONTROL.RESET" % q)
        eq(d.qreg32(q, "LUMEN_Q_CONTEXT"), 0, "Q_CONTEXT(%d) after CONTROL.RESET" % q)


@test(device_args="queues=64")
def queue_ctx_all_queues(qemu, d):
    for q in range(64):
        set_queue_ctx(d, q, 63 - q if q != 63 else 1)
    for q in range(64):
        eq(queue_ctx(d, q), 63 - q if q != 63 else 1, "QUEUE_CTX(%d)" % q)
    eq(d.reg32("LUMEN_PERF_BASE"), 0, "the block ends before the counters")


@test()
def queue_ctx_cleared_by_flr_and_system_reset(qemu, d):
    set_queue_ctx(d, 1, 7)
    exp = d.pci.find_cap(0x10)
    d.pci.write16(exp + 8, d.pci.read16(exp + 8) | 0x8000)     # Initiate FLR
    d = Lumen(qemu)
    eq(queue_ctx(d, 1), 0, "QUEUE_CTX after FLR")
    set_queue_ctx(d, 1, 7)
    eq(queue_ctx(d, 1), 7, "QUEUE_CTX set again")
    qemu.qmp("system_reset")
    qemu.qmp_wait_event("RESET")
    d = Lumen(qemu)
    eq(queue_ctx(d, 1), 0, "QUEUE_CTX after system reset")


@test()
def direct_queue_runs_in_its_context(qemu, d):
    """Every ring entry of a bound queue runs in its context: COPY, FILL,
    TIMESTAMP, FENCE (with its interrupt), WAIT and an INDIRECT that stays;
    the ring spans two scattered pages and wraps."""
    d.enable_msix()
    pt = dq_setup(qemu, d)
    data = random_bytes(3 * PAGE, 61)
    qemu.memwrite(SRC, data)
    qemu.memset(DST, 4 * PAGE, 0xCC)
    qemu.memset(BAR2_ADDR + 0x5000, PAGE, 0)
    ib = put_ib(qemu, pt, DQ_DATA + 0x40000, IBS, [fence(DQ_F + 16, 0x55),
                                                    copy(DQ_SRC, DQ_DST + 0x3000, 16)])
    # 128 entries: two ring pages, the second one mapped first in RAM.
    dq = Direct(qemu, d, 2, DQ_CTX, pt, size=128,
                pages=[DQ_PA + 0x3000, DQ_PA + 0x1000], engine=1)
    eq(d.qreg32(2, "LUMEN_Q_CONTEXT"), DQ_CTX, "Q_CONTEXT before any work")
    qemu.clock_step(1234)
    ts = d.reg64("LUMEN_REG_TIMESTAMP")
    pattern = 0x0123456789ABCDEF
    dq.submit([nop(), copy(DQ_SRC + 10, DQ_DST + 20, 3 * PAGE - 100),
               fill(DQ_DM + 8, 40, pattern), timestamp(DQ_F),
               fence(DQ_F + 8, 0x1234, irq=True), indirect(DQ_DATA + 0x40000, ib, 0)])
    eq(d.wait_idle(2), ENABLED | IDLE, "status")
    eq(d.qreg64(2, "LUMEN_Q_COMPLETED"), 6, "COMPLETED")
    got = qemu.memread(DST, 4 * PAGE)
    eq(got[:20], b"\xcc" * 20, "bytes before the copy")
    check(got[20:20 + 3 * PAGE - 100] == data[10:3 * PAGE - 90], "COPY VA to VA")
    eq(got[20 + 3 * PAGE - 100:20 + 3 * PAGE - 90], b"\xcc" * 10, "bytes after the copy")
    eq(got[0x3000:0x3010], data[:16], "the IB's COPY")
    eq(qemu.memread(BAR2_ADDR + 0x5008, 40), (pattern.to_bytes(8, "little") * 5),
       "FILL through a DEVMEM PTE")
    eq(qemu.readq(FENCES + 0x1000), ts, "TIMESTAMP at a VA")
    eq(qemu.readq(FENCES + 0x1008), 0x1234, "FENCE at a VA")
    eq(qemu.readq(FENCES + 0x1010), 0x55, "FENCE inside the IB (ran in the context)")
    eq(d.wait_value(lambda: d.msi_count(2), 0xA002), 0xA002, "the queue's vector")
    eq(d.qreg32(2, "LUMEN_Q_CONTEXT"), DQ_CTX, "Q_CONTEXT at ring level")
    # Across the page boundary of the ring (entry 64) and around it.
    dq.submit([nop()] * 60 + [fence(DQ_F + 24, 0x77)])
    eq(d.wait_idle(2), ENABLED | IDLE, "status across the ring pages")
    eq(qemu.readq(FENCES + 0x1018), 0x77, "entry 66 (second ring page)")
    dq.submit([nop()] * 60 + [fence(DQ_F + 32, 0x99)])
    eq(d.wait_idle(2), ENABLED | IDLE, "status after the wrap")
    eq(qemu.readq(FENCES + 0x1020), 0x99, "entry 127 + 1 (wrapped)")
    eq(d.qreg32(2, "LUMEN_Q_HEAD"), (6 + 61 + 61) % 128, "HEAD")
    eq(d.qreg64(2, "LUMEN_Q_COMPLETED"), 6 + 61 + 61, "COMPLETED")
    eq(d.qreg32(2, "LUMEN_Q_ERROR"), 0, "no error")


@test()
def direct_queue_wait_parks(qemu, d):
    """A ring-level WAIT of a bound queue reads its semaphore at a VA, parks
    without holding the engine and resumes on a CPU store."""
    pt = dq_setup(qemu, d)
    qemu.writeq(FENCES + 0x1100, 0)
    dq = Direct(qemu, d, 0, DQ_CTX, pt, engine=0)
    d.setup_queue(1, ring(1), 16, engine=0)
    dq.submit([wait(DQ_F + 0x100, 3), fence(DQ_F, 1)])
    wait_for_status(d, 0, WAITING)
    eq(d.qreg32(0, "LUMEN_Q_CONTEXT"), DQ_CTX, "Q_CONTEXT while waiting")
    run_fence(d, 1, 0xB)
    qemu.writeq(FENCES + 0x1100, 2)
    time.sleep(0.05)
    eq(qemu.readq(FENCES + 0x1000), 0, "2 < 3: still waiting")
    qemu.writeq(FENCES + 0x1100, 3)
    eq(d.wait_idle(0, timeout=2), ENABLED | IDLE, "released")
    eq(qemu.readq(FENCES + 0x1000), 1, "the FENCE after the WAIT")


def dq_expect_error(qemu, d, q, code, head, completed):
    st = d.wait_idle(q)
    eq(st & ERROR, ERROR, "queue %d STATUS.ERROR" % q)
    eq(d.qreg32(q, "LUMEN_Q_ERROR"), code, "queue %d ERROR" % q)
    eq(d.qreg32(q, "LUMEN_Q_ERROR_HEAD"), head, "queue %d ERROR_HEAD" % q)
    eq(d.qreg64(q, "LUMEN_Q_COMPLETED"), completed, "queue %d COMPLETED" % q)
    eq(d.reg64("LUMEN_REG_ERROR_QUEUES") & (1 << q), 1 << q, "ERROR_QUEUES bit")


def dq_reset(d, q):
    d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    eq(d.qreg32(q, "LUMEN_Q_ERROR"), 0, "ERROR after RESET")


@test()
def direct_indirect_must_stay(qemu, d):
    """A ring-level INDIRECT of a bound queue must name context 0 (run the IB
    in the queue's context); any other value, even the queue's own context,
    is BAD_CMD.  Kernel queues still name contexts."""
    pt = dq_setup(qemu, d)
    other = context(qemu, d, 1)
    other.map(DQ_DATA + 0x20000, FENCES + 0x2000, PAGE)
    for p in (pt, other):
        put_ib(qemu, p, DQ_DATA + 0x40000, IBS, [fence(DQ_F + 8, 0x66)])
    d.setup_queue(0, ring(0), 16)
    dq = Direct(qemu, d, 1, DQ_CTX, pt)
    for arg2 in (DQ_CTX, 1, 63, 64, 1 << 32, U64):
        qemu.writeq(FENCES + 0x1000, 0)
        dq.submit([nop(), fence(DQ_F, 5), indirect(DQ_DATA + 0x40000, 64, arg2), nop()])
        dq_expect_error(qemu, d, 1, ERR["BAD_CMD"], head=2, completed=2)
        eq(qemu.readq(FENCES + 0x1000), 5, "arg2 %#x: entries before it ran" % arg2)
        eq(qemu.readq(FENCES + 0x1008), 0, "arg2 %#x: the IB did not run" % arg2)
        eq(qemu.readq(FENCES + 0x2008), 0, "arg2 %#x: nothing in context 1" % arg2)
        eq(d.qreg32(1, "LUMEN_Q_FAULT_INFO"), 0, "arg2 %#x: no fault" % arg2)
        eq(d.qreg32(1, "LUMEN_Q_CONTEXT"), DQ_CTX, "arg2 %#x: Q_CONTEXT" % arg2)
        dq_reset(d, 1)
        dq.tail = 0
        dq.enable()
    # The kernel queue may still run an IB in context 1 or DQ_CTX.
    d.submit(0, [indirect(DQ_DATA + 0x40000, 64, 1), indirect(DQ_DATA + 0x40000, 64, DQ_CTX)])
    eq(d.wait_idle(0), ENABLED | IDLE, "kernel queue")
    eq(qemu.readq(FENCES + 0x2008), 0x66, "kernel queue's IB in context 1")
    eq(qemu.readq(FENCES + 0x1008), 0x66, "kernel queue's IB in context 5")
    # In the bound queue, arg2 == 0 runs the IB in its context; a nested
    # INDIRECT naming a context is refused as always.
    qemu.writeq(FENCES + 0x1008, 0)
    dq.submit([indirect(DQ_DATA + 0x40000, 64, 0)])
    eq(d.wait_idle(1), ENABLED | IDLE, "INDIRECT with arg2 0")
    eq(qemu.readq(FENCES + 0x1008), 0x66, "its IB ran in the queue's context")
    nested = put_ib(qemu, pt, DQ_DATA + 0x50000, IBS + 0x1000,
                    [indirect(DQ_DATA + 0x40000, 64, DQ_CTX)])
    dq.submit([indirect(DQ_DATA + 0x50000, nested, 0)])
    dq_expect_error(qemu, d, 1, ERR["BAD_CMD"], head=1, completed=1)


@test()
def direct_queue_addresses_are_vas(qemu, d):
    """Context 0's address forms mean nothing in a bound queue: a bus address
    is a VA of the context (here unmapped), the DEVMEM bit makes a VA beyond
    2^48.  Nothing reaches memory; each stops only the queue."""
    pt = dq_setup(qemu, d)
    d.setup_queue(0, ring(0), 16, engine=1)
    qemu.writeq(FENCES, 0)
    qemu.writeq(BAR2_ADDR, 0)
    cases = [
        (fence(FENCES, 0xBAD), FENCES, FAULT["NOT_PRESENT"], True),
        (copy(SRC, DQ_DST, 8), SRC, FAULT["NOT_PRESENT"], False),
        (fill(DEVMEM, 8, 0xBAD), DEVMEM, FAULT["VA_RANGE"], True),
        (wait(DEVMEM | 8, 1), DEVMEM | 8, FAULT["VA_RANGE"], False),
        (indirect(IBS, 64, 0), IBS, FAULT["NOT_PRESENT"], False),
    ]
    for i, (bad, va, reason, write) in enumerate(cases):
        d.set32("LUMEN_REG_FAULT_STATUS", R["LUMEN_FAULT_VALID"])
        dq = Direct(qemu, d, 2, DQ_CTX, pt, engine=2)
        dq.submit([nop(), bad])
        dq_expect_error(qemu, d, 2, ERR["MMU_FAULT"], head=1, completed=1)
        info = fault_info(reason, write, DQ_CTX, 2)
        eq(d.qreg64(2, "LUMEN_Q_FAULT_VA"), va, "case %d: Q_FAULT_VA" % i)
        eq(d.qreg32(2, "LUMEN_Q_FAULT_INFO"), info, "case %d: Q_FAULT_INFO" % i)
        eq(d.reg32("LUMEN_REG_FAULT_INFO"), info, "case %d: global FAULT_INFO" % i)
        eq(d.reg64("LUMEN_REG_FAULT_VA"), va, "case %d: global FAULT_VA" % i)
        eq(qemu.readq(FENCES), 0, "case %d: bus address not written" % i)
        eq(qemu.readq(BAR2_ADDR), 0, "case %d: device memory not written" % i)
        run_fence(d, 0, 0xB0 + i, addr=FENCES + 0x200)
        dq_reset(d, 2)
        d.qset32(2, "LUMEN_Q_CONTROL", 0)
    eq(d.perf(2, "LUMEN_PERF_FAULTS"), len(cases), "faults counted on the queue's engine")


@test()
def direct_ring_fetch_fault(qemu, d):
    """The ring is read through the context: an unmapped ring page stops the
    queue at that entry with MMU_FAULT and the entry's VA; mapping the page
    (an invalid PTE filled: no invalidation) and a queue reset recover."""
    d.enable_msix()
    pt = dq_setup(qemu, d)
    d.setup_queue(0, ring(0), 16, engine=1)
    pages = [DQ_PA + 0x1000, DQ_PA + 0x2000]
    pt.map(DQ_VA, pages[0], PAGE, writable=False)            # second page unmapped
    dq = Direct(qemu, d, 3, DQ_CTX, pt, size=128, pages=pages, map_ring=False, engine=2)
    dq.submit([nop()] * 64 + [fence(DQ_F, 1)])
    dq_expect_error(qemu, d, 3, ERR["MMU_FAULT"], head=64, completed=64)
    info = fault_info(FAULT["NOT_PRESENT"], False, DQ_CTX, 3)
    eq(d.qreg64(3, "LUMEN_Q_FAULT_VA"), DQ_VA + PAGE, "Q_FAULT_VA: the ring entry")
    eq(d.qreg32(3, "LUMEN_Q_FAULT_INFO"), info, "Q_FAULT_INFO")
    eq(d.qreg32(3, "LUMEN_Q_CONTEXT"), DQ_CTX, "Q_CONTEXT")
    eq(d.reg32("LUMEN_REG_FAULT_STATUS"), R["LUMEN_FAULT_VALID"], "FAULT_STATUS")
    eq(d.reg32("LUMEN_REG_FAULT_INFO"), info, "FAULT_INFO")
    eq(d.reg64("LUMEN_REG_FAULT_VA"), DQ_VA + PAGE, "FAULT_VA")
    eq(d.perf(2, "LUMEN_PERF_FAULTS"), 1, "PERF_FAULTS of the queue's engine")
    ev = d.error_vector()
    eq(d.wait_value(lambda: d.msi_count(ev), 0xA000 + ev), 0xA000 + ev, "error vector")
    eq(qemu.readq(FENCES + 0x1000), 0, "the entry did not run")
    run_fence(d, 0, 0xB1)
    pt.map(DQ_VA + PAGE, pages[1], PAGE, writable=False)
    dq_reset(d, 3)
    eq(d.qreg64(3, "LUMEN_Q_FAULT_VA"), 0, "Q_FAULT_VA after RESET")
    dq.tail = 0
    dq.enable()
    dq.submit([nop()] * 64 + [fence(DQ_F, 2)])
    eq(d.wait_idle(3), ENABLED | IDLE, "after mapping the page")
    eq(qemu.readq(FENCES + 0x1000), 2, "entry 64 ran")


@test()
def direct_ring_fetch_faults(qemu, d):
    """No root, a bad PTE, a page table in device registers: each a fault on
    the ring VA; a ring page on no memory or on our own BAR: a DMA error."""
    ready(d)
    d.setup_queue(0, ring(0), 16, engine=1)
    pt = context(qemu, d, 2)
    cases = [
        (9, lambda: None, ERR["MMU_FAULT"], FAULT["BAD_CONTEXT"]),
        (2, lambda: pt.set_leaf(DQ_VA, DQ_PA | R["LUMEN_PTE_VALID"] | 1 << 7),
         ERR["MMU_FAULT"], FAULT["BAD_PTE"]),
        (2, lambda: pt.set_leaf(DQ_VA, 0), ERR["MMU_FAULT"], FAULT["NOT_PRESENT"]),
        (3, lambda: d.set_root(3, 0xFEC0_0000 | 1), ERR["MMU_FAULT"], FAULT["BAD_PTE"]),
        (2, lambda: pt.set_leaf(DQ_VA, 0x40_0000_0000 | R["LUMEN_PTE_VALID"]),
         ERR["DMA"], 0),
        (2, lambda: pt.set_leaf(DQ_VA, BAR0_ADDR | R["LUMEN_PTE_VALID"]), ERR["DMA"], 0),
        (2, lambda: pt.set_leaf(DQ_VA, DEVMEM_DEFAULT | R["LUMEN_PTE_VALID"] |
                                R["LUMEN_PTE_DEVMEM"]),
         ERR["MMU_FAULT"], FAULT["DEVMEM_RANGE"]),
    ]
    for i, (ctx, prepare, code, reason) in enumerate(cases):
        prepare()
        d.set32("LUMEN_REG_MMU_INVALIDATE", R["LUMEN_MMU_INVALIDATE_ALL"])
        dq = Direct(qemu, d, 1, ctx, pt, map_ring=False, enable=False)
        dq.enable()
        eq(d.qreg32(1, "LUMEN_Q_STATUS"), ENABLED | IDLE, "case %d: enabled, no check" % i)
        d.doorbell(1, 1)
        try:
            dq_expect_error(qemu, d, 1, code, head=0, completed=0)
        except Failure as e:
            raise Failure("case %d: %s" % (i, e))
        if code == ERR["MMU_FAULT"]:
            eq(d.qreg32(1, "LUMEN_Q_FAULT_INFO"), fault_info(reason, False, ctx, 1),
               "case %d: Q_FAULT_INFO" % i)
            eq(d.qreg64(1, "LUMEN_Q_FAULT_VA"), DQ_VA, "case %d: Q_FAULT_VA" % i)
        else:
            eq(d.qreg32(1, "LUMEN_Q_FAULT_INFO"), 0, "case %d: no fault" % i)
        eq(d.qreg32(1, "LUMEN_Q_CONTEXT"), ctx, "case %d: Q_CONTEXT" % i)
        run_fence(d, 0, 0xC0 + i)
        dq_reset(d, 1)
        d.qset32(1, "LUMEN_Q_CONTROL", 0)


@test(device_args="mem=1M")
def direct_ring_in_device_memory(qemu, d):
    """A ring mapped through DEVMEM PTEs is read from device memory."""
    pt = dq_setup(qemu, d)
    dq = Direct(qemu, d, 0, DQ_CTX, pt, size=64, pages=[0x8000], devmem=True)
    dq.submit([nop(), fence(DQ_F, 0x4D)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    eq(qemu.readq(FENCES + 0x1000), 0x4D, "entry fetched from device memory ran")


@test()
def direct_ring_range_at_enable(qemu, d):
    """A bound ring must lie below 2^48 (checked at enable: BAD_RING); a
    kernel queue's ring is a bus address, as in device 1.0."""
    ready(d)
    top = 1 << 48
    cases = [(top, 16, ERR["BAD_RING"]), (top - PAGE, 128, ERR["BAD_RING"]),
             (U64 & ~0xFFF, 16, ERR["BAD_RING"]), (DQ_VA + 0x800, 16, ERR["BAD_RING"]),
             (DQ_VA, 3, ERR["BAD_RING"]), (top - 2 * PAGE, 128, 0), (0, 16, 0)]
    for base, size, code in cases:
        set_queue_ctx(d, 1, DQ_CTX)
        d.setup_queue(1, base, size)
        eq(d.qreg32(1, "LUMEN_Q_ERROR"), code, "ring %#x x %d: ERROR" % (base, size))
        dq_reset(d, 1)
        d.qset32(1, "LUMEN_Q_CONTROL", 0)
    set_queue_ctx(d, 1, 0)
    d.setup_queue(1, top, 16)
    eq(d.qreg32(1, "LUMEN_Q_ERROR"), 0, "kernel queue: a bus address above 2^48 enables")


@test()
def direct_ring_fetch_uses_the_tlb(qemu, d):
    """The ring fetch goes through the engine's TLB: a changed ring PTE takes
    effect only after MMU_INVALIDATE of the context."""
    pt = dq_setup(qemu, d)
    p1, p2 = DQ_PA, DQ_PA + 0x1000
    dq = Direct(qemu, d, 0, DQ_CTX, pt, pages=[p1])
    dq.submit([fence(DQ_F, 1)])
    eq(d.wait_idle(0), ENABLED | IDLE, "first entry")
    qemu.memwrite(p1 + 64, fence(DQ_F, 0x11))
    qemu.memwrite(p2 + 64, fence(DQ_F, 0x22))
    pt.map(DQ_VA, p2, PAGE, writable=False)
    d.doorbell(0, 2)
    eq(d.wait_idle(0), ENABLED | IDLE, "second entry")
    eq(qemu.readq(FENCES + 0x1000), 0x11, "stale translation until invalidated")
    qemu.memwrite(p1 + 128, fence(DQ_F, 0x13))
    qemu.memwrite(p2 + 128, fence(DQ_F, 0x23))
    d.set32("LUMEN_REG_MMU_INVALIDATE", DQ_CTX)
    d.doorbell(0, 3)
    eq(d.wait_idle(0), ENABLED | IDLE, "third entry")
    eq(qemu.readq(FENCES + 0x1000), 0x23, "new page after MMU_INVALIDATE")


@test(device_args=FI)
def direct_ring_fetch_fault_injection(qemu, d):
    pt = dq_setup(qemu, d)
    dq = Direct(qemu, d, 0, DQ_CTX, pt)
    d.set32("LUMEN_FI_MMU_FAULT", 1)
    dq.submit([fence(DQ_F, 1)])
    dq_expect_error(qemu, d, 0, ERR["MMU_FAULT"], head=0, completed=0)
    eq(d.qreg32(0, "LUMEN_Q_FAULT_INFO"), fault_info(FAULT["INJECTED"], False, DQ_CTX, 0),
       "injected fault on the ring fetch")
    eq(d.qreg64(0, "LUMEN_Q_FAULT_VA"), DQ_VA, "its VA")
    dq_reset(d, 0)
    # A failed table read is a fault (BAD_PTE) ...
    d.set32("LUMEN_FI_FAIL_DMA", 1)
    dq.tail = 0
    dq.enable()
    dq.submit([fence(DQ_F, 2)])
    dq_expect_error(qemu, d, 0, ERR["MMU_FAULT"], head=0, completed=0)
    eq(d.qreg32(0, "LUMEN_Q_FAULT_INFO"), fault_info(FAULT["BAD_PTE"], False, DQ_CTX, 0),
       "unreadable table on the ring fetch")
    dq_reset(d, 0)
    # ... a failed read of the ring page itself (translation in the TLB) is DMA.
    dq.tail = 0
    dq.enable()
    dq.submit([fence(DQ_F, 2)])
    eq(d.wait_idle(0), ENABLED | IDLE, "fills the TLB")
    d.set32("LUMEN_FI_FAIL_DMA", 1)
    dq.submit([fence(DQ_F, 4)])
    dq_expect_error(qemu, d, 0, ERR["DMA"], head=1, completed=1)
    eq(d.qreg32(0, "LUMEN_Q_FAULT_INFO"), 0, "no fault for a DMA error")
    eq(qemu.readq(FENCES + 0x1000), 2, "the entry did not run")
    dq_reset(d, 0)
    dq.tail = 0
    dq.enable()
    dq.submit([fence(DQ_F, 3)])
    eq(d.wait_idle(0), ENABLED | IDLE, "runs again")
    eq(qemu.readq(FENCES + 0x1000), 3, "fence")


@test()
def doorbell_views(qemu, d):
    """Doorbell page q shows queue q's HEAD, STATUS, ERROR and COMPLETED,
    read-only, for kernel and direct queues alike."""
    pt = dq_setup(qemu, d)
    d.setup_queue(0, ring(0), 16)
    dq = Direct(qemu, d, 1, DQ_CTX, pt)
    qemu.writeq(FENCES + 0x1100, 0)
    dq.submit([nop(), nop(), nop(), wait(DQ_F + 0x100, 1)])
    d.submit(0, [nop()] * 5)
    d.wait_idle(0)
    wait_for_status(d, 1, WAITING)

    def view(q, name, size=4):
        a = d.bar4 + q * R["LUMEN_DOORBELL_STRIDE"] + DB[name]
        return qemu.readq(a) if size == 8 else qemu.readl(a)

    for q in (0, 1):
        for name, reg in (("TAIL", "LUMEN_Q_TAIL"), ("HEAD", "LUMEN_Q_HEAD"),
                          ("STATUS", "LUMEN_Q_STATUS"), ("ERROR", "LUMEN_Q_ERROR")):
            eq(view(q, name), d.qreg32(q, reg), "queue %d %s view" % (q, name))
        eq(view(q, "COMPLETED", 8), d.qreg64(q, "LUMEN_Q_COMPLETED"), "queue %d COMPLETED" % q)
    eq(view(0, "HEAD"), 5, "queue 0 HEAD")
    eq(view(0, "COMPLETED"), 5, "queue 0 COMPLETED low half")
    eq(view(0, "COMPLETED") | 0, 5, "queue 0 COMPLETED")
    eq(qemu.readl(d.bar4 + DB["COMPLETED"] + 4), 0, "queue 0 COMPLETED high half")
    eq(view(0, "STATUS"), ENABLED | IDLE, "queue 0 STATUS")
    eq(view(1, "HEAD"), 3, "queue 1 HEAD on the WAIT")
    eq(view(1, "STATUS"), ENABLED | WAITING, "queue 1 STATUS")
    # 64-bit reads of other pairs: two words, lower first.
    eq(qemu.readq(d.bar4 + 0x1000), 4 | 3 << 32, "queue 1 TAIL | HEAD << 32")
    eq(qemu.readq(d.bar4 + 0x1008), (ENABLED | WAITING), "queue 1 STATUS | ERROR << 32")
    # Writes to the views are ignored.
    for name in ("HEAD", "STATUS", "ERROR", "COMPLETED"):
        qemu.writel(d.bar4 + 0x1000 + DB[name], 0xFFFF_FFFF)
    qemu.writel(d.bar4 + 0x1000 + DB["COMPLETED"] + 4, 0xFFFF_FFFF)
    qemu.writeq(d.bar4 + 0x1000 + DB["COMPLETED"], U64)
    eq(d.qreg32(1, "LUMEN_Q_HEAD"), 3, "HEAD after writes to the views")
    eq(d.qreg32(1, "LUMEN_Q_ERROR"), 0, "ERROR after writes to the views")
    eq(d.qreg64(1, "LUMEN_Q_COMPLETED"), 3, "COMPLETED after writes to the views")
    eq(d.qreg32(1, "LUMEN_Q_STATUS"), ENABLED | WAITING, "STATUS after writes")
    check("write to read-only doorbell BAR offset 0x1004 ignored" in qemu.log(),
          "view write logged")
    # Past the views, and pages of absent queues: 0, logged.
    eq(qemu.readl(d.bar4 + 0x1018), 0, "word after the views")
    eq(qemu.readl(d.bar4 + 0xFFC), 0, "end of page 0")
    # An error shows in the views.
    qemu.writeq(FENCES + 0x1100, 1)
    d.wait_idle(1)
    dq.submit([cmd(0x7F)])
    d.wait_idle(1)
    eq(view(1, "ERROR"), ERR["BAD_OPCODE"], "ERROR view")
    eq(view(1, "STATUS"), ENABLED | ERROR, "STATUS view on an error")
    eq(view(1, "HEAD"), 4, "HEAD view on the bad entry")
    eq(view(1, "COMPLETED", 8), 4, "COMPLETED view")
    # A queue reset and a device reset show in the views.
    d.qset32(1, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    eq(view(1, "ERROR"), 0, "ERROR view after RESET")
    eq(view(1, "COMPLETED", 8), 0, "COMPLETED view after RESET")
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    eq(view(0, "HEAD"), 0, "HEAD view after CONTROL.RESET")
    eq(view(0, "STATUS"), IDLE, "STATUS view after CONTROL.RESET")


@test(device_args="queues=5")
def doorbell_views_absent_queues(qemu, d):
    for q in (5, 6, 7):
        for off in (0, 4, 8, 0xC, 0x10, 0x14):
            a = d.bar4 + q * 0x1000 + off
            qemu.writel(a, 1)
            eq(qemu.readl(a), 0, "page %d offset %#x" % (q, off))
        eq(qemu.readq(d.bar4 + q * 0x1000 + 0x10), 0, "page %d COMPLETED" % q)
    check("no doorbell register" in qemu.log(), "logged")
    ready(d)
    d.setup_queue(4, ring(4), 16)
    run_fence(d, 4, 0x44)


@test()
def direct_queue_shares_its_engine(qemu, d):
    """A bound queue whose IBs run ~1M commands gets its turns like any
    queue: a kernel queue and another bound queue on the same engine run
    meanwhile (64 commands per turn)."""
    pt = dq_setup(qemu, d)
    nops = R["LUMEN_IB_MAX_SIZE"]
    qemu.memset(IBS, nops, 0)                                   # 65536 NOPs
    pt.map(VA_BASE, IBS, nops, writable=False)
    calls = R["LUMEN_IB_MAX_COMMANDS"] // (nops // 64) - 1     # 15 calls
    qemu.memwrite(IBS + nops, indirect(VA_BASE, nops, 0) * calls)
    pt.map(VA_BASE + nops, IBS + nops, PAGE, writable=False)
    long_q = Direct(qemu, d, 0, DQ_CTX, pt, engine=1)
    other = Direct(qemu, d, 1, DQ_CTX, pt, engine=1, va=DQ_VA + 0x10000,
                   pages=[DQ_PA + 0x20000])
    d.setup_queue(2, ring(2), 16, engine=1)
    # Eight entries of ~1M commands each: well over a second of work.
    long_q.submit([indirect(VA_BASE + nops, 64 * calls, 0)] * 8 + [fence(DQ_F, 1)])
    other.submit([fence(DQ_F + 8, 2)])
    d.submit(2, [fence(FENCES + 0x10, 3)])
    eq(d.wait_idle(1), ENABLED | IDLE, "the other bound queue ran")
    eq(d.wait_idle(2), ENABLED | IDLE, "the kernel queue ran")
    done = d.qreg64(0, "LUMEN_Q_COMPLETED")
    check(done < 8, "the long queue still runs (%d of 8 entries done)" % done)
    eq(d.qreg32(0, "LUMEN_Q_CONTEXT"), DQ_CTX, "Q_CONTEXT inside its IB")
    eq(qemu.readq(FENCES + 0x1008), 2, "the other bound queue's fence")
    eq(qemu.readq(FENCES + 0x10), 3, "the kernel queue's fence")
    eq(d.wait_idle(0, timeout=120), ENABLED | IDLE, "the long entries finished")
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 9, "COMPLETED")
    eq(qemu.readq(FENCES + 0x1000), 1, "the fence after them")


def start_long_copy_direct(qemu, d, q):
    """The 2^39-byte copy of start_long_copy(), as a ring entry of a queue
    bound to LONG_CTX whose ring is mapped at 2^40 + 2 MiB."""
    qemu.memset(BIG_SRC, 2 * MiB, 0x5A)
    qemu.memset(BIG_DST, 2 * MiB, 0)
    pt = PageTables(qemu, LONG_TABLES + 0x10000, 0x10000)
    src_l2 = aliased_tables(qemu, LONG_TABLES, BIG_SRC, False)
    dst_l2 = aliased_tables(qemu, LONG_TABLES + 0x3000, BIG_DST, True)
    qemu.writeq(pt.root + 0, src_l2 | R["LUMEN_PTE_VALID"])
    qemu.writeq(pt.root + 8, dst_l2 | R["LUMEN_PTE_VALID"])
    pt.map((1 << 40) + 0x1000, FENCES + 0x800 & ~0xFFF, PAGE)
    d.set_root(LONG_CTX, pt.root_value())
    dq = Direct(qemu, d, q, LONG_CTX, pt, va=1 << 40, engine=0)
    dq.submit([copy(0, 1 << 39, 1 << 39), fence((1 << 40) + 0x1800, 1)])
    got = d.wait_value(lambda: qemu.readq(BIG_DST), 0x5A5A5A5A5A5A5A5A)
    eq(got, 0x5A5A5A5A5A5A5A5A, "the long copy is running")
    eq(d.qreg32(q, "LUMEN_Q_STATUS") & IDLE, 0, "queue busy")
    return dq


@test()
def direct_queue_reset_while_busy(qemu, d):
    """A queue reset stops a bound queue's running entry: no write after it
    returns; QUEUE_CTX stays, and the queue runs again."""
    ready(d)
    qemu.writeq(FENCES + 0x800, 0)
    start_long_copy_direct(qemu, d, VICTIM)
    d.qset32(VICTIM, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
    eq(d.qreg32(VICTIM, "LUMEN_Q_STATUS"), IDLE, "STATUS right after RESET")
    check_copy_stopped(qemu, d)
    eq(queue_ctx(d, VICTIM), LONG_CTX, "QUEUE_CTX kept")
    d.setup_queue(BYSTANDER, ring(BYSTANDER), 16, engine=0)
    run_fence(d, BYSTANDER, 0x1)


@test()
def direct_queue_device_reset_while_busy(qemu, d):
    ready(d)
    qemu.writeq(FENCES + 0x800, 0)
    start_long_copy_direct(qemu, d, VICTIM)
    d.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_RESET"])
    check_copy_stopped(qemu, d)
    eq(queue_ctx(d, VICTIM), 0, "QUEUE_CTX cleared by CONTROL.RESET")
    ready(d)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0x2)


@test()
def hostile_direct_queues(qemu, d):
    """Bound queues with random contexts (some without a root), random ring
    bases and random commands; random QUEUE_CTX writes at any time: every
    queue ends idle, stopped or waiting; QEMU survives."""
    ready(d)
    rng = random.Random(71)
    pts = {c: context(qemu, d, c) for c in (1, 2)}
    for c, pt in pts.items():
        pt.map(VA_BASE, IBS, 1 << 18)
        pt.map(VA_BASE + (1 << 18), DST, 1 << 16)
        pt.map(DQ_VA, DQ_PA + c * 0x40000, 0x40000, writable=False)
        qemu.writeq(pt.entry_addr(VA_BASE + (1 << 30), 1),
                    (TABLES + 0xF0000) | R["LUMEN_PTE_VALID"])
    qemu.memwrite(TABLES + 0xF0000, random_bytes(4096, 72))
    qemu.memwrite(IBS, b"".join(random_command(rng, [0, 1, 2]) for _ in range(1 << 12)))
    for c in (1, 2):
        qemu.memwrite(DQ_PA + c * 0x40000,
                      b"".join(random_command(rng, [0, 1, 2]) for _ in range(4096)))
    for rnd in range(6):
        for q in range(8):
            d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
            ctx = rng.choice((1, 2, 1, 2, 3, 63))
            set_queue_ctx(d, q, ctx)
            base = rng.choice((DQ_VA, DQ_VA, DQ_VA + rng.randrange(0, 64) * PAGE,
                               (1 << 48) - PAGE, rng.getrandbits(64) & ~0xFFF))
            d.qset64(q, "LUMEN_Q_RING_BASE", base)
            d.qset32(q, "LUMEN_Q_RING_SIZE", 4096)
            d.qset32(q, "LUMEN_Q_ENGINE", q % 5)
            d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_ENABLE"])
            d.doorbell(q, rng.randrange(1, 4096))
            set_queue_ctx(d, q, rng.getrandbits(32))            # ignored: enabled
        wait_queues_settled(d, 8, 30, "round %d" % rnd)
        eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "ID after round %d" % rnd)
    for q in range(8):
        d.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_RESET"])
        set_queue_ctx(d, q, 0)
    d.setup_queue(0, ring(0), 16)
    run_fence(d, 0, 0x5AFE)


# ==== Runner ==================================================================

def main(argv):
    verbose = "-v" in argv
    filters = [a for a in argv if not a.startswith("-")]
    tests = [t for t in TESTS if not filters or any(f in t[0] for f in filters)]
    print("KTAP version 1")
    print("1..%d" % len(tests))
    failed = 0
    for n, (name, fn, device_args, extra_args, setup) in enumerate(tests, 1):
        qemu = d = None
        start = time.time()
        try:
            qemu = Qemu(device_args, extra_args)
            d = Lumen(qemu) if setup else None
            fn(qemu, d)
            if qemu.alive():
                still_alive(qemu, d)
            ok = True
        except (Failure, QTestError, OSError) as e:
            ok = False
            print("# %s: %s" % (name, e))
            if verbose:
                traceback.print_exc(file=sys.stdout)
        except Exception:
            ok = False
            print("# %s: test bug:" % name)
            traceback.print_exc(file=sys.stdout)
        finally:
            if qemu:
                status = qemu.close()
                if ok and status != 0:
                    ok = False
                    print("# %s: QEMU exit status %s on SIGTERM" % (name, status))
                if not ok and verbose:
                    print("# QEMU log:\n# " + qemu.log()[-2000:].replace("\n", "\n# "))
        failed += not ok
        print("%sok %d %s%s" % ("" if ok else "not ", n, name,
                                " # %.1fs" % (time.time() - start) if verbose else ""))
        sys.stdout.flush()
    print("# %d passed, %d failed" % (len(tests) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
