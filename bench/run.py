#!/usr/bin/python3
"""run.py — `make bench`: what migrate costs beyond the SQL it runs.

Every figure is a ratio measured in this run: a baseline (the sqlite3 shell
running the same SQL, sha256sum, cp, a peer tool) and the subject (the
extension in the same sqlite3 shell) are run in turn, ABAB... (BABA on every
other round, so slow drift hits both), and the medians are compared.  No
absolute time is judged: the machine is shared.

Environment:
    BENCH_QUICK=1      N = 100 and 1,000 only, 5 rounds, a 64 MiB backup
    BENCH_REPS=K       rounds of the quick comparisons (default 9)
    BENCH_REPS_SLOW=K  rounds of the slow ones: N = 10,000, a commit per
                       migration, backups (default 5; dbmate always 3)
    BENCH_CALLGRIND=1  also count instructions (valgrind) for apply, rollback
                       and status at N = 1,000: ratios free of the machine's
                       noise (adds about 4 minutes)
    BENCH_BACKUP_MIB   size of the backup database (default 1024)
    BENCH_ONLY=a,b     run only these parts: "core" (apply, rollback, status,
                       memory, backup, dbmate) and the measure_*.py modules
                       by name (measure_startup.py is "startup")
    SQLITE3            the shell to use (default: sqlite3 on PATH)
"""
import glob
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TMP = os.path.join(HERE, "tmp")
LIB = os.path.join(ROOT, "migrate.so")
SQLITE3 = os.environ.get("SQLITE3", "sqlite3")
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
REPS = int(os.environ.get("BENCH_REPS", "5" if QUICK else "9"))
REPS_BIG = int(os.environ.get("BENCH_REPS_SLOW", "3" if QUICK else "5"))
REPS_PEER = 3
CALLGRIND = os.environ.get("BENCH_CALLGRIND", "") not in ("", "0")
BACKUP_MIB = int(os.environ.get("BENCH_BACKUP_MIB", "64" if QUICK else "1024"))
SIZES = [100, 1000] if QUICK else [100, 1000, 10000]
DBMATE = os.path.join(HERE, "node_modules", "@dbmate", "linux-x64", "bin", "dbmate")


# ---------------------------------------------------------------- running

class Run:
    """One timed process: wall seconds, CPU seconds (user+sys), and wait4's
    ru_maxrss in KiB (kept, not reported: see peak_rss)."""

    def __init__(self, wall, cpu, rss):
        self.wall, self.cpu, self.rss = wall, cpu, rss


def timed(cmd, stdin=None, cwd=TMP):
    """Run cmd (a list, or a str for sh -c) and measure it with wait4()."""
    if isinstance(cmd, str):
        cmd = ["sh", "-c", cmd]
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=fin, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, cwd=cwd)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if stdin:
        fin.close()
    if p.returncode != 0:
        sys.exit("bench: %s failed (%d): %s" % (" ".join(cmd)[:200], p.returncode,
                                                err.decode(errors="replace")[:2000]))
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss)


def rm_db(path):
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def shell(db, *sql):
    """The sqlite3 shell with the extension loaded, running sql in order."""
    return [SQLITE3, "-bail", db, ".load " + LIB] + list(sql)


def compare(a, b, reps, *more):
    """a, b (and more) are (setup, run) pairs of callables, run in turn each
    round, the order rotated every round (AB BA AB ...) so slow drift in the
    machine's load hits every side alike.  Returns one list of runs per side."""
    sides = [a, b] + list(more)
    out = [[] for _ in sides]
    for i in range(reps):
        order = list(range(len(sides)))
        if i % 2:
            order.reverse()
        for k in order:
            setup, run = sides[k]
            if setup:
                setup()
            out[k].append(run())
    return out


def med(runs, attr):
    return statistics.median(getattr(r, attr) for r in runs)


def paired(base_runs, subj_runs, attr):
    """Median of the per-round ratios subject/baseline: each round's two runs
    are next to each other in time, so they saw the same machine."""
    return statistics.median(getattr(s, attr) / getattr(b, attr)
                             for b, s in zip(base_runs, subj_runs)
                             if getattr(b, attr) > 0)


def instructions(cmd, stdin=None, setup=None):
    """Instructions executed by one run, counted by callgrind."""
    if setup:
        setup()
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
                       + cmd, stdin=fin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, cwd=TMP, text=True)
    if stdin:
        fin.close()
    for l in p.stderr.splitlines():
        if "Collected" in l:
            return int(l.split()[-1].replace(",", ""))
    sys.exit("bench: callgrind gave no count for %s" % " ".join(cmd)[:200])


