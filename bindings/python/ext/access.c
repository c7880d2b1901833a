// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfio._native.IO: read8..64(offset), write8..64(offset, value) and
 * poll32/64(offset, mask, value, timeout), written once for both kinds of
 * register access -- process memory (Memory) and a region through the
 * device fd (RegionIO).  Each method is one vectorcall into C; the subtype's
 * ops do the access itself.
 *
 * Polling: every check runs with the GIL held, so the object cannot be
 * closed by another thread mid-access; only the sleeps between checks
 * release the GIL.  Sleeps grow from 1 us to 1 ms.
 */
#include "native.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000L

PyObject *vfio_py_io_new(PyTypeObject *type, const struct vfio_py_io_ops *ops)
{
	PyObject *self = type->tp_alloc(type, 0);

	if (self)
		((struct vfio_py_io *)self)->ops = ops;
	return self;
}

static uint64_t width_max(unsigned int bytes)
{
	return bytes == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * bytes)) - 1;
}

static PyObject *io_read(PyObject *self, PyObject *offset, unsigned int bytes)
{
	struct vfio_py_io *io = (struct vfio_py_io *)self;
	uint64_t off, v;

	if (vfio_py_uint(offset, "offset", UINT64_MAX, &off) < 0 ||
	    io->ops->load(self, off, bytes, &v) < 0)
		return NULL;
	return PyLong_FromUnsignedLongLong(v);
}

static PyObject *io_write(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			  unsigned int bytes)
{
	struct vfio_py_io *io = (struct vfio_py_io *)self;
	uint64_t off, v;

	if (nargs != 2) {
		PyErr_Format(PyExc_TypeError, "write%u(offset, value) takes 2 arguments (%zd given)",
			     8 * bytes, nargs);
		return NULL;
	}
	if (vfio_py_uint(args[0], "offset", UINT64_MAX, &off) < 0 ||
	    vfio_py_uint(args[1], "value", width_max(bytes), &v) < 0 ||
	    io->ops->store(self, off, bytes, v) < 0)
		return NULL;
	Py_RETURN_NONE;
}

struct poll_timer {
	struct timespec deadline;
	int forever;
	int last_check; /* the deadline passed: one more check, then stop */
	long sleep_ns;
	double timeout;
};

/* timeout: seconds (int or float) or None for no limit. */
static int poll_start(struct poll_timer *p, PyObject *to)
{
	double t;

	memset(p, 0, sizeof(*p));
	clock_gettime(CLOCK_MONOTONIC, &p->deadline);
	if (to == Py_None) {
		p->forever = 1;
		return 0;
	}
	if (PyBool_Check(to) || !(PyLong_Check(to) || PyFloat_Check(to))) {
		PyErr_SetString(PyExc_TypeError, "timeout must be a number of seconds or None");
		return -1;
	}
	t = PyFloat_AsDouble(to);
	if (t == -1.0 && PyErr_Occurred())
		return -1;
	if (!(t >= 0)) {
		PyErr_SetString(PyExc_ValueError, "timeout must not be negative");
		return -1;
	}
	if (t > 1e9)
		t = 1e9;
	p->timeout = t;
	p->deadline.tv_sec += (time_t)t;
	p->deadline.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
	if (p->deadline.tv_nsec >= NSEC_PER_SEC) {
		p->deadline.tv_sec++;
		p->deadline.tv_nsec -= NSEC_PER_SEC;
	}
	return 0;
}

/* After a check that did not match: 1 to check again, 0 when timed out, -1 on a signal. */
static int poll_next(struct poll_timer *p)
{
	struct timespec now, ts;

	if (p->last_check)
		return 0;
	if (!p->forever) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > p->deadline.tv_sec ||
		    (now.tv_sec == p->deadline.tv_sec && now.tv_nsec >= p->deadline.tv_nsec)) {
			p->last_check = 1;
			return 1;
		}
	}
	p->sleep_ns = p->sleep_ns ? p->sleep_ns * 2 : 1000;
	if (p->sleep_ns > 1000000L)
		p->sleep_ns = 1000000L;
	ts.tv_sec = 0;
	ts.tv_nsec = p->sleep_ns;
	Py_BEGIN_ALLOW_THREADS
	nanosleep(&ts, NULL);
	Py_END_ALLOW_THREADS
	if (PyErr_CheckSignals() < 0)
		return -1;
	return 1;
}

