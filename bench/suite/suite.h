// The benchmark suite (userbpf_suite): every program of bench/progs run on one
// packet by userbpf's JIT and interpreter, by the kernel (BPF_PROG_TEST_RUN)
// and, where a plain C kernel exists, natively.  Shared declarations.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "userbpf/result.h"
#include "native_kernels.h"

namespace userbpf::runtime {
class Object;
class Program;
}  // namespace userbpf::runtime

struct bpf_object;
struct bpf_program;

namespace userbpf::bench {

using Bytes = std::vector<uint8_t>;

// One map element the suite writes before the first run, into userbpf's map
// and the kernel's alike (by map name).
struct MapEntry {
  std::string map;
  Bytes key, value;
};

struct ProgramInfo {
  std::string name;      // the object is <name>.bpf.o, the program <name>
  std::string category;  // compute, packet or maps
  bench_native_fn native = nullptr;
  std::vector<MapEntry> (*fill)(const Bytes& packet) = nullptr;  // nullptr: maps start empty
};

// Every program of the suite, in table order.
const std::vector<ProgramInfo>& suite_programs();

// The input: Ethernet / IPv4 / TCP with MSS, SACK permitted, timestamps and
// window scale options and an HTTP request as payload, 600 bytes.
Bytes suite_packet();

// Map name -> key -> value.  Per-CPU values are summed over the CPUs (as
// 64-bit words), since the kernel and userbpf may run on different CPUs.
using MapDump = std::map<std::string, std::map<Bytes, Bytes>>;

// What one run left behind: compared across engines.
struct RunOutcome {
  uint32_t retval = 0;
  Bytes data_out;
  MapDump maps;
  uint64_t insns = 0;  // instructions executed (userbpf engines only)
};

// userbpf: one object loaded with one engine.
class OurRunner {
 public:
  // Loads (and verifies) the object with engine "interp" or "jit".
  static Result<std::unique_ptr<OurRunner>> load(const std::string& path, const std::string& prog,
                                                 const std::string& engine);
  ~OurRunner();
  Status fill(const std::vector<MapEntry>& entries);
  // One run through the test_run path, counting executed instructions.
  Result<RunOutcome> run_once(const Bytes& packet);
  // Mean ns per run over `repeat` runs of hooks::test_run (the thread's CPU
  // time around it).
  Result<double> time(const Bytes& packet, uint32_t repeat);
  size_t num_insns() const;  // the program's final instruction count
  const runtime::Program& program() const { return *prog_; }

 private:
  OurRunner() = default;
  std::unique_ptr<runtime::Object> obj_;
  const runtime::Program* prog_ = nullptr;
};

// The kernel through libbpf: one object loaded, maps filled, test runs.
class KernelRunner {
 public:
  static Result<std::unique_ptr<KernelRunner>> load(const std::string& path, const std::string& prog);
  ~KernelRunner();
  Status fill(const std::vector<MapEntry>& entries);
  Result<RunOutcome> run_once(const Bytes& packet);
  // The kernel's own `duration` (mean ns per run) for `repeat` runs.
  Result<double> time(const Bytes& packet, uint32_t repeat);

 private:
  KernelRunner() = default;
  bpf_object* obj_ = nullptr;
  bpf_program* prog_ = nullptr;
};

// Whether this process may load BPF programs into the kernel; why not otherwise.
bool kernel_available(std::string* why);

// Native C: the kernel function on a copy of the packet.
RunOutcome native_run_once(bench_native_fn fn, const Bytes& packet);
double native_time(bench_native_fn fn, const Bytes& packet, uint32_t repeat);  // thread CPU time

// Nanoseconds to build the JIT engine for `prog` (best of a few builds), or an
// error (Unsupported while there is no JIT).
Result<double> jit_compile_ns(const runtime::Program& prog);

}  // namespace userbpf::bench
