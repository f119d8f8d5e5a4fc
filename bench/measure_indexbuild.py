"""measure_indexbuild.py — index builds with sorter threads (BENCH_ONLY=indexbuild).

The database: one table of 1,000,000 rows (200,000 with BENCH_QUICK;
BENCH_INDEX_ROWS sets it), about 50 MB, made once per run:

    item(id INTEGER PRIMARY KEY, owner INTEGER, sku TEXT, price REAL, note TEXT)

owner a random integer below 100,000, sku 16 random hex digits, price a
random amount, note 'note <id>'.  Before every run of every side the file
is copied back from that template (so every side starts from the same
bytes, in the page cache alike).

Three migrations, each measured as its own case:

  one index     CREATE INDEX item_sku ON item(sku)
  two indexes   CREATE INDEX on (owner, price) and on (note)
  rebuild       the table rebuilt (new table, INSERT ... SELECT, DROP,
                RENAME) with an index on sku

The baseline: the sqlite3 shell running the same SQL in one transaction
(BEGIN; ...; COMMIT), the connection's settings as they come (PRAGMA
threads 0).  The subject: the same shell with the extension loaded,
migrate_config('backup', 'off'), migrate_apply(dir) — which raises the
sorter threads to the usable CPUs less one for the call.  A third side, the
subject with PRAGMA threads set to the CPU count by the caller (which the
call keeps), tells whether CPUs rather than CPUs less one would be better.
Then baseline and subject again, both under `taskset -c 0` (one usable CPU:
the call uses no threads there).

Ratios are medians of per-round ratios subject/baseline, of wall time (the
target: the point of threads is the wall clock) and of cpu time.
"""
import os
import shutil
import subprocess

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ROWS = int(os.environ.get("BENCH_INDEX_ROWS", "200000" if QUICK else "1000000"))

CASES = [
    ("one index", "one",
     "CREATE INDEX item_sku ON item(sku);",
     "DROP INDEX item_sku;"),
    ("two indexes", "two",
     "CREATE INDEX item_owner_price ON item(owner, price);\n"
     "CREATE INDEX item_note ON item(note);",
     "DROP INDEX item_note;\nDROP INDEX item_owner_price;"),
    ("rebuild + index", "rebuild",
     "CREATE TABLE item_new(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL,\n"
     "  sku TEXT NOT NULL, price REAL, note TEXT);\n"
     "INSERT INTO item_new SELECT id, owner, sku, price, note FROM item;\n"
     "DROP TABLE item;\n"
     "ALTER TABLE item_new RENAME TO item;\n"
     "CREATE INDEX item_sku ON item(sku);",
     "DROP INDEX item_sku;"),
]


def cpus():
    return len(os.sched_getaffinity(0))


def make_template(R):
    db = os.path.join(R.TMP, "index-%d.db" % ROWS)
    R.rm_db(db)
    R.timed([R.SQLITE3, db,
             "CREATE TABLE item(id INTEGER PRIMARY KEY, owner INTEGER, sku TEXT,"
             " price REAL, note TEXT)",
             "BEGIN",
             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<%d) "
             "INSERT INTO item(owner, sku, price, note) SELECT abs(random()) %% 100000,"
             " hex(randomblob(8)), (abs(random()) %% 1000000) / 100.0, 'note ' || i"
             " FROM c" % ROWS,
             "COMMIT"])
    return db


def write_case(R, tag, up, down):
    """The migration folder and the shell's script of one case."""
    d = os.path.join(R.TMP, "index-" + tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "001_%s.sql" % tag), "w") as f:
        f.write("-- migrate:up\n%s\n-- migrate:down\n%s\n" % (up, down))
    floor = os.path.join(R.TMP, "index-%s-floor.sql" % tag)
    with open(floor, "w") as f:
        f.write("BEGIN;\n%s\nCOMMIT;\n" % up)
    return d, floor


def measure(R):
    tmpl = make_template(R)
    db = os.path.join(R.TMP, "index-run.db")
    n = cpus()
    one = ["taskset", "-c", "0"] if shutil.which("taskset") else None
    for label, tag, up, down in CASES:
        d, floor = write_case(R, tag, up, down)
        sect = ("index builds: %s rows, %s (%d usable CPUs)"
                % ("{:,}".format(ROWS), label, n))

        def base(pre=()):
            return (R.copier(tmpl, db),
                    lambda: R.timed(list(pre) + [R.SQLITE3, "-bail", db], stdin=floor))

        def subj(pre=(), threads=None):
            sql = ["SELECT migrate_config('backup','off')"]
            if threads is not None:
                sql.append("PRAGMA threads=%d" % threads)
            sql.append("SELECT migrate_apply('%s')" % d)
            return (R.copier(tmpl, db), lambda: R.timed(list(pre) + R.shell(db, *sql)))

        r_b, r_s, r_n = R.compare(base(), subj(), R.REPS, subj(threads=n))
        R.ratio_row(sect, "migrate_apply vs shell, 1 transaction", r_b, r_s,
                    0.8 if tag == "one" else None, "wall")
        R.ratio_row(sect, "migrate_apply, the caller's PRAGMA threads=%d (kept), vs shell" % n,
                    r_b, r_n)
        if one:
            o_b, o_s = R.compare(base(one), subj(one), R.REPS)
            R.ratio_row(sect, "under taskset -c 0: migrate_apply vs shell", o_b, o_s,
                        1.02, "wall")
        else:
            R.row(sect, "under taskset -c 0: skipped, no taskset", "", "", "")
    R.rm_db(db)
