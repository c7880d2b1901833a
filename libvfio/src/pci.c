// SPDX-License-Identifier: LGPL-2.1-or-later
/* PCI discovery and driver binding (public vfio/pci.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "private.h"

struct vfio_pci_device {
	char address[VFIO_ADDR_LEN];
	uint16_t vendor, device;
	uint32_t class;
	int group;
	char driver[64]; /* "" when unbound */
};

struct vfio_pci_list {
	size_t count;
	struct vfio_pci_device *devs;
};

static int read_hex(const char *addr, const char *attr, unsigned long *val)
{
	char path[PATH_MAX], buf[64], *end;
	int ret;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/%s", vfio__sysfs_root, addr, attr);
	ret = vfio__sysfs_read_line(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 16);
	if (errno || end == buf || *end)
		return vfio__err(EINVAL, "%s: cannot parse '%s'", path, buf);
	return 0;
}

static int fill(struct vfio_pci_device *p, const char *addr)
{
	unsigned long v;
	int ret;

	snprintf(p->address, sizeof(p->address), "%s", addr);
	ret = read_hex(addr, "vendor", &v);
	if (ret)
		return ret;
	p->vendor = (uint16_t)v;
	ret = read_hex(addr, "device", &v);
	if (ret)
		return ret;
	p->device = (uint16_t)v;
	ret = read_hex(addr, "class", &v);
	if (ret)
		return ret;
	p->class = (uint32_t)v;
	if (vfio__pci_driver(addr, p->driver, sizeof(p->driver)))
		p->driver[0] = '\0';
	p->group = vfio__pci_group(addr);
	if (p->group < 0)
		p->group = -1;
	return 0;
}

static int device_exists(const char *addr)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", vfio__sysfs_root, addr);
	if (stat(path, &st))
		return vfio__err(ENOENT, "no PCI device %s (%s missing)", addr, path);
	return 0;
}

int vfio_pci_device_new(const char *address, struct vfio_pci_device **out)
{
	char addr[VFIO_ADDR_LEN];
	struct vfio_pci_device *p;
	int ret;

	ret = vfio__parse_address(address, addr);
	if (ret)
		return ret;
	ret = device_exists(addr);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return vfio__err(ENOMEM, "out of memory");
	ret = fill(p, addr);
	if (ret) {
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void vfio_pci_device_free(struct vfio_pci_device *pdev)
{
	free(pdev);
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct vfio_pci_device *)a)->address,
		      ((const struct vfio_pci_device *)b)->address);
}

int vfio_pci_list_new(struct vfio_pci_list **out)
{
	char path[PATH_MAX];
	struct vfio_pci_list *l;
	struct dirent *de;
	size_t cap = 0;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", vfio__sysfs_root);
	d = opendir(path);
	if (!d)
		return vfio__err_sys(errno, "opendir %s", path);
	l = calloc(1, sizeof(*l));
	if (!l) {
		closedir(d);
		return vfio__err(ENOMEM, "out of memory");
	}
	while ((de = readdir(d))) {
		char addr[VFIO_ADDR_LEN];

		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) >= sizeof(addr))
			continue;
		if (vfio__parse_address(de->d_name, addr))
			continue;
		if (l->count == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			void *n = realloc(l->devs, ncap * sizeof(*l->devs));

			if (!n) {
				ret = vfio__err(ENOMEM, "out of memory");
				break;
			}
			l->devs = n;
			cap = ncap;
		}
		memset(&l->devs[l->count], 0, sizeof(l->devs[0]));
		ret = fill(&l->devs[l->count], addr);
		if (ret)
			break;
		l->count++;
	}
	closedir(d);
	if (ret) {
		vfio_pci_list_free(l);
		return ret;
	}
	if (l->count)
		qsort(l->devs, l->count, sizeof(*l->devs), cmp_dev);
	vfio_clear_error(); /* skipped bad entries are not failures */
	*out = l;
	return 0;
}

void vfio_pci_list_free(struct vfio_pci_list *list)
{
	if (!list)
		return;
	free(list->devs);
	free(list);
}

size_t vfio_pci_list_count(const struct vfio_pci_list *list)
{
	return list->count;
}

const struct vfio_pci_device *vfio_pci_list_get(const struct vfio_pci_list *list, size_t i)
{
	return i < list->count ? &list->devs[i] : NULL;
}

const char *vfio_pci_device_address(const struct vfio_pci_device *pdev)
{
	return pdev->address;
}

uint16_t vfio_pci_device_vendor(const struct vfio_pci_device *pdev)
{
	return pdev->vendor;
}

uint16_t vfio_pci_device_device(const struct vfio_pci_device *pdev)
{
	return pdev->device;
}

uint32_t vfio_pci_device_class(const struct vfio_pci_device *pdev)
{
	return pdev->class;
}

const char *vfio_pci_device_driver(const struct vfio_pci_device *pdev)
{
	return pdev->driver[0] ? pdev->driver : NULL;
}

int vfio_pci_device_iommu_group(const struct vfio_pci_device *pdev)
{
	return pdev->group;
}

static int valid_driver_name(const char *d)
{
	if (!d || !*d || strlen(d) > 63)
		return 0;
	for (; *d; d++)
		if (*d == '/' || *d == '\n' || *d == ' ')
			return 0;
	return 1;
}

static int unbind_current(const char *addr, const char *drv)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/%s/unbind", vfio__sysfs_root, drv);
	return vfio__sysfs_write(path, addr);
}

int vfio_pci_bind(const char *address, const char *driver)
{
	char addr[VFIO_ADDR_LEN], path[PATH_MAX], cur[64];
	struct stat st;
	int ret;

	ret = vfio__parse_address(address, addr);
	if (ret)
		return ret;
	if (!valid_driver_name(driver))
		return vfio__err(EINVAL, "'%s' is not a driver name", driver ? driver : "(null)");
	ret = device_exists(addr);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/%s", vfio__sysfs_root, driver);
	if (stat(path, &st))
		return vfio__err(ENODEV, "bind %s to %s: driver %s is not loaded (%s missing)",
				 addr, driver, driver, path);
	if (!vfio__pci_driver(addr, cur, sizeof(cur))) {
		if (!strcmp(cur, driver))
			return 0;
	} else {
		cur[0] = '\0';
	}
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver_override",
		 vfio__sysfs_root, addr);
	ret = vfio__sysfs_write(path, driver);
	if (ret)
		return ret;
	if (cur[0]) {
		ret = unbind_current(addr, cur);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers_probe", vfio__sysfs_root);
	ret = vfio__sysfs_write(path, addr);
	/* drivers_probe fails when the driver refuses the device; check the result. */
	if (vfio__pci_driver(addr, cur, sizeof(cur)))
		cur[0] = '\0';
	if (strcmp(cur, driver)) {
		if (ret)
			return ret;
		return vfio__err(EIO, "bind %s to %s: probe left it %s%s", addr, driver,
				 cur[0] ? "bound to " : "unbound", cur);
	}
	return 0;
}

int vfio_pci_unbind(const char *address)
{
	char addr[VFIO_ADDR_LEN], path[PATH_MAX], cur[64];
	int ret;

	ret = vfio__parse_address(address, addr);
	if (ret)
		return ret;
	ret = device_exists(addr);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver_override",
		 vfio__sysfs_root, addr);
	ret = vfio__sysfs_write(path, "\n");
	if (ret)
		return ret;
	if (vfio__pci_driver(addr, cur, sizeof(cur)))
		return 0;
	return unbind_current(addr, cur);
}
