/*
** verify.c — a migration's verify section: what must hold once its up
** script has run (doc/formats.md "Verify").
**
**   -- migrate:verify
**   SELECT count(*) || ' tasks have no project' FROM tasks
**    WHERE project_id NOT IN (SELECT id FROM projects) HAVING count(*) > 0;
**
** Its statements run in order, inside the migration's transaction, after
** the up script.  Any row one of them returns fails the migration, with the
** row as the message; an SQL error fails it as a script's would, with file
** and line.  Either way the caller rolls the migration back.  The verify
** only reads: what it wrote would be part of the migration without being
** part of any script the history stores, so rollback and migrate_drift
** would not know of it.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* The row a verify returned, as its message: one column as it is, more as
** "name: value, name: value" (PRAGMA foreign_key_check, say). */
static char *rowText(sqlite3_stmt *p){
  int i, n = sqlite3_column_count(p);
  sqlite3_str *s = sqlite3_str_new(0);
  for(i=0; i<n; i++){
    const char *z = (const char*)sqlite3_column_text(p, i);
    if( n>1 ){
      sqlite3_str_appendf(s, "%s%s: ", i ? ", " : "", sqlite3_column_name(p, i));
    }
    sqlite3_str_appendall(s, z ? z : "NULL");
  }
  return sqlite3_str_finish(s);
}

static int verifyRun(sqlite3 *db, const Script *pScr, const char *zFile,
                     char **pzErr){
  char *zSql = utilTextDup(pScr->z, pScr->n);
  const char *zTail, *zLineAt;
  int line = pScr->line;
  int rc = SQLITE_OK;

  if( zSql==0 ) return SQLITE_NOMEM;
  zTail = zLineAt = zSql;
  while( rc==SQLITE_OK && *zTail ){
    sqlite3_stmt *pStmt = 0;
    const char *zStart = zTail, *zNext = 0;
    char *zWhy;
    while( *(zStart = sqlSkipSpace(zStart))==';' ) zStart++;
    zWhy = scriptRefusal(db, zStart, SCRIPT_IN_TXN);
    if( zWhy==0 ){
      rc = sqlite3_prepare_v2(db, zStart, -1, &pStmt, &zNext);
      if( rc!=SQLITE_OK ){
        int off = sqlite3_error_offset(db);
        line += utilCountLines(zLineAt, off>=0 ? zStart+off : sqlSkipSpace(zStart));
        *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, sqlite3_errmsg(db));
        break;
      }
      if( pStmt==0 ) break;   /* only blanks and comments were left */
      if( !sqlite3_stmt_readonly(pStmt) ){
        zWhy = sqlite3_mprintf("a verify section only reads; this statement "
                               "writes (put it in the up script)");
        if( zWhy==0 ) rc = SQLITE_NOMEM;
      }
    }
    if( zWhy ){
      sqlite3_finalize(pStmt);
      line += utilCountLines(zLineAt, sqlSkipSpace(zStart));
      *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, zWhy);
      sqlite3_free(zWhy);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      break;
    }
    if( rc ) break;
    line += utilCountLines(zLineAt, sqlSkipSpace(zStart));
    zLineAt = sqlSkipSpace(zStart);
    zTail = zNext;
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      char *zRow = rowText(pStmt);
      *pzErr = zRow ? sqlite3_mprintf("%s:%d: verify failed: %s", zFile, line,
                                      zRow) : 0;
      sqlite3_free(zRow);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }else if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
    }else{
      *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, sqlite3_errmsg(db));
      if( *pzErr==0 ) rc = SQLITE_NOMEM;
    }
    sqlite3_finalize(pStmt);
  }
  sqlite3_free(zSql);
  return rc;
}

/* The verify section of the migration's file, or its folder's verify.sql. */
int verifyLoaded(sqlite3 *db, const Migration *m, const Loaded *pLd,
                 char **pzErr){
  Script v;
  if( pLd->verifyText ){
    formatScript(pLd->verifyText, &pLd->verify.verify, &v);
    return verifyRun(db, &v, m->verify, pzErr);
  }
  if( !pLd->up.verify.present ) return SQLITE_OK;
  formatScript(pLd->upText, &pLd->up.verify, &v);
  return verifyRun(db, &v, m->up.label, pzErr);
}
