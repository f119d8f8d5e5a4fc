/*
** format.c — split one migration file's text into its up and down scripts.
**
** Pure: bytes in, byte ranges out, no I/O, no SQLite calls beyond
** sqlite3_mprintf for error texts.  Recognised markers, each at the start of
** a line:
**
**   -- migrate:up [key:value ...]      -- migrate:down [key:value ...]
**   -- migrate:verify
**   -- +goose Up    -- +goose Down     -- +goose NO TRANSACTION
**
** A verify section (after the up, before or after the down, or a folder's
** verify.sql) is not a script of the migration: it is run by verify.c and
** never stored.
** A file with no markers at all is a plain up-only script.  In the formats
** where a whole file is one script (NNN_x.up.sql, up.sql, V1__x.sql) the file
** may begin with its own marker line to carry options.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

#define MK_NONE     0
#define MK_UP       1
#define MK_DOWN     2
#define MK_NOTXN    3   /* goose NO TRANSACTION */
#define MK_OTHER    4   /* goose StatementBegin and the like: a comment to us */
#define MK_VERIFY   5   /* migrate:verify: what must hold after the up */

typedef struct Line {
  size_t start, end;   /* [start,end) without the line break */
  size_t next;         /* start of the following line */
  int no;              /* 1-based line number */
} Line;

typedef struct Marker {
  int kind;            /* MK_* */
  int goose;           /* goose family, else migrate family */
  size_t optOff, optLen;  /* the rest of the line, for options */
} Marker;

static int isBlank(char c){ return c==' ' || c=='\t' || c=='\r'; }

static int nextLine(const char *z, size_t n, Line *pLine){
  size_t i = pLine->next;
  if( i>=n ) return 0;
  pLine->start = i;
  {
    const char *zEol = memchr(z+i, '\n', n-i);
    i = zEol ? (size_t)(zEol-z) : n;
  }
  pLine->end = i;
  pLine->next = i<n ? i+1 : n;
  pLine->no++;
  /* A CRLF file keeps its \r out of the marker text. */
  if( pLine->end>pLine->start && z[pLine->end-1]=='\r' ) pLine->end--;
  return 1;
}

/* Does z[i..end) start with word w, followed by the end or a blank? */
static int wordAt(const char *z, size_t i, size_t end, const char *w, int nocase){
  size_t n = strlen(w);
  if( end-i<n ) return 0;
  if( nocase ? sqlite3_strnicmp(z+i, w, (int)n)!=0 : memcmp(z+i, w, n)!=0 ) return 0;
  return i+n==end || isBlank(z[i+n]);
}

static size_t skipBlanks(const char *z, size_t i, size_t end){
  while( i<end && isBlank(z[i]) ) i++;
  return i;
}

/*
** Markers are read leniently — indented, any letter case — because a marker
** that is not recognised is worse than a strict one: its down script would
** silently run as part of the up script.
*/
static void readMarker(const char *z, const Line *pL, Marker *pM){
  size_t i = skipBlanks(z, pL->start, pL->end), end = pL->end;
  memset(pM, 0, sizeof(*pM));
  if( end-i<2 || z[i]!='-' || z[i+1]!='-' ) return;
  i = skipBlanks(z, i+2, end);
  if( end-i>=8 && sqlite3_strnicmp(z+i, "migrate", 7)==0
   && skipBlanks(z, i+7, end)<end && z[skipBlanks(z, i+7, end)]==':' ){
    /* "migrate:up", also spelled "migrate: up" or "migrate : up" */
    size_t j = skipBlanks(z, skipBlanks(z, i+7, end)+1, end);
    if( wordAt(z, j, end, "up", 1) ){
      pM->kind = MK_UP;
      i = j+2;
    }else if( wordAt(z, j, end, "down", 1) ){
      pM->kind = MK_DOWN;
      i = j+4;
    }else if( wordAt(z, j, end, "verify", 1) ){
      pM->kind = MK_VERIFY;
      i = j+6;
    }else{
      return;
    }
  }else if( wordAt(z, i, end, "+goose", 1) ){
    pM->goose = 1;
    i = skipBlanks(z, i+6, end);
    if( wordAt(z, i, end, "Up", 1) ) pM->kind = MK_UP;
    else if( wordAt(z, i, end, "Down", 1) ) pM->kind = MK_DOWN;
    else if( wordAt(z, i, end, "NO", 1)
          && wordAt(z, skipBlanks(z, i+2, end), end, "TRANSACTION", 1) ){
      pM->kind = MK_NOTXN;
    }else{
      pM->kind = MK_OTHER;
    }
    i = end;
  }else{
    return;
  }
  pM->optOff = i;
  pM->optLen = end-i;
}

