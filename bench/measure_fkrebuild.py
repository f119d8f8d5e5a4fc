"""measure_fkrebuild.py — a table rebuild with foreign keys on.

A parent p (1,000 rows) and a child c (1,000,000 rows, an index on its
foreign key); the 12-step rebuild of c that adds a column, as one migration.
Baseline: the sqlite3 shell running the same SQL by SQLite's documented
procedure (doc/alter-table.md): foreign keys off, BEGIN, the rebuild,
PRAGMA foreign_key_check, COMMIT, foreign keys on.  Subject: migrate_apply
with foreign keys on and the automatic backup off, in the same shell.  In
rollback-journal and in WAL mode; then the same on a database whose c
already has an orphan row (the retry path of doc/guarantees.md "Foreign
keys": the call's check finds it, looks c up at the mark, and runs the
rebuild again), and on the connection's second call, which knows c has
violations (c checked at the mark, the rebuild run once), reported without
a target.
"""
import os

ROWS = int(os.environ.get("BENCH_FK_ROWS", "1000000"))

SCHEMA = """
CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE c(id INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES p(id), note TEXT);
CREATE INDEX c_pid ON c(pid);
"""

REBUILD = """CREATE TABLE c_new(id INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES p(id),
  note TEXT, extra TEXT);
INSERT INTO c_new(id, pid, note) SELECT id, pid, note FROM c;
DROP TABLE c;
ALTER TABLE c_new RENAME TO c;
CREATE INDEX c_pid ON c(pid);
"""


SMALL = "CREATE TABLE s(x);\n"


def procedure(sql):
    """SQLite's documented procedure around sql, as the shell runs it."""
    return ("PRAGMA foreign_keys=OFF;\nBEGIN;\n" + sql
            + "PRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys=ON;\n")


def folder(R):
    """m: the schema and the rebuild; m2: a small migration before it, so
    the rebuild is the connection's second call (it knows c's orphan)."""
    d = os.path.join(R.TMP, "fkrebuild")
    for sub in ("m", "m2"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(os.path.join(d, sub, "001_schema.sql"), "w") as f:
            f.write("-- migrate:up\n" + SCHEMA)
    with open(os.path.join(d, "m", "002_rebuild_c.sql"), "w") as f:
        f.write("-- migrate:up\n" + REBUILD)
    with open(os.path.join(d, "m2", "002_small.sql"), "w") as f:
        f.write("-- migrate:up\n" + SMALL)
    with open(os.path.join(d, "m2", "003_rebuild_c.sql"), "w") as f:
        f.write("-- migrate:up\n" + REBUILD)
    with open(os.path.join(d, "shell.sql"), "w") as f:
        f.write("PRAGMA foreign_keys=ON;\n" + procedure(REBUILD))
    with open(os.path.join(d, "shell2.sql"), "w") as f:
        f.write("PRAGMA foreign_keys=ON;\n" + procedure(SMALL) + procedure(REBUILD))
    return d


def template(R, d, journal, orphan):
    """001 applied by migrate, the rows filled; c row 7 an orphan if asked."""
    db = os.path.join(d, "t-%s-%d.db" % (journal, orphan))
    R.rm_db(db)
    sql = ["PRAGMA journal_mode=%s" % journal,
           "SELECT migrate_config('backup','off')",
           "SELECT migrate_apply('%s/m', 1)" % d,
           "BEGIN",
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<1000) "
           "INSERT INTO p SELECT i, 'parent ' || i FROM n",
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<%d) "
           "INSERT INTO c SELECT i, 1 + i %% 1000, 'note ' || i FROM n" % ROWS]
    if orphan:
        sql.append("UPDATE c SET pid = 5000 WHERE id = 7")
    sql += ["COMMIT", "PRAGMA wal_checkpoint(TRUNCATE)"]
    R.timed(R.shell(db, *sql))
    return db


def measure(R):
    d = folder(R)
    db = os.path.join(d, "run.db")
    section = "rebuild of a 1M-row child table, foreign keys on (backup off)"
    if ROWS != 1000000:
        section = "rebuild of a %d-row child table, foreign keys on (backup off)" % ROWS
    subj_sql = ["PRAGMA foreign_keys=ON", "SELECT migrate_config('backup','off')",
                "SELECT migrate_apply('%s/m')" % d]
    for orphan in (0, 1):
        for journal in ("delete", "wal"):
            t = template(R, d, journal, orphan)
            R.timed(["cat", t])   # the page cache warm for both sides alike
            base = (R.copier(t, db),
                    lambda: R.timed([R.SQLITE3, "-bail", db],
                                    stdin=os.path.join(d, "shell.sql")))
            subj = (R.copier(t, db), lambda: R.timed(R.shell(db, *subj_sql)))
            rb, rs = R.compare(base, subj, R.REPS_BIG)
            mode = "rollback journal" if journal == "delete" else "WAL"
            if orphan:
                R.ratio_row(section, "an old orphan in c (retry), %s" % mode, rb, rs)
                # The connection's second call: c noted at the mark, no retry.
                base2 = (R.copier(t, db),
                         lambda: R.timed([R.SQLITE3, "-bail", db],
                                         stdin=os.path.join(d, "shell2.sql")))
                subj2 = (R.copier(t, db), lambda: R.timed(R.shell(
                    db, "PRAGMA foreign_keys=ON", "SELECT migrate_config('backup','off')",
                    "SELECT migrate_apply('%s/m2', 2)" % d,
                    "SELECT migrate_apply('%s/m2')" % d)))
                rb, rs = R.compare(base2, subj2, R.REPS_BIG)
                R.ratio_row(section, "an old orphan, known to the connection, %s" % mode,
                            rb, rs)
            else:
                R.ratio_row(section, "migrate_apply vs the shell, %s" % mode, rb, rs,
                            target=1.03)
            R.rm_db(t)
    R.rm_db(db)
