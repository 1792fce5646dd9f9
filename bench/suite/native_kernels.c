/* Native builds of the benchmark kernels (see native_kernels.h).  Called
 * through the table's function pointers, so the suite's timing loop cannot
 * hoist or merge the work of successive runs. */
#include "native_kernels.h"

#include "kernels.h"

/* The data the BPF programs keep in writable globals, with the same values. */
__u8 bench_rss_key[40] = BK_RSS_KEY_INIT;
__u32 bench_sort_mask = BK_SORT_N - 1;

#define BENCH_NATIVE(name) \
  static uint32_t native_##name(uint8_t *d, const uint8_t *e) { return bk_##name(d, e); }

BENCH_NATIVE(fnv1a)
BENCH_NATIVE(jhash)
BENCH_NATIVE(murmur3)
BENCH_NATIVE(inet_csum)
BENCH_NATIVE(crc32)
BENCH_NATIVE(crc32_unrolled)
BENCH_NATIVE(bitcount)
BENCH_NATIVE(bytecode_vm)
BENCH_NATIVE(sigmatch)
BENCH_NATIVE(matrix)
BENCH_NATIVE(collatz)
BENCH_NATIVE(parse_tcp)
BENCH_NATIVE(rewrite)
BENCH_NATIVE(tcp_csum)

static uint32_t native_isort(uint8_t *d, const uint8_t *e) { return bk_isort(d, e, bench_sort_mask); }
static uint32_t native_toeplitz(uint8_t *d, const uint8_t *e) { return bk_toeplitz(d, e, bench_rss_key); }

#define BENCH_ENTRY(name) {#name, native_##name}

const struct bench_native bench_natives[] = {
    BENCH_ENTRY(fnv1a),     BENCH_ENTRY(jhash),       BENCH_ENTRY(murmur3),  BENCH_ENTRY(inet_csum),
    BENCH_ENTRY(crc32),     BENCH_ENTRY(crc32_unrolled), BENCH_ENTRY(bitcount), BENCH_ENTRY(isort),
    BENCH_ENTRY(bytecode_vm), BENCH_ENTRY(sigmatch),  BENCH_ENTRY(matrix),   BENCH_ENTRY(collatz),
    BENCH_ENTRY(parse_tcp), BENCH_ENTRY(rewrite),     BENCH_ENTRY(toeplitz), BENCH_ENTRY(tcp_csum),
    {0, 0},
};
