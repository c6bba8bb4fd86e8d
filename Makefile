# Lumen: top-level build.  `make run` and `make check` do all the set-up on a
# fresh Debian 12 machine (as root); every download and build they need is
# cached in ${XDG_CACHE_HOME:-~/.cache}/lumen, outside the checkout.
#
#   make run      boot the emulated machine and run the main job
#   make check    run every test; ends with "N passed, N failed[, N skipped]"
#   make check-debug  the reliability lane: every in-guest test, the KUnit
#                 tests, allocation-failure tests and the fuzzer on the
#                 debug kernel (KASAN, lockdep, kmemleak, UBSAN, VT-d)
#   make fuzz     the ioctl fuzzer on the debug kernel: FUZZ_SECONDS=600
#                 FUZZ_SEED=0x... (replay) FUZZ_PROCS=4
#   make fuzz-core  libFuzzer on the device's command core, on the host:
#                 FUZZ_SECONDS=600
#   make module   build lumen.ko for this host (KDIR=... overrides)
#   make style    checkpatch --strict and sparse on driver/ and uapi/
SHELL := /bin/bash
ENV := . $(CURDIR)/tools/setup/lumen-env
O := $(CURDIR)/build
# Sub-builds use every CPU: under a parallel make (`make check` starts one
# for its builds) through its jobserver, otherwise each with -j<CPUs>.
NPROC := $(shell nproc)
J = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))

.PHONY: all deps kernel qemu module module-guest userspace lib tools tests \
	initramfs guest run check style clean \
	debug-kernel debug-modules reliability-tests initramfs-debug guest-debug \
	check-debug fuzz fuzz-core

all: guest

deps:
	@tools/setup/lumen-deps

kernel: deps
	@tools/vm/fetch-kernel

qemu: deps
	@tools/qemu/build-qemu

# lumen.ko for the guest kernel (what the VM loads).
module-guest: kernel
	@echo "lumen: building lumen.ko for the guest kernel…"
	@$(ENV) && $(MAKE) -s $(J) -C "$$LUMEN_GUEST_KDIR" M=$(CURDIR) modules

# lumen.ko for this host's running kernel, or for KDIR.
KDIR ?= $(wildcard /lib/modules/$(shell uname -r)/build)
module:
	@if [ -z "$(KDIR)" ]; then \
		echo "make module: no headers for $$(uname -r); install linux-headers-$$(uname -r) or pass KDIR=/path/to/kernel/build." >&2; \
		exit 1; fi
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib: deps
	@$(ENV) && $(MAKE) -s $(J) -C lib O=$(O)

tools: lib
	@$(ENV) && $(MAKE) -s $(J) -C tools O=$(O)

tests: lib kernel
	@$(ENV) && $(MAKE) -s $(J) -C tests/guest O=$(O)
	@$(ENV) && $(MAKE) -s $(J) -C tests/digits O=$(O) guest

userspace: lib tools tests

initramfs: module-guest userspace
	@tools/vm/mkinitramfs

guest: qemu initramfs

run: guest
	@echo "lumen: booting the emulated machine (TCG: about 10 seconds)…"
	@tools/vm/lumen-vm run --nvme -- /usr/libexec/lumen/main-job

# Includes the reliability lane (a quick pass): the first run builds the
# debug kernel too (about 7 minutes, said when it starts).  The stock and
# debug builds run side by side.
check:
	@$(MAKE) -s $(J) guest guest-debug
	@tests/run-checks

# ---- The reliability lane (Documentation/testing.rst) ----------------------

# The debug guest kernel, built in the cache (about 7 minutes the first time).
debug-kernel: deps
	@tools/debug-kernel/build-kernel

# lumen.ko and lumen_kunit.ko for the debug kernel, in build/debug/tree.
debug-modules: debug-kernel
	@tools/debug-kernel/build-modules

# The fuzzer and the allocation-failure tests (guest programs).
reliability-tests: lib kernel
	@$(ENV) && $(MAKE) -s $(J) -C tests/fuzz O=$(O)
	@$(ENV) && $(MAKE) -s $(J) -C tests/faultinject O=$(O)

initramfs-debug: debug-modules userspace reliability-tests
	@tools/vm/mkinitramfs --kernel debug

guest-debug: qemu initramfs-debug

FUZZ_SECONDS ?= 600
FUZZ_PROCS ?= 4
FUZZ_SEED ?=
check-debug: guest-debug
	@tests/run-debug-checks

fuzz: guest-debug
	@tests/run-debug-checks --fuzz-only --fuzz-seconds $(FUZZ_SECONDS) \
		--fuzz-procs $(FUZZ_PROCS) $(if $(FUZZ_SEED),--fuzz-seed $(FUZZ_SEED))

# The device's command decoder, MMU and operators under libFuzzer (host).
fuzz-core: deps
	@tests/fuzz-core/run $(FUZZ_SECONDS)

style: kernel
	@tests/style/run

clean:
	rm -rf $(O)
	@$(ENV) && [ ! -d "$$LUMEN_GUEST_KDIR" ] || $(MAKE) -s -C "$$LUMEN_GUEST_KDIR" M=$(CURDIR) clean
