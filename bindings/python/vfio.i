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
 *  - Memory (buffer protocol, bounds-checked MMIO accessors) is a small
 *    hand-written type, `Memory`, that DmaBuffer and RegionMap subclass.
 */
%module(package="vfio") _native

%{
#define PY_SSIZE_T_CLEAN
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>
#include <vfio/vfio.h>
%}

%include "memory.i"

/* ---- errors ---------------------------------------------------------- */

%{
static PyObject *vfio_py_error_factory;

/* Raise the library's last error (rc is the negative errno it returned). */
static void vfio_py_raise(int rc)
{
	int err = rc < 0 ? -rc : rc;
	const char *msg = vfio_last_error();
	PyObject *exc;

	if (vfio_last_errno() != err || !msg || !*msg)
		msg = strerror(err);
	if (!vfio_py_error_factory) {
		PyErr_SetObject(PyExc_OSError, Py_BuildValue("(is)", err, msg));
		return;
	}
	exc = PyObject_CallFunction(vfio_py_error_factory, "is", err, msg);
	if (!exc)
		return;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
}
%}

%{
/* Raise a vfio.Error for an errno the binding itself detected. */
static void vfio_py_raise_errno(int err, const char *fmt, ...)
{
	char msg[512];
	PyObject *exc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!vfio_py_error_factory) {
		PyErr_SetObject(PyExc_OSError, Py_BuildValue("(is)", err, msg));
		return;
	}
	exc = PyObject_CallFunction(vfio_py_error_factory, "is", err, msg);
	if (!exc)
		return;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
}
%}

%inline %{
/* Register the callable (errno, message) -> exception used for failures. */
void set_error_factory(PyObject *factory)
{
	Py_XINCREF(factory);
	Py_XDECREF(vfio_py_error_factory);
	vfio_py_error_factory = factory;
}
%}

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

/* ---- integers: TypeError / ValueError, never SWIG's messages ---------- */

