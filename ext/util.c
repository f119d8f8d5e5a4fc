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
#ifdef _WIN32
# include <windows.h>
#endif

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

/* Durations are measured on the monotonic clock: a step of the wall clock
** (NTP, a changed time zone setting, a suspended laptop) must not make one
** short or negative.  The wall clock only stamps times (utcFormat). */
#ifdef _WIN32
/* Windows has neither clock: its performance counter is monotonic, and its
** system time counts 100 ns ticks since 1601. */
static void clockRead(int wall, struct timespec *t){
  unsigned long long v;
  if( wall ){
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    v = (((unsigned long long)ft.dwHighDateTime<<32) | ft.dwLowDateTime)
        - 116444736000000000ULL;
    t->tv_sec = (time_t)(v/10000000ULL);
    t->tv_nsec = (long)(v%10000000ULL)*100;
  }else{
    LARGE_INTEGER c, f;
    QueryPerformanceCounter(&c);
    QueryPerformanceFrequency(&f);
    v = (unsigned long long)c.QuadPart;
    t->tv_sec = (time_t)(v/(unsigned long long)f.QuadPart);
    t->tv_nsec = (long)((v%(unsigned long long)f.QuadPart)*1000000000ULL
                        /(unsigned long long)f.QuadPart);
  }
}
#else
static void clockRead(int wall, struct timespec *t){
  clock_gettime(wall ? CLOCK_REALTIME : CLOCK_MONOTONIC, t);
}
#endif

void utilClockNow(struct timespec *t){
  clockRead(0, t);
}

double utilMsSince(const struct timespec *t0){
  struct timespec t;
  clockRead(0, &t);
  return (double)(t.tv_sec - t0->tv_sec)*1000.0
       + (double)(t.tv_nsec - t0->tv_nsec)/1e6;
}

static char *utcFormat(const char *zFmt){
  struct timespec t;
  struct tm tm;
  clockRead(1, &t);
  gmtime_r(&t.tv_sec, &tm);
  return sqlite3_mprintf(zFmt, tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec,
                         (int)(t.tv_nsec/1000000));
}

/* ISO-8601 UTC with milliseconds, the format of applied_at and log times. */
char *utilUtcNow(void){
  return utcFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ");
}

/* The same instant for use in a file name (no ':' so it is portable). */
char *utilUtcStamp(void){
  return utcFormat("%04d%02d%02d-%02d%02d%02d-%03d");
}

/* The last separator of a path: '/', and on Windows '\\' too (SQLite
** names a database file there with '\\'); NULL when there is none. */
const char *utilLastSlash(const char *zPath){
  const char *z = strrchr(zPath, '/');
#ifdef _WIN32
  const char *zBack = strrchr(zPath, '\\');
  if( zBack && (z==0 || zBack>z) ) z = zBack;
#endif
  return z;
}

/* A database with a file behind it; "" is :memory: or a temp database. */
int utilDbIsFile(sqlite3 *db){
  const char *z = sqlite3_db_filename(db, "main");
  return z!=0 && z[0]!=0;
}

/* Skip blanks and comments: where the next token of SQL text starts.
** SQLite's tokenizer reads a UTF-8 byte order mark as a blank, anywhere. */
const char *sqlSkipSpace(const char *z){
  while( *z ){
    if( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' || *z=='\f' || *z=='\v' ){
      z++;
    }else if( (unsigned char)z[0]==0xEF && (unsigned char)z[1]==0xBB
           && (unsigned char)z[2]==0xBF ){
      z += 3;
    }else if( z[0]=='-' && z[1]=='-' ){
      while( *z && *z!='\n' ) z++;
    }else if( z[0]=='/' && z[1]=='*' ){
      z += 2;
      while( *z && !(z[0]=='*' && z[1]=='/') ) z++;
      if( *z ) z += 2;
    }else{
      break;
    }
  }
  return z;
}

