# SPDX-License-Identifier: GPL-2.0-or-later
"""Drive QEMU's lumen device from the host through the qtest accelerator.

There is no guest: the test plays the part of the firmware (assigns BARs,
enables bus mastering and MSI-X) and of the driver (programs registers,
writes commands into guest RAM, rings doorbells).  MSI-X table entries
point into guest RAM, so a delivered interrupt is a 32-bit write that the
test can read back.

Register offsets and command encodings are taken from driver/lumen_regs.h
itself (parsed below), so the tests follow the contract, not a copy of it.
Expected values are always written out in the tests, never computed by the
code under test.
"""

import base64
import json
import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGS_H = os.path.join(TOP, "driver", "lumen_regs.h")


def _parse_regs_header(path):
    """Return {NAME: int} for every object-like #define with a plain value."""
    defs = {}
    pat = re.compile(r"^#define\s+(LUMEN_\w+)\s+(.+?)\s*(/\*.*)?$")
    with open(path) as f:
        for line in f:
            m = pat.match(line.strip())
            if not m or "(" in m.group(1):
                continue
            expr = re.sub(r"(?<=[0-9a-fA-F])(ull|ul|u)\b", "", m.group(2))
            try:
                defs[m.group(1)] = int(eval(expr, {}, dict(defs)))
            except Exception:
                pass    # function-like or non-numeric macros
    return defs


R = _parse_regs_header(REGS_H)

# Where the test puts things.  Guest RAM is 512 MiB (-m 512M); BARs go into
# the PCI address space above RAM, as firmware would put them.
RAM_SIZE = 512 << 20
BAR0_ADDR = 0xE000_0000
BAR4_ADDR = 0xE100_0000
BAR2_ADDR = 0x1_0000_0000          # 64-bit, above 4 GiB
MSI_ADDR = 0x0010_0000             # MSI-X messages land here (4 bytes each)

# A qtest command that takes longer than this means QEMU hangs.
COMMAND_TIMEOUT = 30

PCI_COMMAND_MEMORY = 0x2
PCI_COMMAND_MASTER = 0x4


class QTestError(Exception):
    pass


