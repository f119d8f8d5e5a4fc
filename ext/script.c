/*
** script.c — run one migration script, statement by statement, with SQLite's
** own parser (sqlite3_prepare_v2 and its tail pointer): triggers with
** BEGIN ... END, strings holding ';' and comments all need no splitter of ours.
**
** Errors name the file and the line of the file the failing statement is on
** ("004_add_index.sql:12: no such table: userz").  Inside the call's
** transaction, statements that would take the transaction or the
** connection's settings away from the call are refused before they run.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* One identifier, bare or quoted ("x", [x], `x`, and 'x', which SQLite
** takes as a name where a name is expected: PRAGMA 'x'), copied into zOut. */
static const char *readIdent(const char *z, char *zOut, int nOut){
  int n = 0;
  char close = 0;
  if( *z=='"' ) close = '"';
  else if( *z=='\'' ) close = '\'';
  else if( *z=='[' ) close = ']';
  else if( *z=='`' ) close = '`';
  if( close ){
    z++;
    while( *z && *z!=close ){ if( n<nOut-1 ) zOut[n++] = *z; z++; }
    if( *z ) z++;
  }else{
    while( (*z>='a' && *z<='z') || (*z>='A' && *z<='Z') || (*z>='0' && *z<='9')
        || *z=='_' ){
      if( n<nOut-1 ) zOut[n++] = *z;
      z++;
    }
  }
  zOut[n] = 0;
  return z;
}

/* Keywords are named in upper case in messages, pragma names in lower. */
static void setCase(char *z, int upper){
  for(; *z; z++){
    if( upper && *z>='a' && *z<='z' ) *z -= 32;
    if( !upper && *z>='A' && *z<='Z' ) *z += 32;
  }
}

static int isWord(const char *zWord, const char *const *az){
  for(; *az; az++) if( sqlite3_stricmp(zWord, *az)==0 ) return 1;
  return 0;
}

/* PRAGMAs that may take an argument inside the transaction: they query, or
** they change the database itself (and so roll back with it). */
static const char *const azPragmaOk[] = {
  "table_info", "table_xinfo", "table_list", "index_info", "index_xinfo",
  "index_list", "foreign_key_list", "foreign_key_check", "integrity_check",
  "quick_check", "user_version", "application_id", "optimize",
  "incremental_vacuum", "function_list", "pragma_list", "module_list",
  "collation_list", "database_list", "compile_options", 0
};

/* Of those, the ones that write the database they name: on another schema
** (an attached database, temp) they would change what the call does not
** own, back up or roll back with main. */
static const char *const azPragmaWritesDb[] = {
  "user_version", "application_id", "optimize", "incremental_vacuum", 0
};

/* Settings no migration may change, transaction or not: they cannot be read
** back to be restored, reach beyond this connection, open a hostile schema
** to writes, or (temp_store) delete the connection's TEMP tables. */
static const char *const azPragmaNever[] = {
  "writable_schema", "case_sensitive_like", "locking_mode", "soft_heap_limit",
  "hard_heap_limit", "temp_store_directory", "data_store_directory",
  "temp_store", 0
};

static const char *const azTxnWords[] = {
  "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", 0
};

/* Is zTable the parent of any foreign key in main?  A schema that cannot
** be read is an error: "no" would let the DROP fire ON DELETE actions. */
static int isParentTable(sqlite3 *db, const char *zTable, int *pFound){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM main.sqlite_schema s,"
        " pragma_foreign_key_list(s.name, 'main') f WHERE s.type='table'"
        " AND f.\"table\"=?1 COLLATE NOCASE LIMIT 1", -1, &p, 0);
  *pFound = 0;
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zTable, -1, SQLITE_STATIC);
    rc = sqlite3_step(p);
    *pFound = rc==SQLITE_ROW;
    if( rc==SQLITE_ROW || rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  return rc;
}

