// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfio._native.Memory: process memory (a DMA buffer or an mmapped region)
 * with the buffer protocol and the bounds-checked accessors of IO, done
 * with libvfio's vfio_mmio_* (one volatile load or store each).
 *
 * Lifetime rule: the memory is only ever detached (and then freed or
 * unmapped by the package) when no buffer export is alive.  While a
 * memoryview exists, detach raises BufferError, like mmap.close() does;
 * a memoryview keeps its Memory object (and through it the device or
 * context) alive, so garbage collection cannot free the memory under it.
 */
#include "native.h"

#include <string.h>

struct memory {
	struct vfio_py_io io;
	char *base; /* NULL when detached */
	Py_ssize_t size;
	int writable;
	Py_ssize_t exports; /* live buffer exports */
	unsigned int nareas; /* 0: the whole [0, size) is accessible */
	uint64_t areas[2 * VFIO_PY_MAX_AREAS]; /* (offset, size) pairs */
};

static struct memory *as_memory(PyObject *o)
{
	return (struct memory *)o;
}

int vfio_py_memory_set(PyObject *memory, void *base, size_t size, int writable,
		       unsigned int nareas, const uint64_t *areas)
{
	struct memory *m = as_memory(memory);

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

void *vfio_py_memory_base(PyObject *memory)
{
	return as_memory(memory)->base;
}

int vfio_py_memory_detach(PyObject *memory)
{
	struct memory *m = as_memory(memory);

	if (m->exports) {
		PyErr_Format(PyExc_BufferError,
			     "cannot release memory: %zd memoryview(s) of it still exist; "
			     "release them first",
			     m->exports);
		return -1;
	}
	m->base = NULL;
	m->size = 0;
	m->nareas = 0;
	return 0;
}

/* Check [off, off + len): 0, or -1 with an exception. */
static int check_range(struct memory *m, uint64_t off, uint64_t len, unsigned int align,
		       int write)
{
	unsigned int i;

	if (!m->base) {
		PyErr_SetString(PyExc_ValueError, "memory is released (freed, unmapped or closed)");
		return -1;
	}
	if (write && !m->writable) {
		PyErr_SetString(PyExc_PermissionError, "memory is read-only");
		return -1;
	}
	if (off > (uint64_t)m->size || len > (uint64_t)m->size - off) {
		vfio_py_errorf(PyExc_ValueError, "offset %#llx (+%llu) is outside 0..%#zx",
			       (unsigned long long)off, (unsigned long long)len, (size_t)m->size);
		return -1;
	}
	if (align > 1 && (off & (align - 1))) {
		vfio_py_errorf(PyExc_ValueError, "offset %#llx is not %u-byte aligned",
			       (unsigned long long)off, align);
		return -1;
	}
	if (!m->nareas)
		return 0;
	for (i = 0; i < m->nareas; i++)
		if (off >= m->areas[2 * i] && off + len <= m->areas[2 * i] + m->areas[2 * i + 1])
			return 0;
	vfio_py_errorf(PyExc_ValueError,
		       "offset %#llx (+%llu) is outside the region's mmappable areas; "
		       "use Region.read()/write() there",
		       (unsigned long long)off, (unsigned long long)len);
	return -1;
}

static int memory_load(PyObject *self, uint64_t off, unsigned int bytes, uint64_t *val)
{
	struct memory *m = as_memory(self);

	if (check_range(m, off, bytes, bytes, 0) < 0)
		return -1;
	switch (bytes) {
	case 1:
		*val = vfio_mmio_read8(m->base, off);
		break;
	case 2:
		*val = vfio_mmio_read16(m->base, off);
		break;
	case 4:
		*val = vfio_mmio_read32(m->base, off);
		break;
	default:
		*val = vfio_mmio_read64(m->base, off);
		break;
	}
	return 0;
}

static int memory_store(PyObject *self, uint64_t off, unsigned int bytes, uint64_t val)
{
	struct memory *m = as_memory(self);

	if (check_range(m, off, bytes, bytes, 1) < 0)
		return -1;
	switch (bytes) {
	case 1:
		vfio_mmio_write8(m->base, off, (uint8_t)val);
		break;
	case 2:
		vfio_mmio_write16(m->base, off, (uint16_t)val);
		break;
	case 4:
		vfio_mmio_write32(m->base, off, (uint32_t)val);
		break;
	default:
		vfio_mmio_write64(m->base, off, val);
		break;
	}
	return 0;
}

static void memory_describe(PyObject *self, char *buf, size_t len)
{
	(void)self;
	snprintf(buf, len, "memory");
}

/* A device wrote the word a poll waited for: read what it wrote before it after it. */
static void memory_matched(void)
{
	vfio_dma_rmb();
}

static const struct vfio_py_io_ops memory_ops = {
	.load = memory_load,
	.store = memory_store,
	.describe = memory_describe,
	.matched = memory_matched,
};

static PyObject *memory_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	(void)args;
	(void)kwargs;
	return vfio_py_io_new(type, &memory_ops);
}

