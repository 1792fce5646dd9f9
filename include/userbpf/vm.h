// Execution engines: the checked interpreter and the x86-64 JIT (userbpf/jit.h),
// behind one interface.
// An engine is built once per program and may run on many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/result.h"

namespace userbpf::vm {

// A host memory range a program may touch.  The checked interpreter refuses any
// access that does not fall entirely inside one region (or the live stack).
struct Region {
  uintptr_t start = 0;
  size_t size = 0;
  bool writable = false;
  const char* name = "memory";  // for error messages: "input", "ctx", "packet", "map value" ...
};

struct ExecContext;

// Helper calling convention: r1..r5 in, r0 out, plus the running program's context.
// The same signature serves the interpreter and the JIT (System V: six integer args).
using HelperFn = uint64_t (*)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ExecContext* ctx);

struct HelperInfo {
  int32_t id = 0;
  std::string name;
  HelperFn fn = nullptr;
  // The same helper without re-checking what the verifier proves of its
  // arguments (map pointer kind, key/value memory); only the JIT calls it, and
  // only for verified programs.  The checked engines keep `fn`.  It never sets
  // ctx.stop, so the JIT does not test it afterwards.
  HelperFn trusted = nullptr;
};

// Helpers by id (linux/bpf.h numbering).  Filled before engines are built; read-only after.
class HelperRegistry {
 public:
  void add(int32_t id, std::string name, HelperFn fn);
  // Sets the trusted variant of a helper already added.
  void set_trusted(int32_t id, HelperFn fn);
  const HelperInfo* find(int32_t id) const;
  std::span<const HelperInfo> all() const { return helpers_; }

 private:
  std::vector<HelperInfo> helpers_;
  std::vector<int32_t> index_;  // id -> position in helpers_, -1 when absent
};

// Everything one run needs besides the program.  One per run / per thread.
struct ExecContext {
  const HelperRegistry* helpers = nullptr;
  std::vector<Region> regions;         // input memory, ctx, packet, map values, globals ...
  uint64_t args[5] = {0, 0, 0, 0, 0};  // r1..r5 at entry
  uint64_t insn_budget = 100'000'000;  // stop a runaway program after this many instructions
  std::span<const uint8_t> legacy_packet;  // what LD_ABS/LD_IND read (socket filters)
  void* user = nullptr;                // owner's state (maps, program context) for helpers

  // Set by a helper to end the program at once with r0 = stop_value (bpf_tail_call, unwind).
  bool stop = false;
  uint64_t stop_value = 0;
  // Set with `stop` to end the run with this error instead (a fault inside a
  // bpf_loop callback or a tail-called program).
  std::optional<Error> stop_error;

  // Filled by the engine: instructions executed by the last run.  The JIT
  // counts (exactly as the interpreter does) only programs compiled without
  // proof::kVerified; for verified programs it leaves 0 here and ignores
  // insn_budget (the verifier proved that every path ends).
  uint64_t insns_executed = 0;

  // Whether [addr, addr+len) is inside a registered region (or the live stack while
  // a run is in progress).  Helpers use it to validate pointers they are handed.
  bool accessible(uint64_t addr, uint64_t len, bool write) const;
  // Live stack bounds, maintained by the engine during a run.
  uintptr_t stack_lo = 0, stack_hi = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Runs the program; r0 at exit, or an error naming the faulting instruction.
  virtual Result<uint64_t> run(ExecContext& ctx) const = 0;
  // Calls the bpf function starting at instruction `entry` with r1..r5 = args, from
  // inside a helper of a run in progress (bpf_loop / for_each_map_elem callbacks).
  // The caller's live stack stays accessible to the callee.  `entry` is what an
  // lddw with src = pseudo::FUNC evaluates to: the absolute instruction index.
  virtual Result<uint64_t> call_function(ExecContext& ctx, uint64_t entry, const uint64_t args[5]) const;
  virtual const char* name() const = 0;
};

// What the verifier proved about each instruction, in the engines' terms (the
// runtime translates verifier::InsnFacts).  An engine may drop a run-time check
// only where the proof is present; without proofs everything stays checked.
namespace proof {
inline constexpr uint32_t kMemSafe = 1u << 0;         // load/store/atomic: in bounds and aligned on every path
inline constexpr uint32_t kNonNull = 1u << 1;         // its base pointer is never NULL
inline constexpr uint32_t kDivisorNonZero = 1u << 2;  // div/mod by register: the divisor is never zero
inline constexpr uint32_t kFits32 = 1u << 3;          // the result's upper 32 bits are zero
// Set on every slot of a program the verifier accepted: every path ends (no
// instruction budget needed) and r1-r5 are never read after a call before
// being written again.
inline constexpr uint32_t kVerified = 1u << 4;
}  // namespace proof

// A bpf_map_lookup_elem call on one array map, known on every path (the
// verifier's word): its elements' layout, so that the JIT can compute the
// element's address in line, as the kernel's map_gen_lookup does.
struct ArrayLookupSite {
  uint32_t slot = 0;          // the call instruction
  uint32_t max_entries = 0;
  uint8_t* values = nullptr;  // element 0 (of CPU 0)
  uint64_t stride = 0;        // bytes from one element to the next
  uint64_t cpu_stride = 0;    // per-CPU arrays: bytes from one CPU's value to the next; else 0
  uint32_t ncpus = 1;         // per-CPU arrays: CPUs with a value
};

struct EngineOptions {
  const HelperRegistry* helpers = nullptr;  // helpers the program may call (checked at build)
  int max_cpu = 4;
  // One entry per instruction slot (proof:: bits), or empty: nothing proven.
  // Only read while the engine is built.
  std::span<const uint32_t> proofs;
  // Verified programs only, sorted by slot; the maps must outlive the engine.
  std::span<const ArrayLookupSite> array_lookups;
};

// Validates and pre-decodes the program for the checked interpreter.
Result<std::unique_ptr<Engine>> make_interpreter(std::span<const isa::Insn> prog, const EngineOptions& opts = {});
// Engine by name ("interp", "jit" or "auto"), as the CLI's --engine option
// spells it.  "auto" is the JIT for a verified program (opts.proofs given) on a
// host it supports, the checked interpreter otherwise.
Result<std::unique_ptr<Engine>> make_engine(std::string_view name, std::span<const isa::Insn> prog,
                                            const EngineOptions& opts = {});
// The engine "auto" stands for: "jit" or "interp".  Other names are returned as they are.
std::string_view resolve_engine(std::string_view name, bool verified);

}  // namespace userbpf::vm
