// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Devices: open by PCI address, info, reset.  The group and container a
 * device needs come from its context (context.c); a device's own
 * resources (fd, regions, interrupts) are released here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "private.h"

static const struct vfio__backend *pick_backend(const char *addr, enum vfio_backend want)
{
	const struct vfio__backend *b = NULL;
	char drv[64];
	bool bound;

	bound = !vfio__pci_driver(addr, drv, sizeof(drv));
	if (want == VFIO_BACKEND_AUTO) {
		if (!bound) {
			vfio__err(ENODEV, "%s is not bound to any driver (bind it to vfio-pci or vfio-dkms-pci)",
				  addr);
			return NULL;
		}
		b = vfio__backend_for_driver(drv);
		if (!b)
			vfio__err(ENODEV, "%s is bound to %s, not to a VFIO driver (vfio-pci or vfio-dkms-pci)",
				  addr, drv);
		return b;
	}
	b = vfio__backend_get(want);
	if (!b) {
		vfio__err(EINVAL, "unknown backend %d", (int)want);
		return NULL;
	}
	if (!bound || strcmp(drv, b->driver)) {
		vfio__err(ENODEV, "%s is %s%s, not to %s (needed by the %s backend)", addr,
			  bound ? "bound to " : "not bound to any driver", bound ? drv : "",
			  b->driver, b->name);
		return NULL;
	}
	return b;
}

static int read_regions(struct vfio_device *dev)
{
	dev->regions = calloc(dev->num_regions ? dev->num_regions : 1, sizeof(*dev->regions));
	if (!dev->regions)
		return vfio__err(ENOMEM, "out of memory");
	for (unsigned int i = 0; i < dev->num_regions; i++) {
		struct vfio_region *r = &dev->regions[i];
		struct vfio_region_info *info;
		size_t sz = sizeof(*info);
		int ret = 0;

		r->dev = dev;
		r->fd = dev->fd;
		r->index = i;
		for (;;) {
			info = calloc(1, sz);
			if (!info)
				return vfio__err(ENOMEM, "out of memory");
			info->argsz = sz;
			info->index = i;
			if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
				int e = errno;

				free(info);
				if (e == EINVAL)
					goto next; /* e.g. VGA on a non-VGA device: size 0 */
				return vfio__err_sys(e, "VFIO_DEVICE_GET_REGION_INFO %u on %s", i,
						     dev->address);
			}
			if (info->argsz <= sz)
				break;
			sz = info->argsz;
			free(info);
		}
		r->flags = info->flags;
		r->size = info->size;
		r->offset = info->offset;
		if ((info->flags & VFIO_REGION_INFO_FLAG_CAPS) && info->cap_offset)
			ret = vfio__parse_region_caps(info, sz, info->cap_offset, &r->caps);
		free(info);
		if (ret)
			return vfio__err(-ret, "VFIO_DEVICE_GET_REGION_INFO %u on %s: %s", i,
					 dev->address, vfio_last_error());
next:;
	}
	return 0;
}

static int read_irqs(struct vfio_device *dev)
{
	for (unsigned int i = 0; i < VFIO_NUM_IRQ_TYPES && i < dev->num_irqs; i++) {
		struct vfio_irq_info info = { .argsz = sizeof(info), .index = i };

		if (ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, &info))
			return vfio__err_sys(errno, "VFIO_DEVICE_GET_IRQ_INFO %u on %s", i,
					     dev->address);
		dev->irq_count[i] = (info.flags & VFIO_IRQ_INFO_EVENTFD) ? (int)info.count : 0;
	}
	return 0;
}

