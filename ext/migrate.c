/*
** migrate — schema migrations inside any SQLite connection.
**
**   .load ./migrate
**   SELECT migrate_apply('db/migrations');       -- apply what is pending
**   SELECT * FROM migrations('db/migrations');   -- applied/pending/changed/missing
**   SELECT * FROM migrate_status('db/migrations'); -- the same, by a name no
**                                                   -- table of the app hides
**   SELECT migrate_rollback();                   -- undo the newest migration
**   SELECT migrate_backup('backups/');           -- consistent online copy
**   SELECT migrate_restore('backups/app-....db');
**   SELECT migrate_config('atomic', 'off');      -- per-connection settings
**   SELECT migrate_current(), migrate_version();
**   SELECT * FROM migrate_check('db/migrations'); -- try pending ones first
**   SELECT * FROM migrate_drift();               -- schema vs history
**   SELECT migrate_schema('db/schema.sql');      -- canonical schema dump
**   SELECT migrate_diff('db/schema.sql');        -- the migration to it
**
** This file only checks the library version and registers; each concern
** lives in a file of its own (see migrate.h).
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT1

#include <string.h>

static void versionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  sqlite3_result_text(ctx, MIGRATE_VERSION, -1, SQLITE_STATIC);
}

/* The sanitizers this build was compiled with: the Makefile says, and
** compilers that tell (ASan) are believed when it does not. */
#ifndef MIGRATE_SANITIZERS
# if defined(__SANITIZE_ADDRESS__)
#  define MIGRATE_SANITIZERS "address"
# elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#   define MIGRATE_SANITIZERS "address"
#  endif
# endif
#endif
#ifndef MIGRATE_SANITIZERS
# define MIGRATE_SANITIZERS "none"
#endif
#ifdef MIGRATE_FAULT_HOOKS
# define MIGRATE_FAULT_TEXT "yes (migrate_fault_fileops exported)"
#else
# define MIGRATE_FAULT_TEXT "no"
#endif

/* migrate_debug(): exactly what was built and what it runs on, one line
** each, for a bug report. */
static void debugFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3_str *p = sqlite3_str_new(0);
  char *z;
  (void)argc; (void)argv;
  sqlite3_str_appendf(p, "version: %s\n", MIGRATE_VERSION);
  sqlite3_str_appendf(p, "commit: %s\n", MIGRATE_COMMIT);
  sqlite3_str_appendf(p, "sqlite compiled: %s\n", SQLITE_VERSION);
  sqlite3_str_appendf(p, "sqlite running: %s\n", sqlite3_libversion());
  sqlite3_str_appendf(p, "fault hooks: %s\n", MIGRATE_FAULT_TEXT);
  sqlite3_str_appendf(p, "sanitizers: %s\n", MIGRATE_SANITIZERS);
  sqlite3_str_appendf(p, "sha256: %s", sha256ImplName());
  z = sqlite3_str_finish(p);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_text(ctx, z, -1, sqlite3_free);
  }
}

/*
** Functions that read files or change the database are DIRECTONLY: a view,
** trigger, CHECK or DEFAULT in a database file someone else wrote can never
** call them.  Pure helpers are INNOCUOUS so they work with trusted_schema off.
*/
#define SIDE_EFFECTS (SQLITE_UTF8|SQLITE_DIRECTONLY)
#define PURE         (SQLITE_UTF8|SQLITE_INNOCUOUS|SQLITE_DETERMINISTIC)

static const struct {
  const char *zName;
  int nArg;
  int flags;
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
} aFunc[] = {
  { "migrate_apply",    1, SIDE_EFFECTS, applyFunc },
  { "migrate_apply",    2, SIDE_EFFECTS, applyFunc },
  { "migrate_rollback", 0, SIDE_EFFECTS, rollbackFunc },
  { "migrate_rollback", 1, SIDE_EFFECTS, rollbackFunc },
  { "migrate_rollback_to", 1, SIDE_EFFECTS, rollbackToFunc },
  { "migrate_reset",    0, SIDE_EFFECTS, resetFunc },
  { "migrate_backup",   1, SIDE_EFFECTS, backupFunc },
  { "migrate_restore",  1, SIDE_EFFECTS, restoreFunc },
  { "migrate_create",   2, SIDE_EFFECTS, createFunc },
  { "migrate_create",   3, SIDE_EFFECTS, createFunc },
  /* Reads a file, and copies the database into a scratch one. */
  { "migrate_diff",     1, SIDE_EFFECTS, diffFunc },
  { "migrate_diff",     2, SIDE_EFFECTS, diffFunc },
  { "migrate_baseline", 2, SIDE_EFFECTS, baselineFunc },
  { "migrate_adopt",    1, SIDE_EFFECTS, adoptFunc },
  { "migrate_repair",   1, SIDE_EFFECTS, repairFunc },
  { "migrate_repair",   2, SIDE_EFFECTS, repairFunc },
  /* Settings decide whether backups are taken: not for a hostile schema. */
  { "migrate_config",   1, SIDE_EFFECTS, configFunc },
  { "migrate_config",   2, SIDE_EFFECTS, configFunc },
  /* Reads the history table only; harmless, but not deterministic. */
  { "migrate_current",  0, SQLITE_UTF8,  currentFunc },
  { "migrate_version",  0, PURE,         versionFunc },
  /* Not deterministic: the SQLite it runs on may change under it. */
  { "migrate_debug",    0, SQLITE_UTF8|SQLITE_INNOCUOUS, debugFunc },
  { "migrate_sha256",   1, PURE,         sha256Func },
  /* Reads the schema only, as anyone may; the path form writes a file. */
  { "migrate_schema",   0, SQLITE_UTF8,  schemaFunc },
  { "migrate_schema",   1, SIDE_EFFECTS, schemaFunc },
};

