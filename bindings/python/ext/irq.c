// SPDX-License-Identifier: LGPL-2.1-or-later
/* irq_wait: the one module function that blocks on the device. */
#include "native.h"

#include <errno.h>
#include <time.h>

static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return left > 0 ? (int)left : 0;
}

/*
 * irq_wait(irq, timeout_ms) -> count.  The GIL is released while waiting;
 * a signal ends the wait only when its Python handler raises (PEP 475),
 * otherwise the wait resumes with the remaining time.
 */
static PyObject *irq_wait(PyObject *self, PyObject *args)
{
	struct timespec deadline;
	PyObject *handle;
	int timeout, rc;
	void *irq;

	(void)self;
	if (!PyArg_ParseTuple(args, "Oi:wait", &handle, &timeout))
		return NULL;
	if (vfio_py_handle(handle, VFIO_PY_IRQ, &irq) < 0)
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
		if (timeout > 0)
			timeout = ms_left(&deadline);
	}
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	return PyLong_FromLong(rc);
}

PyMethodDef vfio_py_irq_functions[] = {
	{ "irq_wait", irq_wait, METH_VARARGS, "irq_wait(irq, timeout_ms) -> count" },
	{ NULL, NULL, 0, NULL },
};
