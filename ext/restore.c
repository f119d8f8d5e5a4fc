/*
** restore.c — migrate_restore(): put a backup's content back.
**
**   SELECT migrate_restore('backups/app-20261122-101500-123.db');
**
** The file is opened and checked (PRAGMA quick_check) before anything
** changes; an automatic backup of what is being replaced is taken when
** backups are on; then SQLite's backup API copies every page in, as one
** step that completes or does not.  The live database keeps its journal mode.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/*
** The live database's journal mode, before anything changes: what a restore
** puts back, and what decides whether page sizes must match.  Unread (out of
** memory) it is an error, never a guess.
*/
static int readJournalMode(sqlite3 *db, char *zMode, int nMode, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, "PRAGMA main.journal_mode", -1, &p, 0);
  zMode[0] = 0;
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(p);
    if( rc==SQLITE_ROW && sqlite3_column_text(p, 0) ){
      sqlite3_snprintf(nMode, zMode, "%s", (const char*)sqlite3_column_text(p, 0));
      rc = SQLITE_OK;
    }else if( rc==SQLITE_ROW ){
      rc = SQLITE_NOMEM;          /* the text could not be made */
    }
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cannot read journal_mode: %s", sqlite3_errmsg(db));
  }
  return rc;
}

/*
** Does zPath have a rollback journal beside it that SQLite would play back
** (doc/reference.md "migrate_restore")?  A -journal that is not empty and
** starts with a journal header is what a writer leaves when it stops
** mid-transaction: the database file then holds uncommitted pages, and the
** committed state is the file with the journal rolled back.  A read that
** ignored it (immutable) would restore the half-written state.  1: such a
** journal; 0: none, or an empty or zeroed one (journal_mode=TRUNCATE or
** PERSIST after a commit); -1: it could not be read (errno).
*/
static int hasHotJournal(const char *zPath, char **pzJournal){
  static const unsigned char aMagic[8] = {
    0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7
  };
  unsigned char aHead[8];
  struct stat st;
  char *zJournal = sqlite3_mprintf("%s-journal", zPath);
  int fd, n, hot = 0;
  *pzJournal = zJournal;
  if( zJournal==0 ) return -2;
  /* O_NONBLOCK: a FIFO of that name must not hang the call; only a
  ** regular file can be a journal SQLite would read. */
  fd = migrateFileOps.xOpen(zJournal, O_RDONLY|O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK, 0);
  if( fd<0 ) return errno==ENOENT ? 0 : -1;
  if( migrateFileOps.xFstat(fd, &st)!=0 ){
    migrateFileOps.xClose(fd);
    return -1;
  }
  if( !S_ISREG(st.st_mode) ){
    migrateFileOps.xClose(fd);
    return 0;
  }
  n = (int)migrateFileOps.xPread(fd, aHead, sizeof(aHead), 0);
  if( n<0 ) hot = -1;
  else if( n==(int)sizeof(aHead) && memcmp(aHead, aMagic, sizeof(aMagic))==0 ) hot = 1;
  migrateFileOps.xClose(fd);
  return hot;
}