/* Past the string literal or quoted name that opens at z ('..', "..", `..`
** or [..]): 'it''s' and "a""b" double their quote, [..] has no escape. */
const char *sqlSkipQuoted(const char *z){
  char close = *z=='[' ? ']' : *z;
  for(z++; *z; z++){
    if( *z!=close ) continue;
    if( close!=']' && z[1]==close ){ z++; continue; }
    return z+1;
  }
  return z;
}


static int isWordByte(char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
      || c=='_' || c=='$' || (c & 0x80);
}

/* The next token of SQL text that ends at zEnd (or its NUL): blanks and
** comments skipped, strings and quoted names whole. */
const char *sqlNextTok(const char *z, const char *zEnd, SqlTok *t){
  z = sqlSkipSpace(z);
  t->z = z;
  if( z>=zEnd || *z==0 ){
    t->kind = SQLTOK_END;
    t->n = 0;
    return z;
  }
  if( isWordByte(*z) ){
    while( z<zEnd && isWordByte(*z) ) z++;
    t->kind = SQLTOK_WORD;
  }else if( *z=='\'' || *z=='"' || *z=='`' || *z=='[' ){
    z = sqlSkipQuoted(z);
    t->kind = *t->z=='\'' ? SQLTOK_STRING : SQLTOK_QUOTED;
  }else{
    z++;
    t->kind = SQLTOK_PUNCT;
  }
  t->n = (int)(z - t->z);
  return z;
}

int sqlTokIs(const SqlTok *t, const char *zWord){
  return t->kind==SQLTOK_WORD && (int)strlen(zWord)==t->n
      && sqlite3_strnicmp(t->z, zWord, t->n)==0;
}

int sqlTokPunct(const SqlTok *t, char c){
  return t->kind==SQLTOK_PUNCT && t->z[0]==c;
}

/* A name token's text, bare or quoted ("x", [x], `x`), unquoted into zOut
** (doubled quotes undone); '' for any other token. */
void sqlTokName(const SqlTok *t, char *zOut, int nOut){
  int n = 0, i;
  if( t->kind==SQLTOK_WORD ){
    for(i=0; i<t->n && n<nOut-1; i++) zOut[n++] = t->z[i];
  }else if( t->kind==SQLTOK_QUOTED && t->n>=2 ){
    char close = t->z[0]=='[' ? ']' : t->z[0];
    for(i=1; i<t->n-1 && n<nOut-1; i++){
      zOut[n++] = t->z[i];
      if( t->z[i]==close && close!=']' ) i++;   /* "" inside "..." is one " */
    }
  }
  zOut[n] = 0;
}

/*
** Which of up to 16 names occur in a text, ASCII case ignored, the way
** SQLite compares names.  A quick look before reading the text token by
** token: a bare or quoted name is its own bytes, so a text that holds none
** of them anywhere holds no token naming one.  Three bytes are tested per
** position through the tables (bit i: name i), so the common byte costs a
** few instructions and only a position that begins like a name is compared.
*/
void utilNameSetInit(NameSet *p, const char *const *az){
  int i, k;
  memset(p, 0, sizeof(*p));
  p->az = az;
  for(i=0; i<16 && az[i]; i++){
    for(k=0; k<3; k++){
      unsigned char c = (unsigned char)az[i][k];
      p->aByte[k][c] |= (unsigned short)(1<<i);
      p->aByte[k][c ^ 0x20] |= (unsigned short)(1<<i);   /* the other case */
    }
  }
}

unsigned utilNameSetFind(const NameSet *p, const char *z, const char *zEnd){
  const unsigned char *s = (const unsigned char*)z;
  const unsigned char *e = (const unsigned char*)zEnd;
  unsigned found = 0;
  for(; s+2<e; s++){
    unsigned bits = p->aByte[0][s[0]] & p->aByte[1][s[1]] & p->aByte[2][s[2]];
    while( bits ){
      int i = 0;
      size_t n;
      while( (bits & (1u<<i))==0 ) i++;
      bits &= ~(1u<<i);
      n = strlen(p->az[i]);
      if( (size_t)(e - s)>=n && sqlite3_strnicmp((const char*)s, p->az[i], (int)n)==0 ){
        found |= 1u<<i;
      }
    }
  }
  return found;
}

