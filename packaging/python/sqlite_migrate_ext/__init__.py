"""sqlite_migrate_ext: the migrate extension for Python's sqlite3 module.

    import sqlite3
    import sqlite_migrate_ext

    conn = sqlite3.connect("app.db")
    sqlite_migrate_ext.load(conn)
    conn.execute("SELECT migrate_apply('db/migrations')")

load(conn) gives that one connection migrate's functions; no other
connection, open or opened later, is changed. loadable_path() is the
extension file itself, for anything that loads extensions by path.
"""

import ctypes
import os
import sqlite3
import sys
import threading

__version__ = "@VERSION@"
__all__ = ["load", "loadable_path", "ENTRY_POINT"]

ENTRY_POINT = "sqlite3_migrate_init"


def loadable_path():
    """The absolute path of the extension (migrate.so) inside this package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrate.so")


def load(conn):
    """Load migrate into the open sqlite3.Connection conn.

    Where the sqlite3 module can load extensions, conn's own
    enable_load_extension and load_extension are used, and extension
    loading is left off afterwards, as sqlite3.connect() opens a connection.
    Where it cannot (CPython built without --enable-loadable-sqlite-extensions,
    as pyenv's Pythons are), the extension's entry point is run on conn's
    SQLite handle directly; see _load_by_handle. Loading it twice is
    harmless: the second load keeps the first one's functions and settings.
    """
    if not isinstance(conn, sqlite3.Connection):
        raise TypeError("load() takes a sqlite3.Connection, not %s"
                        % type(conn).__name__)
    if hasattr(conn, "enable_load_extension"):
        conn.enable_load_extension(True)
        try:
            # The SQL form names the entry point on every Python version
            # (load_extension(entrypoint=) is 3.12 and later).
            conn.execute("SELECT load_extension(?, ?)",
                         (loadable_path(), ENTRY_POINT)).fetchall()
        finally:
            conn.enable_load_extension(False)
    else:
        _load_by_handle(conn)


# Without enable_load_extension
# -----------------------------
# An extension's entry point takes three arguments: the connection's handle
# (sqlite3 *), where to put an error message, and SQLite's table of API
# routines. Python does not hand out the handle, and SQLite hands the
# routines only to extensions it starts itself: those it loads, and
# automatic extensions (sqlite3_auto_extension), which it runs while it
# opens each new connection. An automatic extension never reaches a
# connection that is already open, so registering migrate's entry point
# could not reach conn; and it would reach every connection the process
# opened afterwards, whoever opened it.
#
# So load() registers, for the time it takes the sqlite3 module to open one
# ":memory:" connection, an automatic extension of its own that only writes
# down the handle and the routines it is given, then cancels it
# (sqlite3_cancel_auto_extension). The handle it wrote down must equal the
# one read from that Python connection object, where CPython's
# sqlite3.Connection keeps it (its first field, right after the object
# header): that proves where the handle sits before any handle read that way
# is used. conn's handle is then read from the same place, and migrate's
# entry point runs on it with SQLite's routines: what SQLite itself would
# have done had conn been opened with migrate registered. A connection
# another thread opens during that moment runs the recorder, which changes
# nothing in it.

_lock = threading.Lock()
_state = {}  # "sqlite": library, "api": routines, "ext": migrate.so, "init": entry

# int (*)(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi)
_ENTRY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                          ctypes.c_void_p)
_seen = []


def _record(db, pz_err, api):
    _seen.append((db, api))
    return 0


# Never freed: another thread's open may still be about to call it after
# it is cancelled.
_recorder = _ENTRY(_record)


def _sqlite_library():
    """The SQLite library the sqlite3 module was linked with."""
    try:
        import _sqlite3
        path = _sqlite3.__file__
    except (ImportError, AttributeError):
        path = None  # built into the interpreter itself
    # PyDLL keeps the GIL during each call: nothing else in this process
    # runs Python while migrate registers on conn. A symbol looked up in the
    # module's handle is found in the libraries it depends on.
    lib = ctypes.PyDLL(path)
    lib.sqlite3_auto_extension.argtypes = [_ENTRY]
    lib.sqlite3_auto_extension.restype = ctypes.c_int
    lib.sqlite3_cancel_auto_extension.argtypes = [_ENTRY]
    lib.sqlite3_cancel_auto_extension.restype = ctypes.c_int
    lib.sqlite3_free.argtypes = [ctypes.c_void_p]
    lib.sqlite3_free.restype = None
    return lib


def _handle_of(conn):
    return ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value


def _api_routines(lib):
    """SQLite's API routines, and proof that _handle_of reads handles."""
    del _seen[:]
    rc = lib.sqlite3_auto_extension(_recorder)
    if rc != 0:
        raise sqlite3.OperationalError(
            "sqlite_migrate_ext: sqlite3_auto_extension failed (%d)" % rc)
    try:
        probe = sqlite3.connect(":memory:")
    finally:
        lib.sqlite3_cancel_auto_extension(_recorder)
    try:
        handle = _handle_of(probe)
        for db, api in list(_seen):
            if db == handle and api:
                return api
    finally:
        probe.close()
    raise sqlite3.NotSupportedError(
        "sqlite_migrate_ext: this Python's sqlite3 module cannot load extensions "
        "and its connections do not keep their SQLite handle where CPython's do; "
        "use a Python built with --enable-loadable-sqlite-extensions")


def _load_by_handle(conn):
    # Refuses, with sqlite3's own error, a closed connection or one of
    # another thread, before its handle is read.
    conn.execute("SELECT 1").fetchall()
    # Only CPython's id() is the object's address.
    if sys.implementation.name != "cpython":
        raise sqlite3.NotSupportedError(
            "sqlite_migrate_ext: this Python's sqlite3 module cannot load extensions; "
            "on %s, load() needs one that can" % sys.implementation.name)
    with _lock:
        if not _state:
            lib = _sqlite_library()
            api = _api_routines(lib)
            ext = ctypes.PyDLL(loadable_path())  # never unloaded: conn's functions live in it
            init = getattr(ext, ENTRY_POINT)
            init.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                             ctypes.c_void_p]
            init.restype = ctypes.c_int
            _state.update(sqlite=lib, api=api, ext=ext, init=init)
        err = ctypes.c_void_p()
        rc = _state["init"](_handle_of(conn), ctypes.byref(err), _state["api"])
        if rc != 0:
            msg = ctypes.string_at(err.value).decode("utf-8", "replace") \
                if err.value else "error %d" % rc
            _state["sqlite"].sqlite3_free(err.value)
            raise sqlite3.OperationalError(msg)
