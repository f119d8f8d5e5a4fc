/*
** sqlsame.c — do two SQL texts differ in comments and blanks only?
**
** migrate_repair accepts an applied migration's up script edited that way
** (doc/reference.md "migrate_repair"): the SQL that ran is the SQL in the
** file.  The texts are compared token by token (sqlNextTok: comments and
** blanks skipped, string literals and quoted names whole), every token byte
** for byte, keywords in their letter case too.  Blanks count where they
** part two tokens that, written together, SQLite would read otherwise:
** `1 .5` is not `1.5`, `x '00'` is not the blob `x'00'`, `< =` is not `<=`.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

static int isDigit(char c){ return c>='0' && c<='9'; }

/* A number that ends in an exponent's e: "1e" of "1e-5". */
static int isExponentStart(const SqlTok *t){
  return t->kind==SQLTOK_WORD && isDigit(t->z[0])
      && (t->z[t->n-1]=='e' || t->z[t->n-1]=='E');
}

/* Two single bytes that SQLite reads as one token written together: its
** operators of two bytes (-> of ->> too), and the openings of comments. */
static int punctJoin(char a, char b){
  static const char *const az[] = {
    "||", "<=", "<>", "<<", ">=", ">>", "!=", "==", "->", "--", "/*"
  };
  size_t i;
  for(i=0; i<sizeof(az)/sizeof(az[0]); i++){
    if( az[i][0]==a && az[i][1]==b ) return 1;
  }
  return 0;
}

/*
** Could a, b (pPrev before a, or NULL) read as other tokens with nothing
** between them?  Then whether a blank parts them is part of the SQL: an
** operator (<=, ||, ->), a comment (--, / *), a parameter (?1, :a, @a), a
** number (1.5, 1e-5), a blob (x'00'), or two words.
*/
static int tokensJoin(const SqlTok *pPrev, const SqlTok *a, const SqlTok *b){
  if( a->kind==SQLTOK_WORD && b->kind==SQLTOK_WORD ) return 1;
  if( a->kind==SQLTOK_PUNCT && b->kind==SQLTOK_PUNCT ){
    return punctJoin(a->z[0], b->z[0]);
  }
  if( a->kind==SQLTOK_WORD && b->kind==SQLTOK_STRING ){
    return a->n==1 && (a->z[0]=='x' || a->z[0]=='X');    /* x'00' */
  }
  if( a->kind==SQLTOK_WORD && b->kind==SQLTOK_PUNCT ){
    if( b->z[0]=='.' ) return isDigit(a->z[0]);          /* 1.5 */
    if( b->z[0]=='+' || b->z[0]=='-' ) return isExponentStart(a);
    return 0;
  }
  if( a->kind==SQLTOK_PUNCT && b->kind==SQLTOK_WORD ){
    if( strchr("?:@#", a->z[0]) ) return 1;              /* ?1 :a @a */
    if( a->z[0]=='.' ) return isDigit(b->z[0]);          /* .5 */
    if( a->z[0]=='+' || a->z[0]=='-' ){
      return isDigit(b->z[0]) && pPrev && isExponentStart(pPrev);  /* 1e-5 */
    }
  }
  return 0;
}

/* The blanks and comments between two tokens hold a vertical tab, which
** sqlNextTok skips as a blank and SQLite's tokenizer refuses. */
static int hasVerticalTab(const char *z, const char *zEnd){
  return memchr(z, '\v', (size_t)(zEnd - z))!=0;
}

int sqlSameTokens(const char *zA, const char *zB, size_t *pOffA, size_t *pOffB){
  const char *zEndA = zA + strlen(zA), *zEndB = zB + strlen(zB);
  const char *pA = zA, *pB = zB;
  SqlTok prevA, prevPrevA;
  int nPrev = 0, same = 1;
  for(;;){
    SqlTok ta, tb;
    const char *zGapA = pA, *zGapB = pB;
    pA = sqlNextTok(pA, zEndA, &ta);
    pB = sqlNextTok(pB, zEndB, &tb);
    if( ta.kind!=tb.kind || ta.n!=tb.n || memcmp(ta.z, tb.z, (size_t)ta.n)!=0 ){
      same = 0;
    }else if( nPrev>0 && (ta.z>zGapA)!=(tb.z>zGapB)
           && tokensJoin(nPrev>1 ? &prevPrevA : 0, &prevA, &ta) ){
      same = 0;
    }else if( (ta.z-zGapA!=tb.z-zGapB || memcmp(zGapA, zGapB, (size_t)(ta.z-zGapA)))
           && (hasVerticalTab(zGapA, ta.z) || hasVerticalTab(zGapB, tb.z)) ){
      same = 0;
    }
    if( !same || ta.kind==SQLTOK_END ){
      /* A text that ended early: the difference is where its SQL ends,
      ** not after the comments and blanks that follow. */
      *pOffA = (size_t)((ta.kind==SQLTOK_END ? zGapA : ta.z) - zA);
      *pOffB = (size_t)((tb.kind==SQLTOK_END ? zGapB : tb.z) - zB);
      return same;
    }
    prevPrevA = prevA;
    prevA = ta;
    nPrev++;
  }
}
