// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfioctl - list PCI devices, bind/unbind them for VFIO, show VFIO info
 * and which implementation (in-tree vfio, vfio-dkms) backs each backend.
 *
 * Exit status (scripts may rely on it):
 *   0 success
 *   1 other failure
 *   2 usage error (bad command, option or address syntax)
 *   3 no such device (ENOENT)
 *   4 permission denied (EACCES/EPERM: not root)
 *   5 busy: group in use or not viable (EBUSY)
 *   6 driver/backend missing or device not bound to a VFIO driver (ENODEV)
 *   7 device has no IOMMU group (ENXIO)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfio/vfio.h>

enum {
	EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_NODEV = 3, EX_PERM = 4, EX_BUSY = 5,
	EX_NODRV = 6, EX_NOGROUP = 7,
};

static int exit_code(int err)
{
	switch (-err) {
	case 0: return EX_OK;
	case EINVAL: return EX_USAGE;
	case ENOENT: return EX_NODEV;
	case EACCES: case EPERM: return EX_PERM;
	case EBUSY: return EX_BUSY;
	case ENODEV: return EX_NODRV;
	case ENXIO: return EX_NOGROUP;
	default: return EX_FAIL;
	}
}

static int fail(int err)
{
	fprintf(stderr, "vfioctl: %s\n", vfio_last_error());
	return exit_code(err);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfioctl list [-v]\n"
		"       vfioctl bind ADDRESS [DRIVER]    (default driver: vfio-dkms-pci)\n"
		"       vfioctl unbind ADDRESS\n"
		"       vfioctl info [-b auto|vfio|vfio-dkms] ADDRESS\n"
		"       vfioctl implementation [-b vfio|vfio-dkms]\n"
		"       vfioctl --version | --help\n"
		"exit status: 0 ok, 1 failure, 2 usage, 3 no such device, 4 permission denied,\n"
		"             5 busy/group not viable, 6 not bound to a VFIO driver or driver\n"
		"             missing, 7 no IOMMU group\n");
}

static void print_dev(const struct vfio_pci_device *p, int verbose)
{
	const char *drv = vfio_pci_device_driver(p);
	int g = vfio_pci_device_iommu_group(p);

	/* lspci -n -D format, then what VFIO needs */
	printf("%s %04x: %04x:%04x", vfio_pci_device_address(p),
	       vfio_pci_device_class(p) >> 8, vfio_pci_device_vendor(p),
	       vfio_pci_device_device(p));
	if (verbose) {
		printf("\n\tKernel driver in use: %s\n", drv ? drv : "(none)");
		if (g >= 0)
			printf("\tIOMMU group: %d\n", g);
		else
			printf("\tIOMMU group: (none)\n");
	} else {
		printf(" driver=%s iommu_group=", drv ? drv : "-");
		if (g >= 0)
			printf("%d\n", g);
		else
			printf("-\n");
	}
}

static int cmd_list(int argc, char **argv)
{
	struct vfio_pci_list *l;
	int verbose = 0, ret;

	if (argc > 1 && !strcmp(argv[1], "-v"))
		verbose = 1;
	else if (argc > 1)
		return usage(stderr), EX_USAGE;
	ret = vfio_pci_list_new(&l);
	if (ret)
		return fail(ret);
	for (size_t i = 0; i < vfio_pci_list_count(l); i++)
		print_dev(vfio_pci_list_get(l, i), verbose);
	vfio_pci_list_free(l);
	return EX_OK;
}

static int cmd_bind(int argc, char **argv)
{
	const char *drv = argc > 2 ? argv[2] : "vfio-dkms-pci";
	struct vfio_pci_device *p;
	char prev[64] = "";
	int ret;

	if (argc < 2 || argc > 3)
		return usage(stderr), EX_USAGE;
	ret = vfio_pci_device_new(argv[1], &p);
	if (ret)
		return fail(ret);
	if (vfio_pci_device_driver(p))
		snprintf(prev, sizeof(prev), "%s", vfio_pci_device_driver(p));
	ret = vfio_pci_bind(argv[1], drv);
	if (!ret)
		printf("%s: %s -> %s\n", vfio_pci_device_address(p), prev[0] ? prev : "(none)", drv);
	vfio_pci_device_free(p);
	return ret ? fail(ret) : EX_OK;
}

static int cmd_unbind(int argc, char **argv)
{
	struct vfio_pci_device *p;
	int ret;

	if (argc != 2)
		return usage(stderr), EX_USAGE;
	ret = vfio_pci_device_new(argv[1], &p);
	if (ret)
		return fail(ret);
	ret = vfio_pci_unbind(argv[1]);
	if (!ret)
		printf("%s: %s -> (none)\n", vfio_pci_device_address(p),
		       vfio_pci_device_driver(p) ? vfio_pci_device_driver(p) : "(none)");
	vfio_pci_device_free(p);
	return ret ? fail(ret) : EX_OK;
}

