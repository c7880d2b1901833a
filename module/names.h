/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every name vfio-dkms registers with the kernel, for both build flavors.
 *
 * One source tree builds two namings (module/Kbuild, VFIO_DKMS_FLAVOR):
 *
 *  default  modules vfio_dkms + vfio_dkms_pci, PCI driver "vfio-dkms-pci",
 *           nodes under /dev/vfio-dkms/: lives beside the in-tree vfio.
 *  dropin   (-DVFIO_DKMS_DROPIN) modules vfio + vfio_pci, PCI driver
 *           "vfio-pci", container /dev/vfio/vfio on the upstream misc
 *           minor, groups /dev/vfio/N: replaces the in-tree vfio for
 *           programs that hard-code its names (docs/dropin.md).
 *
 * Kbuild passes this file to every object with -include, so it must not
 * include headers itself: the macros expand where they are used.
 */
#ifndef VFIO_DKMS_NAMES_H
#define VFIO_DKMS_NAMES_H

#ifdef VFIO_DKMS_DROPIN

#define VFIO_DKMS_FLAVOR		"dropin"
/* Directory under /dev of the container and group nodes. */
#define VFIO_DKMS_NODE_DIR		"vfio"
/* The container misc device: upstream's name, minor and node. */
#define VFIO_DKMS_CONTAINER_NAME	"vfio"
#define VFIO_DKMS_CONTAINER_MINOR	VFIO_MINOR
/* Group nodes: device class and chrdev region. */
#define VFIO_DKMS_CLASS_NAME		"vfio"
#define VFIO_DKMS_CHRDEV_NAME		"vfio"
/* Both flavors may be loaded together: their debugfs dirs differ. */
#define VFIO_DKMS_DEBUGFS_DIR		"vfio-dkms-dropin"
#define VFIO_DKMS_PCI_DRIVER		"vfio-pci"

/*
 * The exported core <-> bus driver interface gets its own symbol names,
 * so that this flavor's vfio.ko and the default flavor's vfio_dkms.ko
 * export nothing twice and both can be loaded at once.
 */
#define vfio_dkms_info_cap_add		vfio_dropin_info_cap_add
#define vfio_dkms_info_add_capability	vfio_dropin_info_add_capability
#define vfio_dkms_info_cap_shift	vfio_dropin_info_cap_shift
#define vfio_dkms_init_device		vfio_dropin_init_device
#define vfio_dkms_register_device	vfio_dropin_register_device
#define vfio_dkms_unregister_device	vfio_dropin_unregister_device
#define vfio_dkms_device_put		vfio_dropin_device_put
#define vfio_dkms_file_is_group		vfio_dropin_file_is_group
#define vfio_dkms_group_files_get_device vfio_dropin_group_files_get_device

#else /* default flavor */

#define VFIO_DKMS_FLAVOR		"default"
#define VFIO_DKMS_NODE_DIR		"vfio-dkms"
#define VFIO_DKMS_CONTAINER_NAME	"vfio-dkms"
#define VFIO_DKMS_CONTAINER_MINOR	MISC_DYNAMIC_MINOR
#define VFIO_DKMS_CLASS_NAME		"vfio-dkms"
#define VFIO_DKMS_CHRDEV_NAME		"vfio-dkms"
#define VFIO_DKMS_DEBUGFS_DIR		"vfio-dkms"
#define VFIO_DKMS_PCI_DRIVER		"vfio-dkms-pci"

#endif /* VFIO_DKMS_DROPIN */

/* /dev/<dir>/vfio, as upstream's "vfio/vfio". */
#define VFIO_DKMS_CONTAINER_NODE	VFIO_DKMS_NODE_DIR "/vfio"

#endif /* VFIO_DKMS_NAMES_H */