def peak_rss(cmd, stdin=None, setup=None):
    """Peak RSS in KiB of one run, by /usr/bin/time (not wait4: a child's
    ru_maxrss also counts the Python image it was forked from)."""
    if setup:
        setup()
    out = os.path.join(TMP, "rss.txt")
    timed(["/usr/bin/time", "-f", "%M", "-o", out] + cmd, stdin=stdin)
    with open(out) as f:
        return int(f.read().split()[-1])


# ------------------------------------------------------------------ table

ROWS = []        # (section, label, baseline, subject, ratio, cpu, target, verdict)
VERDICTS = []    # (label, met)


def row(section, label, base, subj, ratio, cpu="", target="", met=None):
    verdict = "" if met is None else ("met" if met else "NOT MET")
    if met is not None:
        VERDICTS.append((label, met))
    ROWS.append((section, label, base, subj, ratio, cpu, target, verdict))
    print("  %-52s %s" % (label, "%s / %s  ratio %s %s" % (base, subj, ratio, verdict)),
          file=sys.stderr, flush=True)


def secs(x):
    return "%.3f s" % x if x >= 0.1 else "%.1f ms" % (x * 1000)


def ratio_row(section, label, base_runs, subj_runs, target=None, judge="cpu"):
    """judge: which ratio the target is held to.  "cpu" (user+sys time) for
    work that keeps the processor busy: on a shared machine the wall clock of
    such a run measures the neighbours as much as the run.  "wall" where the
    run mostly waits for the disk (a commit per migration, backups)."""
    bw, sw = med(base_runs, "wall"), med(subj_runs, "wall")
    r = paired(base_runs, subj_runs, "wall")
    rc = paired(base_runs, subj_runs, "cpu")
    judged = rc if judge == "cpu" else r
    row(section, label, secs(bw), secs(sw), "%.3f" % r, "%.3f" % rc,
        "<= %.2f %s" % (target, judge) if target else "",
        (judged <= target) if target else None)
    return judged


def print_table():
    heads = ("measure", "baseline (median)", "subject (median)", "ratio",
             "cpu ratio", "target", "")
    rows = [r[1:] for r in ROWS]
    widths = [max([len(h)] + [len(str(r[i])) for r in rows]) for i, h in enumerate(heads)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i in (0, 1, 2, 6) else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    print()
    print("migrate benchmark: %d rounds (N = 10,000 and a commit per migration: %d;"
          " backups and dbmate: %d), baseline and subject interleaved." % (REPS, REPS_BIG, REPS_PEER))
    print("Times are medians (wall clock); ratios are medians of the per-round ratios,"
          " of wall time and of cpu time (user+sys).")
    print("machine: %s, %d cpus, Linux %s, SQLite %s%s; load average %.1f at the"
          " start, %.1f at the end" % (
              cpu_model(), os.cpu_count(), platform.release(), sqlite_version(),
              ", BENCH_QUICK" if QUICK else "", LOAD_START, os.getloadavg()[0]))
    print()
    print(line(heads))
    print(line(["-" * w for w in widths]))
    section = None
    for r in ROWS:
        if r[0] != section:
            if section is not None:
                print()
            print(r[0])
            section = r[0]
        print(line(("  " + r[1],) + r[2:]))
    print()
    bad = [l for l, ok in VERDICTS if not ok]
    print("targets: %d met, %d not met%s" % (len(VERDICTS) - len(bad), len(bad),
                                            (": " + "; ".join(bad)) if bad else ""))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name"):
                    return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def sqlite_version():
    return subprocess.run([SQLITE3, "-version"], capture_output=True,
                          text=True).stdout.split()[0]


# -------------------------------------------------------------- workloads

def workload(n):
    """bench/tmp/wN: generated once per version of gen.py."""
    d = os.path.join(TMP, "w%d" % n)
    with open(os.path.join(HERE, "gen.py"), "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    sf = os.path.join(d, ".stamp")
    if os.path.exists(sf) and open(sf).read() == stamp:
        return d
    shutil.rmtree(d, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), str(n), d], check=True)
    with open(sf, "w") as f:
        f.write(stamp)
    return d


def applied_template(n, w, target=None):
    """A database with the first `target` (default all) migrations applied."""
    db = os.path.join(TMP, "applied-%d-%s.db" % (n, target or "all"))
    rm_db(db)
    sql = ["SELECT migrate_config('backup','off')",
           "SELECT migrate_apply('%s/m'%s)" % (w, ", %d" % target if target else "")]
    timed(shell(db, *sql))
    return db


def copier(src, dst):
    def setup():
        rm_db(dst)
        shutil.copyfile(src, dst)
    return setup


