/*
** sha256hw.c — SHA-256 blocks on the CPU's own instructions, where this
** build has code for them and the CPU has them:
**
**   x86-64, x86   the SHA extensions (SHA256RNDS2, SHA256MSG1, SHA256MSG2)
**                 with SSSE3 and SSE4.1 shuffles, found with CPUID
**   AArch64       the ARMv8 SHA2 instructions (SHA256H, SHA256H2,
**                 SHA256SU0, SHA256SU1), found with getauxval() in gcc's
**                 builds for Linux, always there on Apple silicon and in
**                 a build for a CPU that has them
**
** Everywhere else, and with a compiler that lacks the intrinsics,
** sha256HwName() says NULL and sha256.c's portable code hashes alone.
** The code is compiled for the instructions one function at a time (a
** target attribute), so the rest of the build still runs on any CPU of
** its architecture; nothing here is called before the check says yes.
** Written from the instruction sets' manuals; the results are checked
** byte for byte against the portable code (test/sha256hw.c).
*/
#include "migrate.h"

/* ---- which code this compiler can build ------------------------------------ */

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) \
    && (defined(__clang__) ? __clang_major__ >= 4 : __GNUC__ >= 5)
# define SHA256HW_X86 1          /* gcc, clang, mingw-w64: <cpuid.h> */
# define SHA256HW_X86_TARGET __attribute__((target("sha,sse4.1")))
#elif defined(_MSC_VER) && !defined(__clang__) && _MSC_VER >= 1900 \
    && (defined(_M_X64) || defined(_M_IX86))
# define SHA256HW_X86 1          /* MSVC: any intrinsic, anywhere; __cpuid */
# define SHA256HW_X86_MSVC 1
# define SHA256HW_X86_TARGET
#elif defined(__aarch64__) && (defined(__ARM_FEATURE_SHA2) \
    || defined(__ARM_FEATURE_CRYPTO))
# define SHA256HW_ARM 1          /* built for a CPU that has them: no check */
# define SHA256HW_ARM_TARGET
#elif defined(__aarch64__) && defined(__linux__) && defined(__GNUC__) \
    && !defined(__clang__) && __GNUC__ >= 6
/* Linux, gcc: ask the kernel. (clang before 16 cannot use the intrinsics
** in one function alone, and the later ones could not be tried here: a
** clang build uses them only when built for a CPU that has them.) */
# define SHA256HW_ARM 1
# define SHA256HW_ARM_AUXV 1
# define SHA256HW_ARM_TARGET __attribute__((target("+crypto")))
#endif

/* A compiler that says which headers it has, and lacks these, falls back. */
#if defined(__has_include)
# if defined(SHA256HW_X86) && !defined(SHA256HW_X86_MSVC) \
     && !(__has_include(<immintrin.h>) && __has_include(<cpuid.h>))
#  undef SHA256HW_X86
# endif
# if defined(SHA256HW_ARM) && !__has_include(<arm_neon.h>)
#  undef SHA256HW_ARM
# endif
# if defined(SHA256HW_ARM_AUXV) && !__has_include(<sys/auxv.h>)
#  undef SHA256HW_ARM
# endif
#endif

/* One block's 64 rounds, the same on both architectures: four rounds per
** message vector (SHA256HW_ROUNDS4), the schedule's next four words made
** from the last sixteen (SHA256HW_SCHEDULE); each architecture defines
** those two. */
#define SHA256HW_64ROUNDS(m0, m1, m2, m3) do{ \
    SHA256HW_ROUNDS4(m0, 0); \
    SHA256HW_ROUNDS4(m1, 1); \
    SHA256HW_ROUNDS4(m2, 2); \
    SHA256HW_ROUNDS4(m3, 3); \
    SHA256HW_SCHEDULE(m0, m1, m2, m3); SHA256HW_ROUNDS4(m0, 4); \
    SHA256HW_SCHEDULE(m1, m2, m3, m0); SHA256HW_ROUNDS4(m1, 5); \
    SHA256HW_SCHEDULE(m2, m3, m0, m1); SHA256HW_ROUNDS4(m2, 6); \
    SHA256HW_SCHEDULE(m3, m0, m1, m2); SHA256HW_ROUNDS4(m3, 7); \
    SHA256HW_SCHEDULE(m0, m1, m2, m3); SHA256HW_ROUNDS4(m0, 8); \
    SHA256HW_SCHEDULE(m1, m2, m3, m0); SHA256HW_ROUNDS4(m1, 9); \
    SHA256HW_SCHEDULE(m2, m3, m0, m1); SHA256HW_ROUNDS4(m2, 10); \
    SHA256HW_SCHEDULE(m3, m0, m1, m2); SHA256HW_ROUNDS4(m3, 11); \
    SHA256HW_SCHEDULE(m0, m1, m2, m3); SHA256HW_ROUNDS4(m0, 12); \
    SHA256HW_SCHEDULE(m1, m2, m3, m0); SHA256HW_ROUNDS4(m1, 13); \
    SHA256HW_SCHEDULE(m2, m3, m0, m1); SHA256HW_ROUNDS4(m2, 14); \
    SHA256HW_SCHEDULE(m3, m0, m1, m2); SHA256HW_ROUNDS4(m3, 15); \
  }while(0)

