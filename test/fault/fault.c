/*
** fault.c — fault injection for migrate: every allocation, every write,
** sync, truncate, lock, open, delete and access of SQLite's files, and
** every file-system call of the extension itself fails in turn, and nothing
** breaks.
**
**   make faulttest                      (builds migrate-fault.so and this)
**   test/tmp/faulthost LIB WORKDIR [-s SCENARIO] [-k KIND] [-stride N]
**                      [-iostride N] [-head N] [-n N] [-v]
**
**   -s, -k       one scenario, one kind ("vfs" and "fs" name a family)
**   -stride N    allocations: the first 50 (-head), then every Nth
**   -iostride N  the same for every other kind
**   -head N      how many come first, one by one (default 50)
**   -n N         only injection point N (with gdb: break faultInjected)
**
** LIB is a build of the extension with -DMIGRATE_FAULT_HOOKS: it exports
** migrate_fault_fileops(), the table its file-system calls go through
** (ext/fileops.h).  The host links libsqlite3, installs an allocator that
** wraps the default one (SQLITE_CONFIG_MALLOC) and a VFS that wraps the
** default one, and replaces the entries of that table.
**
** For each scenario (one migrate call on a prepared database) and each kind
** of call, and for N = 1, 2, 3 ... it runs the scenario with the Nth call of
** that kind failing, once, and again with every call from the Nth on
** failing, until a run makes fewer than N calls.  After every run:
**
**   - the call succeeded with the reference result, or failed with the error
**     the injected fault explains (out of memory, an I/O error);
**   - the connection is back in autocommit mode with its settings as they
**     were; sqlite3_close() returns SQLITE_OK (nothing left unfinalized);
**   - no allocation and no file descriptor outlives the connection;
**   - reopened with the plain allocator and VFS, the database passes
**     integrity_check and is exactly as before the call (after an error) or
**     exactly as after the reference run (after success): schema, rows,
**     history, log;
**   - every backup file left behind is complete, a rollback-journal file
**     (even of a WAL database) and holds the state the call started from;
**     no temporary file is left (unless unlink was failed);
**   - a call that writes files (migrate_create) left none of them, or all
**     of them complete, and nothing else;
**   - with the user_version setting on, user_version is the newest applied
**     version after a success (and, as part of the database, unchanged
**     after a failure); with trace on, what it printed ends with the call's
**     closing line, "done, N migrations" or "failed".
**
** The scenarios: load; apply, rollback, rollback_to, reset, backup, restore
** and a scan of the migrations table; apply and rollback with atomic off,
** apply with a transaction:false migration, with user_version and trace
** on, with integrity_check full, from a query's rows instead of a folder; reset with user_version on;
** apply (with trace on, with atomic off) and rollback (also inside the
** application's transaction) of a database with a foreign-key violation
** already there, which makes the call run its migrations a second time;
** apply and rollback inside the application's transaction (which the host
** commits after the call, or rolls back after out of memory); apply,
** backup and restore of a WAL database, and a restore from a WAL file;
** apply and backup of a WAL database through SQLite's own unix VFS, where
** the backup is a byte copy after a checkpoint (no vfs.* faults there);
** baseline and adopt (of a dbmate history, and of Drizzle's, whose rows
** are matched by the files' hashes); repair; create in three folder
** styles.  After every run the work directory holds the same files.
**
** Two outcomes are accepted and counted apart, because SQLite allows no
** better:
**
**   late  the call failed after its work had committed (out of memory in
**         a statement run inside a function marks the calling statement
**         failed as well, whatever the function returns): the database is
**         exactly as after a clean run, and the error is out of memory;
**   open  after out of memory inside the call, SQLite runs no further
**         statement on the connection until the calling statement ends, so
**         the call cannot roll back its own transaction: the application's
**         ROLLBACK after SQLITE_NOMEM (as SQLite documents) leaves the
**         database and every setting as they were, which is checked.
**
** A third is by design: with atomic off each migration commits on its own,
** and a transaction:false migration's statements each commit, so such a
** call may stop in between.  Its scenario lists the steps that make each
** state it may stop in (atomic off: every migration; transaction:false:
** every statement, then its history row), and "partial" counts the runs
** that ended in exactly one of those.
**
** It prints, per scenario and kind, how many injection points it covered,
** and ends with "fault: N runs, N failed"; the exit status is 1 on failure.
*/
#define SQLITE_CORE 1
#include "platform.h"   /* what the system shows, before its headers */
#include <sqlite3.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fileops.h"
#include "pragmas.h"

/* ------------------------------------------------------------ the kinds */

enum {
  K_MALLOC,
  K_VFS_OPEN, K_VFS_WRITE, K_VFS_SYNC, K_VFS_TRUNCATE, K_VFS_LOCK,
  K_VFS_DELETE, K_VFS_ACCESS,
  K_FS_OPEN, K_FS_CLOSE, K_FS_READ, K_FS_WRITE, K_FS_FSYNC, K_FS_STAT,
  K_FS_REALPATH, K_FS_MKDIR, K_FS_UNLINK, K_FS_RMDIR, K_FS_RENAME, K_FS_LINK,
  K_FS_OPENDIR, K_FS_READDIR, K_FS_CLOSEDIR,
  K_COUNT
};

/* Name, and the errno a failing file-system call reports: one a real
** system gives for that call. */
static const struct { const char *zName; int err; } aKind[K_COUNT] = {
  { "malloc", 0 },
  { "vfs.open", 0 }, { "vfs.write", 0 }, { "vfs.sync", 0 },
  { "vfs.truncate", 0 }, { "vfs.lock", 0 }, { "vfs.delete", 0 },
  { "vfs.access", 0 },
  { "fs.open", EMFILE }, { "fs.close", EIO }, { "fs.read", EIO },
  { "fs.write", ENOSPC }, { "fs.fsync", EIO }, { "fs.stat", EIO },
  { "fs.realpath", EIO }, { "fs.mkdir", ENOSPC }, { "fs.unlink", EBUSY },
  { "fs.rmdir", EBUSY },
  { "fs.rename", ENOSPC }, { "fs.link", EMLINK }, { "fs.opendir", EMFILE },
  { "fs.readdir", EIO }, { "fs.closedir", EIO },
};

/* What is armed: calls of kind `kind` are counted; the Nth fails, and with
** `persistent` every one after it too. */
static struct {
  int armed;
  int kind;
  int n;
  int persistent;
  int calls;        /* calls of the kind while armed */
  int injected;     /* failures injected */
} F;

/* Every injected failure passes here: a place for a debugger's breakpoint
** (gdb -ex 'break faultInjected' --args ./faulthost ... -n N). */
void faultInjected(void);
__attribute__((noinline)) void faultInjected(void){
  __asm__ volatile("");
}

/* Should this call fail? */
static int gate(int kind){
  if( !F.armed || F.kind!=kind ) return 0;
  F.calls++;
  if( F.calls==F.n || (F.persistent && F.calls>F.n) ){
    F.injected++;
    faultInjected();
    return 1;
  }
  return 0;
}

static void arm(int kind, int n, int persistent){
  F.kind = kind;
  F.n = n;
  F.persistent = persistent;
  F.calls = F.injected = 0;
  F.armed = 1;
}

/* ------------------------------------------------------- the allocator */

static sqlite3_mem_methods origMem;
static long nOutstanding;     /* allocations not yet freed */

static void *faultMalloc(int n){
  void *p;
  if( gate(K_MALLOC) ) return 0;
  p = origMem.xMalloc(n);
  if( p ) nOutstanding++;
  return p;
}

static void faultFree(void *p){
  if( p ) nOutstanding--;
  origMem.xFree(p);
}

static void *faultRealloc(void *p, int n){
  void *q;
  if( gate(K_MALLOC) ) return 0;
  q = origMem.xRealloc(p, n);
  if( q && p==0 ) nOutstanding++;
  return q;
}

static int faultSize(void *p){ return origMem.xSize(p); }
static int faultRoundup(int n){ return origMem.xRoundup(n); }
static int faultInit(void *p){ return origMem.xInit(p); }
static void faultShutdown(void *p){ origMem.xShutdown(p); }

static void installAllocator(void){
  static sqlite3_mem_methods m;
  sqlite3_config(SQLITE_CONFIG_GETMALLOC, &origMem);
  m = origMem;
  m.xMalloc = faultMalloc;
  m.xFree = faultFree;
  m.xRealloc = faultRealloc;
  m.xSize = faultSize;
  m.xRoundup = faultRoundup;
  m.xInit = faultInit;
  m.xShutdown = faultShutdown;
  sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
}

/* --------------------------------------------------------- the shim VFS */

static sqlite3_vfs *pRealVfs;

typedef struct ShimFile {
  sqlite3_file base;
  sqlite3_file *pReal;     /* the default VFS's file, right after this */
  const char *zName;       /* for FAULT_TRACE */
} ShimFile;

#define REAL(f) (((ShimFile*)(f))->pReal)

