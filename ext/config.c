/*
** config.c — per-connection settings, read and set with migrate_config().
**
**   SELECT migrate_config('backup');           -- 'on' / 'off'
**   SELECT migrate_config('backup_keep', 10);  -- returns 10
**
** The settings live in a MigrateConn that hangs off the functions registered
** on one connection, so two connections never see each other's settings.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

MigrateConn *connNew(void){
  MigrateConn *p = sqlite3_malloc64(sizeof(*p));
  if( p ){
    memset(p, 0, sizeof(*p));
    p->backup = -1;
    p->backupKeep = 5;
    p->atomic = 1;
    p->threads = 1;
  }
  return p;
}

/* Destructor of every registration that holds the settings. */
void connRelease(void *pArg){
  MigrateConn *p = (MigrateConn*)pArg;
  if( p && --p->nRef<=0 ){
    setsRelease(p);
    txnFkHintFree(p->pFkHint);
    sqlite3_free(p->backupDir);
    sqlite3_free(p);
  }
}

/* Automatic backups need a file to copy: never for :memory: or temp.  A
** dqlite node's database is no file but the memory of its VFS, and every
** node of the cluster holds it: there, only when asked for (doc/replicated.md
** "dqlite"). */
int connBackupOn(MigrateConn *p, sqlite3 *db){
  if( !utilDbIsFile(db) ) return 0;
  if( p->backup<0 && hostIsDqlite(db) ) return 0;
  return p->backup!=0;
}

/* The folder automatic backups go to: set, or "backups" beside the file. */
char *connBackupDir(MigrateConn *p, sqlite3 *db){
  const char *zDb;
  const char *zSlash;
  if( p->backupDir ) return sqlite3_mprintf("%s", p->backupDir);
  zDb = sqlite3_db_filename(db, "main");
  if( zDb==0 || zDb[0]==0 ) return 0;
  zSlash = utilLastSlash(zDb);
  if( zSlash==0 ) return sqlite3_mprintf("backups");
  return sqlite3_mprintf("%.*s/backups", (int)(zSlash-zDb), zDb);
}

/* on/off, also 1/0, true/false, yes/no; -1 when it is none of those. */
static int parseSwitch(sqlite3_value *v){
  static const char *azOn[] = {"on", "1", "true", "yes"};
  static const char *azOff[] = {"off", "0", "false", "no"};
  const char *z = (const char*)sqlite3_value_text(v);
  size_t i;
  if( z==0 ) return -1;
  for(i=0; i<sizeof(azOn)/sizeof(azOn[0]); i++){
    if( sqlite3_stricmp(z, azOn[i])==0 ) return 1;
    if( sqlite3_stricmp(z, azOff[i])==0 ) return 0;
  }
  return -1;
}

static void resultSwitch(sqlite3_context *ctx, int on){
  sqlite3_result_text(ctx, on ? "on" : "off", -1, SQLITE_STATIC);
}

#define KNOWN_KEYS "atomic, backup, backup_dir, backup_keep, integrity_check, out_of_order, set, threads, trace, user_version"

/* The on/off settings, by name. */
typedef struct Switch {
  const char *zName;
  int *pValue;
} Switch;

static int findSwitch(MigrateConn *p, const char *zKey, Switch *pOut){
  const Switch aSwitch[] = {
    { "atomic",       &p->atomic },
    { "backup",       &p->backup },
    { "out_of_order", &p->outOfOrder },
    { "threads",      &p->threads },
    { "trace",        &p->trace },
    { "user_version", &p->userVersion },
  };
  size_t i;
  for(i=0; i<sizeof(aSwitch)/sizeof(aSwitch[0]); i++){
    if( sqlite3_stricmp(zKey, aSwitch[i].zName)==0 ){
      *pOut = aSwitch[i];
      return 1;
    }
  }
  return 0;
}

