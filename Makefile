# SPDX-License-Identifier: GPL-2.0
#
# vfio-dkms top-level build.  `make check` and `make demo` are the two
# commands a newcomer runs (as root, on Debian bookworm); both install what
# they need first.  Components each own their Makefile; this one only
# sequences them.

# GNU make and Kbuild split paths at spaces: say so before anything runs
# (a checkout anywhere else, /tmp and /root included, works).
ifneq ($(words $(CURDIR)),1)
$(error the checkout path "$(CURDIR)" contains a space, which GNU make cannot build in; clone into a path without spaces)
endif

VERSION := $(shell cat $(CURDIR)/VERSION)
BUILD ?= $(CURDIR)/build
PREFIX ?= /usr/local
DESTDIR ?=
export VERSION BUILD PREFIX DESTDIR

# Components appear as their directories land; a missing one is not built.
COMPONENTS := $(patsubst %/Makefile,%,$(wildcard module/Makefile libvfio/Makefile bindings/python/Makefile))

.PHONY: all deps check check-quick demo modules install clean bench deb rpm fuzz kernel-selftests $(COMPONENTS)

all: $(COMPONENTS) kernel-selftests

# Kernel modules are built once per test kernel, into build/kernels/KVER/.
module:
	$(MAKE) -C module all-kernels

libvfio:
	$(MAKE) -C libvfio

bindings/python: libvfio
	$(MAKE) -C bindings/python

modules: module

# The kernel's own VFIO selftests (fetched by make deps), compiled on the
# host for the dropin-kselftests VM suite.
kernel-selftests:
	scripts/kernel-vfio-selftests build

deps:
	scripts/install-deps

check: deps
	tests/run-all

# `make check-quick`, the inner loop (about 10 minutes): the host suites and
# the VM suites on one stock kernel, the newest 6.12 (QUICK_KERNEL=KVER to
# pick another), building only what that kernel needs.
QUICK_KERNEL ?= $(shell tests/vm/kernels | grep -E '^6\.12\.[0-9]+\+deb[0-9]+-amd64$$' | sort -V | tail -n 1)
check-quick: deps
	@test -n "$(QUICK_KERNEL)" || { echo "check-quick: no 6.12 stock kernel installed (make deps)" >&2; exit 1; }
	$(MAKE) -C module KVER=$(QUICK_KERNEL) KDIR=/lib/modules/$(QUICK_KERNEL)/build modules
	$(MAKE) -C module KVER=$(QUICK_KERNEL) KDIR=/lib/modules/$(QUICK_KERNEL)/build \
		FLAVOR=dropin modules dropin-index
	$(MAKE) libvfio bindings/python bench-prog fuzz-prog pycache kernel-selftests
	tests/run-all --no-build --skip-packaging --skip-slow-host --kernel $(QUICK_KERNEL)

# `make demo`: a Python example driver in a VM booted on the newest
# installed stock kernel (plain -amd64 flavour: not -rt, -cloud or debug
# builds), through our module (vfio-dkms-pci).  DEMO_BACKEND=vfio runs it
# through the in-tree vfio-pci.  DEMO picks the driver:
#   edu   QEMU's edu teaching device (examples/edu.py), the default
#   nvme  an NVMe controller (examples/nvme.py) whose disk image the host
#         fills with a known pattern before boot; the driver checks it
DEMO ?= edu
DEMO_BACKEND ?= vfio-dkms
DEMO_NVME_IMAGE = $(BUILD)/vm/demo-nvme.img
demo: deps
	$(MAKE) libvfio bindings/python
	@k=$$(tests/vm/kernels | grep -E -- '-amd64$$' | grep -vE -- '-(rt|cloud)-amd64$$' | \
		while read -r x; do [ -e "/boot/vmlinuz-$$x" ] && echo "$$x"; done | sort -V | tail -n 1); \
	test -n "$$k" || { echo "demo: no stock test kernel installed (make deps)" >&2; exit 1; }; \
	if [ "$(DEMO_BACKEND)" = vfio-dkms ]; then \
		$(MAKE) -C module KVER=$$k KDIR=/lib/modules/$$k/build modules || exit 1; \
	fi; \
	case "$(DEMO)" in \
	edu) \
		echo "demo: booting $$k (QEMU q35 + intel-iommu + edu)"; \
		tests/vm/run-vm --kernel $$k -- scripts/demo-guest $(DEMO_BACKEND) edu ;; \
	nvme) \
		mkdir -p "$(dir $(DEMO_NVME_IMAGE))" && \
		PYTHONPATH="$(BUILD)/python" /usr/bin/python3 examples/nvme.py \
			--make-image "$(DEMO_NVME_IMAGE)" || exit 1; \
		echo "demo: $(DEMO_NVME_IMAGE): 64 MiB, the first 4 MiB hold the test pattern"; \
		echo "demo: booting $$k (QEMU q35 + intel-iommu + nvme)"; \
		tests/vm/run-vm --kernel $$k --no-default-devices \
			--qemu-arg=-drive "--qemu-arg=if=none,id=nvm0,format=raw,file=$(DEMO_NVME_IMAGE)" \
			--qemu-arg=-device --qemu-arg=nvme,drive=nvm0,serial=vfiodemo,id=nvme0 \
			-- scripts/demo-guest $(DEMO_BACKEND) nvme ;; \
	*) \
		echo "demo: unknown DEMO=$(DEMO) (edu or nvme)" >&2; exit 2 ;; \
	esac

install: all
	$(foreach c,$(filter-out module,$(COMPONENTS)),$(MAKE) -C $(c) install &&) true

clean:
	rm -rf $(BUILD)
	$(foreach c,$(COMPONENTS),$(MAKE) -C $(c) clean;)

# Packages: Debian packages into build/deb/, RPMs (built here with
# rpmbuild --nodeps) into build/rpm/.  See docs/install.md.
deb:
	scripts/build-deb $(BUILD)/deb

rpm:
	scripts/build-rpm $(BUILD)/rpm

# `make bench`: every benchmark row A/B against the in-tree framework on
# each stock test kernel (4 GiB VMs); table, raw JSON and the growth plot in
# build/bench/ (docs/performance.md).  BENCH_ROUNDS=N (5).
bench: all
	tests/bench/run

# Bytecode of every Python source of the tree, compiled here once into
# build/pycache (PYTHONPYCACHEPREFIX): a TCG guest compiling the test
# libraries and the bindings again for each suite spent seconds per suite.
# The guest's interpreter is the system's, hence /usr/bin/python3.
.PHONY: pycache
all: pycache
pycache: bindings/python
	PYTHONPYCACHEPREFIX=$(BUILD)/pycache /usr/bin/python3 -m compileall -q -j0 \
		tests bindings/python examples $(wildcard $(BUILD)/python) >/dev/null

# The bench program is built with everything else, so the bench-smoke VM
# suite of `make check` finds it (it compiles it in the guest otherwise).
.PHONY: bench-prog
all: bench-prog
bench-prog: libvfio
	$(MAKE) -C tests/bench

# `make fuzz`: a million fuzzer operations with a fresh seed per stock test
# kernel (FUZZ_OPS, FUZZ_SEED override), docs/testing.md "Fuzzing".
fuzz: module fuzz-prog
	tests/vm/suites/fuzz/make-fuzz

# The fuzzer of the fuzz VM suites, built on the host: compiling it inside a
# TCG guest takes minutes.
.PHONY: fuzz-prog
all: fuzz-prog
fuzz-prog:
	$(MAKE) -C tests/vm/suites/fuzz OUT=$(BUILD)/fuzz