/* Pages are copied as they are: SQLite cannot turn UTF-16 text into UTF-8. */
static int sameEncoding(sqlite3 *db, sqlite3 *pSrc, const char *zPath,
                        char **pzErr){
  char zSrc[16], zLive[16];
  sqlite3_stmt *p = 0;
  int rc = SQLITE_OK, i;
  for(i=0; i<2 && rc==SQLITE_OK; i++){
    char *z = i ? zLive : zSrc;
    sqlite3 *h = i ? db : pSrc;
    rc = sqlite3_prepare_v2(h, "PRAGMA main.encoding", -1, &p, 0);
    if( rc==SQLITE_OK ){
      rc = sqlite3_step(p);
      if( rc==SQLITE_ROW && sqlite3_column_text(p, 0) ){
        sqlite3_snprintf(16, z, "%s", (const char*)sqlite3_column_text(p, 0));
        rc = SQLITE_OK;
      }else if( rc==SQLITE_ROW ){
        rc = SQLITE_NOMEM;
      }
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
    p = 0;
    if( rc && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf("cannot read the text encoding%s%s%s: %s",
          i ? "" : " of '", i ? "" : zPath, i ? "" : "'", sqlite3_errmsg(h));
    }
  }
  if( rc==SQLITE_OK && sqlite3_stricmp(zSrc, zLive)!=0 ){
    *pzErr = sqlite3_mprintf("'%s' is a %s database and this one is %s; "
        "SQLite cannot restore across text encodings", zPath, zSrc, zLive);
    rc = SQLITE_ERROR;
  }
  return rc;
}

/*
** Open the file to restore from and check it, before anything is changed.
** A file with a -wal beside it may have content there, so it is read the
** ordinary way; any other is read immutable, leaving nothing behind.
*/
static int openRestoreSource(sqlite3 *db, const char *zPath, const char *zMode,
                             sqlite3 **ppSrc, char **pzErr){
  char *zWal = sqlite3_mprintf("%s-wal", zPath);
  struct stat st;
  int rc, immutable;
  if( zWal==0 ) return SQLITE_NOMEM;
  immutable = migrateFileOps.xLstat(zWal, &st)!=0;
  if( immutable && errno!=ENOENT ){
    /* A -wal that cannot be looked at may hold content: do not guess. */
    *pzErr = sqlite3_mprintf("cannot stat '%s': %s", zWal, strerror(errno));
    sqlite3_free(zWal);
    return SQLITE_IOERR;
  }
  sqlite3_free(zWal);
  if( immutable ){
    char *zJournal = 0;
    int hot = hasHotJournal(zPath, &zJournal);
    if( hot==-2 ) return SQLITE_NOMEM;
    if( hot<0 ){
      *pzErr = sqlite3_mprintf("cannot read '%s': %s", zJournal, strerror(errno));
    }else if( hot ){
      *pzErr = sqlite3_mprintf("'%s' has a hot journal beside it ('%s'): a "
          "writer stopped before it committed, so the file holds uncommitted "
          "changes; open it once with SQLite, which rolls them back, then "
          "restore it", zPath, zJournal);
    }
    sqlite3_free(zJournal);
    if( hot ) return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  rc = fileOpenDb(zPath, immutable, ppSrc, pzErr);
  if( rc==SQLITE_OK ) rc = fileQuickCheck(*ppSrc, zPath, pzErr);
  if( rc==SQLITE_OK ) rc = sameEncoding(db, *ppSrc, zPath, pzErr);
  if( rc==SQLITE_OK && sqlite3_stricmp(zMode, "wal")==0 ){
    /* SQLite cannot copy into a WAL database of another page size, and
    ** says only "attempt to write a readonly database".  A size that
    ** cannot be read is an error, not 0 (a refusal that blames the file). */
    i64 srcSize = 0, dbSize = 0;
    rc = utilPragmaRead(*ppSrc, "PRAGMA page_size", &srcSize);
    if( rc && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf("cannot read the page size of '%s': %s", zPath,
                               sqlite3_errmsg(*ppSrc));
    }
    if( rc==SQLITE_OK ){
      rc = utilPragmaRead(db, "PRAGMA main.page_size", &dbSize);
      if( rc && rc!=SQLITE_NOMEM ){
        *pzErr = sqlite3_mprintf("cannot read the page size: %s",
                                 sqlite3_errmsg(db));
      }
    }
    if( rc==SQLITE_OK && srcSize!=dbSize ){
      *pzErr = sqlite3_mprintf("'%s' has page size %lld but this WAL database "
                               "has %lld; SQLite cannot restore across page "
                               "sizes in WAL mode (switch to journal_mode=DELETE "
                               "first)", zPath, srcSize, dbSize);
      rc = SQLITE_ERROR;
    }
  }
  if( rc ){
    sqlite3_close(*ppSrc);
    *ppSrc = 0;
  }
  return rc;
}

/*
** In rollback-journal mode SQLite shrinks the file only after the commit is
** complete (the journal gone), and reports a failure to do so as the
** step's error.  The restore has then taken place: the database has the
** source's page count, not its own (equal page sizes: restore refuses a
** change of page size in WAL mode, and any other leaves the count
** different anyway).  The file is merely longer than it needs to be.
*/
static int shrinkFailedAfterCommit(sqlite3 *db, sqlite3 *pSrc, i64 nBefore){
  i64 nNow = utilPragmaValue(db, "PRAGMA main.page_count", 0, 0);
  i64 nSrc = utilPragmaValue(pSrc, "PRAGMA main.page_count", 0, 0);
  return sqlite3_get_autocommit(db) && nNow!=nBefore && nNow==nSrc && nSrc>0
      && utilPragmaValue(db, "PRAGMA main.page_size", 0, 0)
         ==utilPragmaValue(pSrc, "PRAGMA main.page_size", 0, 0);
}

/*
** The pages copied in carry the source's header, WAL marks included: a
** rollback-journal database restored from a WAL file would turn WAL.  The
** journal mode is the live database's, so put it back.
*/
static int keepJournalMode(sqlite3 *db, const char *zMode, char **pzErr){
  char zNow[16];
  char *zSql, *zWhy = 0;
  int rc = readJournalMode(db, zNow, sizeof(zNow), &zWhy);
  if( rc==SQLITE_OK && sqlite3_stricmp(zNow, zMode)==0 ) return SQLITE_OK;
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("PRAGMA main.journal_mode=%s", zMode);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc && rc!=SQLITE_NOMEM ) zWhy = utilDbErr(db);
    /* A mode that cannot be changed is answered with the old one, no error. */
    if( rc==SQLITE_OK ) rc = readJournalMode(db, zNow, sizeof(zNow), &zWhy);
    if( rc==SQLITE_OK && sqlite3_stricmp(zNow, zMode)!=0 ){
      zWhy = sqlite3_mprintf("it is still %s", zNow);
      rc = SQLITE_ERROR;
    }
  }
  /* Out of memory too: the content has changed, and the error must say so. */
  *pzErr = sqlite3_mprintf("restored, but could not set journal_mode back to "
                           "%s: %s", zMode, zWhy ? zWhy : sqlite3_errstr(rc));
  sqlite3_free(zWhy);
  return rc;
}

