/*
** oldsqlite.c — a host for load.test that makes migrate.so believe it was
** loaded into an older SQLite than the one it runs on.
**
**   cc -o oldsqlite test/oldsqlite.c -lsqlite3 -ldl
**   ./oldsqlite LIB VERSION_NUMBER VERSION_TEXT
**   ./oldsqlite ./migrate.so 3037000 3.37.0
**
** An extension's entry point receives the library's sqlite3_api_routines.
** The host registers an auto-extension of its own, which SQLite calls with
** that table when a connection opens; the host copies it, replaces
** libversion_number and libversion with functions returning VERSION_NUMBER
** and VERSION_TEXT, and calls migrate.so's sqlite3_migrate_init (found with
** dlsym, as SQLite would) with the copy. It prints:
**
**   rc=<return code>
**   err=<the error message, or nothing>
**   functions=<migrate% functions registered on the connection>
**   modules=<migrations modules registered>
**   version=<migrate_version(), or the error preparing it>
*/
/* The host is an application, not an extension: SQLITE_CORE keeps
** sqlite3ext.h from renaming sqlite3_open() and friends to sqlite3_api->...,
** and it still declares sqlite3_api_routines. */
#define SQLITE_CORE 1
#include <sqlite3ext.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*InitFn)(sqlite3*, char**, const sqlite3_api_routines*);

static const sqlite3_api_routines *realApi = 0;
static int fakeNumber = 0;
static const char *fakeText = 0;

static int fakeLibversionNumber(void){ return fakeNumber; }
static const char *fakeLibversion(void){ return fakeText; }

/* Called by SQLite for every connection opened: keep the routines. */
static int capture(sqlite3 *db, char **pzErr, const sqlite3_api_routines *pApi){
  (void)db; (void)pzErr;
  realApi = pApi;
  return SQLITE_OK;
}

static int count(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  int n = -1;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    n = sqlite3_column_int(p, 0);
  }
  sqlite3_finalize(p);
  return n;
}

int main(int argc, char **argv){
  sqlite3 *db = 0;
  sqlite3_api_routines copy;
  sqlite3_stmt *p = 0;
  void *lib;
  InitFn init;
  char *zErr = 0;
  int rc;

  if( argc!=4 ){
    fprintf(stderr, "usage: %s LIB VERSION_NUMBER VERSION_TEXT\n", argv[0]);
    return 2;
  }
  fakeNumber = atoi(argv[2]);
  fakeText = argv[3];

  sqlite3_auto_extension((void(*)(void))capture);
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK || realApi==0 ){
    fprintf(stderr, "cannot open a connection or capture the API\n");
    return 2;
  }
  sqlite3_cancel_auto_extension((void(*)(void))capture);

  lib = dlopen(argv[1], RTLD_NOW|RTLD_LOCAL);
  if( lib==0 ){
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  init = (InitFn)dlsym(lib, "sqlite3_migrate_init");
  if( init==0 ){
    fprintf(stderr, "dlsym: %s\n", dlerror());
    return 2;
  }

  memcpy(&copy, realApi, sizeof(copy));
  copy.libversion_number = fakeLibversionNumber;
  copy.libversion = fakeLibversion;
  rc = init(db, &zErr, &copy);

  printf("rc=%d\n", rc);
  printf("err=%s\n", zErr ? zErr : "");
  sqlite3_free(zErr);
  printf("functions=%d\n", count(db,
         "SELECT count(*) FROM pragma_function_list WHERE name LIKE 'migrate%'"));
  printf("modules=%d\n", count(db,
         "SELECT count(*) FROM pragma_module_list WHERE name IN ('migrations', 'migrate_status')"));
  if( sqlite3_prepare_v2(db, "SELECT migrate_version()", -1, &p, 0)==SQLITE_OK
   && sqlite3_step(p)==SQLITE_ROW ){
    printf("version=%s\n", (const char*)sqlite3_column_text(p, 0));
  }else{
    printf("version=%s\n", sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);

  /* Close while migrate.so is still mapped: its destructors run now. */
  sqlite3_close(db);
  dlclose(lib);
  return 0;
}
