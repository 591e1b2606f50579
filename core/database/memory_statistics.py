"""SQLite told to keep no memory statistics in this process: cheaper reads from many threads.

What it is for: SQLite counts every allocation under one process-wide mutex, which the
threads of a web process, each reading on its own connection, fight over. SQLite advises
builds without the statistics; this turns them off at run time instead.

Hot path: the IVR's bill lookup (``ivr/accounts.py``, ``bench/ivr.py``), which took a third
more CPU with 8 threads than alone because of the mutex.

What it costs to remove: nothing but speed. Delete this module and its import in
``core/database/__init__.py``; SQLite then keeps its statistics and the IVR bill step of
``make bench`` spends that third more CPU under load. It must run before Python's sqlite3
is first imported: ``core.database`` imports it before anything that would import sqlite3.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys

_SQLITE_CONFIG_MEMSTATUS = 9
"""sqlite3_config() option: keep memory statistics (on unless SQLite was built without)."""


def sqlite_memory_statistics_off() -> bool:
    """Turn off SQLite's memory statistics for this process; tell whether it took effect.

    It can only be set before SQLite is first used in the process, which Python's sqlite3
    does when it is imported, so this module does it when it is imported; where sqlite3
    came first, or on other platforms, the statistics stay.
    """
    if "_sqlite3" in sys.modules or sys.platform != "linux":
        return False  # too late; elsewhere ctypes may pass variadic arguments wrongly
    spec = importlib.util.find_spec("_sqlite3")
    if spec is None or not spec.origin:
        return False
    try:
        # Loading the extension's file (without importing it) loads the very SQLite library
        # it is linked with, whichever that is, and leaves SQLite uninitialised.
        configure = ctypes.CDLL(spec.origin).sqlite3_config
    except (OSError, AttributeError):
        return False
    return configure(_SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0  # SQLITE_OK


SQLITE_MEMORY_STATISTICS_OFF = sqlite_memory_statistics_off()
"""Whether this process's SQLite keeps no memory statistics (see above)."""
