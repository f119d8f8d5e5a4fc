/*
** coarsetime.c — a preload for test/coarsetime.test: every stat the process
** takes reports its times in whole seconds, as FAT does, and as the
** read-only images (squashfs, erofs, ISO 9660) do with one fixed time for
** every file.  Built and preloaded by the test into a child process:
**
**   LD_PRELOAD=test/tmp/coarsetime.so tclsh child.tcl
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>

typedef int (*StatAtFn)(int, const char *, struct stat *, int);
typedef int (*FstatFn)(int, struct stat *);
typedef int (*StatFn)(const char *, struct stat *);

static void coarse(struct stat *st){
  st->st_atim.tv_nsec = 0;
  st->st_mtim.tv_nsec = 0;
  st->st_ctim.tv_nsec = 0;
}

/* The next definition of zName, the C library's. */
static void *next(const char *zName){
  return dlsym(RTLD_NEXT, zName);
}

/* rc, with st made coarse when the call succeeded. */
static int coarsened(int rc, struct stat *st){
  if( rc==0 ) coarse(st);
  return rc;
}

int fstatat(int fd, const char *zPath, struct stat *st, int flags){
  static StatAtFn real = 0;
  if( real==0 ) *(void**)&real = next("fstatat");
  return coarsened(real(fd, zPath, st, flags), st);
}

int fstat(int fd, struct stat *st){
  static FstatFn real = 0;
  if( real==0 ) *(void**)&real = next("fstat");
  return coarsened(real(fd, st), st);
}

int stat(const char *zPath, struct stat *st){
  static StatFn real = 0;
  if( real==0 ) *(void**)&real = next("stat");
  return coarsened(real(zPath, st), st);
}

int lstat(const char *zPath, struct stat *st){
  static StatFn real = 0;
  if( real==0 ) *(void**)&real = next("lstat");
  return coarsened(real(zPath, st), st);
}
