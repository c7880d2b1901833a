// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Exceptions of vfio._native: failures become whatever the package's error
 * factory builds from (errno, message) -- vfio.Error and its subclasses.
 */
#include "native.h"

#include <stdarg.h>
#include <string.h>

static PyObject *error_factory;

PyObject *vfio_py_set_error_factory(PyObject *factory)
{
	Py_XINCREF(factory);
	Py_XDECREF(error_factory);
	error_factory = factory;
	Py_RETURN_NONE;
}

static void raise_os_error(int err, const char *msg)
{
	PyObject *exc;

	if (!error_factory) {
		PyErr_SetObject(PyExc_OSError, Py_BuildValue("(is)", err, msg));
		return;
	}
	exc = PyObject_CallFunction(error_factory, "is", err, msg);
	if (!exc)
		return;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
}

void vfio_py_raise(int rc)
{
	int err = rc < 0 ? -rc : rc;
	const char *msg = vfio_last_error();

	/* The library's message only if it belongs to this failure. */
	if (vfio_last_errno() != err || !msg || !*msg)
		msg = strerror(err);
	raise_os_error(err, msg);
}

void vfio_py_raise_errno(int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	raise_os_error(err, msg);
}

void vfio_py_errorf(PyObject *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	PyErr_SetString(type, msg);
}