# ------------------------------------------------------------ the measures

def bench_apply(n, w, reps, atomic=True):
    db = os.path.join(TMP, "run.db")
    floor = os.path.join(w, "floor-atomic.sql" if atomic else "floor-each.sql")
    sql = ["SELECT migrate_config('backup','off')"]
    if not atomic:
        sql.append("SELECT migrate_config('atomic','off')")
    sql.append("SELECT migrate_apply('%s/m')" % w)
    base = (lambda: rm_db(db), lambda: timed([SQLITE3, "-bail", db], stdin=floor))
    subj = (lambda: rm_db(db), lambda: timed(shell(db, *sql)))
    rb, rs = compare(base, subj, reps)
    return rb, rs


def bench_rollback(n, w, template, reps):
    db = os.path.join(TMP, "run.db")
    floor = os.path.join(w, "floor-down.sql")
    base = (copier(template, db), lambda: timed([SQLITE3, "-bail", db], stdin=floor))
    subj = (copier(template, db), lambda: timed(shell(
        db, "SELECT migrate_config('backup','off')", "SELECT migrate_rollback(%d)" % n)))
    return compare(base, subj, reps)


def bench_status(n, w, reps):
    db = os.path.join(TMP, "status.db")
    rm_db(db)
    files = sorted(glob.glob(os.path.join(w, "m", "*")))
    base = (None, lambda: timed(["sha256sum"] + files))
    subj = (None, lambda: timed(shell(db, "SELECT count(*) FROM migrations('%s/m')" % w)))
    return compare(base, subj, reps)


def make_big_db(mib):
    """A database of about mib MiB: a table of rows with an index, and blobs."""
    db = os.path.join(TMP, "big-%d.db" % mib)
    if os.path.exists(db) and not os.path.exists(db + "-journal"):
        return db
    rm_db(db)
    rows = mib * 1024 // 4   # ~4 KiB per row
    timed([SQLITE3, db,
           "PRAGMA page_size=4096",
           "CREATE TABLE doc(id INTEGER PRIMARY KEY, owner INTEGER, title TEXT, body BLOB)",
           "BEGIN",
           "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<%d) "
           "INSERT INTO doc(owner, title, body) SELECT i %% 997, 'document ' || i, "
           "randomblob(3900) FROM c" % rows,
           "CREATE INDEX doc_owner ON doc(owner)",
           "COMMIT"])
    return db


def fsync_copy(src, dst):
    return "cp '%s' '%s' && sync '%s'" % (src, dst, dst)


def bench_backup(reps):
    big = make_big_db(BACKUP_MIB)
    size = os.path.getsize(big) / 2**20
    out = os.path.join(TMP, "backup-out.db")

    def clean():
        rm_db(out)
    # Warm the page cache alike for all three: the first read is not theirs.
    timed(["cat", big])
    dot = (clean, lambda: timed([SQLITE3, big, ".backup '%s'" % out]))
    mig = (clean, lambda: timed(shell(big, "SELECT migrate_backup('%s')" % out)))
    cp = (clean, lambda: timed(fsync_copy(big, out)))
    r_dot, r_mig, r_cp = compare(dot, mig, reps, cp)
    clean()
    sect = "backup of a %.0f MiB database" % size
    ratio_row(sect, "migrate_backup vs sqlite3 '.backup'", r_dot, r_mig, 1.0, "wall")
    ratio_row(sect, "migrate_backup vs cp + fsync", r_cp, r_mig)
    return big


def bench_auto_backup(w, n, big, reps):
    """The automatic backup as a share of one migrate_apply call."""
    sect = "automatic backup: share of one migrate_apply call (off / on)"
    db = os.path.join(TMP, "run.db")
    bdir = os.path.join(TMP, "backups")

    def apply_with(backup, dirpath):
        return lambda: timed(shell(db, "SELECT migrate_config('backup','%s')" % backup,
                                   "SELECT migrate_config('backup_dir','%s')" % bdir,
                                   "SELECT migrate_apply('%s')" % dirpath))

    def fresh_backups(setup):
        def f():
            shutil.rmtree(bdir, ignore_errors=True)
            setup()
        return f

    one = os.path.join(TMP, "one-migration")
    os.makedirs(one, exist_ok=True)
    with open(os.path.join(one, "001_add_tags.sql"), "w") as f:
        f.write("-- migrate:up\nCREATE TABLE tags(id INTEGER PRIMARY KEY, doc INTEGER,"
                " tag TEXT);\nCREATE INDEX tags_doc ON tags(doc);\n"
                "-- migrate:down\nDROP TABLE tags;\n")
    tmpl = applied_template(n, w, n - 10)
    cases = [
        ("apply %s to a new database" % "{:,}".format(n), lambda: rm_db(db), w + "/m"),
        ("apply the last 10 to %.0f MiB (%s applied)"
         % (os.path.getsize(tmpl) / 2**20, "{:,}".format(n - 10)), copier(tmpl, db), w + "/m"),
        ("apply 1 to %.0f MiB" % (os.path.getsize(big) / 2**20), copier(big, db), one),
    ]
    for label, setup, d in cases:
        r_off, r_on = compare((fresh_backups(setup), apply_with("off", d)),
                              (fresh_backups(setup), apply_with("on", d)), reps)
        on, off = med(r_on, "wall"), med(r_off, "wall")
        share = statistics.median((b.wall - a.wall) / b.wall for a, b in zip(r_off, r_on))
        row(sect, label, secs(off), secs(on), "%.0f%%" % (100 * share), "", "reported")
    shutil.rmtree(bdir, ignore_errors=True)
    rm_db(db)


