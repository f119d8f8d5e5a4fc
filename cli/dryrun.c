/*
** dryrun.c — up --dry-run and down --dry-run: the scripts the call would
** run, each under a "-- <file>" header, read from the migrations
** table-valued function on a connection opened read-only (conn.c), so the
** database provably cannot change.  stdout is SQL: what would run, in order.
**
** The refusals migrate_apply makes before it runs anything that can be
** read from the table (a changed, missing or out-of-order migration), and
** a migration migrate_rollback could not roll back (no down script), are said on
** stderr, with exit status 3.
*/
#include "cli.h"
#include <stdio.h>
#include <string.h>

typedef struct Plan Plan;
struct Plan { int nScript; int nRefused; };

/* The script, under its header, with one blank line after it. */
static void printScript(Cli *p, const char *zHeader, const char *zScript){
  size_t n = zScript ? strlen(zScript) : 0;
  while( n>0 && (zScript[n-1]=='\n' || zScript[n-1]=='\r') ) n--;
  cliOut(p, "-- %s\n", zHeader);
  if( n ) cliOut(p, "%.*s\n", (int)n, zScript);
  cliOut(p, "\n");
}

static int upRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  Plan *plan = (Plan*)pArg;
  const char *zStatus = (const char*)sqlite3_column_text(pStmt, 0);
  const char *zFile = (const char*)sqlite3_column_text(pStmt, 1);
  int bOrder = strcmp(zStatus, "out_of_order")==0;
  if( bOrder || strcmp(zStatus, "changed")==0 || strcmp(zStatus, "missing")==0 ){
    fprintf(stderr, "sqlite-migrate: %s is %s: up refuses to run until it is "
            "resolved (see status)\n", zFile, bOrder ? "out of order" : zStatus);
    plan->nRefused++;
    return CLI_OK;
  }
  printScript(p, zFile, (const char*)sqlite3_column_text(pStmt, 2));
  plan->nScript++;
  return CLI_OK;
}

int cmdDryRunUp(Cli *p){
  Plan plan = {0, 0};
  char *zSql;
  int rc;
  if( p->nArg && !cliIsNumber(p->azArg[0]) ){
    return cliUsageError(p, "up --dry-run: TARGET must be a whole number, not '%s'",
                         p->azArg[0]);
  }
  /* What migrate_apply runs: the pending migrations (up to the target),
  ** then the repeatable ones due, unless the target is below the folder's
  ** newest version (doc/reference.md "migrate_apply"). */
  if( p->nArg==0 ){
    zSql = sqlite3_mprintf(
        "SELECT status, coalesce(file, version || '_' || name), up "
        "FROM migrate_status(%Q) "
        "WHERE status = 'pending' "
        "OR (version IS NULL AND status = 'outdated') "
        "OR (version IS NOT NULL AND status IN ('changed', 'missing', 'out_of_order'))", p->zDir);
  }else{
    zSql = sqlite3_mprintf(
        "SELECT status, coalesce(file, version || '_' || name), up "
        "FROM migrate_status(%Q) "
        "WHERE (version IS NOT NULL AND status = 'pending' AND version <= %s) "
        "OR (version IS NULL AND status IN ('pending', 'outdated') AND %s >= "
          "(SELECT max(version) FROM migrate_status(%Q) WHERE file IS NOT NULL)) "
        "OR (version IS NOT NULL AND status IN ('changed', 'missing', 'out_of_order'))",
        p->zDir, p->azArg[0], p->azArg[0], p->zDir);
  }
  rc = cliQuery(p, zSql, upRow, &plan);
  sqlite3_free(zSql);
  if( rc==CLI_OK && !p->bPrintSql ){
    if( plan.nRefused ) return CLI_FOUND;
    if( plan.nScript==0 ) cliOut(p, "-- nothing to apply\n");
  }
  return rc;
}

static int downRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  Plan *plan = (Plan*)pArg;
  char *zHeader = sqlite3_mprintf("%lld_%s (down)", sqlite3_column_int64(pStmt, 0),
                                  sqlite3_column_text(pStmt, 1));
  if( zHeader==0 ) return CLI_ERROR;
  if( sqlite3_column_type(pStmt, 2)==SQLITE_NULL ){
    fprintf(stderr, "sqlite-migrate: %lld_%s has no down script: down refuses "
            "to roll it back\n", sqlite3_column_int64(pStmt, 0),
            sqlite3_column_text(pStmt, 1));
    plan->nRefused++;
  }else{
    printScript(p, zHeader, (const char*)sqlite3_column_text(pStmt, 2));
    plan->nScript++;
  }
  sqlite3_free(zHeader);
  return CLI_OK;
}

int cmdDryRunDown(Cli *p){
  Plan plan = {0, 0};
  char *zSql;
  int rc;
  if( p->nArg && (!cliIsNumber(p->azArg[0]) || p->azArg[0][0]=='-') ){
    return cliUsageError(p, "down --dry-run takes a count, not '%s'", p->azArg[0]);
  }
  /* The stored down scripts, newest first: the history alone, no folder. */
  zSql = sqlite3_mprintf(
      "SELECT version, name, down FROM migrate_status "
      "WHERE version IS NOT NULL ORDER BY version DESC LIMIT %s",
      p->nArg ? p->azArg[0] : "1");
  rc = cliQuery(p, zSql, downRow, &plan);
  sqlite3_free(zSql);
  if( rc==CLI_OK && !p->bPrintSql ){
    if( plan.nRefused ) return CLI_FOUND;
    if( plan.nScript==0 ) cliOut(p, "-- nothing to roll back\n");
  }
  return rc;
}
