/*
** winio.c — on Windows, the POSIX file calls fileops.c's table holds, each
** with the contract the rest of the extension relies on (doc/platforms.md):
**
**   open      CreateFileW: names are UTF-8, files can be renamed and deleted
**             while open (as on POSIX), O_NOFOLLOW refuses a reparse point
**             (a symbolic link or junction) with ELOOP, O_EXCL is CREATE_NEW
**   rename    MoveFileExW, written through; without MOVEFILE_REPLACE_EXISTING
**             it fails with EEXIST rather than replace a file
**   flock     LockFileEx on one byte far past any data, so a lock held while
**             a file is written never stops the writing
**   fsync     FlushFileBuffers; a folder has nothing to flush (its entries
**             are the file system's own journaled metadata)
**
** Compiled on every system, empty but for Windows, so every build holds the
** same list of files.
*/
#include "fileops.h"

#ifdef _WIN32
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include <errno.h>
#include <io.h>
#include <string.h>
#include <windows.h>

static int errnoOf(DWORD e){
  switch( e ){
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_NETPATH:         return ENOENT;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:      return EEXIST;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:      return EACCES;
    case ERROR_DIR_NOT_EMPTY:       return ENOTEMPTY;
    case ERROR_DIRECTORY:           return ENOTDIR;
    case ERROR_NOT_SAME_DEVICE:     return EXDEV;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:    return ENOSPC;
    case ERROR_FILENAME_EXCED_RANGE: return ENAMETOOLONG;
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:    return ENOSYS;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:         return ENOMEM;
    case ERROR_INVALID_HANDLE:      return EBADF;
    default:                        return EIO;
  }
}

static int fail(void){
  errno = errnoOf(GetLastError());
  return -1;
}

/* UTF-8 -> UTF-16 (sqlite3_free it); NULL and errno when it cannot be. */
static wchar_t *wide(const char *z){
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, z, -1, 0, 0);
  wchar_t *aW;
  if( n<=0 ){ errno = ENOENT; return 0; }
  aW = sqlite3_malloc64((sqlite3_uint64)n*sizeof(wchar_t));
  if( aW==0 ){ errno = ENOMEM; return 0; }
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, z, -1, aW, n);
  return aW;
}

static HANDLE handleOf(int fd){
  return (HANDLE)_get_osfhandle(fd);
}

