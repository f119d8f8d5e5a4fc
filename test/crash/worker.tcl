# worker.tcl — the process the crash test kills (test/crash/driver.tcl).
#
#   tclsh test/crash/worker.tcl DB ATOMIC OP ARG
#
# Opens DB with foreign keys on (so table rebuilds go through the
# foreign-key procedure) and a 5 s busy timeout, loads the extension
# ($MIGRATE_LIB or ./migrate.so), sets migrate_config('atomic', ATOMIC),
# prints "go" and runs one call:
#
#   apply DIR       SELECT migrate_apply(DIR)
#   rollback N      SELECT migrate_rollback(N)
#   backup PATH     SELECT migrate_backup(PATH)
#   restore PATH    SELECT migrate_restore(PATH)
#
# then prints "done RESULT MICROSECONDS" (or "error MESSAGE MICROSECONDS":
# the length of the call) and exits. The driver sends SIGKILL at a random
# moment between "go" and the end of the call.

source [file join [file dirname [file dirname [info script]]] tester.tcl]
lassign $argv dbfile atomic op arg

sqlite3 db $dbfile
db timeout 5000
db eval {PRAGMA foreign_keys = ON}
load_migrate db
db eval {SELECT migrate_config('atomic', $atomic)}
puts go
flush stdout

set t0 [clock microseconds]
set rc [catch {
  switch -- $op {
    apply    { db eval {SELECT migrate_apply($arg)} }
    rollback { db eval {SELECT migrate_rollback(CAST($arg AS INTEGER))} }
    backup   { db eval {SELECT migrate_backup($arg)} }
    restore  { db eval {SELECT migrate_restore($arg)} }
    default  { error "unknown operation $op" }
  }
} res]
puts [list [expr {$rc ? "error" : "done"}] $res [expr {[clock microseconds] - $t0}]]
flush stdout
db close
exit 0
