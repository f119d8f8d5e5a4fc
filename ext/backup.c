/*
** backup.c — consistent copies of the database (restore.c puts one back).
**
**   SELECT migrate_backup('backups/');          -- backups/app-<UTC time>.db
**   SELECT migrate_backup('/tmp/before.db');    -- exactly that new file
**
** A backup is written to a temporary file beside its final name — byte for
** byte under SQLite's read lock in a rollback-journal mode, and in WAL mode
** once a checkpoint has put every committed page in the main file
** (walckpt.c); with SQLite's backup API otherwise — synced, checked (its
** size, page count and schema after a byte copy; PRAGMA quick_check after
** the backup API) and only then linked to its name, so a backup file that
** exists is complete.  It never replaces an existing file and never writes
** to the live database's -journal; what it writes to the live database,
** its -wal and -shm is SQLite's own PASSIVE checkpoint, nothing else.
** Automatic backups (before a call that changes the schema) are named
** <db>-<UTC time>.auto.db; only those are ever removed, oldest first,
** beyond the backup_keep setting.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTO_SUFFIX ".auto.db"

/* ------------------------------------------------------- the copy */

static int verifyCopy(const char *zPath, int immutable, char **pzErr){
  sqlite3 *db = 0;
  int rc = fileOpenDb(zPath, immutable, &db, pzErr);
  if( rc==SQLITE_OK ) rc = fileQuickCheck(db, zPath, pzErr);
  sqlite3_close(db);
  return rc;
}

/*
** A backup is one self-contained file: the copy of a WAL database carries
** the WAL marks in its header (bytes 18 and 19 = 2) and would need -wal and
** -shm beside it to be read, and would switch a database it is restored
** into to WAL.  Mark it a rollback-journal database (1, 1) instead; the
** pages are complete, no WAL holds anything for it.
*/
static int markRollbackJournal(const char *zPath){
  unsigned char a[2];
  ssize_t n;
  int rc = 0;
  int fd = migrateFileOps.xOpen(zPath, O_RDWR|O_CLOEXEC|O_NOFOLLOW, 0);
  if( fd<0 ) return -1;
  /* Unread, the marks may be WAL's: such a copy is never published. */
  n = migrateFileOps.xPread(fd, a, 2, 18);
  if( n==2 && a[0]==2 && a[1]==2 ){
    a[0] = a[1] = 1;
    n = migrateFileOps.xPwrite(fd, a, 2, 18);
  }
  if( n!=2 ){
    if( n>=0 ) errno = EIO;   /* short: errno says nothing */
    rc = -1;
  }
  migrateFileOps.xClose(fd);
  return rc;
}

/* ------------------------------------------------------- the direct copy */

#define COPY_FALLBACK (-1)          /* not copied: use the backup API */
/* What directCandidate finds: a byte copy may be tried, and how. */
#define DIRECT_JOURNAL 1            /* a rollback-journal mode */
#define DIRECT_WAL     2            /* WAL: after a checkpoint (walckpt.c) */
/* Read transactions begun, each followed by a checkpoint, a millisecond
** apart, before a WAL database is copied by pages instead.  A later try can
** outrun a commit that landed between the read and the checkpoint, or
** another connection's checkpoint holding the lock (a writer's automatic
** one); a reader on an older snapshot it cannot, and costs ~10 ms. */
#define WAL_TRIES 10
/* A multiple of every page size, and small enough to stay in the CPU's
** cache between the read and the write: 1 MiB measured 1.5x slower. */
#define COPY_CHUNK (256*1024)

/*
** The database file may be copied byte for byte: the default unix VFS, no
** bytes reserved in its pages, and not held in exclusive locking mode (where
** no second connection could read it).  DIRECT_JOURNAL in a rollback-journal
** mode; DIRECT_WAL in WAL mode, except where no checkpoint of ours may write:
** through a read-only connection (its caller asked that nothing be written)
** and on a libSQL replica (whose -wal its primary writes); else 0.  The
** final word is copyDirect's, under the read lock; this only saves opening a
** connection that would not be used.
*/
static int directCandidate(sqlite3 *db){
  sqlite3_vfs *pVfs = 0;
  char zMode[16];
  int nReserve = -1, isReplica = 0;
  if( !utilDbIsFile(db) ) return 0;
  if( sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs)!=SQLITE_OK
   || pVfs==0 || strcmp(pVfs->zName, "unix")!=0 ) return 0;
  /* Bytes reserved in each page are a codec's or a checksum's: whatever
  ** they hold, the pages are SQLite's to copy, not the file's bytes. */
  if( sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &nReserve)!=SQLITE_OK
   || nReserve!=0 ) return 0;
  utilPragmaValue(db, "PRAGMA main.locking_mode", zMode, sizeof(zMode));
  if( sqlite3_stricmp(zMode, "exclusive")==0 ) return 0;
  utilPragmaValue(db, "PRAGMA main.journal_mode", zMode, sizeof(zMode));
  if( sqlite3_stricmp(zMode, "wal")!=0 ) return DIRECT_JOURNAL;
  if( sqlite3_db_readonly(db, "main")!=0
   || hostIsReplica(db, &isReplica) || isReplica ) return 0;
  return DIRECT_WAL;
}

