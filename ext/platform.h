/*
** platform.h — what each system must see defined before its own headers,
** so that the sources build with no -D flags: included first by every file
** (through migrate.h, or fileops.h alone).  doc/platforms.md says what each
** system can and cannot promise.
*/
#ifndef MIGRATE_PLATFORM_H
#define MIGRATE_PLATFORM_H

#if defined(_WIN32)
/* mingw-w64: 64-bit file sizes in struct stat (a database may pass 2 GiB),
** and POSIX's gmtime_r from its time.h. */
# ifndef _FILE_OFFSET_BITS
#  define _FILE_OFFSET_BITS 64
# endif
# ifndef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
# endif
#elif defined(__APPLE__)
/* -std=c11 hides nothing there, but renamex_np and flock are Darwin's own. */
# ifndef _DARWIN_C_SOURCE
#  define _DARWIN_C_SOURCE 1
# endif
#else
/* glibc and musl under -std=c11 show only ISO C: POSIX 2008 (pread,
** realpath, clock_gettime), BSD's flock and PATH_MAX, and syscall() are
** behind this.  The BSDs show all of it anyway and ignore the name. */
# ifndef _GNU_SOURCE
#  define _GNU_SOURCE 1
# endif
#endif

#endif /* MIGRATE_PLATFORM_H */
