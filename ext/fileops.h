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

#include "platform.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef _WIN32
/*
** Windows has the C library's open/read/close but not the POSIX calls
** around them: winio.c gives each a stand-in with the same contract (see
** doc/platforms.md for what that contract cannot be there).  The flags
** below are ones winio.c's open reads; none collides with the CRT's _O_*.
*/
# include <dirent.h>   /* mingw's, read once here; its DIR is replaced below */
# define O_CLOEXEC   0x0080     /* _O_NOINHERIT: not inherited by children */
# define O_NOFOLLOW  0x01000000 /* refuse a symbolic link or junction */
# define O_DIRECTORY 0x02000000 /* open a folder (to sync it) */
# define O_NONBLOCK  0          /* no FIFOs on Windows: nothing to block on */
# define LOCK_EX 2
# define LOCK_NB 4
# define LOCK_UN 8
# ifndef S_IFLNK
#  define S_IFLNK 0xA000
# endif
# ifndef S_ISLNK
#  define S_ISLNK(m) (((m) & S_IFMT)==S_IFLNK)
# endif
/* A folder listing whose names are UTF-8, as every other path we pass is
** (mingw's own opendir reads names in the ANSI code page). */
typedef struct MigrateDir MigrateDir;
struct migrate_dirent { char d_name[1024]; };
# define DIR MigrateDir
# define dirent migrate_dirent
#else
# include <dirent.h>
# include <sys/file.h>
# include <unistd.h>
#endif

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
  /* lstat() of an entry of an open folder, zDir its path: relative to the
  ** folder where the system can (fstatat), so a listing of 10,000 files
  ** does not walk the folder's path 10,000 times. */
  int (*xLstatAt)(DIR *, const char *zDir, const char *zName, struct stat *);
} FileOps;

#ifdef _WIN32
/* winio.c: the stand-ins the table holds on Windows. */
int winOpen(const char *zPath, int flags, mode_t mode);
ssize_t winRead(int fd, void *p, size_t n);
ssize_t winWrite(int fd, const void *p, size_t n);
ssize_t winPread(int fd, void *p, size_t n, off_t off);
ssize_t winPwrite(int fd, const void *p, size_t n, off_t off);
int winFsync(int fd);
int winStat(const char *zPath, struct stat *);
int winLstat(const char *zPath, struct stat *);
char *winRealpath(const char *zPath, char *zResolved);
int winMkdir(const char *zPath, mode_t mode);
int winUnlink(const char *zPath);
int winRmdir(const char *zPath);
int winRename(const char *zFrom, const char *zTo);
int winRenameNoReplace(const char *zFrom, const char *zTo);
int winLink(const char *zFrom, const char *zTo);
DIR *winOpendir(const char *zPath);
struct dirent *winReaddir(DIR *);
int winClosedir(DIR *);
int winFlock(int fd, int op);
int winLstatAt(DIR *, const char *zDir, const char *zName, struct stat *);
#endif

#ifdef MIGRATE_FAULT_HOOKS
extern FileOps migrateFileOps;
#else
extern const FileOps migrateFileOps;
#endif

#endif /* MIGRATE_FILEOPS_H */