/*
** Why a statement may not run where it is about to, or NULL.  Everything
** else is left to SQLite.  *pRc: an error that stopped the judging.
*/
static char *refusal(sqlite3 *db, const char *zStmt, int flags, int *pRc){
  char zWord[32], zName[256];
  int isParent = 0;
  int inTxn = (flags & SCRIPT_IN_TXN)!=0;
  const char *z = readIdent(sqlSkipSpace(zStmt), zWord, sizeof(zWord));
  if( sqlite3_stricmp(zWord, "EXPLAIN")==0 ){
    /* EXPLAIN PRAGMA x=1 still applies the PRAGMA while it is prepared. */
    z = readIdent(sqlSkipSpace(z), zWord, sizeof(zWord));
    if( sqlite3_stricmp(zWord, "QUERY")==0 ){
      z = readIdent(sqlSkipSpace(z), zWord, sizeof(zWord));   /* PLAN */
      z = readIdent(sqlSkipSpace(z), zWord, sizeof(zWord));
    }
  }
  if( sqlite3_stricmp(zWord, "VACUUM")==0 ){
    /* SQLite refuses VACUUM while any other statement runs, and the SELECT
    ** that called us is running: say so instead of its generic message. */
    return sqlite3_mprintf("VACUUM cannot run inside a migration (SQLite "
      "refuses it while the statement that called migrate is running); run "
      "VACUUM after the call returns");
  }
  if( sqlite3_stricmp(zWord, "PRAGMA")==0 ){
    char zSchema[256];
    zSchema[0] = 0;
    z = readIdent(sqlSkipSpace(z), zName, sizeof(zName));
    z = sqlSkipSpace(z);
    if( *z=='.' ){
      memcpy(zSchema, zName, sizeof(zSchema));
      z = sqlSkipSpace(readIdent(sqlSkipSpace(z+1), zName, sizeof(zName)));
    }
    setCase(zName, 0);
    if( isWord(zName, azPragmaNever) && (*z=='=' || *z=='(') ){
      return sqlite3_mprintf("PRAGMA %s is refused in migrations", zName);
    }
    if( zSchema[0] && sqlite3_stricmp(zSchema, "main")!=0
     && (*z=='=' || *z=='(')
     && (!isWord(zName, azPragmaOk) || isWord(zName, azPragmaWritesDb)) ){
      /* Only main's settings are read before the call and put back after,
      ** and only main is the call's to change. */
      return sqlite3_mprintf("PRAGMA %s.%s is refused in migrations: a "
        "migration may change the settings of main only", zSchema, zName);
    }
    if( !inTxn || (*z!='=' && *z!='(') || isWord(zName, azPragmaOk) ) return 0;
    if( sqlite3_stricmp(zName, "foreign_keys")==0
     || sqlite3_stricmp(zName, "defer_foreign_keys")==0 ){
      /* Whole, they are skipped (scriptAbsorbed).  One that is not whole
      ** ("PRAGMA foreign_keys=OFF" whose ';' was forgotten) goes to SQLite,
      ** whose parse says what is wrong; SQLite ignores foreign_keys inside
      ** a transaction, and the call puts defer_foreign_keys back after. */
      return 0;
    }
    return sqlite3_mprintf("PRAGMA %s changes a connection setting, which is "
      "refused inside the migration's transaction (mark the migration "
      "transaction:false to run it outside one)", zName);
  }
  if( sqlite3_stricmp(zWord, "ATTACH")==0 || sqlite3_stricmp(zWord, "DETACH")==0 ){
    /* An attached database would outlive the call, and detaching one the
    ** application attached would change its connection. */
    setCase(zWord, 1);
    return sqlite3_mprintf("%s is refused in migrations: the connection must "
                           "be the same after the call", zWord);
  }
  if( inTxn && isWord(zWord, azTxnWords) ){
    /* Is it a transaction statement at all?  "BEGIN" whose ';' was
    ** forgotten runs into the next statement: SQLite's parse says what is
    ** wrong (preparing one applies nothing, unlike some PRAGMAs). */
    sqlite3_stmt *pTry = 0;
    if( sqlite3_prepare_v2(db, zStmt, -1, &pTry, 0)!=SQLITE_OK ){
      *pRc = sqlite3_errcode(db);
      return 0;
    }
    sqlite3_finalize(pTry);
    setCase(zWord, 1);
    return sqlite3_mprintf("%s is refused: the migration runs inside the call's "
      "transaction (mark it transaction:false to manage transactions yourself)",
      zWord);
  }
  if( (flags & SCRIPT_FK_LIVE) && sqlite3_stricmp(zWord, "DROP")==0 ){
    /* Foreign keys are enforced and cannot be turned off here: dropping a
    ** parent table runs an implicit DELETE that fires ON DELETE actions
    ** (CASCADE deletes the children's rows). */
    z = readIdent(sqlSkipSpace(z), zWord, sizeof(zWord));
    if( sqlite3_stricmp(zWord, "TABLE")!=0 ) return 0;
    z = readIdent(sqlSkipSpace(z), zName, sizeof(zName));
    if( sqlite3_stricmp(zName, "IF")==0 ){
      z = readIdent(sqlSkipSpace(z), zWord, sizeof(zWord));      /* EXISTS */
      z = readIdent(sqlSkipSpace(z), zName, sizeof(zName));
    }
    z = sqlSkipSpace(z);
    if( *z=='.' ) readIdent(sqlSkipSpace(z+1), zName, sizeof(zName));
    *pRc = isParentTable(db, zName, &isParent);
    if( *pRc || !isParent ) return 0;
    return sqlite3_mprintf("DROP TABLE %s inside your own transaction with "
      "foreign_keys on would fire its ON DELETE actions (SQLite cannot turn "
      "foreign keys off inside a transaction); call migrate outside BEGIN ... "
      "COMMIT so it can run the foreign-key procedure", zName);
  }
  return 0;
}

