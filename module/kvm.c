// SPDX-License-Identifier: GPL-2.0
/*
 * What KVM's VFIO pseudo-device (KVM_DEV_TYPE_VFIO, virt/kvm/vfio.c) asks
 * of the vfio module: the drop-in flavor only.
 *
 * KVM does not link against vfio.  When userspace adds a file to the
 * pseudo-device (KVM_DEV_VFIO_FILE_ADD, formerly KVM_DEV_VFIO_GROUP_ADD,
 * as QEMU does for each group it assigns), KVM looks the helpers below up
 * by name with symbol_get() and refuses the file with EINVAL when they are
 * missing.  This flavor is vfio.ko, so it answers under upstream's names;
 * the default flavor lives beside the in-tree vfio, which owns them.
 *
 * Which helper tells KVM "this is a VFIO file" changed: Linux 6.1's KVM
 * looks up vfio_file_is_group() (groups only), later ones
 * vfio_file_is_valid() (groups and device files).  Both are here; compat.h
 * says on which kernels each can be defined.
 *
 * Locking: KVM calls these with its own kvm_vfio lock held and a
 * reference on the file; each takes the group's group_lock at most.
 */
#include <linux/fs.h>
#include <linux/module.h>

#include "compat.h"
#include "device.h"
#include "group.h"
#include "vfio_dkms.h"

/* The group file of a group file or of a device fd, else NULL. */
static struct file *vfio_dkms_kvm_group_file(struct file *file)
{
	if (vfio_dkms_file_is_group(file))
		return file;
	return vfio_dkms_device_file_group(file);
}

#ifdef VFIO_DKMS_KVM_FILE_IS_GROUP
/**
 * vfio_file_is_group() - is @file a group file of this module?
 * @file: any file
 *
 * Return: true for a file of a group node.
 */
bool vfio_file_is_group(struct file *file)
{
	return vfio_dkms_file_is_group(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_group);
#endif

/**
 * vfio_file_is_valid() - may KVM track @file?
 * @file: any file
 *
 * Return: true for a group file or a device fd of this module (upstream
 * accepts its device files too, whichever way they were opened).
 */
bool vfio_file_is_valid(struct file *file)
{
	return !!vfio_dkms_kvm_group_file(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_valid);

/**
 * vfio_file_enforced_coherent() - is all DMA through @file cache coherent?
 * @file: a file for which vfio_file_is_valid() holds
 *
 * KVM emulates WBINVD and honours guest memory types only for VMs with
 * non-coherent DMA; it asks this of every file added.  A device fd answers
 * for the IOMMU context of its group, which is what translates its DMA.
 *
 * Return: whether the IOMMU context enforces coherency; true for a group
 * that is in no container yet (vfio_dkms_group_enforces_coherency()).
 */
bool vfio_file_enforced_coherent(struct file *file)
{
	struct file *group_file = vfio_dkms_kvm_group_file(file);

	if (!group_file)
		return true;
	return vfio_dkms_group_enforces_coherency(group_file);
}
EXPORT_SYMBOL_GPL(vfio_file_enforced_coherent);

/**
 * vfio_file_set_kvm() - KVM tells which VM uses @file (NULL: none now)
 * @file: a file for which vfio_file_is_valid() holds
 * @kvm: the VM, or NULL when the file leaves it
 *
 * Upstream keeps the VM for drivers that need it while a device is open
 * (mediated vGPUs, s390's zPCI and AP).  vfio-pci on x86 uses none of it,
 * and vfio_pci here is this module's only bus driver: there is nobody to
 * hand the VM to, so it is not kept (and no reference on it is taken).
 */
void vfio_file_set_kvm(struct file *file, struct kvm *kvm)
{
}
EXPORT_SYMBOL_GPL(vfio_file_set_kvm);
