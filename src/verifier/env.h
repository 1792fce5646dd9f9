// The verifier's working environment for one program (the kernel's
// bpf_verifier_env): the program, its maps, the paths still to explore, the
// states kept for pruning, and the checks of each instruction family.  Split by
// concept over verifier.cpp (exploration, pruning), cfg.cpp (structure,
// liveness), check_alu.cpp, check_mem.cpp, check_jmp.cpp, check_call.cpp and
// explain.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/verifier.h"
#include "verifier/helper_protos.h"
#include "verifier/state.h"

namespace userbpf::verifier {

// One entry of a path's history since its last kept state, enough to walk the
// path backwards (precision tracking, the kernel's jmp_history): where control
// did not fall through, which stack slots an instruction touched, and which
// linked scalars a conditional jump refined together.
struct HistEntry {
  enum Kind : uint8_t { Jump, StackAccess, Linked };
  Kind kind = Jump;
  uint8_t frame = 0;   // StackAccess: frame of the slots
  bool var = false;    // StackAccess: variable offset (slots: the ones it may touch)
                       // Linked: partners also in other frames
  uint16_t regs = 0;   // Linked: registers of the jump's frame refined with the operands
  int32_t pc = 0;      // Jump: instruction reached; others: instruction that made the entry
  int32_t prev = 0;    // Jump: instruction executed before it
  uint64_t slots = 0;  // bit i: the slot fp-8*(i+1)
};

// Registers and stack slots, per frame, whose values must be precise.
struct BtSet {
  struct Frame {
    uint16_t regs = 0;
    uint64_t slots = 0;
  };
  static constexpr size_t kFrames = 10;
  std::array<Frame, kFrames> f{};
  bool empty() const {
    for (const auto& x : f)
      if (x.regs || x.slots) return false;
    return true;
  }
};

// A state kept at a pruning point.  `branches` counts paths still being explored
// below it; 0 means everything reachable from it was proven safe.
struct Checkpoint {
  State st;
  Checkpoint* parent = nullptr;
  int branches = 0;
  uint32_t hits = 0, misses = 0;
  // The path from the parent's state to this one (precision tracking):
  // hist_len entries of Env::hist_arena_ from hist_at.
  size_t hist_at = 0, hist_len = 0;
  int32_t seg_start = 0;     // where that path started (the parent's pc, or the entry)
  bool all_precise = false;  // every scalar marked precise, and so in every ancestor
  uint64_t fingerprint = 0;  // state_fingerprint(st)
  int32_t pc = 0;            // st.pc
  uint32_t nframes = 0;      // st.frames.size()
  // Evicted while paths below are open: no longer compared, so its state is
  // given back and only what was marked precise in it is remembered (marks
  // then pass through it to the states above).
  bool slim = false;
  BtSet precise_set;
};

// Log of one path: a chain of processed instructions (only kept with --log).
struct LogNode {
  std::shared_ptr<const LogNode> prev;
  int32_t pc = 0;
  std::string text;
};

struct Path {
  State st;
  Checkpoint* parent = nullptr;
  std::shared_ptr<const LogNode> log;
  std::vector<HistEntry> hist;  // since `parent` (or the entry)
  int32_t seg_start = 0;
  int32_t last_pc = -1;         // instruction executed last on this path
};

// What is wrong with the program, for VerifyResult.
struct Rejection {
  int32_t pc = -1;
  std::string message;      // kernel-style one-liner: "R0 invalid mem access 'map_value_or_null'"
  std::string why;          // one sentence on what is unsafe
  std::string hint;         // the usual fix
  std::vector<int> regs;    // registers involved (their state is printed)
  State state;              // the state at the failing instruction
  bool has_state = false;
};

class Env {
 public:
  Env(const loader::ProgramSpec& prog, std::span<const loader::MapDef> maps, const VerifyOptions& opts);
  // Explores every path; false when the program is rejected (rejection() says why).
  bool run();
  Status structure_error() const { return structure_error_; }
  const Rejection& rejection() const { return rej_; }
  VerifyStats& stats() { return stats_; }
  std::vector<InsnFacts>& facts() { return facts_; }
  std::string explain() const;
  std::string path_log() const;

