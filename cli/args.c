/*
** args.c — the command line and the environment -> a Cli.
**
** Options may come before or after the command (`sqlite-migrate -d app.db up`
** and `sqlite-migrate up -d app.db` are the same); `--` ends them, so an
** argument may start with '-'.  An option's value is the next argument or
** follows '=' (`--db=app.db`).  The environment gives the database and the
** folder when no option does; an empty variable counts as unset.
*/
#include "cli.h"
#include <stdlib.h>
#include <string.h>

/* The options that take a value, and where each value goes. */
static const char **valueSlot(Cli *p, const char *zOpt){
  if( strcmp(zOpt, "-d")==0 || strcmp(zOpt, "--db")==0 ) return &p->zDb;
  if( strcmp(zOpt, "-m")==0 || strcmp(zOpt, "--dir")==0 ) return &p->zDir;
  if( strcmp(zOpt, "--backup-dir")==0 ) return &p->zBackupDir;
  if( strcmp(zOpt, "--backup-keep")==0 ) return &p->zBackupKeep;
  if( strcmp(zOpt, "--set")==0 ) return &p->zSet;
  if( strcmp(zOpt, "--from")==0 ) return &p->zFrom;
  if( strcmp(zOpt, "--timeout")==0 ) return &p->zTimeout;
  return 0;
}

/* The options that take none: the field each sets, and the FLAG_* bit when
** only some commands accept it. */
static int *switchSlot(Cli *p, const char *zOpt, int *pFlag){
  *pFlag = 0;
  if( strcmp(zOpt, "-h")==0 || strcmp(zOpt, "--help")==0 ) return &p->bHelp;
  if( strcmp(zOpt, "--version")==0 ) return &p->bVersion;
  if( strcmp(zOpt, "-q")==0 || strcmp(zOpt, "--quiet")==0 ) return &p->bQuiet;
  if( strcmp(zOpt, "--print-sql")==0 ) return &p->bPrintSql;
  if( strcmp(zOpt, "--trace")==0 ) return &p->bTrace;
  if( strcmp(zOpt, "--no-backup")==0 ) return &p->bNoBackup;
  if( strcmp(zOpt, "--json")==0 ){ *pFlag = FLAG_JSON; return &p->bJson; }
  if( strcmp(zOpt, "--dry-run")==0 ){ *pFlag = FLAG_DRYRUN; return &p->bDryRun; }
  if( strcmp(zOpt, "--force")==0 ){ *pFlag = FLAG_FORCE; return &p->bForce; }
  return 0;
}

static const char *envOrNull(const char *zName){
  const char *z = getenv(zName);
  return (z && z[0]) ? z : 0;
}

/* Fills p from argv and the environment.  CLI_OK, or CLI_USAGE after the
** message is printed. */
int cliParseArgs(Cli *p, int argc, char **argv){
  int i;
  int bOptionsDone = 0;
  memset(p, 0, sizeof(*p));
  p->azArg = sqlite3_malloc64(sizeof(char*) * (unsigned)(argc + 1));
  p->azConfig = sqlite3_malloc64(sizeof(char*) * (unsigned)(argc + 1));
  if( p->azArg==0 || p->azConfig==0 ){
    return cliUsageError(p, "out of memory");
  }
  for(i=1; i<argc; i++){
    char *z = argv[i];
    if( !bOptionsDone && z[0]=='-' && z[1]!=0 ){
      char *zEq = 0;
      const char **pzValue;
      int *pSwitch, flag;
      if( strcmp(z, "--")==0 ){ bOptionsDone = 1; continue; }
      if( z[1]=='-' && (zEq = strchr(z, '='))!=0 ) *zEq = 0;
      if( strcmp(z, "--config")==0 || strcmp(z, "-c")==0 ){
        const char *zVal = zEq ? zEq+1 : (i+1<argc ? argv[++i] : 0);
        if( zVal==0 || zVal[0]==0 ){
          return cliUsageError(p, "option '%s' needs a value", z);
        }
        if( strchr(zVal, '=')==0 ){
          return cliUsageError(p, "option '%s' takes KEY=VALUE, not '%s'", z, zVal);
        }
        p->azConfig[p->nConfig++] = (char*)zVal;
        continue;
      }
      pzValue = valueSlot(p, z);
      if( pzValue ){
        const char *zVal = zEq ? zEq+1 : (i+1<argc ? argv[++i] : 0);
        if( zVal==0 || zVal[0]==0 ){
          return cliUsageError(p, "option '%s' needs a value", z);
        }
        *pzValue = zVal;
        continue;
      }
      pSwitch = switchSlot(p, z, &flag);
      if( pSwitch ){
        if( zEq ) return cliUsageError(p, "option '%s' takes no value", z);
        *pSwitch = 1;
        p->seenFlags |= flag;
        continue;
      }
      if( zEq ) *zEq = '=';
      return cliUsageError(p, "unknown option '%s'", z);
    }
    if( p->zCmd==0 ){
      p->zCmd = z;
    }else{
      p->azArg[p->nArg++] = z;
    }
  }
  if( p->zDb==0 ) p->zDb = envOrNull("SQLITE_MIGRATE_DB");
  if( p->zDir==0 ) p->zDir = envOrNull("SQLITE_MIGRATE_DIR");
  if( p->zDir==0 ) p->zDir = "db/migrations";
  if( p->zTimeout==0 ) p->zTimeout = "5000";
  return CLI_OK;
}