static PyObject *memory_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	uint64_t off, len;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "read(offset, length) takes 2 arguments");
		return NULL;
	}
	if (vfio_py_uint(args[0], "offset", UINT64_MAX, &off) < 0 ||
	    vfio_py_uint(args[1], "length", PY_SSIZE_T_MAX, &len) < 0 ||
	    check_range(as_memory(self), off, len, 1, 0) < 0)
		return NULL;
	return PyBytes_FromStringAndSize(as_memory(self)->base + off, (Py_ssize_t)len);
}

static PyObject *memory_write(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	Py_buffer view;
	uint64_t off;
	int rc;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "write(offset, data) takes 2 arguments");
		return NULL;
	}
	if (vfio_py_uint(args[0], "offset", UINT64_MAX, &off) < 0 ||
	    PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
		return NULL;
	rc = check_range(as_memory(self), off, (uint64_t)view.len, 1, 1);
	if (!rc)
		memcpy(as_memory(self)->base + off, view.buf, view.len);
	PyBuffer_Release(&view);
	if (rc < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *memory_detach_method(PyObject *self, PyObject *unused)
{
	(void)unused;
	if (vfio_py_memory_detach(self) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *memory_exports(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromSsize_t(as_memory(self)->exports);
}

static PyObject *memory_attached(PyObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(as_memory(self)->base != NULL);
}

static PyObject *memory_address(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromVoidPtr(as_memory(self)->base);
}

static Py_ssize_t memory_len(PyObject *self)
{
	return as_memory(self)->size;
}

static int memory_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
	struct memory *m = as_memory(self);

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

static void memory_releasebuffer(PyObject *self, Py_buffer *view)
{
	(void)view;
	as_memory(self)->exports--;
}

static PyBufferProcs memory_as_buffer = {
	.bf_getbuffer = memory_getbuffer,
	.bf_releasebuffer = memory_releasebuffer,
};

static PySequenceMethods memory_as_sequence = {
	.sq_length = memory_len,
};

static PyMethodDef memory_methods[] = {
	{ "read", (PyCFunction)(void (*)(void))memory_read, METH_FASTCALL,
	  "read(offset, length) -> bytes: copy bytes out." },
	{ "write", (PyCFunction)(void (*)(void))memory_write, METH_FASTCALL,
	  "write(offset, data): copy a bytes-like object in." },
	{ "_detach", memory_detach_method, METH_NOARGS,
	  "Forget the memory (BufferError while memoryviews of it exist)." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef memory_getset[] = {
	{ "_exports", memory_exports, NULL, "Number of live buffer exports.", NULL },
	{ "_attached", memory_attached, NULL, "Whether memory is attached.", NULL },
	{ "_address", memory_address, NULL, "Process address (0 when released).", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject vfio_py_memory_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "vfio._native.Memory",
	.tp_basicsize = sizeof(struct memory),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Process memory with the buffer protocol and bounds-checked accessors.",
	.tp_base = &vfio_py_io_type,
	.tp_new = memory_new,
	.tp_as_buffer = &memory_as_buffer,
	.tp_as_sequence = &memory_as_sequence,
	.tp_methods = memory_methods,
	.tp_getset = memory_getset,
};
