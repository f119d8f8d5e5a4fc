/*
** commands.c — the commands whose result is one value: each builds its one
** SQL call (arguments quoted with %Q, so the text printed by --print-sql is
** the text run), runs it, and prints the value, or a sentence for a count.
*/
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>

/* Runs zSql (freed here) and prints its value on a line of its own;
** nothing for NULL. */
static int printValue(Cli *p, char *zSql){
  char *zVal = 0;
  int rc = cliOneValue(p, zSql, &zVal, 0);
  sqlite3_free(zSql);
  if( rc==CLI_OK && zVal ) cliOut(p, "%s\n", zVal);
  sqlite3_free(zVal);
  return rc;
}

/* Runs zSql (freed here), whose value is how many migrations it handled,
** and says so: "<zDone> 3 migrations." or zNone for 0. */
static int printCount(Cli *p, char *zSql, const char *zDone, const char *zNone){
  char *zVal = 0;
  int rc = cliOneValue(p, zSql, &zVal, 0);
  sqlite3_free(zSql);
  if( rc==CLI_OK && zVal ){
    long n = strtol(zVal, 0, 10);
    if( n==0 ){
      cliOut(p, "%s\n", zNone);
    }else{
      cliOut(p, "%s %ld migration%s.\n", zDone, n, n==1 ? "" : "s");
    }
  }
  sqlite3_free(zVal);
  return rc;
}

/* A version or count argument: a number is passed as a number, anything
** else as text, for the function to judge. */
static char *numberOrText(const char *z){
  return cliIsNumber(z) ? sqlite3_mprintf("%s", z) : sqlite3_mprintf("%Q", z);
}

int cmdUp(Cli *p){
  char *zSql, *zArg;
  if( p->bDryRun ) return cmdDryRunUp(p);
  if( p->nArg==0 ){
    zSql = sqlite3_mprintf("SELECT migrate_apply(%Q)", p->zDir);
  }else{
    zArg = numberOrText(p->azArg[0]);
    zSql = sqlite3_mprintf("SELECT migrate_apply(%Q, %s)", p->zDir, zArg);
    sqlite3_free(zArg);
  }
  return printCount(p, zSql, "Applied", "Nothing to apply.");
}

int cmdDown(Cli *p){
  char *zSql, *zArg;
  if( p->bDryRun ) return cmdDryRunDown(p);
  if( p->nArg==0 ){
    zSql = sqlite3_mprintf("SELECT migrate_rollback()");
  }else{
    zArg = numberOrText(p->azArg[0]);
    zSql = sqlite3_mprintf("SELECT migrate_rollback(%s)", zArg);
    sqlite3_free(zArg);
  }
  return printCount(p, zSql, "Rolled back", "Nothing to roll back.");
}

int cmdReset(Cli *p){
  return printCount(p, sqlite3_mprintf("SELECT migrate_reset()"),
                    "Rolled back", "Nothing to roll back.");
}

int cmdAdopt(Cli *p){
  return printCount(p, sqlite3_mprintf("SELECT migrate_adopt(%Q)", p->zDir),
                    "Recorded", "Nothing to record.");
}

int cmdBaseline(Cli *p){
  char *zArg = numberOrText(p->azArg[0]);
  char *zSql = sqlite3_mprintf("SELECT migrate_baseline(%Q, %s)", p->zDir, zArg);
  sqlite3_free(zArg);
  return printCount(p, zSql, "Recorded", "Nothing to record.");
}

int cmdNew(Cli *p){
  if( p->zFrom ){
    return printValue(p, sqlite3_mprintf("SELECT migrate_create(%Q, %Q, %Q)",
                                         p->zDir, p->azArg[0], p->zFrom));
  }
  return printValue(p, sqlite3_mprintf("SELECT migrate_create(%Q, %Q)",
                                       p->zDir, p->azArg[0]));
}

int cmdSchema(Cli *p){
  if( p->nArg==0 ){
    /* The text ends with its own newline (or is empty): print it as is. */
    char *zVal = 0;
    int rc = cliOneValue(p, "SELECT migrate_schema()", &zVal, 0);
    if( rc==CLI_OK && zVal ) cliOut(p, "%s", zVal);
    sqlite3_free(zVal);
    return rc;
  }
  return printValue(p, sqlite3_mprintf("SELECT migrate_schema(%Q)", p->azArg[0]));
}

int cmdBackup(Cli *p){
  return printValue(p, sqlite3_mprintf("SELECT migrate_backup(%Q)", p->azArg[0]));
}

int cmdRestore(Cli *p){
  return printValue(p, sqlite3_mprintf("SELECT migrate_restore(%Q)", p->azArg[0]));
}

int cmdRepair(Cli *p){
  if( p->bForce ){
    return printValue(p, sqlite3_mprintf("SELECT migrate_repair(%Q, 'force')", p->zDir));
  }
  return printValue(p, sqlite3_mprintf("SELECT migrate_repair(%Q)", p->zDir));
}

int cmdCurrent(Cli *p){
  return printValue(p, sqlite3_mprintf("SELECT migrate_current()"));
}

int cmdVersion(Cli *p){
  return printValue(p, sqlite3_mprintf(
      "SELECT 'sqlite-migrate ' || migrate_version() || ', SQLite ' || sqlite_version()"));
}

int cmdHelp(Cli *p){
  return cliHelp(p->nArg ? p->azArg[0] : 0);
}
