# driver.tcl — kills migrate calls with SIGKILL and checks what is left.
# Sourced by test/crash.test after tester.tcl; see that file for how to run.
#
# A case is one call (apply, rollback, backup or restore) in one journal mode
# (delete or wal), with atomic on or off. For each kill:
#
#   1. the database is a copy of the case's starting file (built once);
#   2. test/crash/worker.tcl opens it, prints "go" and runs the call; after a
#      delay drawn uniformly over the measured length of an uninterrupted
#      call (the median of the last three measured), or for one kill in four
#      over its last 15 %, it gets SIGKILL;
#   3. a fresh connection opens the file (SQLite recovers it), and:
#      PRAGMA integrity_check is ok; the journal mode is the case's; the
#      fingerprint (schema, user_version, every row, the history) is exactly
#      one of the states the call may leave (atomic: its start or its end;
#      atomic off: the state after any number k of its migrations);
#      migrate_log agrees with migrate_history; in the backup folder every
#      file whose name looks complete opens, passes integrity_check, is a
#      self-contained rollback-journal file and holds exactly the state the
#      call started from, and every other file has a temporary name;
#   4. the call runs again, to completion: it reports the work that was
#      left, and the database is in the call's final state, checked as above.
#
# The states are fingerprinted once, before any kill: the state after k
# migrations for k = 0..N (applying one more at a time) and after k
# rollbacks, on a connection with foreign keys off, so that a call that got
# the foreign-key procedure wrong in the worker would not match them.

source [file join [file dirname [info script]] migrations.tcl]

# ---- fingerprints -------------------------------------------------------------

