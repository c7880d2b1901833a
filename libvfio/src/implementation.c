// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which implementation backs a backend: none, the kernel's own vfio, or
 * vfio-dkms in one of its two flavors.  Only sysfs tells, and only through
 * what the modules publish (docs/dropin.md):
 *
 *   /sys/module/NAME                            loaded (or built in)
 *   /sys/module/NAME/initstate                  only a loadable module has it
 *   /sys/module/NAME/parameters/vfio_dkms_flavor  vfio-dkms only
 *   /sys/module/NAME/version                    MODULE_VERSION, if any
 *
 * An answer is given only from these files: anything else that cannot be
 * read is an error, not a guess.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "private.h"

static const char *const impl_names[] = {
	[VFIO_IMPLEMENTATION_NONE] = "none",
	[VFIO_IMPLEMENTATION_IN_TREE] = "in-tree",
	[VFIO_IMPLEMENTATION_VFIO_DKMS] = "vfio-dkms",
	[VFIO_IMPLEMENTATION_VFIO_DKMS_DROPIN] = "vfio-dkms-dropin",
};

/* The values of vfio-dkms's vfio_dkms_flavor parameter (module/flavor.c). */
static const struct {
	const char *value;
	enum vfio_implementation impl;
} flavors[] = {
	{ "default", VFIO_IMPLEMENTATION_VFIO_DKMS },
	{ "dropin", VFIO_IMPLEMENTATION_VFIO_DKMS_DROPIN },
};

const char *vfio_implementation_name(enum vfio_implementation impl)
{
	if ((unsigned int)impl >= ARRAY_SIZE(impl_names))
		return NULL;
	return impl_names[impl];
}

/* 1 when @path exists, 0 when it does not (ENOENT), negative errno else. */
static int path_exists(const char *path)
{
	struct stat st;

	if (!stat(path, &st))
		return 1;
	if (errno == ENOENT)
		return 0;
	return vfio__err_sys(errno, "stat %s", path);
}

/* 1 when module @dir has attribute @attr, 0 when not, negative errno else. */
static int module_has(const char *dir, const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	return path_exists(path);
}

/*
 * Read a one-line attribute of module @dir into @buf; 0 when read, 1 when
 * the module has no such attribute, negative errno else.
 */
static int module_attr(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = module_has(dir, attr);
	if (ret <= 0)
		return ret < 0 ? ret : 1;
	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	return vfio__sysfs_read_line(path, buf, len);
}

static int module_flavor(const char *dir, enum vfio_implementation *impl)
{
	char value[64];
	int ret;

	ret = module_attr(dir, "parameters/vfio_dkms_flavor", value, sizeof(value));
	if (ret)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(flavors); i++)
		if (!strcmp(value, flavors[i].value)) {
			*impl = flavors[i].impl;
			return 0;
		}
	return vfio__err(EPROTO, "%s/parameters/vfio_dkms_flavor: unknown flavor '%s'", dir,
			 value);
}

int vfio_backend_implementation(enum vfio_backend backend, enum vfio_implementation *impl,
				char *version, size_t len)
{
	const struct vfio__backend *b = vfio__backend_get(backend);
	enum vfio_implementation found = VFIO_IMPLEMENTATION_NONE;
	char dir[320], ver[128] = "";
	int ret;

	if (!b || !impl || (!version && len))
		return vfio__err(EINVAL, "implementation of backend %d: %s", (int)backend,
				 !b ? "not a backend (auto is none)" : "NULL argument");
	snprintf(dir, sizeof(dir), "%s/sys/module/%s", vfio__sysfs_root, b->module);
	ret = path_exists(dir);
	if (ret < 0)
		return ret;
	if (!ret)
		goto out; /* not loaded: none, no version */
	/* Built in: part of the kernel, whatever it reports (DKMS builds modules). */
	ret = module_has(dir, "initstate");
	if (ret < 0)
		return ret;
	if (!ret) {
		found = VFIO_IMPLEMENTATION_IN_TREE;
	} else {
		ret = module_flavor(dir, &found);
		if (ret < 0)
			return ret;
		if (ret)
			found = b->unflavored;
	}
	ret = module_attr(dir, "version", ver, sizeof(ver));
	if (ret < 0)
		return ret;
	if (ret)
		ver[0] = '\0';
out:
	if (len && strlen(ver) >= len)
		return vfio__err(ERANGE, "%s version '%s' does not fit in %zu bytes", b->module,
				 ver, len);
	if (len)
		strcpy(version, ver);
	*impl = found;
	return 0;
}
