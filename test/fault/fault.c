/*
** fault.c — fault injection for migrate: every allocation, every write,
** sync, truncate, lock, open, delete and access of SQLite's files, and
** every file-system call of the extension itself fails in turn, and nothing
** breaks.
**
**   make faulttest                      (builds migrate-fault.so and this)
**   test/tmp/faulthost LIB WORKDIR [-s SCENARIO] [-k KIND] [-stride N] [-n N] [-v]
**
**   -s, -k     one scenario, one kind ("vfs" and "fs" name a family)
**   -stride N  allocations: the first 50, then every Nth
**   -n N       only injection point N (with gdb: break faultInjected)
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
**   - every backup file left behind is complete and holds the state the call
**     started from; no temporary file is left (unless unlink was failed).
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
** It prints, per scenario and kind, how many injection points it covered,
** and ends with "fault: N runs, N failed"; the exit status is 1 on failure.
*/
#define SQLITE_CORE 1
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
#include <unistd.h>
#include "fileops.h"

/* ------------------------------------------------------------ the kinds */

enum {
  K_MALLOC,
  K_VFS_OPEN, K_VFS_WRITE, K_VFS_SYNC, K_VFS_TRUNCATE, K_VFS_LOCK,
  K_VFS_DELETE, K_VFS_ACCESS,
  K_FS_OPEN, K_FS_CLOSE, K_FS_READ, K_FS_WRITE, K_FS_FSYNC, K_FS_STAT,
  K_FS_REALPATH, K_FS_MKDIR, K_FS_UNLINK, K_FS_RENAME, K_FS_LINK,
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
  pFs->xPwrite = fsPwrite;      pFs->xFsync = fsFsync;
  pFs->xFstat = fsFstat;        pFs->xStat = fsStat;
  pFs->xLstat = fsLstat;        pFs->xRealpath = fsRealpath;
  pFs->xMkdir = fsMkdir;        pFs->xUnlink = fsUnlink;
  pFs->xRenameNoReplace = fsRename;  pFs->xLink = fsLink;
  pFs->xOpendir = fsOpendir;    pFs->xReaddir = fsReaddir;
  pFs->xClosedir = fsClosedir;
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

static sqlite3 *openDb(const char *zFile, int flags){
  sqlite3 *db = 0;
  if( sqlite3_open_v2(zFile, &db, flags, 0)!=SQLITE_OK ){
    fprintf(stderr, "fault: cannot open %s: %s\n", zFile, sqlite3_errmsg(db));
    exit(2);
  }
  return db;
}

static int loadExtension(sqlite3 *db, char **pzErr){
  sqlite3_enable_load_extension(db, 1);
  return sqlite3_load_extension(db, zLib, "sqlite3_migrate_init", pzErr);
}

/*
** What a migrate call must leave as it was, or exactly as the reference run
** left it: the schema, every row (history without its times, the log
** without failure and backup rows, which a failed call adds by design),
** user_version and the journal mode on disk.
*/
static char *fingerprint(sqlite3 *db, int withLog){
  sqlite3_str *s = sqlite3_str_new(0);
  sqlite3_stmt *p = 0;
  char *z;
  z = queryText(db, "PRAGMA user_version");
  sqlite3_str_appendf(s, "user_version %s", z);
  sqlite3_free(z);
  z = queryText(db, "PRAGMA journal_mode");
  sqlite3_str_appendf(s, "journal_mode %s", z);
  sqlite3_free(z);
  z = queryText(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                    "WHERE tbl_name<>'migrate_log' ORDER BY type, name");
  sqlite3_str_appendf(s, "schema\n%s", z);
  sqlite3_free(z);
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type='table' "
                     "AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &p, 0);
  while( sqlite3_step(p)==SQLITE_ROW ){
    const char *zTab = (const char*)sqlite3_column_text(p, 0);
    char *zSql;
    if( strcmp(zTab, "migrate_history")==0 ){
      zSql = sqlite3_mprintf("SELECT version, name, checksum, up, down FROM "
                             "migrate_history ORDER BY version");
    }else if( strcmp(zTab, "migrate_log")==0 && !withLog ){
      continue;
    }else if( strcmp(zTab, "migrate_log")==0 ){
      zSql = sqlite3_mprintf("SELECT action, version, name, outcome FROM "
                             "migrate_log WHERE outcome IS NOT 'failed' AND "
                             "action IS NOT 'backup' ORDER BY id");
    }else{
      zSql = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY rowid", zTab);
    }
    z = queryText(db, zSql);
    sqlite3_str_appendf(s, "table %s\n%s", zTab, z);
    sqlite3_free(z);
    sqlite3_free(zSql);
  }
  sqlite3_finalize(p);
  return sqlite3_str_finish(s);
}

/* Read-write, as any application would open it: a hot journal left by a
** failed write is rolled back first. */
static char *fileFingerprint(const char *zFile, char **pzCheck, char **pzNoLog){
  sqlite3 *db = openDb(zFile, SQLITE_OPEN_READWRITE);
  char *z = fingerprint(db, 1);
  if( pzNoLog ) *pzNoLog = fingerprint(db, 0);
  if( pzCheck ) *pzCheck = queryText(db, "PRAGMA integrity_check");
  sqlite3_close(db);
  return z;
}

/* The connection settings a call must put back, and journal_mode. */
static char *settings(sqlite3 *db){
  static const char *az[] = {
    "foreign_keys", "defer_foreign_keys", "recursive_triggers", "trusted_schema",
    "legacy_alter_table", "query_only", "reverse_unordered_selects",
    "automatic_index", "cell_size_check", "ignore_check_constraints",
    "synchronous", "busy_timeout", "cache_size", "temp_store", "secure_delete",
    "fullfsync", "checkpoint_fullfsync", "count_changes", "full_column_names",
    "short_column_names", "empty_result_callbacks", "read_uncommitted",
    "cache_spill", "wal_autocheckpoint", "journal_size_limit", "mmap_size",
    "analysis_limit", "threads", "journal_mode", 0
  };
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
static void writeMigrations(void){
  writeFile("mig/001_create.sql",
    "-- migrate:up\n"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "CREATE TABLE tasks(id INTEGER PRIMARY KEY,\n"
    "  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, title TEXT);\n"
    "INSERT INTO users VALUES(1, 'ann'), (2, 'bob');\n"
    "INSERT INTO tasks VALUES(1, 1, 'a'), (2, 2, 'b'), (3, 1, 'c');\n"
    "-- migrate:down\n"
    "DROP TABLE tasks;\nDROP TABLE users;\n");
  writeFile("mig/002_rebuild_users.sql",
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
    "ALTER TABLE users_old RENAME TO users;\n");
  writeFile("mig/003_tags.up.sql",
    "CREATE TABLE tags(task_id INTEGER REFERENCES tasks(id), tag TEXT);\n"
    "INSERT INTO tags VALUES(1, 'x'), (3, 'y');\n");
  writeFile("mig/003_tags.down.sql", "DROP TABLE tags;\n");
  writeFile("mig/004_titles/up.sql", "UPDATE tasks SET title = upper(title);\n");
  writeFile("mig/004_titles/down.sql", "UPDATE tasks SET title = lower(title);\n");
  writeFile("mig/README.md", "not a migration\n");
}

/* Template databases: t1.db with 001 applied, t4.db with all four. */
static void makeTemplate(const char *zName, int target){
  char *zFile = path(zName);
  char *zSql = sqlite3_mprintf(
    "PRAGMA foreign_keys=ON;"
    "SELECT migrate_config('backup', 'off');"
    "SELECT migrate_apply('%q/mig', 1);"
    "SELECT migrate_apply('%q/mig', %d);", zWork, zWork, target);
  sqlite3 *db;
  char *zErr = 0;
  unlink(zFile);
  db = openDb(zFile, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE);
  if( loadExtension(db, &zErr) ){
    fprintf(stderr, "fault: cannot load %s: %s\n", zLib, zErr);
    exit(2);
  }
  execOrDie(db, zSql);
  sqlite3_close(db);
  sqlite3_free(zSql);
  sqlite3_free(zFile);
}

typedef struct Scenario {
  const char *zName;
  const char *zTemplate;   /* copied to db.db before each run */
  const char *zCall;       /* %s is the work directory */
  int isLoad;              /* the call is loading the extension */
  int logAfterCommit;      /* its log row is written after the work commits,
                           ** best effort: it may be missing after success */
} Scenario;

static const Scenario aScenario[] = {
  { "load",     "t1.db", 0, 1, 0 },
  { "apply",    "t1.db", "SELECT migrate_apply('%s/mig')", 0, 0 },
  { "rollback", "t4.db", "SELECT migrate_rollback(3)", 0, 0 },
  { "backup",   "t4.db", "SELECT migrate_backup('%s/bk')", 0, 1 },
  { "restore",  "t4.db", "SELECT migrate_restore('%s/src.db')", 0, 1 },
  { "scan",     "t1.db", "SELECT version, name, status, checksum, reversible,"
                " file, up, down FROM migrations('%s/mig')", 0, 0 },
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
  char *zWhy;          /* why the run failed a check, or NULL */
  int injected;
  int calls;
  int late;            /* failed after the work had committed */
  int leftOpen;        /* the application had to roll back */
} Outcome;

static void outcomeFree(Outcome *o){
  sqlite3_free(o->zResult);
  sqlite3_free(o->zFp);
  sqlite3_free(o->zFpNoLog);
  sqlite3_free(o->zCheck);
  sqlite3_free(o->zSrcFp);
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
  char *zSrcBefore;    /* fingerprint of src.db */
  Outcome ok;          /* the clean run */
} Reference;

/* Run the call (armed when kind>=0); collect what it returned. */
static void runCall(const Scenario *s, sqlite3 *db, int kind, int n,
                    int persistent, Outcome *o){
  char *zSql = sqlite3_mprintf(s->zCall, zWork);
  sqlite3_str *res = sqlite3_str_new(0);
  sqlite3_stmt *p = 0;
  int rc;
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
  sqlite3_free(zSql);
}

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
                           "pragma_module_list WHERE name='migrations'), "
                           "migrate_version()");
  }else{
    /* Not loaded: nothing of it may stay registered, since SQLite unloads
    ** the library and a function left behind would point into nothing. */
    char *zLeft = queryText(db, "SELECT (SELECT count(*) FROM pragma_function_list"
                            " WHERE name LIKE 'migrate%') + (SELECT count(*) FROM "
                            "pragma_module_list WHERE name='migrations')");
    if( strcmp(zLeft, "12\n")==0 ){   /* 11 functions and the module */
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

/* Every backup file in zDir is complete and holds zBefore; returns how many. */
static int checkBackups(const char *zDir, const char *zBefore, int kind,
                        Outcome *o){
  DIR *d = opendir(zDir);
  struct dirent *de;
  int n = 0;
  if( d==0 ) return 0;
  while( (de = readdir(d))!=0 ){
    char *zFile, *zFp, *zCheck = 0;
    if( de->d_name[0]=='.' ) continue;
    if( strstr(de->d_name, ".tmp-") ){
      /* A failed unlink may leave its temporary file; nothing else may. */
      if( kind!=K_FS_UNLINK ) why(o, "temporary file left: %s", de->d_name);
      continue;
    }
    zFile = sqlite3_mprintf("%s/%s", zDir, de->d_name);
    zFp = fileFingerprint(zFile, &zCheck, 0);
    if( strcmp(zCheck, "ok\n")!=0 ){
      why(o, "backup %s fails integrity_check: %s", de->d_name, zCheck);
    }else if( strcmp(zFp, zBefore)!=0 ){
      why(o, "backup %s does not hold the state the call started from",
          de->d_name);
    }
    n++;
    sqlite3_free(zFp);
    sqlite3_free(zCheck);
    sqlite3_free(zFile);
  }
  closedir(d);
  return n;
}

/*
** One run: a fresh copy of the template, the call with kind failing at n
** (kind<0: no fault), and every check.  The reference is NULL for the clean
** run that makes it.
*/
static void runOnce(const Scenario *s, int kind, int n, int persistent,
                    const Reference *ref, Outcome *o){
  char *zDb = path("db.db"), *zTpl = path(s->zTemplate);
  char *zAuto = path("backups"), *zBk = path("bk"), *zSrc = path("src.db");
  char *zJournal = sqlite3_mprintf("%s-journal", zDb);
  char *zWal = sqlite3_mprintf("%s-wal", zDb);
  char *zSettings0 = 0, *zSettings1 = 0;
  long nAlloc0, nLeak;
  int nFd0, rc, nAuto, nBk;
  sqlite3 *db;

  memset(o, 0, sizeof(*o));
  unlink(zJournal);
  unlink(zWal);
  copyFile(zTpl, zDb);
  emptyDir(zAuto);
  emptyDir(zBk);
  mkdir(zBk, 0755);
  nAlloc0 = nOutstanding;
  nFd0 = countFds();

  db = openDb(zDb, SQLITE_OPEN_READWRITE);
  execOrDie(db, "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=2000;"
                "SELECT count(*) FROM sqlite_schema");
  if( s->isLoad ){
    zSettings0 = settings(db);
    runLoad(db, kind, n, persistent, o);
  }else{
    char *zErr = 0;
    if( loadExtension(db, &zErr) ){
      fprintf(stderr, "fault: cannot load %s: %s\n", zLib, zErr);
      exit(2);
    }
    zSettings0 = settings(db);
    runCall(s, db, kind, n, persistent, o);
  }
  o->injected = F.injected;
  o->calls = F.calls;
  if( o->rc && !sqlite3_get_autocommit(db) ){
    /* Once SQLite has run out of memory inside the call, it runs no further
    ** statement until the calling one ends, so the call cannot end its own
    ** transaction: the application's ROLLBACK after SQLITE_NOMEM does. */
    if( kind!=K_MALLOC ) why(o, "a transaction was left open");
    o->leftOpen = 1;
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  }
  zSettings1 = settings(db);
  if( strcmp(zSettings0, zSettings1)!=0 ){
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
  ** keeps of the run: its result text and the reason it failed. */
  nLeak = nOutstanding - nAlloc0 - (o->zResult!=0) - (o->zWhy!=0);
  if( nLeak ) why(o, "%ld allocations leaked", nLeak);
  if( countFds()!=nFd0 ){
    why(o, "%d file descriptors leaked", countFds()-nFd0);
  }

  /* The database as a new connection finds it (a hot journal rolled back). */
  o->zFp = fileFingerprint(zDb, &o->zCheck, &o->zFpNoLog);
  o->zSrcFp = fileFingerprint(zSrc, 0, 0);
  if( strcmp(o->zCheck, "ok\n")!=0 ) why(o, "integrity_check: %s", o->zCheck);

  if( ref ){
    const Outcome *ok = &ref->ok;
    if( o->rc==SQLITE_OK ){
      if( strcmp(s->zName, "backup")==0 ){
        /* The result names the new file, whose time stamp differs. */
        if( strncmp(o->zResult, zBk, strlen(zBk))!=0 ){
          why(o, "unexpected result %s", o->zResult);
        }
      }else if( strcmp(o->zResult, ok->zResult)!=0 ){
        why(o, "succeeded with %s, expected %s", o->zResult, ok->zResult);
      }
      if( strcmp(o->zFp, ok->zFp)!=0
       && !(s->logAfterCommit && strcmp(o->zFpNoLog, ok->zFpNoLog)==0) ){
        char *zD = firstDiff(ok->zFp, o->zFp);
        why(o, "succeeded but the database is not as after a clean run: %s", zD);
        sqlite3_free(zD);
      }
    }else if( strstr(o->zResult, "restored, but") ){
      /* The error says the work is done and what could not be put back. */
      if( !errorExplained(kind, o) ){
        why(o, "error does not explain the fault: %s", o->zResult);
      }
      if( strcmp(o->zFpNoLog, ok->zFpNoLog)!=0 ){
        why(o, "says restored but is not: %s", o->zResult);
      }
    }else{
      if( !errorExplained(kind, o) ){
        why(o, "error does not explain the fault: %s", o->zResult);
      }
      if( strcmp(o->zFpNoLog, ok->zFpNoLog)==0 && strcmp(o->zFp, ref->zBefore)!=0 ){
        /* The fault came after the work had committed (out of memory in a
        ** nested statement marks the caller's statement failed too): the
        ** database is fully applied, and the call cannot take it back. */
        o->late = 1;
      }else if( strcmp(o->zFp, ref->zBefore)!=0 ){
        char *zD = firstDiff(ref->zBefore, o->zFp);
        why(o, "failed (%s) but the database changed: %s", o->zResult, zD);
        sqlite3_free(zD);
      }
    }
    if( strcmp(o->zSrcFp, ref->zSrcBefore)!=0 ) why(o, "src.db changed");
    nAuto = checkBackups(zAuto, ref->zBefore, kind, o);
    nBk = checkBackups(zBk, ref->zBefore, kind, o);
    if( nAuto>1 ) why(o, "%d automatic backups", nAuto);
    if( nAuto!=1 && o->rc==SQLITE_OK && (strcmp(s->zName, "apply")==0
        || strcmp(s->zName, "rollback")==0 || strcmp(s->zName, "restore")==0) ){
      why(o, "succeeded without its automatic backup");
    }
    if( nBk==1 && o->rc && strcmp(s->zName, "backup")==0 ){
      /* Written, then out of memory (a log row's): the file is complete. */
      o->late = 1;
    }else if( nBk!=(strcmp(s->zName, "backup")==0 && o->rc==SQLITE_OK) ){
      why(o, "%d files in bk/ after %s", nBk, o->rc ? "an error" : "success");
    }
  }
  sqlite3_free(zDb);
  sqlite3_free(zTpl);
  sqlite3_free(zAuto);
  sqlite3_free(zBk);
  sqlite3_free(zSrc);
  sqlite3_free(zJournal);
  sqlite3_free(zWal);
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

/* N for the next run: every one, or with a stride the first fifty (where
** the entry point and the setup of a call are) and then every stride-th. */
static int nextN(int n, int stride){
  if( stride<=1 || n<50 ) return n+1;
  return n + stride;
}

static void runKind(const Scenario *s, int kind, const Reference *ref, int stride){
  int mode, nPoints = 0, nRun = 0, nFail = 0, nErr = 0, nLate = 0, nOpen = 0;
  for(mode=0; mode<2; mode++){
    int n;
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
  printf("%-9s %-13s %5d points %6d runs %6d errors %5d late %5d open"
         " %d failed\n", s->zName, aKind[kind].zName, nPoints, nRun, nErr, nLate,
         nOpen, nFail);
  fflush(stdout);
}

static void runScenario(const Scenario *s, const char *zKind, int stride){
  Reference ref;
  char *zTpl = path(s->zTemplate), *zSrc = path("src.db");
  int k;
  memset(&ref, 0, sizeof(ref));
  ref.zBefore = fileFingerprint(zTpl, 0, 0);
  ref.zSrcBefore = fileFingerprint(zSrc, 0, 0);
  sqlite3_snprintf(sizeof(zCurrent), zCurrent, "%s reference run", s->zName);
  runOnce(s, -1, 0, 0, 0, &ref.ok);
  if( ref.ok.rc!=SQLITE_OK || ref.ok.zWhy ){
    fprintf(stderr, "fault: %s: the clean run failed: %s\n", s->zName,
            ref.ok.zWhy ? ref.ok.zWhy : ref.ok.zResult);
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
    runKind(s, k, &ref, k==K_MALLOC ? stride : 1);
    renameUnsupported = 0;
  }
  outcomeFree(&ref.ok);
  sqlite3_free(ref.zBefore);
  sqlite3_free(ref.zSrcBefore);
  sqlite3_free(zTpl);
  sqlite3_free(zSrc);
}

int main(int argc, char **argv){
  const char *zScenario = 0, *zKind = 0;
  int stride = 1, i;
  sqlite3 *keeper;
  char *zErr = 0, *zSrc, *zT1;

  if( argc<3 ){
    fprintf(stderr, "usage: %s LIB WORKDIR [-s SCENARIO] [-k KIND] "
            "[-stride N] [-n N] [-v]\n", argv[0]);
    return 2;
  }
  zLib = argv[1];
  zWork = argv[2];
  for(i=3; i<argc; i++){
    if( strcmp(argv[i], "-s")==0 && i+1<argc ) zScenario = argv[++i];
    else if( strcmp(argv[i], "-k")==0 && i+1<argc ) zKind = argv[++i];
    else if( strcmp(argv[i], "-stride")==0 && i+1<argc ) stride = atoi(argv[++i]);
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
  installFileOps(zLib);

  writeMigrations();
  makeTemplate("t1.db", 1);
  makeTemplate("t4.db", 4);
  /* restore puts t1's content back into a copy of t4. */
  zSrc = path("src.db");
  zT1 = path("t1.db");
  copyFile(zT1, zSrc);
  sqlite3_free(zSrc);
  sqlite3_free(zT1);

  for(i=0; i<N_SCENARIO; i++){
    if( zScenario && strcmp(zScenario, aScenario[i].zName)!=0 ) continue;
    runScenario(&aScenario[i], zKind, stride);
  }
  sqlite3_close(keeper);
  printf("fault: %d runs, %d failed\n", nRuns, nFailed);
  return nFailed ? 1 : 0;
}
