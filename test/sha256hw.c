/*
** sha256hw.c — the two codes that hash blocks (sha256.c's portable code and
** sha256hw.c's CPU instructions) called directly, through the streaming
** interface (init, update in pieces, final), and compared byte for byte.
** Built and run by test/sha256.test (and, for AArch64 under qemu, by
** test/cross/cross.test). It compiles the two files in, so it needs
** sqlite3ext.h on the include path and no SQLite library.
**
**   sha256hw            prints what it found; exit status 1 on any difference
**
** Lines printed:
**   chosen: NAME                   what sha256.c chose (MIGRATE_SHA256 honoured)
**   hardware: NAME | none          what sha256hw.c found on this CPU
**   known answers: N of N          per code, the published examples
**   lengths 0..1024: N of N        per code, each length hashed in random pieces
*/
#include "../ext/sha256.c"
#include "../ext/sha256hw.c"
#include <stdio.h>

/* SQLITE_EXTENSION_INIT3 declares it; nothing here calls SQLite. */
const sqlite3_api_routines *sqlite3_api = 0;

/* A small deterministic generator (xorshift32): the same bytes and cuts
** on every machine, so a failure is reproducible. */
static uint32_t rngState = 2463534242u;
static uint32_t rng(void){
  rngState ^= rngState << 13;
  rngState ^= rngState >> 17;
  rngState ^= rngState << 5;
  return rngState;
}

/* The digest of z[0..n) by one code, fed in nCut+1 pieces cut at random
** (pieces of 0 bytes included). Under make sanitize's flags (UBSan) a
** NULL given to memcpy is reported. */
static void hashPieces(int impl, const unsigned char *z, size_t n, int nCut,
                       char zHex[65]){
  Sha256 s;
  size_t at = 0;
  int i;
  SHA256_IMPL_SET(impl);
  sha256Init(&s);
  sha256Update(&s, 0, 0);   /* no bytes at no address, as an empty blob gives */
  for(i = 0; i < nCut; i++){
    size_t k = n - at ? rng() % (n - at + 1) : 0;
    sha256Update(&s, z + at, k);
    at += k;
  }
  sha256Update(&s, z + at, n - at);
  sha256FinalHex(&s, zHex);
}

static const struct { const char *zMsg; size_t nRepeat; const char *zHex; } aKnown[] = {
  { "", 1,
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { "abc", 1,
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
  { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 1,
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
  { "a", 1000000,
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

/* The published examples by one code: how many give the published digest. */
static int knownAnswers(int impl){
  static unsigned char big[1000000];
  int nOk = 0;
  size_t i, j;
  for(i = 0; i < sizeof(aKnown)/sizeof(aKnown[0]); i++){
    size_t len = strlen(aKnown[i].zMsg);
    size_t n = len * aKnown[i].nRepeat;
    char zHex[65];
    for(j = 0; j < aKnown[i].nRepeat; j++) memcpy(big + j*len, aKnown[i].zMsg, len);
    hashPieces(impl, big, n, (int)(i % 4), zHex);
    if( strcmp(zHex, aKnown[i].zHex)==0 ){
      nOk++;
    }else{
      printf("known answer %d differs: %s\n", (int)i, zHex);
    }
  }
  return nOk;
}

int main(void){
  const char *zHw = sha256HwName();
  int aImpl[2] = { SHA256_PORTABLE, SHA256_HARDWARE };
  const char *azName[2] = { "portable", zHw };
  int nImpl = zHw ? 2 : 1;
  int nKnown = (int)(sizeof(aKnown)/sizeof(aKnown[0]));
  int bad = 0;
  int k;
  unsigned char z[1024];
  char azOne[1025][65];   /* the portable code's digest of each length, whole */
  size_t n;

  printf("chosen: %s\n", sha256ImplName());
  printf("hardware: %s\n", zHw ? zHw : "none");

  for(k = 0; k < nImpl; k++){
    int nOk = knownAnswers(aImpl[k]);
    printf("%s known answers: %d of %d\n", azName[k], nOk, nKnown);
    bad |= nOk!=nKnown;
  }

  /* Every length 0..1024 of random bytes: the portable code's digest of
  ** the whole, against each code fed in random pieces, four times each. */
  for(n = 0; n < sizeof(z); n++) z[n] = (unsigned char)rng();
  for(n = 0; n <= sizeof(z); n++){
    hashPieces(SHA256_PORTABLE, z, n, 0, azOne[n]);
  }
  for(k = 0; k < nImpl; k++){
    int nSame = 0, nTry = 0, t;
    for(n = 0; n <= sizeof(z); n++){
      for(t = 0; t < 4; t++){
        char zHex[65];
        hashPieces(aImpl[k], z, n, 1 + t*3, zHex);
        nTry++;
        if( memcmp(zHex, azOne[n], 65)==0 ){
          nSame++;
        }else if( nTry - nSame <= 5 ){
          printf("%s, length %d: %s, whole by portable: %s\n",
                 azName[k], (int)n, zHex, azOne[n]);
        }
      }
    }
    printf("%s lengths 0..1024 in pieces: %d of %d\n", azName[k], nSame, nTry);
    bad |= nSame!=nTry;
  }
  return bad;
}
