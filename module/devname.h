/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms: the device name of VFIO_GROUP_GET_DEVICE_FD (devname.c).
 */
#ifndef VFIO_DKMS_DEVNAME_H
#define VFIO_DKMS_DEVNAME_H

int vfio_dkms_devname_match(const char *dev_name, const char *buf);

#endif /* VFIO_DKMS_DEVNAME_H */
