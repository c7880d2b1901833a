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

/* iova.c (continued): IOVA @iova if given, else allocate one, below @limit. */
int vfio__iova_assign(struct vfio__iova *a, uint64_t iova, uint64_t size, uint64_t align,
		      uint64_t limit, uint64_t *out);

/*
 * backend.c: the kernel interface a device is reached through.  Both speak
 * the same container/group ioctls, so a backend is only where to find them.
 */
struct vfio__backend {
	enum vfio_backend id;
	const char *name;      /* "vfio", "vfio-dkms" */
	const char *module;    /* kernel module that creates dev_dir */
	/* What a loadable module of that name without vfio_dkms_flavor is. */
	enum vfio_implementation unflavored;
	const char *driver;    /* PCI driver devices are bound to */
	const char *dev_dir;   /* "/dev/vfio": container "vfio" and groups "N" in it */
	const char *container; /* dev_dir "/vfio" */
};

const struct vfio__backend *vfio__backend_get(enum vfio_backend id);
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

/* group.c: one group node and the ioctls on it. */
int vfio__group_open(struct vfio_group *grp, const struct vfio__backend *b);
int vfio__group_check_viable(struct vfio_group *grp, bool *in_container);
int vfio__group_set_container(struct vfio_group *grp, int container_fd);
void vfio__group_close(struct vfio_group *grp);
int vfio__group_device_fd(struct vfio_group *grp, const char *addr);

/* One range of device addresses (IOVA, or bus address without an IOMMU). */
struct vfio__segment {
	uint64_t bus, len;
};

struct vfio_dma {
	struct vfio_dma *next;
	struct vfio_context *ctx;
	void *vaddr;
	size_t size;
	size_t alloc_size; /* != 0: libvfio owns the memory (munmap size) */
	bool mapped;
	bool hugepage;
	char *fallback;
	/* Device view, in process-address order: exactly one under an IOMMU. */
	struct vfio__segment *segs;
	unsigned int nr_segs;
};

/*
 * The IOMMU model a container was set to (VFIO_SET_IOMMU): what differs
 * between translating DMA (type1) and passing bus addresses (no-IOMMU).
 * @set: VFIO_SET_IOMMU with this model's type, on a container holding a group
 * @read_info: page size and usable address ranges, once set
 * @map: map @d (vaddr, size) at @iova (or anywhere for VFIO_IOVA_ANY), every
 *       device address at or below @limit, @align a power of two; fill
 *       d->segs.  ctx->lock held.
 * @unmap: undo @map, leaving d->segs for the caller to free; ctx->lock held
 * @contiguous: a mapping is one run of device addresses whatever backs it
 */
struct vfio__iommu_ops {
	const char *name;
	int (*set)(struct vfio_context *ctx);
	int (*read_info)(struct vfio_context *ctx);
	int (*map)(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova, uint64_t align,
		   uint64_t limit, unsigned int flags);
	int (*unmap)(struct vfio_context *ctx, struct vfio_dma *d);
	bool contiguous;
};

extern const struct vfio__iommu_ops vfio__iommu_type1;	/* iommu_type1.c */
extern const struct vfio__iommu_ops vfio__iommu_noiommu; /* iommu_noiommu.c */

/* iommu_noiommu.c: index of the first segment ending above @limit, or @nr. */
unsigned int vfio__segments_beyond(const struct vfio__segment *segs, unsigned int nr,
				   uint64_t limit);

/* container.c: the container of a context and the IOMMU model it is set to. */
const struct vfio__iommu_ops *vfio__iommu_for_group(const struct vfio_group *grp);
int vfio__container_open(struct vfio_context *ctx, const struct vfio__backend *b);
void vfio__container_close(struct vfio_context *ctx);
int vfio__container_set_iommu(struct vfio_context *ctx, const struct vfio__iommu_ops *iommu);

struct vfio_context {
	/* Protects dmas and iova (the DMA calls may run in parallel). */
	pthread_mutex_t lock;
	const struct vfio__backend *backend; /* NULL until the first device */
	const struct vfio__iommu_ops *iommu; /* NULL until a group is in the container */
	int container_fd;
	char container_path[320]; /* for messages: dev root + backend->container */
	bool bus_ext; /* no-IOMMU model: the container has VFIO_DKMS_NOIOMMU_DMA */
	struct vfio_group *groups;
	struct vfio_device *devices;
	/* Frees what a device owns; set by device.c for vfio_context_free(). */
	void (*release_device)(struct vfio_device *dev);
	struct vfio_dma *dmas;
	struct vfio_dma_pool *pools;
	struct vfio__iova iova;
	uint64_t pgsize;
	uint64_t dma_limit; /* smallest DMA mask of the devices, UINT64_MAX without */
};

/* context.c: what devices share through their context. */
int vfio__context_get_group(struct vfio_context *ctx, int number, struct vfio_group **out);
void vfio__context_put_group(struct vfio_context *ctx, struct vfio_group *grp);
void vfio__context_add_device(struct vfio_context *ctx, struct vfio_device *dev);
void vfio__context_remove_device(struct vfio_context *ctx, struct vfio_device *dev);
void vfio__context_update_dma_limit(struct vfio_context *ctx);
bool vfio__context_maps_contiguous(const struct vfio_context *ctx);

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

/* dma.c: device address of byte @offset (< the segments' total) and the run left. */
void vfio__segment_locate(const struct vfio__segment *segs, unsigned int nr, uint64_t offset,
			  uint64_t *addr, uint64_t *contig);

void vfio__region_unmap_all(struct vfio_region *r);

#endif /* LIBVFIO_PRIVATE_H */
