#include "migrate.h"
SQLITE_EXTENSION_INIT3

/* The running state of one hash. */
typedef struct Sha256 {
  uint32_t h[8];
  uint64_t nByte;
  unsigned char buf[64];
  unsigned nBuf;
} Sha256;

/*
** sha256.c — SHA-256 checksums of migration files (FIPS 180-4), and the
** SQL helper that exposes it, so a user can compare a history checksum
** with `sha256sum FILE` or with a file read in SQL:
**
**   SELECT migrate_sha256('abc');
**   -- ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
**
** Written from the standard; no dependency, no allocation.
**
** Whole blocks go to the CPU's SHA-256 instructions when it has them
** (sha256hw.c), else to the portable code below; the choice is made once
** per process, at the first hash, and changes the speed, never a digest.
*/

#include <stdlib.h>
#include <string.h>
#if !defined(__STDC_NO_ATOMICS__)
# include <stdatomic.h>
#endif

/* First 32 bits of the fractional parts of the cube roots of the first
** 64 primes (FIPS 180-4, 4.2.2). */
static const uint32_t sha256K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
  0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define BSIG0(x)   (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x)   (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x)   (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x)   (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))
/* Ch and Maj (FIPS 180-4, 4.1.2) in forms with one operation fewer. */
#define CH(e, f, g)  ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))

/* Message word t >= 16, computed in place in a ring of the last 16. */
#define WNEXT(t) (w[(t) & 15] += SSIG1(w[((t) - 2) & 15]) + w[((t) - 7) & 15] \
                                 + SSIG0(w[((t) - 15) & 15]))

/* One round.  Instead of moving eight variables along every round, the
** caller rotates the names it passes: only d and h change. */
#define ROUND(a, b, c, d, e, f, g, h, t, wt) do{ \
  uint32_t t1 = (h) + BSIG1(e) + CH(e, f, g) + sha256K[t] + (wt); \
  (d) += t1; \
  (h) = t1 + BSIG0(a) + MAJ(a, b, c); \
}while(0)

#define EIGHT_ROUNDS(t, W) do{ \
  ROUND(a, b, c, d, e, f, g, h, (t),   W((t))); \
  ROUND(h, a, b, c, d, e, f, g, (t)+1, W((t)+1)); \
  ROUND(g, h, a, b, c, d, e, f, (t)+2, W((t)+2)); \
  ROUND(f, g, h, a, b, c, d, e, (t)+3, W((t)+3)); \
  ROUND(e, f, g, h, a, b, c, d, (t)+4, W((t)+4)); \
  ROUND(d, e, f, g, h, a, b, c, (t)+5, W((t)+5)); \
  ROUND(c, d, e, f, g, h, a, b, (t)+6, W((t)+6)); \
  ROUND(b, c, d, e, f, g, h, a, (t)+7, W((t)+7)); \
}while(0)
#define WLOADED(t) w[(t)]

/*
** Process one 64-byte block (FIPS 180-4, 6.2.2), rounds unrolled and the
** message schedule kept to 16 words: this runs as fast as sha256sum does.
*/
static void sha256Block(Sha256 *p, const unsigned char *blk){
  uint32_t w[16];
  uint32_t a, b, c, d, e, f, g, h;
  int t;

  for(t = 0; t < 16; t++){
    w[t] = (uint32_t)blk[t*4] << 24 | (uint32_t)blk[t*4+1] << 16
         | (uint32_t)blk[t*4+2] << 8 | (uint32_t)blk[t*4+3];
  }
  a = p->h[0]; b = p->h[1]; c = p->h[2]; d = p->h[3];
  e = p->h[4]; f = p->h[5]; g = p->h[6]; h = p->h[7];
  EIGHT_ROUNDS(0, WLOADED);
  EIGHT_ROUNDS(8, WLOADED);
  EIGHT_ROUNDS(16, WNEXT);
  EIGHT_ROUNDS(24, WNEXT);
  EIGHT_ROUNDS(32, WNEXT);
  EIGHT_ROUNDS(40, WNEXT);
  EIGHT_ROUNDS(48, WNEXT);
  EIGHT_ROUNDS(56, WNEXT);
  p->h[0] += a; p->h[1] += b; p->h[2] += c; p->h[3] += d;
  p->h[4] += e; p->h[5] += f; p->h[6] += g; p->h[7] += h;
}

/*
** Which code hashes whole blocks: 0 until the first hash chooses, then
** SHA256_PORTABLE or SHA256_HARDWARE for the life of the process.  Threads
** that race to choose all reach the same answer from the same CPU and the
** same environment, and either answer gives the same digests, so the race
** is harmless; the atomic (relaxed: nothing else is published with it)
** only keeps the race defined C.  MIGRATE_SHA256=portable in the
** environment forces the portable code, for tests and diagnosis
** (doc/reference.md "migrate_debug").
*/
#define SHA256_PORTABLE 1
#define SHA256_HARDWARE 2
#if !defined(__STDC_NO_ATOMICS__)
static atomic_int sha256Impl;
# define SHA256_IMPL_GET()  atomic_load_explicit(&sha256Impl, memory_order_relaxed)
# define SHA256_IMPL_SET(v) atomic_store_explicit(&sha256Impl, (v), memory_order_relaxed)
#else
static volatile int sha256Impl;   /* an aligned int: one load, one store */
# define SHA256_IMPL_GET()  (sha256Impl)
# define SHA256_IMPL_SET(v) (sha256Impl = (v))
#endif