/* ---- x86: the SHA extensions --------------------------------------------- */
#if defined(SHA256HW_X86)

#if defined(SHA256HW_X86_MSVC)
# include <intrin.h>
# include <immintrin.h>
#else
# include <cpuid.h>
# include <immintrin.h>
#endif

/* CPUID leaf 1 ECX: SSSE3 (bit 9), SSE4.1 (bit 19); leaf 7 sub-leaf 0 EBX:
** SHA (bit 29). SSE state is always enabled by a 64-bit (or SSE-aware
** 32-bit) system, so no XGETBV check is needed, unlike AVX. */
static int sha256HwCpuHas(void){
  unsigned ecx1, ebx7;
#if defined(SHA256HW_X86_MSVC)
  int r[4];
  __cpuid(r, 0);
  if( r[0] < 7 ) return 0;
  __cpuid(r, 1);
  ecx1 = (unsigned)r[2];
  __cpuidex(r, 7, 0);
  ebx7 = (unsigned)r[1];
#else
  unsigned a, b, c, d;
  if( __get_cpuid_max(0, 0) < 7 ) return 0;
  __cpuid(1, a, b, c, d);
  ecx1 = c;
  __cpuid_count(7, 0, a, b, c, d);
  ebx7 = b;
#endif
  return (ecx1 >> 9 & 1) && (ecx1 >> 19 & 1) && (ebx7 >> 29 & 1);
}

/*
** SHA256RNDS2 does two rounds on a state split in two registers, named by
** the words each holds from the highest lane down: ABEF and CDGH. Its
** third operand holds W[t]+K[t] and W[t+1]+K[t+1] in its two low lanes.
** Two rounds later the old ABEF is the new CDGH, so the two registers
** swap roles at each call and no move is needed.
**
** SHA256MSG1(W[t-16..t-13], W[t-12..t-9]) gives W[t-16+i] + s0(W[t-15+i]);
** adding W[t-7..t-4] (the two middle vectors joined by PALIGNR) and then
** SHA256MSG2(that, W[t-4..t-1]) adds s1 and gives W[t..t+3].
*/
#define SHA256HW_SCHEDULE(m0, m1, m2, m3) \
  (m0) = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((m0), (m1)), \
                                            _mm_alignr_epi8((m3), (m2), 4)), (m3))
#define SHA256HW_ROUNDS4(m, i) do{ \
  __m128i wk = _mm_add_epi32((m), _mm_loadu_si128((const __m128i*)&K[4*(i)])); \
  cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk); \
  abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e)); \
}while(0)

SHA256HW_X86_TARGET
static void sha256HwX86(uint32_t h[8], const uint32_t K[64],
                        const unsigned char *p, size_t nBlock){
  /* Reverses the bytes of each 32-bit lane: the message is big-endian. */
  const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11,
                                     4, 5, 6, 7, 0, 1, 2, 3);
  __m128i abef, cdgh, t;

  /* h[0..3] = a b c d and h[4..7] = e f g h, lowest lane first. */
  t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)&h[0]), 0xb1); /* c d a b */
  cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)&h[4]), 0x1b); /* e f g h */
  abef = _mm_alignr_epi8(t, cdgh, 8);        /* a b e f */
  cdgh = _mm_blend_epi16(cdgh, t, 0xf0);     /* c d g h */

  while( nBlock-- > 0 ){
    __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(p)), bswap);
    __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(p+16)), bswap);
    __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(p+32)), bswap);
    __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(p+48)), bswap);

    SHA256HW_64ROUNDS(m0, m1, m2, m3);

    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
    p += 64;
  }

  t = _mm_shuffle_epi32(abef, 0x1b);         /* f e b a -> lanes: a b e f */
  cdgh = _mm_shuffle_epi32(cdgh, 0xb1);      /* lanes: g h c d */
  _mm_storeu_si128((__m128i*)&h[0], _mm_blend_epi16(t, cdgh, 0xf0));  /* a b c d */
  _mm_storeu_si128((__m128i*)&h[4], _mm_alignr_epi8(cdgh, t, 8));     /* e f g h */
}