/*
** Copy the main database file of pRead, a private connection of ours, into
** the empty file zTmp, byte for byte.  COPY_FALLBACK, with zTmp untouched,
** when this database is not one that can be copied so.
**
** Consistent.  The copy is made inside a read transaction of pRead, which
** holds SQLite's SHARED lock on the file from before the first byte is read
** to after the last.  In a rollback-journal mode every write to the database
** file, by any connection of any process, is made under an EXCLUSIVE lock,
** which cannot be taken while a SHARED lock is held; and SQLite grants the
** SHARED lock only after a hot journal has been rolled back.  So the file
** holds one committed state throughout, and PRAGMA page_count, read in the
** same transaction, is that state's size: the bytes past it (a file not yet
** truncated) belong to no page and are not copied.
**
** In WAL mode (wal set) committed pages also live in the -wal, and writers
** are not kept out by a reader.  The read transaction is begun, then a
** PASSIVE checkpoint through a second connection must report every frame in
** the main file: from then until the read ends, the file holds exactly the
** read's snapshot (walckpt.c says why).  Else, after WAL_TRIES reads, the
** backup API copies the pages.
**
** Lock-safe.  POSIX locks belong to the process, and close() of any
** descriptor of a file drops all of them, the SHARED and RESERVED locks
** SQLite holds for this and every other connection of the process included.
** So the live file is never opened or closed here: its bytes are read with
** xRead of pRead's own sqlite3_file (the public VFS interface), which reads
** through SQLite's descriptor under SQLite's lock.  copy_file_range() and a
** reflink (FICLONE) would need a descriptor of the file: SQLite's is not
** public, and one of our own would drop the locks when closed.  (On ext4,
** copy_file_range measured no faster than these 256 KiB reads and writes.)
**
** Not copied so: another VFS (it may encrypt, check or hold pages elsewhere:
** the bytes of the file are not the database), a file whose header does not
** start "SQLite format 3" (an encrypting codec), a journal mode other than
** the one expected, WAL whose file does not hold the snapshot, an empty file.
*/
static int copyDirect(sqlite3 *pRead, const char *zTmp, int wal, i64 *pnPage,
                      char **pzErr){
  sqlite3_file *pFile = 0;
  sqlite3 *pCk = 0;
  unsigned char aHdr[100];
  unsigned char *aBuf = 0;
  char zMode[16];
  i64 pageSize, nPage, nByte, off;
  int fd = -1, rc, nTry;
  if( wal && (pCk = walckptOpen(pRead))==0 ) return COPY_FALLBACK;
  for(nTry=1; ; nTry++){
    if( sqlite3_exec(pRead, "BEGIN; SELECT count(*) FROM main.sqlite_schema", 0, 0, 0) ){
      /* No read lock.  Kept out by writers for the whole busy timeout: the
      ** backup API would be kept out too.  Otherwise (a hot journal that this
      ** read-only connection cannot roll back) the backup API's way decides. */
      rc = (sqlite3_errcode(pRead) & 0xff)==SQLITE_BUSY ? SQLITE_BUSY : COPY_FALLBACK;
      if( rc==SQLITE_BUSY ){
        *pzErr = sqlite3_mprintf("copy failed: %s", sqlite3_errmsg(pRead));
      }
      sqlite3_exec(pRead, "ROLLBACK", 0, 0, 0);
      sqlite3_close(pCk);
      return rc;
    }
    if( pCk==0 || walckptComplete(pCk) ) break;
    sqlite3_exec(pRead, "COMMIT", 0, 0, 0);
    if( nTry==WAL_TRIES ){
      sqlite3_close(pCk);
      return COPY_FALLBACK;
    }
    sqlite3_sleep(1);
  }
  /* Closed while this read holds its lock: never the last connection of the
  ** file, so its close neither checkpoints nor deletes the -wal. */
  sqlite3_close(pCk);
  rc = COPY_FALLBACK;
  utilPragmaValue(pRead, "PRAGMA main.journal_mode", zMode, sizeof(zMode));
  pageSize = utilPragmaValue(pRead, "PRAGMA main.page_size", 0, 0);
  nPage = utilPragmaValue(pRead, "PRAGMA main.page_count", 0, 0);
  nByte = pageSize*nPage;
  if( (sqlite3_stricmp(zMode, "wal")==0)!=(wal!=0) || nPage<=0 || pageSize<512
   || sqlite3_file_control(pRead, "main", SQLITE_FCNTL_FILE_POINTER, &pFile)
   || pFile==0 || pFile->pMethods==0
   || pFile->pMethods->xRead(pFile, aHdr, sizeof(aHdr), 0)!=SQLITE_OK
   || memcmp(aHdr, "SQLite format 3", 16)!=0
   || aHdr[18]!=(wal ? 2 : 1) || aHdr[19]!=(wal ? 2 : 1)
   || ((aHdr[16]<<8 | aHdr[17])==1 ? 65536 : (aHdr[16]<<8 | aHdr[17]))!=pageSize ){
    goto done;
  }
  aBuf = sqlite3_malloc(COPY_CHUNK);
  fd = migrateFileOps.xOpen(zTmp, O_WRONLY|O_CLOEXEC|O_NOFOLLOW, 0);
  if( aBuf==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  if( fd<0 ){
    *pzErr = sqlite3_mprintf("cannot open '%s': %s", zTmp, strerror(errno));
    rc = SQLITE_CANTOPEN;
    goto done;
  }
  rc = SQLITE_OK;
  *pnPage = nPage;
  for(off=0; off<nByte && rc==SQLITE_OK; off+=COPY_CHUNK){
    int n = nByte-off<COPY_CHUNK ? (int)(nByte-off) : COPY_CHUNK;
    /* A short read is zero-filled by the VFS: the pages past the end of a
    ** file SQLite reads as zeros are copied as zeros. */
    rc = pFile->pMethods->xRead(pFile, aBuf, n, off);
    if( rc==SQLITE_IOERR_SHORT_READ ) rc = SQLITE_OK;
    if( rc ){
      *pzErr = sqlite3_mprintf("cannot read the database: %s", sqlite3_errstr(rc));
    }else if( fileWriteAll(fd, aBuf, (size_t)n) ){
      *pzErr = sqlite3_mprintf("cannot write '%s': %s", zTmp, strerror(errno));
      rc = SQLITE_IOERR;
    }
  }
done:
  if( fd>=0 && migrateFileOps.xClose(fd)!=0 && rc==SQLITE_OK ){
    *pzErr = sqlite3_mprintf("cannot write '%s': %s", zTmp, strerror(errno));
    rc = SQLITE_IOERR;
  }
  sqlite3_free(aBuf);
  sqlite3_exec(pRead, "COMMIT", 0, 0, 0);
  return rc;
}

/*
** The check of a byte-for-byte copy, once it is synced: the file holds
** exactly the nPage pages copied, and SQLite reads it as a database of
** nPage pages whose schema it can parse.  That is what can go wrong in
** copying bytes (a write lost or cut short); every other property of the
** copy is the live database's own, read under its lock.  PRAGMA quick_check
** would read all of it again, for about as long as the copy took
** (doc/guarantees.md, "Backed up"); migrate_restore runs it before a backup
** is put back.
*/
static int verifyDirectCopy(const char *zPath, i64 nPage, char **pzErr){
  sqlite3 *db = 0;
  struct stat st;
  i64 nHave = 0, pageSize = 0;
  int rc;
  if( migrateFileOps.xStat(zPath, &st)!=0 ){
    *pzErr = sqlite3_mprintf("cannot read '%s': %s", zPath, strerror(errno));
    return SQLITE_IOERR;
  }
  rc = fileOpenDb(zPath, 1, &db, pzErr);
  if( rc==SQLITE_OK ){
    sqlite3_stmt *p = 0;
    rc = sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_schema),"
                            " (SELECT page_count FROM pragma_page_count),"
                            " (SELECT page_size FROM pragma_page_size)", -1, &p, 0);
    if( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      nHave = sqlite3_column_int64(p, 1);
      pageSize = sqlite3_column_int64(p, 2);
    }else{
      *pzErr = sqlite3_mprintf("'%s' failed its check: %s", zPath, sqlite3_errmsg(db));
      rc = SQLITE_CORRUPT;
    }
    sqlite3_finalize(p);
  }
  sqlite3_close(db);
  if( rc==SQLITE_OK && (nHave!=nPage || (i64)st.st_size!=nPage*pageSize) ){
    *pzErr = sqlite3_mprintf("'%s' failed its check: %lld bytes, %lld pages; "
                             "%lld pages were copied", zPath, (i64)st.st_size,
                             nHave, nPage);
    rc = SQLITE_CORRUPT;
  }
  return rc;
}

