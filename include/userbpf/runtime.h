// Runtime: a loaded object made live — maps created and initialised, map references
// in the code resolved to host pointers, context accesses rewritten, one engine per
// program.  This is the embedding API's centre: load an object, find a program,
// run it on a context, read its maps.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/loader.h"
#include "userbpf/maps.h"
#include "userbpf/result.h"
#include "userbpf/verifier.h"
#include "userbpf/vm.h"

namespace userbpf::runtime {

class Object;

// A program ready to run.  Immutable after load: runs may happen on many threads.
class Program {
 public:
  const loader::ProgramSpec& spec() const { return *spec_; }
  const std::string& name() const { return spec_->name; }
  uint32_t prog_type() const { return spec_->prog_type; }
  uint32_t id() const { return id_; }  // process-wide, what prog_array slots hold
  // Final instructions: lddw map references carry host pointers (src 0), context
  // accesses rewritten for the program type.
  const std::vector<isa::Insn>& insns() const { return insns_; }
  const vm::Engine& engine() const { return *engine_; }
  // What the verifier proved per instruction of spec().insns (empty when the
  // object was loaded with verify = false).
  const std::vector<verifier::InsnFacts>& facts() const { return facts_; }
  const verifier::VerifyStats& verify_stats() const { return verify_stats_; }
  Object& object() const { return *object_; }
  // The options engine() was built with (its helpers, the proofs and array
  // lookup sites taken from facts()): to build another engine of the program.
  vm::EngineOptions engine_options() const;

 private:
  friend class Object;
  friend Result<uint64_t> run_program(const Program& prog, vm::ExecContext& ctx);
  const loader::ProgramSpec* spec_ = nullptr;
  Object* object_ = nullptr;
  uint32_t id_ = 0;
  std::vector<isa::Insn> insns_;
  std::unique_ptr<vm::Engine> engine_;
  std::vector<verifier::InsnFacts> facts_;
  verifier::VerifyStats verify_stats_;
  std::vector<uint32_t> proofs_;  // per slot of insns_; empty when not verified
  std::vector<vm::ArrayLookupSite> array_sites_;
  // When the engine leaves the verified context accesses unchecked (the JIT):
  // the bytes of context they read, and the span they write, checked once per
  // run by run_program.
  uint32_t trusted_ctx_size_ = 0;
  uint32_t trusted_ctx_write_lo_ = 0, trusted_ctx_write_hi_ = 0;
};

// The live program with this id in this process (prog_array / tail calls).
Program* program_by_id(uint32_t id);

struct ObjectOptions {
  // "auto" (the JIT for verified programs, the checked interpreter with
  // verify = false), "jit" or "interp".
  std::string engine = "auto";
  // Verify every program first and refuse the object if one is rejected
  // (ErrorKind::Rejected, the message holding the explanation).  Without it the
  // checked interpreter still stops every out-of-bounds access at run time.
  bool verify = true;
  // Load only these programs (by name; empty: all).  prog_array slots naming a
  // program left out stay empty.
  std::vector<std::string> programs;
};

// Where trace_printk / trace_vprintk text goes (default: stderr).
using TraceSink = std::function<void(std::string_view line)>;

// Per-run state that helpers reach through vm::ExecContext::user.
struct RunState {
  Object* object = nullptr;
  const Program* program = nullptr;
  int tail_call_count = 0;  // the kernel allows 33 tail calls per run
  void* hook_ctx = nullptr; // the hook's own context (packet buffers ...), opaque here
  const TraceSink* trace = nullptr;
};

class Object {
 public:
  // Creates every map (global data initialised, map-in-map and prog_array slots
  // filled), resolves map references and builds an engine per program.
  static Result<std::unique_ptr<Object>> load(loader::ObjectSpec spec, const ObjectOptions& opts = {});
  ~Object();

  const loader::ObjectSpec& spec() const { return spec_; }
  std::span<const std::unique_ptr<Program>> programs() const { return programs_; }
  const Program* find_program(std::string_view name) const;
  // The live map for ObjectSpec::maps[index]; nullptr for inner-map templates.
  maps::Map* map(size_t index) const { return index < maps_.size() ? maps_[index].get() : nullptr; }
  size_t num_maps() const { return maps_.size(); }
  const vm::HelperRegistry& helpers() const { return helpers_; }

  // Prepares an ExecContext for a run of `prog`: helpers, map memory regions,
  // RunState.  The caller adds the context/packet regions and r1.
  void prepare(const Program& prog, vm::ExecContext& ctx, RunState& state) const;

  void set_trace_sink(TraceSink sink) { trace_ = std::move(sink); }

 private:
  Object() = default;
  loader::ObjectSpec spec_;
  std::vector<std::unique_ptr<maps::Map>> maps_;
  std::vector<std::unique_ptr<Program>> programs_;
  std::vector<vm::Region> map_regions_;
  vm::HelperRegistry helpers_;
  TraceSink trace_;
};

// Runs `prog` with r1 = ctx.args[0]; used by hooks and by bpf_tail_call.  Under
// the JIT, a verified program's context accesses are not checked, so r1 must
// point to that much context memory in ctx's regions (an error otherwise).
Result<uint64_t> run_program(const Program& prog, vm::ExecContext& ctx);

}  // namespace userbpf::runtime
