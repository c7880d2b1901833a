// SPDX-License-Identifier: LGPL-2.1-or-later
/* The barriers of vfio/barrier.h, for drivers written in Python. */
#include "native.h"

static PyObject *dma_wmb(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	vfio_dma_wmb();
	Py_RETURN_NONE;
}

static PyObject *dma_rmb(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	vfio_dma_rmb();
	Py_RETURN_NONE;
}

static PyObject *mb(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	vfio_mb();
	Py_RETURN_NONE;
}

PyMethodDef vfio_py_barrier_functions[] = {
	{ "dma_wmb", dma_wmb, METH_NOARGS, "Order DMA-memory stores." },
	{ "dma_rmb", dma_rmb, METH_NOARGS, "Order DMA-memory loads." },
	{ "mb", mb, METH_NOARGS, "Full memory barrier." },
	{ NULL, NULL, 0, NULL },
};
