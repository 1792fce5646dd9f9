// For the conformance plugin's --elf mode (r1 = input memory, not a kernel context):
// adds the first two u64 words of the memory through a bpf-to-bpf call.
// Not meant for the kernel: it reads r1 as plain memory.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline __u64 add(__u64 a, __u64 b) { return a + b; }

SEC("socket")
__u64 sum_words(__u64 *mem) { return add(mem[0], mem[1]); }

char LICENSE[] SEC("license") = "GPL";
