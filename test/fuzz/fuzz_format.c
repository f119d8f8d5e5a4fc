/*
** fuzz_format.c — the migration file parser (ext/format.c).
**
** Every input is split in each of the four ways a file can be read
** (markers, whole up file, whole down file, whole verify file).  Invariants:
**   - an error has a message and a line number inside the file, and a NUL
**     byte is always an error;
**   - every section found is a range inside the buffer that starts at the
**     start of a line, after a byte order mark, with its marker line before
**     it and the right line number;
**   - with markers, up comes before down and before verify, and each
**     section runs up to the next one's marker (the last, to the end); a
**     verify section never comes with a transaction:false up;
**   - the text kept in migrate_history round-trips: split again the way
**     migrate_rollback splits it, it gives the same script body and the same
**     transaction option, and storing that gives the same text again.
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

static int lineOf(const char *z, size_t off){
  int n = 1;
  size_t i;
  for(i=0; i<off; i++) if( z[i]=='\n' ) n++;
  return n;
}

static void checkSection(const char *z, size_t n, size_t bom, const Section *s){
  CHECK(s->off>=bom && s->off<=n);
  CHECK(s->len<=n-s->off);
  CHECK(s->markerOff>=bom && s->markerOff<=s->off);
  CHECK(s->off==bom || s->off==n || z[s->off-1]=='\n');
  CHECK(s->markerOff==bom || z[s->markerOff-1]=='\n');
  CHECK(s->line==lineOf(z, s->off));
  CHECK(!s->hasOptions || s->markerOff<s->off);
}

/* The stored text, split the way migrate_rollback reads it back. */
static void checkStored(const char *z, const Section *s, int isDown){
  char *zStored = formatStored(z, s, isDown);
  char *zAgain = 0, *zErr = 0;
  Sections t;
  const Section *s2;
  int line = 0, rc;
  CHECK(zStored!=0);
  rc = formatSplit(zStored, strlen(zStored), isDown ? FMT_WHOLE_DOWN : FMT_WHOLE_UP,
                   &t, &line, &zErr);
  if( rc ) fprintf(stderr, "stored text does not split again: %d: %s\n", line, zErr);
  CHECK(rc==SQLITE_OK);
  s2 = isDown ? &t.down : &t.up;
  CHECK(s2->present);
  CHECK(s2->len==s->len);
  CHECK(memcmp(zStored+s2->off, z+s->off, s->len)==0);
  CHECK(s2->noTxn==s->noTxn);
  zAgain = formatStored(zStored, s2, isDown);
  CHECK(zAgain!=0 && strcmp(zAgain, zStored)==0);
  sqlite3_free(zAgain);
  sqlite3_free(zStored);
}

static void splitOne(const char *z, size_t n, int how){
  Sections s;
  char *zErr = 0;
  int line = -1;
  size_t bom = (n>=3 && memcmp(z, "\xEF\xBB\xBF", 3)==0) ? 3 : 0;
  int rc = formatSplit(z, n, how, &s, &line, &zErr);

  if( rc!=SQLITE_OK ){
    CHECK(rc==SQLITE_ERROR);
    CHECK(zErr!=0 && zErr[0]!=0);
    CHECK(line>=1 && line<=lineOf(z, n));
    sqlite3_free(zErr);
    return;
  }
  CHECK(zErr==0);
  CHECK(memchr(z, 0, n)==0);
  if( s.up.present ) checkSection(z, n, bom, &s.up);
  if( s.down.present ) checkSection(z, n, bom, &s.down);
  if( s.verify.present ) checkSection(z, n, bom, &s.verify);
  switch( how ){
    case FMT_MARKED: {
      const Section *a[3], *t;
      int k = 0, i;
      CHECK(s.up.present);
      a[k++] = &s.up;
      if( s.down.present ){
        CHECK(s.down.markerOff>=s.up.off);
        a[k++] = &s.down;
      }
      if( s.verify.present ){
        CHECK(s.verify.markerOff>=s.up.off && !s.up.noTxn);
        a[k++] = &s.verify;
      }
      if( k==3 && a[2]->off<a[1]->off ){ t = a[1]; a[1] = a[2]; a[2] = t; }
      for(i=0; i<k; i++){
        CHECK(a[i]->off+a[i]->len==(i+1<k ? a[i+1]->markerOff : n));
      }
      break;
    }
    case FMT_WHOLE_UP:
      CHECK(!s.verify.present);
      CHECK(s.up.present && !s.down.present);
      CHECK(s.up.off+s.up.len==n);
      break;
    case FMT_WHOLE_VERIFY:
      CHECK(s.verify.present && !s.up.present && !s.down.present);
      CHECK(s.verify.off+s.verify.len==n);
      break;
    default:
      CHECK(!s.verify.present);
      CHECK(s.down.present && !s.up.present);
      CHECK(s.down.off+s.down.len==n);
      break;
  }
  if( s.up.present ) checkStored(z, &s.up, 0);
  if( s.down.present ) checkStored(z, &s.down, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  /* An exact-size copy, so ASan sees any read past the end. */
  char *z = malloc(size ? size : 1);
  if( z==0 ) return 0;
  memcpy(z, data, size);
  splitOne(z, size, FMT_MARKED);
  splitOne(z, size, FMT_WHOLE_UP);
  splitOne(z, size, FMT_WHOLE_DOWN);
  splitOne(z, size, FMT_WHOLE_VERIFY);
  free(z);
  return 0;
}
