/*
** integrity.c — the integrity_check setting: main checked by SQLite before
** a call commits (doc/reference.md "integrity_check").
**
**   SELECT migrate_config('integrity_check', 'quick');  -- PRAGMA quick_check
**   SELECT migrate_config('integrity_check', 'full');   -- PRAGMA integrity_check
**   SELECT migrate_config('integrity_check', 'off');    -- the default
**
** A problem found fails the call, which rolls back what the transaction
** holds: a database that a migration left inconsistent is never committed.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

static const char *const azMode[] = { "off", "quick", "full" };

const char *integrityModeName(int mode){
  return azMode[mode>=0 && mode<=INTEGRITY_FULL ? mode : 0];
}

int integrityModeParse(const char *z){
  int i;
  for(i=0; z && i<=INTEGRITY_FULL; i++){
    if( sqlite3_stricmp(z, azMode[i])==0 ) return i;
  }
  return -1;
}

int integrityCheck(sqlite3 *db, int mode, char **pzErr){
  const char *zPragma = mode==INTEGRITY_FULL ? "integrity_check" : "quick_check";
  char *zSql;
  sqlite3_stmt *p = 0;
  char *zFirst = 0;
  int rc, nProblem = 0;
  if( mode==INTEGRITY_OFF ) return SQLITE_OK;
  zSql = sqlite3_mprintf("PRAGMA main.%s", zPragma);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ) rc = sqlite3_step(p);
  while( rc==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(p, 0);
    if( (z==0 || sqlite3_stricmp(z, "ok")!=0) && nProblem++==0 ){
      zFirst = sqlite3_mprintf("%s", z ? z : "NULL");
      if( zFirst==0 ){ rc = SQLITE_NOMEM; break; }
    }
    rc = sqlite3_step(p);
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("PRAGMA %s could not run before the commit: %s",
                             zPragma, sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  if( rc==SQLITE_OK && nProblem ){
    /* The first problem says where to look; the count, how much is wrong
    ** (SQLite stops counting at 100). */
    *pzErr = nProblem==1
      ? sqlite3_mprintf("PRAGMA %s found a problem before the commit, so "
                        "the transaction was rolled back: %s", zPragma, zFirst)
      : sqlite3_mprintf("PRAGMA %s found %d problems before the commit, so "
                        "the transaction was rolled back; the first: %s",
                        zPragma, nProblem, zFirst);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_ERROR && *pzErr==0 ) rc = SQLITE_NOMEM;
  sqlite3_free(zFirst);
  return rc;
}
