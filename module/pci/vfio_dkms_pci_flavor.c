// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci per build flavor: the modinfo field naming the flavor and,
 * in the drop-in flavor, upstream vfio-pci's ids= parameter.
 *
 * The default flavor binds only through driver_override (or new_id, which
 * the PCI core offers every driver).  The drop-in flavor is "vfio-pci" for
 * programs and configurations written for the in-tree driver, and those
 * also use "options vfio-pci ids=8086:10d3,..." to claim devices at load.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "vfio_dkms_pci_flavor.h"

MODULE_INFO(vfio_dkms_flavor, VFIO_DKMS_FLAVOR);

#ifdef VFIO_DKMS_DROPIN

static char ids[1024];
module_param_string(ids, ids, sizeof(ids), 0);
MODULE_PARM_DESC(ids,
		 "PCI ids to claim at load, comma separated, each vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex");

void vfio_dkms_pci_add_ids(struct pci_driver *drv)
{
	char *rest = ids, *id;

	while ((id = strsep(&rest, ","))) {
		unsigned int vendor, device;
		unsigned int subvendor = PCI_ANY_ID, subdevice = PCI_ANY_ID;
		unsigned int class = 0, class_mask = 0;
		int ret;

		if (!*id)
			continue;
		if (sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
			   &subvendor, &subdevice, &class, &class_mask) < 2) {
			pr_warn("ids: cannot parse \"%s\"\n", id);
			continue;
		}
		/* Binds every present device that matches, as new_id does. */
		ret = pci_add_dynid(drv, vendor, device, subvendor, subdevice,
				    class, class_mask, 0);
		if (ret)
			pr_warn("ids: cannot add %s: %d\n", id, ret);
		else
			pr_info("ids: added %04x:%04x\n", vendor, device);
	}
}

#else

void vfio_dkms_pci_add_ids(struct pci_driver *drv)
{
}

#endif /* VFIO_DKMS_DROPIN */
