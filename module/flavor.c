// SPDX-License-Identifier: GPL-2.0
/*
 * How the core module tells which naming it was built with (names.h):
 *
 *   modinfo -F vfio_dkms_flavor vfio           -> "dropin"
 *   /sys/module/vfio/parameters/vfio_dkms_flavor  -> "dropin" (read-only)
 *
 * (vfio_dkms and "default" in the default flavor.)  The in-tree vfio has
 * neither, which is how a program finds out what backs /dev/vfio.
 *
 * The drop-in flavor also carries upstream's module aliases for the
 * container's misc minor and node, so that opening /dev/vfio/vfio before
 * the module is loaded autoloads it as it autoloads the in-tree vfio.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sysfs.h>

static int vfio_dkms_flavor_set(const char *val, const struct kernel_param *kp)
{
	/* A build property, not a setting: refuse it on the command line. */
	return -EPERM;
}

static int vfio_dkms_flavor_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", VFIO_DKMS_FLAVOR);
}

static const struct kernel_param_ops vfio_dkms_flavor_ops = {
	.set	= vfio_dkms_flavor_set,
	.get	= vfio_dkms_flavor_get,
};

module_param_cb(vfio_dkms_flavor, &vfio_dkms_flavor_ops, NULL, 0444);
MODULE_PARM_DESC(vfio_dkms_flavor,
		 "Naming this vfio-dkms build uses: default (vfio_dkms, /dev/vfio-dkms) or dropin (vfio, /dev/vfio), read-only");
MODULE_INFO(vfio_dkms_flavor, VFIO_DKMS_FLAVOR);

#ifdef VFIO_DKMS_DROPIN
MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:" VFIO_DKMS_CONTAINER_NODE);
#endif
