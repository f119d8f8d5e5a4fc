/*
** files.c — every file the extension reads or writes itself: path safety,
** reading a migration file whole, and the safe ways to write one.
**
**   fileReadWhole       one regular file into memory, links refused
**   filePathIsLive      is a path the live database, its -wal, -shm or -journal?
**   fileMakeTemp        a new empty file beside a destination
**   filePublish         give a finished temporary file its name, never replacing
**   fileWriteReplacing  text -> temporary file, synced, renamed over the old one
**   fileWriteNew        text -> a new file (O_EXCL), synced
**   fileOpenDb          a database file opened read-only (immutable if private)
**
** Every call goes through the migrateFileOps table (fileops.h), so the fault build
** can fail any one of them.  A file that is written is always synced before
** it gets its name, and its folder after, so the name lasts too.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <errno.h>
#include <limits.h>
#include <string.h>

/* ------------------------------------------------------------- reading */

/*
** Read one file whole through a descriptor that does not follow a symbolic
** link, so what is hashed is exactly what is run, and refuse anything that
** is not a regular file of a sane size.  zShow names the file in errors.
** pSt, if not NULL, gets the open file's stat (what was read is that file).
*/
int fileReadWhole(const char *zPath, const char *zShow, char **pz, size_t *pn,
                  struct stat *pSt, char **pzErr){
  struct stat st;
  char *z;
  size_t got = 0;
  int fd = migrateFileOps.xOpen(zPath, O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK, 0);
  if( fd<0 ){
    *pzErr = sqlite3_mprintf("%s: cannot open for reading: %s", zShow, strerror(errno));
    return SQLITE_ERROR;
  }
  if( migrateFileOps.xFstat(fd, &st)!=0 ){
    int e = errno;
    migrateFileOps.xClose(fd);
    *pzErr = sqlite3_mprintf("%s: cannot stat: %s", zShow, strerror(e));
    return SQLITE_ERROR;
  }
  if( !S_ISREG(st.st_mode) ){
    migrateFileOps.xClose(fd);
    *pzErr = sqlite3_mprintf("%s: is not a regular file", zShow);
    return SQLITE_ERROR;
  }
  if( st.st_size>MIGRATE_MAX_FILE ){
    migrateFileOps.xClose(fd);
    *pzErr = sqlite3_mprintf("%s: file is larger than the %d MiB limit",
                             zShow, MIGRATE_MAX_FILE/(1024*1024));
    return SQLITE_ERROR;
  }
  z = sqlite3_malloc64((sqlite3_uint64)st.st_size + 1);
  if( z==0 ){ migrateFileOps.xClose(fd); return SQLITE_NOMEM; }
  while( got<(size_t)st.st_size ){
    ssize_t r = migrateFileOps.xRead(fd, z+got, (size_t)st.st_size-got);
    if( r<0 && errno==EINTR ) continue;
    if( r<=0 ){
      int e = errno;
      migrateFileOps.xClose(fd);
      sqlite3_free(z);
      *pzErr = sqlite3_mprintf("%s: read failed: %s", zShow,
                               r<0 ? strerror(e) : "file shrank while reading");
      return SQLITE_ERROR;
    }
    got += (size_t)r;
  }
  migrateFileOps.xClose(fd);
  z[got] = 0;
  *pz = z;
  *pn = got;
  if( pSt ) *pSt = st;
  return SQLITE_OK;
}

/* 1 a directory, 0 not one (or nothing there), -1 cannot tell (errno). */
int fileIsDir(const char *zPath){
  struct stat st;
  if( migrateFileOps.xStat(zPath, &st)!=0 ) return errno==ENOENT || errno==ENOTDIR ? 0 : -1;
  return S_ISDIR(st.st_mode);
}

/* --------------------------------------------------------- path safety */

static const char *const azLiveSuffix[] = {"", "-wal", "-shm", "-journal"};
#define N_LIVE_SUFFIX (int)(sizeof(azLiveSuffix)/sizeof(azLiveSuffix[0]))

/* Two names of one file, by their text.  Windows takes '/' for '\\' and
** names files without regard to case (ASCII's, as a fold SQLite itself has). */
static int samePath(const char *zA, const char *zB){
#ifdef _WIN32
  for(; *zA && *zB; zA++, zB++){
    char a = *zA=='\\' ? '/' : *zA, b = *zB=='\\' ? '/' : *zB;
    if( a!=b && sqlite3_strnicmp(&a, &b, 1)!=0 ) return 0;
  }
  return *zA==*zB;
#else
  return strcmp(zA, zB)==0;
#endif
}

