// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DMA module functions: map a Python buffer, and expose DMA buffers and
 * pool blocks through Memory objects.
 */
#include "native.h"

/*
 * dma_map_buffer(ctx, address, size, iova, flags) -> dma.  The package
 * holds a buffer export of the caller's object for the mapping's lifetime
 * and passes its page-rounded address here.
 */
static PyObject *dma_map_buffer(PyObject *self, PyObject *args)
{
	PyObject *handle, *o_addr, *o_size, *o_iova, *o_flags;
	uint64_t addr, size, iova, flags;
	struct vfio_dma *dma = NULL;
	void *ctx;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "OOOOO:dma_map", &handle, &o_addr, &o_size, &o_iova, &o_flags))
		return NULL;
	if (vfio_py_handle(handle, VFIO_PY_CONTEXT, &ctx) < 0 ||
	    vfio_py_uint(o_addr, "address", UINTPTR_MAX, &addr) < 0 ||
	    vfio_py_uint(o_size, "size", SIZE_MAX, &size) < 0 ||
	    vfio_py_uint(o_iova, "iova", UINT64_MAX, &iova) < 0 ||
	    vfio_py_uint(o_flags, "flags", UINT32_MAX, &flags) < 0)
		return NULL;
	rc = vfio_dma_map(ctx, (void *)(uintptr_t)addr, size, iova, (unsigned int)flags, &dma);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	return vfio_py_new_handle(dma, VFIO_PY_DMA);
}

/*
 * buffer_address(obj) -> (address, length, readonly) of a C-contiguous
 * buffer.  Only meaningful while the caller holds an export (a memoryview)
 * of obj, which the package does for a mapping's lifetime.
 */
static PyObject *buffer_address(PyObject *self, PyObject *obj)
{
	Py_buffer view;
	PyObject *ret;

	(void)self;
	if (PyObject_GetBuffer(obj, &view, PyBUF_ANY_CONTIGUOUS) < 0)
		return NULL;
	ret = Py_BuildValue("(KnO)", (unsigned long long)(uintptr_t)view.buf, view.len,
			    view.readonly ? Py_True : Py_False);
	PyBuffer_Release(&view);
	return ret;
}

/* memory_attach_dma(memory, dma): expose a DMA buffer through memory. */
static PyObject *memory_attach_dma(PyObject *self, PyObject *args)
{
	PyObject *memory, *handle;
	void *dma;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:attach", &vfio_py_memory_type, &memory, &handle))
		return NULL;
	if (vfio_py_handle(handle, VFIO_PY_DMA, &dma) < 0 ||
	    vfio_py_memory_set(memory, vfio_dma_vaddr(dma), vfio_dma_size(dma), 1, 0, NULL) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/*
 * memory_attach_pool_block(memory, pool) -> device address: take a block
 * from a DMA pool and expose it through memory.
 */
static PyObject *memory_attach_pool_block(PyObject *self, PyObject *args)
{
	PyObject *memory, *handle;
	void *pool, *vaddr = NULL;
	uint64_t addr = 0;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:alloc", &vfio_py_memory_type, &memory, &handle))
		return NULL;
	if (vfio_py_handle(handle, VFIO_PY_DMA_POOL, &pool) < 0)
		return NULL;
	if (vfio_py_memory_base(memory)) {
		PyErr_SetString(PyExc_RuntimeError, "memory is already attached");
		return NULL;
	}
	rc = vfio_dma_pool_alloc(pool, &vaddr, &addr);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	vfio_py_memory_set(memory, vaddr, vfio_dma_pool_block_size(pool), 1, 0, NULL);
	return PyLong_FromUnsignedLongLong(addr);
}

/*
 * memory_free_pool_block(memory, pool): detach a pool block from memory
 * (BufferError while memoryviews of it exist) and give it back.
 */
static PyObject *memory_free_pool_block(PyObject *self, PyObject *args)
{
	PyObject *memory, *handle;
	void *pool, *base;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:free", &vfio_py_memory_type, &memory, &handle))
		return NULL;
	if (vfio_py_handle(handle, VFIO_PY_DMA_POOL, &pool) < 0)
		return NULL;
	base = vfio_py_memory_base(memory);
	if (!base)
		Py_RETURN_NONE;
	if (vfio_py_memory_detach(memory) < 0)
		return NULL;
	rc = vfio_dma_pool_free(pool, base);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	Py_RETURN_NONE;
}

PyMethodDef vfio_py_dma_functions[] = {
	{ "dma_map_buffer", dma_map_buffer, METH_VARARGS,
	  "dma_map_buffer(ctx, address, size, iova, flags) -> dma" },
	{ "buffer_address", buffer_address, METH_O,
	  "buffer_address(obj) -> (address, length, readonly)" },
	{ "memory_attach_dma", memory_attach_dma, METH_VARARGS,
	  "memory_attach_dma(memory, dma): expose a DMA buffer." },
	{ "memory_attach_pool_block", memory_attach_pool_block, METH_VARARGS,
	  "memory_attach_pool_block(memory, pool) -> device address" },
	{ "memory_free_pool_block", memory_free_pool_block, METH_VARARGS,
	  "memory_free_pool_block(memory, pool): give a block back." },
	{ NULL, NULL, 0, NULL },
};
