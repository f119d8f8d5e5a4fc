/*
** host.c — the engine a connection lives in, where it changes what a call
** that writes may do (doc/replicated.md).
**
** A libSQL replica (sqld started with --primary-grpc-url, or an embedded
** replica) is a copy its primary writes: a change made on it is not sent
** anywhere, and the next frames from the primary land on pages that no
** longer match.  libSQL keeps the replica's replication index in a file of
** its own beside the database, and only a replica has one:
**   <dir>/client_wal_index     sqld: the database is <dir>/data
**   <db>-client_wal_index      an embedded replica of the file <db>
** Seen from inside the connection a replica is otherwise a plain one: the
** same VFS, the same functions, a writable file.
**
** dqlite keeps each database in the memory of its own VFS ("dqlite-<id>") and
** replicates, after a statement ends, the one transaction it committed: a
** second write transaction in the same statement trips an assertion of that
** VFS and ends the process.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>
#include <sys/stat.h>

/* zPath is a regular file (a failed stat counts as none). */
static int isFile(const char *zPath){
  struct stat st;
  return zPath && migrateFileOps.xStat(zPath, &st)==0 && S_ISREG(st.st_mode);
}

int hostIsReplica(sqlite3 *db, int *pIs){
  const char *zDb = sqlite3_db_filename(db, "main");
  const char *zSlash;
  char *zMark;
  *pIs = 0;
  if( zDb==0 || zDb[0]==0 ) return SQLITE_OK;
  zMark = sqlite3_mprintf("%s-client_wal_index", zDb);
  if( zMark==0 ) return SQLITE_NOMEM;
  *pIs = isFile(zMark);
  sqlite3_free(zMark);
  zSlash = utilLastSlash(zDb);
  if( !*pIs && zSlash && strcmp(zSlash, "/data")==0 ){
    zMark = sqlite3_mprintf("%.*s/client_wal_index", (int)(zSlash-zDb), zDb);
    if( zMark==0 ) return SQLITE_NOMEM;
    *pIs = isFile(zMark);
    sqlite3_free(zMark);
  }
  return SQLITE_OK;
}

int hostIsDqlite(sqlite3 *db){
  sqlite3_vfs *pVfs = 0;
  if( sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs)!=SQLITE_OK
   || pVfs==0 || pVfs->zName==0 ){
    return 0;
  }
  return strncmp(pVfs->zName, "dqlite", 6)==0;
}