/* Same file as one of the live database's files (links included)? */
static int isLiveFile(sqlite3 *db, const char *zPath){
  const char *zDb = sqlite3_db_filename(db, "main");
  struct stat st, stLive;
  char aReal[PATH_MAX];       /* realpath() into our buffer: no malloc() */
  const char *zReal;
  int i;
  if( zDb==0 || zDb[0]==0 ) return 0;
  if( migrateFileOps.xStat(zPath, &st)!=0 ) memset(&st, 0, sizeof(st));
  zReal = migrateFileOps.xRealpath(zPath, aReal);
  for(i=0; i<N_LIVE_SUFFIX; i++){
    char *zLive = sqlite3_mprintf("%s%s", zDb, azLiveSuffix[i]);
    int same = 0;
    if( zLive==0 ) continue;
    if( st.st_ino!=0 && migrateFileOps.xStat(zLive, &stLive)==0
     && st.st_dev==stLive.st_dev && st.st_ino==stLive.st_ino ) same = 1;
    if( !same && zReal && samePath(zReal, zLive) ) same = 1;
    sqlite3_free(zLive);
    if( same ) return 1;
  }
  return 0;
}

/* The canonical name a new file at zPath would have: its folder resolved
** (sqlite3_free; NULL when the folder cannot be resolved). */
char *fileCanonical(const char *zPath){
  const char *zSlash = utilLastSlash(zPath);
  char aReal[PATH_MAX];
  char *zDir;
  const char *zReal;
  if( zSlash==0 ){
    zDir = sqlite3_mprintf(".");
  }else if( zSlash==zPath ){
    zDir = sqlite3_mprintf("/");
  }else{
    zDir = sqlite3_mprintf("%.*s", (int)(zSlash-zPath), zPath);
  }
  if( zDir==0 ) return 0;
  zReal = migrateFileOps.xRealpath(zDir, aReal);
  sqlite3_free(zDir);
  if( zReal==0 ) return 0;
  return sqlite3_mprintf("%s/%s", zReal, zSlash ? zSlash+1 : zPath);
}

int filePathIsLive(sqlite3 *db, const char *zPath){
  char *zCanon = fileCanonical(zPath);
  int live = isLiveFile(db, zPath) || (zCanon && isLiveFile(db, zCanon));
  const char *zDb = sqlite3_db_filename(db, "main");
  if( !live && zCanon && zDb && zDb[0] ){
    /* -journal, -wal and -shm may not exist yet: compare names too. */
    int i;
    for(i=0; i<N_LIVE_SUFFIX && !live; i++){
      char *zLive = sqlite3_mprintf("%s%s", zDb, azLiveSuffix[i]);
      if( zLive && samePath(zLive, zCanon) ) live = 1;
      sqlite3_free(zLive);
    }
  }
  sqlite3_free(zCanon);
  return live;
}

/* ------------------------------------------------------------- writing */

int fileSync(const char *zPath, int isDir){
  int fd = migrateFileOps.xOpen(zPath, (isDir ? O_RDONLY|O_DIRECTORY : O_RDWR)|O_CLOEXEC, 0);
  int rc;
  if( fd<0 ) return -1;
  rc = migrateFileOps.xFsync(fd);
  migrateFileOps.xClose(fd);
  return rc;
}

/* A rename or a new name lasts only once its folder is synced.  Best
** effort: the file itself is complete either way. */
void fileSyncParent(const char *zPath){
  char *zCanon = fileCanonical(zPath);
  char *zSlash = zCanon ? (char*)utilLastSlash(zCanon) : 0;
  if( zSlash ){
    *zSlash = 0;
    fileSync(zCanon[0] ? zCanon : "/", 1);
  }
  sqlite3_free(zCanon);
}

/*
** A fresh temporary name beside zDest, <zDest>.migrate-tmp-<8 hex>, created
** empty and exclusively.  *pFd stays open with an exclusive flock() on the
** file until fileRemoveTemp: the mark of a live writer.  A process killed
** while it writes leaves the file unlocked, and fileSweepTemps removes it
** later (doc/reference.md "migrate_backup").  SQLITE_NOMEM, or
** SQLITE_CANTOPEN with errno saying why.
*/
int fileMakeTemp(const char *zDest, char **pzTmp, int *pFd){
  int i;
  *pzTmp = 0;
  *pFd = -1;
  for(i=0; i<100; i++){
    unsigned r;
    char *z;
    int fd;
    sqlite3_randomness(sizeof(r), &r);
    z = sqlite3_mprintf("%s" TEMP_MARK "%08x", zDest, r);
    if( z==0 ) return SQLITE_NOMEM;
    fd = migrateFileOps.xOpen(z, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW, 0644);
    if( fd>=0 ){
      if( migrateFileOps.xFlock(fd, LOCK_EX|LOCK_NB)!=0 ){
        int e = errno;
        migrateFileOps.xClose(fd);
        migrateFileOps.xUnlink(z);
        sqlite3_free(z);
        errno = e;
        return SQLITE_CANTOPEN;
      }
      *pzTmp = z;
      *pFd = fd;
      return SQLITE_OK;
    }
    sqlite3_free(z);
    if( errno!=EEXIST ) return SQLITE_CANTOPEN;
  }
  return SQLITE_CANTOPEN;
}

