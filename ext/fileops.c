/*
** fileops.c — the table of file-system calls (see fileops.h), filled with
** the C library's functions (on Windows, winio.c's stand-ins for them).
**
** Why a table and not direct calls: a test host must be able to make any one
** of them fail, to prove every error path frees what it holds, reports the
** error and leaves the database as it was.  Why only in a separate build: a
** writable table of function pointers reachable from outside would let any
** library in the process redirect our file access, so the normal migrate.so
** has a const table and exports nothing but its entry point.
*/
#include "fileops.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__linux__)
# include <sys/syscall.h>
# ifndef RENAME_NOREPLACE
#  define RENAME_NOREPLACE 1   /* the kernel's value; musl does not name it */
# endif
#endif

#ifdef _WIN32

#ifdef MIGRATE_FAULT_HOOKS
FileOps migrateFileOps = {
#else
const FileOps migrateFileOps = {
#endif
  winOpen, close, winRead, winPread, winWrite, winPwrite, winFsync, fstat,
  winStat, winLstat, winRealpath, winMkdir, winUnlink, winRmdir, winRename,
  winRenameNoReplace, winLink, winOpendir, winReaddir, winClosedir, winFlock,
  winLstatAt
};

#else /* POSIX */

/* open() is variadic: a fixed signature fits the table. */
static int libcOpen(const char *zPath, int flags, mode_t mode){
  return open(zPath, flags, mode);
}

/*
** Rename, failing with EEXIST rather than replacing the destination: one
** call where the system has it (Linux's renameat2 RENAME_NOREPLACE, asked of
** the kernel itself, as musl's C library has no wrapper; macOS's renamex_np
** RENAME_EXCL).  Elsewhere, and on a file system that refuses the flag,
** ENOSYS or EINVAL send filePublish (files.c) to link() and unlink(), which
** never replace a file either.
*/
static int libcRenameNoReplace(const char *zFrom, const char *zTo){
#if defined(__linux__) && defined(SYS_renameat2)
  return (int)syscall(SYS_renameat2, AT_FDCWD, zFrom, AT_FDCWD, zTo,
                      RENAME_NOREPLACE);
#elif defined(__APPLE__) && defined(RENAME_EXCL)
  return renamex_np(zFrom, zTo, RENAME_EXCL);
#else
  (void)zFrom; (void)zTo;
  errno = ENOSYS;
  return -1;
#endif
}

static int libcLstatAt(DIR *d, const char *zDir, const char *zName,
                       struct stat *st){
  (void)zDir;
  return fstatat(dirfd(d), zName, st, AT_SYMLINK_NOFOLLOW);
}

#ifdef MIGRATE_FAULT_HOOKS
FileOps migrateFileOps = {
#else
const FileOps migrateFileOps = {
#endif
  libcOpen, close, read, pread, write, pwrite, fsync, fstat, stat, lstat,
  realpath, mkdir, unlink, rmdir, rename, libcRenameNoReplace, link, opendir,
  readdir, closedir, flock, libcLstatAt
};

#endif /* POSIX */

#ifdef MIGRATE_FAULT_HOOKS
/* The fault host's handle on the table: read the defaults, replace entries. */
# ifdef _WIN32
__declspec(dllexport)
# else
__attribute__((visibility("default")))
# endif
FileOps *migrate_fault_fileops(void){
  return &migrateFileOps;
}
#endif
