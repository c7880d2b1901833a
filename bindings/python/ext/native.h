/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hand-written parts of vfio._native, shared by the C files of this folder
 * and the SWIG interface (vfio.i), which generates the plain wrappers.
 */
#ifndef VFIO_PY_NATIVE_H
#define VFIO_PY_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <vfio/vfio.h>

/* ---- handles (vfio.i: the only place that knows SWIG's type table) ---- */

enum vfio_py_handle_type {
	VFIO_PY_CONTEXT,
	VFIO_PY_DMA,
	VFIO_PY_DMA_POOL,
	VFIO_PY_REGION,
	VFIO_PY_IRQ,
};

/*
 * Unwrap a library handle.  None (the package's "closed") is a ValueError,
 * anything but a handle of @type a TypeError.  Return: 0 or -1.
 */
int vfio_py_handle(PyObject *o, enum vfio_py_handle_type type, void **out);
/* Wrap a library handle (a new reference, NULL with an exception). */
PyObject *vfio_py_new_handle(void *p, enum vfio_py_handle_type type);

/* ---- errors (error.c) ------------------------------------------------ */

PyObject *vfio_py_set_error_factory(PyObject *factory);
/* Raise the library's last error; @rc is the negative errno it returned. */
void vfio_py_raise(int rc);
/* Raise a vfio.Error for an errno the binding itself detected. */
void vfio_py_raise_errno(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* PyErr_Format with printf's formats (%#llx...), which Python's lacks. */
void vfio_py_errorf(PyObject *type, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- integers (integer.c) ------------------------------------------- */

/*
 * The one integer check: @o must be an int (else TypeError) in 0..@max
 * (else ValueError); @what names it in the message.  Return: 0 or -1.
 */
int vfio_py_uint(PyObject *o, const char *what, uint64_t max, uint64_t *out);

/* ---- sized accessors (access.c) ------------------------------------- */

/*
 * Something read8..64/write8..64/poll32/64 work on: process memory
 * (memory.c) or a region through the device fd (region.c).  Every object
 * of such a type starts with struct vfio_py_io.
 */
struct vfio_py_io_ops {
	/* Load @bytes at @offset into *val: 0, or -1 with an exception. */
	int (*load)(PyObject *self, uint64_t offset, unsigned int bytes, uint64_t *val);
	/* Store the low @bytes of @val at @offset: 0, or -1 with an exception. */
	int (*store)(PyObject *self, uint64_t offset, unsigned int bytes, uint64_t val);
	/* Name the object in a poll timeout message ("memory", "region 0"). */
	void (*describe)(PyObject *self, char *buf, size_t len);
	/* A poll matched: order later loads after it (NULL: nothing to do). */
	void (*matched)(void);
};

struct vfio_py_io {
	PyObject_HEAD
	const struct vfio_py_io_ops *ops;
};

/*
 * vfio._native.IO: the base type holding those methods.  A subtype's
 * tp_new sets ops (vfio_py_io_new()).
 */
extern PyTypeObject vfio_py_io_type;
PyObject *vfio_py_io_new(PyTypeObject *type, const struct vfio_py_io_ops *ops);

/* ---- Memory (memory.c) ---------------------------------------------- */

#define VFIO_PY_MAX_AREAS 16

extern PyTypeObject vfio_py_memory_type;

/*
 * Expose [base, base + size) through a Memory object; @nareas (offset,
 * size) pairs in @areas limit access to those areas (0: all of it).
 */
int vfio_py_memory_set(PyObject *memory, void *base, size_t size, int writable,
		       unsigned int nareas, const uint64_t *areas);
/* Base address of a Memory object, NULL when detached. */
void *vfio_py_memory_base(PyObject *memory);
/* Forget the memory (BufferError while memoryviews of it exist). */
int vfio_py_memory_detach(PyObject *memory);

/* ---- RegionIO (region.c) -------------------------------------------- */

extern PyTypeObject vfio_py_regionio_type;

/* ---- module functions, one table a file ------------------------------ */

extern PyMethodDef vfio_py_region_functions[];
extern PyMethodDef vfio_py_dma_functions[];
extern PyMethodDef vfio_py_irq_functions[];
extern PyMethodDef vfio_py_barrier_functions[];

/* Add the types and function tables above to the module. */
int vfio_py_init_module(PyObject *m);

#ifdef VFIO_PY_TESTING
/* testing.c: hooks of the host-test build (fake sysfs, stand-in IOMMU). */
extern PyMethodDef vfio_py_testing_functions[];
#endif

#endif /* VFIO_PY_NATIVE_H */
