#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of the command-core fuzzer (fuzz_core.c).

Each seed is a meaningful device state: page tables for context 1 (and 2,
which shares them), data, and ring entries that exercise one command or
one path: every command, nested indirect buffers in context 0 and in a
user context, device memory, faults, limits, every operator with a valid
descriptor, and direct queues (a ring read through a context, its
entries run in it).  The fuzzer mutates from there.

    tests/fuzz-core/gen-seeds.py [DIR]      (default: tests/fuzz-core/corpus)
"""
import os
import struct
import sys

RAM = 0x100000                  # FUZZ_RAM_BASE
DEVMEM = 1 << 63                # LUMEN_CTX0_DEVMEM
PAGE = 4096
IMAGE = 0x8000                  # bytes of RAM a seed may use (8 pages)
SEM = RAM + 128 * 1024 - 4096   # the page the fuzzer releases on retry

NOP, FENCE, WAIT, TIMESTAMP, INDIRECT = 0x00, 0x01, 0x02, 0x03, 0x04
COPY, FILL = 0x10, 0x11
GEMM, ELTWISE, SOFTMAX, LAYER_NORM, RMS_NORM, CONV2D, POOL2D = range(0x20, 0x27)
F32, F16, BF16, I8, I32 = 1, 2, 3, 4, 5
VALID, WRITABLE, DEVMEM_PTE = 1, 2, 4

# Context 1: root at RAM page 0, L2 at page 2, L1 at page 3, L0 at page 4;
# VA 0x200000 + i * 4096 (L1 index 1) maps RAM page 5 + i for i < 3,
# device memory page 0 for i = 3 and RAM page 5 read-only for i = 4.
VA0 = 0x200000


def va(i, off=0):
    return VA0 + i * PAGE + off


def phys(i, off=0):
    return RAM + (5 + i) * PAGE + off


def cmd(op, flags=0, *args):
    args = list(args) + [0] * (7 - len(args))
    return struct.pack("<BB6x7Q", op, flags, *args)


def f32(*vals):
    return struct.pack("<%df" % len(vals), *vals)


def f32bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def pair(h, w):
    return h | w << 32


class Seed:
    def __init__(self, compute=True, flags=0, inject=0, queue=3, root3=0,
                 ring_ctx=0, ring_va=0):
        self.ram = bytearray(IMAGE)
        self.entries = []
        self.flags = (1 if compute else 0) | flags
        self.inject = inject
        self.queue = queue
        self.root3 = root3
        self.ring_ctx = ring_ctx        # a direct queue's context, or 0
        self.ring_va = ring_va

    def put(self, bus, data):
        off = bus - RAM
        self.ram[off:off + len(data)] = data

    def put_va(self, v, data):
        """Write through context 1's mapping (RAM pages only)."""
        i, off = divmod(v - VA0, PAGE)
        assert i < 3 and off + len(data) <= PAGE
        self.put(phys(i, off), data)

    def tables(self):
        self.put(RAM + 0 * PAGE, struct.pack("<Q", (RAM + 2 * PAGE) | VALID))
        self.put(RAM + 1 * PAGE, struct.pack("<Q", (RAM + 2 * PAGE) | VALID))
        self.put(RAM + 2 * PAGE, struct.pack("<Q", (RAM + 3 * PAGE) | VALID))
        self.put(RAM + 3 * PAGE + 8, struct.pack("<Q", (RAM + 4 * PAGE) | VALID))
        leaves = [phys(0) | WRITABLE, phys(1) | WRITABLE, phys(2) | WRITABLE,
                  0 | DEVMEM_PTE | WRITABLE, phys(0)]
        for i, leaf in enumerate(leaves):
            self.put(RAM + 4 * PAGE + 8 * i, struct.pack("<Q", leaf | VALID))

    def entry(self, c):
        self.entries.append(c)

    def ring(self, cmds):
        """A direct queue's ring entries, at its ring VA (context 1's
        mapping); the entries in the input are placeholders."""
        self.put_va(self.ring_va + 64 * len(self.entries), b"".join(cmds))
        self.entries += [cmd(NOP)] * len(cmds)

    def ib(self, v, cmds, ctx=1):
        """An IB at VA v of context 1, run from a ring entry."""
        self.put_va(v, b"".join(cmds))
        self.entry(cmd(INDIRECT, 0, v, 64 * len(cmds), ctx))

    def op(self, opcode, words, ctx=1):
        words = list(words) + [0] * (16 - len(words))
        self.put_va(va(0, 0x400), struct.pack("<16Q", *words))
        self.ib(va(0, 0x200), [cmd(opcode, 0, va(0, 0x400))], ctx)

    def bytes(self):
        ram = bytes(self.ram).rstrip(b"\0")
        head = struct.pack("<BBBBBHBQ", self.flags, len(self.entries) - 1,
                           self.inject, self.queue, self.ring_ctx,
                           (self.ring_va >> 12) & 0xFFFF, self.ring_va >> 28,
                           self.root3)
        return head + b"".join(self.entries) + ram


