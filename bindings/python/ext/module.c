// SPDX-License-Identifier: LGPL-2.1-or-later
/* Adds the hand-written types and functions to vfio._native (from vfio.i's %init). */
#include "native.h"

static int add_type(PyObject *m, const char *name, PyTypeObject *type)
{
	if (PyType_Ready(type) < 0)
		return -1;
	Py_INCREF(type);
	if (PyModule_AddObject(m, name, (PyObject *)type) < 0) {
		Py_DECREF(type);
		return -1;
	}
	return 0;
}

int vfio_py_init_module(PyObject *m)
{
	PyMethodDef *const tables[] = {
		vfio_py_region_functions, vfio_py_dma_functions, vfio_py_irq_functions,
		vfio_py_barrier_functions,
#ifdef VFIO_PY_TESTING
		vfio_py_testing_functions,
#endif
	};
	size_t i;

	if (add_type(m, "IO", &vfio_py_io_type) < 0 ||
	    add_type(m, "Memory", &vfio_py_memory_type) < 0 ||
	    add_type(m, "RegionIO", &vfio_py_regionio_type) < 0)
		return -1;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (PyModule_AddFunctions(m, tables[i]) < 0)
			return -1;
	return 0;
}