/*
** golang-migrate and hand-written folders often wrap each file in its own
** transaction and the foreign-key dance of SQLite's 12-step rebuild:
**
**   PRAGMA foreign_keys=OFF; BEGIN; ... COMMIT; PRAGMA foreign_keys=ON;
**
** and Prisma, Drizzle and hand-written rebuilds put the PRAGMA lines (and
** PRAGMA defer_foreign_keys) around each rebuild in the middle of a file.
** Inside the call's transaction all of that asks for what migrate already
** does around the call (foreign keys off before BEGIN, foreign_key_check
** before COMMIT, the settings restored), so it is skipped:
**
**   - a leading BEGIN, and the matching trailing COMMIT/END: the body runs
**     in the call's transaction; a BEGIN in the middle, or a COMMIT with no
**     BEGIN at the start, is still refused (doc/guarantees.md "Atomic");
**   - PRAGMA foreign_keys = <value>, anywhere: SQLite ignores it inside a
**     transaction, so running it would do nothing either.  Inside the
**     caller's transaction with foreign keys on, enforcement stays on
**     whatever the line says: the DROP TABLE refusal below still guards;
**   - PRAGMA defer_foreign_keys = <value>, anywhere: what it asks (violations
**     counted at the end, not raised statement by statement) is what the
**     call's check before commit does.  It is skipped rather than run
**     because inside the caller's transaction the call has turned it on
**     itself, and a script's OFF would undo that for the rest of the call.
**
** Running wrapped files outside a transaction instead would give up the
** atomicity and the foreign-key check they were written to get.
*/
#define WRAP_NONE   0
#define WRAP_BEGIN  1
#define WRAP_COMMIT 2
#define WRAP_FK_OFF 3
#define WRAP_FK_ON  4
#define WRAP_DEFER  5   /* defer_foreign_keys, any value */

/* A bare keyword or name at z (no quotes: a quoted "BEGIN" is a name, and
** SQLite's parser, not this one, says what it means). */
static const char *readWord(const char *z, char *zOut, int nOut){
  if( *z=='"' || *z=='\'' || *z=='[' || *z=='`' ){
    zOut[0] = 0;
    return z;
  }
  return readIdent(z, zOut, nOut);
}