/* Loaded twice into one connection (.load again, load_extension() from SQL)
** the second load keeps the first one's registrations and settings:
** replacing them would reset settings, and SQLite refuses to replace a
** function while a statement (the load_extension() call) is running. */
static int alreadyLoaded(sqlite3 *db){
  sqlite3_stmt *p = 0;
  int found = 0;
  /* Naming no table, this prepare does not read the schema: a schema read
  ** before our functions exist would resolve its expressions without them. */
  found = sqlite3_prepare_v2(db, "SELECT migrate_version()", -1, &p, 0)==SQLITE_OK;
  sqlite3_finalize(p);
  if( !found ){
    /* The failed probe is the connection's last error, and sqlite3_open()
    ** fails with that error when we run as an automatic extension
    ** (sqlite3_auto_extension): a statement that prepares clears it. */
    sqlite3_prepare_v2(db, "SELECT 1", -1, &p, 0);
    sqlite3_finalize(p);
  }
  return found;
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
int sqlite3_migrate_init(sqlite3 *db, char **pzErrMsg,
                         const sqlite3_api_routines *pApi){
  MigrateConn *mc;
  size_t i;
  int rc = SQLITE_OK;
  SQLITE_EXTENSION_INIT2(pApi);

  /* Before any newer API is touched: an older library has no such entry. */
  if( sqlite3_libversion_number()<MIGRATE_MIN_SQLITE ){
    *pzErrMsg = sqlite3_mprintf("migrate requires SQLite " MIGRATE_MIN_SQLITE_TEXT
                                " or later; this is SQLite %s",
                                sqlite3_libversion());
    return SQLITE_ERROR;
  }
  if( alreadyLoaded(db) ) return SQLITE_OK;
  mc = connNew();
  if( mc==0 ){
    *pzErrMsg = sqlite3_mprintf("migrate: out of memory");
    return SQLITE_NOMEM;
  }
  mc->nRef = 1;   /* held by this function until registration is done */
  for(i=0; rc==SQLITE_OK && i<sizeof(aFunc)/sizeof(aFunc[0]); i++){
    mc->nRef++;
    rc = sqlite3_create_function_v2(db, aFunc[i].zName, aFunc[i].nArg,
                                    aFunc[i].flags, mc, aFunc[i].xFunc, 0, 0,
                                    connRelease);
    if( rc ){
      *pzErrMsg = sqlite3_mprintf("migrate: cannot register %s: %s",
                                  aFunc[i].zName, sqlite3_errmsg(db));
    }
  }
  if( rc==SQLITE_OK ){
    rc = statusRegister(db, mc);
    if( rc ){
      *pzErrMsg = sqlite3_mprintf("migrate: cannot register migrations: %s",
                                  sqlite3_errmsg(db));
    }
  }
  if( rc==SQLITE_OK ){
    rc = driftRegister(db, mc);
    if( rc==SQLITE_OK ) rc = checkRegister(db, mc);
    if( rc ){
      /* Out of memory before SQLite saw the module leaves no message of
      ** SQLite's to copy. */
      *pzErrMsg = sqlite3_mprintf("migrate: cannot register migrate_drift or "
                                  "migrate_check: %s", rc==SQLITE_NOMEM
                                  ? sqlite3_errstr(rc) : sqlite3_errmsg(db));
    }
  }
  if( rc ){
    /* SQLite unloads the library when its entry point fails: nothing may
    ** stay registered that points into it.  Removing a function that
    ** exists allocates nothing, so this works out of memory too. */
    size_t j;
    for(j=0; j<i; j++){
      sqlite3_create_function_v2(db, aFunc[j].zName, aFunc[j].nArg,
                                 aFunc[j].flags, 0, 0, 0, 0, 0);
    }
    sqlite3_create_module_v2(db, "migrations", 0, 0, 0);
    sqlite3_create_module_v2(db, "migrate_status", 0, 0, 0);
    sqlite3_create_module_v2(db, "migrate_drift", 0, 0, 0);
    sqlite3_create_module_v2(db, "migrate_check", 0, 0, 0);
    if( rc==SQLITE_NOMEM && *pzErrMsg==0 ){
      *pzErrMsg = sqlite3_mprintf("migrate: out of memory");
    }
  }
  connRelease(mc);
  return rc;
}