class Qemu:
    """One QEMU process, driven over -qtest stdio, with a QMP socket."""

    def __init__(self, device_args="", extra_args=(), machine="q35"):
        qemu = os.environ.get("LUMEN_QEMU")
        if not qemu:
            raise QTestError("LUMEN_QEMU is not set")
        self.tmpdir = tempfile.mkdtemp(prefix="lumen-qtest-")
        self.qmp_path = os.path.join(self.tmpdir, "qmp.sock")
        self.stderr_path = os.path.join(self.tmpdir, "stderr")
        qboot = os.environ.get("LUMEN_QBOOT", "/usr/share/qemu/qboot.rom")
        args = [qemu, "-machine", machine, "-accel", "qtest",
                "-qtest", "stdio", "-qtest-log", "/dev/null",
                "-display", "none", "-nodefaults", "-m", "512M",
                "-bios", qboot, "-d", "guest_errors,invalid_mem",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        args += list(extra_args)
        if device_args is not None:
            args += ["-device", "lumen" + ("," + device_args if device_args else "")]
        self.stderr = open(self.stderr_path, "w+")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=self.stderr, bufsize=0)
        self.outbuf = b""
        self.qmp_sock = None
        self.qmp_file = None
        self.events = []
        self.saved_log = None

    # ---- process ------------------------------------------------------------

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        """End QEMU the way a user would (SIGTERM); returns its exit status."""
        if self.qmp_sock:
            self.qmp_sock.close()
            self.qmp_sock = None
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        if not self.stderr.closed:
            self.stderr.close()
        if self.saved_log is None:
            self.saved_log = self.log()
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        return self.proc.returncode

    def log(self):
        """Everything QEMU printed on stderr (guest errors included)."""
        if self.saved_log is not None:
            return self.saved_log
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    # ---- qtest protocol -----------------------------------------------------

    def _readline(self, timeout):
        """One line from QEMU, or None if it closed the channel."""
        deadline = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.outbuf:
            left = deadline - time.time()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise QTestError("QEMU did not answer within %ss: it hangs" % timeout)
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.outbuf += chunk
        line, self.outbuf = self.outbuf.split(b"\n", 1)
        return line.decode()

    def cmd(self, line, timeout=COMMAND_TIMEOUT):
        """Send one qtest command; returns what follows "OK"."""
        if not self.alive():
            raise QTestError("QEMU died (exit %s): %s" %
                             (self.proc.returncode, self.log()[-500:]))
        try:
            self.proc.stdin.write((line + "\n").encode())
        except BrokenPipeError:
            raise QTestError("QEMU closed the qtest channel: %s" % self.log()[-500:])
        while True:
            resp = self._readline(timeout)
            if resp is None:
                raise QTestError("QEMU closed the qtest channel after '%s': %s"
                                 % (line[:60], self.log()[-500:]))
            if resp.startswith("IRQ"):
                continue        # asynchronous, not used here
            if resp.startswith("OK"):
                return resp[3:]
            raise QTestError("'%s' failed: %s" % (line[:60], resp))

    def readb(self, addr):
        return int(self.cmd("readb 0x%x" % addr), 16)

    def readw(self, addr):
        return int(self.cmd("readw 0x%x" % addr), 16)

    def readl(self, addr):
        return int(self.cmd("readl 0x%x" % addr), 16)

    def readq(self, addr):
        return int(self.cmd("readq 0x%x" % addr), 16)

    def writeb(self, addr, val):
        self.cmd("writeb 0x%x 0x%x" % (addr, val))

    def writew(self, addr, val):
        self.cmd("writew 0x%x 0x%x" % (addr, val))

    def writel(self, addr, val):
        self.cmd("writel 0x%x 0x%x" % (addr, val))

    def writeq(self, addr, val):
        self.cmd("writeq 0x%x 0x%x" % (addr, val & (2**64 - 1)))

    def inl(self, port):
        return int(self.cmd("inl 0x%x" % port), 16)

    def outl(self, port, val):
        self.cmd("outl 0x%x 0x%x" % (port, val))

    def memread(self, addr, size):
        return base64.b64decode(self.cmd("b64read 0x%x 0x%x" % (addr, size)))

    def memwrite(self, addr, data):
        if data:
            self.cmd("b64write 0x%x 0x%x %s" %
                     (addr, len(data), base64.b64encode(data).decode()))

    def memset(self, addr, size, val=0):
        self.cmd("memset 0x%x 0x%x 0x%x" % (addr, size, val))

    def clock_step(self, ns):
        return int(self.cmd("clock_step %d" % ns))

    # ---- QMP ----------------------------------------------------------------

    def qmp(self, command, **arguments):
        if self.qmp_sock is None:
            deadline = time.time() + 10
            while True:
                try:
                    self.qmp_sock = socket.socket(socket.AF_UNIX)
                    self.qmp_sock.connect(self.qmp_path)
                    break
                except OSError:
                    self.qmp_sock.close()
                    self.qmp_sock = None
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
            self.qmp_file = self.qmp_sock.makefile("rw")
            json.loads(self.qmp_file.readline())        # greeting
            self.qmp("qmp_capabilities")
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.qmp_file.write(json.dumps(msg) + "\n")
        self.qmp_file.flush()
        while True:
            resp = json.loads(self.qmp_file.readline())
            if "event" in resp:
                self.events.append(resp)
                continue
            if "error" in resp:
                raise QTestError("QMP %s: %s" % (command, resp["error"]))
            return resp["return"]

    def qmp_wait_event(self, name, timeout=10):
        """Wait for QMP event @name; returns it."""
        deadline = time.time() + timeout
        while True:
            for ev in self.events:
                if ev["event"] == name:
                    self.events.remove(ev)
                    return ev
            self.qmp_sock.settimeout(max(0.01, deadline - time.time()))
            try:
                line = self.qmp_file.readline()
            except socket.timeout:
                line = None
            finally:
                self.qmp_sock.settimeout(None)
            if line:
                self.events.append(json.loads(line))
            elif time.time() > deadline:
                raise QTestError("no QMP event %s within %ss" % (name, timeout))


