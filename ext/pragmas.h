/*
** pragmas.h — the connection PRAGMAs a migrate call puts back as they were
** (doc/guarantees.md), as one list.  txn.c saves and restores them; the
** fault host (test/fault/fault.c), the fuzz host (test/fuzz/fuzz_apply.c)
** and test/tester.tcl (which reads the names from this file) compare them
** before and after a call, so a PRAGMA added here is checked everywhere.
**
** foreign_keys is first and defer_foreign_keys second: txn.c's foreign-key
** procedure reads them by position.  Kept free of SQLite headers so the
** test hosts can include it on its own.
*/
#ifndef MIGRATE_PRAGMAS_H
#define MIGRATE_PRAGMAS_H

#define MIGRATE_PRAGMA_NAMES \
  "foreign_keys", "defer_foreign_keys", "recursive_triggers", "trusted_schema", \
  "legacy_alter_table", "query_only", "reverse_unordered_selects", \
  "automatic_index", "cell_size_check", "ignore_check_constraints", \
  "synchronous", "busy_timeout", "cache_size", "temp_store", "secure_delete", \
  "fullfsync", "checkpoint_fullfsync", "count_changes", "full_column_names", \
  "short_column_names", "empty_result_callbacks", "read_uncommitted", \
  "cache_spill", "wal_autocheckpoint", "journal_size_limit", "mmap_size", \
  "analysis_limit", "threads"
#define MIGRATE_NPRAGMA 28

#endif /* MIGRATE_PRAGMAS_H */