/* The first column of the first row of a query (a PRAGMA), as an integer,
** and as text into zText when it is given; 0 and "" when there is none. */
i64 utilPragmaValue(sqlite3 *db, const char *zSql, char *zText, int nText){
  sqlite3_stmt *p = 0;
  i64 v = 0;
  if( zText ) zText[0] = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK
   && sqlite3_step(p)==SQLITE_ROW ){
    v = sqlite3_column_int64(p, 0);
    if( zText && sqlite3_column_text(p, 0) ){
      sqlite3_snprintf(nText, zText, "%s", (const char*)sqlite3_column_text(p, 0));
    }
  }
  sqlite3_finalize(p);
  return v;
}

/* The same, for a value that must be known: an error (out of memory) is
** returned rather than taken for 0. */
int utilPragmaRead(sqlite3 *db, const char *zSql, i64 *pV){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  *pV = 0;
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(p);
    if( rc==SQLITE_ROW ){
      *pV = sqlite3_column_int64(p, 0);
      rc = SQLITE_OK;
    }else if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
    }
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  return rc;
}

/*
** Look at the connection's running statements before a call changes
** anything.  The statement that called us is one of them.
**
** *pIndirect: a running statement writes, or is a PRAGMA.  Our functions are
** meant to be called from a SELECT of their own; called from a statement
** that writes (INSERT ... SELECT migrate_apply()) or from a PRAGMA, they
** are being run by a CHECK constraint or trigger of the schema, or would
** change the database under a statement that is itself changing it.
** (SQLite before 3.50 does not apply DIRECTONLY to non-deterministic
** functions in CHECK constraints, which INSERT, UPDATE and PRAGMA
** integrity_check evaluate: this closes that door on every version.)
**
** Returns the number of running statements: more than one means a cursor is
** open that DDL would fail on ("database table is locked") halfway through.
*/
int utilRunningStatements(sqlite3 *db, int *pIndirect){
  sqlite3_stmt *p = 0;
  int n = 0;
  *pIndirect = 0;
  while( (p = sqlite3_next_stmt(db, p))!=0 ){
    if( sqlite3_stmt_busy(p) ){
      n++;
      if( !sqlite3_stmt_readonly(p)
       || sqlite3_strnicmp(sqlSkipSpace(sqlite3_sql(p)), "PRAGMA", 6)==0 ){
        *pIndirect = 1;
      }
    }
  }
  return n;
}

/*
** The one guard of the functions that may not run just anywhere; each check
** has one text, whichever function it refuses.  From a migration (busy):
** the call would run inside another call's transaction, and what it did
** would stay, or be lost, with a call that may still fail.
*/
int callGuard(sqlite3_context *ctx, const char *zFunc, int flags){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  int indirect = 0, nRunning = utilRunningStatements(db, &indirect);
  if( (flags & GUARD_NOT_BUSY) && ((MigrateConn*)sqlite3_user_data(ctx))->busy ){
    ctxErrorMsg(ctx, "%s: cannot be called from inside a migration or while "
                "another migrate call is running", zFunc);
    return 1;
  }
  if( indirect ){
    ctxErrorMsg(ctx, "%s: must be called from a SELECT of its own, not from a "
                "statement that writes, a PRAGMA, a trigger or a CHECK "
                "constraint", zFunc);
    return 1;
  }
  if( (flags & GUARD_ALONE) && nRunning>1 ){
    ctxErrorMsg(ctx, "%s: other statements on this connection are still "
                "running; finish or reset them and call %s in a statement of "
                "its own", zFunc, zFunc);
    return 1;
  }
  return 0;
}

