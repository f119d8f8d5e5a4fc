/*
** fuzz_init.c — link the extension into a fuzzer binary and initialise it.
**
** The extension's files reach SQLite through the sqlite3_api table that
** SQLITE_EXTENSION_INIT2 fills in.  Registered as an automatic extension,
** sqlite3_migrate_init runs for every new connection and is handed the
** library's own routines, so opening one connection makes the pure parts
** (format.c, folder.c, source.c) usable too.  This file sees the plain sqlite3.h,
** not sqlite3ext.h, so its calls go straight to the library.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include "fuzz.h"

int sqlite3_migrate_init(sqlite3 *, char **, const sqlite3_api_routines *);

void fuzzInit(void){
  static int done = 0;
  sqlite3 *db = 0;
  if( done ) return;
  done = 1;
  if( sqlite3_auto_extension((void(*)(void))sqlite3_migrate_init)!=SQLITE_OK
   || sqlite3_open(":memory:", &db)!=SQLITE_OK ){
    fprintf(stderr, "fuzz: cannot initialise the extension: %s\n",
            db ? sqlite3_errmsg(db) : "out of memory");
    abort();
  }
  sqlite3_close(db);
}
