# packages-python.tcl — sourced by packages.test and packages-noload.tcl:
# the wheel of `make python`, installed with pip (no index, no network) into
# a fresh venv of the Python given, checked by test/packages_python.py.

set ::version [string trim [read_file VERSION]]
set ::make [list make -s --no-print-directory]

# Children run without the sanitizer preload of `make sanitize`: the packages
# hold migrate.so as `make` builds it, which the preload would not check.
proc clean_exec {args} {
  exec env -u LD_PRELOAD -u PYTHONPATH -u PYTHONHOME {*}$args
}

# steps OUTPUT: the dict step -> rest of the "OK <step> <rest>" lines.
proc steps {out} {
  set steps [dict create]
  foreach line [split $out \n] {
    if {[regexp {^OK (\S+) ?(.*)$} $line -> step rest]} { dict set steps $step $rest }
  }
  return $steps
}

# step STEPS NAME OUTPUT: what the script printed for NAME, or its whole
# output when it never did (so a failure shows the error).
proc step {steps name out} {
  if {[dict exists $steps $name]} { return [dict get $steps $name] }
  return "(no OK line; output: $out)"
}

# wheel_tests PREFIX PYTHON CAN_LOAD: CAN_LOAD is whether PYTHON's sqlite3
# module has enable_load_extension ("True" or "False").
proc wheel_tests {prefix python can_load} {
  set dir [file normalize [testdir packages-$prefix]]
  set whl [clean_exec {*}$::make python]
  # A plain platform tag: the machine's operating system and processor,
  # no manylinux claim.
  do_test $prefix.1 { file tail $whl } \
    "sqlite_migrate_ext-$::version-py3-none-linux_[clean_exec uname -m].whl"

  # The same inputs give the same bytes.
  do_test $prefix.1.1 {
    set again [clean_exec $python packaging/python/build_wheel.py migrate.so $dir/again]
    expr {[read_binary $again] eq [read_binary $whl]}
  } 1

  # The wheel's RECORD lists every other file of it with its size and hash:
  # the module, the extension, METADATA, WHEEL and top_level.txt.
  do_test $prefix.1.2 {
    clean_exec $python -c {
import base64, hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
record = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")][0]
rows = [l.split(",") for l in z.read(record).decode().splitlines()]
ok = [n for n, h, size in rows if n != record and h == "sha256=" +
      base64.urlsafe_b64encode(hashlib.sha256(z.read(n)).digest()).rstrip(b"=").decode()
      and int(size) == len(z.read(n))]
print(len(z.namelist()) - 1, len(ok), *sorted(n.rsplit("/", 1)[1] for n in ok))
} $whl
  } {5 5 METADATA WHEEL __init__.py migrate.so top_level.txt}

  do_test $prefix.2 {
    clean_exec $python -m venv $dir/venv
    clean_exec $dir/venv/bin/pip install --no-index --disable-pip-version-check -q $whl
    regexp -line {^Version: (.*)$} [clean_exec $dir/venv/bin/pip show sqlite-migrate-ext] -> v
    set v
  } $::version

  file mkdir $dir/work
  set rc [catch {clean_exec $dir/venv/bin/python test/packages_python.py $dir/work 2>@1} out]
  set s [steps $out]
  do_test $prefix.3 { set rc } 0
  # Imported from the venv; the version is the VERSION file's.
  do_test $prefix.4 { step $s import $out } "True $::version"
  do_test $prefix.5 { step $s can_load_extensions $out } $can_load
  do_test $prefix.6 { step $s path $out } {True True migrate.so sqlite3_migrate_init}
  do_test $prefix.7 { step $s load $out } "None $::version"
  # 002 called app_upper(), defined on the connection before load():
  # migrate ran on that very connection.
  do_test $prefix.8 { step $s apply $out } {2 1:applied 2:applied ADA}
  do_test $prefix.9 { step $s rollback $out } {1 0}
  # Loading again keeps the connection's settings.
  do_test $prefix.10 { step $s twice $out } {off}
  # load() leaves extension loading off on the connection.
  do_test $prefix.11 { step $s loading_off $out } {OperationalError: not authorized}
  # A connection open before load() and one opened after it have no migrate.
  do_test $prefix.12 { step $s others $out } [join [lrepeat 2 \
    {OperationalError: no such function: migrate_version}] { | }]
  # From another thread: refused with the sqlite3 module's own error.
  do_test $prefix.13 { step $s thread $out } {ProgrammingError True}
  do_test $prefix.14 { step $s closed $out } \
    {ProgrammingError: Cannot operate on a closed database.}
  do_test $prefix.15 { step $s not_connection $out } \
    {TypeError: load() takes a sqlite3.Connection, not str}
  # Only the way without enable_load_extension reads handles; read from the
  # wrong place, they are refused before any is used.
  do_test $prefix.15.1 { step $s layout_mismatch $out } [expr {$can_load ? "no error | no error" :
    "NotSupportedError: sqlite_migrate_ext: this Python's sqlite3 module cannot load extensions and its connections do not keep their SQLite handle where CPython's do; use a Python built with --enable-loadable-sqlite-extensions | OperationalError: no such function: migrate_version"}]
  do_test $prefix.16 { step $s close $out } {}

  # The database it left reads the same from Tcl.
  sqlite3 pkgdb $dir/work/app.db
  do_test $prefix.17 {
    pkgdb eval {SELECT action || ':' || version FROM migrate_log
                WHERE action IN ('apply', 'rollback') ORDER BY id}
  } {apply:1 apply:2 rollback:2}
  pkgdb close
}
