/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms device fds (vfio_dkms_main.c), as the group node opens them
 * and as KVM's VFIO device sees them (kvm.c).
 */
#ifndef VFIO_DKMS_DEVICE_H
#define VFIO_DKMS_DEVICE_H

struct file;
struct vfio_dkms_device;

struct file *vfio_dkms_device_open_file(struct vfio_dkms_device *device,
					struct file *group_file);
struct file *vfio_dkms_device_file_group(struct file *file);

#endif /* VFIO_DKMS_DEVICE_H */