# ---- PCI configuration space (CF8/CFC mechanism) ------------------------------

class PciFunction:
    def __init__(self, qemu, bus, slot, func=0):
        self.q = qemu
        self.bdf = (bus << 16) | (slot << 11) | (func << 8)

    def _select(self, off):
        self.q.outl(0xCF8, 0x8000_0000 | self.bdf | (off & 0xFC))

    def read32(self, off):
        self._select(off)
        return self.q.inl(0xCFC)

    def read16(self, off):
        return (self.read32(off & ~3) >> (8 * (off & 2))) & 0xFFFF

    def read8(self, off):
        return (self.read32(off & ~3) >> (8 * (off & 3))) & 0xFF

    def write32(self, off, val):
        self._select(off)
        self.q.outl(0xCFC, val)

    def write16(self, off, val):
        self._select(off)
        self.q.cmd("outw 0x%x 0x%x" % (0xCFC + (off & 2), val))

    def find_cap(self, cap_id):
        ptr = self.read8(0x34)
        seen = 0
        while ptr and seen < 48:
            if self.read8(ptr) == cap_id:
                return ptr
            ptr = self.read8(ptr + 1)
            seen += 1
        return None

    def bar_size(self, bar):
        """Size a 64-bit memory BAR the way firmware does (all ones)."""
        off = 0x10 + 4 * bar
        lo, hi = self.read32(off), self.read32(off + 4)
        self.write32(off, 0xFFFF_FFFF)
        self.write32(off + 4, 0xFFFF_FFFF)
        mask = self.read32(off) | (self.read32(off + 4) << 32)
        self.write32(off, lo)
        self.write32(off + 4, hi)
        return (~(mask & ~0xF) + 1) & (2**64 - 1), lo & 0xF

    def set_bar(self, bar, addr):
        off = 0x10 + 4 * bar
        self.write32(off, addr & 0xFFFF_FFFF)
        self.write32(off + 4, addr >> 32)


def find_function(q, vendor, device, buses=range(0, 4)):
    for bus in buses:
        for slot in range(32):
            f = PciFunction(q, bus, slot)
            if f.read32(0) == (device << 16) | vendor:
                return f
    return None


# ---- Commands -------------------------------------------------------------------

def cmd(opcode, flags=0, args=(), header_reserved=0):
    args = list(args) + [0] * (R["LUMEN_CMD_ARGS"] - len(args))
    hdr = opcode | (flags << 8) | (header_reserved << 16)
    raw = hdr.to_bytes(8, "little")
    for a in args:
        raw += (a & (2**64 - 1)).to_bytes(8, "little")
    assert len(raw) == R["LUMEN_CMD_SIZE"]
    return raw


def nop():
    return cmd(R["LUMEN_OP_NOP"])


def fence(addr, value, irq=False):
    return cmd(R["LUMEN_OP_FENCE"], R["LUMEN_FENCE_IRQ"] if irq else 0,
               [addr, value])


def wait(addr, value):
    return cmd(R["LUMEN_OP_WAIT"], 0, [addr, value])


def timestamp(addr):
    return cmd(R["LUMEN_OP_TIMESTAMP"], 0, [addr])


def indirect(addr, size, ctx):
    return cmd(R["LUMEN_OP_INDIRECT"], 0, [addr, size, ctx])


def copy(src, dst, size):
    return cmd(R["LUMEN_OP_COPY"], 0, [src, dst, size])


def copy2d(src, dst, width, height, src_pitch, dst_pitch):
    return cmd(R["LUMEN_OP_COPY"], R["LUMEN_COPY_2D"],
               [src, dst, width, height, src_pitch, dst_pitch])


def fill(dst, size, pattern):
    return cmd(R["LUMEN_OP_FILL"], 0, [dst, size, pattern])