/*
** An integer argument (a whole number, or text that is one): SQLITE_OK and
** *pV, else SQLITE_MISMATCH; either way *pzShown is the value as the caller
** gave it, quoted, for a message (sqlite3_free it).  SQLite's numeric
** conversion changes the value itself: afterwards '1e1' would read 10.0.
*/
int utilArgInt(sqlite3_value *v, i64 *pV, char **pzShown){
  *pzShown = sqlite3_mprintf("%Q", sqlite3_value_text(v));
  if( *pzShown==0 ) return SQLITE_NOMEM;
  if( sqlite3_value_numeric_type(v)!=SQLITE_INTEGER ) return SQLITE_MISMATCH;
  *pV = sqlite3_value_int64(v);
  return SQLITE_OK;
}

/*
** An integer argument from lo to hi, or 1 with the error set:
** "<zFunc>: <zWhat>, not <the value as given>".
*/
int utilArgInteger(sqlite3_context *ctx, sqlite3_value *v, const char *zFunc,
                   const char *zWhat, i64 lo, i64 hi, i64 *pV){
  char *zShown = 0;
  int rc = utilArgInt(v, pV, &zShown);
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
    return 1;
  }
  if( rc==SQLITE_OK && (*pV<lo || *pV>hi) ) rc = SQLITE_MISMATCH;
  if( rc ) ctxErrorMsg(ctx, "%s: %s, not %s", zFunc, zWhat, zShown);
  sqlite3_free(zShown);
  return rc!=SQLITE_OK;
}

int utilForceArm(sqlite3 *db, ForceRollback *p){
  sqlite3_stmt *pNew = 0;
  char *zSql = sqlite3_mprintf("PRAGMA main.user_version=%lld", p->userVersion);
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pNew, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    sqlite3_finalize(p->pStmt);
    p->pStmt = pNew;
  }
  return rc;
}

/*
** Roll back the open transaction when ROLLBACK cannot run: step the armed
** statement, which the interrupt stops before it does anything, and SQLite
** then rolls back.  If it ran instead (no interrupt), it wrote the value
** user_version already had, and ROLLBACK can run.  It is stepped at most
** once: SQLite expires a PRAGMA that set a value after it ran.
*/
int utilForceRollback(sqlite3 *db, ForceRollback *p){
  if( sqlite3_get_autocommit(db) ) return 1;
  if( p->pStmt ){
    sqlite3_step(p->pStmt);
    sqlite3_reset(p->pStmt);
  }
  if( !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return sqlite3_get_autocommit(db);
}

void utilForceFree(ForceRollback *p){
  sqlite3_finalize(p->pStmt);
  p->pStmt = 0;
}

/*
** The text of a path or name argument, or NULL with the error set on ctx:
** NULL and '' are refused, and so is text with a NUL byte inside, which C
** would silently cut short there ("a.db\0x" would write "a.db").  zWhat
** names the argument in the message ("the path").
*/
const char *utilArgText(sqlite3_context *ctx, sqlite3_value *v, const char *zFunc,
                    const char *zWhat){
  const char *z = (const char*)sqlite3_value_text(v);
  if( z==0 && sqlite3_value_type(v)!=SQLITE_NULL ){
    sqlite3_result_error_nomem(ctx);
    return 0;
  }
  if( z==0 || z[0]==0 ){
    ctxErrorMsg(ctx, "%s: %s is %s", zFunc, zWhat, z ? "empty" : "NULL");
    return 0;
  }
  if( (size_t)sqlite3_value_bytes(v)!=strlen(z) ){
    ctxErrorMsg(ctx, "%s: %s holds a NUL byte", zFunc, zWhat);
    return 0;
  }
  return z;
}

/*
** Open the database file zPath on a connection of our own, by a URI we
** build: a path is always a path.  Opened by name, '//tmp/x' or 'a?b' would
** be read as a URI (an authority, a query) wherever the application turned
** URIs on; escaped here, every byte of the name stays part of it.  zQuery
** (or NULL) is the URI's query, e.g. "immutable=1".
*/
int utilOpenPath(const char *zPath, int flags, const char *zQuery,
             const char *zVfs, sqlite3 **ppDb){
  sqlite3_str *p = sqlite3_str_new(0);
  const char *z;
  char *zUri;
  int rc;
  *ppDb = 0;
  /* file:///abs (an empty authority), file:rel */
  sqlite3_str_appendall(p, zPath[0]=='/' ? "file://" : "file:");
  for(z=zPath; *z; z++){
    if( *z=='%' || *z=='?' || *z=='#' ) sqlite3_str_appendf(p, "%%%02X", (unsigned char)*z);
    else sqlite3_str_appendchar(p, 1, *z);
  }
  if( zQuery ) sqlite3_str_appendf(p, "?%s", zQuery);
  zUri = sqlite3_str_finish(p);
  if( zUri==0 ) return SQLITE_NOMEM;
  rc = sqlite3_open_v2(zUri, ppDb, flags|SQLITE_OPEN_URI, zVfs);
  sqlite3_free(zUri);
  return rc;
}

/*
** A second, read-only connection to the same database file (same VFS).
** While a migrate call holds the write lock and has not committed, it sees
** exactly the state the call started from.
*/
int utilOpenCommitted(sqlite3 *db, sqlite3 **ppOut){
  sqlite3_vfs *pVfs = 0;
  int rc;
  *ppOut = 0;
  if( !utilDbIsFile(db) ) return SQLITE_CANTOPEN;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs);
  rc = utilOpenPath(sqlite3_db_filename(db, "main"), SQLITE_OPEN_READONLY, 0,
                pVfs ? pVfs->zName : 0, ppOut);
  if( rc==SQLITE_OK ) sqlite3_busy_timeout(*ppOut, 5000);
  return rc;
}

