# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfio.Error and its errno-specific subclasses."""

import errno as _errno

__all__ = ["Error"]


class Error(OSError):
    """A libvfio call failed.

    A subclass of :class:`OSError`: ``e.errno`` is the errno the library
    returned and ``e.strerror`` the library's message, which names the
    operation and the object it failed on, e.g. ``"VFIO_GROUP_GET_STATUS on
    /dev/vfio/7: group not viable: 0000:00:1f.2 is bound to ahci"``.

    The exception raised for a given errno also derives from the matching
    builtin class, so ``except PermissionError`` (EACCES, EPERM),
    ``except FileNotFoundError`` (ENOENT), ``except FileExistsError``
    (EEXIST), ``except TimeoutError`` (ETIMEDOUT) and
    ``except InterruptedError`` (EINTR) work as with :func:`open`.
    An access outside a region (ERANGE) also derives from
    :class:`ValueError`.
    """


# errno -> builtin class the raised exception also derives from.
_BUILTINS = {
    _errno.EACCES: PermissionError,
    _errno.EPERM: PermissionError,
    _errno.ENOENT: FileNotFoundError,
    _errno.EEXIST: FileExistsError,
    _errno.ETIMEDOUT: TimeoutError,
    _errno.EINTR: InterruptedError,
    _errno.EAGAIN: BlockingIOError,
    _errno.ERANGE: ValueError,
}
_classes = {}


def _class_for(err):
    base = _BUILTINS.get(err)
    if base is None:
        return Error
    cls = _classes.get(base)
    if cls is None:
        cls = type(base.__name__, (Error, base), {
            "__module__": "vfio",
            "__doc__": "vfio.Error that is also a %s." % base.__name__,
        })
        _classes[base] = cls
    return cls


def _make_error(err, message):
    """Build the exception for a failed libvfio call (used by _native)."""
    return _class_for(err)(err, message)
