/*
** fileops.h — the file-system calls the extension makes, as one table.
**
** Every open, read, stat, rename, fsync, unlink, rmdir ... in ext/ goes
** through migrateFileOps, which holds the C library's functions.  In the normal
** build the table is const and nothing outside migrate.so can see it.  The fault build
** (cc -DMIGRATE_FAULT_HOOKS, `make faulttest`) makes it writable and exports
** migrate_fault_fileops(), so test/fault/fault.c can make the Nth call of a
** kind fail with a realistic errno and check every error path.
**
** Kept free of SQLite headers so the fault host can include it on its own.
*/
#ifndef MIGRATE_FILEOPS_H
#define MIGRATE_FILEOPS_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct FileOps {
  int (*xOpen)(const char *zPath, int flags, mode_t mode);
  int (*xClose)(int fd);
  ssize_t (*xRead)(int fd, void *p, size_t n);
  ssize_t (*xPread)(int fd, void *p, size_t n, off_t off);
  ssize_t (*xWrite)(int fd, const void *p, size_t n);
  ssize_t (*xPwrite)(int fd, const void *p, size_t n, off_t off);
  int (*xFsync)(int fd);
  int (*xFstat)(int fd, struct stat *);
  int (*xStat)(const char *zPath, struct stat *);
  int (*xLstat)(const char *zPath, struct stat *);
  char *(*xRealpath)(const char *zPath, char *zResolved);
  int (*xMkdir)(const char *zPath, mode_t mode);
  int (*xUnlink)(const char *zPath);
  int (*xRmdir)(const char *zPath);
  int (*xRename)(const char *zFrom, const char *zTo);   /* replaces zTo */
  /* rename that fails with EEXIST rather than replace zTo */
  int (*xRenameNoReplace)(const char *zFrom, const char *zTo);
  int (*xLink)(const char *zFrom, const char *zTo);
  DIR *(*xOpendir)(const char *zPath);
  struct dirent *(*xReaddir)(DIR *);
  int (*xClosedir)(DIR *);
  int (*xFlock)(int fd, int op);   /* flock(): held while a temporary file is written */
} FileOps;

#ifdef MIGRATE_FAULT_HOOKS
extern FileOps migrateFileOps;
#else
extern const FileOps migrateFileOps;
#endif

#endif /* MIGRATE_FILEOPS_H */