static int sha256Choose(void){
  int impl = SHA256_IMPL_GET();
  if( impl==0 ){
    const char *zForce = getenv("MIGRATE_SHA256");
    if( (zForce==0 || strcmp(zForce, "portable")!=0) && sha256HwName()!=0 ){
      impl = SHA256_HARDWARE;
    }else{
      impl = SHA256_PORTABLE;
    }
    SHA256_IMPL_SET(impl);
  }
  return impl;
}

/* What hashes in this process: sha256HwName()'s answer, or "portable". */
const char *sha256ImplName(void){
  return sha256Choose()==SHA256_HARDWARE ? sha256HwName() : "portable";
}

/* nBlock whole 64-byte blocks at z, by the code chosen. */
static void sha256Blocks(Sha256 *p, const unsigned char *z, size_t nBlock){
  if( sha256Choose()==SHA256_HARDWARE ){
    sha256HwBlocks(p->h, sha256K, z, nBlock);
  }else{
    while( nBlock-- > 0 ){
      sha256Block(p, z);
      z += 64;
    }
  }
}

static void sha256Init(Sha256 *p){
  /* First 32 bits of the fractional parts of the square roots of the
  ** first 8 primes (FIPS 180-4, 5.3.3). */
  static const uint32_t h0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  };
  memcpy(p->h, h0, sizeof(h0));
  p->nByte = 0;
  p->nBuf = 0;
}

static void sha256Update(Sha256 *p, const void *pData, size_t n){
  const unsigned char *z = pData;
  if( n==0 ) return;   /* pData may be NULL then: memcpy must not see it */
  p->nByte += n;
  if( p->nBuf > 0 ){
    /* Complete the block a previous update left partial. */
    size_t k = 64 - p->nBuf;
    if( k > n ) k = n;
    memcpy(p->buf + p->nBuf, z, k);
    p->nBuf += (unsigned)k;
    z += k;
    n -= k;
    if( p->nBuf < 64 ) return;
    sha256Blocks(p, p->buf, 1);
    p->nBuf = 0;
  }
  if( n >= 64 ){
    sha256Blocks(p, z, n / 64);   /* whole blocks straight from the input */
    z += n / 64 * 64;
    n %= 64;
  }
  memcpy(p->buf, z, n);
  p->nBuf = (unsigned)n;
}

/* Pad (a 1 bit, zeros, the 64-bit big-endian bit length; FIPS 180-4, 5.1.1)
** and write the digest as 64 lowercase hex digits and a NUL. */
static void sha256FinalHex(Sha256 *p, char zOut[65]){
  static const char hex[] = "0123456789abcdef";
  uint64_t nBit = p->nByte * 8;
  int i;

  p->buf[p->nBuf++] = 0x80;
  if( p->nBuf > 56 ){
    /* No room for the length in this block: pad it out and start another. */
    memset(p->buf + p->nBuf, 0, 64 - p->nBuf);
    sha256Blocks(p, p->buf, 1);
    p->nBuf = 0;
  }
  memset(p->buf + p->nBuf, 0, 56 - p->nBuf);
  for(i = 0; i < 8; i++){
    p->buf[56 + i] = (unsigned char)(nBit >> (56 - 8*i));
  }
  sha256Blocks(p, p->buf, 1);

  for(i = 0; i < 32; i++){
    unsigned char byte = (unsigned char)(p->h[i/4] >> (24 - 8*(i%4)));
    zOut[i*2] = hex[byte >> 4];
    zOut[i*2+1] = hex[byte & 0x0f];
  }
  zOut[64] = 0;
}

void sha256Hex(const void *pData, size_t n, char zOut[65]){
  Sha256 s;
  sha256Init(&s);
  sha256Update(&s, pData, n);
  sha256FinalHex(&s, zOut);
}

/*
** migrate_sha256(X): the SHA-256 of X as lowercase hex. A BLOB is hashed
** as is; any other non-NULL value is hashed as its UTF-8 text (no
** terminator), so migrate_sha256(readfile(F)) equals `sha256sum F`.
** NULL gives NULL.
*/
void sha256Func(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const void *p;
  char zHex[65];
  (void)argc;

  switch( sqlite3_value_type(argv[0]) ){
    case SQLITE_NULL:
      return;
    case SQLITE_BLOB:
      p = sqlite3_value_blob(argv[0]);
      break;
    default:
      p = sqlite3_value_text(argv[0]);
      if( p == 0 ){
        sqlite3_result_error_nomem(ctx);
        return;
      }
      break;
  }
  /* bytes() after blob()/text(): the conversion above may change it. */
  sha256Hex(p, (size_t)sqlite3_value_bytes(argv[0]), zHex);
  sqlite3_result_text(ctx, zHex, 64, SQLITE_TRANSIENT);
}