/* Release what the device owns itself (not the group, not the struct). */
static void release_resources(struct vfio_device *dev)
{
	if (dev->irq_enabled >= 0)
		vfio_irq_disable(dev, (enum vfio_irq_type)dev->irq_enabled);
	if (dev->regions) {
		for (unsigned int i = 0; i < dev->num_regions; i++) {
			vfio__region_unmap_all(&dev->regions[i]);
			free(dev->regions[i].caps.areas);
		}
		free(dev->regions);
		dev->regions = NULL;
	}
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

/*
 * How vfio_context_free() ends a device still open in it: what the device
 * owns and the struct; the context puts the group itself.
 */
static void device_release(struct vfio_device *dev)
{
	release_resources(dev);
	free(dev);
}

int vfio_device_open(struct vfio_context *ctx, const char *address, enum vfio_backend backend,
		     struct vfio_device **out)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char addr[VFIO_ADDR_LEN], path[320];
	const struct vfio__backend *b;
	struct vfio_device *dev;
	struct vfio_region *cfg;
	int ret, group;

	ret = vfio__parse_address(address, addr);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", vfio__sysfs_root, addr);
	if (access(path, F_OK))
		return vfio__err(ENOENT, "no PCI device %s (%s missing)", addr, path);
	group = vfio__pci_group(addr);
	if (group < 0)
		return vfio__err(ENXIO,
				 "%s has no IOMMU group (is the IOMMU enabled, e.g. intel_iommu=on? without one, see vfio-dkms's no-IOMMU mode, enable_unsafe_noiommu_mode)",
				 addr);
	b = pick_backend(addr, backend);
	if (!b)
		return -vfio_last_errno();
	if (ctx && ctx->backend && ctx->backend != b)
		return vfio__err(EXDEV, "%s uses the %s backend but the context uses %s", addr,
				 b->name, ctx->backend->name);

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return vfio__err(ENOMEM, "out of memory");
	dev->fd = -1;
	dev->irq_enabled = -1;
	dev->dma_bits = 64;
	snprintf(dev->address, sizeof(dev->address), "%s", addr);
	if (!ctx) {
		ret = vfio_context_new(&ctx);
		if (ret)
			goto err_free;
		dev->own_ctx = true;
	}
	dev->ctx = ctx;
	if (!ctx->backend) {
		ret = vfio__container_open(ctx, b);
		if (ret)
			goto err_ctx;
	}
	ctx->release_device = device_release;
	ret = vfio__context_get_group(ctx, group, &dev->group);
	if (ret)
		goto err_ctx;
	ret = vfio__group_device_fd(dev->group, addr);
	if (ret < 0)
		goto err_group;
	dev->fd = ret;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &info)) {
		ret = vfio__err_sys(errno, "VFIO_DEVICE_GET_INFO on %s", addr);
		goto err_group;
	}
	dev->flags = info.flags;
	dev->num_regions = info.num_regions;
	dev->num_irqs = info.num_irqs;
	ret = read_regions(dev);
	if (ret)
		goto err_group;
	ret = read_irqs(dev);
	if (ret)
		goto err_group;
	cfg = vfio_device_config(dev);
	if (cfg) {
		vfio_region_read16(cfg, 0, &dev->vendor);
		vfio_region_read16(cfg, 2, &dev->device);
	}
	vfio__context_add_device(ctx, dev);
	*out = dev;
	return 0;

err_group:
	release_resources(dev);
	vfio__context_put_group(ctx, dev->group);
err_ctx:
	if (dev->own_ctx)
		vfio_context_free(ctx);
err_free:
	free(dev);
	return ret;
}

void vfio_device_close(struct vfio_device *dev)
{
	struct vfio_context *ctx;
	bool own_ctx;

	if (!dev)
		return;
	ctx = dev->ctx;
	own_ctx = dev->own_ctx;
	vfio__context_remove_device(ctx, dev);
	release_resources(dev);
	vfio__context_put_group(ctx, dev->group);
	free(dev);
	if (own_ctx)
		vfio_context_free(ctx);
}

struct vfio_context *vfio_device_context(const struct vfio_device *dev)
{
	return dev->ctx;
}

const char *vfio_device_address(const struct vfio_device *dev)
{
	return dev->address;
}

enum vfio_backend vfio_device_backend(const struct vfio_device *dev)
{
	return dev->ctx->backend->id;
}

int vfio_device_iommu_group(const struct vfio_device *dev)
{
	return dev->group->number;
}

int vfio_device_fd(const struct vfio_device *dev)
{
	return dev->fd;
}

uint32_t vfio_device_flags(const struct vfio_device *dev)
{
	return dev->flags;
}

unsigned int vfio_device_num_regions(const struct vfio_device *dev)
{
	return dev->num_regions;
}

unsigned int vfio_device_num_irqs(const struct vfio_device *dev)
{
	return dev->num_irqs;
}

uint16_t vfio_device_vendor(const struct vfio_device *dev)
{
	return dev->vendor;
}

uint16_t vfio_device_device(const struct vfio_device *dev)
{
	return dev->device;
}

int vfio_device_reset(struct vfio_device *dev)
{
	if (!(dev->flags & VFIO_DEVICE_FLAGS_RESET))
		return vfio__err(ENOTTY, "VFIO_DEVICE_RESET on %s: device does not support reset",
				 dev->address);
	if (ioctl(dev->fd, VFIO_DEVICE_RESET))
		return vfio__err_sys(errno, "VFIO_DEVICE_RESET on %s", dev->address);
	return 0;
}

int vfio_device_set_bus_master(struct vfio_device *dev, bool enable)
{
	struct vfio_region *cfg = vfio_device_config(dev);
	uint16_t cmd;
	int ret;

	if (!cfg)
		return vfio__err(ENODEV, "%s has no config space region", dev->address);
	ret = vfio_region_read16(cfg, 4, &cmd);
	if (ret)
		return ret;
	cmd = enable ? (cmd | 4) : (cmd & ~4);
	return vfio_region_write16(cfg, 4, cmd);
}

int vfio_device_set_dma_mask(struct vfio_device *dev, unsigned int bits)
{
	if (bits < 1 || bits > 64)
		return vfio__err(EINVAL, "DMA mask of %u bits: must be 1..64", bits);
	dev->dma_bits = bits;
	vfio__context_update_dma_limit(dev->ctx);
	return 0;
}

unsigned int vfio_device_dma_mask(const struct vfio_device *dev)
{
	return dev->dma_bits;
}
