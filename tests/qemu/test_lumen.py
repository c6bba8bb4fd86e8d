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
import sys
import time
import traceback

from lumen_qtest import (R, Qemu, Lumen, QTestError, PciFunction,
                         nop, fence, copy, cmd, sgl, BAR0_ADDR, BAR2_ADDR,
                         BAR4_ADDR, MSI_ADDR, RAM_SIZE, find_function,
                         PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER)

# Guest RAM layout used by the tests (RAM is 512 MiB).
RING = 0x0020_0000          # queue q's ring at RING + q * 0x10000
FENCES = 0x0100_0000        # fence targets
SRC = 0x0200_0000           # copy sources (up to 16 MiB)
DST = 0x0400_0000           # copy destinations (up to 16 MiB)
TABLES = 0x0600_0000        # scatter lists
BIG_TABLES = 0x0700_0000    # scatter lists of the long-running copy
BIG_SRC = 0x0800_0000       # 16 MiB
BIG_DST = 0x0A00_0000       # 16 MiB

MiB = 1 << 20
DEVMEM_DEFAULT = 256 * MiB

ERR = {k[len("LUMEN_ERR_"):]: v for k, v in R.items() if k.startswith("LUMEN_ERR_")}
IDLE = R["LUMEN_Q_STATUS_IDLE"]
ENABLED = R["LUMEN_Q_STATUS_ENABLED"]
ERROR = R["LUMEN_Q_STATUS_ERROR"]
SRC_DEVMEM = R["LUMEN_COPY_SRC_DEVMEM"]
SRC_SGL = R["LUMEN_COPY_SRC_SGL"]
DST_DEVMEM = R["LUMEN_COPY_DST_DEVMEM"]
DST_SGL = R["LUMEN_COPY_DST_SGL"]


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
    eq(f.read8(0x08), 0x01, "revision")
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
    eq(d.reg32("LUMEN_REG_VERSION"), 0x00000001, "VERSION 0.1")
    eq(d.reg32("LUMEN_REG_CAPS"), 0x1, "CAPS: SGL")
    eq(d.reg32("LUMEN_REG_NUM_CORES"), 4, "NUM_CORES")
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
    eq(d.reg32("LUMEN_REG_CAPS"), 0x3, "CAPS: SGL | FAULT_INJECTION")
    eq(d.reg32("LUMEN_REG_NUM_CORES"), 7, "NUM_CORES")
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
    # A 64-bit read covers SCRATCH and the undefined word after it.
    eq(qemu.readq(d.bar0 + R["LUMEN_REG_SCRATCH"]), 0xDEADBEEF, "64-bit read of SCRATCH")
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
              "LUMEN_REG_NUM_VECTORS", "LUMEN_REG_STATUS"]
    regs64 = ["LUMEN_REG_DEVMEM_SIZE", "LUMEN_REG_ERROR_QUEUES",
              "LUMEN_REG_TIMESTAMP"]
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
             "LUMEN_Q_ERROR": 0, "LUMEN_Q_ERROR_HEAD": 0}
    for r, want in qregs.items():
        d.qset32(0, r, 0xFFFFFFF0)
        eq(d.qreg32(0, r), want, "queue " + r + " after a write")
    d.qset64(0, "LUMEN_Q_COMPLETED", 99)
    eq(d.qreg64(0, "LUMEN_Q_COMPLETED"), 2, "COMPLETED after a write")
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
    offsets = [0x3C, 0x50, 0x800, 0xFFC,
               R["LUMEN_QUEUE_BASE"] + 0x30,                  # queue 0, past its registers
               R["LUMEN_QUEUE_BASE"] + 16 * R["LUMEN_QUEUE_STRIDE"],  # queue 16 does not exist
               0x7FFC, 0xE000]
    for off in offsets:
        qemu.writel(d.bar0 + off, 0xFFFF_FFFF)
        eq(qemu.readl(d.bar0 + off), 0, "read of undefined offset %#x" % off)
    eq(d.reg32("LUMEN_REG_ID"), 0x4C554D4E, "ID unaffected")
    check("read of undefined register 0x3c" in qemu.log(),
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
    eq(qemu.readq(b + 4), 0x1_0000_0001, "unaligned 64-bit read = VERSION | CAPS << 32")
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
    qemu.writel(db + 4, 3)          # aligned, but not a doorbell
    eq(d.qreg32(0, "LUMEN_Q_TAIL"), 0, "TAIL after refused doorbell writes")
    eq(qemu.readl(db + 4), 0, "read of a non-doorbell word")
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


# ==== COPY ====================================================================

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
    d.submit(0, [copy(DST_DEVMEM, SRC, 0, 0, 0x1235, n),
                 copy(SRC_DEVMEM, 0, 0x1235, DST, 7, n)])
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
    d.submit(0, [copy(SRC_DEVMEM | DST_DEVMEM, 0, 0x10, 0, DEVMEM_DEFAULT - 100_000,
                      100_000)])
    d.wait_idle(0)
    check(qemu.memread(BAR2_ADDR + DEVMEM_DEFAULT - 100_000, 100_000) == data,
          "copy to the last bytes of device memory")


@test()
def copy_ram_to_ram(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    data = random_bytes(70_000, 3)
    qemu.memwrite(SRC + 0x40, data)
    d.submit(0, [copy(0, SRC, 0x40, DST - 0x1000, 0x1000, 70_000)])
    d.wait_idle(0)
    check(qemu.memread(DST, 70_000) == data, "bus -> bus copy with offsets")


@test()
def copy_sgl_source(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    pieces = [(SRC, 100), (SRC + 5000, 4096), (SRC + 20000, 70000), (SRC + 100_000, 3)]
    data = random_bytes(110_000, 4)
    qemu.memwrite(SRC, data)
    qemu.memwrite(TABLES, sgl(pieces))
    whole = b"".join(data[a - SRC:a - SRC + n] for a, n in pieces)
    count = len(whole) - 50 - 1     # start 50 bytes in, stop 1 byte short
    d.submit(0, [copy(SRC_SGL | DST_DEVMEM, TABLES, 50, 0, 0, count, src_n=len(pieces))])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    check(qemu.memread(BAR2_ADDR, count) == whole[50:50 + count],
          "gathered data in device memory")


@test()
def copy_sgl_destination(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    pieces = [(DST + 0x10, 17), (DST + 0x1000, 65536 + 3), (DST + 0x30000, 999)]
    total = sum(n for _, n in pieces)
    data = random_bytes(total, 5)
    qemu.memwrite(BAR2_ADDR + 0x100, data)
    qemu.memset(DST, 0x40000, 0xAA)
    qemu.memwrite(TABLES, sgl(pieces))
    d.submit(0, [copy(SRC_DEVMEM | DST_SGL, 0, 0x100, TABLES, 0, total, dst_n=3)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    mem = qemu.memread(DST, 0x40000)
    expect = bytearray(b"\xaa" * 0x40000)
    pos = 0
    for a, n in pieces:
        expect[a - DST:a - DST + n] = data[pos:pos + n]
        pos += n
    check(mem == bytes(expect), "scattered data, and nothing between the pieces")


@test()
def copy_sgl_both_sides(qemu, d):
    ready(d)
    d.setup_queue(0, ring(0), 16)
    src = [(SRC + 0x100, 1000), (SRC + 0x10000, 3000)]
    dst = [(DST + 0x500, 10), (DST + 0x2000, 2500), (DST + 0x9000, 5000)]
    data = random_bytes(0x20000, 6)
    qemu.memwrite(SRC, data)
    qemu.memset(DST, 0x10000, 0)
    qemu.memwrite(TABLES, sgl(src))
    qemu.memwrite(TABLES + 0x100, sgl(dst))
    s = b"".join(data[a - SRC:a - SRC + n] for a, n in src)
    count = 3500
    d.submit(0, [copy(SRC_SGL | DST_SGL, TABLES, 200, TABLES + 0x100, 5, count,
                      src_n=2, dst_n=3)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    payload = s[200:200 + count]
    expect = bytearray(0x10000)
    # Destination offset 5: 5 bytes into the first 10-byte piece.
    layout = [(0x500 + 5, 5), (0x2000, 2500), (0x9000, count - 5 - 2500)]
    pos = 0
    for off, n in layout:
        expect[off:off + n] = payload[pos:pos + n]
        pos += n
    check(qemu.memread(DST, 0x10000) == bytes(expect), "SGL -> SGL with offsets")


@test()
def copy_sgl_self_referencing(qemu, d):
    """Entries that point at the list itself: odd but finite, and correct."""
    ready(d)
    d.setup_queue(0, ring(0), 16)
    n = 4096
    table = sgl([(TABLES, 16)] * n)
    qemu.memwrite(TABLES, table)
    d.submit(0, [copy(SRC_SGL | DST_DEVMEM, TABLES, 0, 0, 0, 16 * n, src_n=n)])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    eq(qemu.memread(BAR2_ADDR, 16 * n), table[:16] * n, "the first entry, repeated")


@test()
def copy_sgl_max_entries(qemu, d):
    """An SGL of the maximum length is accepted; unused entries are not read."""
    ready(d)
    d.setup_queue(0, ring(0), 16)
    qemu.memwrite(TABLES, sgl([(SRC, 64)]))
    qemu.memwrite(SRC, bytes(range(64)))
    d.submit(0, [copy(SRC_SGL | DST_DEVMEM, TABLES, 0, 0, 0, 64,
                      src_n=R["LUMEN_SGL_MAX_ENTRIES"])])
    eq(d.wait_idle(0), ENABLED | IDLE, "status")
    eq(qemu.memread(BAR2_ADDR, 64), bytes(range(64)), "data")


@test(extra_args=["-device", "intel-iommu"])
def behind_an_iommu(qemu, d):
    """With VT-d present (DMA remapping off, as before a guest enables it)."""
    ready(d)
    d.setup_queue(0, ring(0), 16)
    data = random_bytes(5000, 8)
    qemu.memwrite(SRC, data)
    d.submit(0, [copy(DST_DEVMEM, SRC, 0, 0, 0, 5000), copy(SRC_DEVMEM, 0, 0, DST, 0, 5000),
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


OP_COPY = R["LUMEN_OP_COPY"]
MAX = R["LUMEN_COPY_MAX_SIZE"]
U64 = 2**64 - 1

bad_command_test("bad_opcode", cmd(0x7F), ERR["BAD_OPCODE"])
bad_command_test("bad_opcode_ff", cmd(0xFF), ERR["BAD_OPCODE"])
bad_command_test("reserved_header_byte2", cmd(0, header_reserved=0x01), ERR["BAD_CMD"])
bad_command_test("reserved_header_byte7", cmd(0, header_reserved=0x01 << 40), ERR["BAD_CMD"])
bad_command_test("nop_with_flags", cmd(0, flags=1), ERR["BAD_CMD"])
bad_command_test("nop_with_argument", cmd(0, args=[0, 0, 0, 0, 0, 0, 1]), ERR["BAD_CMD"])
bad_command_test("fence_unknown_flag", cmd(1, flags=2, args=[FENCES, 1]), ERR["BAD_CMD"])
bad_command_test("fence_unused_argument", cmd(1, args=[FENCES, 1, 1]), ERR["BAD_CMD"])
bad_command_test("fence_misaligned", fence(FENCES + 4, 1), ERR["ALIGN"])
bad_command_test("copy_unknown_flag", copy(0x10, SRC, 0, DST, 0, 8), ERR["BAD_CMD"])
bad_command_test("copy_src_devmem_and_sgl", copy(SRC_DEVMEM | SRC_SGL, 0, 0, DST, 0, 8, src_n=1),
                 ERR["BAD_CMD"])
bad_command_test("copy_dst_devmem_and_sgl", copy(DST_DEVMEM | DST_SGL, SRC, 0, 0, 0, 8, dst_n=1),
                 ERR["BAD_CMD"])
bad_command_test("copy_zero_bytes", copy(0, SRC, 0, DST, 0, 0), ERR["BAD_CMD"])
bad_command_test("copy_too_large", copy(SRC_DEVMEM | DST_DEVMEM, 0, 0, 0, 0, MAX + 1),
                 ERR["BAD_CMD"])
bad_command_test("copy_sgl_count_without_sgl", copy(0, SRC, 0, DST, 0, 8, src_n=1), ERR["BAD_CMD"])
bad_command_test("copy_devmem_address_not_zero", copy(SRC_DEVMEM, 0x1000, 0, DST, 0, 8),
                 ERR["BAD_CMD"])
bad_command_test("devmem_offset_at_end", copy(SRC_DEVMEM, 0, DEVMEM_DEFAULT, DST, 0, 1),
                 ERR["DEVMEM_RANGE"])
bad_command_test("devmem_range_past_end", copy(DST_DEVMEM, SRC, 0, 0, DEVMEM_DEFAULT - 1, 2),
                 ERR["DEVMEM_RANGE"])
bad_command_test("devmem_offset_overflows", copy(SRC_DEVMEM, 0, U64, DST, 0, 2),
                 ERR["DEVMEM_RANGE"])
bad_command_test("devmem_small_device", copy(DST_DEVMEM, SRC, 0, 0, 0x100000 - 8, 16),
                 ERR["DEVMEM_RANGE"], device_args="mem=1M")
bad_command_test("bus_range_wraps", copy(0, 0xFFFF_FFFF_FFFF_F000, 0, DST, 0, 0x2000),
                 ERR["DMA"])
bad_command_test("bus_address_plus_offset_wraps", copy(0, 0xFFFF_FFFF_FFFF_FF00, 0x200, DST, 0, 8),
                 ERR["DMA"])
bad_command_test("dma_to_nothing", fence(0x40_0000_0000, 1), ERR["DMA"])
bad_command_test("dma_from_nothing", copy(0, 0x40_0000_0000, 0, DST, 0, 8), ERR["DMA"])
bad_command_test("dma_write_to_rom", fence(0xFFFF_FFF0, 1), ERR["DMA"])
bad_command_test("dma_write_to_msi_window", fence(0xFEE0_0000, 0x4041), ERR["DMA"])
bad_command_test("dma_read_from_msi_window", copy(0, 0xFEE0_0000, 0, DST, 0, 4), ERR["DMA"])
bad_command_test("dma_read_from_ioapic", copy(0, 0xFEC0_0000, 0, DST, 0, 4), ERR["DMA"])
bad_command_test("dma_into_own_bar0", fence(BAR0_ADDR + R["LUMEN_REG_SCRATCH"], 0x77), ERR["DMA"])
bad_command_test("dma_into_own_doorbell", fence(BAR4_ADDR, 1), ERR["DMA"])
bad_command_test("dma_into_own_devmem", copy(0, SRC, 0, BAR2_ADDR, 0, 64), ERR["DMA"])
bad_command_test("dma_from_own_bar0", copy(0, BAR0_ADDR, 0, DST, 0, 8), ERR["DMA"])
bad_command_test("dma_range_reaching_own_bar", copy(0, SRC, 0, BAR2_ADDR - 0x1000, 0, 0x2000),
                 ERR["DMA"])
bad_command_test("sgl_misaligned", copy(SRC_SGL, TABLES + 8, 0, DST, 0, 8, src_n=1), ERR["ALIGN"])
bad_command_test("sgl_zero_entries", copy(SRC_SGL, TABLES, 0, DST, 0, 8, src_n=0), ERR["SGL"])
bad_command_test("sgl_too_many_entries",
                 copy(SRC_SGL, TABLES, 0, DST, 0, 8, src_n=R["LUMEN_SGL_MAX_ENTRIES"] + 1),
                 ERR["SGL"])
bad_command_test("sgl_table_wraps", copy(DST_SGL, SRC, 0, 0xFFFF_FFFF_FFFF_FFF0, 0, 8, dst_n=2),
                 ERR["SGL"])


def _table(entries, at=TABLES):
    def prepare(qemu, d):
        qemu.memwrite(at, sgl(entries))
    return prepare


bad_command_test("sgl_zero_length_entry", copy(SRC_SGL, TABLES, 0, DST, 0, 8, src_n=2),
                 ERR["SGL"], prepare=_table([(SRC, 0), (SRC, 8)]))
bad_command_test("sgl_shorter_than_copy", copy(SRC_SGL, TABLES, 0, DST, 0, 100, src_n=2),
                 ERR["SGL"], prepare=_table([(SRC, 40), (SRC, 40)]))
bad_command_test("sgl_offset_past_end", copy(SRC_SGL, TABLES, 80, DST, 0, 1, src_n=2),
                 ERR["SGL"], prepare=_table([(SRC, 40), (SRC, 40)]))
bad_command_test("sgl_entry_wraps", copy(DST_SGL, SRC, 0, TABLES, 0, 8, dst_n=1),
                 ERR["SGL"], prepare=_table([(0xFFFF_FFFF_FFFF_FFFC, 8)]))
bad_command_test("sgl_entry_into_own_bar", copy(DST_SGL, SRC, 0, TABLES, 0, 8, dst_n=1),
                 ERR["DMA"], prepare=_table([(BAR0_ADDR, 8)]))
bad_command_test("sgl_table_in_own_bar", copy(SRC_SGL, BAR2_ADDR, 0, DST, 0, 8, src_n=1),
                 ERR["DMA"])


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
    d.submit(VICTIM, [copy(0, SRC, 0, BAR2_ADDR, 0, 64)])
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


def start_long_copy(qemu, d, q):
    """A 1 TiB SGL -> SGL copy (it would run for minutes); waits until it runs."""
    n = (1 << 40) // (16 * MiB)                 # 65536 entries of 16 MiB
    qemu.memwrite(BIG_TABLES, sgl([(BIG_SRC, 16 * MiB)]) * n)
    qemu.memwrite(BIG_TABLES + 0x100000, sgl([(BIG_DST, 16 * MiB)]) * n)
    qemu.memset(BIG_SRC, 16 * MiB, 0x5A)
    qemu.memset(BIG_DST, 16 * MiB, 0)
    d.setup_queue(q, ring(q), 16, engine=0)
    d.submit(q, [copy(SRC_SGL | DST_SGL, BIG_TABLES, 0, BIG_TABLES + 0x100000, 0,
                      1 << 40, src_n=n, dst_n=n), fence(FENCES + 0x800, 1)])
    got = d.wait_value(lambda: qemu.readq(BIG_DST), 0x5A5A5A5A5A5A5A5A)
    eq(got, 0x5A5A5A5A5A5A5A5A, "the long copy is running")
    eq(d.qreg32(q, "LUMEN_Q_STATUS") & IDLE, 0, "queue busy")


def check_copy_stopped(qemu, d):
    """After a reset the engine no longer writes the destination."""
    qemu.writeq(BIG_DST, 0)
    qemu.writeq(BIG_DST + 16 * MiB - 8, 0)
    time.sleep(0.2)
    eq(qemu.readq(BIG_DST), 0, "destination start untouched after the reset")
    eq(qemu.readq(BIG_DST + 16 * MiB - 8), 0, "destination end untouched after the reset")
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
