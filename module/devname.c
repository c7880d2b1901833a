// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms: the device name of VFIO_GROUP_GET_DEVICE_FD.
 *
 * Upstream's vfio-pci accepts "NAME", or "NAME" followed by options
 * separated by spaces, of which the only one is "vf_token=UUID", the
 * SR-IOV shared secret between a PF's user and its VFs' users.  vfio-dkms
 * has no SR-IOV support, so no device of ours has a token: a well-formed
 * token is refused the way upstream refuses one for a device that is
 * neither a PF with a token nor a VF of such a PF (EINVAL), and so is a
 * malformed option; anything else after the name is not this device.
 */
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/uuid.h>

#include "devname.h"

/**
 * vfio_dkms_devname_match() - does @buf name the device @dev_name?
 * @dev_name: the device's name (dev_name())
 * @buf: the user's string
 *
 * Return: 1 for a match, 0 for another device, -EINVAL for this device
 * with a bad or unsupported option.
 */
int vfio_dkms_devname_match(const char *dev_name, const char *buf)
{
	size_t len = strlen(dev_name);
	bool vf_token = false;

	if (strncmp(dev_name, buf, len))
		return 0;
	buf += len;
	if (!*buf)
		return 1;
	if (*buf != ' ')
		return 0;

	while (*buf) {
		if (*buf == ' ') {
			buf++;
			continue;
		}
		if (vf_token || strncmp(buf, "vf_token=", strlen("vf_token=")))
			return -EINVAL;		/* unknown or repeated option */
		buf += strlen("vf_token=");
		if (strnlen(buf, UUID_STRING_LEN) < UUID_STRING_LEN ||
		    !uuid_is_valid(buf))
			return -EINVAL;
		buf += UUID_STRING_LEN;
		vf_token = true;
	}
	/* A token given to a device that cannot have one. */
	return vf_token ? -EINVAL : 1;
}
