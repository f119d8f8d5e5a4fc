# smoke.tcl — sourced by platform.test and cross/cross.test: run test/smoke.c
# (however it was built) in a fresh folder, and what every build must print.

# smoke_run DIR CMD...: CMD run inside DIR, made fresh with an empty
# migrations/; its output (stderr folded in) as a list of lines, and
# "exit=<status>" last when it failed.
proc smoke_run {dir args} {
  file delete -force $dir
  file mkdir $dir/migrations
  set here [pwd]
  cd $dir
  set rc [catch {exec {*}$args 2>@1} out]
  cd $here
  set lines [split [string trimright $out \n] \n]
  if {$rc} { lappend lines "exit=[lindex $::errorCode 2]" }
  return $lines
}

# Apply two migrations, list them, back up (a second backup to the same name
# is refused: doc/guarantees.md "Backed up"), roll back, restore the copy
# (which holds no record of the rollback: its log is the copy's), and find
# each automatic backup in "backups" beside the database.
set smoke_expected [list \
  version=1 \
  apply=2 \
  {status=1:applied 2:applied} \
  backup=copy.db \
  {backup again: refused: migrate_backup: 'copy.db' already exists; a backup never replaces a file} \
  rollback=1 \
  {status=1:applied 2:pending} \
  tables=users \
  restore=copy.db \
  current=2 \
  rows=a \
  {log=backup:ok apply:ok apply:ok backup:ok restore:ok} \
  {autobackups=2 in backups/, 0 elsewhere or missing} \
]