%{
static int vfio_py_u64(PyObject *o, uint64_t max, uint64_t *out)
{
	unsigned long long v;

	if (!PyLong_Check(o)) {
		PyErr_Format(PyExc_TypeError, "an integer is required, not %.100s",
			     Py_TYPE(o)->tp_name);
		return -1;
	}
	v = PyLong_AsUnsignedLongLong(o);
	if (v == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_Clear();
		PyErr_Format(PyExc_ValueError, "value %R out of range 0..%llu", o,
			     (unsigned long long)max);
		return -1;
	}
	if (v > max) {
		PyErr_Format(PyExc_ValueError, "value %R out of range 0..%llu", o,
			     (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}
%}

%define VFIO_UINT_IN(TYPE, MAX)
%typemap(in) TYPE (uint64_t tmp) {
	if (vfio_py_u64($input, MAX, &tmp) < 0)
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
%define VFIO_UINT_OUT(TYPE, NAME, CONV)
%typemap(in, numinputs=0) TYPE *NAME (TYPE tmp = 0) "$1 = &tmp;"
%typemap(argout) TYPE *NAME {
	Py_DECREF($result);
	$result = CONV(*$1);
}
%enddef
VFIO_UINT_OUT(uint8_t, val, PyLong_FromUnsignedLong)
VFIO_UINT_OUT(uint16_t, val, PyLong_FromUnsignedLong)
VFIO_UINT_OUT(uint32_t, val, PyLong_FromUnsignedLong)
VFIO_UINT_OUT(uint64_t, val, PyLong_FromUnsignedLongLong)
VFIO_UINT_OUT(uint64_t, iova, PyLong_FromUnsignedLongLong)

/* Pairs: (start, last), (offset, size), (type, subtype). */
%define VFIO_PAIR_OUT(TYPE, A, B)
%typemap(in, numinputs=0) (TYPE *A, TYPE *B) (TYPE ta = 0, TYPE tb = 0) "$1 = &ta; $2 = &tb;"
%typemap(argout) (TYPE *A, TYPE *B) {
	Py_DECREF($result);
	$result = Py_BuildValue("(KK)", (unsigned long long)*$1, (unsigned long long)*$2);
}
%enddef
VFIO_PAIR_OUT(uint64_t, start, last)
VFIO_PAIR_OUT(uint64_t, offset, size)
VFIO_PAIR_OUT(uint32_t, type, subtype)
VFIO_PAIR_OUT(uint64_t, bus, len)
VFIO_PAIR_OUT(uint64_t, addr, contig)

/* ---- handles --------------------------------------------------------- */

/* Constructors: struct X **out is returned. */
%define VFIO_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) "$1 = &tmp;"
%typemap(argout) TYPE **out {
	Py_DECREF($result);
	$result = SWIG_NewPointerObj(*$1, $*1_descriptor, 0);
}
%typemap(in) TYPE *, const TYPE * {
	void *argp_ = NULL;
	if ($input == Py_None) {
		PyErr_SetString(PyExc_ValueError, "operation on a closed object");
		SWIG_fail;
	}
	if (!SWIG_IsOK(SWIG_ConvertPtr($input, &argp_, $1_descriptor, 0)) || !argp_) {
		PyErr_SetString(PyExc_TypeError, "wrong handle type");
		SWIG_fail;
	}
	$1 = ($1_ltype)argp_;
}
%enddef
VFIO_HANDLE(struct vfio_context)
VFIO_HANDLE(struct vfio_device)
VFIO_HANDLE(struct vfio_region)
VFIO_HANDLE(struct vfio_dma)
VFIO_HANDLE(struct vfio_dma_pool)
VFIO_HANDLE(struct vfio_irq)
VFIO_HANDLE(struct vfio_pci_device)
VFIO_HANDLE(struct vfio_pci_list)

/* enum outputs */
%typemap(in, numinputs=0) enum vfio_backend *out (enum vfio_backend tmp = 0) "$1 = &tmp;"
%typemap(argout) enum vfio_backend *out { Py_DECREF($result); $result = PyLong_FromLong(*$1); }
%typemap(in, numinputs=0) enum vfio_irq_type *out (enum vfio_irq_type tmp = 0) "$1 = &tmp;"
%typemap(argout) enum vfio_irq_type *out { Py_DECREF($result); $result = PyLong_FromLong(*$1); }

/*
 * ---- blocking calls release the GIL ----------------------------------
 * Only calls that touch no handle (sysfs) and irq_wait (below) release
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

/* Not wrapped: raw pointers (replaced below or by Memory). */
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
%ignore vfio_mmio_read8;
%ignore vfio_mmio_read16;
%ignore vfio_mmio_read32;
%ignore vfio_mmio_read64;
%ignore vfio_mmio_write8;
%ignore vfio_mmio_write16;
%ignore vfio_mmio_write32;
%ignore vfio_mmio_write64;

%include <vfio/error.h>
%include <vfio/pci.h>
%include <vfio/context.h>
%include <vfio/device.h>
%include <vfio/region.h>
%include <vfio/dma.h>
%include <vfio/dma_pool.h>
%include <vfio/irq.h>
const char *vfio_version(void);

/* ---- hand-written helpers -------------------------------------------- */

%native(region_read) PyObject *vfio_py_region_read(PyObject *self, PyObject *args);
%native(region_write) PyObject *vfio_py_region_write(PyObject *self, PyObject *args);
%native(irq_wait) PyObject *vfio_py_irq_wait(PyObject *self, PyObject *args);
%native(buffer_address) PyObject *vfio_py_buffer_address(PyObject *self, PyObject *args);
%native(dma_map_buffer) PyObject *vfio_py_dma_map_buffer(PyObject *self, PyObject *args);
%native(memory_attach_dma) PyObject *vfio_py_memory_attach_dma(PyObject *self, PyObject *args);
%native(memory_attach_pool_block) PyObject *vfio_py_memory_attach_pool_block(PyObject *self, PyObject *args);
%native(memory_free_pool_block) PyObject *vfio_py_memory_free_pool_block(PyObject *self, PyObject *args);
%native(dma_wmb) PyObject *vfio_py_dma_wmb(PyObject *self, PyObject *args);
%native(dma_rmb) PyObject *vfio_py_dma_rmb(PyObject *self, PyObject *args);
%native(mb) PyObject *vfio_py_mb(PyObject *self, PyObject *args);
%native(memory_attach_region) PyObject *vfio_py_memory_attach_region(PyObject *self, PyObject *args);

%{
static int vfio_py_handle(PyObject *o, swig_type_info *ty, void **out)
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

/* region_read(region, offset, length) -> bytes */
static PyObject *vfio_py_region_read(PyObject *self, PyObject *args)
{
	PyObject *ho, *oo, *lo, *bytes;
	void *r;
	uint64_t off, len;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "OOO:read", &ho, &oo, &lo))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_region, &r) < 0 ||
	    vfio_py_u64(oo, UINT64_MAX, &off) < 0 || vfio_py_u64(lo, PY_SSIZE_T_MAX, &len) < 0)
		return NULL;
	bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
	if (!bytes)
		return NULL;
	rc = len ? vfio_region_read(r, off, PyBytes_AS_STRING(bytes), len) : 0;
	if (rc < 0) {
		Py_DECREF(bytes);
		vfio_py_raise(rc);
		return NULL;
	}
	return bytes;
}

