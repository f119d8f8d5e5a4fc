"""python_smoke.py — the migration workflow from Python's sqlite3 module.

    /usr/bin/python3 test/python_smoke.py LIB DIR

LIB is the extension (absolute path), DIR a fresh empty folder. Writes three
migrations into DIR/migrations, opens DIR/app.db, loads the extension and runs
apply, status, backup and rollback, printing one line per step:

    OK <step> <what it saw>

or "FAIL <step> <error>" and exit status 1. test/python.test checks the lines.
Migration 003 calls app_slug(), an SQL function defined here in Python with
conn.create_function(): migrations run on the caller's connection, so they
see its application-defined functions.
"""

import os
import sqlite3
import sys

MIGRATIONS = {
    "001_users.sql": "-- migrate:up\n"
                     "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
                     "-- migrate:down\n"
                     "DROP TABLE users;\n",
    "002_items.sql": "-- migrate:up\n"
                     "CREATE TABLE items(id INTEGER PRIMARY KEY, slug TEXT NOT NULL);\n"
                     "-- migrate:down\n"
                     "DROP TABLE items;\n",
    "003_seed.sql":  "-- migrate:up\n"
                     "INSERT INTO items(slug) VALUES (app_slug('Hello  World'));\n"
                     "INSERT INTO users(name) VALUES ('ada');\n"
                     "-- migrate:down\n"
                     "DELETE FROM items WHERE slug = app_slug('Hello  World');\n"
                     "DELETE FROM users WHERE name = 'ada';\n",
}


def app_slug(text):
    return "-".join(text.lower().split())


def rows(conn, sql, *args):
    # fetchall(): a half-read cursor keeps its statement running, and migrate
    # calls refuse to run while another statement on the connection is busy.
    return conn.execute(sql, args).fetchall()


def one(conn, sql, *args):
    return rows(conn, sql, *args)[0][0]


def status(conn, mdir):
    return " ".join("%d:%s" % r for r in
                    rows(conn, "SELECT version, status FROM migrations(?)", mdir))


def main():
    lib, work = sys.argv[1], sys.argv[2]
    mdir = os.path.join(work, "migrations")
    os.makedirs(mdir)
    for name, text in MIGRATIONS.items():
        with open(os.path.join(mdir, name), "w", encoding="utf-8") as f:
            f.write(text)
    step = "connect"
    try:
        conn = sqlite3.connect(os.path.join(work, "app.db"))
        step = "load"
        conn.enable_load_extension(True)
        # The SQL form names the entry point on every Python version
        # (Connection.load_extension(entrypoint=) is 3.12+), so a build named
        # other than migrate.so loads too.
        rows(conn, "SELECT load_extension(?, 'sqlite3_migrate_init')", lib)
        conn.enable_load_extension(False)
        print("OK load", one(conn, "SELECT migrate_version()"))

        step = "create_function"
        conn.create_function("app_slug", 1, app_slug)
        print("OK create_function", one(conn, "SELECT app_slug('A  B c')"))

        step = "status_before"
        print("OK status_before", status(conn, mdir))

        step = "apply"
        print("OK apply", one(conn, "SELECT migrate_apply(?)", mdir))

        step = "status"
        print("OK status", status(conn, mdir))

        step = "app_function"
        print("OK app_function", " ".join(r[0] for r in rows(conn, "SELECT slug FROM items")))

        step = "current"
        print("OK current", one(conn, "SELECT migrate_current()"))

        step = "auto_backup"
        print("OK auto_backup", len(os.listdir(os.path.join(work, "backups"))))

        step = "backup"
        dest = os.path.join(work, "copy.db")
        got = one(conn, "SELECT migrate_backup(?)", dest)
        copy = sqlite3.connect(dest)
        seen = (one(copy, "SELECT count(*) FROM migrate_history"),
                one(copy, "SELECT slug FROM items"))
        copy.close()
        print("OK backup", got == dest, seen[0], seen[1])

        step = "rollback"
        print("OK rollback", one(conn, "SELECT migrate_rollback()"))

        step = "status_after"
        print("OK status_after", status(conn, mdir), one(conn, "SELECT count(*) FROM items"))

        step = "reapply"
        print("OK reapply", one(conn, "SELECT migrate_apply(?)", mdir),
              one(conn, "SELECT slug FROM items"))

        step = "close"
        conn.close()
        print("OK close")
    except Exception as e:  # report the step, not a traceback
        print("FAIL", step, "%s: %s" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