def operator(opcode, desc_addr):
    return cmd(opcode, 0, [desc_addr])


def descriptor(words):
    """A 128-byte operator descriptor from {word index: value}."""
    w = [0] * R["LUMEN_DESC_WORDS"]
    for i, v in words.items():
        w[i] = v & (2**64 - 1)
    return b"".join(v.to_bytes(8, "little") for v in w)


class PageTables:
    """4-level device page tables, built by the test in guest RAM.

    Tables are allocated from [base, base + size) (4 KiB each, zeroed on
    allocation); map() fills leaves, creating intermediate tables.
    """

    def __init__(self, qemu, base, size=1 << 20):
        self.q = qemu
        self.next = base
        self.end = base + size
        self.root = self.alloc()

    def alloc(self):
        if self.next >= self.end:
            raise QTestError("page-table area exhausted")
        t = self.next
        self.next += 4096
        self.q.memset(t, 4096, 0)
        return t

    def entry_addr(self, va, level):
        """Address of the level-@level entry for @va, creating tables."""
        table = self.root
        for lvl in range(3, level, -1):
            slot = table + 8 * ((va >> (12 + 9 * lvl)) & 511)
            pte = self.q.readq(slot)
            if not pte & R["LUMEN_PTE_VALID"]:
                nt = self.alloc()
                self.q.writeq(slot, nt | R["LUMEN_PTE_VALID"])
                pte = nt | R["LUMEN_PTE_VALID"]
            table = pte & R["LUMEN_PTE_ADDR_MASK"]
        return table + 8 * ((va >> (12 + 9 * level)) & 511)

    def map(self, va, pa, size, writable=True, devmem=False):
        assert va % 4096 == 0 and pa % 4096 == 0 and size % 4096 == 0
        flags = R["LUMEN_PTE_VALID"]
        if writable:
            flags |= R["LUMEN_PTE_WRITABLE"]
        if devmem:
            flags |= R["LUMEN_PTE_DEVMEM"]
        for off in range(0, size, 4096):
            self.q.writeq(self.entry_addr(va + off, 0), (pa + off) | flags)

    def set_leaf(self, va, pte):
        self.q.writeq(self.entry_addr(va, 0), pte)

    def root_value(self):
        return self.root | R["LUMEN_MMU_ROOT_VALID"]


# ---- The device -------------------------------------------------------------------

