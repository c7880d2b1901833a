/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms: every kernel-version difference in one place.
 *
 * The rest of the module is written against the current upstream API; this
 * header maps it onto older kernels.  Supported: 6.1 and later.  Build- and
 * run-tested: Debian bookworm's 6.1 and 6.12 (generic, and the 6.12 debug
 * build) and the newest kernel of Debian sid (scripts/newest-kernel; 7.2.13
 * when this was written); build-tested: the -rt and -cloud flavours of 6.1
 * and 6.12.  A branch point between two tested kernels follows the upstream
 * history of that interface.
 */
#ifndef VFIO_DKMS_COMPAT_H
#define VFIO_DKMS_COMPAT_H

#include <linux/version.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>

/* Nothing older is in Debian's archive to test against (bullseye is 5.10). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "vfio-dkms needs Linux 6.1 or later"
#endif

/* DMA ownership of an IOMMU group. */
#define VFIO_DKMS_DRIVER_MANAGED_DMA	.driver_managed_dma = true,

static inline int vfio_dkms_claim_dma_owner(struct iommu_group *group,
					    void *owner)
{
	return iommu_group_claim_dma_owner(group, owner);
}

static inline void vfio_dkms_release_dma_owner(struct iommu_group *group)
{
	iommu_group_release_dma_owner(group);
}

static inline bool vfio_dkms_dma_owner_claimed(struct iommu_group *group)
{
	return iommu_group_dma_owner_claimed(group);
}

/*
 * Make @domain enforce cache coherency (IOMMU_CACHE mappings snoop); only
 * valid with a device attached.
 */
static inline bool vfio_dkms_enforce_cache_coherency(struct iommu_domain *domain,
						     struct device *dev)
{
	return domain->ops->enforce_cache_coherency &&
	       domain->ops->enforce_cache_coherency(domain);
}

/* class_create() lost its owner argument in 6.4. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define vfio_dkms_class_create(name)	class_create(name)
#else
#define vfio_dkms_class_create(name)	class_create(THIS_MODULE, name)
#endif

/* struct class::devnode takes a const device since 6.2. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VFIO_DKMS_DEVNODE_CONST const
#else
#define VFIO_DKMS_DEVNODE_CONST
#endif

/*
 * no_llseek was removed in 6.12 (a NULL ->llseek now means "not seekable");
 * 6.1 stable defines it as NULL already.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define VFIO_DKMS_NO_LLSEEK	NULL
#else
#define VFIO_DKMS_NO_LLSEEK	no_llseek
#endif

/* vm_flags became read-only behind vm_flags_set() in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}
#endif

/* iommu_map() takes a gfp_t since 6.3. */
static inline int vfio_dkms_iommu_map(struct iommu_domain *domain,
				      unsigned long iova, phys_addr_t paddr,
				      size_t size, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/*
 * iommu_map_sg() takes a gfp_t since 6.3.  Returns the bytes mapped, or a
 * negative errno after undoing whatever it had mapped.
 */
static inline ssize_t vfio_dkms_iommu_map_sg(struct iommu_domain *domain,
					     unsigned long iova,
					     struct scatterlist *sg,
					     unsigned int nents, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map_sg(domain, iova, sg, nents, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map_sg(domain, iova, sg, nents, prot);
#endif
}

/*
 * A paging domain for @dev.  iommu_paging_domain_alloc() exists since 6.11
 * and iommu_domain_alloc(bus) is gone in 6.13.  Returns an ERR_PTR on failure
 * on every kernel.
 */
static inline struct iommu_domain *vfio_dkms_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ? domain : ERR_PTR(-ENODEV);
#endif
}

/*
 * Whether MSIs from the devices of @group are isolated (interrupt
 * remapping).  iommu_group_has_isolated_msi() replaced the per-bus/per-device
 * capability test in 6.3.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline int vfio_dkms_dev_intr_remap(struct device *dev, void *data)
{
	return !device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

static inline bool vfio_dkms_group_has_isolated_msi(struct iommu_group *group)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_group_has_isolated_msi(group);
#else
	/* The callback returns non-zero for a device without remapping. */
	return irq_domain_check_msi_remap() ||
	       !iommu_group_for_each_dev(group, NULL, vfio_dkms_dev_intr_remap);
#endif
}

/*
 * VFIO_GROUP_SET_CONTAINER with an fd that is not a container: -EINVAL
 * until 6.1, -EBADFD since the group code learned about iommufd in 6.2.
 * Follow the in-tree framework of the same kernel.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VFIO_DKMS_ERR_NOT_CONTAINER	(-EBADFD)
#else
#define VFIO_DKMS_ERR_NOT_CONTAINER	(-EINVAL)
#endif

/*
 * A DMA map or unmap range that wraps past 2^64: type1 said -EINVAL until
 * it learned to map up to the top of the address space (6.18), -EOVERFLOW
 * since.  Follow the in-tree framework of the same kernel (tested: -EINVAL
 * on 6.1.0-57 and 6.12.117, -EOVERFLOW on 7.2.13; the version in between
 * follows the upstream history).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define VFIO_DKMS_ERR_DMA_WRAP	(-EOVERFLOW)
#else
#define VFIO_DKMS_ERR_DMA_WRAP	(-EINVAL)
#endif

/* eventfd_signal() lost its count argument in 6.8 (used by the IRQ code). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define vfio_dkms_eventfd_signal(ctx)	eventfd_signal(ctx)
#else
#define vfio_dkms_eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

/*
 * Dynamic MSI-X (vectors added after MSI-X is enabled): the PCI API exists
 * since 6.2, in-tree vfio-pci uses it (and changes its SET_IRQS checks)
 * since 6.5; follow vfio-pci.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define VFIO_DKMS_HAVE_DYN_MSIX
#define vfio_dkms_pci_msix_can_alloc_dyn(pdev)	pci_msix_can_alloc_dyn(pdev)
#else
#define vfio_dkms_pci_msix_can_alloc_dyn(pdev)	false
#endif

/*
 * ERR/REQ eventfd with fd < -1: in-tree vfio-pci ignores it (returns 0) in
 * 6.1 and fails it with -EINVAL since the RCU rework of those triggers,
 * which Debian's 6.12 carries (tested: 6.1.0-56, 6.12.117).  The boundary
 * for kernels in between is assumed, not tested.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define VFIO_DKMS_CTX_TRIGGER_STRICT_FD
#endif

/*
 * KVM's VFIO pseudo-device finds VFIO files with vfio_file_is_group() up
 * to 6.4 (tested: 6.1) and with vfio_file_is_valid() since device files
 * became valid there in 6.5 (tested: 6.12, 7.2); the drop-in flavor
 * defines both (kvm.c).  <linux/vfio.h> declares vfio_file_is_valid() only
 * since then, and since 6.6 makes vfio_file_is_group() an inline stub on
 * kernels without CONFIG_VFIO_GROUP, where it cannot be defined.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
bool vfio_file_is_valid(struct file *file);
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0) || IS_ENABLED(CONFIG_VFIO_GROUP)
#define VFIO_DKMS_KVM_FILE_IS_GROUP
#endif

#endif /* VFIO_DKMS_COMPAT_H */
