/* Compute and packet kernels of the benchmark suite, in plain C: each XDP
 * program in bench/progs calls one of them on (data, data_end), and
 * bench/suite/native_kernels.c compiles the very same functions for the host
 * with the same clang at -O2 (the suite's "native" column).
 *
 * Shape rules, so that both the kernel's verifier and userbpf's accept them:
 *  - one bounds check of the packet up front, then loops with constant trip
 *    counts over constant offsets (the verifier walks every iteration); a
 *    check per iteration only where lengths come from the packet;
 *  - data-dependent branches only where both sides leave the same kind of
 *    state behind (an accumulator already mixed with packet data), so paths
 *    merge instead of multiplying;
 *  - no libc, no builtins that would become calls on the BPF target.
 * Every kernel returns a value that depends on all the work it did. */
#ifndef USERBPF_BENCH_KERNELS_H
#define USERBPF_BENCH_KERNELS_H

#include <linux/types.h>

#define BK_INLINE static inline __attribute__((always_inline))
/* Hides a value from the compiler's reasoning (no instruction emitted), so it
 * keeps the arithmetic as written instead of turning it into a select, which
 * the BPF back end would emit as a branch or a [-1, 0] mask the kernel's
 * verifier splits into two paths. */
#define BK_OPAQUE(x) __asm__ volatile("" : "+r"(x))

/* Bytes the compute kernels read from the front of the packet; the suite's
 * packet is longer. */
#define BK_LEN 512

BK_INLINE __u32 bk_rol32(__u32 x, unsigned k) { return (x << k) | (x >> ((32 - k) & 31)); }
BK_INLINE __u32 bk_le32(const __u8 *p) {
  return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}
BK_INLINE __u32 bk_be32(const __u8 *p) {
  return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | (__u32)p[3];
}
BK_INLINE __u16 bk_be16(const __u8 *p) { return (__u16)(p[0] << 8 | p[1]); }
BK_INLINE void bk_put_be16(__u8 *p, __u16 v) {
  p[0] = (__u8)(v >> 8);
  p[1] = (__u8)v;
}
/* Hash accumulator step.  Accumulators start from a word of packet data, a
 * full-range unknown to the verifiers, so every path that mixes into one ends
 * in the same state. */
BK_INLINE __u32 bk_mix(__u32 h, __u32 v) { return (h ^ v) * 0x01000193u; }
BK_INLINE __u16 bk_fold(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)sum;
}

/* ---- compute ------------------------------------------------------------- */