def bench_dbmate(w, reps):
    sect = "peer: dbmate %s, the same %s migration files"
    if not os.path.exists(DBMATE):
        row("peer: dbmate", "skipped: npm is not available", "", "", "")
        return
    version = subprocess.run([DBMATE, "--version"], capture_output=True,
                             text=True).stdout.split()[-1]
    sect = sect % (version, "{:,}".format(len(os.listdir(w + "/m"))))
    db = os.path.join(TMP, "run.db")
    dbm = (lambda: rm_db(db), lambda: timed(
        [DBMATE, "--url", "sqlite:" + db, "--migrations-dir", w + "/m",
         "--no-dump-schema", "up"]))
    off = (lambda: rm_db(db), lambda: timed(shell(
        db, "SELECT migrate_config('backup','off')", "SELECT migrate_config('atomic','off')",
        "SELECT migrate_apply('%s/m')" % w)))
    on = (lambda: rm_db(db), lambda: timed(shell(
        db, "SELECT migrate_config('backup','off')", "SELECT migrate_apply('%s/m')" % w)))
    r_dbm, r_off, r_on = compare(dbm, off, reps, on)
    ratio_row(sect, "migrate, atomic off (a commit each, as dbmate) vs dbmate up",
              r_dbm, r_off)
    ratio_row(sect, "migrate, atomic on (one commit) vs dbmate up", r_dbm, r_on)


def bench_callgrind(n, w):
    """Instruction counts: the same comparisons, without the machine's noise."""
    sect = "instructions (callgrind), N = %s: baseline / migrate" % "{:,}".format(n)
    db = os.path.join(TMP, "run.db")
    fresh = lambda: rm_db(db)
    tmpl = os.path.join(TMP, "applied-%d-all.db" % n)
    cases = [
        ("apply, atomic on vs shell: 1 transaction",
         ([SQLITE3, "-bail", db], os.path.join(w, "floor-atomic.sql"), fresh),
         (shell(db, "SELECT migrate_config('backup','off')",
                "SELECT migrate_apply('%s/m')" % w), None, fresh)),
        ("rollback all vs shell: the downs",
         ([SQLITE3, "-bail", db], os.path.join(w, "floor-down.sql"), copier(tmpl, db)),
         (shell(db, "SELECT migrate_config('backup','off')",
                "SELECT migrate_rollback(%d)" % n), None, copier(tmpl, db))),
        ("status vs sha256sum",
         (["sha256sum"] + sorted(glob.glob(os.path.join(w, "m", "*"))), None, None),
         (shell(os.path.join(TMP, "status.db"),
                "SELECT count(*) FROM migrations('%s/m')" % w), None, None)),
    ]
    for label, b, s in cases:
        ib, isub = instructions(*b), instructions(*s)
        row(sect, label, "%.3g" % ib, "%.3g" % isub, "%.4f" % (isub / ib), "", "")
    rm_db(db)