/* region_write(region, offset, bytes-like) */
static PyObject *vfio_py_region_write(PyObject *self, PyObject *args)
{
	PyObject *ho, *oo;
	Py_buffer view;
	void *r;
	uint64_t off;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "OOy*:write", &ho, &oo, &view))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_region, &r) < 0 ||
	    vfio_py_u64(oo, UINT64_MAX, &off) < 0) {
		PyBuffer_Release(&view);
		return NULL;
	}
	rc = view.len ? vfio_region_write(r, off, view.buf, view.len) : 0;
	PyBuffer_Release(&view);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	Py_RETURN_NONE;
}

/*
 * irq_wait(irq, timeout_ms) -> count.  The GIL is released while waiting;
 * a signal ends the wait only when its Python handler raises (PEP 475),
 * otherwise the wait resumes with the remaining time.
 */
static PyObject *vfio_py_irq_wait(PyObject *self, PyObject *args)
{
	PyObject *ho;
	void *irq;
	int timeout, rc;
	struct timespec now, deadline;

	(void)self;
	if (!PyArg_ParseTuple(args, "Oi:wait", &ho, &timeout))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_irq, &irq) < 0)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (timeout > 0) {
		deadline.tv_sec += timeout / 1000;
		deadline.tv_nsec += (long)(timeout % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	for (;;) {
		Py_BEGIN_ALLOW_THREADS
		rc = vfio_irq_wait(irq, timeout);
		Py_END_ALLOW_THREADS
		if (rc != -EINTR)
			break;
		if (PyErr_CheckSignals() < 0)
			return NULL;
		if (timeout > 0) {
			long long left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left = (long long)(deadline.tv_sec - now.tv_sec) * 1000 +
			       (deadline.tv_nsec - now.tv_nsec) / 1000000;
			timeout = left > 0 ? (int)left : 0;
		}
	}
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	return PyLong_FromLong(rc);
}

/*
 * dma_map_buffer(ctx, address, size, iova, flags) -> dma.  The package
 * holds a buffer export of the caller's object for the mapping's lifetime
 * and passes its page-rounded address here.
 */
static PyObject *vfio_py_dma_map_buffer(PyObject *self, PyObject *args)
{
	PyObject *ho;
	void *ctx;
	unsigned long long addr, size, iova;
	unsigned int flags;
	struct vfio_dma *dma = NULL;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "OKKKI:dma_map", &ho, &addr, &size, &iova, &flags))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_context, &ctx) < 0)
		return NULL;
	rc = vfio_dma_map(ctx, (void *)(uintptr_t)addr, size, iova, flags, &dma);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	return SWIG_NewPointerObj(dma, SWIGTYPE_p_vfio_dma, 0);
}

/*
 * buffer_address(obj) -> (address, length, readonly) of a C-contiguous
 * buffer.  Only meaningful while the caller holds an export (a memoryview)
 * of obj, which the package does for a mapping's lifetime.
 */