/* key:value options of one marker line; only transaction:true|false. */
static int readOptions(const char *z, const Marker *pM, int lineNo,
                       Section *pSec, int *pErrLine, char **pzErr){
  size_t i = pM->optOff, end = pM->optOff + pM->optLen;
  while( 1 ){
    size_t s;
    i = skipBlanks(z, i, end);
    if( i>=end ) break;
    s = i;
    while( i<end && !isBlank(z[i]) ) i++;
    if( i-s==17 && memcmp(z+s, "transaction:false", 17)==0 ){
      pSec->noTxn = 1;
    }else if( i-s==16 && memcmp(z+s, "transaction:true", 16)==0 ){
      pSec->noTxn = 0;
    }else{
      *pErrLine = lineNo;
      *pzErr = sqlite3_mprintf("unknown option '%.*s' "
                               "(known: transaction:false, transaction:true)",
                               (int)(i-s), z+s);
      return SQLITE_ERROR;
    }
    pSec->hasOptions = 1;
  }
  return SQLITE_OK;
}

/* Only blanks and comments in z[a,b)?  Returns the offset of the first SQL. */
static size_t firstSql(const char *z, size_t a, size_t b){
  size_t i = a;
  while( i<b ){
    char c = z[i];
    if( c==' ' || c=='\t' || c=='\r' || c=='\n' || c=='\f' || c=='\v' ){
      i++;
    }else if( c=='-' && i+1<b && z[i+1]=='-' ){
      while( i<b && z[i]!='\n' ) i++;
    }else if( c=='/' && i+1<b && z[i+1]=='*' ){
      i += 2;
      while( i+1<b && !(z[i]=='*' && z[i+1]=='/') ) i++;
      i = i+1<b ? i+2 : b;
    }else{
      return i;
    }
  }
  return b;
}

static int lineOf(const char *z, size_t off){
  int n = 1;
  const char *p = z, *zEnd = z+off;
  while( (p = memchr(p, '\n', (size_t)(zEnd-p)))!=0 ){ n++; p++; }
  return n;
}

static void setBody(const char *z, Section *pSec, size_t markerOff,
                    size_t bodyOff, size_t bodyEnd){
  pSec->present = 1;
  pSec->markerOff = markerOff;
  pSec->off = bodyOff;
  pSec->len = bodyEnd - bodyOff;
  pSec->line = lineOf(z, bodyOff);
}

static const char *markerName(int kind, int goose){
  if( goose ) return kind==MK_UP ? "-- +goose Up" : "-- +goose Down";
  if( kind==MK_VERIFY ) return "-- migrate:verify";
  return kind==MK_UP ? "-- migrate:up" : "-- migrate:down";
}

/* Where the section whose marker is on line `from` ends: at the next of the
** other markers after it, or at the end of the file. */
static size_t sectionEnd(size_t n, size_t from, const Line *a, int nLine){
  size_t end = n;
  int i;
  for(i=0; i<nLine; i++){
    if( a[i].start>from && a[i].start<end ) end = a[i].start;
  }
  return end;
}