/* ------------------------------------------------------- the copy */

/* Copy schema main of pSrc into the empty file zTmp with the backup API.  The
** destination connection is private, unjournaled and unsynced while it
** writes: the file has no name anyone uses until it is complete. */
static int copyPages(sqlite3 *pSrc, const char *zTmp, char **pzErr){
  sqlite3 *pDest = 0;
  sqlite3_backup *b;
  int rc = utilOpenPath(zTmp, SQLITE_OPEN_READWRITE, 0, 0, &pDest);
  if( rc==SQLITE_OK ){
    sqlite3_exec(pDest, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", 0, 0, 0);
    b = sqlite3_backup_init(pDest, "main", pSrc, "main");
    if( b==0 ){
      rc = sqlite3_errcode(pDest);
    }else{
      int nWait = 0;
      while( ((rc = sqlite3_backup_step(b, -1))==SQLITE_BUSY || rc==SQLITE_LOCKED)
             && nWait++<500 ){
        /* The source is briefly locked by a writer: wait, up to ~5 s. */
        sqlite3_sleep(10);
      }
      if( rc==SQLITE_DONE ) rc = SQLITE_OK;
      sqlite3_backup_finish(b);
    }
    if( rc ) *pzErr = sqlite3_mprintf("copy failed: %s", sqlite3_errmsg(pDest));
  }else{
    *pzErr = sqlite3_mprintf("cannot open '%s': %s", zTmp, sqlite3_errmsg(pDest));
  }
  sqlite3_close(pDest);
  return rc;
}

/*
** The copy of an encrypted database (keycopy.c), and the proof that it is
** not plain: a file that starts with SQLite's header was not encrypted as it
** was written, and is never given a name.  (Its quick_check ran inside.)
*/
static int copyKeyed(sqlite3 *db, const char *zTmp, char **pzErr){
  unsigned char aHdr[16];
  int fd, rc = keycopyInto(db, zTmp, pzErr);
  if( rc ) return rc;
  errno = 0;   /* a short read sets none */
  fd = migrateFileOps.xOpen(zTmp, O_RDONLY|O_CLOEXEC|O_NOFOLLOW, 0);
  if( fd<0 || migrateFileOps.xPread(fd, aHdr, sizeof(aHdr), 0)!=(ssize_t)sizeof(aHdr) ){
    *pzErr = sqlite3_mprintf("cannot read '%s': %s", zTmp,
                             fd<0 || errno ? strerror(errno) : "short file");
    rc = SQLITE_IOERR;
  }else if( memcmp(aHdr, "SQLite format 3", 16)==0 ){
    *pzErr = sqlite3_mprintf("'%s' was written without encryption: this "
        "SQLite does not give an attached database the main database's key, "
        "so migrate cannot copy an encrypted database here", zTmp);
    rc = SQLITE_ERROR;
  }
  if( fd>=0 ) migrateFileOps.xClose(fd);
  return rc;
}

/*
** Copy schema main of db into the new file zDest: byte for byte where that
** is consistent (copyDirect), else with the backup API, reading pCommitted
** (a private connection that sees only what is committed: automatic backups)
** or, when that is NULL, db itself (migrate_backup: a read transaction of the
** caller's is copied as it sees the database).  The file is written under a
** temporary name, synced, checked, and only then given its name.
*/
static int copyTo(sqlite3 *db, sqlite3 *pCommitted, int keyed,
                  const char *zDest, char **pzErr){
  sqlite3 *pRead = 0;
  struct stat st;
  char *zTmp;
  int lockFd = -1;   /* holds the temporary file's flock() while it is written */
  i64 nPage = 0;     /* pages copied byte for byte; 0: by the backup API */
  int rc, direct;
  if( filePathIsLive(db, zDest) ){
    *pzErr = sqlite3_mprintf("'%s' is the live database or one of its files", zDest);
    return SQLITE_ERROR;
  }
  if( migrateFileOps.xLstat(zDest, &st)==0 ){
    *pzErr = sqlite3_mprintf("'%s' already exists; a backup never replaces a "
                             "file", zDest);
    return SQLITE_ERROR;
  }
  {
    /* Temporary files of backups killed before they finished are removed
    ** here, the next time a backup is written to that folder. */
    char *zFolder = fileFolderOf(zDest);
    if( zFolder==0 ) return SQLITE_NOMEM;
    fileSweepTemps(zFolder);
    sqlite3_free(zFolder);
  }
  rc = fileMakeTemp(zDest, &zTmp, &lockFd);
  if( rc ){
    if( rc==SQLITE_CANTOPEN ){
      *pzErr = sqlite3_mprintf("cannot create a file beside '%s': %s", zDest,
                               strerror(errno));
    }
    return rc;
  }
  rc = COPY_FALLBACK;
  if( keyed ){
    rc = copyKeyed(db, zTmp, pzErr);
  }else if( (direct = directCandidate(db))!=0 ){
    if( pCommitted==0 && utilOpenCommitted(db, &pRead)!=SQLITE_OK ){
      sqlite3_close(pRead);
      pRead = 0;
    }
    if( pCommitted || pRead ){
      rc = copyDirect(pCommitted ? pCommitted : pRead, zTmp,
                      direct==DIRECT_WAL, &nPage, pzErr);
    }
    sqlite3_close(pRead);
  }
  if( rc==COPY_FALLBACK ) rc = copyPages(pCommitted ? pCommitted : db, zTmp, pzErr);
  if( rc==SQLITE_OK && !keyed && markRollbackJournal(zTmp)!=0 ){
    *pzErr = sqlite3_mprintf("cannot write '%s': %s", zTmp, strerror(errno));
    rc = SQLITE_IOERR;
  }
  if( rc==SQLITE_OK && fileSync(zTmp, 0)!=0 ){
    *pzErr = sqlite3_mprintf("cannot sync '%s': %s", zTmp, strerror(errno));
    rc = SQLITE_IOERR;
  }
  if( rc==SQLITE_OK && !keyed ){
    rc = nPage ? verifyDirectCopy(zTmp, nPage, pzErr) : verifyCopy(zTmp, 1, pzErr);
  }
  if( rc==SQLITE_OK ) rc = filePublish(zTmp, zDest, pzErr);
  if( rc==SQLITE_OK ) fileSyncParent(zDest);
  fileRemoveTemp(zTmp, lockFd);
  sqlite3_free(zTmp);
  return rc;
}

/* "app" for /data/app.db: backup files are named after the database. */
static char *dbStem(sqlite3 *db){
  const char *zDb = sqlite3_db_filename(db, "main");
  const char *zBase, *zDot;
  if( zDb==0 || zDb[0]==0 ) return sqlite3_mprintf("memory");
  zBase = utilLastSlash(zDb);
  zBase = zBase ? zBase+1 : zDb;
  zDot = strrchr(zBase, '.');
  if( zDot==0 || zDot==zBase ) return sqlite3_mprintf("%s", zBase);
  return sqlite3_mprintf("%.*s", (int)(zDot-zBase), zBase);
}

/* dir/<db>-<UTC time><suffix>, with -2, -3 ... if that name is taken. */
static int copyIntoDir(sqlite3 *db, sqlite3 *pCommitted, int keyed,
                       const char *zDir, const char *zSuffix, char **pzPath,
                       char **pzErr){
  char *zStem = dbStem(db);
  char *zStamp = utilUtcStamp();
  int rc = SQLITE_NOMEM, i;
  int nDir = (int)strlen(zDir);
  while( nDir>1 && zDir[nDir-1]=='/' ) nDir--;   /* "backups/" -> "backups" */
  *pzPath = 0;
  for(i=1; zStem && zStamp && i<100; i++){
    char *zPath = i==1
      ? sqlite3_mprintf("%.*s/%s-%s%s", nDir, zDir, zStem, zStamp, zSuffix)
      : sqlite3_mprintf("%.*s/%s-%s-%d%s", nDir, zDir, zStem, zStamp, i, zSuffix);
    struct stat st;
    if( zPath==0 ){ rc = SQLITE_NOMEM; break; }
    if( migrateFileOps.xLstat(zPath, &st)==0 ){ sqlite3_free(zPath); continue; }
    rc = copyTo(db, pCommitted, keyed, zPath, pzErr);
    if( rc ){ sqlite3_free(zPath); break; }
    *pzPath = zPath;
    break;
  }
  sqlite3_free(zStem);
  sqlite3_free(zStamp);
  return rc;
}

/* -------------------------------------------------- automatic backups */

/* One automatic backup file of this database, and when the log says it was
** made (0: the log does not say so). */
typedef struct AutoFile {
  char *zName;
  i64 logId;         /* migrate_log.id of the newest row naming it */
} AutoFile;

static int isDigits(const char *z, int n){
  int i;
  for(i=0; i<n; i++) if( z[i]<'0' || z[i]>'9' ) return 0;
  return 1;
}

/* Is the name after "<stem>-" exactly our pattern, YYYYMMDD-HHMMSS-mmm with
** an optional -N, then .auto.db?  Nothing else (another database's backups,
** a manual one) is ever touched. */
static int isAutoName(const char *z){
  size_t n = strlen(z), nSuf = strlen(AUTO_SUFFIX);
  const char *zEnd;
  if( n<19+nSuf || strcmp(z+n-nSuf, AUTO_SUFFIX)!=0 ) return 0;
  if( !isDigits(z, 8) || z[8]!='-' || !isDigits(z+9, 6) || z[15]!='-'
   || !isDigits(z+16, 3) ) return 0;
  zEnd = z+n-nSuf;
  if( z+19==zEnd ) return 1;
  return z[19]=='-' && zEnd-(z+20)>=1 && zEnd-(z+20)<=6
      && isDigits(z+20, (int)(zEnd-(z+20)));
}

static int cmpAutoName(const void *a, const void *b){
  return strcmp(((const AutoFile*)a)->zName, ((const AutoFile*)b)->zName);
}
static int cmpAutoLog(const void *a, const void *b){
  i64 x = ((const AutoFile*)a)->logId, y = ((const AutoFile*)b)->logId;
  return x<y ? -1 : x>y;
}

/*
** Mark each file with the newest migrate_log row that records it as an
** automatic backup this database made (a `backup`/`ok` row whose path ends
** in its name).  The log is read only when it is an ordinary table: a view
** or a virtual table of that name would run code of the file's choosing.
** a[] is sorted by name.
*/
static void markLogged(sqlite3 *db, AutoFile *a, int n){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, "SELECT 1 FROM main.sqlite_schema WHERE type='table'"
        " AND name='migrate_log' AND sql NOT LIKE 'CREATE VIRTUAL%'", -1, &p, 0)
   || sqlite3_step(p)!=SQLITE_ROW ){
    sqlite3_finalize(p);
    return;
  }
  sqlite3_finalize(p);
  p = 0;
  if( sqlite3_prepare_v2(db, "SELECT id, message FROM main.migrate_log"
        " WHERE action='backup' AND outcome='ok' AND typeof(id)='integer'"
        " AND typeof(message)='text' ORDER BY id", -1, &p, 0)==SQLITE_OK ){
    while( sqlite3_step(p)==SQLITE_ROW ){
      const char *zMsg = (const char*)sqlite3_column_text(p, 1);
      const char *zBase = zMsg ? strrchr(zMsg, '/') : 0;
      AutoFile key, *pHit;
      if( zMsg==0 ) continue;
      key.zName = (char*)(zBase ? zBase+1 : zMsg);
      pHit = bsearch(&key, a, (size_t)n, sizeof(AutoFile), cmpAutoName);
      if( pHit ) pHit->logId = sqlite3_column_int64(p, 0);
    }
  }
  sqlite3_finalize(p);
}

