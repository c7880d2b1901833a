// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host unit tests: IOVA allocator, capability chains, sysfs parsing
 * against a fake tree, error messages, device addresses of buffer bytes,
 * the choice of IOMMU model, polling, and DMA pools over a context with a
 * stand-in IOMMU model.  TAP on stdout; run under valgrind by
 * tests/host/libvfio/run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../src/private.h"
#include "fake_iommu.h"
#include "tap.h"

#define MiB (UINT64_C(1) << 20)

static void test_iova(void)
{
	/* what intel-iommu reports: a hole for the MSI window */
	const struct vfio__iova_range r[] = {
		{ 0, 0xfedfffff },
		{ 0xfef00000, 0xffffffffffffULL },
	};
	struct vfio__iova a;
	uint64_t iova, x[64], lim28 = (UINT64_C(1) << 28) - 1;
	int ret, i, bad;

	OK(vfio__iova_init(&a, r, 2, 4096) == 0, "iova: init with 2 ranges");
	OK(vfio__iova_alloc(&a, 4096, 4096, UINT64_MAX, &iova) == 0 && iova == 4096,
	   "iova: first allocation skips page 0 (got 0x%llx)", (unsigned long long)iova);
	OK(vfio__iova_alloc(&a, 8192, 2 * MiB, UINT64_MAX, &iova) == 0 && iova == 2 * MiB,
	   "iova: alignment honoured (got 0x%llx)", (unsigned long long)iova);
	OK(vfio__iova_alloc(&a, 4096, 4096, UINT64_MAX, &iova) == 0 && iova == 8192,
	   "iova: first fit reuses the gap below (got 0x%llx)", (unsigned long long)iova);

	/* a block that does not fit below the hole goes above it */
	ret = vfio__iova_reserve(&a, 0x10000000, 0xfedfffff - 0x10000000 + 1 - 4096, UINT64_MAX);
	OK(ret == 0, "iova: reserve a fixed range");
	OK(vfio__iova_alloc(&a, 64 * 1024, 4096, UINT64_MAX, &iova) == 0 && iova < 0x10000000,
	   "iova: small block fits low (0x%llx)", (unsigned long long)iova);
	OK(vfio__iova_alloc(&a, 1 * MiB, 1 * MiB, UINT64_MAX, &iova) == 0 &&
	   (iova < 0x10000000 || iova >= 0xfef00000),
	   "iova: never inside the hole (0x%llx)", (unsigned long long)iova);
	OK(vfio__iova_reserve(&a, 0xfee00000, 4096, UINT64_MAX) == -ERANGE,
	   "iova: reserve in the hole -> -ERANGE (%s)", vfio_last_error());
	OK(vfio__iova_reserve(&a, 8192, 4096, UINT64_MAX) == -EEXIST,
	   "iova: reserve overlapping -> -EEXIST (%s)", vfio_last_error());
	OK(vfio__iova_release(&a, 12345) == -ENOENT, "iova: release unknown -> -ENOENT");
	vfio__iova_fini(&a);

	/* 28-bit limit: everything stays below 256 MiB, then exhaustion */
	vfio__iova_init(&a, r, 2, 4096);
	bad = 0;
	for (i = 0; i < 64; i++) {
		if (vfio__iova_alloc(&a, 4 * MiB, 4096, lim28, &x[i]) ||
		    x[i] + 4 * MiB - 1 > lim28)
			bad++;
	}
	OK(bad == 1, "iova: 28-bit limit holds 63 blocks of 4 MiB above page 0 (failures %d)", bad);
	OK(vfio__iova_alloc(&a, 4096, 4096, lim28, &iova) == 0 && iova <= lim28,
	   "iova: leftover page below the limit still usable");
	for (i = 0; (ret = vfio__iova_alloc(&a, 4096, 4096, lim28, &iova)) == 0; i++)
		;
	OK(ret == -ENOSPC && i == 1022, "iova: exhaustion after the last %d pages -> -ENOSPC (%s)",
	   i, vfio_last_error());
	OK(strstr(vfio_last_error(), "0xfffffff") != NULL, "iova: message names the limit");

	/* fragmentation: free every other block; a 4 MiB fits, an 8 MiB does not */
	for (i = 0; i < 62; i += 2)
		vfio__iova_release(&a, x[i]);
	OK(vfio__iova_alloc(&a, 8 * MiB, 4096, lim28, &iova) == -ENOSPC,
	   "iova: fragmented space refuses a block larger than any hole");
	OK(vfio__iova_alloc(&a, 4 * MiB, 4096, lim28, &iova) == 0 && iova == x[0],
	   "iova: a block that fits takes the first hole");
	OK(vfio__iova_alloc(&a, 2 * MiB, 2 * MiB, lim28, &iova) == 0 && !(iova & (2 * MiB - 1)),
	   "iova: aligned allocation in a fragmented space");
	OK(vfio__iova_alloc(&a, 0, 4096, lim28, &iova) == -EINVAL, "iova: size 0 -> -EINVAL");
	OK(vfio__iova_alloc(&a, 4096, 3000, lim28, &iova) == -EINVAL,
	   "iova: non-power-of-two alignment -> -EINVAL");
	vfio__iova_fini(&a);

	/* no ranges reported: the whole 64-bit space, top end without overflow */
	vfio__iova_init(&a, NULL, 0, 4096);
	OK(vfio__iova_reserve(&a, UINT64_MAX - 4095, 4096, UINT64_MAX) == 0,
	   "iova: reserve the last page of the 64-bit space");
	OK(vfio__iova_alloc(&a, 8192, UINT64_C(1) << 63, UINT64_MAX, &iova) == 0 &&
	   iova == UINT64_C(1) << 63, "iova: huge alignment");
	OK(vfio__iova_alloc(&a, UINT64_C(1) << 63, UINT64_C(1) << 63, UINT64_MAX, &iova) == -ENOSPC,
	   "iova: no overflow at the top of the space");
	vfio__iova_fini(&a);
}