static int shimClose(sqlite3_file *f){
  return REAL(f)->pMethods->xClose(REAL(f));
}
static int shimRead(sqlite3_file *f, void *p, int n, sqlite3_int64 off){
  return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int shimWrite(sqlite3_file *f, const void *p, int n, sqlite3_int64 off){
  if( gate(K_VFS_WRITE) ) return SQLITE_IOERR_WRITE;
  return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int shimTruncate(sqlite3_file *f, sqlite3_int64 size){
  if( getenv("FAULT_TRACE") ) fprintf(stderr, "truncate %s %lld\n", ((ShimFile*)f)->zName, size);
  if( gate(K_VFS_TRUNCATE) ) return SQLITE_IOERR_TRUNCATE;
  return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int shimSync(sqlite3_file *f, int flags){
  if( gate(K_VFS_SYNC) ) return SQLITE_IOERR_FSYNC;
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int shimFileSize(sqlite3_file *f, sqlite3_int64 *p){
  return REAL(f)->pMethods->xFileSize(REAL(f), p);
}
static int shimLock(sqlite3_file *f, int lock){
  if( gate(K_VFS_LOCK) ) return SQLITE_IOERR_LOCK;
  return REAL(f)->pMethods->xLock(REAL(f), lock);
}
static int shimUnlock(sqlite3_file *f, int lock){
  return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}
static int shimCheckReserved(sqlite3_file *f, int *p){
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), p);
}
static int shimFileControl(sqlite3_file *f, int op, void *p){
  return REAL(f)->pMethods->xFileControl(REAL(f), op, p);
}
static int shimSectorSize(sqlite3_file *f){
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int shimDevChar(sqlite3_file *f){
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int shimShmMap(sqlite3_file *f, int i, int sz, int ext, void volatile **pp){
  return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, ext, pp);
}
static int shimShmLock(sqlite3_file *f, int off, int n, int flags){
  return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void shimShmBarrier(sqlite3_file *f){
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int shimShmUnmap(sqlite3_file *f, int del){
  return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int shimFetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp){
  return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int shimUnfetch(sqlite3_file *f, sqlite3_int64 off, void *p){
  return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods shimIo = {
  3, shimClose, shimRead, shimWrite, shimTruncate, shimSync, shimFileSize,
  shimLock, shimUnlock, shimCheckReserved, shimFileControl, shimSectorSize,
  shimDevChar, shimShmMap, shimShmLock, shimShmBarrier, shimShmUnmap,
  shimFetch, shimUnfetch
};

static int shimOpen(sqlite3_vfs *pVfs, sqlite3_filename zName, sqlite3_file *f,
                    int flags, int *pOutFlags){
  ShimFile *p = (ShimFile*)f;
  int rc;
  (void)pVfs;
  p->pReal = (sqlite3_file*)&p[1];
  p->pReal->pMethods = 0;
  p->zName = zName;
  f->pMethods = 0;
  if( gate(K_VFS_OPEN) ) return SQLITE_CANTOPEN;
  rc = pRealVfs->xOpen(pRealVfs, zName, p->pReal, flags, pOutFlags);
  if( p->pReal->pMethods ) f->pMethods = &shimIo;
  return rc;
}
/* A journal that cannot be deleted at commit, a hot journal that cannot
** be looked for: SQLite's own errors for them. */
static int shimDelete(sqlite3_vfs *v, const char *z, int sync){
  (void)v;
  if( gate(K_VFS_DELETE) ) return SQLITE_IOERR_DELETE;
  return pRealVfs->xDelete(pRealVfs, z, sync);
}
static int shimAccess(sqlite3_vfs *v, const char *z, int flags, int *pOut){
  (void)v;
  if( gate(K_VFS_ACCESS) ){ *pOut = 0; return SQLITE_IOERR_ACCESS; }
  return pRealVfs->xAccess(pRealVfs, z, flags, pOut);
}
static int shimFullPathname(sqlite3_vfs *v, const char *z, int n, char *zOut){
  (void)v; return pRealVfs->xFullPathname(pRealVfs, z, n, zOut);
}
static void *shimDlOpen(sqlite3_vfs *v, const char *z){
  (void)v; return pRealVfs->xDlOpen(pRealVfs, z);
}
static void shimDlError(sqlite3_vfs *v, int n, char *z){
  (void)v; pRealVfs->xDlError(pRealVfs, n, z);
}
static void (*shimDlSym(sqlite3_vfs *v, void *h, const char *z))(void){
  (void)v; return pRealVfs->xDlSym(pRealVfs, h, z);
}
static void shimDlClose(sqlite3_vfs *v, void *h){
  (void)v; pRealVfs->xDlClose(pRealVfs, h);
}
static int shimRandomness(sqlite3_vfs *v, int n, char *z){
  (void)v; return pRealVfs->xRandomness(pRealVfs, n, z);
}
static int shimSleep(sqlite3_vfs *v, int us){
  (void)v; return pRealVfs->xSleep(pRealVfs, us);
}
static int shimCurrentTime(sqlite3_vfs *v, double *p){
  (void)v; return pRealVfs->xCurrentTime(pRealVfs, p);
}
static int shimGetLastError(sqlite3_vfs *v, int n, char *z){
  (void)v; return pRealVfs->xGetLastError(pRealVfs, n, z);
}
static int shimCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *p){
  (void)v; return pRealVfs->xCurrentTimeInt64(pRealVfs, p);
}

/* The shim becomes the default VFS, so every connection of the call (the
** extension's own, for backups and restores, too) goes through it. */
static void installVfs(void){
  static sqlite3_vfs v;
  pRealVfs = sqlite3_vfs_find(0);
  memset(&v, 0, sizeof(v));
  v.iVersion = 2;
  v.szOsFile = (int)sizeof(ShimFile) + pRealVfs->szOsFile;
  v.mxPathname = pRealVfs->mxPathname;
  v.zName = "faultshim";
  v.xOpen = shimOpen;
  v.xDelete = shimDelete;
  v.xAccess = shimAccess;
  v.xFullPathname = shimFullPathname;
  v.xDlOpen = shimDlOpen;
  v.xDlError = shimDlError;
  v.xDlSym = shimDlSym;
  v.xDlClose = shimDlClose;
  v.xRandomness = shimRandomness;
  v.xSleep = shimSleep;
  v.xCurrentTime = shimCurrentTime;
  v.xGetLastError = shimGetLastError;
  v.xCurrentTimeInt64 = shimCurrentTimeInt64;
  sqlite3_vfs_register(&v, 1);
}

/* ------------------------------------------- the extension's file calls */

static FileOps realFs;        /* the C library's, as the extension had them */
static FileOps *pFs;          /* the extension's table */
static int renameUnsupported; /* act like a filesystem without NOREPLACE */

static int failWith(int kind){
  errno = aKind[kind].err;
  return -1;
}

static int fsOpen(const char *z, int flags, mode_t mode){
  if( gate(K_FS_OPEN) ) return failWith(K_FS_OPEN);
  return realFs.xOpen(z, flags, mode);
}
static int fsClose(int fd){
  /* close() that fails has still closed the descriptor (Linux). */
  int rc = realFs.xClose(fd);
  if( gate(K_FS_CLOSE) ) return failWith(K_FS_CLOSE);
  return rc;
}
static ssize_t fsRead(int fd, void *p, size_t n){
  if( gate(K_FS_READ) ) return failWith(K_FS_READ);
  return realFs.xRead(fd, p, n);
}
static ssize_t fsPread(int fd, void *p, size_t n, off_t off){
  if( gate(K_FS_READ) ) return failWith(K_FS_READ);
  return realFs.xPread(fd, p, n, off);
}
static ssize_t fsWrite(int fd, const void *p, size_t n){
  if( gate(K_FS_WRITE) ) return failWith(K_FS_WRITE);
  return realFs.xWrite(fd, p, n);
}
static ssize_t fsPwrite(int fd, const void *p, size_t n, off_t off){
  if( gate(K_FS_WRITE) ) return failWith(K_FS_WRITE);
  return realFs.xPwrite(fd, p, n, off);
}
static int fsFsync(int fd){
  if( gate(K_FS_FSYNC) ) return failWith(K_FS_FSYNC);
  return realFs.xFsync(fd);
}
static int fsFstat(int fd, struct stat *st){
  if( gate(K_FS_STAT) ) return failWith(K_FS_STAT);
  return realFs.xFstat(fd, st);
}
static int fsStat(const char *z, struct stat *st){
  if( gate(K_FS_STAT) ) return failWith(K_FS_STAT);
  return realFs.xStat(z, st);
}
static int fsLstat(const char *z, struct stat *st){
  if( gate(K_FS_STAT) ) return failWith(K_FS_STAT);
  return realFs.xLstat(z, st);
}
static int fsLstatAt(DIR *d, const char *zDir, const char *zName, struct stat *st){
  if( gate(K_FS_STAT) ) return failWith(K_FS_STAT);
  return realFs.xLstatAt(d, zDir, zName, st);
}
static char *fsRealpath(const char *z, char *zOut){
  if( gate(K_FS_REALPATH) ){ failWith(K_FS_REALPATH); return 0; }
  return realFs.xRealpath(z, zOut);
}
static int fsMkdir(const char *z, mode_t mode){
  if( gate(K_FS_MKDIR) ) return failWith(K_FS_MKDIR);
  return realFs.xMkdir(z, mode);
}
static int fsUnlink(const char *z){
  if( gate(K_FS_UNLINK) ) return failWith(K_FS_UNLINK);
  return realFs.xUnlink(z);
}
static int fsRmdir(const char *z){
  if( gate(K_FS_RMDIR) ) return failWith(K_FS_RMDIR);
  return realFs.xRmdir(z);
}
static int fsRenameReplacing(const char *zFrom, const char *zTo){
  if( gate(K_FS_RENAME) ) return failWith(K_FS_RENAME);
  return realFs.xRename(zFrom, zTo);
}
static int fsRename(const char *zFrom, const char *zTo){
  if( renameUnsupported ){ errno = EINVAL; return -1; }
  if( gate(K_FS_RENAME) ) return failWith(K_FS_RENAME);
  return realFs.xRenameNoReplace(zFrom, zTo);
}
static int fsLink(const char *zFrom, const char *zTo){
  if( gate(K_FS_LINK) ) return failWith(K_FS_LINK);
  return realFs.xLink(zFrom, zTo);
}
static DIR *fsOpendir(const char *z){
  if( gate(K_FS_OPENDIR) ){ failWith(K_FS_OPENDIR); return 0; }
  return realFs.xOpendir(z);
}
static struct dirent *fsReaddir(DIR *d){
  if( gate(K_FS_READDIR) ){ failWith(K_FS_READDIR); return 0; }
  return realFs.xReaddir(d);
}
static int fsClosedir(DIR *d){
  int rc = realFs.xClosedir(d);
  if( gate(K_FS_CLOSEDIR) ) return failWith(K_FS_CLOSEDIR);
  return rc;
}

static void installFileOps(const char *zLib){
  void *h = dlopen(zLib, RTLD_NOW|RTLD_NOLOAD);
  FileOps *(*xGet)(void) = 0;
  if( h ) *(void**)&xGet = dlsym(h, "migrate_fault_fileops");
  if( xGet==0 ){
    fprintf(stderr, "fault: %s has no migrate_fault_fileops(); build it with "
            "-DMIGRATE_FAULT_HOOKS (make faulttest)\n", zLib);
    exit(2);
  }
  pFs = xGet();
  realFs = *pFs;
  pFs->xOpen = fsOpen;          pFs->xClose = fsClose;
  pFs->xRead = fsRead;          pFs->xPread = fsPread;
  pFs->xWrite = fsWrite;        pFs->xPwrite = fsPwrite;
  pFs->xFsync = fsFsync;
  pFs->xFstat = fsFstat;        pFs->xStat = fsStat;
  pFs->xLstat = fsLstat;        pFs->xRealpath = fsRealpath;
  pFs->xMkdir = fsMkdir;        pFs->xUnlink = fsUnlink;
  pFs->xRmdir = fsRmdir;
  pFs->xRename = fsRenameReplacing;
  pFs->xRenameNoReplace = fsRename;  pFs->xLink = fsLink;
  pFs->xOpendir = fsOpendir;    pFs->xReaddir = fsReaddir;
  pFs->xClosedir = fsClosedir;
  pFs->xLstatAt = fsLstatAt;
  dlclose(h);
}

/* ------------------------------------------------------------- helpers */

static const char *zLib;      /* the extension */
static const char *zWork;     /* the work directory */
static int verbose;
static int onlyN;             /* -n N: just that injection point */

static char *path(const char *zName){
  return sqlite3_mprintf("%s/%s", zWork, zName);
}

/* Every row of a query, as text: "a|b\nc|d\n". */
static char *queryText(sqlite3 *db, const char *zSql){
  sqlite3_str *s = sqlite3_str_new(0);
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(p))==SQLITE_ROW ){
    int i;
    for(i=0; i<sqlite3_column_count(p); i++){
      const char *z = (const char*)sqlite3_column_text(p, i);
      sqlite3_str_appendf(s, "%s%s", i ? "|" : "", z ? z : "NULL");
    }
    sqlite3_str_appendchar(s, 1, '\n');
    rc = SQLITE_OK;
  }
  if( rc!=SQLITE_OK && rc!=SQLITE_DONE ){
    sqlite3_str_appendf(s, "ERROR %s: %s\n", sqlite3_errmsg(db), zSql);
  }
  sqlite3_finalize(p);
  return sqlite3_str_finish(s);
}

static void execOrDie(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "fault: %s: %s\n", zSql, zErr);
    exit(2);
  }
}

static void writeFile(const char *zName, const char *zText){
  char *zPath = path(zName);
  FILE *f;
  char *zSlash = strrchr(zPath, '/');
  *zSlash = 0;
  mkdir(zPath, 0755);
  *zSlash = '/';
  f = fopen(zPath, "wb");
  if( f==0 ){ perror(zPath); exit(2); }
  fputs(zText, f);
  fclose(f);
  sqlite3_free(zPath);
}

static void copyFile(const char *zFrom, const char *zTo){
  char buf[65536];
  int in = open(zFrom, O_RDONLY), out;
  ssize_t n;
  if( in<0 ){ perror(zFrom); exit(2); }
  out = open(zTo, O_WRONLY|O_CREAT|O_TRUNC, 0644);
  if( out<0 ){ perror(zTo); exit(2); }
  while( (n = read(in, buf, sizeof(buf)))>0 ){
    if( write(out, buf, (size_t)n)!=n ){ perror(zTo); exit(2); }
  }
  close(in);
  close(out);
}

/* Remove every file in a directory (not the directory). */
static void emptyDir(const char *zDir){
  DIR *d = opendir(zDir);
  struct dirent *de;
  if( d==0 ) return;
  while( (de = readdir(d))!=0 ){
    char *z;
    if( de->d_name[0]=='.' ) continue;
    z = sqlite3_mprintf("%s/%s", zDir, de->d_name);
    unlink(z);
    sqlite3_free(z);
  }
  closedir(d);
}

static int countFds(void){
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if( d==0 ) return -1;
  while( readdir(d) ) n++;
  closedir(d);
  return n;
}

static sqlite3 *openDbVfs(const char *zFile, int flags, const char *zVfs){
  sqlite3 *db = 0;
  if( sqlite3_open_v2(zFile, &db, flags, zVfs)!=SQLITE_OK ){
    fprintf(stderr, "fault: cannot open %s: %s\n", zFile, sqlite3_errmsg(db));
    exit(2);
  }
  return db;
}
static sqlite3 *openDb(const char *zFile, int flags){
  return openDbVfs(zFile, flags, 0);
}

static int loadExtension(sqlite3 *db, char **pzErr){
  sqlite3_enable_load_extension(db, 1);
  return sqlite3_load_extension(db, zLib, "sqlite3_migrate_init", pzErr);
}

/*
** What a migrate call must leave as it was, or exactly as the reference run
** left it: the schema, every row (history without its times, the log
** without failure and backup rows, which a failed call adds by design, and
** creates the table for if need be), user_version and the journal mode on
** disk.  *pzNoLog, if asked for, gets the same without migrate_log.
*/
static char *fingerprint(sqlite3 *db, char **pzNoLog){
  sqlite3_str *s = sqlite3_str_new(0), *sNoLog = sqlite3_str_new(0);
  sqlite3_stmt *p = 0;
  char *z;
  z = queryText(db, "SELECT 'user_version ' || user_version FROM "
                    "pragma_user_version UNION ALL SELECT 'journal_mode ' || "
                    "journal_mode FROM pragma_journal_mode UNION ALL "
                    "SELECT 'schema'");
  sqlite3_str_appendall(s, z);
  sqlite3_str_appendall(sNoLog, z);
  sqlite3_free(z);
  /* The file_stat columns (of the history and migrate_repeatable) and the
  ** history's index are a cache of the files' stats that any call may add
  ** once the files are old enough
  ** (doc/guarantees.md "Changed files"): not part of the state. */
  z = queryText(db, "SELECT type, name, tbl_name, CASE WHEN name GLOB "
                    "'migrate_history*' OR name GLOB 'migrate_repeatable*'"
                    " THEN replace(sql, char(10) || "
                    "', file_stat TEXT)', char(10) || ')') ELSE sql END "
                    "FROM sqlite_schema WHERE tbl_name<>'migrate_log' AND "
                    "name NOT GLOB 'migrate_idx_history*' ORDER BY type, name");
  sqlite3_str_appendall(s, z);
  sqlite3_str_appendall(sNoLog, z);
  sqlite3_free(z);
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type='table' "
                     "AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &p, 0);
  while( sqlite3_step(p)==SQLITE_ROW ){
    const char *zTab = (const char*)sqlite3_column_text(p, 0);
    int isLog = strcmp(zTab, "migrate_log")==0;
    char *zSql;
    /* A migration set's tables (migrate_history_auth) as the default's. */
    if( strncmp(zTab, "migrate_history", 15)==0 ){
      zSql = sqlite3_mprintf("SELECT version, name, checksum, up, down FROM "
                             "\"%w\" ORDER BY version", zTab);
    }else if( strncmp(zTab, "migrate_repeatable", 18)==0 ){
      /* When and how long vary from run to run. */
      zSql = sqlite3_mprintf("SELECT name, checksum, up FROM "
                             "\"%w\" ORDER BY name", zTab);
    }else if( isLog ){
      zSql = sqlite3_mprintf("SELECT action, version, name, outcome FROM "
                             "migrate_log WHERE outcome IS NOT 'failed' AND "
                             "action IS NOT 'backup' ORDER BY id");
    }else{
      zSql = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY rowid", zTab);
    }
    z = queryText(db, zSql);
    /* A failed call may create migrate_log for its failure row: a log with
    ** no other row is the same as none. */
    if( (z && z[0]) || !isLog ){
      sqlite3_str_appendf(s, "table %s\n%s", zTab, z);
      if( !isLog ) sqlite3_str_appendf(sNoLog, "table %s\n%s", zTab, z);
    }
    sqlite3_free(z);
    sqlite3_free(zSql);
  }
  sqlite3_finalize(p);
  if( pzNoLog ) *pzNoLog = sqlite3_str_finish(sNoLog);
  else sqlite3_free(sqlite3_str_finish(sNoLog));
  return sqlite3_str_finish(s);
}

/* Read-write, as any application would open it: a hot journal left by a
** failed write is rolled back first. */
static char *fileFingerprint(const char *zFile, char **pzCheck, char **pzNoLog){
  sqlite3 *db = openDb(zFile, SQLITE_OPEN_READWRITE);
  char *z = fingerprint(db, pzNoLog);
  if( pzCheck ) *pzCheck = queryText(db, "PRAGMA integrity_check");
  sqlite3_close(db);
  return z;
}

/* The connection settings a call must put back, and journal_mode. */
static char *settings(sqlite3 *db){
  static const char *az[] = { MIGRATE_PRAGMA_NAMES, "journal_mode", 0 };
  sqlite3_str *s = sqlite3_str_new(0);
  int i;
  for(i=0; az[i]; i++){
    char *zSql = sqlite3_mprintf("PRAGMA main.%s", az[i]);
    char *z = queryText(db, zSql);
    sqlite3_str_appendf(s, "%s=%s", az[i], z);
    sqlite3_free(z);
    sqlite3_free(zSql);
  }
  sqlite3_str_appendf(s, "autocommit=%d\n", sqlite3_get_autocommit(db));
  return sqlite3_str_finish(s);
}

/* ----------------------------------------------------------- scenarios */

/* The migrations: a table rebuild of a parent table under foreign keys
** (002), a pair of files (003), a folder (004). */
static const char zMig001[] =
  "-- migrate:up\n"
  "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
  "CREATE TABLE tasks(id INTEGER PRIMARY KEY,\n"
  "  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, title TEXT);\n"
  "INSERT INTO users VALUES(1, 'ann'), (2, 'bob');\n"
  "INSERT INTO tasks VALUES(1, 1, 'a'), (2, 2, 'b'), (3, 1, 'c');\n"
  "-- migrate:down\n"
  "DROP TABLE tasks;\nDROP TABLE users;\n";
static const char zMig002[] =
  "-- migrate:up\n"
  "CREATE TABLE users_new(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);\n"
  "INSERT INTO users_new(id, name) SELECT id, name FROM users;\n"
  "DROP TABLE users;\n"
  "ALTER TABLE users_new RENAME TO users;\n"
  "CREATE INDEX users_name ON users(name);\n"
  "-- migrate:down\n"
  "CREATE TABLE users_old(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
  "INSERT INTO users_old SELECT id, name FROM users;\n"
  "DROP TABLE users;\n"
  "ALTER TABLE users_old RENAME TO users;\n";
static const char zMig003Up[] =
  "CREATE TABLE tags(task_id INTEGER REFERENCES tasks(id), tag TEXT);\n"
  "INSERT INTO tags VALUES(1, 'x'), (3, 'y');\n";
static const char zMig003Down[] = "DROP TABLE tags;\n";
static const char zMig004Up[] = "UPDATE tasks SET title = upper(title);\n";
static const char zMig004Down[] = "UPDATE tasks SET title = lower(title);\n";

static void writeMigrations(void){
  writeFile("mig/001_create.sql", zMig001);
  writeFile("mig/002_rebuild_users.sql", zMig002);
  writeFile("mig/003_tags.up.sql", zMig003Up);
  writeFile("mig/003_tags.down.sql", zMig003Down);
  writeFile("mig/004_titles/up.sql", zMig004Up);
  writeFile("mig/004_titles/down.sql", zMig004Down);
  writeFile("mig/README.md", "not a migration\n");
  /* A transaction:false migration between two ordinary ones: its two
  ** statements commit one by one, outside the call's transactions. */
  writeFile("mignt/001_create.sql", zMig001);
  writeFile("mignt/002_indexes.sql",
    "-- migrate:up transaction:false\n"
    "CREATE INDEX IF NOT EXISTS tasks_title ON tasks(title);\n"
    "CREATE INDEX IF NOT EXISTS tasks_user ON tasks(user_id);\n"
    "-- migrate:down transaction:false\n"
    "DROP INDEX IF EXISTS tasks_user;\n"
    "DROP INDEX IF EXISTS tasks_title;\n");
  writeFile("mignt/003_tags.up.sql", zMig003Up);
  writeFile("mignt/003_tags.down.sql", zMig003Down);
  /* For migrate_create: a folder of golang-migrate pairs (two empty new
  ** files), one of single files (one new file with its markers). */
  writeFile("pair/001_init.up.sql", "CREATE TABLE notes(x);\n");
  writeFile("pair/001_init.down.sql", "DROP TABLE notes;\n");
  writeFile("single/001_init.sql", "-- migrate:up\nCREATE TABLE notes(x);\n"
            "-- migrate:down\nDROP TABLE notes;\n");
  /* A Drizzle folder: its journal (parsed on a private connection) gives
  ** the order; a .sql file it does not list is shown, not run. */
  writeFile("drz/0000_create.sql", zMig001);
  writeFile("drz/0001_tags.sql", zMig003Up);
  writeFile("drz/0002_unlisted.sql", "THIS IS NOT SQL;\n");
  writeFile("drz/meta/_journal.json",
    "{\"version\":\"7\",\"dialect\":\"sqlite\",\"entries\":["
    "{\"idx\":0,\"when\":1,\"tag\":\"0000_create\",\"breakpoints\":true},"
    "{\"idx\":1,\"when\":2,\"tag\":\"0001_tags\",\"breakpoints\":true}]}\n");
  /* A repeatable migration after a versioned one: its own table, its own
  ** row, in the same transaction. */
  writeFile("rep/001_create.sql", zMig001);
  writeFile("rep/R__task_titles.sql",
    "DROP VIEW IF EXISTS task_titles;\n"
    "CREATE VIEW task_titles AS SELECT title FROM tasks;\n");
}

/* A database made by running zSql (%s is the work directory) on a new file
** in the given journal mode, with the extension loaded and no backups. */
static void makeDb(const char *zName, const char *zJournalMode, const char *zSql){
  char *zFile = path(zName);
  char *zFull = sqlite3_mprintf(
    "PRAGMA journal_mode=%s; PRAGMA foreign_keys=ON;"
    "SELECT migrate_config('backup', 'off');", zJournalMode);
  char *zBody = sqlite3_mprintf(zSql, zWork, zWork);
  sqlite3 *db;
  char *zErr = 0;
  unlink(zFile);
  db = openDb(zFile, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE);
  if( loadExtension(db, &zErr) ){
    fprintf(stderr, "fault: cannot load %s: %s\n", zLib, zErr);
    exit(2);
  }
  execOrDie(db, zFull);
  execOrDie(db, zBody);
  sqlite3_close(db);
  sqlite3_free(zBody);
  sqlite3_free(zFull);
  sqlite3_free(zFile);
}

/*
** Templates: t1.db with 001 applied, t4.db with all four (tw1, tw4: the
** same in WAL mode; t4u: with user_version 4; t1v: user_version 7, which
** no setting manages); ta.db has the schema of 001 and 002 and dbmate's
** history of them instead of ours, td.db Drizzle's; tq.db carries the four migrations as
** rows of a table, for migrate_apply('SELECT ...'); tr.db has all four with
** rows edited, for migrate_repair.
*/
static void makeTemplates(void){
  static const char zT1[] = "SELECT migrate_apply('%s/mig', 1);";
  static const char zT4[] = "SELECT migrate_apply('%s/mig', 1);"
                            "SELECT migrate_apply('%s/mig', 4);";
  sqlite3 *db;
  sqlite3_stmt *p;
  char *zFile;
  int i;
  makeDb("t1.db", "delete", zT1);
  makeDb("t4.db", "delete", zT4);
  makeDb("tw1.db", "wal", zT1);
  makeDb("tw4.db", "wal", zT4);
  makeDb("t0.db", "delete", "SELECT 1;");
  makeDb("t0r.db", "delete", "SELECT migrate_apply('%s/rep');");
  makeDb("t4u.db", "delete", "SELECT migrate_config('user_version', 'on');"
         "SELECT migrate_apply('%s/mig', 1); SELECT migrate_apply('%s/mig', 4);");
  makeDb("t1v.db", "delete", "SELECT migrate_apply('%s/mig', 1);"
         "PRAGMA user_version = 7;");
  makeDb("ta.db", "delete",
    "SELECT migrate_apply('%s/mig', 2);"
    "DROP TABLE migrate_history; DROP TABLE migrate_log;"
    "CREATE TABLE schema_migrations(version varchar(128) primary key);"
    "INSERT INTO schema_migrations VALUES('001'), ('002');");
  /* Drizzle's history of the same: each row the SHA-256 of a file, which
  ** is the checksum migrate_history recorded for it. */
  makeDb("td.db", "delete",
    "SELECT migrate_apply('%s/mig', 2);"
    "CREATE TABLE __drizzle_migrations(id INTEGER PRIMARY KEY,"
    " hash TEXT NOT NULL, created_at NUMERIC);"
    "INSERT INTO __drizzle_migrations(hash, created_at)"
    " SELECT checksum, version FROM migrate_history ORDER BY version;"
    "DROP TABLE migrate_history; DROP TABLE migrate_log;");
  /* For migrate_repair: 001's and 003's rows with another checksum and
  ** down script, 002's stored up with a comment the file does not have. */
  makeDb("tr.db", "delete",
    "SELECT migrate_apply('%s/mig', 4);"
    "UPDATE migrate_history SET checksum = 'edited', down = 'SELECT 1;'"
    " WHERE version IN (1, 3);"
    "UPDATE migrate_history SET checksum = 'edited',"
    " up = '-- as first written' || char(10) || up WHERE version = 2;");
  /* ts.db: the four applied in migration set auth; t1o.db: 001 applied,
  ** and migrate_log as the release before its last three columns made it */
  makeDb("ts.db", "delete", "SELECT migrate_config('set', 'auth');"
         "SELECT migrate_apply('%s/mig', 4);");
  makeDb("t1o.db", "delete", "SELECT migrate_apply('%s/mig', 1);"
         "ALTER TABLE migrate_log DROP COLUMN lock_wait_ms;"
         "ALTER TABLE migrate_log DROP COLUMN rows_changed;"
         "ALTER TABLE migrate_log DROP COLUMN set_name;");
  /* t1x.db, t4x.db: t1.db and t4.db with a task whose user does not exist,
  ** written with foreign keys off: a violation already there, which the
  ** call's check finds and looks up at its mark, then runs the
  ** transaction's migrations again (doc/guarantees.md "Foreign keys") */
  makeDb("t1x.db", "delete", "SELECT migrate_apply('%s/mig', 1);"
         "PRAGMA foreign_keys=OFF; INSERT INTO tasks VALUES(9, 99, 'orphan');");
  makeDb("t4x.db", "delete", "SELECT migrate_apply('%s/mig', 1);"
         "SELECT migrate_apply('%s/mig', 4);"
         "PRAGMA foreign_keys=OFF; INSERT INTO tasks VALUES(9, 99, 'orphan');");
  makeDb("tq.db", "delete",
    "CREATE TABLE bundle(version INTEGER PRIMARY KEY, name TEXT, up TEXT,"
    " down TEXT);");
  zFile = path("tq.db");
  db = openDb(zFile, SQLITE_OPEN_READWRITE);
  sqlite3_prepare_v2(db, "INSERT INTO bundle VALUES(?1, ?2, ?3, ?4)", -1, &p, 0);
  for(i=0; i<4; i++){
    /* 001 and 002 as one text with markers, 003 and 004 as up and down. */
    static const char *az[4][3] = {
      { "create", zMig001, 0 }, { "rebuild_users", zMig002, 0 },
      { "tags", zMig003Up, zMig003Down }, { "titles", zMig004Up, zMig004Down },
    };
    sqlite3_bind_int(p, 1, i+1);
    sqlite3_bind_text(p, 2, az[i][0], -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 3, az[i][1], -1, SQLITE_STATIC);
    if( az[i][2] ) sqlite3_bind_text(p, 4, az[i][2], -1, SQLITE_STATIC);
    else sqlite3_bind_null(p, 4);
    if( sqlite3_step(p)!=SQLITE_DONE ){
      fprintf(stderr, "fault: tq.db: %s\n", sqlite3_errmsg(db));
      exit(2);
    }
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  sqlite3_close(db);
  sqlite3_free(zFile);
}

/* What a scenario's call is and what it must leave. */
#define SC_LOAD      0x01  /* the call is loading the extension */
#define SC_LOG_LATE  0x02  /* its log row is written after the work commits,
                           ** best effort: it may be missing after success */
#define SC_AUTO      0x04  /* a success takes one automatic backup */
#define SC_BK        0x08  /* a success writes one backup file into bk/ */
#define SC_UVERSION  0x10  /* user_version follows the newest applied version */
#define SC_TRACE     0x20  /* trace is on: what it prints is checked */
#define SC_IN_TXN    0x40  /* called inside the application's BEGIN ... COMMIT */
#define SC_UNIX      0x80  /* through SQLite's own unix VFS, not the shim: the
                           ** backup's byte copy runs only there (vfs.* kinds
                           ** are not reached) */
#define SC_SETTLED  0x100  /* run once the files are old enough for their
                           ** stats to be recorded (stamp.c): the call writes
                           ** them */
#define MAX_STEP 6

typedef struct Scenario {
  const char *zName;
  const char *zTemplate;   /* copied to db.db before each run */
  const char *zCall;       /* %s is the work directory */
  int flags;               /* SC_... */
  const char *zSetup;      /* run on the connection first, not under test */
  const char *zFolder;     /* a folder the call writes into: copied to run/ */
  /* A call that is not atomic (atomic off, transaction:false) may stop in
  ** a state between the one it started from and the one a clean run
  ** leaves: each step, run in turn on the template (with zSetup and no
  ** backups), makes the next such state; the last step makes the final. */
  const char *azStep[MAX_STEP];
} Scenario;

#define SETUP_OFF "SELECT migrate_config('atomic', 'off'), " \
                  "migrate_config('user_version', 'on')"

static const Scenario aScenario[] = {
  { "load",     "t1.db", 0, SC_LOAD, 0, 0, {0} },
  { "apply",    "t1.db", "SELECT migrate_apply('%s/mig')", SC_AUTO, 0, 0, {0} },
  { "rollback", "t4.db", "SELECT migrate_rollback(3)", SC_AUTO, 0, 0, {0} },
  { "backup",   "t4.db", "SELECT migrate_backup('%s/bk')", SC_LOG_LATE|SC_BK,
    0, 0, {0} },
  { "restore",  "t4.db", "SELECT migrate_restore('%s/src.db')",
    SC_LOG_LATE|SC_AUTO, 0, 0, {0} },
  { "scan",     "t1.db", "SELECT version, name, status, checksum, reversible,"
                " file, up, down FROM migrations('%s/mig')", 0, 0, 0, {0} },
  /* atomic off: each migration commits on its own, user_version with it */
  { "apply-off", "t1.db", "SELECT migrate_apply('%s/mig')", SC_AUTO|SC_UVERSION,
    SETUP_OFF, 0, { "SELECT migrate_apply('%s/mig', 2)",
                    "SELECT migrate_apply('%s/mig', 3)",
                    "SELECT migrate_apply('%s/mig')" } },
  { "rollback-off", "t4.db", "SELECT migrate_rollback(3)", SC_AUTO|SC_UVERSION,
    SETUP_OFF, 0, { "SELECT migrate_rollback()", "SELECT migrate_rollback()",
                    "SELECT migrate_rollback()" } },
  /* transaction:false: the migrations before it commit, then each of its
  ** statements, then its history row, then the rest */
  { "notxn",    "t1.db", "SELECT migrate_apply('%s/mignt')", SC_AUTO, 0, 0,
    { "CREATE INDEX IF NOT EXISTS tasks_title ON tasks(title)",
      "CREATE INDEX IF NOT EXISTS tasks_user ON tasks(user_id)",
      "SELECT migrate_apply('%s/mignt', 2)",
      "SELECT migrate_apply('%s/mignt')" } },
  { "apply-uv", "t1.db", "SELECT migrate_apply('%s/mig')",
    SC_AUTO|SC_UVERSION|SC_TRACE, "SELECT migrate_config('user_version', 'on'),"
    " migrate_config('trace', 'on')", 0, {0} },
  /* SQLite's check of the database before the commit (integrity.c) */
  { "apply-integrity", "t1.db", "SELECT migrate_apply('%s/mig')", SC_AUTO,
    "SELECT migrate_config('integrity_check', 'full')", 0, {0} },
  { "apply-wal", "tw1.db", "SELECT migrate_apply('%s/mig')", SC_AUTO, 0, 0, {0} },
  { "backup-wal", "tw4.db", "SELECT migrate_backup('%s/bk')",
    SC_LOG_LATE|SC_BK, 0, 0, {0} },
  { "restore-wal", "tw4.db", "SELECT migrate_restore('%s/src.db')",
    SC_LOG_LATE|SC_AUTO, 0, 0, {0} },
  /* the byte copy of a WAL database with a frame only in the -wal: the
  ** setup commits page 1 unchanged with the automatic checkpoint off */
  { "backup-wal-unix", "tw4.db", "SELECT migrate_backup('%s/bk')",
    SC_LOG_LATE|SC_BK|SC_UNIX,
    "PRAGMA wal_autocheckpoint=0; PRAGMA user_version=0", 0, {0} },
  { "apply-wal-unix", "tw1.db", "SELECT migrate_apply('%s/mig')",
    SC_AUTO|SC_UNIX, "PRAGMA wal_autocheckpoint=0; PRAGMA user_version=0",
    0, {0} },
  { "restore-from-wal", "t4.db", "SELECT migrate_restore('%s/srcw.db')",
    SC_LOG_LATE|SC_AUTO, 0, 0, {0} },
  { "rollback-to", "t4.db", "SELECT migrate_rollback_to(1)", SC_AUTO, 0, 0, {0} },
  { "reset",    "t4.db", "SELECT migrate_reset()", SC_AUTO, 0, 0, {0} },
  { "reset-uv", "t4u.db", "SELECT migrate_reset()", SC_AUTO|SC_UVERSION,
    "SELECT migrate_config('user_version', 'on')", 0, {0} },
  /* inside the application's transaction: savepoints; the backup first
  ** takes the write lock by writing user_version back as it is (foreign
  ** keys off: a table rebuild cannot turn them off inside a transaction) */
  { "apply-txn", "t1v.db", "SELECT migrate_apply('%s/mig')", SC_AUTO|SC_IN_TXN,
    "PRAGMA foreign_keys=OFF", 0, {0} },
  /* the same for rollback, foreign keys on: they stay enforced in there */
  { "rollback-txn", "t4.db", "SELECT migrate_rollback(2)", SC_AUTO|SC_IN_TXN,
    0, 0, {0} },
  /* an old violation: the check before the commit finds it, the call
  ** goes back to its mark, looks it up, and runs the migrations again */
  { "apply-old", "t1x.db", "SELECT migrate_apply('%s/mig')", SC_AUTO|SC_TRACE,
    "SELECT migrate_config('trace', 'on')", 0, {0} },
  { "rollback-old", "t4x.db", "SELECT migrate_rollback(3)", SC_AUTO, 0, 0, {0} },
  { "apply-old-off", "t1x.db", "SELECT migrate_apply('%s/mig')",
    SC_AUTO|SC_UVERSION, SETUP_OFF, 0, { "SELECT migrate_apply('%s/mig', 2)",
                                         "SELECT migrate_apply('%s/mig', 3)",
                                         "SELECT migrate_apply('%s/mig')" } },
  { "rollback-old-txn", "t4x.db", "SELECT migrate_rollback(2)",
    SC_AUTO|SC_IN_TXN, 0, 0, {0} },
  { "rows",     "tq.db", "SELECT migrate_apply('SELECT version, name, up, down"
                " FROM bundle')", SC_AUTO, 0, 0, {0} },
  { "baseline", "ta.db", "SELECT migrate_baseline('%s/mig', 2)", 0, 0, 0, {0} },
  /* the history takes the files: three rows, three log rows, no backup */
  { "repair",   "tr.db", "SELECT migrate_repair('%s/mig')", 0, 0, 0, {0} },
  { "adopt",    "ta.db", "SELECT migrate_adopt('%s/mig')", 0, 0, 0, {0} },
  { "adopt-drizzle", "td.db", "SELECT migrate_adopt('%s/mig')", 0, 0, 0, {0} },
  { "apply-drizzle", "t0.db", "SELECT migrate_apply('%s/drz')", SC_AUTO, 0, 0,
    {0} },
  { "apply-repeat", "t0.db", "SELECT migrate_apply('%s/rep')", SC_AUTO, 0, 0,
    {0} },
  { "scan-repeat", "t0.db", "SELECT version, name, status, checksum, file, up"
                " FROM migrations('%s/rep')", 0, 0, 0, {0} },
  /* nothing due: the stats of the versioned file and the repeatable are
  ** recorded, migrate_repeatable gaining its file_stat column */
  { "apply-repeat-stat", "t0r.db", "SELECT migrate_apply('%s/rep')",
    SC_SETTLED, 0, 0, {0} },
  /* migration sets: a set's own history written, rolled back, and every
  ** set's replayed; an older migrate_log upgraded by the call */
  { "apply-set", "t0.db", "SELECT migrate_apply('%s/mig')", SC_AUTO,
    "SELECT migrate_config('set', 'auth')", 0, {0} },
  { "rollback-set", "ts.db", "SELECT migrate_rollback(3)", SC_AUTO,
    "SELECT migrate_config('set', 'auth')", 0, {0} },
  { "drift-set", "ts.db", "SELECT count(*), migrate_config('set') FROM "
                "migrate_drift()", 0, "SELECT migrate_config('set', 'auth')", 0,
    {0} },
  { "apply-oldlog", "t1o.db", "SELECT migrate_apply('%s/mig')", SC_AUTO, 0, 0,
    {0} },
  /* migrate_create: a diesel folder (mkdir, up.sql, down.sql), a pair, a
  ** single file; %s/run is a fresh copy of the folder each time */
  { "create",   "t1.db", "SELECT migrate_create('%s/run', 'add_notes')", 0, 0,
    "mig", {0} },
  { "create-pair", "t1.db", "SELECT migrate_create('%s/run', 'add_notes')", 0,
    0, "pair", {0} },
  { "create-single", "t1.db", "SELECT migrate_create('%s/run', 'add_notes')",
    0, 0, "single", {0} },
  /* migrate_diff: a scratch copy, an ALTER tried and a rebuild; the
  ** database is only read; migrate_create writes what it makes */
  { "diff",     "t1.db", "SELECT migrate_diff('CREATE TABLE users(id INTEGER"
                " PRIMARY KEY, name TEXT NOT NULL, email TEXT DEFAULT ''x'');"
                " CREATE TABLE tasks(id INTEGER PRIMARY KEY, user_id INTEGER NOT"
                " NULL REFERENCES users(id) ON DELETE CASCADE, title TEXT);"
                " CREATE INDEX tasks_user ON tasks(user_id);', 'down')", 0, 0, 0,
    {0} },
  { "create-diff", "t1.db", "SELECT migrate_create('%s/run', 'add_notes',"
                " 'CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " email TEXT DEFAULT ''x''); CREATE TABLE tasks(id INTEGER PRIMARY"
                " KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT);')",
    0, 0, "single", {0} },
};
#define N_SCENARIO (int)(sizeof(aScenario)/sizeof(aScenario[0]))

/* What one run did. */
typedef struct Outcome {
  int rc;              /* SQLITE_OK or the error code */
  char *zResult;       /* rows, or the error message */
  char *zFp;           /* fingerprint of db.db afterwards */
  char *zFpNoLog;      /* the same without migrate_log */
  char *zCheck;        /* its integrity_check */
  char *zSrcFp;        /* fingerprint of src.db afterwards */
  char *zTree;         /* the folder the call writes into, afterwards */
  char *zTrace;        /* what trace printed */
  char *zWhy;          /* why the run failed a check, or NULL */
  int injected;
  int calls;
  int late;            /* failed after the work had committed */
  int leftOpen;        /* the application had to roll back */
  int partial;         /* not atomic: stopped in a state between the two */
} Outcome;

static void outcomeFree(Outcome *o){
  sqlite3_free(o->zResult);
  sqlite3_free(o->zFp);
  sqlite3_free(o->zFpNoLog);
  sqlite3_free(o->zCheck);
  sqlite3_free(o->zSrcFp);
  sqlite3_free(o->zTree);
  sqlite3_free(o->zTrace);
  sqlite3_free(o->zWhy);
  memset(o, 0, sizeof(*o));
}

static void why(Outcome *o, const char *zFmt, ...){
  va_list ap;
  if( o->zWhy ) return;          /* the first problem is the one to show */
  va_start(ap, zFmt);
  o->zWhy = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
}

/* The first line where two fingerprints differ, for the report. */
static char *firstDiff(const char *zA, const char *zB){
  while( *zA && *zA==*zB ){ zA++; zB++; }
  return sqlite3_mprintf("expected ...%.80s... got ...%.80s...", zA, zB);
}

/* The reference: the state before and after a run with no fault. */
typedef struct Reference {
  char *zBefore;       /* fingerprint of the template */
  char *zSrcBefore;    /* fingerprint of the file a restore reads */
  char *zTreeBefore;   /* the scenario's folder before the call */
  /* Not atomic: azState[0] is zBefore, azState[nState-1] the final state,
  ** and a failed call may leave any one of them. */
  char *azState[MAX_STEP+1];
  int nState;
  Outcome ok;          /* the clean run */
} Reference;

/* ------------------------------------------------------------- folders */

/* Remove a folder and everything in it. */
static void removeTree(const char *zDir){
  DIR *d = opendir(zDir);
  struct dirent *de;
  if( d==0 ){ unlink(zDir); return; }
  while( (de = readdir(d))!=0 ){
    char *z;
    struct stat st;
    if( strcmp(de->d_name, ".")==0 || strcmp(de->d_name, "..")==0 ) continue;
    z = sqlite3_mprintf("%s/%s", zDir, de->d_name);
    if( lstat(z, &st)==0 && S_ISDIR(st.st_mode) ) removeTree(z);
    else unlink(z);
    sqlite3_free(z);
  }
  closedir(d);
  rmdir(zDir);
}

static void copyTree(const char *zFrom, const char *zTo){
  DIR *d = opendir(zFrom);
  struct dirent *de;
  if( d==0 ){ perror(zFrom); exit(2); }
  mkdir(zTo, 0755);
  while( (de = readdir(d))!=0 ){
    char *zA, *zB;
    struct stat st;
    if( strcmp(de->d_name, ".")==0 || strcmp(de->d_name, "..")==0 ) continue;
    zA = sqlite3_mprintf("%s/%s", zFrom, de->d_name);
    zB = sqlite3_mprintf("%s/%s", zTo, de->d_name);
    if( lstat(zA, &st)==0 && S_ISDIR(st.st_mode) ) copyTree(zA, zB);
    else copyFile(zA, zB);
    sqlite3_free(zA);
    sqlite3_free(zB);
  }
  closedir(d);
}

/* A whole file as text (NUL-terminated), or NULL. */
static char *readText(const char *zFile){
  sqlite3_str *s;
  char buf[4096];
  ssize_t n;
  int fd = open(zFile, O_RDONLY);
  if( fd<0 ) return 0;
  s = sqlite3_str_new(0);
  while( (n = read(fd, buf, sizeof(buf)))>0 ) sqlite3_str_append(s, buf, (int)n);
  close(fd);
  if( sqlite3_str_length(s)==0 ){   /* finish() gives NULL for "" */
    sqlite3_free(sqlite3_str_finish(s));
    return sqlite3_mprintf("");
  }
  return sqlite3_str_finish(s);
}

static int cmpText(const void *a, const void *b){
  return strcmp(*(char*const*)a, *(char*const*)b);
}

/* Every entry of a folder, in name order, with the content of its files. */
static void treeAppend(sqlite3_str *out, const char *zDir, const char *zRel){
  DIR *d = opendir(zDir);
  struct dirent *de;
  char *az[256];
  int n = 0, i;
  if( d==0 ) return;
  while( (de = readdir(d))!=0 && n<256 ){
    if( strcmp(de->d_name, ".")==0 || strcmp(de->d_name, "..")==0 ) continue;
    az[n++] = sqlite3_mprintf("%s", de->d_name);
  }
  closedir(d);
  qsort(az, (size_t)n, sizeof(az[0]), cmpText);
  for(i=0; i<n; i++){
    char *zPath = sqlite3_mprintf("%s/%s", zDir, az[i]);
    char *zName = sqlite3_mprintf("%s%s", zRel, az[i]);
    struct stat st;
    if( lstat(zPath, &st)==0 && S_ISDIR(st.st_mode) ){
      char *zSub = sqlite3_mprintf("%s/", zName);
      sqlite3_str_appendf(out, "%s\n", zSub);
      treeAppend(out, zPath, zSub);
      sqlite3_free(zSub);
    }else{
      char *zText = readText(zPath);
      sqlite3_str_appendf(out, "%s: %s\n", zName, zText ? zText : "(unreadable)");
      sqlite3_free(zText);
    }
    sqlite3_free(zPath);
    sqlite3_free(zName);
    sqlite3_free(az[i]);
  }
}

/* The names in the work directory, but for the automatic backups' folder
** a call may create: after a run, the same as before it (no -journal, -wal
** or -shm left once the database is closed, no temporary file). */
static char *workNames(int kind){
  sqlite3_str *s = sqlite3_str_new(0);
  DIR *d = opendir(zWork);
  struct dirent *de;
  char *az[256];
  int n = 0, i;
  while( d && (de = readdir(d))!=0 && n<256 ){
    if( de->d_name[0]=='.' || strcmp(de->d_name, "backups")==0 ) continue;
    /* What SQLite could not delete when deleting was failed is still there. */
    if( kind==K_VFS_DELETE && (strcmp(de->d_name, "db.db-wal")==0
                               || strcmp(de->d_name, "db.db-journal")==0) ){
      continue;
    }
    az[n++] = sqlite3_mprintf("%s", de->d_name);
  }
  if( d ) closedir(d);
  qsort(az, (size_t)n, sizeof(az[0]), cmpText);
  for(i=0; i<n; i++){
    sqlite3_str_appendf(s, "%s ", az[i]);
    sqlite3_free(az[i]);
  }
  return sqlite3_str_finish(s);
}

static char *treeFingerprint(const char *zDir){
  sqlite3_str *s = sqlite3_str_new(0);
  treeAppend(s, zDir, "");
  return sqlite3_str_finish(s);
}

/* ---------------------------------------------------------------- runs */

/* Run the call (armed when kind>=0); collect what it returned, and with
** trace on what it printed. */
static void runCall(const Scenario *s, sqlite3 *db, int kind, int n,
                    int persistent, Outcome *o){
  char *zSql = sqlite3_mprintf(s->zCall, zWork);
  char *zTraceFile = path("trace.txt");
  sqlite3_str *res = sqlite3_str_new(0);
  sqlite3_stmt *p = 0;
  FILE *pStderr = stderr;
  int rc;
  if( s->flags & SC_TRACE ){
    /* The extension prints to the C library's stderr: point it at a file. */
    fflush(stderr);
    stderr = fopen(zTraceFile, "w");
    if( stderr==0 ){ stderr = pStderr; perror(zTraceFile); exit(2); }
  }
  if( kind>=0 ) arm(kind, n, persistent);
  rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(p))==SQLITE_ROW ){
    int i, wasArmed = F.armed;
    F.armed = 0;     /* the host's reading of a row is not under test */
    for(i=0; i<sqlite3_column_count(p); i++){
      const char *z = (const char*)sqlite3_column_text(p, i);
      sqlite3_str_appendf(res, "%s%s", i ? "|" : "", z ? z : "NULL");
    }
    sqlite3_str_appendchar(res, 1, '\n');
    F.armed = wasArmed;
    rc = SQLITE_OK;
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  F.armed = 0;
  o->rc = rc;
  if( rc ){
    sqlite3_str_reset(res);
    sqlite3_str_appendall(res, sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  o->zResult = sqlite3_str_finish(res);
  if( s->flags & SC_TRACE ){
    fclose(stderr);
    stderr = pStderr;
    o->zTrace = readText(zTraceFile);
    unlink(zTraceFile);
  }
  sqlite3_free(zTraceFile);
  sqlite3_free(zSql);
}

static int nRegistered;       /* functions and modules a load registers */

/* The load scenario's call: loading the extension into a connection. */
static void runLoad(sqlite3 *db, int kind, int n, int persistent, Outcome *o){
  char *zErr = 0;
  if( kind>=0 ) arm(kind, n, persistent);
  o->rc = loadExtension(db, &zErr);
  F.armed = 0;
  if( o->rc==SQLITE_OK ){
    /* Loaded: the whole surface is there. */
    o->zResult = queryText(db, "SELECT (SELECT count(*) FROM pragma_function_list"
                           " WHERE name LIKE 'migrate%'), (SELECT count(*) FROM "
                           "pragma_module_list WHERE name IN ('migrations', 'migrate_status')), "
                           "migrate_version()");
  }else{
    /* Not loaded: nothing of it may stay registered, since SQLite unloads
    ** the library and a function left behind would point into nothing. */
    char *zLeft = queryText(db, "SELECT (SELECT count(*) FROM pragma_function_list"
                            " WHERE name LIKE 'migrate%') + (SELECT count(*) FROM "
                            "pragma_module_list WHERE name IN ('migrations', 'migrate_status'))");
    if( atoi(zLeft)==nRegistered ){
      /* All of it: the entry point succeeded and SQLite could not record
      ** the library afterwards, so it keeps it loaded (SQLite's own
      ** bookkeeping; the registrations stay valid). */
      o->late = 1;
    }else if( strcmp(zLeft, "0\n")!=0 ){
      why(o, "failed load left %.*s registrations behind",
          (int)strlen(zLeft)-1, zLeft);
    }
    sqlite3_free(zLeft);
    o->zResult = sqlite3_mprintf("%s", zErr ? zErr : "(no message)");
  }
  sqlite3_free(zErr);
}

/* Does the error text name the fault that was injected? */
static int errorExplained(int kind, const Outcome *o){
  const char *z = o->zResult;
  if( kind==K_MALLOC && strcmp(z, "(no message)")==0 ){
    /* sqlite3_load_extension() could not allocate its own message. */
    return 1;
  }
  if( kind==K_MALLOC ){
    return (o->rc & 0xff)==SQLITE_NOMEM || strstr(z, "out of memory")!=0;
  }
  if( kind<K_FS_OPEN ){
    return strstr(z, "disk I/O error")!=0
        || strstr(z, "unable to open database file")!=0;
  }
  return strstr(z, strerror(aKind[kind].err))!=0;
}

/* A copy of z without its first line that starts with zPrefix. */
static char *dropLine(const char *z, const char *zPrefix){
  const char *zA = z;
  const char *zB;
  size_t n = strlen(zPrefix);
  while( zA && strncmp(zA, zPrefix, n)!=0 ){
    zA = strchr(zA, '\n');
    if( zA ) zA++;
  }
  zB = zA ? strchr(zA, '\n') : 0;
  if( zB==0 ) return sqlite3_mprintf("%s", z);
  return sqlite3_mprintf("%.*s%s", (int)(zA-z), z, zB+1);
}

/* The same, but for their journal mode? (fingerprints and settings) */
static int sameButJournalMode(const char *zA, const char *zB){
  int isFp = strncmp(zA, "user_version ", 13)==0;
  char *zA2 = dropLine(zA, isFp ? "journal_mode " : "journal_mode=");
  char *zB2 = dropLine(zB, isFp ? "journal_mode " : "journal_mode=");
  int same = strcmp(zA2, zB2)==0;
  sqlite3_free(zA2);
  sqlite3_free(zB2);
  return same;
}

/* The file a restore scenario reads from, which nothing may write to. */
static const char *sourceFile(const Scenario *s){
  if( s->zCall==0 ) return 0;
  if( strstr(s->zCall, "srcw.db") ) return "srcw.db";
  if( strstr(s->zCall, "src.db") ) return "src.db";
  return 0;
}

/*
** A restore from a WAL file turns the database WAL (the copied header), and
** the call puts the journal mode back after the copy has committed.  If that
** fails, the error says so ("restored, but ..."), or, out of memory in that
** nested statement, SQLite reports only "out of memory": then all the call
** may have changed beyond the restore is the journal mode.
*/
static int journalModeExcused(const Scenario *s, int kind, const Outcome *o){
  if( o->rc==SQLITE_OK ) return 0;
  if( strstr(o->zResult, "restored, but could not set journal_mode") ) return 1;
  return kind==K_MALLOC && sourceFile(s)!=0;
}

/* Every backup file in zDir is complete, self-contained (not WAL) and holds
** zBefore (whose journal mode may be WAL); returns how many. */
static int checkBackups(const char *zDir, const char *zBefore, int kind,
                        Outcome *o){
  DIR *d = opendir(zDir);
  struct dirent *de;
  int n = 0;
  char *zWant = dropLine(zBefore, "journal_mode ");
  if( d==0 ){ sqlite3_free(zWant); return 0; }
  while( (de = readdir(d))!=0 ){
    char *zFile, *zFp, *zGot, *zCheck = 0;
    if( de->d_name[0]=='.' ) continue;
    if( strstr(de->d_name, ".tmp-") ){
      /* A failed unlink may leave its temporary file; nothing else may. */
      if( kind!=K_FS_UNLINK ) why(o, "temporary file left: %s", de->d_name);
      continue;
    }
    zFile = sqlite3_mprintf("%s/%s", zDir, de->d_name);
    zFp = fileFingerprint(zFile, &zCheck, 0);
    zGot = dropLine(zFp, "journal_mode ");
    if( strcmp(zCheck, "ok\n")!=0 ){
      why(o, "backup %s fails integrity_check: %s", de->d_name, zCheck);
    }else if( strstr(zFp, "\njournal_mode delete\n")==0 ){
      why(o, "backup %s is not a rollback-journal database", de->d_name);
    }else if( strcmp(zGot, zWant)!=0 ){
      why(o, "backup %s does not hold the state the call started from",
          de->d_name);
    }
    n++;
    sqlite3_free(zGot);
    sqlite3_free(zFp);
    sqlite3_free(zCheck);
    sqlite3_free(zFile);
  }
  closedir(d);
  sqlite3_free(zWant);
  return n;
}

/* user_version is the newest applied version (0 when none)? */
static int userVersionFollows(const char *zFile){
  sqlite3 *db = openDb(zFile, SQLITE_OPEN_READWRITE);
  char *z = queryText(db, "SELECT (SELECT user_version FROM pragma_user_version)"
                      " = coalesce((SELECT max(version) FROM migrate_history), 0)");
  int ok = strcmp(z, "1\n")==0;
  sqlite3_free(z);
  sqlite3_close(db);
  return ok;
}

/* With trace on, what was printed ends with the call's closing line: done
** and how many, or failed.  A call stopped before it began prints nothing. */
static void checkTrace(const Scenario *s, Outcome *o){
  const char *zFunc = strstr(s->zCall, "migrate_");
  int nFunc = (int)strcspn(zFunc, "(");
  const char *zText = o->zTrace ? o->zTrace : "";
  const char *zLast;
  size_t n = strlen(zText);
  char *zWant;
  if( n==0 ){
    if( o->rc==SQLITE_OK ) why(o, "trace printed nothing");
    return;
  }
  if( zText[n-1]!='\n' ){
    why(o, "trace output does not end with a line: %s", zText);
    return;
  }
  for(zLast=zText+n-1; zLast>zText && zLast[-1]!='\n'; zLast--){}
  if( o->rc==SQLITE_OK ){
    zWant = sqlite3_mprintf("migrate: %.*s: done, %d migration", nFunc, zFunc,
                            atoi(o->zResult));
  }else{
    zWant = sqlite3_mprintf("migrate: %.*s: failed, ", nFunc, zFunc);
  }
  if( strncmp(zLast, zWant, strlen(zWant))!=0 ){
    why(o, "trace ends with %s, expected %s...", zLast, zWant);
  }
  sqlite3_free(zWant);
}

/* Which of the states a call that is not atomic may leave is this? */
static int stateOf(const Reference *ref, const char *zFp){
  int i;
  for(i=0; i<ref->nState; i++){
    if( strcmp(ref->azState[i], zFp)==0 ) return i;
  }
  return -1;
}

/*
** One run: a fresh copy of the template, the call with kind failing at n
** (kind<0: no fault), and every check.  The reference is NULL for the clean
** run that makes it.
*/
static void runOnce(const Scenario *s, int kind, int n, int persistent,
                    const Reference *ref, Outcome *o){
  char *zDb = path("db.db"), *zTpl = path(s->zTemplate);
  char *zAuto = path("backups"), *zBk = path("bk");
  char *zSrc = sourceFile(s) ? path(sourceFile(s)) : 0;
  char *zRun = path("run");
  char *zJournal = sqlite3_mprintf("%s-journal", zDb);
  char *zWal = sqlite3_mprintf("%s-wal", zDb);
  char *zShm = sqlite3_mprintf("%s-shm", zDb);
  char *zSettings0 = 0, *zSettings1 = 0, *zNames0, *zNames1;
  long nAlloc0, nLeak;
  int nFd0, rc, nAuto, nBk;
  sqlite3 *db;

  memset(o, 0, sizeof(*o));
  unlink(zJournal);
  unlink(zWal);
  unlink(zShm);
  copyFile(zTpl, zDb);
  emptyDir(zAuto);
  emptyDir(zBk);
  mkdir(zBk, 0755);
  if( s->zFolder ){
    char *zFrom = path(s->zFolder);
    removeTree(zRun);
    copyTree(zFrom, zRun);
    sqlite3_free(zFrom);
  }
  zNames0 = workNames(-1);
  nAlloc0 = nOutstanding;
  nFd0 = countFds();

  db = openDbVfs(zDb, SQLITE_OPEN_READWRITE, (s->flags & SC_UNIX) ? "unix" : 0);
  execOrDie(db, "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=2000;"
                "SELECT count(*) FROM sqlite_schema");
  if( s->flags & SC_LOAD ){
    zSettings0 = settings(db);
    runLoad(db, kind, n, persistent, o);
  }else{
    char *zErr = 0;
    if( loadExtension(db, &zErr) ){
      fprintf(stderr, "fault: cannot load %s: %s\n", zLib, zErr);
      exit(2);
    }
    if( s->zSetup ) execOrDie(db, s->zSetup);
    zSettings0 = settings(db);
    if( s->flags & SC_IN_TXN ) execOrDie(db, "BEGIN");
    runCall(s, db, kind, n, persistent, o);
  }
  o->injected = F.injected;
  o->calls = F.calls;
  if( (s->flags & SC_IN_TXN) && !sqlite3_get_autocommit(db) ){
    /* The application's transaction, which the call never ends: after an
    ** error the call has rolled back its own savepoint, so COMMIT keeps
    ** nothing of it.  After out of memory it may not have been able to
    ** (see "open"), and the application rolls back, as SQLite says to. */
    if( o->rc && kind==K_MALLOC ){
      o->leftOpen = 1;
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    }else if( sqlite3_exec(db, "COMMIT", 0, 0, 0)!=SQLITE_OK ){
      why(o, "the application's COMMIT failed: %s", sqlite3_errmsg(db));
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    }
  }
  if( o->rc && !sqlite3_get_autocommit(db) ){
    /* Once SQLite has run out of memory inside the call, it runs no further
    ** statement until the calling one ends, so the call cannot end its own
    ** transaction: the application's ROLLBACK after SQLITE_NOMEM does. */
    if( kind!=K_MALLOC ) why(o, "a transaction was left open");
    o->leftOpen = 1;
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  }
  zSettings1 = settings(db);
  if( strcmp(zSettings0, zSettings1)!=0
   && !(journalModeExcused(s, kind, o)
        && sameButJournalMode(zSettings0, zSettings1)) ){
    why(o, "connection settings changed:\n%s---\n%s", zSettings0, zSettings1);
  }
  sqlite3_free(zSettings0);
  sqlite3_free(zSettings1);
  rc = sqlite3_close(db);
  if( rc!=SQLITE_OK ){
    why(o, "sqlite3_close: %s (something left unfinalized)", sqlite3_errstr(rc));
    sqlite3_close_v2(db);
  }
  /* Everything allocated since nAlloc0 is freed, but for what this host
  ** keeps of the run: its result text, its trace and the reason it failed. */
  nLeak = nOutstanding - nAlloc0 - (o->zResult!=0) - (o->zTrace!=0)
        - (o->zWhy!=0);
  if( nLeak ) why(o, "%ld allocations leaked", nLeak);
  if( countFds()!=nFd0 ){
    why(o, "%d file descriptors leaked", countFds()-nFd0);
  }

  /* The database as a new connection finds it (a hot journal rolled back). */
  o->zFp = fileFingerprint(zDb, &o->zCheck, &o->zFpNoLog);
  /* The file a restore reads from is never written to. */
  if( zSrc ) o->zSrcFp = fileFingerprint(zSrc, 0, 0);
  if( s->zFolder ) o->zTree = treeFingerprint(zRun);
  zNames1 = workNames(kind);
  if( strcmp(zNames0, zNames1)!=0 ){
    why(o, "files in the work directory were %s, are %s", zNames0, zNames1);
  }
  sqlite3_free(zNames0);
  sqlite3_free(zNames1);
  if( strcmp(o->zCheck, "ok\n")!=0 ) why(o, "integrity_check: %s", o->zCheck);
  if( s->flags & SC_TRACE ) checkTrace(s, o);
  if( (s->flags & SC_UVERSION) && o->rc==SQLITE_OK && !userVersionFollows(zDb) ){
    why(o, "succeeded, but user_version is not the newest applied version");
  }

  if( ref ){
    const Outcome *ok = &ref->ok;
    int k;
    if( o->rc==SQLITE_OK ){
      if( s->flags & SC_BK ){
        /* The result names the new file, whose time stamp differs. */
        if( strncmp(o->zResult, zBk, strlen(zBk))!=0 ){
          why(o, "unexpected result %s", o->zResult);
        }
      }else if( strcmp(o->zResult, ok->zResult)!=0 ){
        why(o, "succeeded with %s, expected %s", o->zResult, ok->zResult);
      }
      if( strcmp(o->zFp, ok->zFp)!=0
       && !((s->flags & SC_LOG_LATE) && strcmp(o->zFpNoLog, ok->zFpNoLog)==0) ){
        char *zD = firstDiff(ok->zFp, o->zFp);
        why(o, "succeeded but the database is not as after a clean run: %s", zD);
        sqlite3_free(zD);
      }
      if( o->zTree && strcmp(o->zTree, ok->zTree)!=0 ){
        char *zD = firstDiff(ok->zTree, o->zTree);
        why(o, "succeeded but %s is not as after a clean run: %s", zRun, zD);
        sqlite3_free(zD);
      }
    }else if( strstr(o->zResult, "restored, but") ){
      /* The error says the work is done and what could not be put back. */
      if( !errorExplained(kind, o) ){
        why(o, "error does not explain the fault: %s", o->zResult);
      }
      if( strcmp(o->zFpNoLog, ok->zFpNoLog)!=0
       && !(journalModeExcused(s, kind, o)
            && sameButJournalMode(o->zFpNoLog, ok->zFpNoLog)) ){
        why(o, "says restored but is not: %s", o->zResult);
      }
    }else{
      if( !errorExplained(kind, o) ){
        why(o, "error does not explain the fault: %s", o->zResult);
      }
      k = stateOf(ref, o->zFp);
      if( k>0 && k<ref->nState-1 ){
        /* Not atomic by design: the steps before the fault have committed. */
        o->partial = 1;
      }else if( (strcmp(o->zFpNoLog, ok->zFpNoLog)==0
              || (journalModeExcused(s, kind, o)
                  && sameButJournalMode(o->zFpNoLog, ok->zFpNoLog)))
             && strcmp(o->zFp, ref->zBefore)!=0 ){
        /* The fault came after the work had committed (out of memory in a
        ** nested statement marks the caller's statement failed too): the
        ** database is fully applied, and the call cannot take it back. */
        o->late = 1;
      }else if( strcmp(o->zFp, ref->zBefore)!=0 ){
        char *zD = firstDiff(ref->zBefore, o->zFp);
        why(o, "failed (%s) but the database changed: %s", o->zResult, zD);
        sqlite3_free(zD);
      }
      if( o->zTree && strcmp(o->zTree, ref->zTreeBefore)!=0 ){
        /* A failed migrate_create leaves nothing, or all of its files. */
        if( strcmp(o->zTree, ok->zTree)==0 ){
          o->late = 1;
        }else{
          char *zD = firstDiff(ref->zTreeBefore, o->zTree);
          why(o, "failed (%s) but left files behind in %s: %s", o->zResult,
              zRun, zD);
          sqlite3_free(zD);
        }
      }
    }
    if( zSrc && strcmp(o->zSrcFp, ref->zSrcBefore)!=0 ){
      why(o, "%s changed", sourceFile(s));
    }
    nAuto = checkBackups(zAuto, ref->zBefore, kind, o);
    nBk = checkBackups(zBk, ref->zBefore, kind, o);
    if( nAuto>1 ) why(o, "%d automatic backups", nAuto);
    if( nAuto!=1 && o->rc==SQLITE_OK && (s->flags & SC_AUTO) ){
      why(o, "succeeded without its automatic backup");
    }
    if( nAuto!=0 && !(s->flags & SC_AUTO) ){
      why(o, "%d automatic backups from a call that takes none", nAuto);
    }
    if( nBk==1 && o->rc && (s->flags & SC_BK) ){
      /* Written, then out of memory (a log row's): the file is complete. */
      o->late = 1;
    }else if( nBk!=((s->flags & SC_BK) && o->rc==SQLITE_OK) ){
      why(o, "%d files in bk/ after %s", nBk, o->rc ? "an error" : "success");
    }
  }
  sqlite3_free(zDb);
  sqlite3_free(zTpl);
  sqlite3_free(zAuto);
  sqlite3_free(zBk);
  sqlite3_free(zSrc);
  sqlite3_free(zRun);
  sqlite3_free(zJournal);
  sqlite3_free(zWal);
  sqlite3_free(zShm);
}

/*
** The states a call that is not atomic may stop in: the template, then
** each step run in turn on a copy of it, with the scenario's settings and
** no backups.  They must all differ, so a database is in exactly one.
*/
static void makeStates(const Scenario *s, Reference *ref){
  char *zFile, *zTpl;
  char *zErr = 0;
  sqlite3 *db;
  int i, j;
  ref->azState[0] = sqlite3_mprintf("%s", ref->zBefore);
  ref->nState = 1;
  if( s->azStep[0]==0 ) return;
  zFile = path("state.db");
  zTpl = path(s->zTemplate);
  unlink(zFile);
  copyFile(zTpl, zFile);
  db = openDb(zFile, SQLITE_OPEN_READWRITE);
  if( loadExtension(db, &zErr) ){
    fprintf(stderr, "fault: cannot load %s: %s\n", zLib, zErr);
    exit(2);
  }
  execOrDie(db, "PRAGMA foreign_keys=ON; SELECT migrate_config('backup', 'off')");
  if( s->zSetup ) execOrDie(db, s->zSetup);
  for(i=0; i<MAX_STEP && s->azStep[i]; i++){
    char *zSql = sqlite3_mprintf(s->azStep[i], zWork);
    execOrDie(db, zSql);
    sqlite3_free(zSql);
    ref->azState[ref->nState++] = fingerprint(db, 0);
    if( (s->flags & SC_UVERSION) && !userVersionFollows(zFile) ){
      fprintf(stderr, "fault: %s: after step %d user_version is not the "
              "newest version\n", s->zName, i+1);
      exit(2);
    }
  }
  sqlite3_close(db);
  for(i=0; i<ref->nState; i++){
    for(j=i+1; j<ref->nState; j++){
      if( strcmp(ref->azState[i], ref->azState[j])==0 ){
        fprintf(stderr, "fault: %s: states %d and %d are the same\n",
                s->zName, i, j);
        exit(2);
      }
    }
  }
  unlink(zFile);
  sqlite3_free(zFile);
  sqlite3_free(zTpl);
}

/* -------------------------------------------------------------- driving */

static char zCurrent[200];    /* the run in progress, for a crash report */

static void onCrash(int sig){
  static const char zMsg[] = "\nfault: CRASHED during ";
  ssize_t r;
  r = write(2, zMsg, sizeof(zMsg)-1);
  r = write(2, zCurrent, strlen(zCurrent));
  r = write(2, "\n", 1);
  (void)r;
  signal(sig, SIG_DFL);
  raise(sig);
}

#ifdef __SANITIZE_ADDRESS__
void __sanitizer_set_death_callback(void (*)(void));
static void onSanitizerDeath(void){ onCrash(0); }
#endif

static int nRuns, nFailed;

static int nHead = 50;         /* -head N */

/* N for the next run: every one, or with a stride the first nHead (where
** the entry point and the setup of a call are) and then every stride-th. */
static int nextN(int n, int stride){
  if( stride<=1 || n<nHead ) return n+1;
  return n + stride;
}

static void runKind(const Scenario *s, int kind, const Reference *ref, int stride){
  int mode, nPoints = 0, nRun = 0, nFail = 0, nErr = 0, nLate = 0, nOpen = 0;
  int nPartial = 0;
  for(mode=0; mode<2; mode++){
    int n;
    /* No call of the kind at all: failing "from the first on" is the same
    ** run again. */
    if( mode==1 && nPoints==0 && !onlyN ) break;
    for(n=onlyN ? onlyN : 1; ; n=nextN(n, stride)){
      Outcome o;
      sqlite3_snprintf(sizeof(zCurrent), zCurrent, "%s %s n=%d %s", s->zName,
                       aKind[kind].zName, n, mode ? "persistent" : "once");
      if( verbose ) fprintf(stderr, "%s\n", zCurrent);
      runOnce(s, kind, n, mode, ref, &o);
      nRun++;
      if( o.rc ) nErr++;
      if( o.late ) nLate++;
      if( o.leftOpen ) nOpen++;
      if( o.partial ) nPartial++;
      if( o.zWhy ){
        nFail++;
        printf("FAILED %s: %s\n  (the call returned: %.200s)\n", zCurrent, o.zWhy,
               o.zResult ? o.zResult : "");
        fflush(stdout);
      }
      if( o.injected==0 || onlyN ){
        outcomeFree(&o);
        break;
      }
      if( mode==0 && n>nPoints ) nPoints = n;
      outcomeFree(&o);
    }
  }
  nRuns += nRun;
  nFailed += nFail;
  printf("%-13s %-12s %5d points %6d runs %6d errors %5d late %5d open"
         " %5d partial %d failed\n", s->zName, aKind[kind].zName, nPoints, nRun,
         nErr, nLate, nOpen, nPartial, nFail);
  fflush(stdout);
}

static void runScenario(const Scenario *s, const char *zKind, int stride,
                        int ioStride){
  Reference ref;
  char *zTpl = path(s->zTemplate);
  char *zSrc = sourceFile(s) ? path(sourceFile(s)) : 0;
  int k;
  memset(&ref, 0, sizeof(ref));
  ref.zBefore = fileFingerprint(zTpl, 0, 0);
  if( zSrc ) ref.zSrcBefore = fileFingerprint(zSrc, 0, 0);
  if( s->zFolder ){
    char *zFolder = path(s->zFolder);
    ref.zTreeBefore = treeFingerprint(zFolder);
    sqlite3_free(zFolder);
  }
  makeStates(s, &ref);
  sqlite3_snprintf(sizeof(zCurrent), zCurrent, "%s reference run", s->zName);
  runOnce(s, -1, 0, 0, 0, &ref.ok);
  if( ref.ok.rc!=SQLITE_OK || ref.ok.zWhy ){
    fprintf(stderr, "fault: %s: the clean run failed: %s\n", s->zName,
            ref.ok.zWhy ? ref.ok.zWhy : ref.ok.zResult);
    exit(2);
  }
  if( ref.nState>1 && strcmp(ref.azState[ref.nState-1], ref.ok.zFp)!=0 ){
    char *zD = firstDiff(ref.azState[ref.nState-1], ref.ok.zFp);
    fprintf(stderr, "fault: %s: the last step does not make the state of a "
            "clean run: %s\n", s->zName, zD);
    exit(2);
  }
  if( s->zFolder && strcmp(ref.zTreeBefore, ref.ok.zTree)==0 ){
    fprintf(stderr, "fault: %s: the clean run wrote nothing\n", s->zName);
    exit(2);
  }
  for(k=0; k<K_COUNT; k++){
    if( zKind && strcmp(zKind, aKind[k].zName)!=0
     && !(strcmp(zKind, "vfs")==0 && strncmp(aKind[k].zName, "vfs.", 4)==0)
     && !(strcmp(zKind, "fs")==0 && strncmp(aKind[k].zName, "fs.", 3)==0) ){
      continue;
    }
    /* fs.link: the fallback for filesystems without RENAME_NOREPLACE. */
    renameUnsupported = k==K_FS_LINK;
    /* Loading has few allocations: all of them, always. */
    runKind(s, k, &ref, (s->flags & SC_LOAD) ? 1 : k==K_MALLOC ? stride : ioStride);
    renameUnsupported = 0;
  }
  outcomeFree(&ref.ok);
  for(k=0; k<ref.nState; k++) sqlite3_free(ref.azState[k]);
  sqlite3_free(ref.zBefore);
  sqlite3_free(ref.zSrcBefore);
  sqlite3_free(ref.zTreeBefore);
  sqlite3_free(zTpl);
  sqlite3_free(zSrc);
}

int main(int argc, char **argv){
  const char *zScenario = 0, *zKind = 0;
  int stride = 1, ioStride = 1, i;
  sqlite3 *keeper;
  time_t tWritten;
  char *zErr = 0, *zSrc, *zT1, *z;

  if( argc<3 ){
    fprintf(stderr, "usage: %s LIB WORKDIR [-s SCENARIO] [-k KIND] "
            "[-stride N] [-iostride N] [-head N] [-n N] [-v]\n", argv[0]);
    return 2;
  }
  zLib = argv[1];
  zWork = argv[2];
  for(i=3; i<argc; i++){
    if( strcmp(argv[i], "-s")==0 && i+1<argc ) zScenario = argv[++i];
    else if( strcmp(argv[i], "-k")==0 && i+1<argc ) zKind = argv[++i];
    else if( strcmp(argv[i], "-stride")==0 && i+1<argc ) stride = atoi(argv[++i]);
    else if( strcmp(argv[i], "-iostride")==0 && i+1<argc ) ioStride = atoi(argv[++i]);
    else if( strcmp(argv[i], "-head")==0 && i+1<argc ) nHead = atoi(argv[++i]);
    else if( strcmp(argv[i], "-v")==0 ) verbose = 1;
    else if( strcmp(argv[i], "-n")==0 && i+1<argc ) onlyN = atoi(argv[++i]);
    else{ fprintf(stderr, "fault: unknown option %s\n", argv[i]); return 2; }
  }
#ifdef __SANITIZE_ADDRESS__
  __sanitizer_set_death_callback(onSanitizerDeath);
#else
  signal(SIGSEGV, onCrash);
  signal(SIGBUS, onCrash);
  signal(SIGABRT, onCrash);
#endif

  installAllocator();
  installVfs();
  mkdir(zWork, 0755);
  /* A connection that keeps the extension loaded for the whole run, so
  ** its table of file calls stays where the hooks were written. */
  keeper = openDb(":memory:", SQLITE_OPEN_READWRITE);
  if( loadExtension(keeper, &zErr) ){
    fprintf(stderr, "fault: cannot load %s: %s\n", zLib, zErr);
    return 2;
  }
  z = queryText(keeper, "SELECT (SELECT count(*) FROM pragma_function_list"
                " WHERE name LIKE 'migrate%') + (SELECT count(*) FROM "
                "pragma_module_list WHERE name IN ('migrations', 'migrate_status'))");
  nRegistered = atoi(z);
  sqlite3_free(z);
  installFileOps(zLib);

  writeMigrations();
  tWritten = time(0);
  makeTemplates();
  /* restore puts t1's content back into a copy of t4 (or tw4); srcw.db
  ** is the same content in WAL mode. */
  zSrc = path("src.db");
  zT1 = path("t1.db");
  copyFile(zT1, zSrc);
  sqlite3_free(zSrc);
  sqlite3_free(zT1);
  zSrc = path("srcw.db");
  zT1 = path("tw1.db");
  copyFile(zT1, zSrc);
  sqlite3_free(zSrc);
  sqlite3_free(zT1);

  for(i=0; i<N_SCENARIO; i++){
    if( zScenario && strcmp(zScenario, aScenario[i].zName)!=0 ) continue;
    if( aScenario[i].flags & SC_SETTLED ){
      /* Two seconds past the second the files were written, and one more:
      ** the margin stamp.c asks before it records a stat. */
      while( time(0) < tWritten + 4 ) sleep(1);
    }
    runScenario(&aScenario[i], zKind, stride, ioStride);
  }
  sqlite3_close(keeper);
  printf("fault: %d runs, %d failed\n", nRuns, nFailed);
  return nFailed ? 1 : 0;
}
