/*
** conn.c — the connection: opened as the command needs it, migrate
** registered on it by the program itself (so it works where extensions
** cannot be loaded), the settings the flags ask for, and running one
** statement with its error reported as SQLite gives it.
**
** With --print-sql nothing is opened: each statement is printed instead of
** run, so the output is exactly the SQL a user would type.
*/
#include "cli.h"
#include "sqlite3_migrate.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Whether zPath names no file at all (not: one that cannot be read).
** SQLite's ":memory:" is none, on every system (Windows refuses the name
** with another errno). */
static int fileIsMissing(const char *zPath){
  FILE *f;
  if( strcmp(zPath, ":memory:")==0 ) return 1;
  f = fopen(zPath, "rb");
  if( f ){ fclose(f); return 0; }
  return errno==ENOENT;
}

/* Opens p->db for p->pCmd.  A read-only command on a database file that
** does not exist reads an empty database (an in-memory one) rather than
** creating the file: nothing is applied there yet.  CLI_OK or CLI_ERROR. */
int cliOpen(Cli *p){
  int eOpen = p->pCmd->eOpen;
  int flags;
  int rc;
  char *zErr = 0;
  const char *zPath = p->zDb;
  if( p->bDryRun ) eOpen = OPEN_READ;
  /* new --from diffs the database's schema (read only); without -d, an
  ** empty one: the first migration of a project makes the whole schema. */
  if( p->zFrom && zPath ) eOpen = OPEN_READ;
  if( eOpen==OPEN_NONE ) zPath = ":memory:";
  switch( eOpen ){
    case OPEN_READ:   flags = SQLITE_OPEN_READONLY; break;
    case OPEN_WRITE:  flags = SQLITE_OPEN_READWRITE; break;
    default:          flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
  }
  if( eOpen==OPEN_READ && fileIsMissing(zPath) ){
    zPath = ":memory:";
    flags = SQLITE_OPEN_READWRITE;
  }
  rc = sqlite3_open_v2(zPath, &p->db, flags, 0);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "sqlite-migrate: cannot open '%s': %s\n", p->zDb,
            p->db ? sqlite3_errmsg(p->db) : sqlite3_errstr(rc));
    return CLI_ERROR;
  }
  /* Registered on this connection only, as `.load migrate` would. */
  rc = sqlite3_migrate_init(p->db, &zErr, 0);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "sqlite-migrate: %s\n", zErr ? zErr : sqlite3_errstr(rc));
    sqlite3_free(zErr);
    return CLI_ERROR;
  }
  return CLI_OK;
}

void cliClose(Cli *p){
  if( p->db ) sqlite3_close(p->db);
  p->db = 0;
}

/* Prints on stdout unless -q. */
void cliOut(const Cli *p, const char *zFmt, ...){
  va_list ap;
  if( p->bQuiet ) return;
  va_start(ap, zFmt);
  vprintf(zFmt, ap);
  va_end(ap);
}

/* A whole number, optionally signed: passed to SQL as a number, not text. */
int cliIsNumber(const char *z){
  if( *z=='-' || *z=='+' ) z++;
  if( *z==0 || strlen(z)>18 ) return 0;
  for(; *z; z++){
    if( *z<'0' || *z>'9' ) return 0;
  }
  return 1;
}

/* Runs zSql (one statement), calling xRow for each row.  With --print-sql,
** prints it instead.  An error is printed on stderr exactly as SQLite gives
** it.  CLI_OK, CLI_ERROR, or what xRow returned when not CLI_OK. */
int cliQuery(Cli *p, const char *zSql, CliRowFunc xRow, void *pArg){
  sqlite3_stmt *pStmt = 0;
  int rc, rcRow = CLI_OK;
  if( zSql==0 ){
    fprintf(stderr, "sqlite-migrate: out of memory\n");
    return CLI_ERROR;
  }
  if( p->bPrintSql ){
    printf("%s;\n", zSql);
    return CLI_OK;
  }
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    if( xRow && rcRow==CLI_OK ) rcRow = xRow(p, pStmt, pArg);
    rc = SQLITE_OK;
  }
  if( rc!=SQLITE_DONE && rc!=SQLITE_OK ){
    fprintf(stderr, "%s\n", sqlite3_errmsg(p->db));
    sqlite3_finalize(pStmt);
    return CLI_ERROR;
  }
  sqlite3_finalize(pStmt);
  return rcRow;
}