/*
** Which wrapper statement starts at zStmt, if the whole statement is one:
** BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION [name]],
** COMMIT|END [TRANSACTION [name]], or PRAGMA [schema.]foreign_keys or
** defer_foreign_keys with one value, followed by nothing but blanks and
** comments up to ';' or the end of the text.  *pzEnd is set past that ';'.
** Anything else is WRAP_NONE and goes to SQLite whole, so a statement that
** merely starts like a wrapper ("BEGIN" with its ';' forgotten, the next
** statement behind it) is SQLite's syntax error, never skipped
** (doc/guarantees.md "Atomic").
*/
static int wrapperKind(const char *zStmt, const char **pzEnd){
  char zWord[32], zName[32];
  const char *z = readWord(sqlSkipSpace(zStmt), zWord, sizeof(zWord));
  int kind = WRAP_NONE;
  z = sqlSkipSpace(z);
  if( sqlite3_stricmp(zWord, "BEGIN")==0 ){
    const char *zAfter = readWord(z, zWord, sizeof(zWord));
    if( isWord(zWord, (const char *const[]){"DEFERRED", "IMMEDIATE",
                                            "EXCLUSIVE", 0}) ){
      z = sqlSkipSpace(zAfter);
    }
    kind = WRAP_BEGIN;
  }else if( sqlite3_stricmp(zWord, "COMMIT")==0
         || sqlite3_stricmp(zWord, "END")==0 ){
    kind = WRAP_COMMIT;
  }
  if( kind!=WRAP_NONE ){
    const char *zAfter = readWord(z, zWord, sizeof(zWord));
    if( sqlite3_stricmp(zWord, "TRANSACTION")==0 ){
      z = sqlSkipSpace(zAfter);
      if( *z && *z!=';' ) z = sqlSkipSpace(readIdent(z, zName, sizeof(zName)));
    }
  }else if( sqlite3_stricmp(zWord, "PRAGMA")==0 ){
    char close = 0;
    const char *zValue;
    z = sqlSkipSpace(readIdent(z, zName, sizeof(zName)));
    if( *z=='.' ) z = sqlSkipSpace(readIdent(sqlSkipSpace(z+1), zName, sizeof(zName)));
    if( (sqlite3_stricmp(zName, "foreign_keys")!=0
         && sqlite3_stricmp(zName, "defer_foreign_keys")!=0)
     || (*z!='=' && *z!='(') ){
      return WRAP_NONE;
    }
    if( *z=='(' ) close = ')';
    z = sqlSkipSpace(z+1);
    if( *z=='-' || *z=='+' ) z++;          /* PRAGMA foreign_keys = -1 */
    zValue = z;
    z = sqlSkipSpace(readIdent(z, zWord, sizeof(zWord)));
    if( z==zValue ) return WRAP_NONE;      /* no value, or not one token */
    if( sqlite3_stricmp(zName, "defer_foreign_keys")==0 ){
      kind = WRAP_DEFER;
    }else if( isWord(zWord, (const char *const[]){"on", "1", "true", "yes", 0}) ){
      kind = WRAP_FK_ON;
    }else{
      kind = WRAP_FK_OFF;   /* SQLite ignores either inside a transaction */
    }
    if( close ){
      if( *z!=close ) return WRAP_NONE;
      z = sqlSkipSpace(z+1);
    }
  }
  if( kind==WRAP_NONE || (*z && *z!=';') ) return WRAP_NONE;
  if( pzEnd ) *pzEnd = *z ? z+1 : z;
  return kind;
}

/* Is everything from z on a wrapper's tail (COMMIT, the PRAGMAs)? */
static int onlyTrailerLeft(const char *z){
  while( *(z = sqlSkipSpace(z)) ){
    int k;
    if( *z==';' ){ z++; continue; }
    k = wrapperKind(z, &z);
    if( k==WRAP_NONE || k==WRAP_BEGIN ) return 0;
  }
  return 1;
}

/* Why a statement is skipped, for the trace (doc/reference.md "trace"). */
static const char *absorbedWhy(int kind){
  switch( kind ){
    case WRAP_BEGIN: case WRAP_COMMIT:
      return "the migration runs in the call's transaction";
    case WRAP_DEFER:
      return "the call checks foreign keys before it commits";
    default:
      return "SQLite ignores it inside a transaction; the call turns foreign "
             "keys off around its transaction if it can, and checks them "
             "before it commits";
  }
}

/* Skip this statement?  *pLeading is cleared by the first statement that is
** neither a skipped one nor blank; a skipped BEGIN sets WRAP_BEGIN in
** *pSeen: only then is the matching COMMIT at the end skipped too.  The
** PRAGMAs are skipped wherever they are.  Returns the wrapper kind, or 0. */
int scriptAbsorbed(const char *zStmt, const char *zAfter, int flags,
                   int *pLeading, int *pSeen){
  int k;
  if( !(flags & SCRIPT_IN_TXN) ) return 0;
  k = wrapperKind(zStmt, 0);
  if( k==WRAP_NONE ){
    if( *sqlSkipSpace(zStmt) ) *pLeading = 0;
    return 0;
  }
  if( k==WRAP_FK_OFF || k==WRAP_FK_ON || k==WRAP_DEFER ) return k;
  if( k==WRAP_BEGIN ){
    if( *pLeading && !(*pSeen & (1<<k)) ){
      *pSeen |= 1<<k;
      return k;
    }
    *pLeading = 0;
    return 0;
  }
  *pLeading = 0;
  if( *pSeen & (1<<WRAP_BEGIN) ) return onlyTrailerLeft(zAfter) ? k : 0;
  return 0;
}

