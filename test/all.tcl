# all.tcl — run the test suite: `make test`, or by hand from the project root:
#
#   tclsh test/all.tcl                       every test/*.test, by name
#   tclsh test/all.tcl test/sha256.test      just these (files or globs)
#   MIGRATE_VALGRIND=1 tclsh test/all.tcl    each file under valgrind
#
# Each file runs in its own tclsh, so one that crashes cannot hide the
# others. Its output is streamed; its closing line "N passed, N failed" is
# added to the total. A file that ends without that line, or exits non-zero
# although it reported no failure (a valgrind error, a crash in exit),
# counts as one failure. The last line printed is the total.

# Test files expect the project root as their working directory.
cd [file dirname [file dirname [file normalize [info script]]]]

set files [list]
set patterns [expr {$argc ? $argv : [list test/*.test]}]
foreach pat $patterns {
  # "sha256" is short for test/sha256.test.
  set found [glob -nocomplain -types f -- $pat]
  if {![llength $found]} {
    set found [glob -nocomplain -types f -- test/$pat.test]
  }
  if {![llength $found]} {
    puts stderr "all.tcl: no test file matches '$pat'"
    exit 2
  }
  lappend files {*}$found
}
set files [lsort -unique $files]

set tclsh [info nameofexecutable]
set valgrind [expr {[info exists env(MIGRATE_VALGRIND)] && $env(MIGRATE_VALGRIND) eq "1"}]

set totalPass 0
set totalFail 0
set broken [list]    ;# one line per file that did not finish cleanly

foreach file $files {
  puts "=== $file"
  flush stdout
  set cmd [list $tclsh $file]
  if {$valgrind} {
    # Only definite leaks are errors, and only they are shown: tclsh itself
    # leaves "possibly lost" blocks at exit. --keep-debuginfo names frames in
    # migrate.so, which closing the database has already unloaded.
    set cmd [list valgrind --quiet --error-exitcode=99 --leak-check=full \
                 --errors-for-leak-kinds=definite --show-leak-kinds=definite \
                 --keep-debuginfo=yes \
                 {*}$cmd]
  }
  # A file that hangs must not stall the suite: coreutils' timeout ends it
  # (10 minutes is far beyond any file's run, even under valgrind).
  if {[auto_execok timeout] ne ""} {
    set cmd [list timeout -k 10 600 {*}$cmd]
  }
  # stderr joins stdout so errors appear where they happened.
  set chan [open |[list {*}$cmd < /dev/null 2>@1] r]
  set closing ""
  while {[gets $chan line] >= 0} {
    puts $line
    flush stdout
    if {[regexp {^(\d+) passed, (\d+) failed$} $line -> p f]} {
      set closing [list $p $f]
    }
  }
  # Closing a pipe whose child failed raises an error carrying its status.
  set status 0
  if {[catch {close $chan} msg opts]} {
    set code [dict get $opts -errorcode]
    switch -- [lindex $code 0] {
      CHILDSTATUS { set status "exit status [lindex $code 2]" }
      CHILDKILLED { set status "killed by [lindex $code 2]" }
      default     { set status $msg }
    }
  }

  if {$closing eq ""} {
    incr totalFail
    lappend broken "CRASHED $file: no closing line ([expr {$status eq 0 ? {exit status 0} : $status}])"
    continue
  }
  lassign $closing p f
  incr totalPass $p
  incr totalFail $f
  if {$valgrind && $status eq "exit status 99"} {
    incr totalFail
    lappend broken "FAILED $file: valgrind reported errors"
  } elseif {$status ne 0 && $f == 0} {
    incr totalFail
    lappend broken "FAILED $file: $status after reporting no failures"
  }
}

puts ""
foreach line $broken { puts $line }
puts "$totalPass passed, $totalFail failed"
exit [expr {$totalFail ? 1 : 0}]
