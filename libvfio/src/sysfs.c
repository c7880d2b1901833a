// SPDX-License-Identifier: LGPL-2.1-or-later
/* sysfs helpers.  All paths go through vfio__sysfs_root so tests can use a fake tree. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

char vfio__sysfs_root[256];
char vfio__dev_root[256];

void vfio__set_sysfs_root(const char *root)
{
	snprintf(vfio__sysfs_root, sizeof(vfio__sysfs_root), "%s", root ? root : "");
}

void vfio__set_dev_root(const char *root)
{
	snprintf(vfio__dev_root, sizeof(vfio__dev_root), "%s", root ? root : "");
}

/* Canonical "DDDD:BB:DD.F"; accepts "BB:DD.F" for domain 0. */
int vfio__parse_address(const char *in, char out[VFIO_ADDR_LEN])
{
	unsigned int dom = 0, bus, dev, fn;
	int n = 0;

	if (!in)
		return vfio__err(EINVAL, "no PCI address given");
	if (sscanf(in, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) == 4 && in[n] == '\0')
		;
	else if (dom = 0, n = 0, sscanf(in, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 &&
		 in[n] == '\0')
		;
	else
		return vfio__err(EINVAL, "'%s' is not a PCI address (DDDD:BB:DD.F)", in);
	for (const char *p = in; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return vfio__err(EINVAL, "'%s' is not a PCI address (DDDD:BB:DD.F)", in);
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return vfio__err(EINVAL, "'%s' is not a PCI address (out of range)", in);
	snprintf(out, VFIO_ADDR_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

int vfio__sysfs_read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vfio__err_sys(errno, "open %s", path);
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return vfio__err_sys(e, "read %s", path);
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int vfio__sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			return vfio__err(e, "open %s for writing: %s (are you root?)", path, strerror(e));
		return vfio__err_sys(e, "open %s for writing", path);
	}
	n = write(fd, val, len);
	if (n < 0 || (size_t)n != len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		return vfio__err_sys(e, "write '%s' to %s", val, path);
	}
	if (close(fd) < 0)
		return vfio__err_sys(errno, "write '%s' to %s", val, path);
	return 0;
}

/* basename of a symlink's target, e.g. driver -> ../../bus/pci/drivers/ahci */
static int link_base(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	snprintf(buf, len, "%s", base);
	return 0;
}

/* Driver name in @buf; 0 when bound, -ENOENT (no message) when unbound. */
int vfio__pci_driver(const char *addr, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver", vfio__sysfs_root, addr);
	return link_base(path, buf, len);
}

/* IOMMU group number, -ENOENT (no message) when none. */
int vfio__pci_group(const char *addr)
{
	char path[PATH_MAX], buf[32], *end;
	long g;
	int ret;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/iommu_group", vfio__sysfs_root,
		 addr);
	ret = link_base(path, buf, sizeof(buf));
	if (ret)
		return ret;
	g = strtol(buf, &end, 10);
	if (*end || g < 0 || g > INT_MAX)
		return -EINVAL;
	return (int)g;
}

/*
 * Find a member of @group bound to a driver not in @allowed.  Writes
 * "ADDR is bound to DRIVER" into @msg and returns 1 when one is found,
 * 0 when none, negative errno when the group cannot be read.
 */
int vfio__group_blocker(int group, const char *const *allowed, char *msg, size_t len)
{
	char path[PATH_MAX], drv[128];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%d/devices", vfio__sysfs_root,
		 group);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!found && (de = readdir(d))) {
		char addr[VFIO_ADDR_LEN];
		bool ok = false;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(addr, sizeof(addr), "%s", de->d_name) >= (int)sizeof(addr))
			continue;
		if (vfio__pci_driver(addr, drv, sizeof(drv)))
			continue; /* no driver: harmless */
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(drv, *a))
				ok = true;
		if (!ok) {
			snprintf(msg, len, "%s is bound to %s", addr, drv);
			found = 1;
		}
	}
	closedir(d);
	return found;
}
