// SPDX-License-Identifier: LGPL-2.1-or-later
/* Devices: open by PCI address, info, reset. */
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

static int get_group(struct vfio_context *ctx, int number, struct vfio_group **out)
{
	struct vfio_group *g;
	int ret;

	for (g = ctx->groups; g; g = g->next)
		if (g->number == number) {
			g->users++;
			*out = g;
			return 0;
		}
	g = calloc(1, sizeof(*g));
	if (!g)
		return vfio__err(ENOMEM, "out of memory");
	g->number = number;
	g->fd = -1;
	ret = ctx->ops->group_attach(ctx, g);
	if (ret) {
		free(g);
		return ret;
	}
	g->users = 1;
	g->next = ctx->groups;
	ctx->groups = g;
	*out = g;
	return 0;
}

static void put_group(struct vfio_context *ctx, struct vfio_group *grp)
{
	struct vfio_group **pp;

	if (--grp->users)
		return;
	for (pp = &ctx->groups; *pp; pp = &(*pp)->next)
		if (*pp == grp) {
			*pp = grp->next;
			break;
		}
	if (!ctx->groups && ctx->dmas) {
		/* Unmap explicitly before the IOMMU goes away with the last group. */
		pthread_mutex_lock(&ctx->lock);
		for (struct vfio_dma *d = ctx->dmas; d; d = d->next)
			if (d->mapped)
				vfio__dma_unmap_locked(ctx, d);
		pthread_mutex_unlock(&ctx->lock);
	}
	ctx->ops->group_detach(ctx, grp);
	free(grp);
	if (!ctx->groups)
		vfio__context_dma_lost(ctx);
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

int vfio_device_open(struct vfio_context *ctx, const char *address, enum vfio_backend backend,
		     struct vfio_device **out)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char addr[VFIO_ADDR_LEN], path[320];
	const struct vfio__backend *ops;
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
	ops = pick_backend(addr, backend);
	if (!ops)
		return -vfio_last_errno();
	if (ctx && ctx->ops && ctx->ops != ops)
		return vfio__err(EXDEV, "%s uses the %s backend but the context uses %s", addr,
				 ops->name, ctx->ops->name);

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
	if (!ctx->ops) {
		ctx->ops = ops;
		ret = ops->ctx_open(ctx);
		if (ret) {
			ctx->ops = NULL;
			goto err_ctx;
		}
	}
	ret = get_group(ctx, group, &dev->group);
	if (ret)
		goto err_ctx;
	ret = ops->device_fd(dev->group, addr);
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
	dev->next = ctx->devices;
	ctx->devices = dev;
	*out = dev;
	return 0;

err_group:
	vfio__device_free(dev); /* closes fd, frees regions */
	put_group(ctx, dev->group);
	goto err_ctx_nodev;
err_ctx:
	vfio__device_free(dev);
err_ctx_nodev:
	if (dev->own_ctx)
		vfio_context_free(ctx);
	free(dev);
	return ret;
err_free:
	free(dev);
	return ret;
}

/* Release what the device owns itself (not the group, not the struct). */
void vfio__device_free(struct vfio_device *dev)
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

void vfio_device_close(struct vfio_device *dev)
{
	struct vfio_context *ctx;
	struct vfio_device **pp;

	if (!dev)
		return;
	ctx = dev->ctx;
	for (pp = &ctx->devices; *pp; pp = &(*pp)->next)
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	vfio__device_free(dev);
	put_group(ctx, dev->group);
	if (dev->own_ctx)
		vfio_context_free(ctx);
	free(dev);
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
	return dev->ctx->ops->id;
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
	return 0;
}

unsigned int vfio_device_dma_mask(const struct vfio_device *dev)
{
	return dev->dma_bits;
}