/*
** Is main encrypted with a key this connection holds (PRAGMA key, in
** SQLite3MultipleCiphers or SQLCipher)?  The key cannot be read back, so
** such a database cannot be copied, checked or restored through a
** connection of migrate's own (doc/guarantees.md "Backed up").
**
** SQLite's default VFS with no reserved bytes per page is every plain
** database there: answered without opening anything, so the common case
** costs nothing.  Otherwise (an encrypting codec reserves bytes in each
** page, or works as a VFS of its own) a fresh read-only connection through
** the same VFS, without a key, reads the header: an encrypted file is no
** database to it, and an empty one shows no reserved bytes where the
** keyed connection has them.  Any other failure of that connection is not
** an answer (nor is exclusive locking mode, where none can read): *pKeyed
** stays 0, and the copy reports its own error.
*/
int utilDbKeyed(sqlite3 *db, int *pKeyed){
  sqlite3_vfs *pVfs = 0;
  sqlite3 *pProbe = 0;
  sqlite3_stmt *p = 0;
  int nReserve = -1, nProbe = -1, rc;
  *pKeyed = 0;
  if( !utilDbIsFile(db) ) return SQLITE_OK;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &nReserve);
  sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs);
  if( nReserve==0 && pVfs && strcmp(pVfs->zName, "unix")==0 ) return SQLITE_OK;
  {
    /* In exclusive locking mode no second connection can read the file:
    ** the probe would only wait out its busy timeout. */
    char zMode[16];
    utilPragmaValue(db, "PRAGMA main.locking_mode", zMode, sizeof(zMode));
    if( sqlite3_stricmp(zMode, "exclusive")==0 ) return SQLITE_OK;
  }
  rc = utilOpenCommitted(db, &pProbe);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(pProbe, "SELECT count(*) FROM main.sqlite_schema",
                            -1, &p, 0);
    if( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      sqlite3_finalize(p);
    }else if( rc==SQLITE_OK ){
      rc = sqlite3_finalize(p);          /* the step's error */
      if( rc==SQLITE_OK ) rc = SQLITE_ERROR;
    }
    if( rc==SQLITE_OK ){
      sqlite3_file_control(pProbe, "main", SQLITE_FCNTL_RESERVE_BYTES, &nProbe);
      *pKeyed = nReserve>=0 && nProbe!=nReserve;
    }else if( (rc & 0xff)==SQLITE_NOTADB ){
      *pKeyed = 1;
      rc = SQLITE_OK;
    }
  }
  sqlite3_close(pProbe);
  return rc==SQLITE_NOMEM ? rc : SQLITE_OK;
}