/*
** Remove the oldest automatic backups of this database beyond keep
** (doc/guarantees.md "Backed up").  Only files the database's own
** migrate_log records as its automatic backups are candidates, in the
** order the log recorded them: a name's time stamp is not trusted (the
** clock may have stepped back; files may come from another host), and a
** file the log does not name is never deleted.  zFresh, the backup just
** taken, is never deleted and counts as one of the kept.
*/
static void pruneAuto(sqlite3 *db, const char *zDir, const char *zFresh, int keep){
  char *zStem = dbStem(db);
  const char *zFreshName = zFresh ? strrchr(zFresh, '/') : 0;
  DIR *d;
  struct dirent *de;
  AutoFile *a = 0;
  int n = 0, nAlloc = 0, i, nLogged = 0;
  size_t nStem;
  zFreshName = zFreshName ? zFreshName+1 : zFresh;
  if( keep<=0 || zStem==0 || (d = migrateFileOps.xOpendir(zDir))==0 ){
    sqlite3_free(zStem);
    return;
  }
  nStem = strlen(zStem);
  while( (de = migrateFileOps.xReaddir(d))!=0 ){
    AutoFile f;
    if( strncmp(de->d_name, zStem, nStem)!=0 || de->d_name[nStem]!='-'
     || !isAutoName(de->d_name+nStem+1)
     || (zFreshName && strcmp(de->d_name, zFreshName)==0) ) continue;
    if( utilArrayReserve((void**)&a, &nAlloc, n, sizeof(AutoFile)) ) break;
    f.zName = sqlite3_mprintf("%s", de->d_name);
    f.logId = 0;
    if( f.zName ) a[n++] = f;
  }
  migrateFileOps.xClosedir(d);
  if( n>0 ){
    qsort(a, (size_t)n, sizeof(AutoFile), cmpAutoName);
    markLogged(db, a, n);
    qsort(a, (size_t)n, sizeof(AutoFile), cmpAutoLog);
  }
  for(i=0; i<n; i++) if( a[i].logId>0 ) nLogged++;
  for(i=0; i<n; i++){
    /* Unlogged files sort first (logId 0) and are skipped; of the logged,
    ** the oldest go until keep-1 remain beside the fresh one. */
    if( a[i].logId>0 && nLogged>keep-1 ){
      char *zPath = sqlite3_mprintf("%s/%s", zDir, a[i].zName);
      if( zPath ){ migrateFileOps.xUnlink(zPath); sqlite3_free(zPath); }
      nLogged--;
    }
    sqlite3_free(a[i].zName);
  }
  sqlite3_free(a);
  sqlite3_free(zStem);
}