/* One line of the trace for a skipped statement, appended to *pzNotes:
** the statement with its blanks collapsed (it is short: one PRAGMA, BEGIN
** or COMMIT, and perhaps a comment). */
static int noteSkipped(char **pzNotes, const char *zFile, int line,
                       const char *zStmt, const char *zEnd, int kind){
  char *zText = sqlite3_malloc64((zEnd - zStmt) + 1);
  char *zNew;
  int n = 0, blank = 0;
  const char *z;
  if( zText==0 ) return SQLITE_NOMEM;
  for(z=zStmt; z<zEnd; z++){
    if( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' || *z=='\f' ){
      blank = 1;
      continue;
    }
    if( blank && n>0 ) zText[n++] = ' ';
    blank = 0;
    zText[n++] = *z;
  }
  while( n>0 && (zText[n-1]==';' || zText[n-1]==' ') ) n--;
  zText[n] = 0;
  zNew = sqlite3_mprintf("%z%s:%d: skipped %s (%s)\n", *pzNotes, zFile, line,
                         zText, absorbedWhy(kind));
  sqlite3_free(zText);
  *pzNotes = zNew;
  return zNew ? SQLITE_OK : SQLITE_NOMEM;
}

/*
** Containment (doc/guarantees.md "Hostile database files"): a migration
** script is SQL from a folder, an application's rows or a database file's
** history, and it runs on the application's own connection, where SQLite
** applies no DIRECTONLY protection (that guards triggers and views, not
** statements prepared directly).  So, whatever the connection allows, no
** script may load code or touch files through the functions that do so in
** SQLite and its shell, nor create a TEMP trigger or view (the TEMP schema
** is trusted by SQLite: such an object would outlive the call and run
** those functions for the application later).  migrate's own functions
** refuse to run inside a call of theirs (callGuard), so they need no entry.
*/
static const char *const azCodeOrFiles[] = {
  "load_extension", "fts3_tokenizer",           /* load code, set pointers */
  "readfile", "writefile", "edit",             /* the sqlite3 shell's files */
  "fsdir", "zipfile", 0                        /* its file-system tables */
};
/* Tables (fsdir, zipfile) can be read without a '(' too: WHERE name = ... */
static const char *const azFileTables[] = { "fsdir", "zipfile", 0 };

/* Names that follow these words name an object of the schema, not a
** function: CREATE TABLE x(...), INSERT INTO x(...), REFERENCES x(...). */
static const char *const azObjectWords[] = {
  "TABLE", "INTO", "REFERENCES", "VIEW", "INDEX", "TRIGGER", "EXISTS", "WITH",
  "RECURSIVE", 0
};

static int tokIsWordOf(const SqlTok *t, const char *const *az){
  char zName[32];
  if( t->kind!=SQLTOK_WORD && t->kind!=SQLTOK_QUOTED ) return 0;
  sqlTokName(t, zName, sizeof(zName));
  return isWord(zName, az);
}

/*
** Why the statement zStmt..zEnd (already prepared: SQLite has said where it
** ends, and preparing runs nothing) may not run, or NULL; *pzAt is where.
*/
static char *uncontained(const char *zStmt, const char *zEnd, const char **pzAt){
  SqlTok t, prev, before;
  const char *z = zStmt;
  prev.kind = before.kind = SQLTOK_END;
  while( (z = sqlNextTok(z, zEnd, &t)), t.kind!=SQLTOK_END ){
    if( (t.kind==SQLTOK_WORD || t.kind==SQLTOK_QUOTED)
     && tokIsWordOf(&t, azCodeOrFiles) ){
      SqlTok next;
      char zName[32];
      int isObject = tokIsWordOf(&prev, azObjectWords)
                  || (sqlTokPunct(&prev, '.') && tokIsWordOf(&before, azObjectWords));
      sqlNextTok(z, zEnd, &next);
      if( !isObject && (sqlTokPunct(&next, '(') || tokIsWordOf(&t, azFileTables)) ){
        sqlTokName(&t, zName, sizeof(zName));
        setCase(zName, 0);
        *pzAt = t.z;
        return sqlite3_mprintf("%s is refused in migrations: a migration may "
            "not load code or touch files", zName);
      }
    }
    before = prev;
    prev = t;
  }
  return 0;
}

