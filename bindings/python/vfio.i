/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio._native - the low-level SWIG module over libvfio.
 *
 * Private: the hand-written package `vfio` (vfio/__init__.py) is the API.
 * This module is built with -noproxy -interface _native, so SWIG generates
 * one C extension and no Python shadow layer: the package calls these
 * functions directly and the per-call path is one C call.
 *
 * Conventions of this interface:
 *  - Functions returning a negative errno raise through the error factory
 *    the package registers (vfio.Error and its OSError-compatible
 *    subclasses); on success they return None or their output arguments.
 *  - Handle arguments (struct vfio_* *) never accept None: the package sets
 *    a handle to None when its owner closes, and using it then raises
 *    ValueError instead of passing NULL to the library.
 *  - Integers are converted without SWIG's messages: a non-int is a
 *    TypeError, an out-of-range value a ValueError.
 *  - Hand-written C lives in ext/*.c (see ext/native.h): the types IO,
 *    Memory (buffer protocol, bounds-checked accessors; DmaBuffer and
 *    RegionMap subclass it) and RegionIO (vfio.Region's base), and the
 *    module functions that take Python buffers or block.  This file only
 *    holds what needs SWIG: typemaps and the handle conversion.
 */
%module(package="vfio") _native

%{
#include "native.h"
%}

/* ---- handles --------------------------------------------------------- */

%{
static int vfio_py_convert_handle(PyObject *o, swig_type_info *ty, void **out)
{
	if (o == Py_None) {
		PyErr_SetString(PyExc_ValueError, "operation on a closed object");
		return -1;
	}
	if (!SWIG_IsOK(SWIG_ConvertPtr(o, out, ty, 0)) || !*out) {
		PyErr_SetString(PyExc_TypeError, "wrong handle type");
		return -1;
	}
	return 0;
}

static swig_type_info *vfio_py_handle_descriptor(enum vfio_py_handle_type type)
{
	switch (type) {
	case VFIO_PY_CONTEXT:
		return SWIGTYPE_p_vfio_context;
	case VFIO_PY_DMA:
		return SWIGTYPE_p_vfio_dma;
	case VFIO_PY_DMA_POOL:
		return SWIGTYPE_p_vfio_dma_pool;
	case VFIO_PY_REGION:
		return SWIGTYPE_p_vfio_region;
	case VFIO_PY_IRQ:
		return SWIGTYPE_p_vfio_irq;
	}
	return NULL;
}

int vfio_py_handle(PyObject *o, enum vfio_py_handle_type type, void **out)
{
	return vfio_py_convert_handle(o, vfio_py_handle_descriptor(type), out);
}

PyObject *vfio_py_new_handle(void *p, enum vfio_py_handle_type type)
{
	return SWIG_NewPointerObj(p, vfio_py_handle_descriptor(type), 0);
}
%}

/* Constructors: the handle in struct X **out is returned. */
%typemap(in, numinputs=0) SWIGTYPE **out ($*1_ltype tmp = NULL) "$1 = &tmp;"
%typemap(argout) SWIGTYPE **out {
	Py_DECREF($result);
	$result = SWIG_NewPointerObj(*$1, $*1_descriptor, 0);
}
/* Handle arguments: never None (ValueError), never another type (TypeError). */
%typemap(in) struct vfio_context *, struct vfio_device *, struct vfio_region *,
	     struct vfio_dma *, struct vfio_dma_pool *, struct vfio_irq *,
	     struct vfio_pci_device *, struct vfio_pci_list *,
	     const struct vfio_context *, const struct vfio_device *, const struct vfio_region *,
	     const struct vfio_dma *, const struct vfio_dma_pool *, const struct vfio_irq *,
	     const struct vfio_pci_device *, const struct vfio_pci_list * {
	if (vfio_py_convert_handle($input, $1_descriptor, (void **)&$1) < 0)
		SWIG_fail;
}

/* ---- errors ---------------------------------------------------------- */

/* Register the callable (errno, message) -> exception used for failures. */
%rename(set_error_factory) vfio_py_set_error_factory;
PyObject *vfio_py_set_error_factory(PyObject *factory);

/* Status returns: negative errno -> exception, else None. */
%typemap(out) int {
	if ($1 < 0) {
		vfio_py_raise($1);
		SWIG_fail;
	}
	$result = SWIG_Py_Void();
}
/* Counts that may fail. */
%typemap(out) int vfio_device_irq_count {
	if ($1 < 0) {
		vfio_py_raise($1);
		SWIG_fail;
	}
	$result = PyLong_FromLong($1);
}
/* Plain ints. */
%typemap(out) int vfio_device_fd, int vfio_irq_fd, int vfio_device_iommu_group,
	      int vfio_pci_device_iommu_group, int vfio_last_errno
	"$result = PyLong_FromLong($1);"

/* ---- integers: the package's messages, never SWIG's ------------------ */

