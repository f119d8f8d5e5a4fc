# tester.tcl — the small harness of the migrate test suite, in the shape of
# SQLite's own tester.tcl. A test file reads:
#
#   source test/tester.tcl
#   reset_db
#   do_execsql_test 1.0 { SELECT migrate_sha256('abc') } {ba7816bf...}
#   do_catchsql_test 1.1 { SELECT migrate_rollback(-1) } {1 {migrate_rollback: ...}}
#   finish_test
#
# Test files run with the project root as the working directory; relative
# paths (test/tmp/..., migrate.so) are relative to it.

package require sqlite3

# Wherever tclsh was started, work from the project root.
cd [file dirname [file dirname [file normalize [info script]]]]

set ::nPass 0
set ::nFail 0
# Failure lines name the file they come from: "FAILED apply-5.3: ...".
# A file may set its own with `testprefix NAME`.
set ::testprefix [expr {[info exists ::argv0] ? [file rootname [file tail $::argv0]] : "test"}]
proc testprefix {name} { set ::testprefix $name }
set ::verbose [expr {[info exists ::env(MIGRATE_VERBOSE)] && $::env(MIGRATE_VERBOSE)}]

# ---- recording results ----------------------------------------------------

proc test_pass {name} {
  incr ::nPass
  if {$::verbose} { puts "$name ok" }
}

proc test_fail {name msg} {
  incr ::nFail
  puts "FAILED $::testprefix-$name: $msg"
  flush stdout
}

# Compare GOT with EXPECTED; both are already normalized by the caller.
proc test_check {name expected got} {
  if {$got eq $expected} {
    test_pass $name
  } else {
    test_fail $name "expected {$expected} got {$got}"
  }
}

# ---- the test commands ----------------------------------------------------

# do_test NAME SCRIPT EXPECTED: SCRIPT runs in the caller's scope; its result
# must equal EXPECTED as a string. An error in SCRIPT is a failure.
proc do_test {name script expected} {
  if {[catch {uplevel 1 $script} got]} {
    test_fail $name "expected {$expected} got error {$got}"
    return
  }
  test_check $name $expected $got
}

# do_execsql_test NAME SQL EXPECTED: the flat list of values SQL returns.
# EXPECTED is compared as a list, so its layout (newlines, indentation)
# does not matter.
proc do_execsql_test {name sql expected} {
  if {[catch {uplevel 1 [list db eval $sql]} got]} {
    test_fail $name "expected {[list {*}$expected]} got error {$got}"
    return
  }
  test_check $name [list {*}$expected] [list {*}$got]
}

# do_catchsql_test NAME SQL EXPECTED: EXPECTED is {0 {values}} on success
# or {1 {error message}}.
proc do_catchsql_test {name sql expected} {
  set rc [catch {uplevel 1 [list db eval $sql]} res]
  if {!$rc} { set res [list {*}$res] }
  set got [list $rc $res]
  lassign $expected eRc eRes
  if {$eRc eq "0"} { set eRes [list {*}$eRes] }
  test_check $name [list $eRc $eRes] $got
}

# do_faildb_test NAME SQL ERRTEXT: SQL must fail with exactly ERRTEXT and
# leave the database and the connection exactly as they were (see
# db_fingerprint). One test, one pass or fail.
proc do_faildb_test {name sql errtext} {
  set before [db_fingerprint db]
  set rc [catch {uplevel 1 [list db eval $sql]} res]
  if {!$rc} {
    test_fail $name "expected error {$errtext} got success {$res}"
    return
  }
  if {$res ne $errtext} {
    test_fail $name "expected error {$errtext} got error {$res}"
    return
  }
  set after [db_fingerprint db]
  if {$before eq $after} {
    test_pass $name
    return
  }
  # Name the first part that changed, so the failure says what leaked.
  foreach key [lsort -unique [concat [dict keys $before] [dict keys $after]]] {
    set old [expr {[dict exists $before $key] ? [dict get $before $key] : "(none)"}]
    set new [expr {[dict exists $after $key] ? [dict get $after $key] : "(none)"}]
    if {$old ne $new} {
      test_fail $name "$key changed: expected {$old} got {$new}"
      return
    }
  }
}