/*
** CREATE TEMP|TEMPORARY TRIGGER|VIEW, or CREATE TRIGGER|VIEW [IF NOT EXISTS]
** temp.x: a TEMP trigger or view, which would outlive the call.
*/
static char *tempObject(const char *zStmt, const char *zEnd, const char **pzAt){
  SqlTok t, kind, name, dot;
  const char *z = sqlNextTok(zStmt, zEnd, &t);
  int isTemp = 0;
  char zSchema[16];
  if( !sqlTokIs(&t, "CREATE") ) return 0;
  z = sqlNextTok(z, zEnd, &kind);
  if( sqlTokIs(&kind, "TEMP") || sqlTokIs(&kind, "TEMPORARY") ){
    isTemp = 1;
    z = sqlNextTok(z, zEnd, &kind);
  }
  if( !sqlTokIs(&kind, "TRIGGER") && !sqlTokIs(&kind, "VIEW") ) return 0;
  z = sqlNextTok(z, zEnd, &name);
  if( sqlTokIs(&name, "IF") ){                 /* IF NOT EXISTS name */
    z = sqlNextTok(sqlNextTok(z, zEnd, &name), zEnd, &name);
    z = sqlNextTok(z, zEnd, &name);
  }
  sqlNextTok(z, zEnd, &dot);
  sqlTokName(&name, zSchema, sizeof(zSchema));
  if( !isTemp && !(sqlTokPunct(&dot, '.') && sqlite3_stricmp(zSchema, "temp")==0) ){
    return 0;
  }
  *pzAt = kind.z;
  return sqlite3_mprintf("CREATE TEMP %.*s is refused in migrations: it "
      "would stay on the connection after the call", kind.n, kind.z);
}

/*
** The refused names and "pragma", looked for once in the whole text: a
** script that holds no refused name anywhere runs with SCRIPT_CLEAR, and
** none of its statements is read token by token for them.
*/
#define N_REFUSED (sizeof(azCodeOrFiles)/sizeof(azCodeOrFiles[0]) - 1)
_Static_assert(N_REFUSED + 1 <= 16, "a NameSet holds 16 names");

unsigned scriptMentions(const Script *pScr){
  const char *azLooked[N_REFUSED + 2];   /* the refused names, then "pragma" */
  NameSet set;
  unsigned found;
  memcpy(azLooked, azCodeOrFiles, N_REFUSED * sizeof(azLooked[0]));
  azLooked[N_REFUSED] = "pragma";
  azLooked[N_REFUSED + 1] = 0;
  utilNameSetInit(&set, azLooked);
  found = utilNameSetFind(&set, pScr->z, pScr->z + pScr->n);
  return ((found >> N_REFUSED) & 1 ? SCRIPT_MENTIONS_PRAGMA : 0)
       | (found & ((1u<<N_REFUSED) - 1) ? SCRIPT_MENTIONS_REFUSED : 0);
}

/* The same judgement, for a check that reads a script without running it. */
char *scriptRefusal(sqlite3 *db, const char *zStmt, int flags){
  int rc = SQLITE_OK;   /* a judging that could not finish reports nothing */
  return refusal(db, zStmt, flags, &rc);
}

