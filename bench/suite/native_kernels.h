/* The kernels of bench/progs/kernels.h compiled for the host at -O2: the
 * suite's "native" column.  One entry per benchmark program that has a pure C
 * kernel (the map programs have none). */
#ifndef USERBPF_BENCH_NATIVE_KERNELS_H
#define USERBPF_BENCH_NATIVE_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs on the packet in place (some kernels rewrite it), like the XDP program. */
typedef uint32_t (*bench_native_fn)(uint8_t *data, const uint8_t *data_end);

struct bench_native {
  const char *name; /* the XDP program's name */
  bench_native_fn fn;
};

/* Ends with {NULL, NULL}. */
extern const struct bench_native bench_natives[];

#ifdef __cplusplus
}
#endif

#endif