/*
** Room for element n of a growing array *pa of nAlloc elements of szElem
** bytes, doubling it when full.  SQLITE_NOMEM leaves the array as it was.
*/
/* A NUL-terminated copy of z[0..n): a plain copy, where printf-style
** formatting of a long script costs more. */
char *utilTextDup(const char *z, size_t n){
  char *zOut = sqlite3_malloc64((sqlite3_uint64)n + 1);
  if( zOut ){
    if( n ) memcpy(zOut, z, n);
    zOut[n] = 0;
  }
  return zOut;
}

int utilArrayReserve(void **pa, int *pnAlloc, int n, size_t szElem){
  int nNew;
  void *aNew;
  if( n<*pnAlloc ) return SQLITE_OK;
  nNew = *pnAlloc ? *pnAlloc*2 : 16;
  aNew = sqlite3_realloc64(*pa, (sqlite3_uint64)nNew*szElem);
  if( aNew==0 ) return SQLITE_NOMEM;
  *pa = aNew;
  *pnAlloc = nNew;
  return SQLITE_OK;
}

/*
** Where z[0..n) stops being valid UTF-8: the offset of the first byte that
** does not belong to a well-formed sequence (overlong forms, surrogates and
** code points above U+10FFFF included), or n when all of it is valid.
** SQLite itself takes any bytes as TEXT; migration files and names are
** checked so that a Latin-1 file cannot store broken text.
*/
size_t utilUtf8Invalid(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0;
  while( i<n ){
    unsigned c = z[i];
    size_t len, k;
    unsigned cp, min;
    if( c<0x80 ){
      /* Mostly ASCII: eight bytes at a time while none has its top bit. */
      i++;
      while( n-i>=8 ){
        uint64_t w;
        memcpy(&w, z+i, 8);
        if( w & 0x8080808080808080ull ) break;
        i += 8;
      }
      continue;
    }
    if( c>=0xC2 && c<=0xDF ){ len = 2; cp = c & 0x1F; min = 0x80; }
    else if( c>=0xE0 && c<=0xEF ){ len = 3; cp = c & 0x0F; min = 0x800; }
    else if( c>=0xF0 && c<=0xF4 ){ len = 4; cp = c & 0x07; min = 0x10000; }
    else return i;
    if( n-i<len ) return i;
    for(k=1; k<len; k++){
      if( (z[i+k] & 0xC0)!=0x80 ) return i;
      cp = (cp<<6) | (z[i+k] & 0x3F);
    }
    if( cp<min || cp>0x10FFFF || (cp>=0xD800 && cp<=0xDFFF) ) return i;
    i += len;
  }
  return n;
}

/*
** A pool of strings that never move: they are copied into chunks, each
** allocated once and kept until utilPoolFree, so a listing of ten thousand
** names costs a few allocations instead of ten thousand, and a pointer into
** the pool stays good however much is added after it.
*/
struct PoolChunk {
  struct PoolChunk *pNext;
  size_t nUsed, nSize;
  char a[];
};
#define POOL_CHUNK 16384

/* need bytes of the pool at an address that is a multiple of align: 1, or
** a word (a chunk's a[] follows three words, so a new chunk's is aligned). */
static char *poolTake(StrPool *p, size_t need, size_t align){
  struct PoolChunk *pChunk = p->pHead;
  size_t at;
  if( pChunk ){
    uintptr_t next = (uintptr_t)(pChunk->a + pChunk->nUsed);
    at = pChunk->nUsed + (size_t)((align - (next & (align - 1))) & (align - 1));
    if( at<=pChunk->nSize && pChunk->nSize - at>=need ){
      pChunk->nUsed = at + need;
      return pChunk->a + at;
    }
  }
  {
    /* A string larger than a quarter chunk gets a chunk of its own, put
    ** behind the current one so the space left there is not lost. */
    int own = need > POOL_CHUNK/4;
    size_t nSize = own ? need : POOL_CHUNK;
    struct PoolChunk *pNew = sqlite3_malloc64(sizeof(*pNew) + nSize);
    if( pNew==0 ) return 0;
    pNew->nSize = nSize;
    if( own && pChunk ){
      pNew->pNext = pChunk->pNext;
      pChunk->pNext = pNew;
    }else{
      pNew->pNext = pChunk;
      p->pHead = pNew;
    }
    pNew->nUsed = need;
    return pNew->a;
  }
}

