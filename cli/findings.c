/*
** findings.c — check and drift: table-valued functions whose rows are
** findings.  Each is printed one line a finding, then a count, or with
** --json as one JSON document the SQL call builds.  Exit status 3 when
** there is any finding (doc/cli.md "Exit codes"): a CI step fails on it.
*/
#include "cli.h"
#include <stdio.h>
#include <string.h>

typedef struct Tally Tally;
struct Tally {
  int nMigration;          /* migrations seen (check) */
  int nFinding;            /* findings printed */
  sqlite3_int64 iPrev;     /* the previous row's migration (check) */
  char *zPrev;
  int bFirst;
};

/* The document and the number of findings, from the call's one row. */
static int jsonRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  cliOut(p, "%s\n", sqlite3_column_text(pStmt, 0));
  ((Tally*)pArg)->nFinding = sqlite3_column_int(pStmt, 1);
  return CLI_OK;
}

/* ---- check -------------------------------------------------------------- */

static int checkRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  Tally *t = (Tally*)pArg;
  int bRepeatable = sqlite3_column_type(pStmt, 0)==SQLITE_NULL;
  sqlite3_int64 v = sqlite3_column_int64(pStmt, 0);
  const char *zName = (const char*)sqlite3_column_text(pStmt, 1);
  if( zName==0 ) zName = "";
  /* Rows come grouped by migration: a new key is a new migration. */
  if( t->bFirst || v!=t->iPrev || strcmp(zName, t->zPrev ? t->zPrev : "")!=0 ){
    t->nMigration++;
    t->iPrev = v;
    sqlite3_free(t->zPrev);
    t->zPrev = sqlite3_mprintf("%s", zName);
    t->bFirst = 0;
  }
  if( sqlite3_column_int(pStmt, 3)==0 ){
    t->nFinding++;
    if( bRepeatable ){
      cliOut(p, "[!] R__%s  %s: %s\n", zName, sqlite3_column_text(pStmt, 2),
             sqlite3_column_text(pStmt, 4));
    }else{
      cliOut(p, "[!] %lld_%s  %s: %s\n", v, zName, sqlite3_column_text(pStmt, 2),
             sqlite3_column_text(pStmt, 4));
    }
  }
  return CLI_OK;
}

int cmdCheck(Cli *p){
  Tally t;
  char *zSql;
  int rc;
  memset(&t, 0, sizeof(t));
  t.bFirst = 1;
  if( p->bJson ){
    zSql = sqlite3_mprintf(
        "SELECT json_object("
          "'checks', json_group_array(json_object("
            "'version', version, 'name', name, 'check', \"check\", "
            "'ok', json(iif(ok, 'true', 'false')), 'detail', detail)), "
          "'findings', count(*) FILTER (WHERE NOT ok)), "
        "count(*) FILTER (WHERE NOT ok) "
        "FROM migrate_check(%Q)", p->zDir);
    rc = cliQuery(p, zSql, jsonRow, &t);
  }else{
    zSql = sqlite3_mprintf(
        "SELECT version, name, \"check\", ok, detail FROM migrate_check(%Q)", p->zDir);
    rc = cliQuery(p, zSql, checkRow, &t);
    if( rc==CLI_OK && !p->bPrintSql ){
      cliOut(p, "Checked: %d migration%s | Findings: %d\n", t.nMigration,
             t.nMigration==1 ? "" : "s", t.nFinding);
    }
  }
  sqlite3_free(zSql);
  sqlite3_free(t.zPrev);
  if( rc==CLI_OK && t.nFinding ) rc = CLI_FOUND;
  return rc;
}

/* ---- drift -------------------------------------------------------------- */

static int driftRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  Tally *t = (Tally*)pArg;
  const char *zExpected = (const char*)sqlite3_column_text(pStmt, 2);
  const char *zActual = (const char*)sqlite3_column_text(pStmt, 3);
  const char *zMark, *zWhat;
  if( zExpected==0 ){
    zMark = "[+]"; zWhat = "not made by the migrations";
  }else if( zActual==0 ){
    zMark = "[-]"; zWhat = "missing from the database";
  }else{
    zMark = "[~]"; zWhat = "differs";
  }
  t->nFinding++;
  cliOut(p, "%s %s %s: %s\n", zMark, sqlite3_column_text(pStmt, 0),
         sqlite3_column_text(pStmt, 1), zWhat);
  if( zExpected ) cliOut(p, "    expected: %s\n", zExpected);
  if( zActual ) cliOut(p, "    actual:   %s\n", zActual);
  return CLI_OK;
}

int cmdDrift(Cli *p){
  Tally t;
  int rc;
  memset(&t, 0, sizeof(t));
  if( p->bJson ){
    rc = cliQuery(p,
        "SELECT json_object("
          "'differences', json_group_array(json_object("
            "'type', type, 'name', name, 'expected', expected, 'actual', actual)), "
          "'count', count(*)), "
        "count(*) "
        "FROM migrate_drift()", jsonRow, &t);
  }else{
    rc = cliQuery(p, "SELECT type, name, expected, actual FROM migrate_drift()",
                  driftRow, &t);
    if( rc==CLI_OK && !p->bPrintSql ) cliOut(p, "Differences: %d\n", t.nFinding);
  }
  if( rc==CLI_OK && t.nFinding ) rc = CLI_FOUND;
  return rc;
}
