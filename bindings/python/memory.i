/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio._native.Memory: process memory (a DMA buffer or an mmapped region)
 * with the buffer protocol and bounds-checked 8/16/32/64-bit accessors.
 *
 * Lifetime rule: the memory is only ever detached (and then freed or
 * unmapped by the package) when no buffer export is alive.  While a
 * memoryview exists, detach raises BufferError, like mmap.close() does;
 * a memoryview keeps its Memory object (and through it the device or
 * context) alive, so garbage collection cannot free the memory under it.
 */
%{
#define VFIO_PY_MAX_AREAS 16

struct vfio_py_memory {
	PyObject_HEAD
	char *base;		/* NULL when detached */
	Py_ssize_t size;
	int writable;
	Py_ssize_t exports;	/* live buffer exports */
	unsigned int nareas;	/* 0: the whole [0, size) is accessible */
	uint64_t areas[2 * VFIO_PY_MAX_AREAS];	/* (offset, size) pairs */
};

static PyTypeObject vfio_py_memory_type;

static int vfio_py_memory_set(struct vfio_py_memory *m, void *base, size_t size,
			      int writable, unsigned int nareas, const uint64_t *areas)
{
	if (m->base) {
		PyErr_SetString(PyExc_RuntimeError, "memory is already attached");
		return -1;
	}
	m->base = base;
	m->size = (Py_ssize_t)size;
	m->writable = writable;
	m->nareas = 0;
	/* One area covering everything is the same as no holes. */
	if (nareas && !(nareas == 1 && areas[0] == 0 && areas[1] >= size)) {
		m->nareas = nareas;
		memcpy(m->areas, areas, sizeof(uint64_t) * 2 * nareas);
	}
	return 0;
}

/* Check [off, off + len) and return its address, or NULL with an exception. */
static inline char *vfio_py_memory_at(struct vfio_py_memory *m, PyObject *oo, Py_ssize_t len,
				      int align, int write)
{
	unsigned long long off;
	unsigned int i;

	if (!m->base) {
		PyErr_SetString(PyExc_ValueError, "memory is released (freed, unmapped or closed)");
		return NULL;
	}
	if (write && !m->writable) {
		PyErr_SetString(PyExc_PermissionError, "memory is read-only");
		return NULL;
	}
	if (!PyLong_Check(oo)) {
		PyErr_Format(PyExc_TypeError, "offset must be an integer, not %.100s",
			     Py_TYPE(oo)->tp_name);
		return NULL;
	}
	off = PyLong_AsUnsignedLongLong(oo);
	if (off == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_Clear();
		goto range;
	}
	if (off > (unsigned long long)m->size || (unsigned long long)len > m->size - off)
		goto range;
	if (align > 1 && (off & (align - 1))) {
		PyErr_Format(PyExc_ValueError, "offset %#llx is not %d-byte aligned", off, align);
		return NULL;
	}
	if (m->nareas) {
		for (i = 0; i < m->nareas; i++)
			if (off >= m->areas[2 * i] &&
			    off + len <= m->areas[2 * i] + m->areas[2 * i + 1])
				break;
		if (i == m->nareas) {
			PyErr_Format(PyExc_ValueError,
				     "offset %#llx (+%zd) is outside the region's mmappable areas; "
				     "use Region.read()/write() there", off, len);
			return NULL;
		}
	}
	return m->base + off;
range:
	PyErr_Format(PyExc_ValueError, "offset %R (+%zd) is outside 0..%#zx", oo, len, m->size);
	return NULL;
}

#define VFIO_PY_RW(BITS)							\
static PyObject *vfio_py_memory_read##BITS(PyObject *self, PyObject *oo)	\
{									\
	char *p = vfio_py_memory_at((struct vfio_py_memory *)self, oo, BITS / 8, BITS / 8, 0); \
	if (!p)								\
		return NULL;						\
	return PyLong_FromUnsignedLongLong(*(volatile uint##BITS##_t *)p);	\
}									\
static PyObject *vfio_py_memory_write##BITS(PyObject *self, PyObject *const *args, \
					    Py_ssize_t nargs)		\
{									\
	unsigned long long v;						\
	char *p;							\
	if (nargs != 2) {						\
		PyErr_SetString(PyExc_TypeError, "write" #BITS "(offset, value) takes 2 arguments"); \
		return NULL;						\
	}								\
	p = vfio_py_memory_at((struct vfio_py_memory *)self, args[0], BITS / 8, BITS / 8, 1); \
	if (!p)								\
		return NULL;						\
	if (!PyLong_Check(args[1])) {					\
		PyErr_SetString(PyExc_TypeError, "value must be an integer"); \
		return NULL;						\
	}								\
	v = PyLong_AsUnsignedLongLong(args[1]);				\
	if ((v == (unsigned long long)-1 && PyErr_Occurred()) ||	\
	    (BITS < 64 && v >> (BITS % 64))) {				\
		PyErr_Clear();						\
		PyErr_Format(PyExc_ValueError, "value %R does not fit in %d bits", args[1], BITS); \
		return NULL;						\
	}								\
	*(volatile uint##BITS##_t *)p = (uint##BITS##_t)v;		\
	Py_RETURN_NONE;							\
}
VFIO_PY_RW(8)
VFIO_PY_RW(16)
VFIO_PY_RW(32)
VFIO_PY_RW(64)

/*
 * Polling (Memory.poll32/64 here, Region.poll32/64 in vfio.i).  Every check
 * runs with the GIL held, so the object cannot be closed under it; only the
 * sleeps between checks release the GIL.  Sleeps grow from 1 us to 1 ms.
 */
struct vfio_py_poll {
	struct timespec deadline;
	int forever;
	int last_check;	/* the deadline passed: one more check, then stop */
	long sleep_ns;
	double timeout;
};

static void vfio_py_raise_errno(int err, const char *fmt, ...);

/* timeout: seconds (int or float) or None for no limit. */
static int vfio_py_poll_start(struct vfio_py_poll *p, PyObject *to)
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
	if (p->deadline.tv_nsec >= 1000000000L) {
		p->deadline.tv_sec++;
		p->deadline.tv_nsec -= 1000000000L;
	}
	return 0;
}

/* After a check that did not match: 1 to check again, 0 when timed out, -1 on a signal. */
static int vfio_py_poll_next(struct vfio_py_poll *p)
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

/* Parse (offset, mask, value, timeout) of a poll call. */
static int vfio_py_poll_args(PyObject *const *args, Py_ssize_t nargs, const char *name, int bits,
			     unsigned long long *mask, unsigned long long *value)
{
	unsigned long long max = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	int i;

	if (nargs != 4) {
		PyErr_Format(PyExc_TypeError, "%s(offset, mask, value, timeout) takes 4 arguments (%zd given)",
			     name, nargs);
		return -1;
	}
	for (i = 1; i <= 2; i++) {
		unsigned long long v;

		if (!PyLong_Check(args[i]) || PyBool_Check(args[i])) {
			PyErr_Format(PyExc_TypeError, "%s must be an integer", i == 1 ? "mask" : "value");
			return -1;
		}
		v = PyLong_AsUnsignedLongLong(args[i]);
		if ((v == (unsigned long long)-1 && PyErr_Occurred()) || v > max) {
			PyErr_Clear();
			PyErr_Format(PyExc_ValueError, "%s %R does not fit in %d bits",
				     i == 1 ? "mask" : "value", args[i], bits);
			return -1;
		}
		*(i == 1 ? mask : value) = v;
	}
	if (*value & ~*mask) {
		PyErr_Format(PyExc_ValueError, "value %#llx has bits outside mask %#llx", *value, *mask);
		return -1;
	}
	return 0;
}

#define VFIO_PY_MEMORY_POLL(BITS)						\
static PyObject *vfio_py_memory_poll##BITS(PyObject *self, PyObject *const *args, \
					   Py_ssize_t nargs)			\
{									\
	struct vfio_py_memory *m = (struct vfio_py_memory *)self;	\
	unsigned long long mask, value, v;				\
	struct vfio_py_poll p;						\
	char *addr;							\
	int next;							\
	if (vfio_py_poll_args(args, nargs, "poll" #BITS, BITS, &mask, &value) < 0 || \
	    vfio_py_poll_start(&p, args[3]) < 0)			\
		return NULL;						\
	do {								\
		addr = vfio_py_memory_at(m, args[0], BITS / 8, BITS / 8, 0); \
		if (!addr)						\
			return NULL;					\
		v = *(volatile uint##BITS##_t *)addr;			\
		if ((v & mask) == value) {				\
			vfio_dma_rmb();					\
			return PyLong_FromUnsignedLongLong(v);		\
		}							\
		next = vfio_py_poll_next(&p);				\
		if (next < 0)						\
			return NULL;					\
	} while (next);							\
	vfio_py_raise_errno(ETIMEDOUT, "memory offset %#llx: (%#llx & %#llx) != %#llx after %g s", \
			    PyLong_AsUnsignedLongLong(args[0]), v, mask, value, p.timeout); \
	return NULL;							\
}
VFIO_PY_MEMORY_POLL(32)
VFIO_PY_MEMORY_POLL(64)

static PyObject *vfio_py_memory_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	Py_ssize_t len;
	char *p;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "read(offset, length) takes 2 arguments");
		return NULL;
	}
	len = PyNumber_AsSsize_t(args[1], PyExc_ValueError);
	if (len == -1 && PyErr_Occurred())
		return NULL;
	if (len < 0) {
		PyErr_SetString(PyExc_ValueError, "length must not be negative");
		return NULL;
	}
	p = vfio_py_memory_at((struct vfio_py_memory *)self, args[0], len, 1, 0);
	if (!p)
		return NULL;
	return PyBytes_FromStringAndSize(p, len);
}

static PyObject *vfio_py_memory_write(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	Py_buffer view;
	char *p;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "write(offset, data) takes 2 arguments");
		return NULL;
	}
	if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
		return NULL;
	p = vfio_py_memory_at((struct vfio_py_memory *)self, args[0], view.len, 1, 1);
	if (p)
		memcpy(p, view.buf, view.len);
	PyBuffer_Release(&view);
	if (!p)
		return NULL;
	Py_RETURN_NONE;
}

