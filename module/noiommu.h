/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms no-IOMMU mode (noiommu.c): what device registration needs.
 * The backend itself is vfio_dkms_noiommu_ops (iommu.h).
 */
#ifndef VFIO_DKMS_NOIOMMU_H
#define VFIO_DKMS_NOIOMMU_H

#include <linux/types.h>

struct device;
struct iommu_group;

/* Module parameter enable_unsafe_noiommu_mode. */
extern bool vfio_dkms_noiommu;

struct iommu_group *vfio_dkms_noiommu_group_alloc(struct device *dev);

#endif /* VFIO_DKMS_NOIOMMU_H */
