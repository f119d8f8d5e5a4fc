# concurrency-worker.tcl — one connection of concurrency.test, kept alive
# across rounds: either a child process or a thread of the test process.
#
#   tclsh test/concurrency-worker.tcl      a process: commands on stdin
#   source it with ::conc_thread set       a thread: commands by thread::send
#
# A process reads one command per line (a Tcl list) and answers one line:
#
#   open FILE TIMEOUT CONFIG  close the last database, open FILE with a busy
#                             timeout of TIMEOUT ms and synchronous off, load
#                             the extension, set CONFIG (migrate_config key
#                             value ...)                           -> ready
#   run SQL                   run SQL once        -> ok RESULT... | error MSG
#   loop read|write           check the invariant / write, over and over,
#                             until the next line (stop) arrives
#                                  -> ok COUNT STATES | error MSG
#   exit
#
# What a reader checks, in one statement (one read transaction): the
# migrations write pair_a first and pair_b last, and bump counter between,
# inside one transaction; so pair_a, pair_b, the history, the t<N> tables and
# counter always tell the same story. A migration seen half-applied (or
# half-rolled-back) makes them disagree.

source [file join [file dirname [info script]] tester.tcl]

set ::w_open 0

proc w_open {file timeout config} {
  if {$::w_open} { db close }
  sqlite3 db $file
  set ::w_open 1
  db timeout $timeout
  # Durability is not what is tested here, and an fsync on the test machine
  # can take 15 ms: with it every lock would be held that much longer.
  db eval { PRAGMA synchronous = OFF }
  load_migrate db
  foreach {key value} $config {
    db eval { SELECT migrate_config($key, $value) }
  }
  return ready
}

# w_run SQL: "ok RESULT..." when SQL succeeded and left the connection as it
# found it (no transaction open, busy timeout unchanged); else "error MSG".
proc w_run {sql} {
  set timeout [db onecolumn {PRAGMA busy_timeout}]
  if {[catch {db eval $sql} res]} {
    return [list error $res]
  }
  if {![db_autocommit db]} {
    return [list error "left a transaction open"]
  }
  if {[db onecolumn {PRAGMA busy_timeout}] != $timeout} {
    return [list error "busy_timeout changed"]
  }
  return [list ok {*}$res]
}

# w_check: "" when the invariant holds, else what was seen. The state seen
# (the applied versions) is added to the array ::w_states.
proc w_check {} {
  lassign [db eval {
    SELECT
      (SELECT group_concat(v, ' ') FROM (SELECT v FROM pair_a ORDER BY v)),
      (SELECT group_concat(v, ' ') FROM (SELECT v FROM pair_b ORDER BY v)),
      (SELECT group_concat(version, ' ')
         FROM (SELECT version FROM migrate_history ORDER BY version)),
      (SELECT group_concat(v, ' ') FROM (
         SELECT CAST(substr(name, 2) AS INTEGER) AS v FROM sqlite_schema
         WHERE type = 'table' AND name GLOB 't[0-9]*' ORDER BY v)),
      (SELECT n FROM counter)
  }] a b h t n
  set ::w_states($h) 1
  if {$a ne $b || $a ne $h || $a ne $t || $n != [llength $a]} {
    return "pair_a {$a} pair_b {$b} history {$h} tables {$t} counter $n"
  }
  return ""
}

# w_write ID: one write of another application, alternating an autocommit
# INSERT and a two-row BEGIN IMMEDIATE transaction. Returns rows written.
proc w_write {id i} {
  if {$i % 2} {
    db eval { INSERT INTO traffic(w) VALUES($id) }
    return 1
  }
  db eval { BEGIN IMMEDIATE }
  if {[catch {
    db eval { INSERT INTO traffic(w) VALUES($id); INSERT INTO traffic(w) VALUES($id) }
  } msg]} {
    db eval { ROLLBACK }
    error $msg
  }
  db eval { COMMIT }
  return 2
}

# w_loop KIND ID: read or write until a line arrives on stdin.
proc w_loop {kind id} {
  array unset ::w_states
  set count 0
  set err ""
  fconfigure stdin -blocking 0
  for {set i 0} {[gets stdin line] < 0 && ![eof stdin]} {incr i} {
    # Another application's traffic, not a hot loop: SQLite's busy handler
    # polls, so a connection that never pauses would starve the runners.
    after 1
    if {$err ne ""} continue
    if {$kind eq "read"} {
      if {[catch {w_check} res]} {
        set err "read failed: $res"
      } elseif {$res ne ""} {
        set err "half-applied state seen: $res"
      }
      incr count
    } else {
      if {[catch {w_write $id $i} res]} {
        set err "write failed: $res"
      } else {
        incr count $res
      }
    }
  }
  fconfigure stdin -blocking 1
  if {$err ne ""} { return [list error $err] }
  return [list ok $count [array names ::w_states]]
}

if {[info exists ::conc_thread]} return

set id [lindex $argv 0]
fconfigure stdout -buffering line
while {[gets stdin line] >= 0} {
  set args [lassign $line cmd]
  switch -- $cmd {
    open {
      if {[catch {w_open {*}$args} res]} { set res [list error $res] }
    }
    run  { set res [w_run [lindex $args 0]] }
    loop { set res [w_loop [lindex $args 0] $id] }
    exit { break }
    default { set res [list error "unknown command: $cmd"] }
  }
  puts $res
}
catch {db close}
exit 0