/* Build a region info with a capability chain in @buf; returns its size. */
static size_t build_region_info(uint8_t *buf, size_t room, int corrupt)
{
	struct vfio_region_info *info = (void *)buf;
	struct vfio_region_info_cap_sparse_mmap sp = { 0 };
	struct vfio_region_sparse_mmap_area areas[2] = { { 0, 0x1000 }, { 0x3000, 0x1000 } };
	struct vfio_region_info_cap_type ty = { 0 };
	size_t off_sp = sizeof(*info), off_ty;

	memset(buf, 0, room);
	off_ty = off_sp + sizeof(sp) + sizeof(areas);
	info->argsz = off_ty + sizeof(ty);
	info->flags = VFIO_REGION_INFO_FLAG_CAPS | VFIO_REGION_INFO_FLAG_MMAP;
	info->size = 0x4000;
	info->cap_offset = off_sp;
	sp.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sp.header.version = 1;
	sp.header.next = off_ty;
	sp.nr_areas = 2;
	ty.header.id = VFIO_REGION_INFO_CAP_TYPE;
	ty.header.version = 1;
	ty.type = 3;
	ty.subtype = 7;
	if (corrupt == 1)
		ty.header.next = off_sp; /* loop */
	if (corrupt == 2)
		sp.nr_areas = 1000; /* does not fit */
	if (corrupt == 3)
		sp.header.next = 4096; /* outside */
	memcpy(buf + off_sp, &sp, sizeof(sp));
	memcpy(buf + off_sp + sizeof(sp), areas, sizeof(areas));
	memcpy(buf + off_ty, &ty, sizeof(ty));
	return info->argsz;
}

static void test_caps(void)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	struct vfio__region_caps c;
	size_t sz;

	sz = build_region_info(buf, sizeof(buf), 0);
	OK(vfio__parse_region_caps(buf, sz, sizeof(struct vfio_region_info), &c) == 0,
	   "caps: parse sparse-mmap + type chain");
	OK(c.has_sparse && c.nr_areas == 2 && c.areas[1].offset == 0x3000 &&
	   c.areas[1].size == 0x1000, "caps: two sparse areas read");
	OK(c.has_type && c.type == 3 && c.subtype == 7, "caps: type/subtype read");
	free(c.areas);

	sz = build_region_info(buf, sizeof(buf), 1);
	OK(vfio__parse_region_caps(buf, sz, sizeof(struct vfio_region_info), &c) == -EPROTO &&
	   !c.areas, "caps: a looping chain -> -EPROTO (%s)", vfio_last_error());
	sz = build_region_info(buf, sizeof(buf), 2);
	OK(vfio__parse_region_caps(buf, sz, sizeof(struct vfio_region_info), &c) == -EPROTO,
	   "caps: too many areas -> -EPROTO (%s)", vfio_last_error());
	sz = build_region_info(buf, sizeof(buf), 3);
	OK(vfio__parse_region_caps(buf, sz, sizeof(struct vfio_region_info), &c) == -EPROTO,
	   "caps: offset outside the buffer -> -EPROTO (%s)", vfio_last_error());
	OK(vfio__parse_region_caps(buf, sz, 0, &c) == 0 && !c.has_sparse && !c.has_type,
	   "caps: empty chain");

	/* IOVA ranges of VFIO_IOMMU_GET_INFO */
	{
		struct vfio_iommu_type1_info *info = (void *)buf;
		struct vfio_iommu_type1_info_cap_iova_range cap = { 0 };
		struct vfio_iova_range rr[2] = { { 0, 0xfedfffff }, { 0xfef00000, 0xffffffffff } };
		struct vfio__iova_range *out = NULL;
		unsigned int nr = 0;
		size_t off = sizeof(*info);

		memset(buf, 0, sizeof(buf));
		info->argsz = off + sizeof(cap) + sizeof(rr);
		info->flags = VFIO_IOMMU_INFO_CAPS;
		info->cap_offset = off;
		cap.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
		cap.nr_iovas = 2;
		memcpy(buf + off, &cap, sizeof(cap));
		memcpy(buf + off + sizeof(cap), rr, sizeof(rr));
		OK(vfio__parse_iova_ranges(buf, info->argsz, off, &out, &nr) == 0 && nr == 2 &&
		   out[1].start == 0xfef00000 && out[1].last == 0xffffffffff,
		   "caps: IOVA-range capability");
		free(out);
		rr[1].start = 0x1000; /* unsorted */
		memcpy(buf + off + sizeof(cap), rr, sizeof(rr));
		OK(vfio__parse_iova_ranges(buf, info->argsz, off, &out, &nr) == -EPROTO,
		   "caps: unsorted IOVA ranges -> -EPROTO");
	}
}