/* NNN_name.sql: markers inside one file, or none (plain up-only). */
static int splitMarked(const char *z, size_t n, size_t bom, Sections *pOut,
                       int *pErrLine, char **pzErr){
  Line L;
  Marker m;
  Line upLine, downLine, verifyLine, aMark[3];
  int nUp = 0, nDown = 0, nVerify = 0, noTxn = 0, goose = -1, nMark = 0;
  size_t sqlAt;

  memset(&L, 0, sizeof(L));
  memset(&upLine, 0, sizeof(upLine));
  memset(&downLine, 0, sizeof(downLine));
  memset(&verifyLine, 0, sizeof(verifyLine));
  L.next = bom;
  while( nextLine(z, n, &L) ){
    readMarker(z, &L, &m);
    if( m.kind==MK_NONE || m.kind==MK_OTHER ) continue;
    if( goose>=0 && goose!=m.goose ){
      *pErrLine = L.no;
      *pzErr = sqlite3_mprintf("mixes '-- migrate:' and '-- +goose' markers");
      return SQLITE_ERROR;
    }
    goose = m.goose;
    if( m.kind==MK_NOTXN ){ noTxn = 1; continue; }
    if( m.kind==MK_VERIFY ){
      if( nVerify++ ){
        *pErrLine = L.no;
        *pzErr = sqlite3_mprintf("a second '-- migrate:verify' marker (the "
                                 "first is on line %d)", verifyLine.no);
        return SQLITE_ERROR;
      }
      if( nUp==0 ){
        *pErrLine = L.no;
        *pzErr = sqlite3_mprintf("'-- migrate:verify' comes before "
                                 "'-- migrate:up'; the up section must come "
                                 "first");
        return SQLITE_ERROR;
      }
      if( m.optLen>0 && skipBlanks(z, m.optOff, m.optOff+m.optLen)<m.optOff+m.optLen ){
        *pErrLine = L.no;
        *pzErr = sqlite3_mprintf("the '-- migrate:verify' marker takes no "
                                 "options");
        return SQLITE_ERROR;
      }
      verifyLine = L;
      continue;
    }
    if( m.kind==MK_UP ){
      if( nUp++ ){
        *pErrLine = L.no;
        *pzErr = sqlite3_mprintf("a second '%s' marker (the first is on "
                                 "line %d)", markerName(MK_UP, goose), upLine.no);
        return SQLITE_ERROR;
      }
      if( nDown ){
        *pErrLine = L.no;
        *pzErr = sqlite3_mprintf("'%s' comes after '%s' (line %d); "
                                 "the up section must come first",
                                 markerName(MK_UP, goose),
                                 markerName(MK_DOWN, goose), downLine.no);
        return SQLITE_ERROR;
      }
      upLine = L;
      if( readOptions(z, &m, L.no, &pOut->up, pErrLine, pzErr) ) return SQLITE_ERROR;
    }else{
      if( nDown++ ){
        *pErrLine = L.no;
        *pzErr = sqlite3_mprintf("a second '%s' marker (the first is on "
                                 "line %d)", markerName(MK_DOWN, goose),
                                 downLine.no);
        return SQLITE_ERROR;
      }
      downLine = L;
      if( readOptions(z, &m, L.no, &pOut->down, pErrLine, pzErr) ) return SQLITE_ERROR;
    }
  }

  if( goose<0 || (nUp==0 && nDown==0) ){
    /* No markers: the whole file is the up script (sqlx up-only, plain). */
    setBody(z, &pOut->up, bom, bom, n);
    pOut->up.noTxn = noTxn;
    return SQLITE_OK;
  }
  if( nUp==0 ){
    *pErrLine = downLine.no;
    *pzErr = sqlite3_mprintf("has a '%s' marker but no '%s' marker",
                             markerName(MK_DOWN, goose), markerName(MK_UP, goose));
    return SQLITE_ERROR;
  }
  sqlAt = firstSql(z, bom, upLine.start);
  if( sqlAt<upLine.start ){
    *pErrLine = lineOf(z, sqlAt);
    *pzErr = sqlite3_mprintf("SQL before the '%s' marker",
                             markerName(MK_UP, goose));
    return SQLITE_ERROR;
  }
  aMark[nMark++] = upLine;
  if( nDown ) aMark[nMark++] = downLine;
  if( nVerify ) aMark[nMark++] = verifyLine;
  setBody(z, &pOut->up, upLine.start, upLine.next,
          sectionEnd(n, upLine.start, aMark, nMark));
  if( nDown ){
    setBody(z, &pOut->down, downLine.start, downLine.next,
            sectionEnd(n, downLine.start, aMark, nMark));
  }
  if( noTxn ){ pOut->up.noTxn = 1; pOut->down.noTxn = 1; }
  if( nVerify ){
    if( pOut->up.noTxn ){
      /* Its up has committed before the verify could run: a verify that
      ** fails could undo nothing (doc/formats.md "Verify"). */
      *pErrLine = verifyLine.no;
      *pzErr = sqlite3_mprintf("a verify section cannot check a "
                               "transaction:false migration: its up commits "
                               "as it runs, so a failed verify could not undo it");
      return SQLITE_ERROR;
    }
    setBody(z, &pOut->verify, verifyLine.start, verifyLine.next,
            sectionEnd(n, verifyLine.start, aMark, nMark));
  }
  return SQLITE_OK;
}

/* A whole file is one script, optionally opened by its own marker line. */
static int splitWhole(const char *z, size_t n, size_t bom, int kind,
                      Section *pSec, int *pErrLine, char **pzErr){
  Line L;
  Marker m;
  size_t bodyOff = bom, markerOff = bom;
  int sawSql = 0;

  memset(&L, 0, sizeof(L));
  L.next = bom;
  while( nextLine(z, n, &L) ){
    readMarker(z, &L, &m);
    if( m.goose || m.kind==MK_NONE ){
      if( firstSql(z, L.start, L.next)<L.next ) sawSql = 1;
      continue;
    }
    if( m.kind==kind && !sawSql && bodyOff==bom ){
      markerOff = L.start;
      bodyOff = L.next;
      if( kind==MK_VERIFY ){
        if( skipBlanks(z, m.optOff, m.optOff+m.optLen)<m.optOff+m.optLen ){
          *pErrLine = L.no;
          *pzErr = sqlite3_mprintf("the '-- migrate:verify' marker takes no "
                                   "options");
          return SQLITE_ERROR;
        }
      }else if( readOptions(z, &m, L.no, pSec, pErrLine, pzErr) ){
        return SQLITE_ERROR;
      }
      continue;
    }
    *pErrLine = L.no;
    *pzErr = sqlite3_mprintf("a '%s' marker inside %s file", markerName(m.kind, 0),
                             kind==MK_UP ? "an up" : kind==MK_DOWN ? "a down"
                                                                   : "a verify");
    return SQLITE_ERROR;
  }
  setBody(z, pSec, markerOff, bodyOff, n);
  return SQLITE_OK;
}

