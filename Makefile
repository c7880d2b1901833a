# SPDX-License-Identifier: GPL-2.0
#
# vfio-dkms top-level build.  `make check` and `make demo` are the two
# commands a newcomer runs (as root, on Debian bookworm); both install what
# they need first.  Components each own their Makefile; this one only
# sequences them.

VERSION := $(shell cat $(CURDIR)/VERSION)
BUILD ?= $(CURDIR)/build
PREFIX ?= /usr/local
DESTDIR ?=
export VERSION BUILD PREFIX DESTDIR

# Components appear as their directories land; a missing one is not built.
COMPONENTS := $(patsubst %/Makefile,%,$(wildcard module/Makefile libvfio/Makefile bindings/python/Makefile))

.PHONY: all deps check demo modules install clean bench deb rpm fuzz $(COMPONENTS)

all: $(COMPONENTS)

# Kernel modules are built once per test kernel, into build/kernels/KVER/.
module:
	$(MAKE) -C module all-kernels

libvfio:
	$(MAKE) -C libvfio

bindings/python: libvfio
	$(MAKE) -C bindings/python

modules: module

deps:
	scripts/install-deps

check: deps
	tests/run-all

# `make demo`: QEMU's edu device driven from Python (examples/edu.py) in a VM
# booted on the newest installed stock kernel (plain -amd64 flavour: not
# -rt, -cloud or debug builds), through our module
# (vfio-dkms-pci).  DEMO_BACKEND=vfio runs it through the in-tree vfio-pci.
DEMO_BACKEND ?= vfio-dkms
demo: deps
	$(MAKE) libvfio bindings/python
	@k=$$(tests/vm/kernels | grep -E -- '-amd64$$' | grep -vE -- '-(rt|cloud)-amd64$$' | sort -V | tail -n 1); \
	test -n "$$k" || { echo "demo: no stock test kernel installed (make deps)" >&2; exit 1; }; \
	if [ "$(DEMO_BACKEND)" = vfio-dkms ]; then \
		$(MAKE) -C module KVER=$$k KDIR=/lib/modules/$$k/build modules || exit 1; \
	fi; \
	echo "demo: booting $$k (QEMU q35 + intel-iommu + edu)"; \
	tests/vm/run-vm --kernel $$k -- scripts/demo-guest $(DEMO_BACKEND)

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

# `make bench` (issue 7): every benchmark row A/B against the in-tree
# framework on each stock test kernel (4 GiB VMs); table, raw JSON and the
# growth plot in build/bench/ (docs/performance.md).  BENCH_ROUNDS=N (5).
bench: all
	tests/bench/run

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