static char root[PATH_MAX];

static void put(const char *rel, const char *content)
{
	char p[PATH_MAX * 2], cmd[PATH_MAX * 6];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	if (system(cmd))
		abort();
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(content, f);
	fclose(f);
}

static void lnk(const char *target, const char *rel)
{
	char p[PATH_MAX * 2], cmd[PATH_MAX * 6];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && ln -sfn '%s' '%s'", p, target, p);
	if (system(cmd))
		abort();
}

static void fake_dev(const char *addr, const char *ven, const char *dev, const char *cls,
		     const char *drv, int group)
{
	char rel[256], t[256];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/vendor", addr);
	put(rel, ven);
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/device", addr);
	put(rel, dev);
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/class", addr);
	put(rel, cls);
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver_override", addr);
	put(rel, "(null)\n");
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", addr);
	snprintf(t, sizeof(t), "../../../devices/pci0000:00/%s", addr);
	lnk(t, rel);
	if (drv) {
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", addr);
		snprintf(t, sizeof(t), "../../../bus/pci/drivers/%s", drv);
		lnk(t, rel);
		snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/unbind", drv);
		put(rel, "");
	}
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/iommu_group", addr);
		snprintf(t, sizeof(t), "../../../kernel/iommu_groups/%d", group);
		lnk(t, rel);
		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", group, addr);
		snprintf(t, sizeof(t), "../../../../devices/pci0000:00/%s", addr);
		lnk(t, rel);
	}
}

static void read_file(const char *rel, char *buf, size_t len)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	buf[0] = '\0';
	vfio__sysfs_read_line(p, buf, len);
}