int formatSplit(const char *z, size_t n, int how, Sections *pOut,
                int *pErrLine, char **pzErr){
  /* A UTF-8 byte order mark is not SQL; the checksum still covers it. */
  size_t bom = (n>=3 && memcmp(z, "\xEF\xBB\xBF", 3)==0) ? 3 : 0;
  size_t bad;
  memset(pOut, 0, sizeof(*pOut));
  *pErrLine = 0;
  *pzErr = 0;
  if( memchr(z, 0, n) ){
    *pErrLine = lineOf(z, (size_t)((const char*)memchr(z, 0, n) - z));
    *pzErr = sqlite3_mprintf("contains a NUL byte");
    return SQLITE_ERROR;
  }
  bad = utilUtf8Invalid(z, n);
  if( bad<n ){
    /* SQLite would run it and keep the bytes as broken TEXT in the schema,
    ** the data and migrate_history: a file saved as Latin-1, say. */
    *pErrLine = lineOf(z, bad);
    *pzErr = sqlite3_mprintf("is not valid UTF-8 (byte 0x%02X); save the file "
                             "as UTF-8", (unsigned)(unsigned char)z[bad]);
    return SQLITE_ERROR;
  }
  switch( how ){
    case FMT_MARKED:
      return splitMarked(z, n, bom, pOut, pErrLine, pzErr);
    case FMT_WHOLE_UP:
      return splitWhole(z, n, bom, MK_UP, &pOut->up, pErrLine, pzErr);
    case FMT_WHOLE_VERIFY:
      return splitWhole(z, n, bom, MK_VERIFY, &pOut->verify, pErrLine, pzErr);
    default:
      return splitWhole(z, n, bom, MK_DOWN, &pOut->down, pErrLine, pzErr);
  }
}

/* The text kept in migrate_history: the body, led by its marker line only
** when that line carries options the script needs to run the same way.  A
** goose NO TRANSACTION file gets a marker line that says so, since the goose
** line itself is not part of the section. */
char *formatStored(const char *z, const Section *pSec, int isDown){
  size_t from = pSec->hasOptions ? pSec->markerOff : pSec->off;
  if( pSec->noTxn && !pSec->hasOptions ){
    return sqlite3_mprintf("-- migrate:%s transaction:false\n%.*s",
                           isDown ? "down" : "up", (int)pSec->len, z+pSec->off);
  }
  if( from==pSec->off && pSec->len>=3 && memcmp(z+from, "\xEF\xBB\xBF", 3)==0 ){
    /* Split again, stored text that began with a byte order mark would
    ** lose it (and a marker line behind it would start to count): its
    ** marker line keeps the mark part of the script, as in the file. */
    return sqlite3_mprintf("-- migrate:%s\n%.*s", isDown ? "down" : "up",
                           (int)pSec->len, z+pSec->off);
  }
  return utilTextDup(z+from, pSec->off + pSec->len - from);
}

int formatSplitNamed(const char *zShow, const char *z, size_t n, int how,
                     Sections *pSec, char **pzErr){
  int line = 0;
  char *zMsg = 0;
  int rc = formatSplit(z, n, how, pSec, &line, &zMsg);
  if( rc==SQLITE_OK ) return SQLITE_OK;
  if( zMsg==0 ) return SQLITE_NOMEM;
  *pzErr = line>0 ? sqlite3_mprintf("%s:%d: %s", zShow, line, zMsg)
                  : sqlite3_mprintf("%s: %s", zShow, zMsg);
  sqlite3_free(zMsg);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

void formatScript(const char *z, const Section *pSec, Script *pScr){
  pScr->z = z + pSec->off;
  pScr->n = pSec->len;
  pScr->line = pSec->line;
  pScr->noTxn = pSec->noTxn;
}

int formatStoredScript(const char *zStored, int isDown, const char *zShow,
                       Script *pScr, char **pzErr){
  Sections sec;
  int rc = formatSplitNamed(zShow, zStored, strlen(zStored),
                            isDown ? FMT_WHOLE_DOWN : FMT_WHOLE_UP, &sec, pzErr);
  if( rc==SQLITE_OK ) formatScript(zStored, isDown ? &sec.down : &sec.up, pScr);
  return rc;
}
