/*
** fuzz_normalize.c — the CREATE statement normaliser of migrate_schema()
** (schemaNormalize in ext/schema.c).
**
** The input, cut at its first NUL, is normalised.  Invariants:
**   - out of memory aside, there is always a result;
**   - it is never longer than the input plus one space per comma;
**   - it neither starts nor ends with a space;
**   - outside string literals and quoted names it holds no two spaces in a
**     row, and no line break or tab (every run of blanks is one space).
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

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  char *zIn = sqlite3_malloc64(nData+1);
  char *zOut;
  size_t n, nComma = 0, i;
  CHECK(zIn!=0);
  memcpy(zIn, aData, nData);
  zIn[nData] = 0;
  n = strlen(zIn);
  for(i=0; i<n; i++) nComma += zIn[i]==',';
  zOut = schemaNormalize(zIn);
  CHECK(zOut!=0);
  CHECK(strlen(zOut)<=n+nComma);
  if( zOut[0] ){
    const char *z = zOut;
    CHECK(zOut[0]!=' ');
    CHECK(zOut[strlen(zOut)-1]!=' ' || strchr(zOut, '\'') || strchr(zOut, '"')
          || strchr(zOut, '`') || strchr(zOut, '['));
    while( *z ){
      if( *z=='\'' || *z=='"' || *z=='`' || *z=='[' ){
        z = sqlSkipQuoted(z);
        continue;
      }
      CHECK(!(z[0]==' ' && z[1]==' '));
      CHECK(*z!='\n' && *z!='\t' && *z!='\r');
      z++;
    }
  }
  sqlite3_free(zOut);
  sqlite3_free(zIn);
  return 0;
}
