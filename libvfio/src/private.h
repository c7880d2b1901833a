/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio internals.  Nothing here is exported from libvfio.so (see
 * libvfio.map); the host unit tests link the static library to reach it.
 */
#ifndef LIBVFIO_PRIVATE_H
#define LIBVFIO_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfio/vfio.h>

#define VFIO_ADDR_LEN 16 /* "DDDD:BB:DD.F" + NUL, rounded */
#define VFIO_NUM_IRQ_TYPES 3

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* error.c */
int vfio__err(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfio__err_sys(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sysfs.c: roots are "" (the real system) unless a test points them elsewhere. */
extern char vfio__sysfs_root[256];
extern char vfio__dev_root[256];
void vfio__set_sysfs_root(const char *root);
void vfio__set_dev_root(const char *root);
int vfio__parse_address(const char *in, char out[VFIO_ADDR_LEN]);
int vfio__sysfs_read_line(const char *path, char *buf, size_t len);
int vfio__sysfs_write(const char *path, const char *val);
int vfio__pci_driver(const char *addr, char *buf, size_t len);
int vfio__pci_group(const char *addr);
int vfio__group_blocker(int group, const char *const *allowed, char *msg, size_t len);

/* caps.c: capability-chain parsing over a buffer the kernel filled. */
struct vfio__sparse_area {
	uint64_t offset;
	uint64_t size;
};

struct vfio__region_caps {
	unsigned int nr_areas; /* valid when has_sparse */
	struct vfio__sparse_area *areas;
	bool has_sparse;
	bool has_type;
	uint32_t type, subtype;
};

struct vfio__iova_range {
	uint64_t start, last;
};

int vfio__parse_region_caps(const void *info, size_t size, uint32_t cap_offset,
			    struct vfio__region_caps *out);
int vfio__parse_iova_ranges(const void *info, size_t size, uint32_t cap_offset,
			    struct vfio__iova_range **ranges, unsigned int *nr);

/* iova.c: first-fit allocator over usable ranges, below a limit. */
struct vfio__iova_used {
	uint64_t start, last;
};

struct vfio__iova {
	struct vfio__iova_range *ranges;
	unsigned int nr_ranges;
	struct vfio__iova_used *used; /* sorted by start, disjoint */
	size_t nr_used, cap_used;
	uint64_t min; /* lowest IOVA handed out (page 0 is never used) */
};

int vfio__iova_init(struct vfio__iova *a, const struct vfio__iova_range *ranges,
		    unsigned int nr, uint64_t min);
void vfio__iova_fini(struct vfio__iova *a);
int vfio__iova_alloc(struct vfio__iova *a, uint64_t size, uint64_t align, uint64_t limit,
		     uint64_t *iova);
int vfio__iova_reserve(struct vfio__iova *a, uint64_t iova, uint64_t size, uint64_t limit);
int vfio__iova_release(struct vfio__iova *a, uint64_t iova);

/* backend.c: what differs between kernel interfaces. */
struct vfio_group;

struct vfio__backend {
	enum vfio_backend id;
	const char *name;   /* "vfio", "vfio-dkms" */
	const char *driver; /* PCI driver devices are bound to */
	const char *dev_dir; /* "/dev/vfio": container "vfio" and groups "N" in it */
	int (*ctx_open)(struct vfio_context *ctx);
	void (*ctx_close)(struct vfio_context *ctx);
	int (*group_attach)(struct vfio_context *ctx, struct vfio_group *grp);
	void (*group_detach)(struct vfio_context *ctx, struct vfio_group *grp);
	int (*device_fd)(struct vfio_group *grp, const char *addr);
	int (*dma_map)(struct vfio_context *ctx, void *vaddr, uint64_t iova, uint64_t size,
		       unsigned int flags);
	int (*dma_unmap)(struct vfio_context *ctx, uint64_t iova, uint64_t size);
};

const struct vfio__backend *vfio__backend_get(enum vfio_backend id);
int vfio__noiommu_map(struct vfio_context *ctx, struct vfio_dma *d, unsigned int flags);
int vfio__noiommu_unmap(struct vfio_context *ctx, struct vfio_dma *d);
const struct vfio__backend *vfio__backend_for_driver(const char *driver);
extern const char *const vfio__vfio_drivers[]; /* NULL-terminated */

/* objects */
struct vfio_group {
	struct vfio_group *next;
	int number;
	int fd;
	bool noiommu; /* node "noiommu-N": a no-IOMMU group (docs/noiommu.md) */
	unsigned int users; /* devices open through this group */
	char path[320];
};

/* One physically contiguous run of a no-IOMMU pin (bus address). */
struct vfio__segment {
	uint64_t bus, len;
};

struct vfio_dma {
	struct vfio_dma *next;
	struct vfio_context *ctx;
	void *vaddr;
	uint64_t iova;
	size_t size;
	size_t alloc_size; /* != 0: libvfio owns the memory (munmap size) */
	bool mapped;
	bool hugepage;
	char *fallback;
	/* no-IOMMU context: pinned with VFIO_DKMS_NOIOMMU_MAP_DMA */
	struct vfio__segment *segs;
	unsigned int nr_segs;
};

struct vfio_context {
	/* Protects dmas and iova (the DMA calls may run in parallel). */
	pthread_mutex_t lock;
	const struct vfio__backend *ops;
	int container_fd;
	bool iommu_set;
	bool noiommu; /* VFIO_NOIOMMU_IOMMU set: no IOVAs, bus addresses */
	bool bus_ext; /* the container has VFIO_DKMS_NOIOMMU_DMA */
	struct vfio_group *groups;
	struct vfio_device *devices;
	struct vfio_dma *dmas;
	struct vfio_dma_pool *pools;
	struct vfio__iova iova;
	uint64_t pgsize;
};

struct vfio_region {
	struct vfio_device *dev;
	int fd;
	unsigned int index;
	uint32_t flags;
	uint64_t size;
	uint64_t offset;
	struct vfio__region_caps caps;
	void *map;
	unsigned int map_users;
};

struct vfio_irq {
	struct vfio_device *dev;
	enum vfio_irq_type type;
	unsigned int vector;
	int fd;
};

struct vfio_device {
	struct vfio_device *next;
	struct vfio_context *ctx;
	bool own_ctx;
	struct vfio_group *group;
	char address[VFIO_ADDR_LEN];
	int fd;
	uint32_t flags;
	unsigned int num_regions, num_irqs;
	struct vfio_region *regions;
	int irq_count[VFIO_NUM_IRQ_TYPES];
	int irq_enabled; /* enum vfio_irq_type, -1 when none */
	struct vfio_irq *irqs;
	unsigned int nr_irqs;
	unsigned int dma_bits;
	uint16_t vendor, device;
};

void vfio__device_free(struct vfio_device *dev);
void vfio__context_dma_lost(struct vfio_context *ctx);
int vfio__dma_unmap_locked(struct vfio_context *ctx, struct vfio_dma *d);
void vfio__region_unmap_all(struct vfio_region *r);

#endif /* LIBVFIO_PRIVATE_H */