static void test_sysfs(void)
{
	char addr[VFIO_ADDR_LEN], buf[128], cmd[PATH_MAX + 16];
	const struct vfio_pci_device *p;
	struct vfio_pci_device *pd;
	struct vfio_pci_list *l;
	struct vfio_device *dev;
	struct vfio_context *ctx;
	int ret;

	snprintf(root, sizeof(root), "/tmp/libvfio-unit-XXXXXX");
	if (!mkdtemp(root))
		abort();
	fake_dev("0000:00:03.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", "vfio-pci", 3);
	fake_dev("0000:00:1f.0", "0x8086\n", "0x2918\n", "0x060100\n", "lpc_ich", 7);
	fake_dev("0000:00:1f.2", "0x8086\n", "0x2922\n", "0x010601\n", "ahci", 7);
	fake_dev("0000:00:1f.3", "0x8086\n", "0x2930\n", "0x0c0500\n", "vfio-pci", 7);
	fake_dev("0000:00:02.0", "0x1b36\n", "0x0010\n", "0x010802\n", NULL, -1);
	put("sys/bus/pci/drivers_probe", "");
	vfio__set_sysfs_root(root);
	vfio__set_dev_root(root);

	OK(vfio__parse_address("00:03.0", addr) == 0 && !strcmp(addr, "0000:00:03.0"),
	   "sysfs: short address canonicalised");
	OK(vfio__parse_address("0000:00:1F.2", addr) == 0 && !strcmp(addr, "0000:00:1f.2"),
	   "sysfs: upper-case address canonicalised");
	OK(vfio__parse_address("0000:00:03", addr) == -EINVAL &&
	   strstr(vfio_last_error(), "not a PCI address"), "sysfs: bad address -> -EINVAL");
	OK(vfio__parse_address("0000:00:20.0", addr) == -EINVAL, "sysfs: slot 0x20 -> -EINVAL");

	ret = vfio_pci_list_new(&l);
	OK(ret == 0 && vfio_pci_list_count(l) == 5, "sysfs: list finds 5 devices");
	p = vfio_pci_list_get(l, 0);
	OK(p && !strcmp(vfio_pci_device_address(p), "0000:00:02.0") &&
	   vfio_pci_device_driver(p) == NULL && vfio_pci_device_iommu_group(p) == -1,
	   "sysfs: list sorted; unbound device without group");
	p = vfio_pci_list_get(l, 1);
	OK(p && vfio_pci_device_vendor(p) == 0x1234 && vfio_pci_device_device(p) == 0x11e8 &&
	   vfio_pci_device_class(p) == 0xff00 && !strcmp(vfio_pci_device_driver(p), "vfio-pci") &&
	   vfio_pci_device_iommu_group(p) == 3, "sysfs: edu ids, driver and group");
	OK(vfio_pci_list_get(l, 5) == NULL, "sysfs: out-of-range index -> NULL");
	vfio_pci_list_free(l);

	OK(vfio_pci_device_new("00:1f.2", &pd) == 0 && !strcmp(vfio_pci_device_driver(pd), "ahci"),
	   "sysfs: lookup one device");
	vfio_pci_device_free(pd);
	OK(vfio_pci_device_new("0000:00:09.0", &pd) == -ENOENT &&
	   strstr(vfio_last_error(), "no PCI device 0000:00:09.0"), "sysfs: unknown device -> -ENOENT");

	ret = vfio__group_blocker(7, vfio__vfio_drivers, buf, sizeof(buf));
	OK(ret == 1 && (strstr(buf, "is bound to ahci") || strstr(buf, "is bound to lpc_ich")),
	   "sysfs: group blocker named (%s)", buf);
	OK(vfio__group_blocker(3, vfio__vfio_drivers, buf, sizeof(buf)) == 0,
	   "sysfs: viable group has no blocker");

	/* bind: errors and the sysfs writes */
	OK(vfio_pci_bind("0000:00:03.0", "vfio-dkms-pci") == -ENODEV &&
	   strstr(vfio_last_error(), "driver vfio-dkms-pci is not loaded"),
	   "bind: driver not loaded -> -ENODEV (%s)", vfio_last_error());
	OK(vfio_pci_bind("0000:00:09.0", "vfio-pci") == -ENOENT, "bind: no such device -> -ENOENT");
	OK(vfio_pci_bind("zz", "vfio-pci") == -EINVAL, "bind: bad address -> -EINVAL");
	OK(vfio_pci_bind("0000:00:03.0", "a/b") == -EINVAL, "bind: bad driver name -> -EINVAL");
	OK(vfio_pci_bind("0000:00:03.0", "vfio-pci") == 0, "bind: already bound is a no-op");
	ret = vfio_pci_bind("0000:00:1f.2", "vfio-pci");
	read_file("sys/devices/pci0000:00/0000:00:1f.2/driver_override", buf, sizeof(buf));
	OK(!strcmp(buf, "vfio-pci"), "bind: driver_override written");
	read_file("sys/bus/pci/drivers/ahci/unbind", buf, sizeof(buf));
	OK(!strcmp(buf, "0000:00:1f.2"), "bind: old driver unbound");
	read_file("sys/bus/pci/drivers_probe", buf, sizeof(buf));
	OK(!strcmp(buf, "0000:00:1f.2"), "bind: drivers_probe written");
	OK(ret == -EIO && strstr(vfio_last_error(), "probe left it bound to ahci"),
	   "bind: a probe that did not take -> -EIO (%s)", vfio_last_error());
	OK(vfio_pci_unbind("0000:00:02.0") == 0, "unbind: unbound device succeeds");

	/* device open failure paths that need no kernel */
	OK(vfio_device_open(NULL, "0000:00:02.0", VFIO_BACKEND_AUTO, &dev) == -ENXIO &&
	   strstr(vfio_last_error(), "no IOMMU group"), "open: no group -> -ENXIO (%s)",
	   vfio_last_error());
	OK(vfio_device_open(NULL, "0000:00:1f.2", VFIO_BACKEND_AUTO, &dev) == -ENODEV &&
	   strstr(vfio_last_error(), "bound to ahci, not to a VFIO driver"),
	   "open: ahci -> -ENODEV (%s)", vfio_last_error());
	OK(vfio_device_open(NULL, "0000:00:03.0", VFIO_BACKEND_VFIO_DKMS, &dev) == -ENODEV &&
	   strstr(vfio_last_error(), "not to vfio-dkms-pci"),
	   "open: explicit backend mismatch -> -ENODEV (%s)", vfio_last_error());
	OK(vfio_device_open(NULL, "0000:00:03.0", VFIO_BACKEND_AUTO, &dev) == -ENODEV &&
	   strstr(vfio_last_error(), "/dev/vfio/vfio: no such file"),
	   "open: missing container node -> -ENODEV (%s)", vfio_last_error());
	OK(vfio_device_open(NULL, "0000:00:09.0", VFIO_BACKEND_AUTO, &dev) == -ENOENT,
	   "open: no such device -> -ENOENT");
	OK(vfio_context_new(&ctx) == 0, "context: new");
	OK(vfio_context_backend(ctx) == VFIO_BACKEND_AUTO && vfio_context_num_devices(ctx) == 0 &&
	   vfio_context_num_iova_ranges(ctx) == 1 && vfio_context_dma_limit(ctx) == UINT64_MAX,
	   "context: empty context accessors");
	{
		struct vfio_dma *d;

		OK(vfio_dma_alloc(ctx, 4096, 0, &d) == -ENODEV, "dma: alloc without a device -> -ENODEV");
	}
	vfio_context_free(ctx);

	vfio__set_sysfs_root(NULL);
	vfio__set_dev_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		abort();
}

/* A module directory in the fake tree; NULL leaves that file out. */
static void fake_module(const char *name, const char *initstate, const char *flavor,
			const char *version)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/module/%s/holders/.keep", name);
	put(rel, "");
	if (initstate) {
		snprintf(rel, sizeof(rel), "sys/module/%s/initstate", name);
		put(rel, initstate);
	}
	if (flavor) {
		snprintf(rel, sizeof(rel), "sys/module/%s/parameters/vfio_dkms_flavor", name);
		put(rel, flavor);
	}
	if (version) {
		snprintf(rel, sizeof(rel), "sys/module/%s/version", name);
		put(rel, version);
	}
}

static void clear_modules(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/module'", root);
	if (system(cmd))
		abort();
}

