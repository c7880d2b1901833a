// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into those of the kernel's VFIO selftests whose fixtures take their
 * IOMMU mode from libvfio's default_iommu_mode, which is iommufd: Debian's
 * 6.1 and 6.12 have no /dev/iommu, so those tests could never reach the
 * legacy container.  This sets the mode, before main(), to the container
 * mode IOMMU_MODE names ("vfio_type1_iommu", "vfio_type1v2_iommu"), as the
 * mode variants of the other selftests do.  Nothing of the tests changes.
 */
#ifndef IOMMU_MODE
#error "build with -DIOMMU_MODE='\"vfio_type1v2_iommu\"'"
#endif

extern const char *default_iommu_mode;

__attribute__((constructor)) static void select_iommu_mode(void)
{
	default_iommu_mode = IOMMU_MODE;
}
