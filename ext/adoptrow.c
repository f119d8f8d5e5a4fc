/*
** adoptrow.c — one value of another tool's history row -> the version it
** stands for.  Pure: each rule reads exactly one spelling and says no to
** anything else, so migrate_adopt() refuses a row it cannot read instead of
** guessing which migration it meant.
**
**   42, '42', '2024-01-15'        an integer, or digits (dashes between)
**   '20221011172612_init'         a folder name: digits, then '_'
**   '001_init.sql', '001_init',   a file name or stem: digits, then '_',
**   '001', '001.sql'              the end, or '.' and no digit after it
**   'ae1027a6acf'                 a revision: carried by a migration's name
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Leading digits of z -> *pV, and where they end; NULL when there are none
** or they overflow. */
static const char *leadingDigits(const char *z, i64 *pV){
  uint64_t x = 0;
  const char *zStart = z;
  for(; *z>='0' && *z<='9'; z++){
    if( x > (uint64_t)(INT64_MAX - (*z-'0'))/10 ) return 0;
    x = x*10 + (uint64_t)(*z-'0');
  }
  *pV = (i64)x;
  return z>zStart ? z : 0;
}

/* A version as the other tool stored it: an integer, or digits in text. */
int adoptVersionOf(sqlite3_value *v, i64 *pV){
  const unsigned char *z;
  uint64_t x = 0;
  int nDigit = 0;
  if( sqlite3_value_type(v)==SQLITE_INTEGER ){
    *pV = sqlite3_value_int64(v);
    return *pV>=0;
  }
  z = sqlite3_value_text(v);
  if( z==0 ) return 0;
  for(; *z; z++){
    if( *z=='-' && nDigit>0 ) continue;
    if( *z<'0' || *z>'9' ) return 0;
    if( x > (uint64_t)(INT64_MAX - (*z-'0'))/10 ) return 0;
    x = x*10 + (uint64_t)(*z-'0');
    nDigit++;
  }
  *pV = (i64)x;
  return nDigit>0;
}

/* A folder name's version: "20221011172612_init" -> 20221011172612. */
int adoptFolderVersion(const char *z, i64 *pV){
  const char *zEnd = z ? leadingDigits(z, pV) : 0;
  return zEnd && *zEnd=='_';
}

/*
** A file name or its stem: "001_init.sql", "001_init", "001" -> 1.  After
** the digits comes '_', the end, or a '.' that starts an extension: "1.5_x"
** is refused, since reading it as 1 would be a guess.
*/
int adoptNameVersion(const char *z, i64 *pV){
  const char *zEnd = z ? leadingDigits(z, pV) : 0;
  if( zEnd==0 ) return 0;
  if( *zEnd=='_' || *zEnd==0 ) return 1;
  return *zEnd=='.' && zEnd[1]!=0 && (zEnd[1]<'0' || zEnd[1]>'9');
}

/*
** diesel stores a folder's timestamp with its separators taken out
** (2018-1-5-93000_x -> "201815093000"), while the folder scan pads each
** field (20180105093000): find the folder whose digits match the text.
*/
int adoptDieselMatch(const Source *pSrc, const char *zText, i64 *pV){
  int i;
  for(i=0; i<pSrc->n; i++){
    const char *zFile = pSrc->a[i].up.label, *z = zText;
    if( strchr(zFile, '/')==0 ) continue;
    for(; *zFile && *zFile!='_'; zFile++){
      if( *zFile=='-' || *zFile=='.' || *zFile==':' ) continue;
      if( *zFile!=*z ) break;
      z++;
    }
    if( *zFile=='_' && *z==0 ){
      *pV = pSrc->a[i].version;
      return 1;
    }
  }
  return 0;
}

/* A migration's name carries a revision when it is the revision, or starts
** with it and '_': "ae1027a6acf_add_x" carries "ae1027a6acf" (in any case:
** revisions are hex), "ae1027a6acf0_x" does not. */
int adoptNameHasRevision(const char *zName, const char *zRev){
  size_t n = strlen(zRev);
  if( n==0 || sqlite3_strnicmp(zName, zRev, (int)n)!=0 ) return 0;
  return zName[n]==0 || zName[n]=='_';
}
