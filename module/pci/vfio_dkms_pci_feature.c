// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: VFIO_DEVICE_FEATURE.
 *
 * None of the upstream device features is implemented: migration and its
 * dirty-page logging need a variant driver, the low-power features need
 * runtime power management, and the VF token needs SR-IOV support.  Users
 * probe for them (VFIO_DEVICE_FEATURE_PROBE) and fall back when the answer
 * is ENOTTY, which is what the in-tree vfio-pci answers for a feature a
 * device does not have.  The header is checked first, with the in-tree
 * framework's rules and errnos, so that a malformed request is EINVAL
 * here as there, whatever the feature.
 */
#include <linux/vfio.h>

#include "vfio_dkms_pci_feature.h"
#include "vfio_dkms_pci_priv.h"

int vfio_dkms_pci_ioctl_feature(struct vfio_dkms_pci_device *vdev,
				struct vfio_dkms_ioctl_arg *arg)
{
	size_t minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature feature = *(struct vfio_device_feature *)arg->buf;
	u32 ops;

	if (feature.argsz < minsz)
		return -EINVAL;
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK |
			      VFIO_DEVICE_FEATURE_GET |
			      VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET together only make sense as a probe of both. */
	ops = feature.flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET);
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    ops == (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET))
		return -EINVAL;

	/* No feature is supported, for any device. */
	return -ENOTTY;
}
