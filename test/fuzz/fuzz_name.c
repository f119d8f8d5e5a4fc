/*
** fuzz_name.c — the file-name and version parser (folderClassify in
** ext/folder.c): one directory entry's name -> kind, version and name.
**
** The first input byte says whether the entry is a folder; the rest is the
** name.  Invariants:
**   - an error names the file ("NAME: ...") and classifies nothing;
**   - a recognised name is rebuilt exactly from its parts: the version
**     prefix (whose digits, without leading zeros, print as the version; a
**     diesel folder's fields padded to their widths first), the separator, the migration name and the
**     suffix of its kind; folders are folders and files are files;
**   - a name that has the shape of a migration is never silently ignored:
**     it is recognised or it is an error (ignoring it would drop a
**     migration), and a version too big for 64 bits is always an error.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdint.h>
#include <string.h>
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv){
  (void)argc; (void)argv;
  fuzzInit();
  return 0;
}

static int endsWith(const char *z, size_t n, const char *zEnd){
  size_t m = strlen(zEnd);
  return n>m && memcmp(z+n-m, zEnd, m)==0;
}

static int isDigit(char c){ return c>='0' && c<='9'; }

static int isSep(char c){ return c=='-' || c=='.' || c==':'; }

/* A diesel folder's prefix as the digits of its version: a single group
** as written; else year, month, day padded to 4, 2, 2, then the time as one
** group padded to 6, or as groups of 2 each, right-filled to 6. */
static void dieselDigits(const char *z, size_t n, char *zOut, size_t nOut){
  size_t i = 0, k = 0, g = 0, nTime = 0, start;
  int nGroup = 0, single;
  for(i=0; i<n; i++) if( isSep(z[i]) ) nGroup++;
  single = nGroup==0;
  nGroup++;
  for(i=0; i<=n; i++){
    if( i<n && !isSep(z[i]) ) continue;
    start = i;
    while( start>0 && !isSep(z[start-1]) ) start--;
    {
      size_t len = i-start, w;
      if( single ) w = len;
      else if( g<3 ) w = g==0 ? 4 : 2;
      else if( nGroup==4 ) w = 6;
      else w = 2;
      for(; len<w && k+1<nOut; w--){ zOut[k++] = '0'; if( g>=3 ) nTime++; }
      for(; start<i && k+1<nOut; start++){ zOut[k++] = z[start]; if( g>=3 ) nTime++; }
    }
    g++;
  }
  if( !single ){
    for(; g<3; g++){ if( k+2<nOut ){ zOut[k++] = '0'; zOut[k++] = '1'; } }
    while( nTime<6 && k+1<nOut ){ zOut[k++] = '0'; nTime++; }
  }
  zOut[k] = 0;
}

/* The digits of z[0,n), leading zeros dropped ("0" if none); with isDir,
** of the diesel version the folder's prefix stands for. */
static void digitsOf(const char *z, size_t n, int isDir, char *zOut, size_t nOut){
  char a[1200];
  size_t i, k = 0;
  if( isDir ){
    dieselDigits(z, n, a, sizeof(a));
    z = a;
    n = strlen(a);
  }
  for(i=0; i<n; i++){
    if( k==0 && z[i]=='0' ) continue;
    if( k+1<nOut ) zOut[k++] = z[i];
  }
  if( k==0 ) zOut[k++] = '0';
  zOut[k] = 0;
}

static int tooBig(const char *z, size_t n, int isDir){
  char a[1200];
  size_t k;
  digitsOf(z, n, isDir, a, sizeof(a));
  k = strlen(a);
  return k>19 || (k==19 && strcmp(a, "9223372036854775807")>0);
}

static int sameNumber(const char *z, size_t n, int isDir, i64 v){
  char a[1200], b[32];
  digitsOf(z, n, isDir, a, sizeof(a));
  snprintf(b, sizeof(b), "%lld", (long long)v);
  return strcmp(a, b)==0;
}

/* Length of a version prefix at z, then '_': digits; for a folder, groups
** of digits each separated by one '-', '.' or ':'.  0 if there is none. */
static size_t versionPrefix(const char *z, int isDir){
  size_t i = 0;
  if( !isDigit(z[0]) ) return 0;
  for(;;){
    while( isDigit(z[i]) ) i++;
    if( !(isDir && isSep(z[i]) && isDigit(z[i+1])) ) break;
    i++;
  }
  return z[i]=='_' ? i : 0;
}

