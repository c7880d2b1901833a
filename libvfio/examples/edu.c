// SPDX-License-Identifier: LGPL-2.1-or-later
/* libvfio worked example: QEMU's edu device (also in libvfio(3)). */
#include <stdio.h>
#include <string.h>
#include <vfio/vfio.h>

#define CHECK(call) do { int e_ = (call); if (e_ < 0) { \
	fprintf(stderr, "%s: %s\n", #call, vfio_last_error()); goto out; } } while (0)

int main(int argc, char **argv)
{
	struct vfio_context *ctx = NULL;
	struct vfio_device *dev;
	struct vfio_region *bar0;
	struct vfio_dma *buf;
	struct vfio_irq *irq;
	uint64_t iova;
	uint32_t val;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PCI-ADDRESS\n", argv[0]);
		return 2;
	}
	CHECK(vfio_context_new(&ctx));
	CHECK(vfio_device_open(ctx, argv[1], VFIO_BACKEND_AUTO, &dev));
	printf("%s: %04x:%04x via %s\n", vfio_device_address(dev),
	       vfio_device_vendor(dev), vfio_device_device(dev),
	       vfio_backend_name(vfio_device_backend(dev)));

	/* Registers: BAR0 offset 0 is the id, 0x04 inverts what is written. */
	CHECK(vfio_device_get_region(dev, 0, &bar0));
	CHECK(vfio_region_read32(bar0, 0x00, &val));
	printf("id 0x%08x\n", val);

	/* Factorial with its completion interrupt (MSI). */
	CHECK(vfio_device_set_bus_master(dev, true));
	CHECK(vfio_irq_enable(dev, VFIO_IRQ_MSI, 1));
	CHECK(vfio_device_get_irq(dev, VFIO_IRQ_MSI, 0, &irq));
	CHECK(vfio_region_write32(bar0, 0x20, 0x80));     /* irq on completion */
	CHECK(vfio_region_write32(bar0, 0x08, 6));        /* compute 6! */
	if (vfio_irq_wait(irq, 1000) <= 0) {
		fprintf(stderr, "no interrupt\n");
		goto out;
	}
	CHECK(vfio_region_read32(bar0, 0x08, &val));
	printf("6! = %u\n", val);
	CHECK(vfio_region_read32(bar0, 0x24, &val));
	CHECK(vfio_region_write32(bar0, 0x64, val));      /* acknowledge */

	/* DMA: the device addresses 28 bits; the allocator keeps IOVAs below. */
	CHECK(vfio_device_set_dma_mask(dev, 28));
	CHECK(vfio_dma_alloc(ctx, 4096, VFIO_DMA_BIDIRECTIONAL, &buf));
	CHECK(vfio_dma_iova(buf, &iova));
	strcpy(vfio_dma_vaddr(buf), "hello, edu");
	CHECK(vfio_region_write64(bar0, 0x80, iova));                /* src */
	CHECK(vfio_region_write64(bar0, 0x88, 0x40000));             /* dst */
	CHECK(vfio_region_write64(bar0, 0x90, 16));                  /* count */
	CHECK(vfio_region_write32(bar0, 0x98, 1));       /* start, RAM -> device */
	do
		CHECK(vfio_region_read32(bar0, 0x98, &val));
	while (val & 1);
	memset(vfio_dma_vaddr(buf), 0, 16);
	CHECK(vfio_region_write64(bar0, 0x80, 0x40000));
	CHECK(vfio_region_write64(bar0, 0x88, iova));
	CHECK(vfio_region_write32(bar0, 0x98, 1 | 2));   /* device -> RAM */
	do
		CHECK(vfio_region_read32(bar0, 0x98, &val));
	while (val & 1);
	printf("DMA at IOVA 0x%llx: \"%s\"\n",
	       (unsigned long long)iova, (char *)vfio_dma_vaddr(buf));
	ret = 0;
out:
	vfio_context_free(ctx);   /* frees buffers, closes the device */
	return ret;
}
