/*
** crc32.c — the checksum Flyway records for a script, so migrate_adopt can
** tell whether a repeatable migration's file is the one Flyway ran.
**
** Flyway reads the script line by line (a line ends at \n, \r\n or \r),
** drops each line's break and, from the first line, a UTF-8 byte order
** mark, and feeds the bytes of each line to one running CRC-32 (the
** polynomial of zlib, reflected 0xEDB88320).  Feeding nothing for an empty
** line changes nothing, so that is the CRC-32 of the file's bytes without
** its CR and LF bytes.  Flyway stores it as a signed 32-bit integer.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

i64 crc32Flyway(const char *z, size_t n){
  uint32_t crc = 0xFFFFFFFFu;
  size_t i = 0;
  if( n>=3 && (unsigned char)z[0]==0xEF && (unsigned char)z[1]==0xBB
   && (unsigned char)z[2]==0xBF ){
    i = 3;
  }
  for(; i<n; i++){
    int k;
    if( z[i]=='\r' || z[i]=='\n' ) continue;
    crc ^= (unsigned char)z[i];
    for(k=0; k<8; k++) crc = (crc>>1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xFFFFFFFFu;
  /* As a signed 32-bit value, without relying on how a cast wraps. */
  return crc>0x7FFFFFFFu ? (i64)crc - ((i64)1<<32) : (i64)crc;
}