%define VFIO_UINT_IN(TYPE, MAX)
%typemap(in) TYPE (uint64_t tmp) {
	if (vfio_py_uint($input, "value", MAX, &tmp) < 0)
		SWIG_fail;
	$1 = (TYPE)tmp;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_INTEGER) TYPE "$1 = PyLong_Check($input);"
%enddef
VFIO_UINT_IN(uint8_t, UINT8_MAX)
VFIO_UINT_IN(uint16_t, UINT16_MAX)
VFIO_UINT_IN(uint32_t, UINT32_MAX)
VFIO_UINT_IN(uint64_t, UINT64_MAX)
VFIO_UINT_IN(unsigned int, UINT_MAX)
VFIO_UINT_IN(size_t, SIZE_MAX)

%typemap(out) uint64_t "$result = PyLong_FromUnsignedLongLong($1);"
%typemap(out) uint32_t, uint16_t, uint8_t, unsigned int "$result = PyLong_FromUnsignedLong($1);"
%typemap(out) size_t "$result = PyLong_FromSize_t($1);"

/* Output arguments of the register reads and info getters. */
%typemap(in, numinputs=0) uint64_t *val ($*1_ltype tmp = 0) "$1 = &tmp;"
%typemap(argout) uint64_t *val {
	Py_DECREF($result);
	$result = PyLong_FromUnsignedLongLong(*$1);
}
%apply uint64_t *val { uint8_t *val, uint16_t *val, uint32_t *val, uint64_t *iova };

/* Pairs: (start, last), (offset, size), (type, subtype), (bus, len), (addr, contig). */
%typemap(in, numinputs=0) (uint64_t *start, uint64_t *last) ($*1_ltype ta = 0, $*2_ltype tb = 0)
	"$1 = &ta; $2 = &tb;"
%typemap(argout) (uint64_t *start, uint64_t *last) {
	Py_DECREF($result);
	$result = Py_BuildValue("(KK)", (unsigned long long)*$1, (unsigned long long)*$2);
}
%apply (uint64_t *start, uint64_t *last) {
	(uint64_t *offset, uint64_t *size), (uint32_t *type, uint32_t *subtype),
	(uint64_t *bus, uint64_t *len), (uint64_t *addr, uint64_t *contig)
};

/* enum outputs */
%typemap(in, numinputs=0) enum vfio_backend *out ($*1_ltype tmp = 0) "$1 = &tmp;"
%typemap(argout) enum vfio_backend *out {
	Py_DECREF($result);
	$result = PyLong_FromLong(*$1);
}
%apply enum vfio_backend *out { enum vfio_irq_type *out };

/* vfio_backend_implementation(): returns (implementation, version). */
%typemap(in, numinputs=0) enum vfio_implementation *impl ($*1_ltype tmp = 0) "$1 = &tmp;"
%typemap(argout) enum vfio_implementation *impl {
	Py_DECREF($result);
	$result = PyLong_FromLong(*$1);
}
%typemap(in, numinputs=0) (char *version, size_t len) (char buf[128])
	"$1 = buf; $2 = sizeof(buf);"
%typemap(argout) (char *version, size_t len) {
	/* after the implementation's argout: make the pair (its value, version) */
	$result = Py_BuildValue("(Ns)", $result, $1);
	if (!$result)
		SWIG_fail;
}

/*
 * ---- blocking calls release the GIL ----------------------------------
 * Only calls that touch no handle (sysfs) and irq_wait (ext/irq.c) release
 * it: libvfio forbids open/close/reset/map/... concurrently with other calls
 * on the same device or context, and holding the GIL is what serialises
 * them for Python threads.
 */

%define VFIO_NOGIL(FUNC)
%exception FUNC {
	Py_BEGIN_ALLOW_THREADS
	$action
	Py_END_ALLOW_THREADS
}
%enddef
VFIO_NOGIL(vfio_pci_bind)
VFIO_NOGIL(vfio_pci_unbind)
VFIO_NOGIL(vfio_pci_list_new)

/* Not wrapped: raw pointers (ext/ has the Python-facing versions). */
%ignore vfio_dma_vaddr;
%ignore vfio_dma_map;
%ignore vfio_dma_iova_to_vaddr;
%ignore vfio_dma_vaddr_to_iova;
%ignore vfio_region_map;
%ignore vfio_region_map_addr;
%ignore vfio_region_read;
%ignore vfio_region_write;
%ignore vfio_irq_wait;
%ignore vfio_dma_pool_alloc;
%ignore vfio_dma_pool_free;
%rename("$ignore", regextarget=1) "^vfio_mmio_";

%include <vfio/error.h>
%include <vfio/pci.h>
%include <vfio/context.h>
%include <vfio/device.h>
%include <vfio/region.h>
%include <vfio/dma.h>
%include <vfio/dma_pool.h>
%include <vfio/irq.h>
const char *vfio_version(void);

/* Types IO, Memory, RegionIO and the functions of ext/*.c. */
%init %{
	if (vfio_py_init_module(m) < 0)
		return NULL;
%}