/* A copy of z[0..n) followed by zTail and a NUL; NULL when out of memory. */
char *utilPoolAdd(StrPool *p, const char *z, size_t n, const char *zTail){
  size_t nTail = strlen(zTail);
  char *zOut = poolTake(p, n + nTail + 1, 1);
  if( zOut ){
    memcpy(zOut, z, n);
    memcpy(zOut + n, zTail, nTail + 1);
  }
  return zOut;
}

/* Room for a struct of pointers and sizes (RowTexts). */
void *utilPoolAlloc(StrPool *p, size_t n){
  return poolTake(p, n, sizeof(void*));
}

void utilPoolFree(StrPool *p){
  while( p->pHead ){
    struct PoolChunk *pNext = p->pHead->pNext;
    sqlite3_free(p->pHead);
    p->pHead = pNext;
  }
}

/* One place copies SQLite's error text into an error of ours.  NULL when
** the connection holds no error: the failure was ours, before SQLite was
** reached (no memory for a statement's text), and a message of "not an
** error" would hide that; the caller reports the code. */
char *utilDbErr(sqlite3 *db){
  if( sqlite3_errcode(db)==SQLITE_OK ) return 0;
  return sqlite3_mprintf("%s", sqlite3_errmsg(db));
}

/* sqlite3_exec(), with SQLite's error text in *pzErr unless one is set. */
int utilExec(sqlite3 *db, const char *zSql, char **pzErr){
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if( rc && pzErr && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}

/* The newlines in [zFrom, zTo): how many lines further zTo is. */
int utilCountLines(const char *zFrom, const char *zTo){
  int n = 0;
  for(; zFrom<zTo; zFrom++) if( *zFrom=='\n' ) n++;
  return n;
}

/*
** Are the tables zNames (a quoted SQL list: "'migrate_history',
** 'migrate_log'"), where they exist in main, ordinary tables without
** triggers?  A view or a virtual table of such a name, in a file someone
** else wrote, would run code of that file's choosing when read or written
** (a zipfile table writes files), and a trigger the file's SQL on every row
** migrate writes: it is an error, and none is touched (doc/guarantees.md
** "Hostile database files").
*/
int utilPlainTables(sqlite3 *db, const char *zNames, char **pzErr){
  sqlite3_stmt *p = 0;
  char *zSql = sqlite3_mprintf("SELECT name, type, tbl_name FROM "
      "main.sqlite_schema WHERE (name COLLATE NOCASE IN (%s) AND (type<>'table'"
      " OR sql LIKE 'CREATE VIRTUAL%%')) OR (type='trigger' AND tbl_name"
      " COLLATE NOCASE IN (%s)) LIMIT 1", zNames, zNames);
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &p, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    const char *zType;
    rc = sqlite3_step(p);
    zType = rc==SQLITE_ROW ? (const char*)sqlite3_column_text(p, 1) : 0;
    if( rc==SQLITE_ROW && zType==0 ){
      rc = SQLITE_NOMEM;
    }else if( rc==SQLITE_ROW && strcmp(zType, "trigger")==0 ){
      *pzErr = sqlite3_mprintf("%s has a trigger (%s); migrate does not write "
          "a table with triggers (drop it)",
          (const char*)sqlite3_column_text(p, 2),
          (const char*)sqlite3_column_text(p, 0));
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }else if( rc==SQLITE_ROW ){
      *pzErr = sqlite3_mprintf("%s is a view or a virtual table, not a table "
          "migrate made; migrate does not read or write it (rename it)",
          (const char*)sqlite3_column_text(p, 0));
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }else if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
    }
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}
