/*
** util.c — small things every other file needs: reporting an error on a
** function context, UTC time stamps, and looking at the connection's other
** statements before a call changes anything.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdarg.h>
#include <string.h>
#include <time.h>

/* One place formats every SQL error we raise, so texts stay uniform. */
void ctxErrorMsg(sqlite3_context *ctx, const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
  }
}

void clockNow(struct timespec *t){
  clock_gettime(CLOCK_REALTIME, t);
}

double msSince(const struct timespec *t0){
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)(t.tv_sec - t0->tv_sec)*1000.0
       + (double)(t.tv_nsec - t0->tv_nsec)/1e6;
}

static char *utcFormat(const char *zFmt){
  struct timespec t;
  struct tm tm;
  clockNow(&t);
  gmtime_r(&t.tv_sec, &tm);
  return sqlite3_mprintf(zFmt, tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec,
                         (int)(t.tv_nsec/1000000));
}

/* ISO-8601 UTC with milliseconds, the format of applied_at and log times. */
char *utcNow(void){
  return utcFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ");
}

/* The same instant for use in a file name (no ':' so it is portable). */
char *utcStamp(void){
  return utcFormat("%04d%02d%02d-%02d%02d%02d-%03d");
}

/* A database with a file behind it; "" is :memory: or a temp database. */
int dbIsFile(sqlite3 *db){
  const char *z = sqlite3_db_filename(db, "main");
  return z!=0 && z[0]!=0;
}

/*
** Count the connection's statements that are running.  The statement that
** called us is one of them; any other one, or a caller that is itself
** writing (INSERT ... SELECT migrate_apply()), would either be corrupted by
** DDL or make it fail with "database table is locked" halfway through.
*/
int otherStatementsBusy(sqlite3 *db, int *pWriting){
  sqlite3_stmt *p = 0;
  int n = 0;
  *pWriting = 0;
  while( (p = sqlite3_next_stmt(db, p))!=0 ){
    if( sqlite3_stmt_busy(p) ){
      n++;
      if( !sqlite3_stmt_readonly(p) ) *pWriting = 1;
    }
  }
  return n>1;
}
