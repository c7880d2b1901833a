# SPDX-License-Identifier: LGPL-2.1-or-later
"""Argument checks shared by the vfio modules."""

import math


def check_str(value, what):
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    return value


def check_choice(value, what, choices):
    """*value*, a str among *choices*: a name libvfio also checks, but a bad
    name is a ValueError here, as for every other argument, not a
    vfio.Error (EINVAL)."""
    check_str(value, what)
    if value not in choices:
        raise ValueError("%s must be one of %s, not %r" % (what, ", ".join(choices), value))
    return value


def check_int(value, what, low=0, high=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if value < low or (high is not None and value > high):
        raise ValueError("%s %d out of range %d..%s" % (what, value, low,
                                                         "" if high is None else high))
    return value


def timeout_ms(timeout):
    """Seconds (None = forever) -> milliseconds for the library (-1 = forever)."""
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds or None")
    if timeout < 0 or math.isnan(timeout):
        raise ValueError("timeout must not be negative")
    return min(int(math.ceil(timeout * 1000)), 2**31 - 1)
