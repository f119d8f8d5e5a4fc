"""build_wheel.py: the Python package, a wheel, built with the standard
library alone (no network, no build backend).

    python3 packaging/python/build_wheel.py LIB OUTDIR

LIB is the built extension (migrate.so); the version is the VERSION file's.
Writes OUTDIR/sqlite_migrate_ext-VERSION-py3-none-PLATFORM.whl and prints
its path. The module uses no part of Python's C ABI (ctypes and the sqlite3
module only), hence py3-none; the extension is a binary for this machine's
operating system and processor, hence PLATFORM, from sysconfig: a plain
linux_x86_64 (or linux_aarch64) tag, which promises no more than that. Every
file of the wheel carries the same timestamp, so the same inputs give the
same bytes.
"""

import base64
import hashlib
import os
import sys
import sysconfig
import zipfile

NAME = "sqlite-migrate-ext"
MODULE = "sqlite_migrate_ext"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STAMP = (1980, 1, 1, 0, 0, 0)


def platform_tag():
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def metadata(version):
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return ("Metadata-Version: 2.1\n"
            "Name: %s\n"
            "Version: %s\n"
            "Summary: Schema migrations for SQLite, inside SQLite: the migrate "
            "extension for Python's sqlite3 module\n"
            "Requires-Python: >=3.8\n"
            "Classifier: Programming Language :: Python :: 3\n"
            "Classifier: Topic :: Database\n"
            "Description-Content-Type: text/markdown\n"
            "\n%s" % (NAME, version, readme))


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "%s,sha256=%s,%d\n" % (name, digest.decode("ascii"), len(data))


def main():
    lib, outdir = sys.argv[1], sys.argv[2]
    with open(os.path.join(ROOT, "VERSION"), encoding="utf-8") as f:
        version = f.read().strip()
    with open(os.path.join(HERE, MODULE, "__init__.py"), encoding="utf-8") as f:
        init = f.read()
    if '"@VERSION@"' not in init:
        sys.exit("build_wheel.py: no @VERSION@ in %s/__init__.py" % MODULE)
    init = init.replace('"@VERSION@"', '"%s"' % version)
    with open(lib, "rb") as f:
        so = f.read()
    tag = "py3-none-" + platform_tag()
    info = "%s-%s.dist-info" % (MODULE, version)
    files = [
        (MODULE + "/__init__.py", init.encode("utf-8")),
        (MODULE + "/migrate.so", so),
        (info + "/METADATA", metadata(version).encode("utf-8")),
        (info + "/WHEEL", ("Wheel-Version: 1.0\n"
                           "Generator: packaging/python/build_wheel.py\n"
                           "Root-Is-Purelib: false\n"
                           "Tag: %s\n" % tag).encode("ascii")),
        (info + "/top_level.txt", (MODULE + "\n").encode("ascii")),
    ]
    record = "".join(record_line(n, d) for n, d in files) + info + "/RECORD,,\n"
    files.append((info + "/RECORD", record.encode("utf-8")))

    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "%s-%s-%s.whl" % (MODULE, version, tag))
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            entry = zipfile.ZipInfo(name, STAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if name.endswith(".so") else 0o644
            entry.external_attr = (0o100000 | mode) << 16
            z.writestr(entry, data)
    os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    main()
