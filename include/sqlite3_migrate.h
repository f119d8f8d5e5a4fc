/*
** sqlite3_migrate.h — for a program that compiles migrate in rather than
** loading it (doc/embedding.md).  Build the .c files of ext/ with -DSQLITE_CORE into the
** program (or link libmigrate.a: `pkg-config --cflags --libs migrate`), then,
** before opening any connection:
**
**   #include <sqlite3.h>
**   #include <sqlite3_migrate.h>
**   sqlite3_auto_extension((void(*)(void))sqlite3_migrate_init);
**
** Every connection the process opens then has migrate's functions and
** tables, as if it had run `.load migrate`.
*/
#ifndef SQLITE3_MIGRATE_H
#define SQLITE3_MIGRATE_H

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The entry point: registers migrate on db.  SQLITE_OK, or an error code
** with *pzErrMsg (sqlite3_free it) saying why: an SQLite older than 3.38,
** or out of memory. */
int sqlite3_migrate_init(sqlite3 *db, char **pzErrMsg,
                         const sqlite3_api_routines *pApi);

#ifdef __cplusplus
}
#endif

#endif /* SQLITE3_MIGRATE_H */
