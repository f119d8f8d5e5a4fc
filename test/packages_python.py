"""packages_python.py — the wheel of `make python`, as a user has it after
`pip install`: run by the python3 of a fresh venv it was installed into.

    VENV/bin/python test/packages_python.py DIR

DIR is a fresh empty folder. Prints one "OK <step> <what it saw>" line per
step, or "FAIL <step> <error>" and exits with status 1; test/packages.test
(Debian's python3, which can load extensions) and test/packages-noload.tcl
(a CPython that cannot) check the lines.
"""

import os
import sqlite3
import sys
import threading

MIGRATIONS = {
    "001_users.sql": "-- migrate:up\n"
                     "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
                     "-- migrate:down\n"
                     "DROP TABLE users;\n",
    "002_seed.sql":  "-- migrate:up\n"
                     "INSERT INTO users(name) VALUES (app_upper('ada'));\n"
                     "-- migrate:down\n"
                     "DELETE FROM users;\n",
}


def rows(conn, sql, *args):
    return conn.execute(sql, args).fetchall()


def one(conn, sql, *args):
    return rows(conn, sql, *args)[0][0]


def error(call):
    try:
        call()
    except Exception as e:  # the exception's type and text are the result
        return "%s: %s" % (type(e).__name__, e)
    return "no error"


def main():
    work = sys.argv[1]
    mdir = os.path.join(work, "migrations")
    os.makedirs(mdir)
    for name, text in MIGRATIONS.items():
        with open(os.path.join(mdir, name), "w", encoding="utf-8") as f:
            f.write(text)
    step = "import"
    try:
        before = sqlite3.connect(":memory:")
        import sqlite_migrate_ext as m
        # Installed into the venv, not found in the source tree.
        print("OK import", m.__file__.startswith(sys.prefix + os.sep), m.__version__)
        print("OK can_load_extensions", hasattr(before, "enable_load_extension"))

        step = "path"
        path = m.loadable_path()
        print("OK path", os.path.isfile(path), path.startswith(sys.prefix + os.sep),
              os.path.basename(path), m.ENTRY_POINT)

        step = "load"
        conn = sqlite3.connect(os.path.join(work, "app.db"), isolation_level=None)
        conn.create_function("app_upper", 1, lambda s: s.upper())
        print("OK load", m.load(conn), one(conn, "SELECT migrate_version()"))

        step = "apply"
        print("OK apply", one(conn, "SELECT migrate_apply(?)", mdir),
              " ".join("%d:%s" % r for r in
                       rows(conn, "SELECT version, status FROM migrations(?)", mdir)),
              one(conn, "SELECT name FROM users"))

        step = "rollback"
        print("OK rollback", one(conn, "SELECT migrate_rollback()"),
              one(conn, "SELECT count(*) FROM users"))

        # Loading again keeps the connection's settings.
        step = "twice"
        rows(conn, "SELECT migrate_config('backup', 'off')")
        m.load(conn)
        print("OK twice", one(conn, "SELECT migrate_config('backup')"))

        # Extension loading is off again on conn: SQL cannot load anything.
        step = "loading_off"
        print("OK loading_off", error(lambda: rows(
            conn, "SELECT load_extension(?, ?)", path, m.ENTRY_POINT)))

        # No other connection changed: neither one open before, nor one
        # opened after.
        step = "others"
        after = sqlite3.connect(":memory:")
        print("OK others", error(lambda: rows(before, "SELECT migrate_version()")),
              "|", error(lambda: rows(after, "SELECT migrate_version()")))
        before.close()
        after.close()

        step = "thread"
        seen = []
        t = threading.Thread(target=lambda: seen.extend(
            [error(lambda: m.load(conn)), error(lambda: conn.execute("SELECT 1"))]))
        t.start()
        t.join()
        print("OK thread", seen[0].split(":")[0], seen[0] == seen[1])

        step = "closed"
        closed = sqlite3.connect(":memory:")
        closed.close()
        print("OK closed", error(lambda: m.load(closed)))

        step = "not_connection"
        print("OK not_connection", error(lambda: m.load("app.db")))

        # Were handles not where load() looks for them, it would refuse, and
        # run nothing on what it found there (no handle is dereferenced
        # before the probe's matched the one SQLite gave).
        step = "layout_mismatch"
        m._state.clear()
        found = m._handle_of
        m._handle_of = lambda c: found(c) + 8
        other = sqlite3.connect(":memory:")
        got = error(lambda: m.load(other))
        m._handle_of = found
        print("OK layout_mismatch", got, "|",
              error(lambda: rows(other, "SELECT migrate_version()")))
        other.close()

        step = "close"
        conn.close()
        print("OK close")
    except Exception as e:  # report the step, not a traceback
        print("FAIL", step, "%s: %s" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