class Lumen:
    """A lumen function, set up as firmware + a minimal driver would."""

    def __init__(self, qemu, bus_range=range(0, 4)):
        self.q = qemu
        self.pci = find_function(qemu, R["LUMEN_PCI_VENDOR_ID"],
                                 R["LUMEN_PCI_DEVICE_ID"], bus_range)
        if self.pci is None:
            raise QTestError("no lumen function found in config space")
        self.bar0, self.bar2, self.bar4 = BAR0_ADDR, BAR2_ADDR, BAR4_ADDR
        self.pci.set_bar(R["LUMEN_BAR_REGS"], self.bar0)
        self.pci.set_bar(R["LUMEN_BAR_DEVMEM"], self.bar2)
        self.pci.set_bar(R["LUMEN_BAR_DOORBELL"], self.bar4)
        self.pci.write16(0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
        self.num_queues = self.reg32("LUMEN_REG_NUM_QUEUES")
        self.num_vectors = self.reg32("LUMEN_REG_NUM_VECTORS")
        self.tails = {}

    # registers
    def reg32(self, name):
        return self.q.readl(self.bar0 + R[name])

    def reg64(self, name):
        return self.q.readq(self.bar0 + R[name])

    def set32(self, name, val):
        self.q.writel(self.bar0 + R[name], val)

    def set64(self, name, val):
        self.q.writeq(self.bar0 + R[name], val)

    def qaddr(self, q, name):
        return self.bar0 + R["LUMEN_QUEUE_BASE"] + q * R["LUMEN_QUEUE_STRIDE"] + R[name]

    def qreg32(self, q, name):
        return self.q.readl(self.qaddr(q, name))

    def qreg64(self, q, name):
        return self.q.readq(self.qaddr(q, name))

    def qset32(self, q, name, val):
        self.q.writel(self.qaddr(q, name), val)

    def qset64(self, q, name, val):
        self.q.writeq(self.qaddr(q, name), val)

    # MSI-X
    def enable_msix(self):
        cap = self.pci.find_cap(0x11)
        for v in range(self.num_vectors):
            entry = self.bar0 + R["LUMEN_MSIX_TABLE_OFFSET"] + 16 * v
            self.q.writel(entry + 0, MSI_ADDR + 4 * v)
            self.q.writel(entry + 4, 0)
            self.q.writel(entry + 8, 0xA000 + v)       # data
            self.q.writel(entry + 12, 0)               # unmasked
        self.q.memset(MSI_ADDR, 4 * self.num_vectors, 0)
        ctrl = self.pci.read16(cap + 2)
        self.pci.write16(cap + 2, (ctrl | 0x8000) & ~0x4000)

    def msi_count(self, vector):
        """Did vector @vector fire since the last clear?  (its data word)"""
        return self.q.readl(MSI_ADDR + 4 * vector)

    def msi_clear(self, vector):
        self.q.writel(MSI_ADDR + 4 * vector, 0)

    def error_vector(self):
        return self.num_vectors - 1

    # device
    def enable(self):
        self.set32("LUMEN_REG_CONTROL", R["LUMEN_CONTROL_ENABLE"])

    def set_root(self, ctx, value):
        self.q.writeq(self.bar0 + R["LUMEN_MMU_CTX_ROOT_BASE"] + 8 * ctx, value)

    def root(self, ctx):
        return self.q.readq(self.bar0 + R["LUMEN_MMU_CTX_ROOT_BASE"] + 8 * ctx)

    def perf(self, engine, name):
        return self.q.readq(self.bar0 + R["LUMEN_PERF_BASE"] +
                            engine * R["LUMEN_PERF_STRIDE"] + R[name])

    def setup_queue(self, q, ring, size, engine=None, enable=True):
        self.qset64(q, "LUMEN_Q_RING_BASE", ring)
        self.qset32(q, "LUMEN_Q_RING_SIZE", size)
        if engine is not None:
            self.qset32(q, "LUMEN_Q_ENGINE", engine)
        self.rings = getattr(self, "rings", {})
        self.rings[q] = (ring, size)
        self.tails[q] = 0
        if enable:
            self.qset32(q, "LUMEN_Q_CONTROL", R["LUMEN_Q_CONTROL_ENABLE"])

    def doorbell(self, q, tail):
        self.q.writel(self.bar4 + q * R["LUMEN_DOORBELL_STRIDE"], tail)

    def submit(self, q, cmds, ring_doorbell=True):
        """Append commands to queue @q's ring and ring its doorbell."""
        ring, size = self.rings[q]
        tail = self.tails[q]
        for c in cmds:
            self.q.memwrite(ring + tail * R["LUMEN_CMD_SIZE"], c)
            tail = (tail + 1) % size
        self.tails[q] = tail
        if ring_doorbell:
            self.doorbell(q, tail)
        return tail

    def wait_idle(self, q, timeout=10.0):
        """Poll until queue @q is idle or stopped; returns STATUS."""
        deadline = time.time() + timeout
        while True:
            st = self.qreg32(q, "LUMEN_Q_STATUS")
            if st & (R["LUMEN_Q_STATUS_IDLE"] | R["LUMEN_Q_STATUS_ERROR"]):
                return st
            if time.time() > deadline:
                raise QTestError("queue %d still busy after %ss (status 0x%x)"
                                 % (q, timeout, st))
            time.sleep(0.001)

    def wait_value(self, fn, want, timeout=5.0):
        """Poll fn() until it returns @want (MSI writes come from a BH)."""
        deadline = time.time() + timeout
        while True:
            got = fn()
            if got == want or time.time() > deadline:
                return got
            time.sleep(0.001)