  // ---- shared by the check_* files ----
  const loader::ProgramSpec& prog;
  std::span<const isa::Insn> insns;
  std::span<const loader::MapDef> maps;
  const VerifyOptions& opts;
  std::vector<std::string> map_names;

  // Records the rejection at the current instruction; always returns false.
  bool fail(std::string message, std::string why = {}, std::string hint = {}, std::vector<int> regs = {});
  uint32_t new_id() { return ++id_gen_; }
  const maps::MapSpec* map_spec(int32_t index) const {
    return index >= 0 && static_cast<size_t>(index) < maps.size() ? &maps[static_cast<size_t>(index)].spec : nullptr;
  }
  bool map_is_rdonly(int32_t index) const;
  // Pushes a copy of `st` to be explored from `pc` later.
  void push_branch(const State& st, int32_t pc);
  void push_branch(State&& st, int32_t pc);
  void set_fact(int32_t pc, uint16_t flags);
  // The map a helper call at pc_ is passed on this path (kCallMapVaries: not one known map).
  void note_call_map(int32_t map);
  void note_stack_depth(Frame& f, int64_t lowest_off);
  int32_t func_index(int32_t pc) const { return func_of_[static_cast<size_t>(pc)]; }
  std::vector<uint32_t> subprog_depth_;  // deepest stack byte used, per function

  // Per-instruction checks.  Each advances cur_.st.pc (or pushes branches) and
  // returns false on rejection.  `done` is set when the path ends here.
  bool check_alu(const isa::Insn& in, const isa::InsnSpec& spec);
  bool check_lddw(const isa::Insn& in);
  bool check_load(const isa::Insn& in, const isa::InsnSpec& spec);
  bool check_store(const isa::Insn& in, const isa::InsnSpec& spec);
  bool check_atomic(const isa::Insn& in, const isa::InsnSpec& spec);
  bool check_legacy_load(const isa::Insn& in, const isa::InsnSpec& spec);
  bool check_cond_jump(const isa::Insn& in, const isa::InsnSpec& spec);
  bool check_helper_call(const isa::Insn& in);
  bool check_local_call(const isa::Insn& in);
  bool check_global_call(const isa::Insn& in, const loader::FunctionSpan& fn);
  bool check_exit(bool& done);
  void enter_callback(State& st, int32_t callsite, int32_t start, CallbackKind kind);

  // Memory access through register `regno` at `off` for `size` bytes; `value`
  // is the register stored (-1 for an immediate / none) or, for loads, the
  // destination written.  Shared by loads, stores, atomics and helper arguments.
  enum class Access : uint8_t { Read, Write };
  bool check_mem_access(int regno, int32_t off, uint32_t size, Access t, int value_reg, bool sign_ext,
                        const isa::Insn* insn, bool atomic = false);
  // Memory passed to a helper: `size` bytes (umax of a size register) starting at regno.
  bool check_helper_mem(int regno, const Scalar& size, bool zero_ok, Access t);
  bool check_reg_init(int regno) { return cur_.st.reg(regno).type != RegType::NotInit || reg_not_init(regno); }
  bool reg_not_init(int regno);  // the rejection
  void mark_reg_unknown(Reg& r) { r = Reg::unknown(); }
  void invalidate_packet_pointers();
  void release_reference(uint32_t ref_id);
  void mark_ptr_or_null(uint32_t id, bool is_null);
  // Copies refined bounds of a linked scalar to every register sharing its id.
  void sync_linked_scalars(const Reg& r);

