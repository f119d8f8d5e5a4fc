/*
** fuzz_lint.c — the tokenizer behind migrate_check's findings (lintScript in
** ext/lint.c), which reads a script's text without running it.
**
** The input is one script, bytes as they are (NULs included: a Script is a
** range, not a C string), with its first line number taken from the first
** byte.  Invariants:
**   - the reading finishes with SQLITE_OK (or out of memory);
**   - every finding names a check and carries a detail text;
**   - reading the same text twice gives the same findings.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdint.h>
#include <string.h>
#include "fuzz.h"

static sqlite3 *db;

int LLVMFuzzerInitialize(int *argc, char ***argv){
  (void)argc; (void)argv;
  fuzzInit();
  if( sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, 0) ) abort();
  return 0;
}

typedef struct Found {
  sqlite3_str *p;     /* every finding, one line each */
} Found;

static int onFound(void *pArg, const char *zRule, char *zDetail){
  Found *f = (Found*)pArg;
  CHECK(zRule!=0 && zRule[0]!=0);
  CHECK(zDetail!=0);
  sqlite3_str_appendf(f->p, "%s: %s\n", zRule, zDetail);
  sqlite3_free(zDetail);
  return SQLITE_OK;
}

static char *lintAll(const Script *pScr){
  Found f;
  int rc;
  f.p = sqlite3_str_new(0);
  rc = lintScript(db, pScr, "fuzz.sql", onFound, &f);
  CHECK(rc==SQLITE_OK || rc==SQLITE_NOMEM);
  sqlite3_str_appendf(f.p, "rc=%d", rc);
  return sqlite3_str_finish(f.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  Script scr;
  char *z1, *z2;
  if( nData==0 ) return 0;
  memset(&scr, 0, sizeof(scr));
  scr.line = 1 + aData[0]%8;
  scr.z = (const char*)aData + 1;
  scr.n = nData - 1;
  z1 = lintAll(&scr);
  z2 = lintAll(&scr);
  CHECK(z1!=0 && z2!=0);
  CHECK(strcmp(z1, z2)==0);
  sqlite3_free(z1);
  sqlite3_free(z2);
  return 0;
}