# ---- the state of a database ------------------------------------------------

# db_autocommit DB: 1 when no transaction is open (sqlite3_get_autocommit()),
# which this Tcl binding does not expose. A deferred BEGIN takes no lock, so
# trying one and rolling it straight back leaves nothing behind.
proc db_autocommit {db} {
  if {[catch {$db eval BEGIN} msg]} {
    if {[string match "*within a transaction*" $msg]} { return 0 }
    error $msg
  }
  $db eval ROLLBACK
  return 1
}

# db_fingerprint ?DB?: everything a failed migrate call must leave as it was,
# as a dict: the connection's settings and transaction state, the schema, and
# the rows of every table in main. rootpage is left out (physical, not
# logical); rows are compared as a sorted set of quote()d values, so type
# changes and NULL vs '' count, rowids do not.
#
# A failed call may append a row with outcome 'failed' to migrate_log by
# design, creating the table if need be, and the row of the automatic backup
# it took before failing (the backup file exists). So those rows are left
# out, and migrate_log's schema is too: a missing migrate_log counts as an
# empty one.
# The PRAGMAs a call puts back: ext/pragmas.h, the list the extension, the
# fault host and the fuzz host use too.
proc call_pragmas {} {
  set text [read_file ext/pragmas.h]
  regexp {#define MIGRATE_PRAGMA_NAMES(.*?)\n#define} $text -> list
  return [regexp -all -inline {[a-z_]+} [string map {\\ " "} $list]]
}

proc db_fingerprint {{db db}} {
  set fp [list]
  lappend fp alive [$db onecolumn {SELECT 1}]
  lappend fp autocommit [db_autocommit $db]
  foreach p [list {*}[call_pragmas] journal_mode user_version] {
    lappend fp pragma.$p [$db onecolumn "PRAGMA $p"]
  }
  lappend fp attached [$db eval {
    SELECT name, file FROM pragma_database_list WHERE name <> 'temp' ORDER BY seq
  }]
  lappend fp schema [$db eval {
    SELECT type, name, tbl_name, sql FROM main.sqlite_schema
    WHERE tbl_name <> 'migrate_log' ORDER BY type, name
  }]
  lappend fp rows.migrate_log {}
  # Virtual tables are skipped: reading one runs its module, which may be
  # absent or have side effects; their shadow tables are real and included.
  foreach t [$db eval {
    SELECT name FROM main.sqlite_schema
    WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name
  }] {
    set cols [list]
    $db eval {SELECT name FROM pragma_table_info($t) ORDER BY cid} {
      lappend cols "quote(\"[string map {\" \"\"} $name]\")"
    }
    set sql "SELECT [join $cols ,] FROM main.\"[string map {\" \"\"} $t]\""
    switch -- $t {
      migrate_log     {
        append sql " WHERE outcome IS NOT 'failed' AND action IS NOT 'backup'"
      }
      sqlite_sequence { append sql " WHERE name IS NOT 'migrate_log'" }
    }
    set rows [list]
    set n [llength $cols]
    set flat [$db eval $sql]
    for {set i 0} {$i < [llength $flat]} {incr i $n} {
      lappend rows [lrange $flat $i [expr {$i + $n - 1}]]
    }
    dict set fp rows.$t [lsort $rows]
  }
  return $fp
}

# ---- the extension and the database ---------------------------------------

# The extension under test: $MIGRATE_LIB (make sanitize sets it) or the
# build in the project root. Absolute, because load_extension() would
# otherwise search the library path.
proc migrate_lib {} {
  if {[info exists ::env(MIGRATE_LIB)] && $::env(MIGRATE_LIB) ne ""} {
    return [file normalize $::env(MIGRATE_LIB)]
  }
  return [file normalize migrate.so]
}

# The entry point is named because SQLite would guess it from the file name,
# and migrate-asan.so would give sqlite3_migrateasan_init.
proc load_migrate {{db db}} {
  set lib [migrate_lib]
  $db enable_load_extension 1
  $db eval {SELECT load_extension($lib, 'sqlite3_migrate_init')}
}

# statof PATH: a file's stat as migrate records it (stamp.c): size,
# modification and change time in nanoseconds, inode, device (GNU stat).
# checksum_fold SUM: a checksum's text in eight 8-byte pieces XORed, as 16
# hex digits.
# file_stamp PATH SUM: the text migrate records for it and that checksum.
proc statof {path} {
  lassign [exec stat -c "%s %.9Y %.9Z %i %d" $path] size m c ino dev
  return [list $size [string map {. ""} $m] [string map {. ""} $c] $ino $dev]
}
proc checksum_fold {sum} {
  binary scan $sum cu* b
  set out ""
  for {set i 0} {$i < 8} {incr i} {
    set x 0
    for {set k 0} {$k < 8} {incr k} { set x [expr {$x ^ [lindex $b [expr {8*$k + $i}]]}] }
    append out [format %02x $x]
  }
  return $out
}
proc file_stamp {path sum} {
  lassign [statof $path] size m c ino dev
  return "2:$size:$m:$c:$ino:$dev:[checksum_fold $sum]"
}

# reset_db ?FILE?: a fresh database `db` with the extension loaded.
proc reset_db {{file test/tmp/test.db}} {
  catch {db close}
  foreach suffix {"" -wal -shm -journal} {
    file delete -force $file$suffix
  }
  file mkdir [file dirname $file]
  sqlite3 db $file
  load_migrate db
}

# ---- files ----------------------------------------------------------------

# testdir NAME: a fresh, empty directory test/tmp/NAME (relative path).
proc testdir {name} {
  set dir [file join test tmp $name]
  file delete -force $dir
  file mkdir $dir
  return $dir
}

# write_file PATH TEXT: TEXT as UTF-8 bytes, exactly: no newline added,
# no newline translation (so "\r\n" stays "\r\n").
proc write_file {path text} {
  write_binary $path [encoding convertto utf-8 $text]
}

# write_binary PATH BYTES: raw bytes (e.g. from [binary format]).
proc write_binary {path bytes} {
  file mkdir [file dirname $path]
  set fd [open $path wb]
  puts -nonewline $fd $bytes
  close $fd
}

# read_file PATH: the file's UTF-8 text, newlines untranslated.
proc read_file {path} {
  return [encoding convertfrom utf-8 [read_binary $path]]
}

proc read_binary {path} {
  set fd [open $path rb]
  set data [read $fd]
  close $fd
  return $data
}

# ---- the end ----------------------------------------------------------------

# finish_test: the closing line test/all.tcl reads, and the exit status.
proc finish_test {} {
  catch {db close}
  puts "$::nPass passed, $::nFail failed"
  flush stdout
  exit [expr {$::nFail ? 1 : 0}]
}

# ---- migrations and databases the files share --------------------------------

# mig DIR FILE UP ?DOWN? ?UPOPTS? ?DOWNOPTS?: DIR/FILE, a migration with
# -- migrate:up (and its options) and, when DOWN is not empty, -- migrate:down.
proc mig {dir file up {down {}} {upopts {}} {downopts {}}} {
  set text "-- migrate:up[expr {$upopts ne {} ? " $upopts" : {}}]\n$up\n"
  if {$down ne ""} {
    append text "-- migrate:down[expr {$downopts ne {} ? " $downopts" : {}}]\n$down\n"
  }
  write_file $dir/$file $text
}

# fresh ?FILE?: a new database (test/tmp/<file's prefix>.db by default) with
# migrate loaded and automatic backups off.
proc fresh {{file ""}} {
  if {$file eq ""} { set file test/tmp/$::testprefix.db }
  reset_db $file
  db eval { SELECT migrate_config('backup', 'off') }
}