const char *sha256HwName(void){
  return sha256HwCpuHas() ? "x86 SHA extensions" : 0;
}

void sha256HwBlocks(uint32_t h[8], const uint32_t K[64],
                    const unsigned char *p, size_t nBlock){
  sha256HwX86(h, K, p, nBlock);
}

/* ---- AArch64: the ARMv8 SHA2 instructions ----------------------------------- */
#elif defined(SHA256HW_ARM)

#include <arm_neon.h>
#if defined(SHA256HW_ARM_AUXV)
# include <sys/auxv.h>
# ifndef HWCAP_SHA2
#  define HWCAP_SHA2 (1 << 6)   /* the kernel's AArch64 hwcap bit */
# endif
#endif

/*
** SHA256H does four rounds and gives the new ABCD from ABCD, EFGH and
** W+K of those rounds; SHA256H2 gives the new EFGH from EFGH, the OLD
** ABCD and the same W+K. The state is held lowest lane first (a in lane
** 0), which is the order of h[]. SHA256SU0(W[t-16..t-13], W[t-12..t-9])
** adds s0, then SHA256SU1(that, W[t-8..t-5], W[t-4..t-1]) adds W[t-7..t-4]
** and s1: W[t..t+3].
*/
#define SHA256HW_SCHEDULE(m0, m1, m2, m3) \
  (m0) = vsha256su1q_u32(vsha256su0q_u32((m0), (m1)), (m2), (m3))
#define SHA256HW_ROUNDS4(m, i) do{ \
  uint32x4_t wk = vaddq_u32((m), vld1q_u32(&K[4*(i)])); \
  uint32x4_t abcdOld = abcd; \
  abcd = vsha256hq_u32(abcd, efgh, wk); \
  efgh = vsha256h2q_u32(efgh, abcdOld, wk); \
}while(0)

SHA256HW_ARM_TARGET
static void sha256HwArm(uint32_t h[8], const uint32_t K[64],
                        const unsigned char *p, size_t nBlock){
  uint32x4_t abcd = vld1q_u32(&h[0]);
  uint32x4_t efgh = vld1q_u32(&h[4]);

  while( nBlock-- > 0 ){
    uint32x4_t abcd0 = abcd, efgh0 = efgh;
    /* The message is big-endian: each 32-bit lane's bytes reversed. */
    uint32x4_t m0 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p)));
    uint32x4_t m1 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p+16)));
    uint32x4_t m2 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p+32)));
    uint32x4_t m3 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p+48)));

    SHA256HW_64ROUNDS(m0, m1, m2, m3);

    abcd = vaddq_u32(abcd, abcd0);
    efgh = vaddq_u32(efgh, efgh0);
    p += 64;
  }
  vst1q_u32(&h[0], abcd);
  vst1q_u32(&h[4], efgh);
}

const char *sha256HwName(void){
#if defined(SHA256HW_ARM_AUXV)
  if( (getauxval(AT_HWCAP) & HWCAP_SHA2)==0 ) return 0;
#endif
  return "ARMv8 SHA2";
}

void sha256HwBlocks(uint32_t h[8], const uint32_t K[64],
                    const unsigned char *p, size_t nBlock){
  sha256HwArm(h, K, p, nBlock);
}

/* ---- anything else: no instructions, and nothing calls the blocks ----------- */
#else

const char *sha256HwName(void){
  return 0;
}

void sha256HwBlocks(uint32_t h[8], const uint32_t K[64],
                    const unsigned char *p, size_t nBlock){
  (void)h; (void)K; (void)p; (void)nBlock;
}

#endif
