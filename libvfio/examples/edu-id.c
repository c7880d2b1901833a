// SPDX-License-Identifier: LGPL-2.1-or-later
/* Ten lines against the installed library: print the edu device's id register. */
#include <stdio.h>
#include <vfio/vfio.h>
int main(int argc, char **argv)
{
	struct vfio_device *dev; struct vfio_region *bar0; uint32_t id;
	if (argc < 2 || vfio_device_open(NULL, argv[1], VFIO_BACKEND_AUTO, &dev))
		return fprintf(stderr, "open: %s\n", vfio_last_error()), 1;
	if (vfio_device_get_region(dev, 0, &bar0) || vfio_region_read32(bar0, 0, &id))
		return fprintf(stderr, "read: %s\n", vfio_last_error()), 1;
	printf("%s id 0x%08x via %s\n", argv[1], id, vfio_backend_name(vfio_device_backend(dev)));
	vfio_device_close(dev);
	return 0;
}