/* The implementation and version libvfio reports for @b, or -errno. */
static int impl_of(enum vfio_backend b, enum vfio_implementation *impl, char *ver, size_t len)
{
	*impl = (enum vfio_implementation)-1;
	if (len)
		snprintf(ver, len, "untouched");
	return vfio_backend_implementation(b, impl, ver, len);
}

static void test_implementation(void)
{
	enum vfio_implementation impl;
	char ver[32], cmd[PATH_MAX + 16];
	int ret;

	OK(!strcmp(vfio_implementation_name(VFIO_IMPLEMENTATION_NONE), "none") &&
	   !strcmp(vfio_implementation_name(VFIO_IMPLEMENTATION_IN_TREE), "in-tree") &&
	   !strcmp(vfio_implementation_name(VFIO_IMPLEMENTATION_VFIO_DKMS), "vfio-dkms") &&
	   !strcmp(vfio_implementation_name(VFIO_IMPLEMENTATION_VFIO_DKMS_DROPIN),
		   "vfio-dkms-dropin"),
	   "implementation: names");
	OK(vfio_implementation_name((enum vfio_implementation)4) == NULL &&
	   vfio_implementation_name((enum vfio_implementation)-1) == NULL,
	   "implementation: unknown value has no name");

	snprintf(root, sizeof(root), "/tmp/libvfio-impl-XXXXXX");
	if (!mkdtemp(root))
		abort();
	put("sys/kernel/.keep", "");
	vfio__set_sysfs_root(root);

	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_NONE && !strcmp(ver, ""),
	   "implementation: no vfio module -> none, version \"\" (%d %s)", ret, ver);
	ret = impl_of(VFIO_BACKEND_VFIO_DKMS, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_NONE && !strcmp(ver, ""),
	   "implementation: no vfio_dkms module -> none (%d %s)", ret, ver);

	/* Debian's vfio.ko: loadable, MODULE_VERSION("0.3"), no flavor */
	fake_module("vfio", "live\n", NULL, "0.3\n");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_IN_TREE && !strcmp(ver, "0.3"),
	   "implementation: in-tree vfio module -> in-tree 0.3 (%d %s)", ret, ver);
	ret = impl_of(VFIO_BACKEND_VFIO_DKMS, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_NONE,
	   "implementation: in-tree vfio loaded, vfio-dkms backend still none");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, NULL, 0);
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_IN_TREE,
	   "implementation: no version buffer wanted");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, 3);
	OK(ret == -ERANGE && impl == (enum vfio_implementation)-1 && !strcmp(ver, "un") &&
	   strstr(vfio_last_error(), "does not fit"),
	   "implementation: version too long for the buffer -> -ERANGE, nothing stored (%s)",
	   vfio_last_error());
	clear_modules();

	/* built in: no initstate; in-tree even if it carried the parameter */
	fake_module("vfio", NULL, NULL, "0.3\n");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_IN_TREE && !strcmp(ver, "0.3"),
	   "implementation: built-in vfio -> in-tree (%d %s)", ret, ver);
	clear_modules();
	fake_module("vfio", NULL, "dropin\n", NULL);
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_IN_TREE && !strcmp(ver, ""),
	   "implementation: built-in vfio is in-tree whatever it reports (%d %s)", ret, ver);
	clear_modules();

	/* the default flavor, under its own names */
	fake_module("vfio_dkms", "live\n", "default\n", "0.1.0\n");
	ret = impl_of(VFIO_BACKEND_VFIO_DKMS, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_VFIO_DKMS && !strcmp(ver, "0.1.0"),
	   "implementation: vfio_dkms flavor default -> vfio-dkms 0.1.0 (%d %s)", ret, ver);
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_NONE,
	   "implementation: default flavor alone leaves /dev/vfio's backend none");
	clear_modules();
	fake_module("vfio_dkms", "live\n", NULL, NULL);
	ret = impl_of(VFIO_BACKEND_VFIO_DKMS, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_VFIO_DKMS && !strcmp(ver, ""),
	   "implementation: vfio_dkms without the parameter is still vfio-dkms (%d %s)", ret,
	   ver);
	clear_modules();

	/* the drop-in under the kernel's name, with the default flavor beside it */
	fake_module("vfio", "live\n", "dropin\n", "0.1.0\n");
	fake_module("vfio_dkms", "live\n", "default\n", "0.1.0\n");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_VFIO_DKMS_DROPIN && !strcmp(ver, "0.1.0"),
	   "implementation: vfio flavor dropin -> vfio-dkms-dropin 0.1.0 (%d %s)", ret, ver);
	ret = impl_of(VFIO_BACKEND_VFIO_DKMS, &impl, ver, sizeof(ver));
	OK(ret == 0 && impl == VFIO_IMPLEMENTATION_VFIO_DKMS,
	   "implementation: both flavors at once, each backend its own");
	clear_modules();

	/* what cannot be read or is not known is an error, never a guess */
	fake_module("vfio", "live\n", NULL, "0.3\n");
	put("sys/module/vfio/parameters/vfio_dkms_flavor/.keep", "");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == -EISDIR && impl == (enum vfio_implementation)-1 && !strcmp(ver, "untouched") &&
	   strstr(vfio_last_error(), "vfio/parameters/vfio_dkms_flavor"),
	   "implementation: unreadable flavor parameter -> error naming it, nothing stored (%s)",
	   vfio_last_error());
	clear_modules();
	fake_module("vfio", "live\n", "sideways\n", NULL);
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == -EPROTO && impl == (enum vfio_implementation)-1 &&
	   strstr(vfio_last_error(), "unknown flavor 'sideways'"),
	   "implementation: unknown flavor -> -EPROTO (%s)", vfio_last_error());
	clear_modules();
	fake_module("vfio", "live\n", NULL, NULL);
	put("sys/module/vfio/version/.keep", "");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == -EISDIR && impl == (enum vfio_implementation)-1,
	   "implementation: unreadable version -> error (%s)", vfio_last_error());
	clear_modules();
	put("sys/module/vfio", "not a directory\n");
	ret = impl_of(VFIO_BACKEND_VFIO, &impl, ver, sizeof(ver));
	OK(ret == -ENOTDIR && impl == (enum vfio_implementation)-1,
	   "implementation: /sys/module/vfio not a directory -> -ENOTDIR (%s)",
	   vfio_last_error());
	clear_modules();

	OK(vfio_backend_implementation(VFIO_BACKEND_AUTO, &impl, ver, sizeof(ver)) == -EINVAL,
	   "implementation: auto is not a backend -> -EINVAL (%s)", vfio_last_error());
	OK(vfio_backend_implementation((enum vfio_backend)7, &impl, ver, sizeof(ver)) == -EINVAL,
	   "implementation: unknown backend -> -EINVAL");
	OK(vfio_backend_implementation(VFIO_BACKEND_VFIO, NULL, ver, sizeof(ver)) == -EINVAL,
	   "implementation: NULL impl -> -EINVAL");
	OK(vfio_backend_implementation(VFIO_BACKEND_VFIO, &impl, NULL, 8) == -EINVAL,
	   "implementation: NULL version with a length -> -EINVAL");

	vfio__set_sysfs_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		abort();
}

