// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Backends: the in-tree framework and vfio-dkms.  Both speak the legacy
 * container/group ioctl ABI of linux/vfio.h, so what tells them apart is
 * data only: the /dev directory, the module that makes it and the PCI
 * driver devices are bound to.  What does vary in behaviour is the IOMMU
 * model a container is set to (iommu_type1.c, iommu_noiommu.c).
 */
#include <errno.h>
#include <string.h>

#include "private.h"

const char *const vfio__vfio_drivers[] = { "vfio-pci", "vfio-dkms-pci", NULL };

static const struct vfio__backend backends[] = {
	{
		.id = VFIO_BACKEND_VFIO,
		.name = "vfio",
		.module = "vfio",
		.unflavored = VFIO_IMPLEMENTATION_IN_TREE,
		.driver = "vfio-pci",
		.dev_dir = "/dev/vfio",
		.container = "/dev/vfio/vfio",
	},
	{
		.id = VFIO_BACKEND_VFIO_DKMS,
		.name = "vfio-dkms",
		.module = "vfio_dkms",
		/* only vfio-dkms is called that; before it had the parameter */
		.unflavored = VFIO_IMPLEMENTATION_VFIO_DKMS,
		.driver = "vfio-dkms-pci",
		.dev_dir = "/dev/vfio-dkms",
		.container = "/dev/vfio-dkms/vfio",
	},
};

const struct vfio__backend *vfio__backend_get(enum vfio_backend id)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (backends[i].id == id)
			return &backends[i];
	return NULL;
}

const struct vfio__backend *vfio__backend_for_driver(const char *driver)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i].driver, driver))
			return &backends[i];
	return NULL;
}

const char *vfio_backend_name(enum vfio_backend backend)
{
	const struct vfio__backend *b;

	if (backend == VFIO_BACKEND_AUTO)
		return "auto";
	b = vfio__backend_get(backend);
	return b ? b->name : NULL;
}

int vfio_backend_from_name(const char *name, enum vfio_backend *out)
{
	if (name && !strcmp(name, "auto")) {
		*out = VFIO_BACKEND_AUTO;
		return 0;
	}
	for (size_t i = 0; name && i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i].name, name)) {
			*out = backends[i].id;
			return 0;
		}
	return vfio__err(EINVAL, "unknown backend '%s' (auto, vfio, vfio-dkms)",
			 name ? name : "(null)");
}