def bench_rss(ws):
    """Peak RSS of the shell applying N, alone and with the extension."""
    sect = "peak RSS of the sqlite3 shell applying N (alone / with migrate)"
    db = os.path.join(TMP, "run.db")
    diffs = {}
    for n in SIZES:
        w = ws[n]
        base = max(peak_rss([SQLITE3, "-bail", db], stdin=os.path.join(w, "floor-atomic.sql"),
                            setup=lambda: rm_db(db)) for _ in range(2))
        subj = max(peak_rss(shell(db, "SELECT migrate_config('backup','off')",
                                  "SELECT migrate_apply('%s/m')" % w),
                            setup=lambda: rm_db(db)) for _ in range(2))
        diffs[n] = (subj - base) / 1024
        row(sect, "N = %s" % "{:,}".format(n), "%.1f MiB" % (base / 1024),
            "%.1f MiB" % (subj / 1024), "%+.2f MiB" % diffs[n], "",
            "<= +2.5 MiB" if n == max(SIZES) else "",
            diffs[n] <= 2.5 if n == max(SIZES) else None)
    # What grows with N is the folder listing alone (the files must be
    # sorted by version before the first one runs): its bytes per file.
    lo, hi = min(SIZES), max(SIZES)
    per_file = (diffs[hi] - diffs[lo]) * 1024 * 1024 / (hi - lo)
    row(sect, "growth per file, N = %s to %s" % ("{:,}".format(lo), "{:,}".format(hi)),
        "", "", "%.0f B" % per_file, "", "listing only", per_file <= 256)
    rm_db(db)


LOAD_START = os.getloadavg()[0]
ONLY = [x.strip() for x in os.environ.get("BENCH_ONLY", "").split(",") if x.strip()]


def wanted(part):
    return not ONLY or part in ONLY


def measure_modules():
    """bench/measure_NAME.py, each a part of its own with a measure(R)
    function that takes this module (its helpers and the table)."""
    sys.path.insert(0, HERE)
    for path in sorted(glob.glob(os.path.join(HERE, "measure_*.py"))):
        name = os.path.basename(path)[len("measure_"):-len(".py")]
        if wanted(name):
            yield name, __import__("measure_" + name)


def main():
    os.makedirs(TMP, exist_ok=True)
    if not os.path.exists(LIB):
        sys.exit("bench: build migrate.so first (make)")
    t_start = time.time()
    if wanted("core"):
        core()
    me = sys.modules[__name__]
    for name, mod in measure_modules():
        print("bench: %s" % name, file=sys.stderr, flush=True)
        mod.measure(me)
    print_table()
    print("total bench time: %.0f s" % (time.time() - t_start))


def core():
    print("bench: generating workloads", file=sys.stderr, flush=True)
    ws = {n: workload(n) for n in SIZES}
    grow = {}
    for n in SIZES:
        reps = REPS_BIG if n >= 10000 else REPS
        w = ws[n]
        print("bench: N = %d" % n, file=sys.stderr, flush=True)
        a_b, a_s = bench_apply(n, w, reps)
        tmpl = applied_template(n, w)
        r_b, r_s = bench_rollback(n, w, tmpl, reps)
        s_b, s_s = bench_status(n, w, reps)
        grow[n] = (a_b, a_s, r_b, r_s, s_b, s_s)
        if n == 1000:
            sect = "N = 1,000 migrations, new file database, backup off"
            ratio_row(sect, "apply, atomic on  vs shell: 1 transaction",
                      a_b, a_s, 1.03)
            o_b, o_s = bench_apply(n, w, REPS_BIG, atomic=False)
            ratio_row(sect, "apply, atomic off vs shell: 1 transaction each",
                      o_b, o_s, 1.03, "wall")
            ratio_row(sect, "rollback all, one call vs shell: the downs",
                      r_b, r_s, 1.03)
        if n in (1000, 10000):
            ratio_row("status: SELECT count(*) FROM migrations('dir'), nothing applied",
                      "%s files vs sha256sum dir/*" % "{:,}".format(n), s_b, s_s, 1.5)
    sect = "growth: wall ms per migration (shell or sha256sum / migrate)"
    for kind, ib, isub in (("apply", 0, 1), ("rollback", 2, 3), ("status", 4, 5)):
        ratios = {}
        for n in SIZES:
            rb, rs = grow[n][ib], grow[n][isub]
            b, s = med(rb, "wall") / n * 1000, med(rs, "wall") / n * 1000
            ratios[n] = paired(rb, rs, "cpu")
            last = n == SIZES[-1]
            flat = None
            if last:
                # Nothing quadratic: the ratio to the baseline at the largest
                # N is no worse than at the next one down, give or take noise.
                flat = ratios[n] <= ratios[SIZES[-2]] + 0.10
            row(sect, "%-8s N = %s" % (kind, "{:,}".format(n)),
                "%.3f ms" % b, "%.3f ms" % s, "%.3f" % paired(rb, rs, "wall"),
                "%.3f" % ratios[n], "flat cpu" if last else "", flat)
    bench_rss(ws)
    if CALLGRIND:
        bench_callgrind(1000, ws[1000])
    big = bench_backup(REPS_PEER)
    bench_auto_backup(ws[1000], 1000, big, REPS_PEER)
    bench_dbmate(ws[1000], REPS_PEER)


if __name__ == "__main__":
    main()
