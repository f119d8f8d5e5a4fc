"""measure_sha.py — `BENCH_ONLY=sha make bench`: SHA-256 throughput, the
CPU's SHA-256 instructions and the portable code, against sha256sum.

Three sides run in turn each round (the order rotated): sha256sum on the
bytes, the extension as built (the CPU's instructions when it has them),
and the extension with MIGRATE_SHA256=portable (the portable code forced,
doc/reference.md "migrate_debug"). Two workloads:

  hash    one 1 MiB file of random bytes hashed K times (BENCH_SHA_MIB,
          default 256; quick: 64): `sha256sum F F F ...` (K names), and
          the sqlite3 shell reading it once into a parameter and hashing
          it in K rows, migrate_sha256(iif(value, @b, NULL)) over
          generate_series(1, K) (the iif keeps SQLite from computing a
          constant once). The hash alone, give or take one read.
  status  SELECT count(checksum) FROM migrations('dir') over the bench's
          generated folder with nothing applied (N = 10,000; quick: 1,000),
          and `sha256sum dir/*`: every file hashed, plus what status does
          besides (listing, reading, splitting each file).

Reported as ratios of the per-round medians, wall and CPU time: each code
against sha256sum, and the instructions against the portable code.
"""
import glob
import os
import subprocess


def _hash_code(R, env):
    """What migrate_debug() says hashes, with the environment given."""
    out = subprocess.run(env + R.shell(":memory:", "SELECT migrate_debug()"),
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("sha256: "):
            return line[len("sha256: "):]
    return "?"


def _random_file(R, mib):
    path = os.path.join(R.TMP, "sha-%d.bin" % mib)
    if not os.path.exists(path) or os.path.getsize(path) != mib << 20:
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1 << 20))
    return path


def measure(R):
    hw_env = ["env", "-u", "MIGRATE_SHA256"]
    sw_env = ["env", "MIGRATE_SHA256=portable"]
    hw_name = _hash_code(R, hw_env)
    sw_name = _hash_code(R, sw_env)
    mib = int(os.environ.get("BENCH_SHA_MIB", "64" if R.QUICK else "256"))
    n = 1000 if R.QUICK else 10000
    reps = R.REPS

    # ---- the hash alone: 1 MiB, K times
    one = _random_file(R, 1)
    files = [one] * mib
    sql = ("SELECT count(DISTINCT migrate_sha256(iif(value, @b, NULL)))"
           " FROM generate_series(1, %d)" % mib)
    par = ".parameter set @b readfile('%s')" % one
    base = (None, lambda: R.timed(["sha256sum"] + files))
    hw = (None, lambda: R.timed(hw_env + R.shell(":memory:", par, sql)))
    sw = (None, lambda: R.timed(sw_env + R.shell(":memory:", par, sql)))
    r_base, r_hw, r_sw = R.compare(base, hw, reps, sw)
    sect = "SHA-256 of %d MiB (1 MiB, %d times): sha256sum vs migrate_sha256" % (mib, mib)
    R.ratio_row(sect, "%s vs sha256sum" % hw_name, r_base, r_hw)
    R.ratio_row(sect, "%s (forced) vs sha256sum" % sw_name, r_base, r_sw)
    R.ratio_row(sect, "%s vs %s" % (hw_name, sw_name), r_sw, r_hw)

    # ---- status over a folder, nothing applied: every file hashed
    w = R.workload(n)
    files = sorted(glob.glob(os.path.join(w, "m", "*")))
    db = os.path.join(R.TMP, "sha-status.db")
    R.rm_db(db)
    sql = "SELECT count(checksum) FROM migrations('%s/m')" % w
    base = (None, lambda: R.timed(["sha256sum"] + files))
    hw = (None, lambda: R.timed(hw_env + R.shell(db, sql)))
    sw = (None, lambda: R.timed(sw_env + R.shell(db, sql)))
    r_base, r_hw, r_sw = R.compare(base, hw, reps, sw)
    size = sum(os.path.getsize(f) for f in files) / 1e6
    sect = "status of %s files (%.0f MB), nothing applied, vs sha256sum dir/*" % (
        "{:,}".format(len(files)), size)
    R.ratio_row(sect, "%s vs sha256sum" % hw_name, r_base, r_hw)
    R.ratio_row(sect, "%s (forced) vs sha256sum" % sw_name, r_base, r_sw)
    R.ratio_row(sect, "%s vs %s" % (hw_name, sw_name), r_sw, r_hw)
    R.rm_db(db)