static int oneValueRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  char **pz = (char**)pArg;
  (void)p;
  if( sqlite3_column_type(pStmt, 0)!=SQLITE_NULL ){
    sqlite3_free(*pz);
    *pz = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pStmt, 0));
    if( *pz==0 ) return CLI_ERROR;
  }
  return CLI_OK;
}

/* Runs zSql, whose one row has one value: *pzOut is it as text (free with
** sqlite3_free), or NULL when it is NULL (*pbNull set). */
int cliOneValue(Cli *p, const char *zSql, char **pzOut, int *pbNull){
  int rc;
  *pzOut = 0;
  rc = cliQuery(p, zSql, oneValueRow, pzOut);
  if( pbNull ) *pbNull = (*pzOut==0);
  return rc;
}

/* The settings the flags ask for, each one migrate_config call (or the
** PRAGMA for --timeout), in a fixed order, before the command's call. */
int cliSettings(Cli *p){
  int rc = CLI_OK, i;
  int bWrites = p->pCmd->eOpen==OPEN_WRITE || p->pCmd->eOpen==OPEN_CREATE;
  char *zSql;
  if( p->pCmd->eOpen==OPEN_NONE ) return CLI_OK;
  zSql = sqlite3_mprintf("PRAGMA busy_timeout = %s", p->zTimeout);
  rc = cliQuery(p, zSql, 0, 0);
  sqlite3_free(zSql);
  /* The trace is for people at a terminal; -q silences it, --trace asks
  ** for it anywhere.  Commands that only read have nothing to trace. */
  if( rc==CLI_OK && !p->bDryRun && bWrites
   && (p->bTrace || (!p->bQuiet && cliStderrIsTerminal())) ){
    rc = cliQuery(p, "SELECT migrate_config('trace', 'on')", 0, 0);
  }
  if( rc==CLI_OK && p->bNoBackup ){
    rc = cliQuery(p, "SELECT migrate_config('backup', 'off')", 0, 0);
  }
  if( rc==CLI_OK && p->zBackupDir ){
    zSql = sqlite3_mprintf("SELECT migrate_config('backup_dir', %Q)", p->zBackupDir);
    rc = cliQuery(p, zSql, 0, 0);
    sqlite3_free(zSql);
  }
  if( rc==CLI_OK && p->zBackupKeep ){
    zSql = cliIsNumber(p->zBackupKeep)
      ? sqlite3_mprintf("SELECT migrate_config('backup_keep', %s)", p->zBackupKeep)
      : sqlite3_mprintf("SELECT migrate_config('backup_keep', %Q)", p->zBackupKeep);
    rc = cliQuery(p, zSql, 0, 0);
    sqlite3_free(zSql);
  }
  if( rc==CLI_OK && p->zSet ){
    zSql = sqlite3_mprintf("SELECT migrate_config('set', %Q)", p->zSet);
    rc = cliQuery(p, zSql, 0, 0);
    sqlite3_free(zSql);
  }
  for(i=0; rc==CLI_OK && i<p->nConfig; i++){
    const char *zEq = strchr(p->azConfig[i], '=');
    zSql = sqlite3_mprintf("SELECT migrate_config(%.*Q, %Q)",
                           (int)(zEq - p->azConfig[i]), p->azConfig[i], zEq+1);
    rc = cliQuery(p, zSql, 0, 0);
    sqlite3_free(zSql);
  }
  return rc;
}
