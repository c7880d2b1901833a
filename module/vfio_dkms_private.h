/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfio_dkms_main.c (module, device registration, device fds) uses of
 * the other core files.  Not for bus drivers (vfio_dkms.h).  The other core
 * files include the header of each concern they use instead; the IOMMU
 * backends (iommu.h) and pinning (pin.h) depend on no other core file.
 */
#ifndef VFIO_DKMS_PRIVATE_H
#define VFIO_DKMS_PRIVATE_H

#include "container.h"
#include "debugfs.h"
#include "device.h"
#include "group.h"
#include "noiommu.h"
#include "vfio_dkms.h"

#endif /* VFIO_DKMS_PRIVATE_H */