/* A temporary file, the journal SQLite may have left beside it, and the
** descriptor that held its lock (closed last: the lock goes with it). */
void fileRemoveTemp(const char *zTmp, int fd){
  char *zJ = sqlite3_mprintf("%s-journal", zTmp);
  migrateFileOps.xUnlink(zTmp);
  if( zJ ){ migrateFileOps.xUnlink(zJ); sqlite3_free(zJ); }
  if( fd>=0 ) migrateFileOps.xClose(fd);
}

/* Is zName <anything>.migrate-tmp-<8 hex digits>? */
static int isTempName(const char *zName){
  const char *z = strstr(zName, TEMP_MARK);
  size_t nMark = strlen(TEMP_MARK);
  int i;
  if( z==0 || z==zName ) return 0;
  while( strstr(z+1, TEMP_MARK) ) z = strstr(z+1, TEMP_MARK);
  z += nMark;
  for(i=0; i<8; i++){
    if( !((z[i]>='0' && z[i]<='9') || (z[i]>='a' && z[i]<='f')) ) return 0;
  }
  return z[8]==0;
}

/*
** Remove the temporary files of writers that died in zDir: files named like
** ours whose lock no process holds (the kernel drops a dead process's
** locks).  A file still locked is a live writer's, and stays.  Nothing else
** is touched.  Errors are ignored: this only tidies.  Returns how many went.
*/
int fileSweepTemps(const char *zDir){
  DIR *d = migrateFileOps.xOpendir(zDir);
  struct dirent *de;
  int n = 0;
  if( d==0 ) return 0;
  while( (de = migrateFileOps.xReaddir(d))!=0 ){
    struct stat st;
    char *zPath;
    int fd;
    if( !isTempName(de->d_name) ) continue;
    zPath = sqlite3_mprintf("%s/%s", zDir, de->d_name);
    if( zPath==0 ) break;
    fd = migrateFileOps.xOpen(zPath, O_RDONLY|O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK, 0);
    if( fd>=0 ){
      if( migrateFileOps.xFstat(fd, &st)==0 && S_ISREG(st.st_mode)
       && migrateFileOps.xFlock(fd, LOCK_EX|LOCK_NB)==0 ){
        fileRemoveTemp(zPath, -1);
        n++;
      }
      migrateFileOps.xClose(fd);
    }
    sqlite3_free(zPath);
  }
  migrateFileOps.xClosedir(d);
  return n;
}

/* The folder of zPath ("." for a bare name), for fileSweepTemps. */
char *fileFolderOf(const char *zPath){
  const char *zSlash = utilLastSlash(zPath);
  if( zSlash==0 ) return sqlite3_mprintf(".");
  if( zSlash==zPath ) return sqlite3_mprintf("/");
  return sqlite3_mprintf("%.*s", (int)(zSlash-zPath), zPath);
}

/* Give the finished temporary file its name, never replacing a file. */
int filePublish(const char *zTmp, const char *zDest, char **pzErr){
  if( migrateFileOps.xRenameNoReplace(zTmp, zDest)==0 ) return SQLITE_OK;
  if( errno==EINVAL || errno==ENOSYS || errno==ENOTSUP ){
    /* The system or the file system has no rename that refuses to replace
    ** (fileops.c): link() refuses to replace too. */
    if( migrateFileOps.xLink(zTmp, zDest)==0 ){ migrateFileOps.xUnlink(zTmp); return SQLITE_OK; }
  }
  *pzErr = errno==EEXIST
    ? sqlite3_mprintf("'%s' already exists; a backup never replaces a file", zDest)
    : sqlite3_mprintf("cannot create '%s': %s", zDest, strerror(errno));
  return SQLITE_CANTOPEN;
}

/* write() all of a[0..n) to fd, through short writes and signals; -1 with
** errno set when it cannot. */
int fileWriteAll(int fd, const void *p, size_t n){
  const unsigned char *a = (const unsigned char*)p;
  while( n>0 ){
    ssize_t k = migrateFileOps.xWrite(fd, a, n);
    if( k<0 && errno==EINTR ) continue;
    if( k<=0 ){
      if( k==0 ) errno = EIO;   /* no progress: never loop forever */
      return -1;
    }
    a += k;
    n -= (size_t)k;
  }
  return 0;
}