static void *thread_err(void *arg)
{
	(void)arg;
	vfio__err(EIO, "thread message");
	return strcmp(vfio_last_error(), "thread message") ? (void *)1 : NULL;
}

static void test_errors(void)
{
	enum vfio_backend b;
	enum vfio_irq_type t;
	pthread_t th;
	void *res;

	vfio__err(EBUSY, "main message");
	pthread_create(&th, NULL, thread_err, NULL);
	pthread_join(th, &res);
	OK(!res && !strcmp(vfio_last_error(), "main message") && vfio_last_errno() == EBUSY,
	   "error: messages are per thread");
	vfio_clear_error();
	OK(!strcmp(vfio_last_error(), "") && vfio_last_errno() == 0, "error: clear");
	OK(vfio_backend_from_name("vfio-dkms", &b) == 0 && b == VFIO_BACKEND_VFIO_DKMS &&
	   !strcmp(vfio_backend_name(VFIO_BACKEND_VFIO), "vfio") &&
	   vfio_backend_from_name("x", &b) == -EINVAL, "names: backends");
	OK(vfio_irq_type_from_name("msix", &t) == 0 && t == VFIO_IRQ_MSIX &&
	   !strcmp(vfio_irq_type_name(VFIO_IRQ_INTX), "intx") && vfio_irq_type_name(9) == NULL,
	   "names: irq kinds");
	OK(!strcmp(vfio_version(), LIBVFIO_VERSION), "version: %s", vfio_version());
}

static void test_device_addr(void)
{
	/* a no-IOMMU buffer of three physically separate runs */
	struct vfio__segment segs[] = {
		{ 0x100000, 0x1000 }, { 0x300000, 0x2000 }, { 0x200000, 0x1000 },
	};
	struct vfio__segment one = { 0x10000, 0x4000 };
	struct vfio_dma d = { .vaddr = (void *)0x1000, .size = 0x4000, .segs = segs, .nr_segs = 3 };
	uint64_t addr = 0, len = 0;

	OK(vfio_dma_device_addr(&d, 0, &addr, &len) == 0 && addr == 0x100000 && len == 0x1000,
	   "device_addr: byte 0 of a 3-segment buffer (0x%llx +0x%llx)",
	   (unsigned long long)addr, (unsigned long long)len);
	OK(vfio_dma_device_addr(&d, 0x1000, &addr, &len) == 0 && addr == 0x300000 && len == 0x2000,
	   "device_addr: first byte of segment 2");
	OK(vfio_dma_device_addr(&d, 0x2ff0, &addr, &len) == 0 && addr == 0x301ff0 && len == 0x10,
	   "device_addr: inside segment 2, contiguous to its end (0x%llx +0x%llx)",
	   (unsigned long long)addr, (unsigned long long)len);
	OK(vfio_dma_device_addr(&d, 0x3fff, &addr, NULL) == 0 && addr == 0x200fff,
	   "device_addr: last byte, contig may be NULL");
	OK(vfio_dma_device_addr(&d, 0x4000, &addr, &len) == -ERANGE,
	   "device_addr: offset == size -> -ERANGE (%s)", vfio_last_error());
	addr = 0x777;
	OK(vfio_dma_iova(&d, &addr) == -EINVAL && addr == 0x777 && vfio_last_errno() == EINVAL,
	   "dma_iova: a 3-segment buffer has no single address -> -EINVAL, output untouched");

	d.segs = &one;
	d.nr_segs = 1;
	OK(vfio_dma_device_addr(&d, 0x2345, &addr, &len) == 0 && addr == 0x12345 &&
	   len == 0x4000 - 0x2345, "device_addr: IOMMU buffer is one run to its end");
	OK(vfio_dma_iova(&d, &addr) == 0 && addr == 0x10000 && vfio_dma_num_segments(&d) == 1,
	   "dma_iova: a one-segment buffer -> 0 and its address");
}

