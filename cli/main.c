/*
** main.c — sqlite-migrate: the order of things.  The command line is read
** and checked before anything is opened, so a usage error (exit status 2)
** has touched nothing; then the connection is opened as the command needs
** it, the settings of the flags are made, and the command makes its one
** SQL call.  The exit status is the command's (doc/cli.md "Exit codes").
*/
#include "cli.h"
#include <stdio.h>
#include <string.h>

/* The flags that belong to some commands only, as typed. */
static const char *flagName(int flag){
  switch( flag ){
    case FLAG_JSON:   return "--json";
    case FLAG_DRYRUN: return "--dry-run";
    default:          return "--force";
  }
}

/* Everything about the command line that can be wrong, checked at once. */
static int checkUsage(Cli *p){
  const Command *pCmd = p->pCmd;
  int bit;
  for(bit=FLAG_JSON; bit<=FLAG_FORCE; bit<<=1){
    if( (p->seenFlags & bit) && !(pCmd->flags & bit) ){
      return cliUsageError(p, "%s does not take %s", pCmd->zName, flagName(bit));
    }
  }
  if( p->nArg<pCmd->nMin ){
    return cliUsageError(p, "%s needs %s", pCmd->zName, pCmd->zArgs);
  }
  if( p->nArg>pCmd->nMax ){
    if( pCmd->nMax==0 ){
      return cliUsageError(p, "%s takes no arguments, got '%s'", pCmd->zName,
                           p->azArg[0]);
    }
    return cliUsageError(p, "%s takes at most %d argument%s, got '%s'",
                         pCmd->zName, pCmd->nMax, pCmd->nMax==1 ? "" : "s",
                         p->azArg[pCmd->nMax]);
  }
  if( !cliIsNumber(p->zTimeout) || p->zTimeout[0]=='-' ){
    return cliUsageError(p, "--timeout takes milliseconds, not '%s'", p->zTimeout);
  }
  if( p->zFrom && pCmd->xRun!=cmdNew ){
    return cliUsageError(p, "%s does not take --from", pCmd->zName);
  }
  if( pCmd->eOpen!=OPEN_NONE && p->zDb==0 && !p->bPrintSql ){
    return cliUsageError(p, "no database: give -d PATH or set SQLITE_MIGRATE_DB");
  }
  return CLI_OK;
}

static int run(Cli *p, int argc, char **argv){
  int rc = cliParseArgs(p, argc, argv);
  if( rc!=CLI_OK ) return rc;
  if( p->zCmd==0 && p->bVersion ) p->zCmd = "version";
  if( p->zCmd==0 ){
    if( p->bHelp ) return cliHelp(0);
    return cliUsageError(p, "no command given");
  }
  p->pCmd = cliFindCommand(p->zCmd);
  if( p->pCmd==0 ) return cliUsageError(p, "unknown command '%s'", p->zCmd);
  if( p->bHelp ) return cliHelp(p->pCmd->zName);
  rc = checkUsage(p);
  if( rc!=CLI_OK ) return rc;
  if( !p->bPrintSql ){
    rc = cliOpen(p);
    if( rc!=CLI_OK ) return rc;
  }
  rc = cliSettings(p);
  if( rc==CLI_OK ) rc = p->pCmd->xRun(p);
  return rc;
}

int main(int argc, char **argv){
  Cli cli;
  int rc = run(&cli, argc, argv);
  cliClose(&cli);
  sqlite3_free(cli.azArg);
  sqlite3_free(cli.azConfig);
  fflush(stdout);
  return rc;
}
