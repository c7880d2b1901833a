// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-bench: the benchmark rows (docs/performance.md) against one backend, in the VM.
 *
 *   vfio-bench --backend vfio|vfio-dkms --dev BDF [--smoke] [--rows LIST]
 *
 * Prints one JSON object on stdout: {"backend":..., "rows": {name: {...}}}.
 * Rows 1-6 and the growth series use the raw container/group ioctls of
 * <linux/vfio.h> (the same ABI for both backends, only the /dev directory
 * differs); row 7's C half and row 8 go through libvfio.  The device must
 * already be bound to the backend's driver (vfio-pci / vfio-dkms-pci).
 *
 * Memory given to MAP_DMA is faulted in before the clock starts, so map
 * times are pinning + IOMMU programming, not page faults.  IOVAs start at
 * 4 GiB, clear of the x86 MSI window at 0xfee00000.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vfio/vfio.h>

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define IOVA_BASE (4 * GiB)
#define HUGE_2M (2 * MiB)

static const char *backend = "vfio";
static const char *bdf;
static int smoke;

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	fprintf(stderr, "vfio-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (errno %d: %s)\n", e, strerror(e));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* ---- JSON output --------------------------------------------------------- */

static int nrows;

static void row_begin(const char *name)
{
	printf("%s\n    \"%s\": {", nrows++ ? "," : "", name);
}

static int nfields;
static void field(const char *k, double v)
{
	printf("%s\"%s\": %.10g", nfields++ ? ", " : "", k, v);
}

static void field_s(const char *k, const char *v)
{
	printf("%s\"%s\": \"%s\"", nfields++ ? ", " : "", k, v);
}

static void row_end(void)
{
	printf("}");
	nfields = 0;
	fflush(stdout);
}

static void row_skip(const char *name, const char *why)
{
	row_begin(name);
	field_s("skipped", why);
	row_end();
}

/* ---- raw container/group/device ----------------------------------------- */

struct raw {
	int container, group, device;
};

static const char *dev_dir(void)
{
	return strcmp(backend, "vfio-dkms") ? "/dev/vfio" : "/dev/vfio-dkms";
}

