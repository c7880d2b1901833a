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

.PHONY: all deps check demo modules install clean bench deb rpm $(COMPONENTS)

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
