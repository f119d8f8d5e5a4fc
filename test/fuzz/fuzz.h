/*
** fuzz.h — what the fuzz targets share.
*/
#ifndef MIGRATE_FUZZ_H
#define MIGRATE_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* Register the extension and fill in its sqlite3_api table (fuzz_init.c). */
void fuzzInit(void);

/* An invariant that must hold for every input: a failure is a finding, so
** it aborts, and libFuzzer saves the input that caused it. */
#define CHECK(c) do{ if( !(c) ){ \
  fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
  abort(); } }while(0)

#endif