/* The IOMMU model follows the group node; no-IOMMU segments are checked against the mask. */
static void test_iommu_model(void)
{
	struct vfio_group iommu_grp = { .number = 3 }, noiommu_grp = { .number = 4, .noiommu = true };
	const struct vfio__segment segs[] = {
		{ 0x1000, 0x1000 }, { 0xfff000, 0x1000 }, { 0x1000000, 0x1000 },
	};
	struct vfio__iova a;
	uint64_t iova = 0;

	OK(vfio__iommu_for_group(&iommu_grp) == &vfio__iommu_type1 &&
	   vfio__iommu_for_group(&noiommu_grp) == &vfio__iommu_noiommu,
	   "model: group node N -> type1, noiommu-N -> no-IOMMU");
	OK(vfio__iommu_type1.contiguous && !vfio__iommu_noiommu.contiguous,
	   "model: only type1 maps every buffer as one run");
	OK(vfio__segments_beyond(segs, 3, UINT64_MAX) == 3 &&
	   vfio__segments_beyond(segs, 3, 0xffffff) == 2 &&
	   vfio__segments_beyond(segs, 3, 0xfffffe) == 1 && vfio__segments_beyond(segs, 0, 0) == 0,
	   "segments: the first one ending above the DMA limit");

	vfio__iova_init(&a, NULL, 0, 4096);
	OK(vfio__iova_assign(&a, VFIO_IOVA_ANY, 8192, 4096, UINT64_MAX, &iova) == 0 && iova == 4096,
	   "iova_assign: VFIO_IOVA_ANY allocates (0x%llx)", (unsigned long long)iova);
	OK(vfio__iova_assign(&a, 0x100000, 4096, 4096, UINT64_MAX, &iova) == 0 && iova == 0x100000,
	   "iova_assign: a given IOVA is reserved as is");
	iova = 1;
	OK(vfio__iova_assign(&a, 0x100000, 4096, 4096, UINT64_MAX, &iova) == -EEXIST && iova == 1,
	   "iova_assign: taken -> -EEXIST, output untouched");
	vfio__iova_fini(&a);
}

static uint32_t poll_word __attribute__((aligned(8)));