# What a consistent state is made of: user_version, the schema, and the rows
# of every table, dumped with quote() in a fixed order (by the columns, so
# rowids do not count unless they are a column) and summed up as row count,
# length, CRC-32 and Adler-32 of the dump. The result is a readable string;
# two states are the same when the strings are. migrate_log is left out (an
# audit trail with times in it; crash_log_check compares it with the
# history), and so are the history's applied_at and duration_ms, and its
# file_stat column and index: a cache of the files' stats that a call with
# nothing to do may add (doc/guarantees.md "Changed files").
proc crash_fingerprint {db} {
  set parts [list user_version [$db onecolumn {PRAGMA user_version}]]
  set schema [$db eval {
    SELECT type, name, tbl_name,
           CASE WHEN name = 'migrate_history'
                THEN replace(sql, char(10) || ', file_stat TEXT)', char(10) || ')')
                ELSE sql END
    FROM sqlite_schema
    WHERE tbl_name <> 'migrate_log' AND name <> 'migrate_idx_history'
    ORDER BY type, name
  }]
  lappend parts schema [crash_digest $schema]
  foreach t [$db eval {
    SELECT name FROM sqlite_schema
    WHERE type = 'table' AND name <> 'migrate_log' ORDER BY name
  }] {
    if {$t eq "migrate_history"} {
      set cols {version name checksum up down}
    } else {
      set cols [$db eval {SELECT name FROM pragma_table_info($t) ORDER BY cid}]
    }
    set cols [lmap c $cols { string cat \" [string map {\" \"\"} $c] \" }]
    set row [join [lmap c $cols { string cat quote( $c ) }] "||','||"]
    set q "\"[string map {\" \"\"} $t]\""
    set dump [$db onecolumn "
      SELECT group_concat(r, char(10)) FROM
        (SELECT $row AS r FROM $q ORDER BY [join $cols ,], r)
    "]
    lappend parts $t [$db onecolumn "SELECT count(*) FROM $q"] [crash_digest $dump]
  }
  return $parts
}

# Length, CRC-32 and Adler-32 of a string's UTF-8 bytes.
proc crash_digest {text} {
  set b [encoding convertto utf-8 $text]
  return [format %d/%08x/%08x [string length $b] [zlib crc32 $b] [zlib adler32 $b]]
}

# "" when migrate_log and migrate_history agree, else what is wrong: every
# version applied and not rolled back (per the log's ok rows) is in the
# history, and nothing else is.
proc crash_log_check {db} {
  set hist [list]
  if {[$db exists {SELECT 1 FROM sqlite_schema WHERE name = 'migrate_history'}]} {
    set hist [$db eval {SELECT version FROM migrate_history ORDER BY version}]
  }
  set logged [list]
  if {[$db exists {SELECT 1 FROM sqlite_schema WHERE name = 'migrate_log'}]} {
    set bad [$db eval {
      SELECT version, net FROM (
        SELECT version, sum(action = 'apply') - sum(action = 'rollback') AS net
        FROM migrate_log
        WHERE outcome = 'ok' AND action IN ('apply', 'rollback')
        GROUP BY version)
      WHERE net NOT IN (0, 1)
    }]
    if {[llength $bad]} { return "migrate_log counts (version net): $bad" }
    set logged [$db eval {
      SELECT version FROM migrate_log
      WHERE outcome = 'ok' AND action IN ('apply', 'rollback')
      GROUP BY version
      HAVING sum(action = 'apply') - sum(action = 'rollback') = 1
      ORDER BY version
    }]
  }
  if {$logged ne $hist} {
    return "migrate_log says applied {$logged}, migrate_history has {$hist}"
  }
  return ""
}

# ---- files ------------------------------------------------------------------

proc crash_rm_db {file} {
  foreach s {"" -wal -shm -journal} { file delete -force $file$s }
}

# The automatic and manual backup names of ext/backup.c for a database
# named app.db, and its temporary names (<final name>.migrate-tmp-XXXXXXXX).
set crash_auto_re {^app-\d{8}-\d{6}-\d{3}(-\d+)?\.auto\.db$}
set crash_manual_re {^app-\d{8}-\d{6}-\d{3}(-\d+)?\.db$}
set crash_temp_re {\.migrate-tmp-[0-9a-f]{8}(-journal)?$}

# Check the backup folder; FPS are the fingerprints a complete backup may
# hold. Returns a list of problems, empty when all is well.
proc crash_check_backups {dir fps} {
  global crash_auto_re crash_manual_re crash_temp_re
  set problems [list]
  foreach path [lsort [glob -nocomplain -directory $dir *]] {
    set name [file tail $path]
    if {[regexp $crash_temp_re $name]} continue
    if {![regexp $crash_auto_re $name] && ![regexp $crash_manual_re $name]} {
      lappend problems "unexpected file in the backup folder: $name"
      continue
    }
    # Complete-looking: it must be complete. A file checked already (same
    # name, size and time) is not read again.
    file stat $path st
    set key [list $path $st(size) $st(mtime) $st(ino)]
    if {[info exists ::crash_checked] && [lindex $::crash_checked 0] eq $key
        && [lindex $::crash_checked 1] in $fps} continue
    set fd [open $path rb]
    set head [read $fd 20]
    close $fd
    binary scan $head a16x2cc magic wr rd
    if {![info exists rd] || $magic ne "SQLite format 3\0"} {
      lappend problems "$name: not a SQLite database header"
      continue
    }
    if {$wr != 1 || $rd != 1} {
      lappend problems "$name: header bytes 18, 19 are $wr, $rd (not a self-contained rollback-journal file)"
    }
    if {[catch {
      sqlite3 crashbk $path -readonly 1
      set ic [crashbk eval {PRAGMA integrity_check}]
      set fp [crash_fingerprint crashbk]
    } msg]} {
      catch {crashbk close}
      lappend problems "$name: cannot be read: $msg"
      continue
    }
    crashbk close
    if {$ic ne "ok"} {
      lappend problems "$name: integrity_check: [string range $ic 0 200]"
    } elseif {$fp ni $fps} {
      lappend problems "$name: holds a state that is not the one the call started from"
    } else {
      set ::crash_checked [list $key $fp]
    }
  }
  return $problems
}

# ---- the database after a kill -------------------------------------------------

# Open FILE afresh and check it: returns {problems fingerprint}.
proc crash_check_db {file mode} {
  set problems [list]
  set fp ""
  if {[catch {
    sqlite3 crashdb $file
    crashdb timeout 5000
    set ic [crashdb eval {PRAGMA integrity_check}]
    if {$ic ne "ok"} {
      lappend problems "integrity_check: [string range $ic 0 200]"
    }
    set jm [crashdb onecolumn {PRAGMA journal_mode}]
    if {$jm ne $mode} { lappend problems "journal_mode is $jm, not $mode" }
    set fp [crash_fingerprint crashdb]
    set log [crash_log_check crashdb]
    if {$log ne ""} { lappend problems $log }
  } msg]} {
    lappend problems "cannot check the database: $msg"
  }
  catch {crashdb close}
  return [list $problems $fp]
}

# Run the case's call again on a connection of our own, to completion.
proc crash_rerun {file c} {
  sqlite3 crashdb $file
  crashdb timeout 5000
  crashdb eval {PRAGMA foreign_keys = ON}
  load_migrate crashdb
  set atomic [dict get $c atomic]
  crashdb eval {SELECT migrate_config('atomic', $atomic)}
  set arg [dict get $c arg]
  set rc [catch {
    switch -- [dict get $c op] {
      apply    { crashdb eval {SELECT migrate_apply($arg)} }
      rollback { crashdb eval {SELECT migrate_rollback(CAST($arg AS INTEGER))} }
      backup   { crashdb eval {SELECT migrate_backup($arg)} }
      restore  { crashdb eval {SELECT migrate_restore($arg)} }
    }
  } res]
  crashdb close
  if {$rc} { error "running the call again failed: $res" }
  return $res
}

# ---- building the starting points ------------------------------------------------

# Open FILE as crashdb with the extension loaded and no automatic backup.
proc crash_open {file} {
  sqlite3 crashdb $file
  load_migrate crashdb
  crashdb eval {SELECT migrate_config('backup', 'off')}
}

# The same on a fresh copy of SRC made at DST.
proc crash_open_copy {src dst} {
  crash_rm_db $dst
  file copy $src $dst
  crash_open $dst
}

# crash_setup WORKDIR ROWS ?EVERY?: write the migration set, build the
# starting files and fingerprint every consistent state (with EVERY 0, only
# the first and last: the cases with atomic off are then left out). Fills
# the global array crash.
proc crash_setup {work rows {every 1}} {
  global crash
  set crash(every) $every
  if {![info exists crash(modes)]} { set crash(modes) {delete wal} }
  file delete -force $work
  file mkdir $work
  set crash(work) [file normalize $work]
  set crash(rows) $rows
  set crash(dir) $crash(work)/migrations
  set crash(n) [crash_write_migrations $crash(dir) $rows]
  set n $crash(n)

  # S0: the application's database before the first migration.
  set s0 $crash(work)/start-delete.db
  sqlite3 crashdb $s0
  crashdb eval {
    PRAGMA journal_mode = DELETE;
    CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
    INSERT INTO notes(body) VALUES ('kept through everything'), ('and this');
  }
  # 1 MB the application had before: copies (backups, restores) take a
  # good share of each call even when the migrated tables are small.
  crashdb eval {
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<250)
    INSERT INTO notes(body) SELECT printf('%d:%.4000c', i, 'x') FROM c;
  }
  crashdb close

  # The states after 0..N migrations, applied one at a time (with EVERY 0,
  # only the first and the last: enough for the cases with atomic on).
  set work $crash(work)/states.db
  crash_open_copy $s0 $work
  set crash(apply) [list [crash_fingerprint crashdb]]
  set versions [lsort -integer [lmap f [glob -directory $crash(dir) *.sql] {
    scan [file tail $f] %d
  }]]
  foreach v [lrange $versions 0 end-1] {
    if {$every} {
      crashdb eval {SELECT migrate_apply($crash(dir), $v)}
      lappend crash(apply) [crash_fingerprint crashdb]
    } else {
      lappend crash(apply) "not computed: after $v"
    }
  }
  crashdb close
  # SN: every migration applied, in one call; the same as one at a time.
  set sn $crash(work)/end-delete.db
  crash_rm_db $sn
  if {$every} {
    file rename $work $sn
  } else {
    file copy $s0 $sn
  }
  crash_open $sn
  set got [crashdb eval {SELECT migrate_apply($crash(dir))}]
  lappend crash(apply) [crash_fingerprint crashdb]
  crashdb close
  if {$got != ($every ? 1 : $n)} {
    error "the last migration did not apply: $got"
  }
  set one $crash(work)/one-call.db
  crash_open_copy $s0 $one
  set got [crashdb eval {SELECT migrate_apply($crash(dir))}]
  set fp [crash_fingerprint crashdb]
  crashdb close
  crash_rm_db $one
  if {$got != $n || $fp ne [lindex $crash(apply) end]} {
    error "the migration set does not give the same state in one call ($got of $n)"
  }
  # The states after 0..N rollbacks, one at a time, from SN.
  crash_open_copy $sn $work
  set crash(rollback) [list [crash_fingerprint crashdb]]
  if {$every} {
    for {set k 1} {$k <= $n} {incr k} {
      crashdb eval {SELECT migrate_rollback(1)}
      lappend crash(rollback) [crash_fingerprint crashdb]
    }
  } else {
    for {set k 1} {$k < $n} {incr k} {
      lappend crash(rollback) "not computed: after $k rollbacks"
    }
    crashdb eval {SELECT migrate_rollback($n)}
    lappend crash(rollback) [crash_fingerprint crashdb]
  }
  crashdb close
  crash_rm_db $work
  if {[llength [lsort -unique $crash(apply)]] != $n + 1} {
    error "two states after different numbers of migrations look the same"
  }

  # The same two files in WAL mode (closing the last connection checkpoints
  # and removes the -wal: each is one file, to copy as it is).
  foreach which {start end} {
    set f $crash(work)/$which-wal.db
    file copy $crash(work)/$which-delete.db $f
    sqlite3 crashdb $f
    crashdb eval {PRAGMA journal_mode = WAL}
    crashdb close
  }
  # Files to restore from: plain copies of S0 and SN, outside the backup
  # folder.
  file copy $s0 $crash(work)/restore-start.db
  file copy $sn $crash(work)/restore-end.db
}

# The cases: name, call, argument, atomic, starting file, acceptable states
# after a kill, the final state, the state complete backups may hold.
proc crash_cases {} {
  global crash
  set A $crash(apply)
  set R $crash(rollback)
  set s0 [lindex $A 0]
  set sn [lindex $A end]
  set n $crash(n)
  set cases [list]
  foreach mode $crash(modes) {
    set db $crash(work)/$mode/app.db
    set bk $crash(work)/$mode/backups
    foreach {name op arg atomic start accept final} [list \
        apply            apply    $crash(dir) on  start [list $s0 $sn] $sn \
        apply-nonatomic  apply    $crash(dir) off start $A             $sn \
        rollback         rollback $n          on  end   [list $sn [lindex $R end]] [lindex $R end] \
        rollback-nonatomic rollback $n        off end   $R             [lindex $R end] \
        backup           backup   $bk/        on  end   [list $sn]     $sn \
        restore-new      restore  $crash(work)/restore-end.db   on start [list $s0 $sn] $sn \
        restore-old      restore  $crash(work)/restore-start.db on end   [list $sn $s0] $s0 \
    ] {
      if {$atomic eq "off" && !$crash(every)} continue
      lappend cases [dict create name $name mode $mode op $op arg $arg \
        atomic $atomic base $crash(work)/$start-$mode.db db $db backups $bk \
        accept $accept final $final from [lindex $accept 0]]
    }
  }
  return $cases
}

# ---- one run of the call -------------------------------------------------------

# A fresh copy of the case's starting file and an empty backup folder.
proc crash_prepare {c} {
  set db [dict get $c db]
  crash_rm_db $db
  file delete -force [dict get $c backups]
  file mkdir [dict get $c backups]
  file copy [dict get $c base] $db
}

# Start the worker on the case; returns its channel once it has said "go".
proc crash_spawn {c} {
  global crash
  set cmd [list $crash(tclsh) test/crash/worker.tcl [dict get $c db] \
               [dict get $c atomic] [dict get $c op] [dict get $c arg]]
  set chan [open |[list {*}$cmd 2>@1] r]
  set line [gets $chan]
  if {$line ne "go"} {
    append line [read $chan]
    catch {close $chan}
    error "the worker did not start: $line"
  }
  return $chan
}

# Wait for the worker to end; returns {killed output}. killed is 1 when
# SIGKILL ended it, 0 when it exited by itself.
proc crash_reap {chan} {
  set out [read $chan]
  if {![catch {close $chan} msg opts]} { return [list 0 $out] }
  set code [dict get $opts -errorcode]
  if {[lindex $code 0] eq "CHILDKILLED" && [lindex $code 2] eq "SIGKILL"} {
    return [list 1 $out]
  }
  error "the worker ended badly: $msg $out"
}

# The length in microseconds of the call, as the worker said it (its last
# line: done RESULT MICROSECONDS), or "" when it did not say.
proc crash_length {out} {
  set last [lindex [split [string trim $out] \n] end]
  if {[catch {lindex $last 2} t] || ![string is integer -strict $t]} { return "" }
  return $t
}

# The call uninterrupted: returns its length in microseconds.
proc crash_time {c} {
  crash_prepare $c
  set chan [crash_spawn $c]
  lassign [crash_reap $chan] killed out
  if {[lindex $out 0] ne "done"} { error "the call failed: $out" }
  return [crash_length $out]
}

# The kill window: the median of the last three lengths measured.
proc crash_window {times} {
  return [lindex [lsort -integer [lrange $times end-2 end]] 1]
}

# The call, killed DELAY microseconds after "go". Returns {killed output}.
proc crash_kill {c delay} {
  crash_prepare $c
  set chan [crash_spawn $c]
  set t0 [clock microseconds]
  set ms [expr {int($delay / 1000)}]
  if {$ms > 1} { after [expr {$ms - 1}] }
  # The last millisecond by the clock, for a finer moment than after's.
  while {[clock microseconds] - $t0 < $delay} {}
  crash_signal [pid $chan]
  return [crash_reap $chan]
}

# SIGKILL to PID, through a shell started once whose kill is a builtin: a
# fork and exec of kill(1) each time would add milliseconds to the moment.
proc crash_signal {pid} {
  global crash
  if {![info exists crash(killer)]} {
    set crash(killer) [open {|sh -c {while read p; do kill -9 "$p"; done}} w]
  }
  puts $crash(killer) $pid
  flush $crash(killer)
}

# ---- the checks after it -------------------------------------------------------

# A state's name for messages: "after 7 of 60 migrations", "not a known state".
proc crash_state_name {fp} {
  global crash
  set k [lsearch -exact $crash(apply) $fp]
  if {$k >= 0} { return "the state after $k of $crash(n) migrations" }
  set k [lsearch -exact $crash(rollback) $fp]
  if {$k >= 0} { return "the state after $k of $crash(n) rollbacks" }
  return "no consistent state"
}

# What the call must report when it runs again from state FP.
proc crash_expected_result {c fp} {
  global crash
  switch -- [dict get $c op] {
    apply    { return [expr {$crash(n) - [lsearch -exact $crash(apply) $fp]}] }
    rollback { return [expr {$crash(n) - [lsearch -exact $crash(rollback) $fp]}] }
    restore  { return [dict get $c arg] }
    backup   { return "" }
  }
}

# Everything checked after a kill (or an uninterrupted run): returns the
# list of problems found, empty when every guarantee held.
proc crash_verify {c} {
  set db [dict get $c db]
  set mode [dict get $c mode]
  set bk [dict get $c backups]
  # Only the database's own files and the backup folder beside it.
  set problems [list]
  foreach f [glob -nocomplain -directory [file dirname $db] *] {
    set t [file tail $f]
    if {$t ni {app.db app.db-journal app.db-wal app.db-shm backups}} {
      lappend problems "unexpected file beside the database: $t"
    }
  }
  lassign [crash_check_db $db $mode] p fp
  lappend problems {*}$p
  if {$fp eq ""} { return $problems }
  set ::crash(landed) [expr {$fp eq [dict get $c from] ? "start" :
                             $fp eq [dict get $c final] ? "end" : "between"}]
  if {$fp ni [dict get $c accept]} {
    lappend problems "after the kill the database holds [crash_state_name $fp]"
    return $problems
  }
  lappend problems {*}[crash_check_backups $bk [list [dict get $c from]]]

  # Running the call again reaches the final state.
  set expect [crash_expected_result $c $fp]
  if {[catch {crash_rerun $db $c} res]} {
    lappend problems $res
    return $problems
  }
  if {[dict get $c op] eq "backup"} {
    if {![regexp $::crash_manual_re [file tail $res]]} {
      lappend problems "migrate_backup returned $res"
    }
  } elseif {$res ne $expect} {
    lappend problems "running the call again returned $res, not $expect"
  }
  lassign [crash_check_db $db $mode] p fp2
  lappend problems {*}$p
  if {$fp2 ne "" && $fp2 ne [dict get $c final]} {
    lappend problems "after running the call again the database holds [crash_state_name $fp2]"
  }
  # A file reported after the kill is not reported again.
  foreach p [crash_check_backups $bk [list [dict get $c from] $fp]] {
    if {$p ni $problems} { lappend problems $p }
  }
  return $problems
}

# ---- the run ---------------------------------------------------------------------

# crash_run KILLS ?PROGRESS?: kill every case in turn until KILLS kills have
# been made (each case gets its share). Test 2.C.0 is case C run
# uninterrupted, 2.C.K its K-th kill; each passes or fails on its own.
# Prints a line every PROGRESS kills (0: never); returns a summary dict.
proc crash_run {kills {progress 0}} {
  global crash
  set cases [crash_cases]
  set per [expr {($kills + [llength $cases] - 1) / [llength $cases]}]
  set t0 [clock milliseconds]
  set total 0
  set failed 0
  set finished 0
  set iCase 0
  foreach c $cases {
    set id "[dict get $c mode]/[dict get $c name]"
    incr iCase
    # The window: the median length of the last three calls that ran to
    # their end: three uninterrupted ones to begin with (the first one
    # checked), then one after every tenth kill and every call that ended
    # before its signal, so that the window follows the machine's load.
    set times [list]
    for {set i 1} {$i <= 3} {incr i} {
      set problems [list]
      if {[catch {
        lappend times [crash_time $c]
        if {$i == 1} { set problems [crash_verify $c] }
      } msg]} { set problems [list $msg] }
      if {[llength $problems]} {
        test_fail "2.$iCase.0 $id uninterrupted" [join $problems "; "]
      } elseif {$i == 1} {
        test_pass "2.$iCase.0 $id uninterrupted"
      }
    }
    if {[llength $times] < 3} {
      puts "$id: no kills, the call does not complete uninterrupted"
      continue
    }
    set window [crash_window $times]
    set n 0
    set nFail 0
    set nFinished 0
    set landed [dict create start 0 between 0 end 0]
    while {$n < $per} {
      if {$nFinished > 4 * $per + 100} {
        test_fail "2.$iCase.0 $id" "$nFinished calls ended before their signal"
        break
      }
      # Three kills in four at a moment uniform over the whole call. The
      # fourth is uniform over its last 15 %, where an atomic call commits:
      # over the whole call, few kills would land there.
      if {$n % 4 == 3} {
        set delay [expr {$window * (0.85 + 0.15 * rand())}]
      } else {
        set delay [expr {rand() * $window}]
      }
      unset -nocomplain crash(landed)
      if {[catch {
        lassign [crash_kill $c $delay] killed out
        set problems [crash_verify $c]
        # Before the signal the call may only have succeeded, or said nothing.
        if {[string match error* $out]} {
          lappend problems "the call failed: $out"
        }
      } msg]} {
        set killed 1
        set problems [list $msg]
      }
      if {!$killed} {
        # It finished before the signal: checked all the same, not counted.
        incr finished
        incr nFinished
        if {[llength $problems]} {
          test_fail "2.$iCase.0 $id finished before the signal" [join $problems "; "]
        }
        set t [crash_length $out]
        if {$t ne ""} {
          lappend times $t
          set window [crash_window $times]
        }
        continue
      }
      incr n
      incr total
      if {$n % 10 == 0 && ![catch {crash_time $c} t] && $t ne ""} {
        lappend times $t
        set window [crash_window $times]
      }
      if {[info exists crash(landed)]} { dict incr landed $crash(landed) }
      unset -nocomplain crash(landed)
      set name [format "2.%d.%d %s killed at %.1f ms" $iCase $n $id \
                    [expr {$delay / 1000.0}]]
      if {[llength $problems]} {
        incr nFail
        incr failed
        test_fail $name [join $problems "; "]
      } else {
        test_pass $name
      }
      if {$progress && $total % $progress == 0} {
        puts [format "%d kills, %d failed, %d s" $total $failed \
                  [expr {([clock milliseconds] - $t0) / 1000}]]
        flush stdout
      }
    }
    puts [format "%-26s %5d kills (start %d, between %d, end %d), %d failed; call %.1f ms, %d ended before the signal" \
              $id $n {*}[dict values $landed] $nFail \
              [expr {$window / 1000.0}] $nFinished]
    flush stdout
  }
  return [dict create kills $total failed $failed finished $finished \
              seconds [expr {([clock milliseconds] - $t0) / 1000.0}]]
}
