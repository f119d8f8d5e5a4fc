/*
** logcols.c — the columns migrate_log gained after its first layout:
**
**   set_name      the migration set of the call (NULL: the default set)
**   rows_changed  rows a migration's script inserted, updated or deleted
**   lock_wait_ms  how long its transaction waited for the write lock
**
** A migrate_log made before them is upgraded in place by the first call
** that writes a row of its own transaction: ALTER TABLE ... ADD COLUMN in
** that transaction, so the upgrade commits with the call's work or rolls
** back with it (doc/reference.md "migrate_log").  A row written outside a
** call's transaction (a failure row, migrate_backup, migrate_restore) never
** alters the table: it leaves out the columns the table does not have.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

static const struct {
  unsigned bit;
  const char *zName;
  const char *zDef;
} aLogCol[] = {
  { LOGCOL_SET,  "set_name",     "set_name TEXT" },
  { LOGCOL_ROWS, "rows_changed", "rows_changed INTEGER" },
  { LOGCOL_WAIT, "lock_wait_ms", "lock_wait_ms REAL" },
};
#define N_LOGCOL (sizeof(aLogCol)/sizeof(aLogCol[0]))

/* Which of the later columns main.migrate_log has; *pnCol: how many
** columns it has in all (0: there is no table). */
static int readColumns(sqlite3 *db, unsigned *pHas, int *pnCol){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info"
                              "('migrate_log', 'main')", -1, &p, 0);
  *pHas = 0;
  *pnCol = 0;
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    const char *zCol = (const char*)sqlite3_column_text(p, 0);
    size_t i;
    (*pnCol)++;
    for(i=0; zCol && i<N_LOGCOL; i++){
      if( sqlite3_stricmp(zCol, aLogCol[i].zName)==0 ) *pHas |= aLogCol[i].bit;
    }
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  return rc;
}

int logColumns(sqlite3 *db, unsigned *pHas){
  int nCol = 0;
  return readColumns(db, pHas, &nCol);
}

/* The later columns main.migrate_log lacks, added (in the caller's open
** transaction: they commit or roll back with it). */
int logColumnsAdd(sqlite3 *db, char **pzErr){
  unsigned has = 0;
  size_t i;
  int nCol = 0;
  int rc = readColumns(db, &has, &nCol);
  /* No table yet: the row that makes it makes it whole (history.c). */
  for(i=0; rc==SQLITE_OK && nCol>0 && i<N_LOGCOL; i++){
    char *zSql;
    if( has & aLogCol[i].bit ) continue;
    zSql = sqlite3_mprintf("ALTER TABLE main.migrate_log ADD COLUMN %s",
                           aLogCol[i].zDef);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ){
    *pzErr = sqlite3_mprintf("cannot add the columns of this release to "
                             "migrate_log: %s", sqlite3_errmsg(db));
  }
  return rc;
}