/* FNV-1a, 32-bit, over the first BK_LEN bytes. */
BK_INLINE __u32 bk_fnv1a(const __u8 *p, const __u8 *end) {
  if (p + BK_LEN > end) return 0;
  __u32 h = 2166136261u;
  for (__u32 i = 0; i < BK_LEN; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

/* Bob Jenkins' lookup3 (the kernel's jhash) over 480 bytes: 39 blocks of 12
 * bytes mixed, the last one finalised. */
#define BK_JHASH_MIX(a, b, c)     \
  do {                            \
    a -= c; a ^= bk_rol32(c, 4);  c += b; \
    b -= a; b ^= bk_rol32(a, 6);  a += c; \
    c -= b; c ^= bk_rol32(b, 8);  b += a; \
    a -= c; a ^= bk_rol32(c, 16); c += b; \
    b -= a; b ^= bk_rol32(a, 19); a += c; \
    c -= b; c ^= bk_rol32(b, 4);  b += a; \
  } while (0)
#define BK_JHASH_FINAL(a, b, c)                 \
  do {                                          \
    c ^= b; c -= bk_rol32(b, 14);               \
    a ^= c; a -= bk_rol32(c, 11);               \
    b ^= a; b -= bk_rol32(a, 25);               \
    c ^= b; c -= bk_rol32(b, 16);               \
    a ^= c; a -= bk_rol32(c, 4);                \
    b ^= a; b -= bk_rol32(a, 14);               \
    c ^= b; c -= bk_rol32(b, 24);               \
  } while (0)
#define BK_JHASH_LEN 480
BK_INLINE __u32 bk_jhash(const __u8 *p, const __u8 *end) {
  if (p + BK_JHASH_LEN > end) return 0;
  __u32 a, b, c;
  a = b = c = 0xdeadbeefu + BK_JHASH_LEN + 0x5eed;
  for (__u32 off = 0; off < BK_JHASH_LEN - 12; off += 12) {
    a += bk_le32(p + off);
    b += bk_le32(p + off + 4);
    c += bk_le32(p + off + 8);
    BK_JHASH_MIX(a, b, c);
  }
  a += bk_le32(p + BK_JHASH_LEN - 12);
  b += bk_le32(p + BK_JHASH_LEN - 8);
  c += bk_le32(p + BK_JHASH_LEN - 4);
  BK_JHASH_FINAL(a, b, c);
  return c;
}

/* MurmurHash3 x86_32 over the first BK_LEN bytes (no tail: a multiple of 4). */
BK_INLINE __u32 bk_murmur3(const __u8 *p, const __u8 *end) {
  if (p + BK_LEN > end) return 0;
  __u32 h = 0x9747b28cu;
  for (__u32 off = 0; off < BK_LEN; off += 4) {
    __u32 k = bk_le32(p + off);
    k *= 0xcc9e2d51u;
    k = bk_rol32(k, 15);
    k *= 0x1b873593u;
    h ^= k;
    h = bk_rol32(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  h ^= BK_LEN;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* RFC 1071 internet checksum over the first BK_LEN bytes. */
BK_INLINE __u32 bk_inet_csum(const __u8 *p, const __u8 *end) {
  if (p + BK_LEN > end) return 0;
  __u32 sum = 0;
  for (__u32 off = 0; off < BK_LEN; off += 2) sum += bk_be16(p + off);
  return (__u16)~bk_fold(sum);
}

/* CRC-32 (IEEE, reflected), one bit at a time, over 64 bytes, free of
 * data-dependent branches: the polynomial is multiplied by the low bit. */
#define BK_CRC_LEN 64
BK_INLINE __u32 bk_crc32(const __u8 *p, const __u8 *end) {
  if (p + BK_CRC_LEN > end) return 0;
  __u32 crc = 0xffffffffu;
  for (__u32 i = 0; i < BK_CRC_LEN; i++) {
    crc ^= p[i];
    for (int b = 0; b < 8; b++) {
      __u32 bit = crc & 1;
      BK_OPAQUE(bit);
      crc = (crc >> 1) ^ (bit * 0xedb88320u);
    }
  }
  return ~crc;
}

/* The same CRC-32 over 128 bytes with every loop unrolled by the compiler:
 * about 5,000 instructions of straight-line code (how BPF programs were
 * written before bounded loops), the suite's large program for JIT compile
 * time. */
#define BK_CRC_UNROLLED_LEN 128
#ifdef __clang__
#define BK_UNROLL_FULL _Pragma("clang loop unroll(full)")
#else
#define BK_UNROLL_FULL
#endif
BK_INLINE __u32 bk_crc32_unrolled(const __u8 *p, const __u8 *end) {
  if (p + BK_CRC_UNROLLED_LEN > end) return 0;
  __u32 crc = 0xffffffffu;
  BK_UNROLL_FULL
  for (__u32 i = 0; i < BK_CRC_UNROLLED_LEN; i++) {
    crc ^= p[i];
    BK_UNROLL_FULL
    for (int b = 0; b < 8; b++) {
      __u32 bit = crc & 1;
      BK_OPAQUE(bit);
      crc = (crc >> 1) ^ (bit * 0xedb88320u);
    }
  }
  return ~crc;
}

/* Set bits in 64 bytes counted one bit position at a time, per 32-bit word,
 * folded with the word index so that the result depends on where they are. */
#define BK_BITS_WORDS 16
BK_INLINE __u32 bk_bitcount(const __u8 *p, const __u8 *end) {
  if (p + BK_BITS_WORDS * 4 > end) return 0;
  __u32 h = bk_le32(p + 60);
  for (__u32 w = 0; w < BK_BITS_WORDS; w++) {
    __u32 x = bk_le32(p + w * 4);
    __u32 n = 0;
    for (__u32 b = 0; b < 32; b++) n += (x >> b) & 1;
    h = bk_mix(h, n + (w << 8));
  }
  return h;
}

/* Insertion sort of 32 big-endian words of the packet on the stack, then an
 * order-dependent hash of the result.  Array indices are masked with `mask`
 * (BK_SORT_N - 1, kept in writable data by the callers): to the verifiers the
 * accesses then have variable offsets, which leaves the array's contents
 * unknown instead of tracking every compared value path by path. */
#define BK_SORT_N 32
BK_INLINE __u32 bk_isort(const __u8 *p, const __u8 *end, __u32 mask) {
  if (p + 64 + BK_SORT_N * 4 > end) return 0;
  __u32 a[BK_SORT_N];
  mask &= BK_SORT_N - 1;
  for (__u32 i = 0; i < BK_SORT_N; i++) a[i] = bk_be32(p + 64 + i * 4) ^ bk_be32(p + 4 * (i & 7));
  for (__u32 i = 1; i < BK_SORT_N; i++) {
    __u32 key = a[i & mask];
    __u32 j = i;
    while (j > 0) {
      __u32 prev = a[(j - 1) & mask];
      if (prev <= key) break;
      a[j & mask] = prev;
      j--;
    }
    a[j & mask] = key;
  }
  __u32 h = 2166136261u;
  for (__u32 i = 0; i < BK_SORT_N; i++) h = bk_mix(h, a[i & mask]);
  return h;
}

/* A tiny register machine: four 64-bit registers, switch dispatch, a program
 * in .rodata that hashes 24 packet bytes in a counted loop. */
enum bk_vm_op { VM_HALT, VM_LDI, VM_LDB, VM_ADD, VM_XOR, VM_MULI, VM_ROLI, VM_INC, VM_DJNZ };
struct bk_vm_insn {
  __u8 op, a, b, pad;
  __u32 imm;
};
static const struct bk_vm_insn bk_vm_prog[] = {
    {VM_LDI, 0, 0, 0, 14},          /* r0 = offset: the IPv4 header */
    {VM_LDI, 2, 0, 0, 0x811c9dc5},  /* r2 = hash */
    {VM_LDI, 3, 0, 0, 24},          /* r3 = count */
    {VM_LDB, 1, 0, 0, 0},           /* loop: r1 = pkt[r0] */
    {VM_XOR, 2, 1, 0, 0},           /* r2 ^= r1 */
    {VM_MULI, 2, 0, 0, 0x01000193}, /* r2 *= prime */
    {VM_ROLI, 2, 0, 0, 5},          /* r2 = rol32(r2, 5) */
    {VM_ADD, 2, 0, 0, 0},           /* r2 += r0 */
    {VM_INC, 0, 0, 0, 0},           /* r0++ */
    {VM_DJNZ, 3, 0, 0, 3},          /* if (--r3) goto loop */
    {VM_HALT, 2, 0, 0, 0},          /* return r2 */
};
#define BK_VM_STEPS 512
BK_INLINE __u32 bk_bytecode_vm(const __u8 *p, const __u8 *end) {
  if (p + 256 > end) return 0;
  __u64 r[4] = {0, 0, 0, 0};
  __u32 pc = 0;
  for (__u32 step = 0; step < BK_VM_STEPS; step++) {
    if (pc >= sizeof(bk_vm_prog) / sizeof(bk_vm_prog[0])) return 0;
    const struct bk_vm_insn *in = &bk_vm_prog[pc];
    __u32 a = in->a & 3, b = in->b & 3;
    pc++;
    switch (in->op) {
      case VM_HALT: return (__u32)r[a];
      case VM_LDI: r[a] = in->imm; break;
      case VM_LDB: r[a] = p[r[b] & 255]; break;
      case VM_ADD: r[a] = (__u32)(r[a] + r[b]); break;
      case VM_XOR: r[a] ^= r[b]; break;
      case VM_MULI: r[a] = (__u32)(r[a] * in->imm); break;
      case VM_ROLI: r[a] = bk_rol32((__u32)r[a], in->imm & 31); break;
      case VM_INC: r[a]++; break;
      case VM_DJNZ:
        if (--r[a]) pc = in->imm;
        break;
      default: return 0;
    }
  }
  return 0;
}

/* Signature match, strcmp style: the first of eight NUL-terminated patterns
 * found at any of 64 offsets from the TCP header on; 1 + (pattern << 8 | offset). */
#define BK_SIG_WINDOW 64
static const char bk_sigs[8][16] = {
    "POST /", "PUT /", "DELETE /", "HEAD /", "OPTIONS *", "SSH-2.0-", "\x16\x03\x01", "HTTP/1.1\r\n",
};
BK_INLINE __u32 bk_sigmatch(const __u8 *p, const __u8 *end) {
  const __u8 *w = p + 34;
  if (w + BK_SIG_WINDOW + 16 > end) return 0;
  for (__u32 s = 0; s < 8; s++) {
    for (__u32 off = 0; off < BK_SIG_WINDOW; off++) {
      __u32 k = 0;
      while (k < 16 && bk_sigs[s][k] && w[off + k] == (__u8)bk_sigs[s][k]) k++;
      if (k == 16 || !bk_sigs[s][k & 15]) return 1 + (s << 8 | off);
    }
  }
  return 0;
}

/* Nested loops: 8x8 by 8x8 matrix product of packet bytes, hashed. */
BK_INLINE __u32 bk_matrix(const __u8 *p, const __u8 *end) {
  if (p + 128 > end) return 0;
  __u32 h = bk_le32(p + 124);
  for (__u32 i = 0; i < 8; i++)
    for (__u32 j = 0; j < 8; j++) {
      __u32 c = 0;
      for (__u32 k = 0; k < 8; k++) c += (__u32)p[i * 8 + k] * p[64 + k * 8 + j];
      h = bk_mix(h, c);
    }
  return h;
}

/* Collatz-like arithmetic: 8 seeds from the packet, 48 steps each of
 * n = odd ? 3n + 1 : n / 2 (in mask form), plus a Fibonacci pair mod 2^32. */
BK_INLINE __u32 bk_collatz(const __u8 *p, const __u8 *end) {
  if (p + 64 > end) return 0;
  __u32 h = bk_le32(p + 60);
  __u32 fa = bk_le32(p + 26), fb = bk_le32(p + 30);
  for (__u32 s = 0; s < 8; s++) {
    __u32 n = bk_le32(p + s * 4) | 1;
    for (__u32 i = 0; i < 48; i++) {
      __u32 odd = 0u - (n & 1);
      n = ((3 * n + 1) & odd) | ((n >> 1) & ~odd);
      __u32 f = fa + fb;
      fa = fb;
      fb = f;
    }
    h = bk_mix(h, n ^ fb);
  }
  return h;
}

/* ---- packet -------------------------------------------------------------- */

#define BK_ETH_HLEN 14
#define BK_ETH_P_IP 0x0800
#define BK_IPPROTO_TCP 6

/* Ethernet / IPv4 (no IP options, header checksum verified) / TCP, with the
 * TCP options walked (MSS, window scale, SACK permitted, SACK blocks,
 * timestamps).  Returns a hash of everything found, 0 for anything else.  The
 * option offset is kept modulo 64 so that, to the verifiers, every path
 * through an option leaves the same offset range behind. */
#define BK_TCP_MAX_OPTS 12
BK_INLINE __u32 bk_parse_tcp(const __u8 *p, const __u8 *end) {
  if (p + BK_ETH_HLEN + 20 + 20 > end) return 0;
  if (bk_be16(p + 12) != BK_ETH_P_IP) return 0;
  const __u8 *ip = p + BK_ETH_HLEN;
  if (ip[0] != 0x45 || ip[9] != BK_IPPROTO_TCP) return 0;
  __u32 sum = 0;
  for (__u32 i = 0; i < 20; i += 2) sum += bk_be16(ip + i);
  if (bk_fold(sum) != 0xffff) return 0;
  const __u8 *tcp = ip + 20;
  __u32 optlen = (tcp[12] >> 4) * 4;
  if (optlen < 20) return 0;
  optlen -= 20;
  /* What the options say is mixed into the flow hash as it is found: a
   * single accumulator, so paths through different options merge. */
  __u32 h = bk_be32(ip + 12);
  h = bk_mix(h, bk_be32(ip + 16));
  h = bk_mix(h, bk_be32(tcp));     /* ports */
  h = bk_mix(h, bk_be32(tcp + 4)); /* seq */
  __u32 off = 0;
  for (__u32 n = 0; n < BK_TCP_MAX_OPTS; n++) {
    if (off >= optlen) break;
    const __u8 *o = tcp + 20 + off;
    if (o + 1 > end) break;
    __u8 kind = o[0];
    if (kind == 0) break;
    if (kind == 1) {
      off = (off + 1) & 63;
      continue;
    }
    if (o + 2 > end) break;
    __u8 len = o[1];
    if (len < 2) break;
    if (kind == 2 && len == 4 && o + 4 <= end) h = bk_mix(h, 2u << 16 | bk_be16(o + 2)); /* MSS */
    else if (kind == 3 && len == 3 && o + 3 <= end) h = bk_mix(h, 3u << 16 | o[2]);   /* window scale */
    else if (kind == 8 && len == 10 && o + 10 <= end) {                                 /* timestamps */
      h = bk_mix(h, bk_be32(o + 2));
      h = bk_mix(h, bk_be32(o + 6));
    } else if (kind == 5) h = bk_mix(h, 5u << 16 | (len - 2u) / 8); /* SACK blocks */
    else h = bk_mix(h, (__u32)kind << 16 | len);                     /* SACK permitted, others */
    off = (off + len) & 63;
  }
  return h;
}

/* RFC 1624 incremental checksum update: replace `from` by `to` (16-bit fields). */
BK_INLINE __u16 bk_csum_replace16(__u16 csum, __u16 from, __u16 to) {
  __u32 s = (__u16)~csum + (__u32)(__u16)~from + to;
  return (__u16)~bk_fold(s);
}

/* Reflect-and-NAT: swap the MAC addresses, rewrite the destination to
 * 10.0.0.99:8080, decrement the TTL, with incremental updates of the IPv4 and
 * TCP checksums.  Returns both checksums (the output packet carries the rest). */
BK_INLINE __u32 bk_rewrite(__u8 *p, const __u8 *end) {
  if (p + BK_ETH_HLEN + 20 + 20 > end) return 0;
  if (bk_be16(p + 12) != BK_ETH_P_IP) return 0;
  __u8 *ip = p + BK_ETH_HLEN;
  if (ip[0] != 0x45 || ip[9] != BK_IPPROTO_TCP || ip[8] <= 1) return 0;
  __u8 *tcp = ip + 20;
  for (int i = 0; i < 6; i++) {
    __u8 t = p[i];
    p[i] = p[6 + i];
    p[6 + i] = t;
  }
  __u16 ipc = bk_be16(ip + 10), tcpc = bk_be16(tcp + 16);
  /* TTL shares a 16-bit word with the protocol */
  __u16 old_ttl = bk_be16(ip + 8);
  ip[8]--;
  ipc = bk_csum_replace16(ipc, old_ttl, bk_be16(ip + 8));
  static const __u8 new_daddr[4] = {10, 0, 0, 99};
  for (int i = 0; i < 4; i += 2) {
    __u16 from = bk_be16(ip + 16 + i), to = (__u16)(new_daddr[i] << 8 | new_daddr[i + 1]);
    ipc = bk_csum_replace16(ipc, from, to);
    tcpc = bk_csum_replace16(tcpc, from, to); /* the pseudo header */
    bk_put_be16(ip + 16 + i, to);
  }
  tcpc = bk_csum_replace16(tcpc, bk_be16(tcp + 2), 8080);
  bk_put_be16(tcp + 2, 8080);
  bk_put_be16(ip + 10, ipc);
  bk_put_be16(tcp + 16, tcpc);
  return (__u32)ipc << 16 | tcpc;
}

/* Toeplitz (RSS) hash of the IPv4/TCP 4-tuple with the usual 40-byte key.
 * Callers keep the key in writable data (BK_RSS_KEY_INIT), so that to the
 * verifier each bit's contribution is unknown either way and the two sides of
 * the per-bit branch merge. */
#define BK_RSS_KEY_INIT                                                                          \
  {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,            \
   0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,            \
   0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa}
BK_INLINE __u32 bk_toeplitz(const __u8 *p, const __u8 *end, const __u8 *key) {
  if (p + BK_ETH_HLEN + 20 + 4 > end) return 0;
  const __u8 *ip = p + BK_ETH_HLEN;
  if (bk_be16(p + 12) != BK_ETH_P_IP || ip[0] != 0x45) return 0;
  __u8 in[12];
  for (int i = 0; i < 8; i++) in[i] = ip[12 + i];  /* saddr, daddr */
  for (int i = 0; i < 4; i++) in[8 + i] = ip[20 + i]; /* sport, dport */
  __u32 h = 0;
  __u32 window = bk_be32(key);
  for (int i = 0; i < 12; i++) {
    __u8 next = key[i + 4];
    for (int b = 7; b >= 0; b--) {
      if (in[i] & (1u << b)) h ^= window;
      window = window << 1 | ((next >> b) & 1);
    }
  }
  return h;
}

/* Sum of the big-endian 16-bit words from `seg` to the end of the packet (an
 * odd last byte padded with zero), at most 1480 bytes. */
BK_INLINE __u32 bk_csum_words(const __u8 *seg, const __u8 *end, __u32 sum) {
  for (__u32 off = 0; off < 1480; off += 2) {
    if (seg + off + 2 > end) {
      if (seg + off + 1 <= end) sum += (__u32)seg[off] << 8;
      break;
    }
    sum += bk_be16(seg + off);
  }
  return sum;
}

/* Full TCP checksum: verify over the pseudo header and the whole segment (the
 * rest of the packet, which must match the IPv4 total length; up to 1480
 * bytes), then recompute it into the packet after setting the PSH flag.
 * Returns old << 16 | new checksum, the old one inverted when it was wrong. */
BK_INLINE __u32 bk_tcp_csum(__u8 *p, const __u8 *end) {
  if (p + BK_ETH_HLEN + 20 + 20 > end) return 0;
  if (bk_be16(p + 12) != BK_ETH_P_IP) return 0;
  __u8 *ip = p + BK_ETH_HLEN;
  if (ip[0] != 0x45 || ip[9] != BK_IPPROTO_TCP) return 0;
  __u32 seg = (__u32)bk_be16(ip + 2);
  if (seg < 40 || seg > 1500) return 0;
  seg -= 20;
  __u8 *tcp = ip + 20;
  if (tcp + seg != end) return 0;
  __u32 pseudo = bk_be16(ip + 12) + bk_be16(ip + 14) + bk_be16(ip + 16) + bk_be16(ip + 18) + BK_IPPROTO_TCP + seg;
  __u32 sum = bk_csum_words(tcp, end, pseudo);
  __u16 old = bk_be16(tcp + 16);
  __u16 ok = bk_fold(sum) == 0xffff;
  tcp[13] |= 0x08; /* PSH */
  bk_put_be16(tcp + 16, 0);
  sum = bk_csum_words(tcp, end, pseudo);
  __u16 fresh = (__u16)~bk_fold(sum);
  bk_put_be16(tcp + 16, fresh);
  return (__u32)(old ^ !ok) << 16 | fresh;
}

#endif