static void raw_open(struct raw *r)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("readlink %s", path);
	link[n] = 0;
	snprintf(path, sizeof(path), "%s/vfio", dev_dir());
	r->container = open(path, O_RDWR);
	if (r->container < 0)
		die("open %s", path);
	snprintf(path, sizeof(path), "%s/%s", dev_dir(), basename(link));
	r->group = open(path, O_RDWR);
	if (r->group < 0)
		die("open %s", path);
	if (ioctl(r->group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("group %s not viable", path);
	if (ioctl(r->group, VFIO_GROUP_SET_CONTAINER, &r->container))
		die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(r->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU type1v2");
	r->device = ioctl(r->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (r->device < 0)
		die("VFIO_GROUP_GET_DEVICE_FD %s", bdf);
}

static void raw_close(struct raw *r)
{
	close(r->device);
	close(r->group);
	close(r->container);
}

static int map_dma(struct raw *r, void *va, uint64_t size, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return ioctl(r->container, VFIO_IOMMU_MAP_DMA, &m);
}

static int unmap_dma(struct raw *r, uint64_t size, uint64_t iova)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	if (ioctl(r->container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -1;
	if (u.size != size) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static void *anon(uint64_t size, int flags)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags,
		       -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	return p;
}

static void prefault(void *p, uint64_t size)
{
	for (uint64_t o = 0; o < size; o += 4096)
		((volatile char *)p)[o] = 1;
}

/* Row 1: N separate 4 KiB mappings (256 MiB = 65536 of them). */
static void row_map4k(struct raw *r)
{
	uint64_t n = smoke ? 64 : 65536, size = n * 4096;
	char *buf = anon(size, 0);
	double t0, t1, t2;

	if (!buf)
		die("mmap %llu", (unsigned long long)size);
	prefault(buf, size);
	t0 = now_us();
	for (uint64_t i = 0; i < n; i++)
		if (map_dma(r, buf + i * 4096, 4096, IOVA_BASE + i * 4096))
			die("MAP_DMA 4 KiB #%llu", (unsigned long long)i);
	t1 = now_us();
	for (uint64_t i = 0; i < n; i++)
		if (unmap_dma(r, 4096, IOVA_BASE + i * 4096))
			die("UNMAP_DMA 4 KiB #%llu", (unsigned long long)i);
	t2 = now_us();
	munmap(buf, size);
	row_begin("1_map4k");
	field("count", n);
	field("map_us", (t1 - t0) / n);
	field("unmap_us", (t2 - t1) / n);
	row_end();
}

/*
 * VFIO_BENCH_MARK=1: phase markers in the ftrace buffer (trace_marker), so
 * tests/bench/profile can count kernel events per phase.
 */
static void mark(const char *what)
{
	static int fd = -2;

	if (fd == -2)
		fd = getenv("VFIO_BENCH_MARK") ?
			open("/sys/kernel/tracing/trace_marker", O_WRONLY | O_CLOEXEC) : -1;
	if (fd >= 0 && write(fd, what, strlen(what)) < 0)
		fd = -1;
}

/* One mapping of size bytes; returns map and unmap ms (negative on failure). */
static int map_once(struct raw *r, void *buf, uint64_t size, double *map_ms, double *unmap_ms)
{
	double t0, t1, t2;

	mark("bench-phase map");
	t0 = now_us();
	if (map_dma(r, buf, size, IOVA_BASE))
		return -1;
	t1 = now_us();
	mark("bench-phase unmap");
	if (unmap_dma(r, size, IOVA_BASE))
		return -1;
	t2 = now_us();
	mark("bench-phase end");
	*map_ms = (t1 - t0) / 1e3;
	*unmap_ms = (t2 - t1) / 1e3;
	return 0;
}

/* Row 2: one 256 MiB mapping of 4 KiB-backed anonymous memory. */
static void row_map_big(struct raw *r)
{
	uint64_t size = smoke ? 4 * MiB : 256 * MiB;
	char *buf = anon(size, 0);
	double m, u;

	if (!buf)
		die("mmap");
	/* keep THP out: this row is about 4 KiB pages */
	madvise(buf, size, MADV_NOHUGEPAGE);
	prefault(buf, size);
	if (map_once(r, buf, size, &m, &u))
		die("MAP/UNMAP_DMA %llu", (unsigned long long)size);
	munmap(buf, size);
	row_begin("2_map256m");
	field("bytes", size);
	field("map_ms", m);
	field("unmap_ms", u);
	row_end();
}

/*
 * Row 2f (a profiling aid, not one of the goal rows): row 2 with the pages faulted in
 * from the top down, so the page allocator hands out no ascending
 * physically contiguous runs and every 4 KiB page is its own IOMMU run,
 * the worst case of a long-running, fragmented system.
 */
static void row_map_frag(struct raw *r)
{
	uint64_t size = smoke ? 4 * MiB : 256 * MiB;
	char *buf = anon(size, 0);
	double m, u;

	if (!buf)
		die("mmap");
	madvise(buf, size, MADV_NOHUGEPAGE);
	for (uint64_t o = size; o; o -= 4096)
		((volatile char *)buf)[o - 4096] = 1;
	if (map_once(r, buf, size, &m, &u))
		die("MAP/UNMAP_DMA %llu", (unsigned long long)size);
	munmap(buf, size);
	row_begin("2f_map256m_frag");
	field("bytes", size);
	field("map_ms", m);
	field("unmap_ms", u);
	row_end();
}

/*
 * Row 3: one 256 MiB mapping backed by 2 MiB pages.  hugetlbfs (MAP_HUGETLB,
 * the guest reserves /proc/sys/vm/nr_hugepages) first; THP (MADV_HUGEPAGE
 * on a 2 MiB-aligned anonymous area) when no hugetlb pages are reserved.
 */
static void row_map_huge(struct raw *r)
{
	uint64_t size = smoke ? 4 * MiB : 256 * MiB;
	const char *kind = "hugetlbfs";
	char *buf = anon(size, MAP_HUGETLB | (21 << MAP_HUGE_SHIFT)), *raw = NULL;
	uint64_t rawsize = 0;
	double m, u;

	if (!buf) {
		kind = "thp";
		rawsize = size + HUGE_2M;
		raw = anon(rawsize, 0);
		if (!raw)
			die("mmap");
		buf = (char *)(((uintptr_t)raw + HUGE_2M - 1) & ~(HUGE_2M - 1));
		if (madvise(buf, size, MADV_HUGEPAGE))
			die("madvise(MADV_HUGEPAGE)");
	}
	prefault(buf, size);
	if (map_once(r, buf, size, &m, &u))
		die("MAP/UNMAP_DMA huge %llu", (unsigned long long)size);
	if (raw)
		munmap(raw, rawsize);
	else
		munmap(buf, size);
	row_begin("3_map256m_huge");
	field_s("backing", kind);
	field("bytes", size);
	field("map_ms", m);
	field("unmap_ms", u);
	row_end();
}

static struct vfio_region_info region_info(struct raw *r, unsigned int index)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(r->device, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die("VFIO_DEVICE_GET_REGION_INFO %u", index);
	return ri;
}

/* Row 4: BAR0 register reads through pread on the device fd. */
static void row_pread(struct raw *r)
{
	struct vfio_region_info ri = region_info(r, VFIO_PCI_BAR0_REGION_INDEX);
	uint64_t n = smoke ? 100 : 100000;
	uint32_t v;
	double t0, t1;

	t0 = now_us();
	for (uint64_t i = 0; i < n; i++)
		if (pread(r->device, &v, 4, ri.offset) != 4)
			die("pread BAR0");
	t1 = now_us();
	if (v != 0x010000ed)
		fprintf(stderr, "vfio-bench: edu id reads 0x%x\n", v);
	row_begin("4_pread");
	field("count", n);
	field("ops_per_s", n / ((t1 - t0) / 1e6));
	row_end();
}

/* Row 5: BAR0 register reads through an mmap of the region. */
static void row_mmap(struct raw *r)
{
	struct vfio_region_info ri = region_info(r, VFIO_PCI_BAR0_REGION_INDEX);
	uint64_t n = smoke ? 100 : 200000;
	volatile uint32_t *bar;
	uint32_t v = 0;
	double t0, t1;

	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		row_skip("5_mmap", "BAR0 not mmappable");
		return;
	}
	bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, r->device, ri.offset);
	if (bar == MAP_FAILED)
		die("mmap BAR0");
	v = bar[0]; /* first access may fault the mapping in */
	t0 = now_us();
	for (uint64_t i = 0; i < n; i++)
		v = bar[0];
	t1 = now_us();
	munmap((void *)bar, ri.size);
	if (v != 0x010000ed)
		fprintf(stderr, "vfio-bench: edu id reads 0x%x through mmap\n", v);
	row_begin("5_mmap");
	field("count", n);
	field("ops_per_s", n / ((t1 - t0) / 1e6));
	row_end();
}

static void cfg_rw16(struct raw *r, uint64_t off, uint16_t set)
{
	struct vfio_region_info ri = region_info(r, VFIO_PCI_CONFIG_REGION_INDEX);
	uint16_t v;

	if (pread(r->device, &v, 2, ri.offset + off) != 2)
		die("pread config");
	v |= set;
	if (pwrite(r->device, &v, 2, ri.offset + off) != 2)
		die("pwrite config");
}

static void bar_w32(struct raw *r, uint64_t bar_off, uint64_t off, uint32_t v)
{
	if (pwrite(r->device, &v, 4, bar_off + off) != 4)
		die("pwrite BAR0 0x%llx", (unsigned long long)off);
}

/* Row 6: edu raise (0x60) -> MSI -> eventfd read -> ack (0x64). */
static void row_irq(struct raw *r)
{
	struct vfio_region_info ri = region_info(r, VFIO_PCI_BAR0_REGION_INDEX);
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSI_IRQ_INDEX };
	char sbuf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *s = (struct vfio_irq_set *)sbuf;
	uint64_t n = smoke ? 5 : 2000, cnt;
	int efd;
	double t0, t1;

	if (ioctl(r->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) || ii.count < 1) {
		row_skip("6_irq", "no MSI vector reported");
		return;
	}
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd");
	s->argsz = sizeof(sbuf);
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = VFIO_PCI_MSI_IRQ_INDEX;
	s->start = 0;
	s->count = 1;
	memcpy(s->data, &efd, sizeof(efd));
	if (ioctl(r->device, VFIO_DEVICE_SET_IRQS, s)) {
		char why[128];

		snprintf(why, sizeof(why), "VFIO_DEVICE_SET_IRQS (MSI): %s", strerror(errno));
		row_skip("6_irq", why);
		close(efd);
		return;
	}
	cfg_rw16(r, 4, 0x4); /* bus master: edu's MSI goes nowhere without it */
	t0 = now_us();
	for (uint64_t i = 0; i < n; i++) {
		bar_w32(r, ri.offset, 0x60, 1);
		if (read(efd, &cnt, 8) != 8)
			die("read eventfd");
		bar_w32(r, ri.offset, 0x64, 1);
	}
	t1 = now_us();
	s->argsz = sizeof(*s);
	s->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->count = 0;
	if (ioctl(r->device, VFIO_DEVICE_SET_IRQS, s))
		die("VFIO_DEVICE_SET_IRQS disable");
	close(efd);
	row_begin("6_irq");
	field("count", n);
	field("roundtrip_us", (t1 - t0) / n);
	row_end();
}

/* Growth: one mapping of 1 MiB .. 1 GiB, doubling (4 KiB pages). */
static void row_growth(struct raw *r)
{
	uint64_t max = smoke ? 4 * MiB : 1 * GiB;
	char *buf = anon(max, 0);
	double m, u;

	if (!buf)
		die("mmap %llu", (unsigned long long)max);
	madvise(buf, max, MADV_NOHUGEPAGE);
	prefault(buf, max);
	for (uint64_t size = MiB; size <= max; size *= 2) {
		char name[32];

		if (map_once(r, buf, size, &m, &u))
			die("MAP/UNMAP_DMA %llu", (unsigned long long)size);
		snprintf(name, sizeof(name), "growth_%llu", (unsigned long long)(size / MiB));
		row_begin(name);
		field("bytes", size);
		field("map_ms", m);
		field("unmap_ms", u);
		row_end();
	}
	munmap(buf, max);
}

/* ---- libvfio rows --------------------------------------------------------- */

static struct vfio_device *lib_open(void)
{
	enum vfio_backend be;
	struct vfio_device *dev;
	int e;

	if (vfio_backend_from_name(backend, &be))
		die("unknown backend %s", backend);
	e = vfio_device_open(NULL, bdf, be, &dev);
	if (e) {
		errno = -e;
		die("vfio_device_open: %s", vfio_last_error());
	}
	return dev;
}

/* Row 7 (C half): vfio_region_read32 and vfio_mmio_read32 of edu's id. */
static void row_lib_read(struct vfio_device *dev)
{
	struct vfio_region *bar;
	uint64_t n = smoke ? 100 : 100000;
	uint32_t v = 0;
	void *map;
	double t0, t1, t2;

	if (vfio_device_get_region(dev, 0, &bar))
		die("vfio_device_get_region: %s", vfio_last_error());
	t0 = now_us();
	for (uint64_t i = 0; i < n; i++)
		if (vfio_region_read32(bar, 0, &v))
			die("vfio_region_read32: %s", vfio_last_error());
	t1 = now_us();
	if (vfio_region_map(bar, &map))
		die("vfio_region_map: %s", vfio_last_error());
	v = vfio_mmio_read32(map, 0); /* first access may fault the mapping in */
	t1 = now_us();
	for (uint64_t i = 0; i < n; i++)
		v = vfio_mmio_read32(map, 0);
	t2 = now_us();
	vfio_region_unmap(bar);
	(void)v;
	row_begin("7_c_read");
	field("count", n);
	field("pread_ns", (t1 - t0) * 1e3 / n);
	field("mmio_ns", (t2 - t1) * 1e3 / n);
	row_end();
}

/* Row 8: vfio_dma_alloc (alloc + map) and vfio_dma_free (unmap + free). */
static void row_lib_dma(struct vfio_device *dev, uint64_t size, const char *name)
{
	struct vfio_context *ctx = vfio_device_context(dev);
	unsigned int flags = VFIO_DMA_BIDIRECTIONAL | (size >= HUGE_2M ? VFIO_DMA_HUGEPAGE : 0);
	uint64_t n = smoke ? 3 : (size >= HUGE_2M ? 50 : 500);
	double am = 0, uf = 0, t0, t1, t2;
	int huge = -1;

	for (uint64_t i = 0; i < n; i++) {
		struct vfio_dma *d;

		t0 = now_us();
		if (vfio_dma_alloc(ctx, size, flags, &d))
			die("vfio_dma_alloc: %s", vfio_last_error());
		t1 = now_us();
		huge = vfio_dma_is_hugepage(d);
		if (vfio_dma_free(d))
			die("vfio_dma_free: %s", vfio_last_error());
		t2 = now_us();
		am += t1 - t0;
		uf += t2 - t1;
	}
	row_begin(name);
	field("count", n);
	field("bytes", size);
	field("hugepage", huge);
	field("alloc_map_us", am / n);
	field("unmap_free_us", uf / n);
	row_end();
}

static int want(const char *rows, const char *name)
{
	char key[16];

	if (!rows)
		return 1;
	snprintf(key, sizeof(key), ",%s,", name);
	char buf[256];

	snprintf(buf, sizeof(buf), ",%s,", rows);
	return strstr(buf, key) != NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "dev", required_argument, NULL, 'd' },
		{ "rows", required_argument, NULL, 'r' },
		{ "smoke", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rows = NULL;
	struct raw r;
	int c;

	while ((c = getopt_long(argc, argv, "b:d:r:s", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 'd': bdf = optarg; break;
		case 'r': rows = optarg; break;
		case 's': smoke = 1; break;
		default:
			fprintf(stderr, "usage: vfio-bench --backend vfio|vfio-dkms --dev BDF "
					"[--smoke] [--rows 1,2,2f,3,4,5,6,growth,7,8]\n");
			return 2;
		}
	}
	if (!bdf || (strcmp(backend, "vfio") && strcmp(backend, "vfio-dkms"))) {
		fprintf(stderr, "vfio-bench: need --backend vfio|vfio-dkms and --dev BDF\n");
		return 2;
	}
	printf("{\"backend\": \"%s\", \"smoke\": %d, \"rows\": {", backend, smoke);
	fflush(stdout);
	raw_open(&r);
	if (want(rows, "1"))
		row_map4k(&r);
	if (want(rows, "2"))
		row_map_big(&r);
	if (rows && want(rows, "2f"))
		row_map_frag(&r);
	if (want(rows, "3"))
		row_map_huge(&r);
	if (want(rows, "4"))
		row_pread(&r);
	if (want(rows, "5"))
		row_mmap(&r);
	if (want(rows, "6"))
		row_irq(&r);
	if (want(rows, "growth"))
		row_growth(&r);
	raw_close(&r);
	if (want(rows, "7") || want(rows, "8")) {
		struct vfio_device *dev = lib_open();

		if (want(rows, "7"))
			row_lib_read(dev);
		if (want(rows, "8")) {
			row_lib_dma(dev, 4 * KiB, "8_dma_4k");
			row_lib_dma(dev, 2 * MiB, "8_dma_2m");
		}
		vfio_device_close(dev);
	}
	printf("\n}}\n");
	return 0;
}