/* _detach(): forget the memory; BufferError while memoryviews are alive. */
static PyObject *vfio_py_memory_detach(PyObject *self, PyObject *unused)
{
	struct vfio_py_memory *m = (struct vfio_py_memory *)self;

	(void)unused;
	if (m->exports) {
		PyErr_Format(PyExc_BufferError,
			     "cannot release memory: %zd memoryview(s) of it still exist; "
			     "release them first", m->exports);
		return NULL;
	}
	m->base = NULL;
	m->size = 0;
	m->nareas = 0;
	Py_RETURN_NONE;
}

static PyObject *vfio_py_memory_exports(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromSsize_t(((struct vfio_py_memory *)self)->exports);
}

static PyObject *vfio_py_memory_attached(PyObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(((struct vfio_py_memory *)self)->base != NULL);
}

static PyObject *vfio_py_memory_address(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromVoidPtr(((struct vfio_py_memory *)self)->base);
}

static Py_ssize_t vfio_py_memory_len(PyObject *self)
{
	return ((struct vfio_py_memory *)self)->size;
}

static int vfio_py_memory_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
	struct vfio_py_memory *m = (struct vfio_py_memory *)self;

	if (!m->base) {
		PyErr_SetString(PyExc_ValueError, "memory is released (freed, unmapped or closed)");
		view->obj = NULL;
		return -1;
	}
	if (m->nareas) {
		PyErr_SetString(PyExc_BufferError,
				"region has holes that cannot be mapped; use read*/write* "
				"on its mmappable areas");
		view->obj = NULL;
		return -1;
	}
	if (PyBuffer_FillInfo(view, self, m->base, m->size, !m->writable, flags) < 0)
		return -1;
	m->exports++;
	return 0;
}

