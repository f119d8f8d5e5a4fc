/*
** stamp.c — a file's stat as the proof that it has not changed since it was
** hashed (source.c's migrationHash reads and hashes the others).
**
** The start-up call hashes every applied file to refuse one that changed
** (doc/guarantees.md "Changed files").  Most of the time none did: a file's
** size, modification and change times (with nanoseconds where the system
** keeps them), inode and device, the same as when its bytes were last hashed
** and found to be the applied ones, say so without reading it.  The change
** time is what a person cannot set: writing the file, `touch -d` putting an
** old modification time back, a rename over it, all set it to the present;
** a copy of the folder (a deploy) gives new inodes.
**
** As git's index does, a stat is recorded only when it is settled: the
** modification and change times at least two seconds older than the start
** of the second in which the folder was listed (two seconds: FAT's steps).
** A file written in the same tick as it was stat-ed could change again
** without its times moving; one that is settled cannot, so a later edit
** always moves its change time.
**
** The recorded text (migrate_history.file_stat, migrate_repeatable's) holds
** the stat and the checksum it vouches for, folded to 16 digits: it is used
** only when it is, byte for byte, what would be written now for this file
** and the row's checksum, so a hand-edited checksum, or a row repaired to
** another file, never rides on an old stat.  A system that gives no inode
** (Windows, where winio.c leaves st_ino 0) never records nor trusts one, nor
** does a file system whose change times have no part below the second.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Nanoseconds of a stat's times, where the system has them. */
#if defined(__APPLE__)
# define ST_MTIME_NS(st) ((i64)(st)->st_mtimespec.tv_nsec)
# define ST_CTIME_NS(st) ((i64)(st)->st_ctimespec.tv_nsec)
#elif defined(_WIN32)
# define ST_MTIME_NS(st) 0
# define ST_CTIME_NS(st) 0
#else
# define ST_MTIME_NS(st) ((i64)(st)->st_mtim.tv_nsec)
# define ST_CTIME_NS(st) ((i64)(st)->st_ctim.tv_nsec)
#endif

#define NS 1000000000LL
/* A recorded time must be this much older than the listing (FAT: 2 s). */
#define SETTLE_SECONDS 2

void stampFromStat(const struct stat *st, FileStamp *p){
  memset(p, 0, sizeof(*p));
  if( !S_ISREG(st->st_mode) || st->st_ino==0 ) return;   /* never trusted */
  /* A change time with no sub-second part is not a change time this can
  ** trust: FAT keeps none (its times are two seconds apart), and the
  ** read-only images (squashfs, erofs, ISO 9660) show one fixed time for
  ** every file and number inodes alike in every build, so two builds of a
  ** folder can give a changed file the very stat of the old one. */
  if( ST_CTIME_NS(st)==0 ) return;
  p->size = (i64)st->st_size;
  p->mtimeNs = (i64)st->st_mtime*NS + ST_MTIME_NS(st);
  p->ctimeNs = (i64)st->st_ctime*NS + ST_CTIME_NS(st);
  p->ino = (sqlite3_uint64)st->st_ino;
  p->dev = (sqlite3_uint64)st->st_dev;
}

i64 stampClock(void){
  return (i64)time(0);
}

int stampSettled(const FileStamp *p, i64 listedAt){
  i64 limit = (listedAt - SETTLE_SECONDS)*NS;
  return p->ino!=0 && p->mtimeNs<limit && p->ctimeNs<limit;
}

/* ":<decimal>" at z; returns the end.  Every start-up call makes one text
** per applied file: by hand, not by printf. */
static char *putNumber(char *z, sqlite3_uint64 v, int isNeg){
  char a[24];
  int n = 0;
  *z++ = ':';
  if( isNeg ) *z++ = '-';
  do{ a[n++] = (char)('0' + v%10); v /= 10; }while( v );
  while( n ) *z++ = a[--n];
  return z;
}

