// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The integer check of every argument vfio._native converts, in the
 * message style of the package's own checks (vfio/_util.py check_int):
 * never SWIG's messages, never a silent truncation.
 */
#include "native.h"

int vfio_py_uint(PyObject *o, const char *what, uint64_t max, uint64_t *out)
{
	unsigned long long v;

	/* A bool is an int to Python, but True as an offset is a bug. */
	if (!PyLong_Check(o) || PyBool_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
			     Py_TYPE(o)->tp_name);
		return -1;
	}
	v = PyLong_AsUnsignedLongLong(o);
	if (v == (unsigned long long)-1 && PyErr_Occurred())
		PyErr_Clear();
	else if (v <= max) {
		*out = v;
		return 0;
	}
	PyErr_Format(PyExc_ValueError, "%s %R out of range 0..%llu", what, o,
		     (unsigned long long)max);
	return -1;
}