/*
** Write zText to zPath through a temporary file beside it, synced, then
** renamed over it: a reader sees the old file or the new one, never half.
** Only a regular file is replaced, and never a file of the live database.
*/
int fileWriteReplacing(sqlite3 *db, const char *zPath, const char *zText,
                       char **pzErr){
  struct stat st;
  char *zTmp;
  int fd, lockFd, rc = SQLITE_OK;
  if( filePathIsLive(db, zPath) ){
    *pzErr = sqlite3_mprintf("'%s' is the live database or one of its files", zPath);
    return SQLITE_ERROR;
  }
  if( migrateFileOps.xLstat(zPath, &st)==0 && !S_ISREG(st.st_mode) ){
    *pzErr = sqlite3_mprintf("'%s' exists and is not a regular file; only a "
                             "file is replaced", zPath);
    return SQLITE_ERROR;
  }
  rc = fileMakeTemp(zPath, &zTmp, &lockFd);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc ){
    *pzErr = sqlite3_mprintf("cannot create a file beside '%s': %s", zPath,
                             strerror(errno));
    return SQLITE_CANTOPEN;
  }
  fd = migrateFileOps.xOpen(zTmp, O_WRONLY|O_TRUNC|O_CLOEXEC|O_NOFOLLOW, 0);
  if( fd<0 || fileWriteAll(fd, zText, strlen(zText)) || migrateFileOps.xFsync(fd)!=0 ){
    *pzErr = sqlite3_mprintf("cannot write '%s': %s", zTmp, strerror(errno));
    rc = SQLITE_IOERR;
  }
  if( fd>=0 ) migrateFileOps.xClose(fd);
  if( rc==SQLITE_OK && migrateFileOps.xRename(zTmp, zPath)!=0 ){
    *pzErr = sqlite3_mprintf("cannot replace '%s': %s", zPath, strerror(errno));
    rc = SQLITE_CANTOPEN;
  }
  if( rc ){
    fileRemoveTemp(zTmp, lockFd);
  }else{
    migrateFileOps.xClose(lockFd);
    fileSyncParent(zPath);
  }
  sqlite3_free(zTmp);
  return rc;
}

/* Write a new file; O_EXCL: an existing one (or a link there) is refused.
** A file that cannot be written whole is removed again. */
int fileWriteNew(const char *zPath, const char *zText, char **pzErr){
  int fd = migrateFileOps.xOpen(zPath, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0644);
  if( fd<0 ){
    *pzErr = sqlite3_mprintf("cannot create %s: %s", zPath, strerror(errno));
    return SQLITE_ERROR;
  }
  if( fileWriteAll(fd, zText, strlen(zText)) || migrateFileOps.xFsync(fd)!=0 ){
    *pzErr = sqlite3_mprintf("cannot write %s: %s", zPath, strerror(errno));
    migrateFileOps.xClose(fd);
    migrateFileOps.xUnlink(zPath);
    return SQLITE_ERROR;
  }
  migrateFileOps.xClose(fd);
  return SQLITE_OK;
}

/* ------------------------------------------------------ database files */

/* Open a database file read-only; immutable when nothing else can have it
** open, so reading it takes no locks and leaves no -wal or -shm behind. */
int fileOpenDb(const char *zPath, int immutable, sqlite3 **ppDb, char **pzErr){
  int rc = utilOpenPath(zPath, SQLITE_OPEN_READONLY, immutable ? "immutable=1" : 0,
                        0, ppDb);
  if( rc==SQLITE_NOMEM && *ppDb==0 ) return rc;
  if( rc ){
    *pzErr = sqlite3_mprintf("'%s' is not a readable SQLite database: %s", zPath,
                             *ppDb ? sqlite3_errmsg(*ppDb) : "out of memory");
    sqlite3_close(*ppDb);
    *ppDb = 0;
  }
  return rc;
}

/* PRAGMA quick_check of a database file opened by fileOpenDb says "ok"? */
int fileQuickCheck(sqlite3 *db, const char *zPath, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &p, 0);
  if( rc==SQLITE_OK ){
    int rcStep = sqlite3_step(p);
    if( rcStep!=SQLITE_ROW ){
      /* The check could not run (out of memory, I/O): say why. */
      rc = sqlite3_finalize(p);
      p = 0;
      if( rc==SQLITE_OK ) rc = rcStep==SQLITE_DONE ? SQLITE_CORRUPT : rcStep;
      if( rc!=SQLITE_NOMEM ){
        *pzErr = sqlite3_mprintf("'%s' failed its check: %s", zPath,
                                 sqlite3_errmsg(db));
      }
    }else if( sqlite3_stricmp((const char*)sqlite3_column_text(p, 0), "ok")!=0 ){
      *pzErr = sqlite3_mprintf("'%s' failed its check: %s", zPath,
                               sqlite3_column_text(p, 0) ?
                               (const char*)sqlite3_column_text(p, 0) :
                               sqlite3_errmsg(db));
      rc = SQLITE_CORRUPT;
    }
  }else if( rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("'%s' is not a readable SQLite database: %s", zPath,
                             sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  return rc;
}