/*
** A restore that cannot write must change nothing anywhere, the automatic
** backup folder included (doc/guarantees.md "Backed up"): write the value
** user_version already has, in a transaction rolled back at once.  A
** read-only file, or the read-only folder of a rollback-journal database,
** fails here with SQLite's own error.
*/
static int canWrite(sqlite3 *db, char **pzErr){
  i64 v = 0;
  char *zSql;
  int rc = utilPragmaRead(db, "PRAGMA main.user_version", &v);
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
    return rc;
  }
  zSql = sqlite3_mprintf("BEGIN IMMEDIATE; PRAGMA main.user_version=%lld", v);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  if( !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return rc;
}

/*
** The restore of an encrypted database (doc/guarantees.md "Backed up"):
** the backup is attached without a key, so it is read with the database's
** own, and checked; the automatic backup is taken as every backup of an
** encrypted database is; then main's content is replaced with the backup's
** in one transaction (keycopy.c).  The database keeps its page size and
** journal mode.
*/
static int restoreKeyed(sqlite3 *db, MigrateConn *mc, const char *zPath,
                        char **pzAuto, char **pzErr){
  /* Before the backup is attached: BEGIN IMMEDIATE would take a write
  ** lock on it too, which a read-only file refuses. */
  int rc = canWrite(db, pzErr);
  if( rc==SQLITE_OK ) rc = keycopySourceOpen(db, zPath, pzErr);
  if( rc ) return rc;
  if( rc==SQLITE_OK && connBackupOn(mc, db) ){
    rc = backupAuto(db, mc, 1, pzAuto, pzErr);
  }
  if( rc==SQLITE_OK ) rc = keycopyReplace(db, pzErr);
  keycopySourceClose(db);
  return rc;
}

void restoreFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  MigrateConn *mc = (MigrateConn*)sqlite3_user_data(ctx);
  const char *zPath = utilArgText(ctx, argv[0], "migrate_restore", "the path");
  char *zErr = 0, *zAuto = 0;
  char zMode[16];
  sqlite3 *pSrc = 0;
  struct stat st;
  int rc, keyed = 0;
  (void)argc;
  if( zPath==0 ) return;
  if( callGuard(ctx, "migrate_restore", GUARD_NOT_BUSY|GUARD_ALONE) ) return;
  {
    /* A replica is written by its primary alone (doc/replicated.md). */
    int isReplica = 0;
    if( hostIsReplica(db, &isReplica) ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    if( isReplica ){
      ctxErrorMsg(ctx, "%s: this database is a libSQL replica, which only its "
                  "primary writes; run %s on the primary", "migrate_restore",
                  "migrate_restore");
      return;
    }
  }
  if( !sqlite3_get_autocommit(db) ){
    ctxErrorMsg(ctx, "migrate_restore: cannot restore inside a transaction");
    return;
  }
  /* An encrypted database is restored through this connection, which
  ** alone has the key (keycopy.c): the calling statement may not be
  ** reading, or the backup could not be detached after.  Refused before
  ** anything is read, written or logged. */
  if( utilDbKeyed(db, &keyed)==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if( keyed && sqlite3_txn_state(db, 0)!=SQLITE_TXN_NONE ){
    ctxErrorMsg(ctx, "migrate_restore: the database is encrypted, and it is "
        "restored through this connection, in a transaction of its own: call "
        "it from a statement that reads no table (SELECT migrate_restore('%s'))",
        zPath);
    return;
  }
  if( filePathIsLive(db, zPath) ){
    ctxErrorMsg(ctx, "migrate_restore: '%s' is the live database or one of its "
                "files", zPath);
    return;
  }
  if( migrateFileOps.xStat(zPath, &st)!=0 ){
    if( errno!=ENOENT && errno!=ENOTDIR ){
      ctxErrorMsg(ctx, "migrate_restore: cannot stat '%s': %s", zPath,
                  strerror(errno));
      return;
    }
    st.st_mode = 0;   /* nothing there: not a regular file */
  }
  if( !S_ISREG(st.st_mode) ){
    ctxErrorMsg(ctx, "migrate_restore: '%s' is not a file", zPath);
    return;
  }
  if( st.st_size==0 ){
    /* SQLite reads an empty file as an empty database: restoring it would
    ** silently drop everything.  A backup always has at least page 1. */
    ctxErrorMsg(ctx, "migrate_restore: '%s' is empty; it is not a SQLite "
                "database backup", zPath);
    return;
  }
  if( keyed ){
    rc = restoreKeyed(db, mc, zPath, &zAuto, &zErr);
  }else{
    rc = readJournalMode(db, zMode, sizeof(zMode), &zErr);
    if( rc==SQLITE_OK ) rc = openRestoreSource(db, zPath, zMode, &pSrc, &zErr);
    if( rc==SQLITE_OK ) rc = canWrite(db, &zErr);
    if( rc==SQLITE_OK && connBackupOn(mc, db) ){
      /* Replacing everything is the most destructive call there is: keep
      ** what is being replaced, like any other call that changes the schema. */
      rc = backupAuto(db, mc, 0, &zAuto, &zErr);
    }
  }
  if( rc==SQLITE_OK && !keyed ){
    i64 nBefore = utilPragmaValue(db, "PRAGMA main.page_count", 0, 0);
    sqlite3_backup *b = sqlite3_backup_init(db, "main", pSrc, "main");
    if( b==0 ){
      rc = sqlite3_errcode(db);
      zErr = utilDbErr(db);
    }else{
      rc = sqlite3_backup_step(b, -1);
      if( rc==SQLITE_DONE ) rc = SQLITE_OK;
      sqlite3_backup_finish(b);
      if( rc==SQLITE_IOERR_TRUNCATE && shrinkFailedAfterCommit(db, pSrc, nBefore) ){
        rc = SQLITE_OK;
      }
      if( rc ) zErr = sqlite3_mprintf("%s", sqlite3_errstr(rc));
    }
  }
  sqlite3_close(pSrc);
  if( rc==SQLITE_OK && !keyed ) rc = keepJournalMode(db, zMode, &zErr);
  if( zAuto ) historyLog(db, "backup", 0, 0, "ok", zAuto, -1);
  if( rc ){
    historyLog(db, "restore", 0, 0, "failed", zErr, -1);
    ctxErrorMsg(ctx, "migrate_restore: %s", zErr ? zErr : sqlite3_errstr(rc));
  }else{
    historyLog(db, "restore", 0, 0, "ok", zPath, -1);
    sqlite3_result_text(ctx, zPath, -1, SQLITE_TRANSIENT);
  }
  sqlite3_free(zAuto);
  sqlite3_free(zErr);
}