/*
** The automatic backup taken by a migrate call that holds the write lock
** (BEGIN IMMEDIATE) and has changed nothing yet.  The copy is read through a
** second, read-only connection: the backup API refuses a source connection
** that is inside a write transaction, and the lock we hold means the other
** connection sees exactly the state the call starts from.
*/
static int lockedExclusive(sqlite3 *db){
  char zMode[16];
  utilPragmaValue(db, "PRAGMA main.locking_mode", zMode, sizeof(zMode));
  return sqlite3_stricmp(zMode, "exclusive")==0;
}

int backupAuto(sqlite3 *db, MigrateConn *mc, int keyed, char **pzPath,
               char **pzErr){
  char *zDir = connBackupDir(mc, db);
  sqlite3 *pSrc = 0;
  int rc;
  *pzPath = 0;
  if( zDir==0 ) return SQLITE_NOMEM;
  if( migrateFileOps.xMkdir(zDir, 0755)!=0 && errno!=EEXIST ){
    *pzErr = sqlite3_mprintf("cannot create backup folder '%s': %s", zDir,
                             strerror(errno));
    sqlite3_free(zDir);
    return SQLITE_CANTOPEN;
  }
  if( (rc = fileIsDir(zDir))!=1 ){
    *pzErr = rc<0
      ? sqlite3_mprintf("cannot stat backup folder '%s': %s", zDir, strerror(errno))
      : sqlite3_mprintf("backup folder '%s' is a file, not a folder: move the "
          "file away, or set migrate_config('backup_dir', '<folder>') or "
          "migrate_config('backup', 'off')", zDir);
    sqlite3_free(zDir);
    return SQLITE_CANTOPEN;
  }
  if( keyed ){
    /* Through the caller's connection, which alone has the key. */
    rc = copyIntoDir(db, 0, 1, zDir, AUTO_SUFFIX, pzPath, pzErr);
  }else if( lockedExclusive(db) ){
    /* PRAGMA locking_mode=EXCLUSIVE: no second connection can read the file
    ** while this one holds it, and SQLite's backup API will not read from a
    ** connection in a write transaction: say so at once rather than wait
    ** out the busy timeout. */
    *pzErr = sqlite3_mprintf("the connection holds the database in PRAGMA "
        "locking_mode=EXCLUSIVE, so no copy can be read while the call holds "
        "its lock; take one with migrate_backup() before the call and set "
        "migrate_config('backup', 'off'), or use locking_mode=NORMAL");
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }else if( (rc = utilOpenCommitted(db, &pSrc))==SQLITE_OK ){
    rc = copyIntoDir(db, pSrc, 0, zDir, AUTO_SUFFIX, pzPath, pzErr);
  }else{
    *pzErr = sqlite3_mprintf("cannot open the database to copy it: %s",
                             pSrc ? sqlite3_errmsg(pSrc) : sqlite3_errstr(rc));
  }
  sqlite3_close(pSrc);
  if( rc==SQLITE_OK ) pruneAuto(db, zDir, *pzPath, mc->backupKeep);
  sqlite3_free(zDir);
  return rc;
}

