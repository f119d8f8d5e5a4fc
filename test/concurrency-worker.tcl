# concurrency-worker.tcl — one child process of concurrency.test.
#
#   tclsh test/concurrency-worker.tcl DB START CONFIG SQL
#
# Opens DB with a 5 s busy timeout, loads the extension, applies CONFIG (a
# list of migrate_config key value pairs), says "ready", waits until the file
# START exists, runs SQL once and prints "ok RESULT" or "error MESSAGE".

source [file join [file dirname [info script]] tester.tcl]
lassign $argv dbfile start config sql

sqlite3 db $dbfile
db timeout 5000
load_migrate db
foreach {key value} $config {
  db eval { SELECT migrate_config($key, $value) }
}
puts ready
flush stdout

# All workers start at the same moment: when the parent creates START.
while {![file exists $start]} { after 1 }

if {[catch {db eval $sql} res]} {
  puts [list error $res]
} else {
  puts [list ok {*}$res]
}
flush stdout
db close
exit 0
