"""python_check.py — migrate_check, migrate_drift and migrate_schema from
Python's sqlite3 module.

    /usr/bin/python3 test/python_check.py LIB DIR

LIB is the extension (absolute path), DIR a fresh empty folder. Prints one
line per step, "OK <step> <what it saw>", or "FAIL <step> <error>" and exits
with status 1. test/python_check.test checks the lines.
"""

import os
import sqlite3
import sys

GOOD = {
    "001_users.sql": "-- migrate:up\n"
                     "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
                     "-- migrate:down\n"
                     "DROP TABLE users;\n",
    "002_email.sql": "-- migrate:up\n"
                     "ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';\n"
                     "CREATE INDEX users_email ON users(email);\n"
                     "-- migrate:down\n"
                     "DROP INDEX users_email;\n"
                     "ALTER TABLE users DROP COLUMN email;\n",
}

BAD = {
    "001_seed.sql": "-- migrate:up\n"
                    "CREATE TABLE items(slug TEXT);\n"
                    "INSERT INTO items VALUES (app_slug('Hello World'));\n"
                    "-- migrate:down\n"
                    "DROP TABLE items;\n",
    "002_wal.sql":  "-- migrate:up\n"
                    "PRAGMA journal_mode = WAL;\n",
}


def write_set(folder, files):
    os.makedirs(folder)
    for name, text in files.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)


def rows(conn, sql, *args):
    # fetchall(): a half-read cursor keeps its statement running.
    return conn.execute(sql, args).fetchall()


def main():
    lib, work = sys.argv[1], sys.argv[2]
    good, bad = os.path.join(work, "good"), os.path.join(work, "bad")
    write_set(good, GOOD)
    write_set(bad, BAD)
    step = "load"
    try:
        conn = sqlite3.connect(os.path.join(work, "app.db"), isolation_level=None)
        conn.enable_load_extension(True)
        rows(conn, "SELECT load_extension(?, 'sqlite3_migrate_init')", lib)
        conn.enable_load_extension(False)
        conn.create_function("app_slug", 1, lambda s: "-".join(s.lower().split()))
        rows(conn, "SELECT migrate_config('backup', 'off')")
        print("OK load")

        step = "check_good"
        got = rows(conn, 'SELECT version, "check", ok FROM migrate_check(?)', good)
        print("OK check_good", " ".join("%d:%s:%d" % r for r in got))

        step = "check_bad"
        got = rows(conn, 'SELECT version, "check", ok, detail FROM migrate_check(?)'
                         ' WHERE NOT ok', bad)
        print("OK check_bad", " | ".join("%d:%s:%s" % (v, c, d.split(":")[0])
                                         for v, c, ok, d in got))
        print("OK check_hint", "your application registers" in got[0][3])

        step = "check_error"
        try:
            rows(conn, "SELECT * FROM migrate_check(?)", None)
            print("OK check_error none")
        except sqlite3.OperationalError as e:
            print("OK check_error", e)

        step = "apply"
        print("OK apply", rows(conn, "SELECT migrate_apply(?)", good)[0][0])

        step = "drift"
        print("OK drift", len(rows(conn, "SELECT * FROM migrate_drift()")))
        conn.execute("CREATE TABLE by_hand(x)")
        got = rows(conn, "SELECT type, name, expected IS NULL FROM migrate_drift()")
        print("OK drift_hand", " ".join("%s:%s:%d" % r for r in got))

        step = "schema"
        text = rows(conn, "SELECT migrate_schema()")[0][0]
        print("OK schema", len(text.splitlines()), text.splitlines()[0])
        out = os.path.join(work, "schema.sql")
        got = rows(conn, "SELECT migrate_schema(?)", out)[0][0]
        with open(out, encoding="utf-8") as f:
            print("OK schema_file", got == out, f.read() == text)

        step = "close"
        conn.close()
        print("OK close")
    except Exception as e:  # report the step, not a traceback
        print("FAIL", step, "%s: %s" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