/* --------------------------------------------------------- the calls */

/*
** Does zPath (trailing slashes dropped) name the automatic backup folder of
** this connection, whether or not it exists yet?  A manual backup written
** there under that name would be a file where every later call needs a
** folder, and would lock the user out of migrating.
*/
static int namesAutoDir(sqlite3 *db, MigrateConn *mc, const char *zPath,
                        int nPath){
  char *zAuto = connBackupDir(mc, db);
  char *zGiven = sqlite3_mprintf("%.*s", nPath, zPath);
  char *zAutoCanon = zAuto ? fileCanonical(zAuto) : 0;
  char *zGivenCanon = zGiven ? fileCanonical(zGiven) : 0;
  int same = zAutoCanon && zGivenCanon && strcmp(zAutoCanon, zGivenCanon)==0;
  sqlite3_free(zAuto);
  sqlite3_free(zGiven);
  sqlite3_free(zAutoCanon);
  sqlite3_free(zGivenCanon);
  return same;
}

/*
** Where migrate_backup(zPath) writes (doc/reference.md "migrate_backup"):
** into a folder when zPath is an existing folder, ends with '/', or names
** the automatic backup folder (the last two are created when missing);
** otherwise to the new file zPath.  Returns 1 for a folder, 0 for a file,
** or an SQLite error code with *pzErr set.
*/
static int backupTarget(sqlite3 *db, MigrateConn *mc, const char *zPath,
                        int *pIsDir, char **pzErr){
  int nPath = (int)strlen(zPath);
  int wantDir = zPath[nPath-1]=='/';
  int rc;
  while( nPath>1 && zPath[nPath-1]=='/' ) nPath--;
  if( !wantDir ) wantDir = namesAutoDir(db, mc, zPath, nPath);
  rc = fileIsDir(zPath);
  if( rc==0 && wantDir ){
    char *zDir = sqlite3_mprintf("%.*s", nPath, zPath);
    if( zDir==0 ) return SQLITE_NOMEM;
    if( migrateFileOps.xMkdir(zDir, 0755)!=0 && errno!=EEXIST ){
      *pzErr = sqlite3_mprintf("cannot create folder '%s': %s", zPath,
                               strerror(errno));
      sqlite3_free(zDir);
      return SQLITE_CANTOPEN;
    }
    rc = fileIsDir(zDir);
    sqlite3_free(zDir);
    if( rc==0 ){
      *pzErr = sqlite3_mprintf("'%s' names a folder, but a file of that name "
                               "exists", zPath);
      return SQLITE_CANTOPEN;
    }
  }
  if( rc<0 ){
    *pzErr = sqlite3_mprintf("cannot stat '%s': %s", zPath, strerror(errno));
    return SQLITE_IOERR;
  }
  *pIsDir = rc;
  return SQLITE_OK;
}

void backupFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  MigrateConn *mc = (MigrateConn*)sqlite3_user_data(ctx);
  const char *zPath = utilArgText(ctx, argv[0], "migrate_backup", "the path");
  char *zOut = 0, *zErr = 0;
  int rc, isFolder = 0, keyed = 0;
  (void)argc;
  if( zPath==0 ) return;
  /* A file written from a migration would stay when the call then fails;
  ** the call takes its own automatic backup before it changes anything. */
  if( callGuard(ctx, "migrate_backup", GUARD_NOT_BUSY) ) return;
  /* Uncommitted changes would be missing from a copy of the file. */
  if( sqlite3_txn_state(db, "main")==SQLITE_TXN_WRITE ){
    ctxErrorMsg(ctx, "migrate_backup: the database has uncommitted changes; "
                "commit them before taking a backup");
    return;
  }
  /* An encrypted database is copied through this connection, which alone
  ** has the key (keycopy.c): no transaction may be open, not even the read
  ** transaction of the calling statement or another one, or the copy
  ** could not be detached after.
  ** Refused before anything is made (backupTarget may create the folder). */
  if( utilDbKeyed(db, &keyed)==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if( keyed && (!sqlite3_get_autocommit(db)
                || sqlite3_txn_state(db, 0)!=SQLITE_TXN_NONE) ){
    ctxErrorMsg(ctx, "migrate_backup: the database is encrypted, and its "
                "backup is written through this connection, in a transaction "
                "of its own: call it outside a transaction, from a statement "
                "that reads no table (SELECT migrate_backup('%s'))", zPath);
    return;
  }
  if( keyed && callGuard(ctx, "migrate_backup", GUARD_ALONE) ) return;
  rc = backupTarget(db, mc, zPath, &isFolder, &zErr);
  if( rc==SQLITE_OK && isFolder ){
    rc = copyIntoDir(db, 0, keyed, zPath, ".db", &zOut, &zErr);
  }else if( rc==SQLITE_OK ){
    rc = copyTo(db, 0, keyed, zPath, &zErr);
    if( rc==SQLITE_OK && (zOut = sqlite3_mprintf("%s", zPath))==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_NOMEM && zErr==0 ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc ){
    const char *zMsg = zErr ? zErr : sqlite3_errstr(rc);
    if( sqlite3_get_autocommit(db) ) historyLog(db, "backup", 0, 0, "failed", zMsg, -1);
    ctxErrorMsg(ctx, "migrate_backup: %s", zMsg);
  }else{
    if( sqlite3_get_autocommit(db) ) historyLog(db, "backup", 0, 0, "ok", zOut, -1);
    sqlite3_result_text(ctx, zOut, -1, sqlite3_free);
    zOut = 0;
  }
  sqlite3_free(zOut);
  sqlite3_free(zErr);
}