int scriptRun(sqlite3 *db, const Script *pScr, int flags, const char *zFile,
              char **pzErr, ForceRollback *pForce, char **pzNotes)
{
  /* A NUL-terminated copy: with a byte count, prepare would copy the whole
  ** remaining text for every statement. */
  char *zSql = utilTextDup(pScr->z, pScr->n);
  const char *zTail;
  const char *zLineAt;     /* line is the file line of this position */
  int line = pScr->line;
  int rc = SQLITE_OK;
  int leading = 1, seen = 0;   /* see scriptAbsorbed() */

  if( zSql==0 ) return SQLITE_NOMEM;
  /* Most scripts name none of the refused names anywhere: then no token
  ** can be one, and no statement is read token by token for them. */
  if( (flags & SCRIPT_CLEAR)==0
   && (scriptMentions(pScr) & SCRIPT_MENTIONS_REFUSED)==0 ){
    flags |= SCRIPT_CLEAR;
  }
  {
    /* SQLite reads text up to its first NUL: the rest would be skipped
    ** without a word.  A file holding one is refused when it is read; a
    ** stored script or a row's text meets this check. */
    const char *zNul = memchr(pScr->z, 0, pScr->n);
    if( zNul ){
      *pzErr = sqlite3_mprintf("%s:%d: contains a NUL byte", zFile,
          line + utilCountLines(pScr->z, zNul));
      sqlite3_free(zSql);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  zTail = zLineAt = zSql;
  while( rc==SQLITE_OK && *zTail ){
    sqlite3_stmt *pStmt = 0;
    const char *zStart = zTail;
    const char *zNext = 0;
    const char *zEnd = 0;
    char *zWhy;
    /* Prepare skips empty statements (";;"): the judge must too, or the
    ** statement behind one would run unjudged. */
    while( *(zStart = sqlSkipSpace(zStart))==';' ) zStart++;
    if( wrapperKind(zStart, &zEnd)!=WRAP_NONE ){
      int kind = scriptAbsorbed(zStart, zEnd, flags, &leading, &seen);
      if( kind ){
        if( pzNotes ){
          line += utilCountLines(zLineAt, zStart);
          zLineAt = zStart;
          rc = noteSkipped(pzNotes, zFile, line, zStart, zEnd, kind);
        }
        zTail = zEnd;
        continue;
      }
    }else if( *sqlSkipSpace(zStart) ){
      leading = 0;
    }
    /* Judged before prepare: SQLite applies some PRAGMAs (writable_schema
    ** and the other on/off flags) while it prepares them. */
    zWhy = refusal(db, zStart, flags, &rc);
    if( rc ){
      /* A statement the judge prepared: SQLite's error offset names the
      ** line, as for any statement below. */
      int off = sqlite3_error_offset(db);
      if( off<0 || (size_t)off>strlen(zStart) ) off = -1;
      line += utilCountLines(zLineAt, off>=0 ? zStart+off : sqlSkipSpace(zStart));
      if( rc!=SQLITE_NOMEM ){
        *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, sqlite3_errmsg(db));
      }
      break;
    }
    if( zWhy ){
      line += utilCountLines(zLineAt, sqlSkipSpace(zStart));
      *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, zWhy);
      sqlite3_free(zWhy);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      break;
    }
    rc = sqlite3_prepare_v2(db, zStart, -1, &pStmt, &zNext);
    if( rc!=SQLITE_OK ){
      int off = sqlite3_error_offset(db);
      const char *zAt = off>=0 ? zStart+off : sqlSkipSpace(zStart);
      line += utilCountLines(zLineAt, zAt);
      *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, sqlite3_errmsg(db));
      break;
    }
    if( pStmt==0 ) break;  /* only blanks and comments were left */
    {
      const char *zAt = 0;
      zWhy = (flags & SCRIPT_CLEAR) ? 0 : uncontained(zStart, zNext, &zAt);
      if( zWhy==0 ) zWhy = tempObject(zStart, zNext, &zAt);
      if( zWhy ){
        sqlite3_finalize(pStmt);
        line += utilCountLines(zLineAt, zAt);
        *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, zWhy);
        sqlite3_free(zWhy);
        rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
        break;
      }
    }
    zTail = zNext;
    while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){}
    if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
      if( pForce ){
        /* Schema changes can expire every prepared statement, the one that
        ** gets the call out of an interrupted transaction too (txn.c). */
        SqlTok t;
        sqlNextTok(zStart, zTail, &t);
        if( sqlTokIs(&t, "CREATE") || sqlTokIs(&t, "DROP") || sqlTokIs(&t, "ALTER") ){
          utilForceArm(db, pForce);
        }
      }
    }else{
      line += utilCountLines(zLineAt, sqlSkipSpace(zStart));
      *pzErr = sqlite3_mprintf("%s:%d: %s", zFile, line, sqlite3_errmsg(db));
    }
    sqlite3_finalize(pStmt);
  }
  sqlite3_free(zSql);
  if( rc==SQLITE_OK && *pzErr==0 && !(flags & SCRIPT_IN_TXN)
   && !sqlite3_get_autocommit(db) ){
    /* A transaction:false script must not leave its own transaction open. */
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    *pzErr = sqlite3_mprintf("%s: the script left a transaction open "
                             "(it was rolled back)", zFile);
    rc = SQLITE_ERROR;
  }
  return rc;
}
