/*
** fileops.c — the table of file-system calls (see fileops.h), filled with
** the C library's functions.
**
** Why a table and not direct calls: a test host must be able to make any one
** of them fail, to prove every error path frees what it holds, reports the
** error and leaves the database as it was.  Why only in a separate build: a
** writable table of function pointers reachable from outside would let any
** library in the process redirect our file access, so the normal migrate.so
** has a const table and exports nothing but its entry point.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include "fileops.h"

/* open() is variadic: a fixed signature fits the table. */
static int libcOpen(const char *zPath, int flags, mode_t mode){
  return open(zPath, flags, mode);
}

static int libcRenameNoReplace(const char *zFrom, const char *zTo){
  return renameat2(AT_FDCWD, zFrom, AT_FDCWD, zTo, RENAME_NOREPLACE);
}

#ifdef MIGRATE_FAULT_HOOKS
FileOps migrateFileOps = {
#else
const FileOps migrateFileOps = {
#endif
  libcOpen, close, read, pread, write, pwrite, fsync, fstat, stat, lstat,
  realpath, mkdir, unlink, rmdir, rename, libcRenameNoReplace, link, opendir,
  readdir, closedir, flock
};

#ifdef MIGRATE_FAULT_HOOKS
/* The fault host's handle on the table: read the defaults, replace entries. */
__attribute__((visibility("default"))) FileOps *migrate_fault_fileops(void){
  return &migrateFileOps;
}
#endif