static PyObject *vfio_py_buffer_address(PyObject *self, PyObject *args)
{
	PyObject *o, *ret;
	Py_buffer view;

	(void)self;
	if (!PyArg_ParseTuple(args, "O:buffer_address", &o))
		return NULL;
	if (PyObject_GetBuffer(o, &view, PyBUF_ANY_CONTIGUOUS) < 0)
		return NULL;
	ret = Py_BuildValue("(KnO)", (unsigned long long)(uintptr_t)view.buf, view.len,
			    view.readonly ? Py_True : Py_False);
	PyBuffer_Release(&view);
	return ret;
}

/* memory_attach_dma(memory, dma): expose a DMA buffer through memory. */
static PyObject *vfio_py_memory_attach_dma(PyObject *self, PyObject *args)
{
	PyObject *mo, *ho;
	void *dma;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:attach", &vfio_py_memory_type, &mo, &ho))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_dma, &dma) < 0)
		return NULL;
	if (vfio_py_memory_set((struct vfio_py_memory *)mo, vfio_dma_vaddr(dma),
			       vfio_dma_size(dma), 1, 0, NULL) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/*
 * memory_attach_pool_block(memory, pool) -> device address: take a block
 * from a DMA pool and expose it through memory.
 */
static PyObject *vfio_py_memory_attach_pool_block(PyObject *self, PyObject *args)
{
	PyObject *mo, *ho;
	void *pool, *vaddr = NULL;
	uint64_t addr = 0;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:alloc", &vfio_py_memory_type, &mo, &ho))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_dma_pool, &pool) < 0)
		return NULL;
	if (((struct vfio_py_memory *)mo)->base) {
		PyErr_SetString(PyExc_RuntimeError, "memory is already attached");
		return NULL;
	}
	rc = vfio_dma_pool_alloc(pool, &vaddr, &addr);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	vfio_py_memory_set((struct vfio_py_memory *)mo, vaddr, vfio_dma_pool_block_size(pool), 1,
			   0, NULL);
	return PyLong_FromUnsignedLongLong(addr);
}

/*
 * memory_free_pool_block(memory, pool): detach a pool block from memory
 * (BufferError while memoryviews of it exist) and give it back.
 */
static PyObject *vfio_py_memory_free_pool_block(PyObject *self, PyObject *args)
{
	PyObject *mo, *ho, *r;
	void *pool, *base;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:free", &vfio_py_memory_type, &mo, &ho))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_dma_pool, &pool) < 0)
		return NULL;
	base = ((struct vfio_py_memory *)mo)->base;
	if (!base)
		Py_RETURN_NONE;
	r = vfio_py_memory_detach(mo, NULL);
	if (!r)
		return NULL;
	Py_DECREF(r);
	rc = vfio_dma_pool_free(pool, base);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	Py_RETURN_NONE;
}

/* The barriers of vfio/barrier.h, for drivers written in Python. */
static PyObject *vfio_py_dma_wmb(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	vfio_dma_wmb();
	Py_RETURN_NONE;
}

static PyObject *vfio_py_dma_rmb(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	vfio_dma_rmb();
	Py_RETURN_NONE;
}

static PyObject *vfio_py_mb(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	vfio_mb();
	Py_RETURN_NONE;
}

/*
 * memory_attach_region(memory, region): mmap a region (vfio_region_map)
 * and expose it; only its mmappable (sparse) areas are accessible.
 */
static PyObject *vfio_py_memory_attach_region(PyObject *self, PyObject *args)
{
	PyObject *mo, *ho;
	void *r, *addr = NULL;
	unsigned int i, n;
	uint64_t areas[2 * VFIO_PY_MAX_AREAS];
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:map", &vfio_py_memory_type, &mo, &ho))
		return NULL;
	if (vfio_py_handle(ho, SWIGTYPE_p_vfio_region, &r) < 0)
		return NULL;
	n = vfio_region_num_sparse_areas(r);
	if (n > VFIO_PY_MAX_AREAS) {
		PyErr_Format(PyExc_OSError, "region has %u mmappable areas, at most %d supported",
			     n, VFIO_PY_MAX_AREAS);
		return NULL;
	}
	for (i = 0; i < n; i++)
		vfio_region_get_sparse_area(r, i, &areas[2 * i], &areas[2 * i + 1]);
	rc = vfio_region_map(r, &addr);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	if (vfio_py_memory_set((struct vfio_py_memory *)mo, addr, vfio_region_size(r),
			       vfio_region_writable(r), n, areas) < 0) {
		vfio_region_unmap(r);
		return NULL;
	}
	Py_RETURN_NONE;
}
%}

/*
 * The register path: vfio._native.RegionIO, the base type of vfio.Region.
 * read8..64(offset) and write8..64(offset, value) are C methods of the type
 * itself, so `region.read32(off)` is one vectorcall straight into C (no
 * Python frame, no argument tuple), then one pread/pwrite in the library.
 * The handle lives in the object and is cleared by _detach() when the device
 * closes: a method fetched earlier (`rd = region.read32`) then raises
 * ValueError instead of touching freed memory.  The GIL is held throughout,
 * so a close from another thread cannot free the handle mid-call.
 */
%{
struct vfio_py_regionio {
	PyObject_HEAD
	struct vfio_region *r;	/* NULL once the device is closed */
};

static inline struct vfio_region *vfio_py_regionio_get(PyObject *self)
{
	struct vfio_region *r = ((struct vfio_py_regionio *)self)->r;

	if (!r)
		PyErr_SetString(PyExc_ValueError, "operation on a closed device");
	return r;
}

static PyObject *vfio_py_regionio_attach(PyObject *self, PyObject *handle)
{
	void *r;

	if (vfio_py_handle(handle, SWIGTYPE_p_vfio_region, &r) < 0)
		return NULL;
	((struct vfio_py_regionio *)self)->r = r;
	Py_RETURN_NONE;
}

static PyObject *vfio_py_regionio_detach(PyObject *self, PyObject *unused)
{
	(void)unused;
	((struct vfio_py_regionio *)self)->r = NULL;
	Py_RETURN_NONE;
}

static PyObject *vfio_py_regionio_closed(PyObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(((struct vfio_py_regionio *)self)->r == NULL);
}

#define VFIO_PY_REGIONIO_RW(BITS)					\
static PyObject *vfio_py_regionio_read##BITS(PyObject *self, PyObject *oo)	\
{									\
	struct vfio_region *r = vfio_py_regionio_get(self);		\
	uint##BITS##_t v;						\
	uint64_t off;							\
	int rc;								\
	if (!r || vfio_py_u64(oo, UINT64_MAX, &off) < 0)		\
		return NULL;						\
	rc = vfio_region_read##BITS(r, off, &v);			\
	if (rc < 0) {							\
		vfio_py_raise(rc);					\
		return NULL;						\
	}								\
	return PyLong_FromUnsignedLongLong(v);				\
}									\
static PyObject *vfio_py_regionio_write##BITS(PyObject *self, PyObject *const *args, \
					      Py_ssize_t nargs)		\
{									\
	struct vfio_region *r;						\
	uint64_t off, v;						\
	int rc;								\
	if (nargs != 2) {						\
		PyErr_Format(PyExc_TypeError,				\
			     "write" #BITS "() takes 2 arguments (%zd given)", nargs); \
		return NULL;						\
	}								\
	r = vfio_py_regionio_get(self);					\
	if (!r || vfio_py_u64(args[0], UINT64_MAX, &off) < 0 ||		\
	    vfio_py_u64(args[1], BITS == 64 ? UINT64_MAX : (1ULL << (BITS % 64)) - 1, &v) < 0) \
		return NULL;						\
	rc = vfio_region_write##BITS(r, off, (uint##BITS##_t)v);	\
	if (rc < 0) {							\
		vfio_py_raise(rc);					\
		return NULL;						\
	}								\
	Py_RETURN_NONE;							\
}
VFIO_PY_REGIONIO_RW(8)
VFIO_PY_REGIONIO_RW(16)
VFIO_PY_REGIONIO_RW(32)
VFIO_PY_REGIONIO_RW(64)

/*
 * poll32/poll64(offset, mask, value, timeout): each check is one register
 * read with the GIL held (a close from another thread cannot free the
 * handle mid-read); only the sleeps between checks release it.
 */
#define VFIO_PY_REGIONIO_POLL(BITS)					\
static PyObject *vfio_py_regionio_poll##BITS(PyObject *self, PyObject *const *args, \
					     Py_ssize_t nargs)		\
{									\
	unsigned long long mask, value;					\
	struct vfio_py_poll p;						\
	struct vfio_region *r;						\
	uint##BITS##_t v = 0;						\
	uint64_t off;							\
	int rc, next;							\
	if (vfio_py_poll_args(args, nargs, "poll" #BITS, BITS, &mask, &value) < 0 || \
	    vfio_py_u64(args[0], UINT64_MAX, &off) < 0 ||		\
	    vfio_py_poll_start(&p, args[3]) < 0)			\
		return NULL;						\
	do {								\
		r = vfio_py_regionio_get(self);				\
		if (!r)							\
			return NULL;					\
		rc = vfio_region_read##BITS(r, off, &v);		\
		if (rc < 0) {						\
			vfio_py_raise(rc);				\
			return NULL;					\
		}							\
		if ((v & mask) == value)				\
			return PyLong_FromUnsignedLongLong(v);		\
		next = vfio_py_poll_next(&p);				\
		if (next < 0)						\
			return NULL;					\
	} while (next);							\
	vfio_py_raise_errno(ETIMEDOUT,					\
			    "region %u offset %#llx: (%#llx & %#llx) != %#llx after %g s", \
			    vfio_region_index(r),					\
			    (unsigned long long)off, (unsigned long long)v, mask, value, p.timeout); \
	return NULL;							\
}
VFIO_PY_REGIONIO_POLL(32)
VFIO_PY_REGIONIO_POLL(64)

#define VFIO_PY_REGIONIO_METHODS(BITS, WHAT)				\
	{"read" #BITS, vfio_py_regionio_read##BITS, METH_O,		\
	 "read" #BITS "(offset) -> int: read " WHAT " at offset (one pread)."}, \
	{"write" #BITS, (PyCFunction)(void (*)(void))vfio_py_regionio_write##BITS, \
	 METH_FASTCALL, "write" #BITS "(offset, value): write " WHAT " at offset (one pwrite)."}
static PyMethodDef vfio_py_regionio_methods[] = {
	VFIO_PY_REGIONIO_METHODS(8, "8 bits"),
	VFIO_PY_REGIONIO_METHODS(16, "16 bits (little endian)"),
	VFIO_PY_REGIONIO_METHODS(32, "32 bits (little endian)"),
	VFIO_PY_REGIONIO_METHODS(64, "64 bits (little endian)"),
	{"poll32", (PyCFunction)(void (*)(void))vfio_py_regionio_poll32, METH_FASTCALL,
	 "poll32(offset, mask, value, timeout) -> int: wait until (read32(offset) & mask) == value.\n\n"
	 "timeout is in seconds (None: no limit).  Returns the matching value; raises\n"
	 "TimeoutError (a vfio.Error, ETIMEDOUT) when it does not match in time.\n"
	 "Other threads run while it sleeps between reads."},
	{"poll64", (PyCFunction)(void (*)(void))vfio_py_regionio_poll64, METH_FASTCALL,
	 "poll64(offset, mask, value, timeout) -> int: poll32 for a 64-bit register."},
	{"_attach", vfio_py_regionio_attach, METH_O, "Take a vfio_region handle."},
	{"_detach", vfio_py_regionio_detach, METH_NOARGS, "Forget the handle (device closed)."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef vfio_py_regionio_getset[] = {
	{"closed", vfio_py_regionio_closed, NULL, "True once the device is closed.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject vfio_py_regionio_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "vfio._native.RegionIO",
	.tp_basicsize = sizeof(struct vfio_py_regionio),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Register access to a device region through the VFIO fd.",
	.tp_new = PyType_GenericNew,
	.tp_methods = vfio_py_regionio_methods,
	.tp_getset = vfio_py_regionio_getset,
};
%}

%init %{
	if (PyType_Ready(&vfio_py_regionio_type) < 0)
		return NULL;
	Py_INCREF(&vfio_py_regionio_type);
	if (PyModule_AddObject(m, "RegionIO", (PyObject *)&vfio_py_regionio_type) < 0)
		return NULL;
%}

/*
 * ---- host-test build only (tests/host/python) --------------------------
 * Compiled with -DVFIO_PY_TESTING against the static libvfio: hooks that
 * point the library at a fake sysfs and give a context a stand-in IOMMU
 * backend, so the package's lifetime rules run without a device.  The
 * installed extension has none of this.
 */
%{
#ifdef VFIO_PY_TESTING
#include "private.h"

/* _test_set_roots(sysfs_root, dev_root): "" is the real system. */
static PyObject *vfio_py_test_set_roots(PyObject *self, PyObject *args)
{
	const char *sys, *dev;

	(void)self;
	if (!PyArg_ParseTuple(args, "ss:_test_set_roots", &sys, &dev))
		return NULL;
	vfio__set_sysfs_root(sys);
	vfio__set_dev_root(dev);
	Py_RETURN_NONE;
}

static int vfio_py_fake_map(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova,
			    uint64_t align, uint64_t limit, unsigned int flags)
{
	int ret;

	(void)flags;
	d->segs = calloc(1, sizeof(*d->segs));
	if (!d->segs)
		return -ENOMEM;
	ret = vfio__iova_assign(&ctx->iova, iova, d->size, align, limit, &d->segs[0].bus);
	if (ret) {
		free(d->segs);
		d->segs = NULL;
		return ret;
	}
	d->segs[0].len = d->size;
	d->nr_segs = 1;
	return 0;
}

static int vfio_py_fake_unmap(struct vfio_context *ctx, struct vfio_dma *d)
{
	return vfio__iova_release(&ctx->iova, d->segs[0].bus);
}

static const struct vfio__iommu_ops vfio_py_fake_iommu = {
	.name = "fake", .map = vfio_py_fake_map, .unmap = vfio_py_fake_unmap, .contiguous = true,
};

/* _test_fake_iommu(ctx): DMA in this context maps through a stand-in IOMMU model. */
static PyObject *vfio_py_test_fake_iommu(PyObject *self, PyObject *arg)
{
	const struct vfio__iova_range r = { 0, (UINT64_C(1) << 39) - 1 };
	struct vfio_context *ctx;
	void *p;

	(void)self;
	if (vfio_py_handle(arg, SWIGTYPE_p_vfio_context, &p) < 0)
		return NULL;
	ctx = p;
	ctx->iommu = &vfio_py_fake_iommu;
	vfio__iova_fini(&ctx->iova);
	vfio__iova_init(&ctx->iova, &r, 1, ctx->pgsize);
	Py_RETURN_NONE;
}

/* _test_memory(memory, bytearray): expose a bytearray's bytes through memory. */
static PyObject *vfio_py_test_memory(PyObject *self, PyObject *args)
{
	PyObject *mo, *ba;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O!:_test_memory", &vfio_py_memory_type, &mo,
			      &PyByteArray_Type, &ba))
		return NULL;
	if (vfio_py_memory_set((struct vfio_py_memory *)mo, PyByteArray_AS_STRING(ba),
			       PyByteArray_GET_SIZE(ba), 1, 0, NULL) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef vfio_py_test_methods[] = {
	{"_test_set_roots", vfio_py_test_set_roots, METH_VARARGS, NULL},
	{"_test_fake_iommu", vfio_py_test_fake_iommu, METH_O, NULL},
	{"_test_memory", vfio_py_test_memory, METH_VARARGS, NULL},
	{NULL, NULL, 0, NULL},
};
#endif
%}

%init %{
#ifdef VFIO_PY_TESTING
	if (PyModule_AddFunctions(m, vfio_py_test_methods) < 0)
		return NULL;
#endif
%}
