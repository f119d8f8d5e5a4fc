/*
** walckpt.c — when the main file of a WAL database alone holds a snapshot,
** so that backup.c may copy its bytes (doc/guarantees.md "Backed up").
**
** In WAL mode a commit appends pages to the -wal; only a checkpoint writes
** them into the main file.  Two rules of SQLite's WAL make the main file a
** copy of one read transaction's snapshot, for as long as it is open:
**
**   - A checkpoint never writes a frame past the read mark of any open read
**     transaction (nor anything at all while one reads the main file alone,
**     read lock 0): pages newer than the snapshot never reach the file.
**   - A checkpoint reports how many frames the -wal holds (read from its
**     header as the checkpoint starts) and how many are now in the main
**     file.  Run after the read transaction began, "all of them" means every
**     frame of the snapshot, and of every later commit, is in the file: no
**     older page is left there either.  It also means no read transaction
**     anywhere is on an older snapshot, since its mark would have stopped
**     the checkpoint short.
**
** So: begin the read, then ask for a PASSIVE checkpoint (SQLite's own, the
** kind its automatic checkpoint runs: it waits for nobody, and copies what
** it can) from a second connection, since a connection inside a transaction
** cannot checkpoint.  If it reports every frame in the file, the file is the
** snapshot.  If not (a reader on an older snapshot, a commit between the
** two, a checkpoint of another process holding the lock, a read-only
** -wal), the caller tries again, or copies the pages through SQLite.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/*
** A read-write connection to the file of pRead's main database, through the
** same VFS, with its WAL open (a connection opens the -wal on its first
** read; before that a checkpoint does nothing and reports nothing).  NULL
** when it cannot be had: the caller then copies pages.
*/
sqlite3 *walckptOpen(sqlite3 *pRead){
  sqlite3_vfs *pVfs = 0;
  sqlite3 *pCk = 0;
  const char *zFile = sqlite3_db_filename(pRead, "main");
  if( zFile==0 || zFile[0]==0
   || sqlite3_file_control(pRead, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs)
   || pVfs==0 ){
    return 0;
  }
  if( utilOpenPath(zFile, SQLITE_OPEN_READWRITE, 0, pVfs->zName, &pCk)==SQLITE_OK ){
    /* A recovery of the -wal by another connection is brief. */
    sqlite3_busy_timeout(pCk, 1000);
    if( sqlite3_exec(pCk, "PRAGMA main.schema_version", 0, 0, 0)==SQLITE_OK ){
      return pCk;
    }
  }
  sqlite3_close(pCk);
  return 0;
}

/*
** Run a PASSIVE checkpoint through pCk, while the read transaction whose
** snapshot is to be copied is open on another connection.  1 when every
** frame of the -wal is in the main file (see above: the file is then that
** snapshot until the read ends), 0 otherwise.
*/
int walckptComplete(sqlite3 *pCk){
  int nLog = -1, nDone = -1;
  int rc = sqlite3_wal_checkpoint_v2(pCk, "main", SQLITE_CHECKPOINT_PASSIVE,
                                     &nLog, &nDone);
  return rc==SQLITE_OK && nLog>=0 && nLog==nDone;
}
