// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: BAR mmaps that can be revoked.
 *
 * Every device gets an inode of a private pseudo filesystem; its address
 * space becomes the f_mapping of the device's files, so every BAR mmap of
 * the device is linked there and unmap_mapping_range() revokes them all at
 * once.  BAR pages are not mapped at mmap() time but inserted on fault,
 * under memory_lock for read, only while memory decode is on: a mapping
 * revoked while the BARs are off-line (reset, memory decode cleared) faults
 * back in when they are usable again, or gets SIGBUS while they are not.
 * This is the scheme of in-tree vfio-pci since 6.10.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pci.h>
#include <linux/pseudo_fs.h>

#include "../compat.h"
#include "vfio_dkms_pci_mmap.h"
#include "vfio_dkms_pci_priv.h"

#define VFIO_DKMS_PCI_FS_MAGIC	0x76666470	/* "vfdp" */

/* The pseudo filesystem is mounted while a device is bound. */
static struct vfsmount *vfio_dkms_pci_mnt;
static int vfio_dkms_pci_mnt_count;

static int vfio_dkms_pci_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VFIO_DKMS_PCI_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type vfio_dkms_pci_fs_type = {
	.name		= "vfio-dkms-pci",
	.owner		= THIS_MODULE,
	.init_fs_context = vfio_dkms_pci_init_fs_context,
	.kill_sb	= kill_anon_super,
};

/**
 * vfio_dkms_pci_inode_init() - give the device its address space (probe)
 * @vdev: the device, not yet registered
 *
 * Return: 0 or a negative errno.
 */
int vfio_dkms_pci_inode_init(struct vfio_dkms_pci_device *vdev)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&vfio_dkms_pci_fs_type, &vfio_dkms_pci_mnt,
			    &vfio_dkms_pci_mnt_count);
	if (ret)
		return ret;

	inode = alloc_anon_inode(vfio_dkms_pci_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		simple_release_fs(&vfio_dkms_pci_mnt, &vfio_dkms_pci_mnt_count);
		return PTR_ERR(inode);
	}
	vdev->inode = inode;
	vdev->vdev.mapping = inode->i_mapping;
	return 0;
}

/**
 * vfio_dkms_pci_inode_release() - counterpart of vfio_dkms_pci_inode_init()
 * @vdev: the device, unregistered (no file refers to the inode)
 */
void vfio_dkms_pci_inode_release(struct vfio_dkms_pci_device *vdev)
{
	vdev->vdev.mapping = NULL;
	iput(vdev->inode);
	vdev->inode = NULL;
	simple_release_fs(&vfio_dkms_pci_mnt, &vfio_dkms_pci_mnt_count);
}

/**
 * vfio_dkms_pci_zap_bars() - revoke every BAR mmap of the device
 * @vdev: the device; memory_lock held for write so nothing faults back in
 */
void vfio_dkms_pci_zap_bars(struct vfio_dkms_pci_device *vdev)
{
	loff_t start = VFIO_DKMS_PCI_INDEX_TO_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	loff_t end = VFIO_DKMS_PCI_INDEX_TO_OFFSET(VFIO_PCI_ROM_REGION_INDEX);

	lockdep_assert_held_write(&vdev->memory_lock);
	unmap_mapping_range(vdev->inode->i_mapping, start, end - start, true);
}

/**
 * vfio_dkms_pci_revoke() - take the BARs away from the user (removal)
 * @core: the device, its fds being revoked
 *
 * Memory is marked disabled before the mappings are zapped, under
 * memory_lock, so that no fault maps a BAR again and every later access
 * through an old mapping gets SIGBUS; the core then quiesces the device.
 */
void vfio_dkms_pci_revoke(struct vfio_dkms_device *core)
{
	struct vfio_dkms_pci_device *vdev =
		container_of(core, struct vfio_dkms_pci_device, vdev);

	down_write(&vdev->memory_lock);
	vdev->mem_enabled = false;
	vfio_dkms_pci_zap_bars(vdev);
	up_write(&vdev->memory_lock);
}

static vm_fault_t vfio_dkms_pci_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_dkms_pci_device *vdev = vma->vm_private_data;
	struct pci_dev *pdev = vdev->pdev;
	unsigned int index;
	unsigned long pfn;
	u64 pgoff;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	index = vma->vm_pgoff >> (VFIO_DKMS_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	pgoff = vma->vm_pgoff &
		((1ULL << (VFIO_DKMS_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1);
	pfn = (pci_resource_start(pdev, index) >> PAGE_SHIFT) + pgoff +
	      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);

	down_read(&vdev->memory_lock);
	if (vdev->mem_enabled && pci_is_enabled(pdev))
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	up_read(&vdev->memory_lock);
	return ret;
}

static const struct vm_operations_struct vfio_dkms_pci_mmap_ops = {
	.fault = vfio_dkms_pci_mmap_fault,
};

/**
 * vfio_dkms_pci_mmap_setup() - finish a validated BAR mmap
 * @vdev: the device
 * @vma: the new mapping; vm_pgoff still holds the region file offset
 *
 * Pages are inserted on fault; see the comment at the top of the file.
 */
void vfio_dkms_pci_mmap_setup(struct vfio_dkms_pci_device *vdev,
			      struct vm_area_struct *vma)
{
	vma->vm_private_data = vdev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &vfio_dkms_pci_mmap_ops;
}