  // ---- precision tracking (precision.cpp) ----
  // The value of register `regno` (current frame) at the entry of the current
  // instruction decides something: mark it, and where it came from, precise in
  // every kept state of this path.
  void mark_precise(int regno);
  void mark_precise_slot(size_t frame, size_t slot);
  void mark_chain_precision(BtSet s);
  // Stack slots [lo, hi) bytes of `frame` touched by the current instruction.
  void note_stack_access(size_t frame, int64_t lo, int64_t hi, bool var);
  // The current conditional jump refines scalars linked to its operands.
  void note_linked_jump(const isa::Insn& in, bool x);

  Path cur_;
  int32_t pc_ = 0;  // instruction being checked

 private:
  bool check_structure();
  void compute_liveness();
  bool step(bool& done);
  // At a pruning point: true when an explored state subsumes the current one.
  bool visit_state(bool& pruned);
  void finish_path();
  void log_insn();
  void log_effect();
  void merge_facts(int32_t pc);
  uint16_t visit_flags_ = 0;
  std::vector<uint8_t> mem_base_;  // per instruction: 1 ctx, 2 other memory (loads/stores)

  bool backtrack_segment(const HistEntry* hist, size_t n, int32_t seg_start, int32_t i, int& depth, BtSet& s);
  bool backtrack_insn(int32_t p, int depth, bool entered_callee, const HistEntry* stack, const HistEntry* linked,
                      BtSet& s);
  void mark_in_checkpoint(Checkpoint& cp, BtSet& s);
  void mark_all_precise(Checkpoint* from);
  // After `cur` was pruned by `old`: what old relied on, cur's past must keep.
  void propagate_precision(const State& old);
  std::vector<int32_t> seq_prev_;  // instruction before each one when falling through
  std::vector<int32_t> seq_next_;

  bool check_combined_stack();
  bool explore(State init);
  // Global functions (by index into subprog_starts_): verified on their own.
  std::vector<const loader::FunctionSpan*> global_func_;
  std::vector<uint8_t> global_called_;
  std::vector<int32_t> subprog_starts_;  // first instruction of every function, sorted
  std::vector<std::pair<int32_t, int32_t>> call_edges_;  // (call or callback lddw, callee start)
  std::vector<const isa::InsnSpec*> specs_;  // decoded once
  std::vector<int32_t> func_of_;         // instruction -> index into subprog_starts_
  std::vector<uint8_t> prune_point_;     // states are kept here
  std::vector<uint8_t> callback_entry_;  // first instruction of a callback
  std::vector<uint16_t> live_in_;        // registers read before written, per instruction
  std::vector<std::vector<Checkpoint*>> explored_;  // per instruction; owned by checkpoints_
  std::deque<Checkpoint> checkpoints_;  // every checkpoint (evicted ones may still be parents)
  std::vector<Checkpoint*> free_cps_;   // evicted with nothing open below: reused
  std::vector<HistEntry> hist_arena_;   // the checkpoints' history segments, back to back
  std::vector<State> spare_states_;     // states of slimmed checkpoints, reused for new ones
  void slim_checkpoint(Checkpoint& cp);
  std::vector<Path> stack_;
  std::vector<InsnFacts> facts_;
  VerifyStats stats_;
  Rejection rej_;
  Status structure_error_ = ok_status();
  uint32_t id_gen_ = 0;
  uint64_t live_states_ = 0;
  uint64_t jmps_ = 0, prev_jmps_ = 0, prev_insns_ = 0;
  std::shared_ptr<const LogNode> fail_log_;
};

// "R<n>" for messages, built only when a message is (checks run millions of times).
struct RegName {
  int r;
  std::string str() const { return "R" + std::to_string(r); }
};
inline std::string operator+(RegName n, const std::string& s) { return n.str() + s; }
inline std::string operator+(RegName n, const char* s) { return n.str() + s; }
inline std::string operator+(const std::string& s, RegName n) { return s + n.str(); }
inline std::string operator+(const char* s, RegName n) { return s + n.str(); }

// Where `pc` sits: "insn 12: r0 = *(u32 *)(r1 + 0)".
std::string insn_text(std::span<const isa::Insn> insns, int32_t pc);

}  // namespace userbpf::verifier