def seeds():
    s = Seed()
    s.entry(cmd(NOP))
    yield "nop", s

    s = Seed()
    s.entry(cmd(FENCE, 1, phys(0), 0x1234))
    s.entry(cmd(FENCE, 0, DEVMEM | 0x100, 7))
    s.entry(cmd(TIMESTAMP, 0, phys(0, 8)))
    yield "fence-timestamp", s

    s = Seed(flags=4)
    s.put(phys(0), struct.pack("<Q", 5))
    s.entry(cmd(WAIT, 0, phys(0), 3))
    s.entry(cmd(WAIT, 0, SEM, 1))
    s.entry(cmd(FENCE, 0, phys(0, 8), 1))
    yield "wait", s

    s = Seed()
    s.put(phys(0), bytes(range(256)) * 12)
    s.entry(cmd(COPY, 0, phys(0, 1), phys(1, 3), 3000))
    s.entry(cmd(COPY, 0, phys(0), DEVMEM | 0x10, 2000))
    s.entry(cmd(COPY, 0, DEVMEM | 0x10, DEVMEM | 0x2001, 2000))
    s.entry(cmd(COPY, 0, DEVMEM | 0x2001, phys(2), 1000))
    yield "copy", s

    s = Seed()
    s.put(phys(0), bytes(range(256)) * 4)
    s.entry(cmd(COPY, 1, phys(0), phys(1), 24, 10, 64, 100))
    s.entry(cmd(COPY, 1, phys(0), DEVMEM | 0x100, 16, 4, 16, 4096))
    yield "copy2d", s

    s = Seed()
    s.entry(cmd(FILL, 0, phys(0, 1), 5000, 0x0807060504030201))
    s.entry(cmd(FILL, 0, DEVMEM | 3, 60000, 0xa5))
    yield "fill", s

    s = Seed()
    ib = [cmd(FENCE, 0, phys(1), 1), cmd(COPY, 0, phys(1), phys(1, 64), 8),
          cmd(NOP)]
    s.put(phys(0), b"".join(ib))
    s.entry(cmd(INDIRECT, 0, phys(0), 64 * len(ib), 0))
    yield "ib-ctx0", s

    s = Seed()
    s.tables()
    s.put_va(va(0, 0x200), cmd(TIMESTAMP, 0, va(1, 0x100)))
    s.ib(va(0), [cmd(FENCE, 1, va(1), 1), cmd(FILL, 0, va(1, 8), 100, 0x77),
                 cmd(COPY, 0, va(0), va(2), 4096 + 100),
                 cmd(INDIRECT, 0, va(0, 0x200), 64, 0),
                 cmd(COPY, 1, va(0), va(3), 8, 8, 16, 64)])
    yield "ib-ctx1", s

    s = Seed()
    s.tables()
    s.ib(va(0), [cmd(FILL, 0, va(3), 4096, 0x1122), cmd(WAIT, 0, va(3), 0x22),
                 cmd(COPY, 0, va(3, 8), va(1), 64), cmd(FENCE, 0, va(3, 8), 9)])
    yield "ib-ctx1-devmem", s

    s = Seed()
    s.tables()
    s.ib(va(0), [cmd(FENCE, 0, va(1), 1), cmd(FENCE, 0, va(4), 2)])
    yield "ib-ctx1-readonly-fault", s

    s = Seed()
    s.tables()
    s.ib(va(0), [cmd(FENCE, 0, va(1), 1), cmd(COPY, 0, va(4, 4000), va(1), 200)])
    yield "ib-ctx1-unmapped", s

    s = Seed(root3=RAM | 1)
    s.tables()
    s.ib(va(0), [cmd(FENCE, 0, va(1), 3)], ctx=2)
    s.ib(va(0), [cmd(FENCE, 0, va(1, 8), 4)], ctx=3)
    yield "ib-ctx2-ctx3", s

    s = Seed()
    s.put(phys(0), cmd(INDIRECT, 0, phys(0), 64, 0))
    s.entry(cmd(INDIRECT, 0, phys(0), 64, 0))
    yield "ib-self-jump", s

    s = Seed()
    for i in range(5):
        s.put(phys(0, 64 * i), cmd(INDIRECT, 0, phys(0, 64 * (i + 1)), 64, 0))
    s.put(phys(0, 64 * 5), cmd(FENCE, 0, phys(1), 5))
    s.entry(cmd(INDIRECT, 0, phys(0, 128), 64, 0))
    s.entry(cmd(INDIRECT, 0, phys(0), 64, 0))
    yield "ib-depth", s

    s = Seed(flags=2, inject=1)
    s.tables()
    s.ib(va(0), [cmd(FENCE, 0, va(1), 1)])
    s.ib(va(0), [cmd(FENCE, 0, va(1), 1)])
    yield "inject-invalidate", s

    s = Seed()
    for c in [cmd(0x05), cmd(NOP, 1), cmd(FENCE, 0, phys(0, 4), 1),
              cmd(INDIRECT, 0, phys(0), 65, 0), cmd(COPY, 0, phys(0), phys(1), 0),
              cmd(COPY, 1, phys(0), phys(1), 8, 2, 4, 8),
              cmd(FILL, 0, phys(0), 1 << 41, 0), cmd(GEMM, 0, phys(0), 1)]:
        s.entry(c)
    yield "bad-commands", s

    # Operators, in context 1: descriptor at va(0, 0x400), data in va(1..2).
    s = Seed()
    s.tables()
    s.put_va(va(1), f32(1, 2, 3, 4, 5, 6))
    s.put_va(va(1, 0x100), f32(1, 0, 0, 1, 1, 1))
    s.put_va(va(1, 0x200), f32(1, 1, 1, 1))
    s.op(GEMM, [F32 | F32 << 8 | 1 << 16 | 1 << 20 | 1 << 24, 2, 2, 3,
                va(1), 2, va(1, 0x100), 2, va(2), 2, va(1, 0x200),
                f32bits(1.0) | f32bits(0.5) << 32])
    yield "op-gemm-f32", s

    s = Seed()
    s.tables()
    s.put_va(va(1), bytes([1, 2, 3, 4, 255, 128, 7, 9]))
    s.op(GEMM, [I8 | I32 << 8 | 2 << 20, 2, 2, 4, va(1), 4, va(1), 2, va(2),
                2, va(1, 0x100), 1 | 1 << 32])
    yield "op-gemm-i8", s

    s = Seed()
    s.tables()
    s.put_va(va(1), struct.pack("<8H", *([0x3c00] * 8)))
    s.op(GEMM, [F16 | F16 << 8 | 1 << 17, 2, 2, 2, va(1), 2, va(1, 8), 2,
                va(2), 2, 0, f32bits(1.0)])
    s.ib(va(0, 0x300), [cmd(GEMM, 0, va(0, 0x500))])
    s.put_va(va(0, 0x500), struct.pack("<16Q", BF16 | F32 << 8, 2, 2, 2,
                                       va(1), 2, va(1, 8), 2, va(2), 2, 0,
                                       f32bits(2.0), 0, 0, 0, 0))
    yield "op-gemm-16bit", s

    s = Seed()
    s.tables()
    s.put_va(va(1), f32(*range(12)))
    s.put_va(va(1, 0x100), f32(1, -1, 2))
    s.op(ELTWISE, [1 | F32 << 8 | 1 << 16, 4, 3, va(2), 3, va(1), 3,
                   va(1, 0x100), 0])
    s.ib(va(0, 0x300), [cmd(ELTWISE, 0, va(0, 0x500))])
    s.put_va(va(0, 0x500), struct.pack("<16Q", 4 | F32 << 8, 3, 4, va(2, 64),
                                       5, va(1), 4, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    yield "op-eltwise", s

    s = Seed()
    s.tables()
    s.put_va(va(1), f32(1, 2, 3, 4, 5, 6, 7, 8))
    s.op(SOFTMAX, [0, 2, 4, va(2), 4, va(1), 4])
    yield "op-softmax", s

    s = Seed()
    s.tables()
    s.put_va(va(1), f32(1, 2, 3, 4, 5, 6, 7, 8))
    s.put_va(va(1, 0x100), f32(1, 2, 1, 2))
    s.put_va(va(1, 0x200), f32(0, 1, 0, 1))
    s.op(LAYER_NORM, [0, 2, 4, va(2), 4, va(1), 4, va(1, 0x100),
                      va(1, 0x200), f32bits(1e-5)])
    s.ib(va(0, 0x300), [cmd(RMS_NORM, 0, va(0, 0x500))])
    s.put_va(va(0, 0x500), struct.pack("<16Q", 0, 2, 4, va(2, 64), 4, va(1),
                                       4, va(1, 0x100), 0, f32bits(1e-6),
                                       0, 0, 0, 0, 0, 0))
    yield "op-norms", s

    s = Seed()
    s.tables()
    s.put_va(va(1), f32(*range(2 * 5 * 5)))
    s.put_va(va(1, 0x400), f32(*([0.5] * 2 * 1 * 3 * 3)))
    s.put_va(va(1, 0x600), f32(1, -1))
    s.op(CONV2D, [1, 1, 2, 5, 5, 2, 3, 3, 2, pair(1, 2), pair(1, 1),
                  pair(1, 1), va(1), va(1, 0x400), va(1, 0x600), va(2)])
    yield "op-conv2d", s

    s = Seed()
    s.tables()
    s.put_va(va(1), f32(*range(2 * 4 * 4)))
    s.op(POOL2D, [1, 1, 2, 4, 4, 2, 2, pair(2, 2), pair(0, 0), va(1), va(2)])
    s.ib(va(0, 0x300), [cmd(POOL2D, 0, va(0, 0x500))])
    s.put_va(va(0, 0x500), struct.pack("<16Q", 2, 1, 2, 4, 4, 3, 3,
                                       pair(1, 1), pair(1, 1), va(1), va(2),
                                       0, 0, 0, 0, 0))
    yield "op-pool2d", s

    s = Seed()
    s.put(phys(1), f32(1, 2, 3, 4))
    s.put(phys(0), struct.pack("<16Q", F32 | F32 << 8, 2, 2, 2, phys(1), 2,
                               phys(1), 2, DEVMEM | 0x40, 2, 0,
                               f32bits(1.0), 0, 0, 0, 0))
    s.entry(cmd(GEMM, 0, phys(0)))
    yield "op-gemm-ctx0-devmem", s

    s = Seed(compute=False)
    s.put(phys(0), struct.pack("<16Q", 0, 1, 1, phys(1), 1, phys(1), 1,
                               *([0] * 9)))
    s.entry(cmd(SOFTMAX, 0, phys(0)))
    s.entry(cmd(COPY, 0, phys(1), phys(2), 64))
    yield "op-dma-engine", s

    # Direct queues: the ring at va(2) of context 1 (or 2, same tables).
    s = Seed(ring_ctx=1, ring_va=va(2), flags=4)
    s.tables()
    s.put_va(va(0, 0x200), b"".join([cmd(FENCE, 0, va(1, 0x10), 2),
                                     cmd(NOP)]))
    s.ring([cmd(FENCE, 1, va(1), 1), cmd(FILL, 0, va(3), 64, 0x55),
            cmd(COPY, 0, va(3), va(1, 0x40), 16), cmd(TIMESTAMP, 0, va(1, 8)),
            cmd(INDIRECT, 0, va(0, 0x200), 128, 0), cmd(WAIT, 0, va(1), 1),
            cmd(INDIRECT, 0, va(0, 0x200), 64, 1)])
    yield "dq-ctx1", s

    s = Seed(ring_ctx=2, ring_va=va(2))
    s.tables()
    s.ring([cmd(FENCE, 0, phys(1), 1), cmd(FILL, 0, DEVMEM, 8, 1)])
    yield "dq-ctx2-bus-addresses", s

    s = Seed(ring_ctx=1, ring_va=va(5))         # unmapped
    s.tables()
    s.entries = [cmd(NOP)] * 2
    yield "dq-fetch-fault", s

    s = Seed(ring_ctx=1, ring_va=va(3))         # device memory: NOPs
    s.tables()
    s.entries = [cmd(NOP)] * 3
    yield "dq-ring-devmem", s

    s = Seed(ring_ctx=3, ring_va=va(0), flags=2, inject=1, root3=RAM | 1)
    s.tables()
    s.ring([cmd(FENCE, 0, va(1), 1), cmd(FENCE, 0, va(1), 2)])
    yield "dq-ctx3-inject", s

    s = Seed(ring_ctx=3, ring_va=va(0))
    s.tables()
    s.ring([cmd(NOP)])
    yield "dq-no-root", s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    os.makedirs(out, exist_ok=True)
    for i, (name, s) in enumerate(seeds(), 1):
        with open(os.path.join(out, "seed-%02d-%s" % (i, name)), "wb") as f:
            f.write(s.bytes())


if __name__ == "__main__":
    main()