int winOpen(const char *zPath, int flags, mode_t mode){
  wchar_t *aW;
  DWORD access, disposition, attrs = FILE_ATTRIBUTE_NORMAL;
  BY_HANDLE_FILE_INFORMATION info;
  HANDLE h;
  int fd;
  (void)mode;   /* Windows files carry no POSIX permissions */
  switch( flags & (O_RDONLY|O_WRONLY|O_RDWR) ){
    case O_WRONLY: access = GENERIC_WRITE; break;
    case O_RDWR:   access = GENERIC_READ|GENERIC_WRITE; break;
    default:       access = GENERIC_READ; break;
  }
  if( (flags & (O_CREAT|O_EXCL))==(O_CREAT|O_EXCL) ) disposition = CREATE_NEW;
  else if( (flags & (O_CREAT|O_TRUNC))==(O_CREAT|O_TRUNC) ) disposition = CREATE_ALWAYS;
  else if( flags & O_CREAT ) disposition = OPEN_ALWAYS;
  else if( flags & O_TRUNC ) disposition = TRUNCATE_EXISTING;
  else disposition = OPEN_EXISTING;
  if( flags & O_NOFOLLOW ) attrs |= FILE_FLAG_OPEN_REPARSE_POINT;
  if( flags & O_DIRECTORY ) attrs |= FILE_FLAG_BACKUP_SEMANTICS;
  if( (aW = wide(zPath))==0 ) return -1;
  h = CreateFileW(aW, access, FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE,
                  0, disposition, attrs, 0);
  sqlite3_free(aW);
  if( h==INVALID_HANDLE_VALUE ) return fail();
  if( !GetFileInformationByHandle(h, &info) ){
    int e = errnoOf(GetLastError());
    CloseHandle(h);
    errno = e;
    return -1;
  }
  if( (flags & O_NOFOLLOW) && (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ){
    CloseHandle(h);
    errno = ELOOP;
    return -1;
  }
  if( (flags & O_DIRECTORY) && !(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ){
    CloseHandle(h);
    errno = ENOTDIR;
    return -1;
  }
  fd = _open_osfhandle((intptr_t)h, (flags & (O_WRONLY|O_RDWR|O_APPEND))
                                    | ((flags & O_CLOEXEC) ? _O_NOINHERIT : 0));
  if( fd<0 ){
    CloseHandle(h);
    errno = EMFILE;
  }
  return fd;
}

/* read() and write() on a handle opened binary; the CRT's take an unsigned. */
ssize_t winRead(int fd, void *p, size_t n){
  DWORD got = 0;
  if( n>0x40000000 ) n = 0x40000000;
  if( !ReadFile(handleOf(fd), p, (DWORD)n, &got, 0) ) return fail();
  return (ssize_t)got;
}

ssize_t winWrite(int fd, const void *p, size_t n){
  DWORD put = 0;
  if( n>0x40000000 ) n = 0x40000000;
  if( !WriteFile(handleOf(fd), p, (DWORD)n, &put, 0) ) return fail();
  return (ssize_t)put;
}

ssize_t winPread(int fd, void *p, size_t n, off_t off){
  OVERLAPPED ov;
  DWORD got = 0;
  memset(&ov, 0, sizeof(ov));
  ov.Offset = (DWORD)((unsigned long long)off & 0xffffffff);
  ov.OffsetHigh = (DWORD)((unsigned long long)off >> 32);
  if( n>0x40000000 ) n = 0x40000000;
  if( !ReadFile(handleOf(fd), p, (DWORD)n, &got, &ov) ){
    if( GetLastError()==ERROR_HANDLE_EOF ) return 0;
    return fail();
  }
  return (ssize_t)got;
}

ssize_t winPwrite(int fd, const void *p, size_t n, off_t off){
  OVERLAPPED ov;
  DWORD put = 0;
  memset(&ov, 0, sizeof(ov));
  ov.Offset = (DWORD)((unsigned long long)off & 0xffffffff);
  ov.OffsetHigh = (DWORD)((unsigned long long)off >> 32);
  if( n>0x40000000 ) n = 0x40000000;
  if( !WriteFile(handleOf(fd), p, (DWORD)n, &put, &ov) ) return fail();
  return (ssize_t)put;
}

int winFsync(int fd){
  HANDLE h = handleOf(fd);
  BY_HANDLE_FILE_INFORMATION info;
  if( GetFileInformationByHandle(h, &info)
   && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ){
    return 0;   /* a folder: renames were written through (winRename) */
  }
  return FlushFileBuffers(h) ? 0 : fail();
}

/* struct stat from what Windows says of a file: type, size, times. */
static void fillStat(struct stat *st, DWORD attrs, DWORD sizeHigh,
                     DWORD sizeLow, const FILETIME *mtime, int isLink){
  unsigned long long t = ((unsigned long long)mtime->dwHighDateTime<<32)
                       | mtime->dwLowDateTime;
  memset(st, 0, sizeof(*st));
  if( isLink ) st->st_mode = S_IFLNK|0777;
  else if( attrs & FILE_ATTRIBUTE_DIRECTORY ) st->st_mode = S_IFDIR|0755;
  else st->st_mode = S_IFREG|((attrs & FILE_ATTRIBUTE_READONLY) ? 0444 : 0644);
  st->st_nlink = 1;
  st->st_size = (off_t)(((unsigned long long)sizeHigh<<32) | sizeLow);
  /* 100 ns ticks since 1601 -> seconds since 1970 */
  st->st_mtime = (time_t)(t/10000000ULL - 11644473600ULL);
  st->st_atime = st->st_ctime = st->st_mtime;
  /* st_ino stays 0: Windows' file index does not fit mingw's 16-bit
  ** st_ino, and 0 tells files.c to compare resolved names instead. */
}

/* stat(): what a link leads to (opened, so Windows follows it). */
int winStat(const char *zPath, struct stat *st){
  wchar_t *aW = wide(zPath);
  BY_HANDLE_FILE_INFORMATION info;
  HANDLE h;
  if( aW==0 ) return -1;
  h = CreateFileW(aW, 0, FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE, 0,
                  OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, 0);
  sqlite3_free(aW);
  if( h==INVALID_HANDLE_VALUE ) return fail();
  if( !GetFileInformationByHandle(h, &info) ){
    int e = errnoOf(GetLastError());
    CloseHandle(h);
    errno = e;
    return -1;
  }
  CloseHandle(h);
  fillStat(st, info.dwFileAttributes, info.nFileSizeHigh, info.nFileSizeLow,
           &info.ftLastWriteTime, 0);
  return 0;
}

/* lstat(): the name itself; a reparse point is reported as a link. */
int winLstat(const char *zPath, struct stat *st){
  wchar_t *aW = wide(zPath);
  WIN32_FILE_ATTRIBUTE_DATA a;
  BOOL ok;
  if( aW==0 ) return -1;
  ok = GetFileAttributesExW(aW, GetFileExInfoStandard, &a);
  sqlite3_free(aW);
  if( !ok ) return fail();
  fillStat(st, a.dwFileAttributes, a.nFileSizeHigh, a.nFileSizeLow,
           &a.ftLastWriteTime, (a.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)!=0);
  return 0;
}

/* lstat() of a folder's entry: by its path (no fstatat here). */
int winLstatAt(DIR *d, const char *zDir, const char *zName, struct stat *st){
  char *zPath = sqlite3_mprintf("%s/%s", zDir, zName);
  int rc;
  (void)d;
  if( zPath==0 ){ errno = ENOMEM; return -1; }
  rc = winLstat(zPath, st);
  sqlite3_free(zPath);
  return rc;
}

/*
** realpath(): the absolute name, with '/' between its parts as the rest of
** the extension writes them.  zResolved holds PATH_MAX bytes; every caller
** passes one.  It must exist, as realpath() requires.
*/
char *winRealpath(const char *zPath, char *zResolved){
  wchar_t *aW, *aFull = 0;
  DWORD n;
  int ok = 0;
  char *z;
  struct stat st;
  if( zResolved==0 ){ errno = EINVAL; return 0; }
  if( winStat(zPath, &st)!=0 || (aW = wide(zPath))==0 ) return 0;
  n = GetFullPathNameW(aW, 0, 0, 0);
  if( n>0 ) aFull = sqlite3_malloc64((sqlite3_uint64)n*sizeof(wchar_t));
  if( aFull && GetFullPathNameW(aW, n, aFull, 0)<n ){
    ok = WideCharToMultiByte(CP_UTF8, 0, aFull, -1, zResolved, PATH_MAX, 0, 0)!=0;
  }
  sqlite3_free(aW);
  sqlite3_free(aFull);
  if( !ok ){
    errno = aFull==0 && n>0 ? ENOMEM : ENAMETOOLONG;
    return 0;
  }
  for(z=zResolved; *z; z++) if( *z=='\\' ) *z = '/';
  return zResolved;
}

int winMkdir(const char *zPath, mode_t mode){
  wchar_t *aW = wide(zPath);
  BOOL ok;
  (void)mode;
  if( aW==0 ) return -1;
  ok = CreateDirectoryW(aW, 0);
  sqlite3_free(aW);
  return ok ? 0 : fail();
}

/* A call that takes one wide path: 0, or -1 with errno set. */
static int onPath(const char *zPath, BOOL (WINAPI *xCall)(LPCWSTR)){
  wchar_t *aW = wide(zPath);
  BOOL ok;
  if( aW==0 ) return -1;
  ok = xCall(aW);
  sqlite3_free(aW);
  return ok ? 0 : fail();
}

int winUnlink(const char *zPath){ return onPath(zPath, DeleteFileW); }
int winRmdir(const char *zPath){ return onPath(zPath, RemoveDirectoryW); }

static int moveFile(const char *zFrom, const char *zTo, DWORD flags){
  wchar_t *aFrom = wide(zFrom), *aTo = aFrom ? wide(zTo) : 0;
  BOOL ok = aTo && MoveFileExW(aFrom, aTo, flags|MOVEFILE_WRITE_THROUGH);
  DWORD e = GetLastError();
  int converted = aTo!=0;
  sqlite3_free(aFrom);
  sqlite3_free(aTo);
  if( !converted ) return -1;
  SetLastError(e);
  return ok ? 0 : fail();
}

int winRename(const char *zFrom, const char *zTo){
  return moveFile(zFrom, zTo, MOVEFILE_REPLACE_EXISTING);
}

int winRenameNoReplace(const char *zFrom, const char *zTo){
  return moveFile(zFrom, zTo, 0);
}

int winLink(const char *zFrom, const char *zTo){
  wchar_t *aFrom = wide(zFrom), *aTo = aFrom ? wide(zTo) : 0;
  BOOL ok = aTo && CreateHardLinkW(aTo, aFrom, 0);
  DWORD e = GetLastError();
  int converted = aTo!=0;
  sqlite3_free(aFrom);
  sqlite3_free(aTo);
  if( !converted ) return -1;
  SetLastError(e);
  return ok ? 0 : fail();
}

/* ---------------------------------------------------- folder listings */

struct MigrateDir {
  HANDLE h;
  int first;                 /* d holds the first entry, not yet returned */
  WIN32_FIND_DATAW fd;
  struct migrate_dirent de;
};

DIR *winOpendir(const char *zPath){
  size_t n = strlen(zPath);
  const char *zSep = n>0 && zPath[n-1]!='/' && zPath[n-1]!='\\' ? "/" : "";
  char *zGlob = sqlite3_mprintf("%s%s*", zPath, zSep);   /* every entry of the folder */
  wchar_t *aW = zGlob ? wide(zGlob) : 0;
  DIR *d = aW ? sqlite3_malloc(sizeof(*d)) : 0;
  sqlite3_free(zGlob);
  if( d==0 ){
    if( aW || zGlob==0 ) errno = ENOMEM;
    sqlite3_free(aW);
    return 0;
  }
  memset(d, 0, sizeof(*d));
  d->h = FindFirstFileW(aW, &d->fd);
  sqlite3_free(aW);
  if( d->h==INVALID_HANDLE_VALUE ){
    int e = errnoOf(GetLastError());
    sqlite3_free(d);
    errno = e;
    return 0;
  }
  d->first = 1;
  return d;
}

/* The next entry, "." and ".." included as readdir() gives them; NULL at
** the end with errno untouched, or on an error with errno set. */
struct dirent *winReaddir(DIR *d){
  if( !d->first ){
    if( !FindNextFileW(d->h, &d->fd) ){
      if( GetLastError()!=ERROR_NO_MORE_FILES ) errno = errnoOf(GetLastError());
      return 0;
    }
  }
  d->first = 0;
  if( WideCharToMultiByte(CP_UTF8, 0, d->fd.cFileName, -1, d->de.d_name,
                          (int)sizeof(d->de.d_name), 0, 0)==0 ){
    errno = ENAMETOOLONG;
    return 0;
  }
  return &d->de;
}

int winClosedir(DIR *d){
  FindClose(d->h);
  sqlite3_free(d);
  return 0;
}

/* flock(LOCK_EX|LOCK_NB) and LOCK_UN: one byte at 2^62, where no file
** grows, so the holder and anyone else can still read and write the data. */
int winFlock(int fd, int op){
  OVERLAPPED ov;
  HANDLE h = handleOf(fd);
  memset(&ov, 0, sizeof(ov));
  ov.OffsetHigh = 0x40000000;
  if( op & LOCK_UN ){
    return UnlockFileEx(h, 0, 1, 0, &ov) ? 0 : fail();
  }
  if( LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK
                   | ((op & LOCK_NB) ? LOCKFILE_FAIL_IMMEDIATELY : 0),
                 0, 1, 0, &ov) ){
    return 0;
  }
  if( GetLastError()==ERROR_LOCK_VIOLATION || GetLastError()==ERROR_IO_PENDING ){
    errno = EWOULDBLOCK;
    return -1;
  }
  return fail();
}

#endif /* _WIN32 */