static char *putSigned(char *z, i64 v){
  return v<0 ? putNumber(z, (sqlite3_uint64)0 - (sqlite3_uint64)v, 1)
             : putNumber(z, (sqlite3_uint64)v, 0);
}

int stampFold(const char *zChecksum, char zOut[17]){
  static const char hex[] = "0123456789abcdef";
  sqlite3_uint64 x = 0, w;
  unsigned char a[8];
  int k;
  if( zChecksum==0 || strlen(zChecksum)!=64 ) return 0;
  for(k=0; k<8; k++){
    memcpy(&w, zChecksum + 8*k, 8);
    x ^= w;
  }
  /* Back to bytes: the text's byte k of every piece XORed, in any byte
  ** order the machine has. */
  memcpy(a, &x, 8);
  for(k=0; k<8; k++){
    zOut[2*k] = hex[a[k]>>4];
    zOut[2*k+1] = hex[a[k]&15];
  }
  zOut[16] = 0;
  return 1;
}

/* "2:<size>:<mtime ns>:<ctime ns>:<inode>:<device>:<checksum folded>" (the
** 1: texts of earlier releases held the checksum's first 16 digits, so an
** edit further on went unseen: they vouch for nothing now). */
int stampText(const FileStamp *p, const char *zFold, char *zOut){
  char *z = zOut;
  zOut[0] = 0;
  if( p->ino==0 || zFold==0 || strlen(zFold)!=16 ) return 0;
  *z++ = '2';
  z = putSigned(z, p->size);
  z = putSigned(z, p->mtimeNs);
  z = putSigned(z, p->ctimeNs);
  z = putNumber(z, p->ino, 0);
  z = putNumber(z, p->dev, 0);
  *z++ = ':';
  memcpy(z, zFold, 17);
  return 1;
}

/* ":<decimal>" at z, the one putNumber writes for v (and isNeg): no
** leading zero, no "-0", no value past 64 bits.  The end, or NULL. */
static const char *readNumber(const char *z, sqlite3_uint64 v, int isNeg){
  sqlite3_uint64 got = 0;
  const char *zStart;
  long n;
  if( *z++!=':' ) return 0;
  if( isNeg && *z++!='-' ) return 0;
  zStart = z;
  while( (unsigned)(*z - '0')<=9 ){
    got = got*10 + (unsigned)(*z - '0');
    z++;
  }
  n = (long)(z - zStart);
  /* 20 digits may have wrapped past 64 bits: only up to the largest. */
  if( n==0 || n>20 || (n==20 && memcmp(zStart, "18446744073709551615", 20)>0) ){
    return 0;
  }
  if( (*zStart=='0' && n>1) || got!=v || (isNeg && got==0) ) return 0;
  return z;
}

static const char *readSigned(const char *z, i64 v){
  return v<0 ? readNumber(z, (sqlite3_uint64)0 - (sqlite3_uint64)v, 1)
             : readNumber(z, (sqlite3_uint64)v, 0);
}

/*
** Is zStored, byte for byte, what stampText writes for p and zChecksum?
** Read against p rather than written out and compared: every start-up call
** asks this once per applied file.
*/
int stampVouches(const FileStamp *p, const char *zChecksum, const char *zStored){
  const char *z = zStored;
  char zFold[17];
  if( z==0 || p->ino==0 || z[0]!='2' || !stampFold(zChecksum, zFold) ) return 0;
  z = readSigned(z+1, p->size);
  if( z ) z = readSigned(z, p->mtimeNs);
  if( z ) z = readSigned(z, p->ctimeNs);
  if( z ) z = readNumber(z, p->ino, 0);
  if( z ) z = readNumber(z, p->dev, 0);
  return z && z[0]==':' && strcmp(z+1, zFold)==0;
}

int stampWritable(sqlite3 *db){
  return sqlite3_db_readonly(db, "main")!=1;
}

int stampRefused(int rc, char **pzErr){
  if( (rc & 0xff)!=SQLITE_CONSTRAINT ) return 0;
  sqlite3_free(*pzErr);
  *pzErr = 0;
  return 1;
}
