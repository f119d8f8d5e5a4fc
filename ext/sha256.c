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
*/

#include <string.h>

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

/* Process one 64-byte block (FIPS 180-4, 6.2.2). */
static void sha256Block(Sha256 *p, const unsigned char *blk){
  uint32_t w[64];
  uint32_t a, b, c, d, e, f, g, h;
  int t;

  for(t = 0; t < 16; t++){
    w[t] = (uint32_t)blk[t*4] << 24 | (uint32_t)blk[t*4+1] << 16
         | (uint32_t)blk[t*4+2] << 8 | (uint32_t)blk[t*4+3];
  }
  for(t = 16; t < 64; t++){
    uint32_t s0 = ROTR(w[t-15], 7) ^ ROTR(w[t-15], 18) ^ (w[t-15] >> 3);
    uint32_t s1 = ROTR(w[t-2], 17) ^ ROTR(w[t-2], 19) ^ (w[t-2] >> 10);
    w[t] = w[t-16] + s0 + w[t-7] + s1;
  }
  a = p->h[0]; b = p->h[1]; c = p->h[2]; d = p->h[3];
  e = p->h[4]; f = p->h[5]; g = p->h[6]; h = p->h[7];
  for(t = 0; t < 64; t++){
    uint32_t S1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = h + S1 + ch + sha256K[t] + w[t];
    uint32_t S0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = S0 + maj;
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  p->h[0] += a; p->h[1] += b; p->h[2] += c; p->h[3] += d;
  p->h[4] += e; p->h[5] += f; p->h[6] += g; p->h[7] += h;
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
  p->nByte += n;
  while( n > 0 ){
    if( p->nBuf == 0 && n >= 64 ){
      sha256Block(p, z);   /* whole blocks straight from the input */
      z += 64;
      n -= 64;
    }else{
      size_t k = 64 - p->nBuf;
      if( k > n ) k = n;
      memcpy(p->buf + p->nBuf, z, k);
      p->nBuf += (unsigned)k;
      z += k;
      n -= k;
      if( p->nBuf == 64 ){
        sha256Block(p, p->buf);
        p->nBuf = 0;
      }
    }
  }
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
    sha256Block(p, p->buf);
    p->nBuf = 0;
  }
  memset(p->buf + p->nBuf, 0, 56 - p->nBuf);
  for(i = 0; i < 8; i++){
    p->buf[56 + i] = (unsigned char)(nBit >> (56 - 8*i));
  }
  sha256Block(p, p->buf);

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
