/*
** autoext.c — a host for fuzz-regress.test that registers migrate.so's entry
** point with sqlite3_auto_extension(), the way an application that links
** the extension in registers it for every connection it opens.
**
**   cc -o autoext test/autoext.c -lsqlite3 -ldl
**   ./autoext ./migrate.so [DB SQL]
**
** It prints:
**   open=<sqlite3_open's return code> <its error message>
**   version=<migrate_version(), or the error running it>
** and with DB and SQL (untrusted.test: every connection of the process,
** scratch connections included, then has migrate):
**   result=<SQL's first column of each row>, or error=<its error>
*/
#include <sqlite3.h>
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv){
  sqlite3 *db = 0;
  sqlite3_stmt *p = 0;
  void *lib, *init;
  int rc;
  if( argc!=2 && argc!=4 ){
    fprintf(stderr, "usage: %s LIB [DB SQL]\n", argv[0]);
    return 2;
  }
  lib = dlopen(argv[1], RTLD_NOW);
  init = lib ? dlsym(lib, "sqlite3_migrate_init") : 0;
  if( init==0 ){
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  sqlite3_auto_extension((void(*)(void))init);
  rc = sqlite3_open(":memory:", &db);
  printf("open=%d %s\n", rc, sqlite3_errmsg(db));
  rc = sqlite3_prepare_v2(db, "SELECT migrate_version()", -1, &p, 0);
  if( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    printf("version=%s\n", (const char*)sqlite3_column_text(p, 0));
  }else{
    printf("version=%s\n", sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  sqlite3_close(db);
  if( argc==4 ){
    db = 0;
    p = 0;
    sqlite3_open(argv[2], &db);
    rc = sqlite3_prepare_v2(db, argv[3], -1, &p, 0);
    while( rc==SQLITE_OK && (rc = sqlite3_step(p))==SQLITE_ROW ){
      printf("result=%s\n", (const char*)sqlite3_column_text(p, 0));
      rc = SQLITE_OK;
    }
    if( rc!=SQLITE_DONE ) printf("error=%s\n", sqlite3_errmsg(db));
    sqlite3_finalize(p);
    sqlite3_close(db);
  }
  sqlite3_reset_auto_extension();
  dlclose(lib);
  return 0;
}