static void *flip_later(void *arg)
{
	struct timespec ts = { 0, 30 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	__atomic_store_n(&poll_word, 0x80000005u, __ATOMIC_RELEASE);
	return NULL;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_poll(void)
{
	uint64_t w64 __attribute__((aligned(8))) = UINT64_C(0x1234000000000000);
	struct timespec t0;
	pthread_t th;
	uint32_t last = 0;
	double ms;

	poll_word = 5;
	OK(vfio_mem_poll32(&poll_word, 0xf, 5, 0, &last) == 0 && last == 5,
	   "poll: a match on the first check, even with timeout 0");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	OK(vfio_mem_poll32(&poll_word, 0x80000000u, 0x80000000u, 50, &last) == -ETIMEDOUT &&
	   last == 5, "poll: no match -> -ETIMEDOUT (%s)", vfio_last_error());
	ms = ms_since(&t0);
	OK(ms >= 50 && ms < 1000, "poll: the timeout is honoured (%.1f ms for 50)", ms);
	OK(vfio_mem_poll32(&poll_word, 1, 0, 0, NULL) == -ETIMEDOUT,
	   "poll: timeout 0 checks once");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&th, NULL, flip_later, NULL);
	OK(vfio_mem_poll32(&poll_word, 0x80000000u, 0x80000000u, 5000, &last) == 0 &&
	   last == 0x80000005u, "poll: sees a word another thread writes");
	ms = ms_since(&t0);
	pthread_join(th, NULL);
	OK(ms >= 25 && ms < 1000, "poll: returns soon after the flip (%.1f ms, flip at 30)", ms);
	OK(vfio_mem_poll64(&w64, UINT64_C(0xffff000000000000), UINT64_C(0x1234000000000000), 0,
			   NULL) == 0, "poll: 64-bit word");
	OK(vfio_mem_poll32((char *)&poll_word + 1, 1, 1, 0, NULL) == -EINVAL,
	   "poll: misaligned address -> -EINVAL (%s)", vfio_last_error());
	OK(vfio_mem_poll32(&poll_word, 1, 3, 0, NULL) == -EINVAL,
	   "poll: value outside the mask -> -EINVAL (%s)", vfio_last_error());
	/* The barriers compile to what they should and can be called anywhere. */
	vfio_dma_wmb();
	vfio_dma_rmb();
	vfio_mb();
}

static struct vfio_context *fake_context(void)
{
	struct vfio_context *ctx;

	if (vfio_context_new(&ctx))
		return NULL;
	fake_iommu_attach(ctx);
	return ctx;
}

static void test_dma_pool(void)
{
	struct vfio_context *ctx = fake_context();
	struct vfio_dma_pool *pool, *big, *leak;
	void *v[210], *va;
	uint64_t a[210], iova;
	int bad_align = 0, crossing = 0, not_zero = 0, wrong_addr = 0, ret;

	if (!ctx) {
		OK(0, "pool: stand-in context");
		return;
	}
	OK(vfio_dma_pool_new(ctx, 0, 8, 0, &pool) == -EINVAL &&
	   vfio_dma_pool_new(ctx, 64, 24, 0, &pool) == -EINVAL &&
	   vfio_dma_pool_new(ctx, 64, 8192, 0, &pool) == -EINVAL &&
	   vfio_dma_pool_new(ctx, 64, 64, VFIO_DMA_HUGEPAGE, &pool) == -EINVAL,
	   "pool: size 0, alignment 24 or above a page, unknown flags -> -EINVAL");
	OK(vfio_dma_pool_new(ctx, 96, 32, 0, &pool) == 0, "pool: 96-byte blocks, 32-aligned");
	OK(vfio_dma_pool_num_chunks(pool) == 0, "pool: nothing mapped before the first block");
	for (int i = 0; i < 210; i++) {
		ret = vfio_dma_pool_alloc(pool, &v[i], &a[i]);
		if (ret)
			break;
		if (((uintptr_t)v[i] & 31) || (a[i] & 31))
			bad_align++;
		if ((uintptr_t)v[i] / 4096 != ((uintptr_t)v[i] + 95) / 4096)
			crossing++;
		for (int j = 0; j < 96; j++)
			not_zero += ((unsigned char *)v[i])[j] != 0;
		memset(v[i], 0xa5, 96);
		if (vfio_dma_vaddr_to_iova(ctx, v[i], &iova) || iova != a[i])
			wrong_addr++;
	}
	OK(ret == 0, "pool: 210 blocks");
	OK(!bad_align && !crossing && !not_zero && !wrong_addr,
	   "pool: every block aligned (%d bad), within a page (%d cross), zeroed (%d bytes not), device address right (%d wrong)",
	   bad_align, crossing, not_zero, wrong_addr);
	/* 42 blocks of 96 bytes fit in a page without crossing it */
	OK(vfio_dma_pool_num_chunks(pool) == 5 && fake_iommu_maps == 5,
	   "pool: 210 blocks fill exactly 5 one-page chunks (%u chunks, %d mappings)",
	   vfio_dma_pool_num_chunks(pool), fake_iommu_maps);
	OK(vfio_dma_pool_in_use(pool) == 210, "pool: 210 in use");
	OK(vfio_dma_pool_free(pool, v[7]) == 0 && vfio_dma_pool_in_use(pool) == 209,
	   "pool: free one");
	OK(vfio_dma_pool_free(pool, v[7]) == -EINVAL, "pool: double free -> -EINVAL (%s)",
	   vfio_last_error());
	OK(vfio_dma_pool_free(pool, (char *)v[8] + 4) == -EINVAL,
	   "pool: pointer into a block -> -EINVAL");
	OK(vfio_dma_pool_free(pool, &va) == -EINVAL, "pool: foreign pointer -> -EINVAL");
	OK(vfio_dma_pool_alloc(pool, &va, &iova) == 0 && va == v[7] && iova == a[7] &&
	   ((unsigned char *)va)[0] == 0 && vfio_dma_pool_num_chunks(pool) == 5,
	   "pool: a freed block is reused, zeroed, without a new chunk");
	OK(vfio_dma_pool_block_size(pool) == 96, "pool: block size");
	OK(vfio_dma_pool_destroy(pool) == 0 && fake_iommu_maps == 0 && ctx->dmas == NULL,
	   "pool: destroy unmaps every chunk (%d mappings left)", fake_iommu_maps);

	OK(vfio_dma_pool_new(ctx, 3 * 4096 + 1, 4096, 0, &big) == 0 &&
	   vfio_dma_pool_alloc(big, &v[0], &a[0]) == 0 && vfio_dma_pool_alloc(big, &v[1], &a[1]) == 0 &&
	   vfio_dma_pool_num_chunks(big) == 2 && !((uintptr_t)v[0] & 4095) && !(a[1] & 4095),
	   "pool: blocks above a page get a page-aligned chunk each");
	vfio_dma_pool_destroy(big);

	/* A pool left alive is destroyed with its context (valgrind checks the leak). */
	OK(vfio_dma_pool_new(ctx, 16, 16, 0, &leak) == 0 &&
	   vfio_dma_pool_alloc(leak, &va, &iova) == 0, "pool: one left for the context to free");
	vfio_context_free(ctx);
	OK(fake_iommu_maps == 0, "pool: vfio_context_free() destroys live pools (%d mappings left)",
	   fake_iommu_maps);
}

int main(void)
{
	test_iova();
	test_caps();
	test_sysfs();
	test_implementation();
	test_errors();
	test_device_addr();
	test_iommu_model();
	test_poll();
	test_dma_pool();
	return DONE();
}