/* Flyway: V or U, digits, "__", name, ".sql". */
static size_t flywayPrefix(const char *z, size_t n, int isDir){
  size_t i = 1;
  if( isDir || (z[0]!='V' && z[0]!='U') || !endsWith(z, n, ".sql") ) return 0;
  while( isDigit(z[i]) ) i++;
  return i>1 && z[i]=='_' && z[i+1]=='_' ? i : 0;
}

static void checkName(const char *z, int isDir){
  size_t n = strlen(z), nPre;
  int kind = -1, nName = -1, rc;
  i64 v = -1;
  const char *zName = 0;
  char *zErr = 0;
  int flyway = !isDir && (z[0]=='V' || z[0]=='U' || z[0]=='R') && endsWith(z, n, ".sql");

  rc = folderClassify(z, isDir, &kind, &v, &zName, &nName, &zErr);
  if( rc!=SQLITE_OK ){
    CHECK(rc==SQLITE_ERROR);
    CHECK(kind==0);
    CHECK(zErr!=0 && strncmp(zErr, z, n)==0 && zErr[n]==':');
    /* Only a bad Flyway name or an overflowing version is an error. */
    CHECK(flyway || tooBig(z, versionPrefix(z, isDir), isDir));
    sqlite3_free(zErr);
    return;
  }
  CHECK(zErr==0);
  CHECK(kind>=0 && kind<=ENT_REPEATABLE);
  if( kind==ENT_REPEATABLE ){
    /* R__<name>.sql: the name between, never empty; no version. */
    CHECK(!isDir && z[0]=='R' && z[1]=='_' && z[2]=='_' && endsWith(z, n, ".sql"));
    CHECK(v==0 && zName==z+3 && nName>0 && zName+nName+4==z+n);
    return;
  }

  if( kind==0 ){
    /* Nothing with the shape of a migration is ignored. */
    if( flyway ){
      CHECK(flywayPrefix(z, n, isDir)==0);
      CHECK(!(z[0]=='R' && z[1]=='_' && z[2]=='_'));
    }else{
      nPre = versionPrefix(z, isDir);
      CHECK(nPre==0 || !(isDir || endsWith(z, n, ".sql")));
    }
    return;
  }

  CHECK(v>=0);
  CHECK(nName>=0 && zName>=z && zName+nName<=z+n);
  CHECK((kind==ENT_FOLDER)==(isDir!=0));
  if( flyway ){
    nPre = flywayPrefix(z, n, isDir);
    CHECK(nPre>1);
    CHECK(kind==(z[0]=='V' ? ENT_UP_WHOLE : ENT_DOWN_WHOLE));
    CHECK(zName==z+nPre+2);
    CHECK(sameNumber(z+1, nPre-1, 0, v) && !tooBig(z+1, nPre-1, 0));
    CHECK(zName+nName+4==z+n);
    return;
  }
  nPre = versionPrefix(z, isDir);
  CHECK(nPre>0);
  CHECK(zName==z+nPre+1);
  CHECK(sameNumber(z, nPre, isDir, v) && !tooBig(z, nPre, isDir));
  switch( kind ){
    case ENT_FOLDER:
      CHECK(zName+nName==z+n);
      break;
    case ENT_UP_WHOLE:
      CHECK(zName+nName+7==z+n && endsWith(z, n, ".up.sql"));
      break;
    case ENT_DOWN_WHOLE:
      CHECK(zName+nName+9==z+n && endsWith(z, n, ".down.sql"));
      break;
    default:
      CHECK(kind==ENT_UP_MARKED);
      CHECK(zName+nName+4==z+n && endsWith(z, n, ".sql"));
      CHECK(!endsWith(z, n, ".up.sql") && !endsWith(z, n, ".down.sql"));
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  char *z;
  size_t n;
  if( size<1 ) return 0;
  /* A directory entry's name: at most 255 bytes, no NUL. */
  n = size-1 > 255 ? 255 : size-1;
  z = malloc(n+1);
  if( z==0 ) return 0;
  memcpy(z, data+1, n);
  z[n] = 0;
  checkName(z, data[0]&1);
  free(z);
  return 0;
}
