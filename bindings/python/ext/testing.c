// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host-test build only (tests/host/python): compiled with -DVFIO_PY_TESTING
 * against the static libvfio, hooks that point the library at a fake sysfs
 * and give a context a stand-in IOMMU model, so the package's lifetime
 * rules run without a device.  The installed extension has none of this.
 */
#include "native.h"

#include "private.h"
#include "fake_iommu.h"

/* _test_set_roots(sysfs_root, dev_root): "" is the real system. */
static PyObject *test_set_roots(PyObject *self, PyObject *args)
{
	const char *sys, *dev;

	(void)self;
	if (!PyArg_ParseTuple(args, "ss:_test_set_roots", &sys, &dev))
		return NULL;
	vfio__set_sysfs_root(sys);
	vfio__set_dev_root(dev);
	Py_RETURN_NONE;
}

/* _test_fake_iommu(ctx): DMA in this context maps through a stand-in IOMMU model. */
static PyObject *test_fake_iommu(PyObject *self, PyObject *arg)
{
	void *p;

	(void)self;
	if (vfio_py_handle(arg, VFIO_PY_CONTEXT, &p) < 0)
		return NULL;
	fake_iommu_attach(p);
	Py_RETURN_NONE;
}

/* _test_memory(memory, bytearray): expose a bytearray's bytes through memory. */
static PyObject *test_memory(PyObject *self, PyObject *args)
{
	PyObject *memory, *ba;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O!:_test_memory", &vfio_py_memory_type, &memory,
			      &PyByteArray_Type, &ba))
		return NULL;
	if (vfio_py_memory_set(memory, PyByteArray_AS_STRING(ba), PyByteArray_GET_SIZE(ba), 1, 0,
			       NULL) < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyMethodDef vfio_py_testing_functions[] = {
	{ "_test_set_roots", test_set_roots, METH_VARARGS, NULL },
	{ "_test_fake_iommu", test_fake_iommu, METH_O, NULL },
	{ "_test_memory", test_memory, METH_VARARGS, NULL },
	{ NULL, NULL, 0, NULL },
};
