// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Regions: vfio._native.RegionIO, the base type of vfio.Region, whose IO
 * accessors go through the device fd (one pread/pwrite in the library),
 * and the module functions region_read, region_write and
 * memory_attach_region.
 *
 * RegionIO holds its handle and _detach() clears it when the device closes:
 * a method fetched earlier (`rd = region.read32`) then raises ValueError
 * instead of touching freed memory.  The GIL is held throughout, so a close
 * from another thread cannot free the handle mid-call.
 */
#include "native.h"

struct regionio {
	struct vfio_py_io io;
	struct vfio_region *r; /* NULL once the device is closed */
};

static struct vfio_region *regionio_get(PyObject *self)
{
	struct vfio_region *r = ((struct regionio *)self)->r;

	if (!r)
		PyErr_SetString(PyExc_ValueError, "operation on a closed device");
	return r;
}

static int regionio_load(PyObject *self, uint64_t off, unsigned int bytes, uint64_t *val)
{
	struct vfio_region *r = regionio_get(self);
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	int rc;

	if (!r)
		return -1;
	switch (bytes) {
	case 1:
		rc = vfio_region_read8(r, off, &v8);
		*val = v8;
		break;
	case 2:
		rc = vfio_region_read16(r, off, &v16);
		*val = v16;
		break;
	case 4:
		rc = vfio_region_read32(r, off, &v32);
		*val = v32;
		break;
	default:
		rc = vfio_region_read64(r, off, val);
		break;
	}
	if (rc < 0) {
		vfio_py_raise(rc);
		return -1;
	}
	return 0;
}

static int regionio_store(PyObject *self, uint64_t off, unsigned int bytes, uint64_t val)
{
	struct vfio_region *r = regionio_get(self);
	int rc;

	if (!r)
		return -1;
	switch (bytes) {
	case 1:
		rc = vfio_region_write8(r, off, (uint8_t)val);
		break;
	case 2:
		rc = vfio_region_write16(r, off, (uint16_t)val);
		break;
	case 4:
		rc = vfio_region_write32(r, off, (uint32_t)val);
		break;
	default:
		rc = vfio_region_write64(r, off, val);
		break;
	}
	if (rc < 0) {
		vfio_py_raise(rc);
		return -1;
	}
	return 0;
}

static void regionio_describe(PyObject *self, char *buf, size_t len)
{
	struct vfio_region *r = ((struct regionio *)self)->r;

	if (r)
		snprintf(buf, len, "region %u", vfio_region_index(r));
	else
		snprintf(buf, len, "region");
}

static const struct vfio_py_io_ops regionio_ops = {
	.load = regionio_load,
	.store = regionio_store,
	.describe = regionio_describe,
};

static PyObject *regionio_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	(void)args;
	(void)kwargs;
	return vfio_py_io_new(type, &regionio_ops);
}

static PyObject *regionio_attach(PyObject *self, PyObject *handle)
{
	void *r;

	if (vfio_py_handle(handle, VFIO_PY_REGION, &r) < 0)
		return NULL;
	((struct regionio *)self)->r = r;
	Py_RETURN_NONE;
}

static PyObject *regionio_detach(PyObject *self, PyObject *unused)
{
	(void)unused;
	((struct regionio *)self)->r = NULL;
	Py_RETURN_NONE;
}

static PyObject *regionio_closed(PyObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(((struct regionio *)self)->r == NULL);
}

static PyMethodDef regionio_methods[] = {
	{ "_attach", regionio_attach, METH_O, "Take a vfio_region handle." },
	{ "_detach", regionio_detach, METH_NOARGS, "Forget the handle (device closed)." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef regionio_getset[] = {
	{ "closed", regionio_closed, NULL, "True once the device is closed.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject vfio_py_regionio_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "vfio._native.RegionIO",
	.tp_basicsize = sizeof(struct regionio),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Register access to a device region through the VFIO fd.",
	.tp_base = &vfio_py_io_type,
	.tp_new = regionio_new,
	.tp_methods = regionio_methods,
	.tp_getset = regionio_getset,
};

/* region_read(region, offset, length) -> bytes */
static PyObject *region_read(PyObject *self, PyObject *args)
{
	PyObject *handle, *offset, *length, *bytes;
	uint64_t off, len;
	void *r;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "OOO:read", &handle, &offset, &length))
		return NULL;
	if (vfio_py_handle(handle, VFIO_PY_REGION, &r) < 0 ||
	    vfio_py_uint(offset, "offset", UINT64_MAX, &off) < 0 ||
	    vfio_py_uint(length, "length", PY_SSIZE_T_MAX, &len) < 0)
		return NULL;
	bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
	if (!bytes)
		return NULL;
	rc = len ? vfio_region_read(r, off, PyBytes_AS_STRING(bytes), len) : 0;
	if (rc < 0) {
		Py_DECREF(bytes);
		vfio_py_raise(rc);
		return NULL;
	}
	return bytes;
}

/* region_write(region, offset, bytes-like) */
static PyObject *region_write(PyObject *self, PyObject *args)
{
	PyObject *handle, *offset;
	Py_buffer view;
	uint64_t off;
	void *r;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "OOy*:write", &handle, &offset, &view))
		return NULL;
	rc = 0;
	if (vfio_py_handle(handle, VFIO_PY_REGION, &r) < 0 ||
	    vfio_py_uint(offset, "offset", UINT64_MAX, &off) < 0)
		rc = -1;
	else if (view.len)
		rc = vfio_region_write(r, off, view.buf, view.len);
	PyBuffer_Release(&view);
	if (rc < 0) {
		if (!PyErr_Occurred())
			vfio_py_raise(rc);
		return NULL;
	}
	Py_RETURN_NONE;
}

/*
 * memory_attach_region(memory, region): mmap a region (vfio_region_map)
 * and expose it; only its mmappable (sparse) areas are accessible.
 */
static PyObject *memory_attach_region(PyObject *self, PyObject *args)
{
	uint64_t areas[2 * VFIO_PY_MAX_AREAS];
	PyObject *memory, *handle;
	void *r, *addr = NULL;
	unsigned int i, n;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O:map", &vfio_py_memory_type, &memory, &handle))
		return NULL;
	if (vfio_py_handle(handle, VFIO_PY_REGION, &r) < 0)
		return NULL;
	n = vfio_region_num_sparse_areas(r);
	if (n > VFIO_PY_MAX_AREAS) {
		PyErr_Format(PyExc_OSError, "region has %u mmappable areas, at most %d supported", n,
			     VFIO_PY_MAX_AREAS);
		return NULL;
	}
	for (i = 0; i < n; i++)
		vfio_region_get_sparse_area(r, i, &areas[2 * i], &areas[2 * i + 1]);
	rc = vfio_region_map(r, &addr);
	if (rc < 0) {
		vfio_py_raise(rc);
		return NULL;
	}
	if (vfio_py_memory_set(memory, addr, vfio_region_size(r), vfio_region_writable(r), n,
			       areas) < 0) {
		vfio_region_unmap(r);
		return NULL;
	}
	Py_RETURN_NONE;
}

PyMethodDef vfio_py_region_functions[] = {
	{ "region_read", region_read, METH_VARARGS, "region_read(region, offset, length) -> bytes" },
	{ "region_write", region_write, METH_VARARGS, "region_write(region, offset, data)" },
	{ "memory_attach_region", memory_attach_region, METH_VARARGS,
	  "memory_attach_region(memory, region): mmap the region into memory." },
	{ NULL, NULL, 0, NULL },
};