/* "in-tree 0.3", "vfio-dkms-dropin 0.1.0", "none"; 0 or a negative errno. */
static int format_implementation(enum vfio_backend b, char *buf, size_t len)
{
	enum vfio_implementation impl;
	char version[128];
	int ret;

	ret = vfio_backend_implementation(b, &impl, version, sizeof(version));
	if (ret)
		return ret;
	snprintf(buf, len, "%s%s%s", vfio_implementation_name(impl), version[0] ? " " : "",
		 version);
	return 0;
}

static int cmd_implementation(int argc, char **argv)
{
	enum vfio_backend only = VFIO_BACKEND_AUTO;
	char line[160];
	int opt, ret;

	optind = 1;
	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt != 'b' || vfio_backend_from_name(optarg, &only) ||
		    only == VFIO_BACKEND_AUTO)
			return usage(stderr), EX_USAGE;
	}
	if (optind != argc)
		return usage(stderr), EX_USAGE;
	for (enum vfio_backend b = VFIO_BACKEND_VFIO; b <= VFIO_BACKEND_VFIO_DKMS; b++) {
		if (only != VFIO_BACKEND_AUTO && b != only)
			continue;
		ret = format_implementation(b, line, sizeof(line));
		if (ret)
			return fail(ret);
		printf("%s: %s\n", vfio_backend_name(b), line);
	}
	return EX_OK;
}

static int cmd_info(int argc, char **argv)
{
	enum vfio_backend b = VFIO_BACKEND_AUTO;
	struct vfio_device *dev;
	int opt, ret;

	optind = 1;
	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt != 'b' || vfio_backend_from_name(optarg, &b))
			return usage(stderr), EX_USAGE;
	}
	if (optind != argc - 1)
		return usage(stderr), EX_USAGE;
	ret = vfio_device_open(NULL, argv[optind], b, &dev);
	if (ret)
		return fail(ret);
	printf("%s %04x:%04x\n", vfio_device_address(dev), vfio_device_vendor(dev),
	       vfio_device_device(dev));
	printf("\tBackend: %s\n", vfio_backend_name(vfio_device_backend(dev)));
	{
		char line[160];

		if (format_implementation(vfio_device_backend(dev), line, sizeof(line)))
			snprintf(line, sizeof(line), "unknown (%s)", vfio_last_error());
		printf("\tImplementation: %s\n", line);
	}
	printf("\tIOMMU group: %d\n", vfio_device_iommu_group(dev));
	printf("\tFlags: 0x%x\n", vfio_device_flags(dev));
	for (unsigned int i = 0; i < vfio_device_num_regions(dev); i++) {
		struct vfio_region *r;

		if (vfio_device_get_region(dev, i, &r) || !vfio_region_size(r))
			continue;
		printf("\tRegion %u: size 0x%llx [%s%s%s]\n", i,
		       (unsigned long long)vfio_region_size(r),
		       vfio_region_readable(r) ? "r" : "-", vfio_region_writable(r) ? "w" : "-",
		       vfio_region_mappable(r) ? "m" : "-");
		for (unsigned int a = 0; a < vfio_region_num_sparse_areas(r); a++) {
			uint64_t off, sz;

			vfio_region_get_sparse_area(r, a, &off, &sz);
			printf("\t\tmmap area %u: 0x%llx+0x%llx\n", a, (unsigned long long)off,
			       (unsigned long long)sz);
		}
	}
	for (int t = VFIO_IRQ_INTX; t <= VFIO_IRQ_MSIX; t++)
		printf("\tIRQ %s: %d vector(s)\n", vfio_irq_type_name(t),
		       vfio_device_irq_count(dev, t));
	{
		struct vfio_context *ctx = vfio_device_context(dev);

		for (unsigned int i = 0; i < vfio_context_num_iova_ranges(ctx); i++) {
			uint64_t s, l;

			vfio_context_get_iova_range(ctx, i, &s, &l);
			printf("\tIOVA range %u: 0x%llx-0x%llx\n", i, (unsigned long long)s,
			       (unsigned long long)l);
		}
	}
	vfio_device_close(dev);
	return EX_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr), EX_USAGE;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout), EX_OK;
	if (!strcmp(argv[1], "--version"))
		return printf("vfioctl (libvfio) %s\n", vfio_version()), EX_OK;
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bind"))
		return cmd_bind(argc - 1, argv + 1);
	if (!strcmp(argv[1], "unbind"))
		return cmd_unbind(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "implementation"))
		return cmd_implementation(argc - 1, argv + 1);
	fprintf(stderr, "vfioctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