static void vfio_py_memory_releasebuffer(PyObject *self, Py_buffer *view)
{
	(void)view;
	((struct vfio_py_memory *)self)->exports--;
}

static PyBufferProcs vfio_py_memory_as_buffer = {
	vfio_py_memory_getbuffer,
	vfio_py_memory_releasebuffer,
};

static PySequenceMethods vfio_py_memory_as_sequence = {
	.sq_length = vfio_py_memory_len,
};

static PyMethodDef vfio_py_memory_methods[] = {
	{"read8", vfio_py_memory_read8, METH_O, "read8(offset) -> int: one 8-bit load."},
	{"read16", vfio_py_memory_read16, METH_O, "read16(offset) -> int: one aligned 16-bit load."},
	{"read32", vfio_py_memory_read32, METH_O, "read32(offset) -> int: one aligned 32-bit load."},
	{"read64", vfio_py_memory_read64, METH_O, "read64(offset) -> int: one aligned 64-bit load."},
	{"write8", (PyCFunction)(void (*)(void))vfio_py_memory_write8, METH_FASTCALL,
	 "write8(offset, value): one 8-bit store."},
	{"write16", (PyCFunction)(void (*)(void))vfio_py_memory_write16, METH_FASTCALL,
	 "write16(offset, value): one aligned 16-bit store."},
	{"write32", (PyCFunction)(void (*)(void))vfio_py_memory_write32, METH_FASTCALL,
	 "write32(offset, value): one aligned 32-bit store."},
	{"write64", (PyCFunction)(void (*)(void))vfio_py_memory_write64, METH_FASTCALL,
	 "write64(offset, value): one aligned 64-bit store."},
	{"poll32", (PyCFunction)(void (*)(void))vfio_py_memory_poll32, METH_FASTCALL,
	 "poll32(offset, mask, value, timeout) -> int: wait until (read32(offset) & mask) == value.\n\n"
	 "timeout is in seconds (None: no limit).  Returns the matching value; raises\n"
	 "TimeoutError (a vfio.Error, ETIMEDOUT) when it does not match in time.  A read\n"
	 "barrier follows the matching load.  Other threads run while it sleeps."},
	{"poll64", (PyCFunction)(void (*)(void))vfio_py_memory_poll64, METH_FASTCALL,
	 "poll64(offset, mask, value, timeout) -> int: poll32 for an aligned 64-bit word."},
	{"read", (PyCFunction)(void (*)(void))vfio_py_memory_read, METH_FASTCALL,
	 "read(offset, length) -> bytes: copy bytes out."},
	{"write", (PyCFunction)(void (*)(void))vfio_py_memory_write, METH_FASTCALL,
	 "write(offset, data): copy a bytes-like object in."},
	{"_detach", vfio_py_memory_detach, METH_NOARGS,
	 "Forget the memory (BufferError while memoryviews of it exist)."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef vfio_py_memory_getset[] = {
	{"_exports", vfio_py_memory_exports, NULL, "Number of live buffer exports.", NULL},
	{"_attached", vfio_py_memory_attached, NULL, "Whether memory is attached.", NULL},
	{"_address", vfio_py_memory_address, NULL, "Process address (0 when released).", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject vfio_py_memory_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "vfio._native.Memory",
	.tp_basicsize = sizeof(struct vfio_py_memory),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Process memory with the buffer protocol and bounds-checked accessors.",
	.tp_new = PyType_GenericNew,
	.tp_as_buffer = &vfio_py_memory_as_buffer,
	.tp_as_sequence = &vfio_py_memory_as_sequence,
	.tp_methods = vfio_py_memory_methods,
	.tp_getset = vfio_py_memory_getset,
};
%}

%init %{
	if (PyType_Ready(&vfio_py_memory_type) < 0)
		return NULL;
	Py_INCREF(&vfio_py_memory_type);
	if (PyModule_AddObject(m, "Memory", (PyObject *)&vfio_py_memory_type) < 0)
		return NULL;
%}