static PyObject *io_poll(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			 unsigned int bytes)
{
	struct vfio_py_io *io = (struct vfio_py_io *)self;
	uint64_t off, mask, value, v = 0;
	struct poll_timer p;
	char what[64];
	int next;

	if (nargs != 4) {
		PyErr_Format(PyExc_TypeError,
			     "poll%u(offset, mask, value, timeout) takes 4 arguments (%zd given)",
			     8 * bytes, nargs);
		return NULL;
	}
	if (vfio_py_uint(args[0], "offset", UINT64_MAX, &off) < 0 ||
	    vfio_py_uint(args[1], "mask", width_max(bytes), &mask) < 0 ||
	    vfio_py_uint(args[2], "value", width_max(bytes), &value) < 0)
		return NULL;
	if (value & ~mask) {
		vfio_py_errorf(PyExc_ValueError, "value %#llx has bits outside mask %#llx",
			       (unsigned long long)value, (unsigned long long)mask);
		return NULL;
	}
	if (poll_start(&p, args[3]) < 0)
		return NULL;
	do {
		if (io->ops->load(self, off, bytes, &v) < 0)
			return NULL;
		if ((v & mask) == value) {
			if (io->ops->matched)
				io->ops->matched();
			return PyLong_FromUnsignedLongLong(v);
		}
		next = poll_next(&p);
		if (next < 0)
			return NULL;
	} while (next);
	io->ops->describe(self, what, sizeof(what));
	vfio_py_raise_errno(ETIMEDOUT, "%s offset %#llx: (%#llx & %#llx) != %#llx after %g s", what,
			    (unsigned long long)off, (unsigned long long)v,
			    (unsigned long long)mask, (unsigned long long)value, p.timeout);
	return NULL;
}

/* The method table wants one C function per width. */
#define IO_WIDTH(BITS)                                                                       \
	static PyObject *io_read##BITS(PyObject *self, PyObject *offset)                    \
	{                                                                                    \
		return io_read(self, offset, BITS / 8);                                      \
	}                                                                                    \
	static PyObject *io_write##BITS(PyObject *self, PyObject *const *args, Py_ssize_t n) \
	{                                                                                    \
		return io_write(self, args, n, BITS / 8);                                    \
	}
IO_WIDTH(8)
IO_WIDTH(16)
IO_WIDTH(32)
IO_WIDTH(64)

static PyObject *io_poll32(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	return io_poll(self, args, nargs, 4);
}

static PyObject *io_poll64(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	return io_poll(self, args, nargs, 8);
}

#define FASTCALL(f) ((PyCFunction)(void (*)(void))(f))
#define IO_METHODS(BITS, WHAT)                                                          \
	{ "read" #BITS, io_read##BITS, METH_O,                                          \
	  "read" #BITS "(offset) -> int: read " WHAT " at offset (one access)." },      \
	{ "write" #BITS, FASTCALL(io_write##BITS), METH_FASTCALL,                       \
	  "write" #BITS "(offset, value): write " WHAT " at offset (one access)." }

static PyMethodDef io_methods[] = {
	IO_METHODS(8, "8 bits"),
	IO_METHODS(16, "16 bits (little endian, aligned)"),
	IO_METHODS(32, "32 bits (little endian, aligned)"),
	IO_METHODS(64, "64 bits (little endian, aligned)"),
	{ "poll32", FASTCALL(io_poll32), METH_FASTCALL,
	  "poll32(offset, mask, value, timeout) -> int: wait until (read32(offset) & mask) == "
	  "value.\n\n"
	  "timeout is in seconds (None: no limit).  Returns the matching value; raises\n"
	  "TimeoutError (a vfio.Error, ETIMEDOUT) when it does not match in time.  On\n"
	  "memory a read barrier follows the matching load.  Other threads run while it\n"
	  "sleeps between reads." },
	{ "poll64", FASTCALL(io_poll64), METH_FASTCALL,
	  "poll64(offset, mask, value, timeout) -> int: poll32 for a 64-bit register." },
	{ NULL, NULL, 0, NULL },
};

PyTypeObject vfio_py_io_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "vfio._native.IO",
	.tp_basicsize = sizeof(struct vfio_py_io),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Sized register accessors; the base of Memory and RegionIO.",
	.tp_methods = io_methods,
};
