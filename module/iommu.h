/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms IOMMU backends: the interface between a container (container.c)
 * and the IOMMU model its groups use, as upstream's vfio_iommu_driver_ops.
 * type1 (iommu_type1.c) and no-IOMMU (noiommu.c) are its two instances; the
 * container holds one ops pointer and the state open() returned, and never
 * asks which model it has.
 *
 * Every op runs with the container's group_lock held (read for ioctl,
 * check_extension and introspect, write for the rest); a backend takes its
 * own lock inside it (lock order in group.h).
 */
#ifndef VFIO_DKMS_IOMMU_H
#define VFIO_DKMS_IOMMU_H

#include <linux/types.h>

struct iommu_group;
struct seq_file;

/**
 * struct vfio_dkms_iommu_ops - one IOMMU model
 * @open: VFIO_SET_IOMMU with @arg; returns the backend state or an ERR_PTR
 *	(-ENODEV for a type this backend does not know, as upstream)
 * @release: the last group left: undo every mapping, free the state
 * @ioctl: a container ioctl that is not the container's own; @owner is the
 *	calling file's own container (shared ownership: it owns the mappings
 *	it makes)
 * @check_extension: VFIO_CHECK_EXTENSION; @data is NULL before
 *	VFIO_SET_IOMMU (what a container of this backend's groups could get)
 * @attach_group: give the devices of a group whose DMA ownership is
 *	claimed the container's mappings
 * @detach_group: take an attached group off again
 * @release_owner: remove every mapping of @owner (its file went away while
 *	other files keep using the backend); may be NULL when a backend has
 *	one user only
 * @introspect: print the backend's lines of the debugfs "containers" file
 *	(docs/introspection.md) to @m
 * @noiommu: the backend of no-IOMMU groups; a container's groups are
 *	either all no-IOMMU groups or all real ones
 */
struct vfio_dkms_iommu_ops {
	void *(*open)(unsigned long arg);
	void (*release)(void *data);
	long (*ioctl)(void *data, const void *owner, unsigned int cmd,
		      unsigned long arg);
	long (*check_extension)(void *data, unsigned long arg);
	int (*attach_group)(void *data, struct iommu_group *iommu_group);
	void (*detach_group)(void *data, struct iommu_group *iommu_group);
	void (*release_owner)(void *data, const void *owner);
	void (*introspect)(void *data, struct seq_file *m);
	bool noiommu;
};

extern const struct vfio_dkms_iommu_ops vfio_dkms_type1_ops;
extern const struct vfio_dkms_iommu_ops vfio_dkms_noiommu_ops;

#endif /* VFIO_DKMS_IOMMU_H */
