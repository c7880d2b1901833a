/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - IOMMU contexts.
 *
 * A context is one IOMMU address space (a VFIO container).  It may hold
 * several devices; DMA mappings made in it are visible to all of them.
 * The backend of a context (in-tree "vfio" or "vfio-dkms") is fixed by
 * the first device opened in it; every later device must use the same
 * backend.
 */
#ifndef VFIO_CONTEXT_H
#define VFIO_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_context;

/**
 * enum vfio_backend - Kernel interface a device is driven through.
 * @VFIO_BACKEND_AUTO: choose from the driver the device is bound to
 *                     ("vfio-pci" -> VFIO, "vfio-dkms-pci" -> VFIO_DKMS)
 * @VFIO_BACKEND_VFIO: the in-tree framework, /dev/vfio/vfio
 * @VFIO_BACKEND_VFIO_DKMS: the vfio-dkms module, /dev/vfio-dkms/vfio
 */
enum vfio_backend {
	VFIO_BACKEND_AUTO = 0,
	VFIO_BACKEND_VFIO = 1,
	VFIO_BACKEND_VFIO_DKMS = 2,
};

/**
 * vfio_backend_name() - Name of a backend.
 * @backend: the backend
 *
 * Return: "auto", "vfio" or "vfio-dkms"; NULL for an unknown value.
 */
const char *vfio_backend_name(enum vfio_backend backend);

/**
 * vfio_backend_from_name() - Parse a backend name.
 * @name: "auto", "vfio" or "vfio-dkms"
 * @out: where the backend is stored
 *
 * Return: 0 on success, -EINVAL for an unknown name.
 */
int vfio_backend_from_name(const char *name, enum vfio_backend *out);

/**
 * enum vfio_implementation - What provides a backend's kernel interface.
 * @VFIO_IMPLEMENTATION_NONE: no module of the backend is loaded
 * @VFIO_IMPLEMENTATION_IN_TREE: the kernel's own vfio (a loadable module or
 *                               built into the kernel)
 * @VFIO_IMPLEMENTATION_VFIO_DKMS: vfio-dkms under its own names (module
 *                                 vfio_dkms, /dev/vfio-dkms)
 * @VFIO_IMPLEMENTATION_VFIO_DKMS_DROPIN: vfio-dkms's drop-in flavor under
 *                                        the kernel's names (module vfio,
 *                                        /dev/vfio)
 */
enum vfio_implementation {
	VFIO_IMPLEMENTATION_NONE = 0,
	VFIO_IMPLEMENTATION_IN_TREE = 1,
	VFIO_IMPLEMENTATION_VFIO_DKMS = 2,
	VFIO_IMPLEMENTATION_VFIO_DKMS_DROPIN = 3,
};

/**
 * vfio_implementation_name() - Name of an implementation.
 * @impl: the implementation
 *
 * Return: "none", "in-tree", "vfio-dkms" or "vfio-dkms-dropin"; NULL for an
 * unknown value.
 */
const char *vfio_implementation_name(enum vfio_implementation impl);

/**
 * vfio_backend_implementation() - Which implementation backs a backend now.
 * @backend: VFIO_BACKEND_VFIO (what backs /dev/vfio) or
 *           VFIO_BACKEND_VFIO_DKMS (what backs /dev/vfio-dkms)
 * @impl: where the implementation is stored
 * @version: where the module's version (/sys/module/NAME/version, e.g.
 *           "0.3" for the in-tree vfio, the release for vfio-dkms) is
 *           stored, "" when the module reports none or none is loaded;
 *           may be NULL when @len is 0
 * @len: size of @version in bytes
 *
 * Reads /sys/module/NAME of the backend's core module (vfio or vfio_dkms):
 * no such directory is VFIO_IMPLEMENTATION_NONE; a module built into the
 * kernel is VFIO_IMPLEMENTATION_IN_TREE; a loadable one is told apart by
 * vfio-dkms's read-only parameter vfio_dkms_flavor ("default" or "dropin"),
 * which the in-tree vfio does not have.
 *
 * Return: 0 on success; -EINVAL for VFIO_BACKEND_AUTO, an unknown backend
 * or a NULL @impl; -ERANGE when the version does not fit in @len bytes;
 * -EPROTO when the flavor parameter holds a value this library does not
 * know; another negative errno (e.g. -EACCES) when sysfs cannot be read.
 * On failure *@impl and @version are left alone and the message says which
 * file could not be read.
 */
int vfio_backend_implementation(enum vfio_backend backend, enum vfio_implementation *impl,
				char *version, size_t len);

/**
 * vfio_context_new() - Create an empty IOMMU context.
 * @out: where the new context is stored; free it with vfio_context_free()
 *
 * No kernel object is opened until the first device is added with
 * vfio_device_open().
 *
 * Return: 0 on success, -ENOMEM.
 */
int vfio_context_new(struct vfio_context **out);

/**
 * vfio_context_free() - Close a context.
 * @ctx: the context, or NULL
 *
 * Frees every DMA buffer and unmaps every mapping still in the context,
 * closes every device still open in it (their handles become invalid),
 * then closes the container.
 */
void vfio_context_free(struct vfio_context *ctx);

/**
 * vfio_context_backend() - Backend of a context.
 * @ctx: the context
 *
 * Return: the backend fixed by the first device, VFIO_BACKEND_AUTO while
 * the context has never held a device.
 */
enum vfio_backend vfio_context_backend(const struct vfio_context *ctx);

/**
 * vfio_context_num_devices() - Number of devices open in a context.
 * @ctx: the context
 *
 * Return: the number of open devices.
 */
unsigned int vfio_context_num_devices(const struct vfio_context *ctx);

/**
 * vfio_context_num_iova_ranges() - Number of usable IOVA ranges.
 * @ctx: the context
 *
 * The ranges come from the container's IOVA-range capability
 * (VFIO_IOMMU_GET_INFO) once the first device is attached; before that,
 * and when the kernel reports none, the whole 64-bit space is one range.
 *
 * Return: the number of ranges (at least 1).
 */
unsigned int vfio_context_num_iova_ranges(const struct vfio_context *ctx);

/**
 * vfio_context_get_iova_range() - One usable IOVA range.
 * @ctx: the context
 * @i: range index, below vfio_context_num_iova_ranges()
 * @start: where the first usable IOVA is stored
 * @last: where the last usable IOVA (inclusive) is stored
 *
 * Return: 0 on success, -EINVAL when @i is out of range.
 */
int vfio_context_get_iova_range(const struct vfio_context *ctx, unsigned int i,
				uint64_t *start, uint64_t *last);

/**
 * vfio_context_dma_limit() - Highest IOVA the allocator hands out.
 * @ctx: the context
 *
 * This is the smallest DMA limit of the devices in the context (see
 * vfio_device_set_dma_mask()), all ones when none was set.
 *
 * Return: the last usable IOVA (inclusive).
 */
uint64_t vfio_context_dma_limit(const struct vfio_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_CONTEXT_H */