/*
** The migration set (sets.c): NULL or '' is the default set.  It changes
** only from a statement of its own, so no query of migrations(dir) reads
** one set's history and then another's.
*/
static void configSet(sqlite3_context *ctx, MigrateConn *p, sqlite3_value *pVal){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zSet;
  if( pVal ){
    const char *z = (const char*)sqlite3_value_text(pVal);
    char zName[SET_NAME_MAX+1];
    int rc;
    if( z && z[0] && !setsNameFold(z, zName) ){
      ctxErrorMsg(ctx, "migrate_config: set must be 1 to 32 characters of "
                  "a-z, 0-9 and _, starting with a letter, not %Q", z);
      return;
    }
    if( sqlite3_value_type(pVal)!=SQLITE_NULL && z==0 ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    if( callGuard(ctx, "migrate_config", GUARD_ALONE) ) return;
    rc = setsChoose(db, p, z && z[0] ? zName : 0);
    if( rc ){ sqlite3_result_error_nomem(ctx); return; }
  }
  zSet = setsName(db);
  if( zSet ) sqlite3_result_text(ctx, zSet, -1, SQLITE_TRANSIENT);
  else sqlite3_result_null(ctx);
}

void configFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  MigrateConn *p = (MigrateConn*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zKey = (const char*)sqlite3_value_text(argv[0]);
  sqlite3_value *pVal = argc>1 ? argv[1] : 0;
  Switch sw;

  /* A setting changed from a CHECK constraint of a hostile schema (say,
  ** backup off) is harmful; one read there would still tell the schema
  ** something about the connection (backup_dir is a path).  Like every
  ** DIRECTONLY function, it runs only from a statement of the application. */
  if( callGuard(ctx, "migrate_config", 0) ) return;
  /* From a migration script the change would outlive a call that then fails
  ** and is rolled back: the connection must be as it was. */
  if( pVal && p->busy ){
    ctxErrorMsg(ctx, "migrate_config: settings cannot change from inside a "
                "migration");
    return;
  }
  if( zKey==0 ){
    ctxErrorMsg(ctx, "migrate_config: the setting name is NULL (known: "
                KNOWN_KEYS ")");
    return;
  }
  if( findSwitch(p, zKey, &sw) ){
    if( pVal ){
      int on = parseSwitch(pVal);
      if( on<0 ){
        ctxErrorMsg(ctx, "migrate_config: %s must be 'on' or 'off', not %Q",
                    sw.zName, sqlite3_value_text(pVal));
        return;
      }
      *sw.pValue = on;
    }
    /* backup is -1 until set: on for a file database, off otherwise. */
    resultSwitch(ctx, sw.pValue==&p->backup ? connBackupOn(p, db)
                                                   : *sw.pValue);
  }else if( sqlite3_stricmp(zKey, "backup_keep")==0 ){
    if( pVal ){
      i64 n = 0;
      if( utilArgInteger(ctx, pVal, "migrate_config",
                         "backup_keep must be a whole number from 0 to 1000000",
                         0, 1000000, &n) ){
        return;
      }
      p->backupKeep = (int)n;
    }
    sqlite3_result_int(ctx, p->backupKeep);
  }else if( sqlite3_stricmp(zKey, "integrity_check")==0 ){
    int mode = pVal ? integrityModeParse((const char*)sqlite3_value_text(pVal)) : 0;
    if( mode<0 ){
      ctxErrorMsg(ctx, "migrate_config: integrity_check must be 'off', 'quick' "
                  "or 'full', not %Q", sqlite3_value_text(pVal));
      return;
    }
    if( pVal ) p->integrityCheck = mode;
    sqlite3_result_text(ctx, integrityModeName(p->integrityCheck), -1, SQLITE_STATIC);
  }else if( sqlite3_stricmp(zKey, "backup_dir")==0 ){
    char *zDir;
    if( pVal ){
      const char *z = (const char*)sqlite3_value_text(pVal);
      char *zNew = 0;
      if( z && z[0]==0 ){
        ctxErrorMsg(ctx, "migrate_config: backup_dir must not be empty "
                    "(NULL restores the default)");
        return;
      }
      if( z ){
        zNew = sqlite3_mprintf("%s", z);
        if( zNew==0 ){ sqlite3_result_error_nomem(ctx); return; }
      }
      sqlite3_free(p->backupDir);
      p->backupDir = zNew;
    }
    zDir = connBackupDir(p, db);
    if( zDir ) sqlite3_result_text(ctx, zDir, -1, sqlite3_free);
    else sqlite3_result_null(ctx);
  }else if( sqlite3_stricmp(zKey, "set")==0 ){
    configSet(ctx, p, pVal);
  }else{
    ctxErrorMsg(ctx, "migrate_config: unknown setting '%s' (known: "
                KNOWN_KEYS ")", zKey);
  }
}
