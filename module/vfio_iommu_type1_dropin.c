// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_iommu_type1 of the drop-in flavor: an empty module.
 *
 * The type1 IOMMU backend is part of the core module (iommu_type1.c), but
 * upstream ships it as its own module and programs and scripts written for
 * upstream run "modprobe vfio_iommu_type1".  Without this module that
 * would load the distro's vfio_iommu_type1, whose symbols our vfio does
 * not export, and fail.  Loading it loads vfio, as upstream's does.
 */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-dkms drop-in: type1 is built into vfio; this keeps modprobe vfio_iommu_type1 working");
MODULE_VERSION(VFIO_DKMS_VERSION);
MODULE_INFO(vfio_dkms_flavor, VFIO_DKMS_FLAVOR);
MODULE_SOFTDEP("pre: vfio");
