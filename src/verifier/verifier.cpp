// Path exploration and state pruning (the kernel's do_check and
// is_state_visited), and the public verify().
//
// Paths are explored depth first: at a conditional jump the fall-through is
// followed and the other branch pushed.  At pruning points the current state is
// compared with the states kept there: one that was fully explored (no branch
// below it still open) and subsumes the current state proves it safe, so the
// path stops.  A state equal to one still open below which we are means a loop
// that makes no progress.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "verifier/env.h"

namespace userbpf::verifier {

using isa::Insn;
using isa::Kind;
using isa::Op;

Env::Env(const loader::ProgramSpec& p, std::span<const loader::MapDef> m, const VerifyOptions& o)
    : prog(p), insns(p.insns), maps(m), opts(o) {
  for (const auto& md : maps) map_names.push_back(md.spec.name);
  facts_.assign(insns.size(), InsnFacts{});
  mem_base_.assign(insns.size(), 0);
}

bool Env::map_is_rdonly(int32_t index) const {
  constexpr uint32_t kRdonlyProg = 1u << 7;  // BPF_F_RDONLY_PROG
  const maps::MapSpec* s = map_spec(index);
  return s && (s->map_flags & kRdonlyProg);
}

bool Env::fail(std::string message, std::string why, std::string hint, std::vector<int> regs) {
  if (rej_.pc >= 0 && !rej_.message.empty()) return false;  // keep the first
  rej_.pc = pc_;
  rej_.message = std::move(message);
  rej_.why = std::move(why);
  rej_.hint = std::move(hint);
  rej_.regs = std::move(regs);
  if (!cur_.st.frames.empty()) {
    rej_.state = cur_.st;
    rej_.has_state = true;
  }
  fail_log_ = cur_.log;
  return false;
}

void Env::push_branch(const State& st, int32_t pc) { push_branch(State(st), pc); }

void Env::push_branch(State&& st, int32_t pc) {
  Path p{std::move(st), cur_.parent, cur_.log, cur_.hist, cur_.seg_start, pc_};
  p.st.pc = pc;
  if (cur_.parent) ++cur_.parent->branches;
  stack_.push_back(std::move(p));
}

void Env::set_fact(int32_t pc, uint16_t flags) {
  (void)pc;
  visit_flags_ |= flags;
}

void Env::note_call_map(int32_t map) {
  int32_t& known = facts_[static_cast<size_t>(pc_)].call_map;
  if (known == kCallMapNone) known = map;
  else if (known != map) known = kCallMapVaries;
}

// Facts of one visit are merged into what earlier visits proved: a safety fact
// holds only if it held on every visit.
void Env::merge_facts(int32_t pc) {
  InsnFacts& f = facts_[static_cast<size_t>(pc)];
  constexpr uint16_t kAll = kMemSafe | kNonNull | kDivisorNonZero | kFits32 | kDeadBranchTaken | kDeadBranchFallthrough |
                           kCtxAccess | kStackAccess | kPacketAccess | kMapValueAccess;
  if (!(f.flags & kReached)) {
    f.flags = static_cast<uint16_t>(visit_flags_ | kReached);
  } else {
    f.flags = static_cast<uint16_t>((f.flags & visit_flags_ & kAll) | ((f.flags | visit_flags_) & ~kAll) | kReached);
  }
  visit_flags_ = 0;
}

void Env::note_stack_depth(Frame& f, int64_t lowest_off) {
  if (lowest_off >= 0) return;
  const uint32_t d = static_cast<uint32_t>(-lowest_off);
  if (d > f.stack_depth) f.stack_depth = d;
  const size_t fi = static_cast<size_t>(func_index(f.subprog));
  if (d > subprog_depth_[fi]) subprog_depth_[fi] = d;
}

void Env::finish_path() {
  for (Checkpoint* cp = cur_.parent; cp; cp = cp->parent) {
    if (--cp->branches > 0) break;
  }
  cur_.parent = nullptr;
}

bool Env::visit_state(bool& pruned) {
  pruned = false;
  const size_t pc = static_cast<size_t>(pc_);
  auto& list = explored_[pc];
  const uint32_t live = live_in_[pc];
  const bool callback = callback_entry_[pc] != 0;
  // The current state's fingerprint, computed at most once per visit.
  std::optional<uint64_t> cur_fp;
  auto fingerprint = [&] {
    if (!cur_fp) cur_fp = state_fingerprint(cur_.st);
    return *cur_fp;
  };
  for (size_t i = 0; i < list.size(); ++i) {
    Checkpoint* cp = list[i];
    if (cp->branches > 0) {
      // Still being explored: we are below it, having come round a loop.
      if (callback) {
        // A callback re-entered: helpers bound the iterations, so a state already
        // being explored covers this one.  Its precision marks are not complete
        // yet: compare every number, and keep every number of this path's past.
        if (state_subsumes(cp->st, cur_.st, live, true)) {
          ++cp->hits;
          if (opts.precision_tracking) mark_all_precise(cur_.parent);
          pruned = true;
          return true;
        }
      } else if (cp->fingerprint == fingerprint() &&
                 state_equal(cp->st, cur_.st)) {
        return fail("infinite loop detected at insn " + std::to_string(pc),
                    "the loop came back to the same instruction in exactly the same state, so it can never end",
                    "make sure the loop variable changes on every iteration and is checked against a bound");
      }
      continue;
    }
    if (state_subsumes(cp->st, cur_.st, live, callback || !opts.precision_tracking)) {
      ++cp->hits;
      ++stats_.pruned;
      // What the kept state's exploration relied on, this path must keep too.
      if (callback) {
        if (opts.precision_tracking) mark_all_precise(cur_.parent);
      } else {
        propagate_precision(cp->st);
      }
      pruned = true;
      return true;
    }
  }
  const bool add = callback || (jmps_ - prev_jmps_ >= 2 && stats_.processed_insns - prev_insns_ >= 8);
  // Rarely matching states only slow the search down (the kernel's heuristic);
  // evicted ones stay alive (in checkpoints_) while paths below them are open.
  if (add) {
    for (size_t i = 0; i < list.size(); ++i) {
      Checkpoint* cp = list[i];
      const uint32_t n = callback && cp->branches > 0 ? 64 : 3;
      if (++cp->misses > cp->hits * n + n) {
        // Nothing open below a finished state can reach it again: reuse it.
        if (cp->branches == 0) free_cps_.push_back(cp);
        else slim_checkpoint(*cp);
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
        --i;
        --live_states_;
      }
    }
  }
  if (!add) return true;
  prev_jmps_ = jmps_;
  prev_insns_ = stats_.processed_insns;
  Checkpoint* cp;
  if (free_cps_.empty()) {
    cp = &checkpoints_.emplace_back();
  } else {
    cp = free_cps_.back();
    free_cps_.pop_back();
    cp->hits = cp->misses = 0;
    cp->all_precise = false;
    cp->slim = false;
    cp->precise_set = {};
  }
  if (cp->st.frames.empty() && !spare_states_.empty()) {
    cp->st = std::move(spare_states_.back());  // its vectors keep their capacity
    spare_states_.pop_back();
  }
  cp->st = cur_.st;
  cp->pc = cur_.st.pc;
  cp->nframes = static_cast<uint32_t>(cur_.st.frames.size());
  cp->fingerprint = fingerprint();
  cp->parent = cur_.parent;
  cp->branches = 1;
  cp->hist_at = hist_arena_.size();
  cp->hist_len = cur_.hist.size();
  hist_arena_.insert(hist_arena_.end(), cur_.hist.begin(), cur_.hist.end());
  cp->seg_start = cur_.seg_start;
  cur_.hist.clear();
  cur_.seg_start = pc_;
  cur_.parent = cp;
  list.push_back(cp);
  ++stats_.states;
  if (++live_states_ > stats_.peak_states) stats_.peak_states = live_states_;
  return true;
}

bool Env::reg_not_init(int regno) {
  return fail("R" + std::to_string(regno) + " !read_ok",
              "R" + std::to_string(regno) + " is read here but no value was written to it on this path",
              regno >= 1 && regno <= 5 ? "R1-R5 are clobbered by every call; keep values that must survive in R6-R9 or on the stack"
                                       : "assign the register before this instruction on every path",
              {regno});
}

void Env::log_insn() {
  if (!opts.log) return;
  auto node = std::make_shared<LogNode>();
  node->prev = cur_.log;
  node->pc = pc_;
  node->text = insn_text(insns, pc_);
  cur_.log = std::move(node);
}

// Appends what the instruction changed (its destination, or r0 after calls) to
// the path log.
void Env::log_effect() {
  const Insn& in = insns[static_cast<size_t>(pc_)];
  const isa::InsnSpec* s = specs_[static_cast<size_t>(pc_)];
  int reg = -1;
  switch (s->kind) {
    case Kind::Alu: case Kind::Endian: case Kind::LoadImm64: case Kind::Load: reg = in.dst; break;
    case Kind::Call: case Kind::LegacyLoad: reg = 0; break;
    default: break;
  }
  if (reg < 0 || cur_.st.frames.empty()) return;
  auto node = std::make_shared<LogNode>(*cur_.log);
  const std::string st = frame_str(cur_.st.cur(), 1u << reg, &map_names, false);
  if (!st.empty()) node->text += "\t; " + st;
  cur_.log = std::move(node);
}

bool Env::step(bool& done) {
  done = false;
  const Insn& in = insns[static_cast<size_t>(pc_)];
  const isa::InsnSpec* s = specs_[static_cast<size_t>(pc_)];
  State& st = cur_.st;
  switch (s->kind) {
    case Kind::Alu:
    case Kind::Endian:
      if (!check_alu(in, *s)) return false;
      st.pc = pc_ + 1;
      return true;
    case Kind::LoadImm64:
      if (!check_lddw(in)) return false;
      st.pc = pc_ + 2;
      return true;
    case Kind::Load:
      if (!check_load(in, *s)) return false;
      st.pc = pc_ + 1;
      return true;
    case Kind::Store:
    case Kind::StoreReg:
      if (!check_store(in, *s)) return false;
      st.pc = pc_ + 1;
      return true;
    case Kind::Atomic:
      if (!check_atomic(in, *s)) return false;
      st.pc = pc_ + 1;
      return true;
    case Kind::LegacyLoad:
      if (!check_legacy_load(in, *s)) return false;
      st.pc = pc_ + 1;
      return true;
    case Kind::Jump:
      ++jmps_;
      if (s->op == Op::JA || s->op == Op::JA32) {
              st.pc = static_cast<int32_t>(isa::jump_target(in, *s, static_cast<size_t>(pc_)));
        return true;
      }
      return check_cond_jump(in, *s);
    case Kind::Call:
      ++jmps_;
      if (s->op == Op::CALL_HELPER) return check_helper_call(in);
      if (s->op == Op::CALL_LOCAL) return check_local_call(in);
      if (s->op == Op::CALL_KFUNC)
        return fail("calling kernel functions (kfuncs) is not supported by userbpf",
                    "kfunc calls need the kernel's BTF and the kernel itself", "use a BPF helper instead");
      return fail("BPF_CALLX is not allowed here", "indirect calls are only emitted by the kernel's JIT for its own use");
    case Kind::Exit:
      ++jmps_;
      return check_exit(done);
  }
  return fail("unknown opcode " + std::to_string(in.opcode));
}

// Explores every path from `init` (the main program, or a global function).
bool Env::explore(State init) {
  const int32_t entry = init.pc;
  stack_.push_back(Path{std::move(init), nullptr, nullptr, {}, entry, -1});
  while (!stack_.empty()) {
    cur_ = std::move(stack_.back());
    stack_.pop_back();
    for (;;) {
      pc_ = cur_.st.pc;
      // Where control did not fall through (precision tracking walks paths back).
      if (cur_.last_pc >= 0 && pc_ != seq_next_[static_cast<size_t>(cur_.last_pc)] && opts.precision_tracking)
        cur_.hist.push_back(HistEntry{HistEntry::Jump, 0, false, 0, pc_, cur_.last_pc, 0});
      if (++stats_.processed_insns > opts.max_processed_insns)
        return fail("BPF program is too large. Processed " + std::to_string(stats_.processed_insns) + " insn",
                    "exploring every path took more than the kernel's budget of " +
                        std::to_string(opts.max_processed_insns) + " processed instructions",
                    "bound loops with small constants, or move the loop body into bpf_loop()");
      if (prune_point_[static_cast<size_t>(pc_)]) {
        bool pruned = false;
        if (!visit_state(pruned)) return false;
        if (pruned) {
          if (opts.log) {
            log_insn();
            auto node = std::make_shared<LogNode>(*cur_.log);
            node->text += "  ; safe: an explored state covers this one";
            cur_.log = node;
          }
          finish_path();
          break;
        }
      }
      log_insn();
      bool done = false;
      visit_flags_ = 0;
      if (!step(done)) return false;
      cur_.last_pc = pc_;
      merge_facts(pc_);
      if (opts.log && cur_.log) log_effect();
      if (done) {
        finish_path();
        break;
      }
    }
  }
  return true;
}

bool Env::run() {
  if (!check_structure()) return false;
  compute_liveness();
  seq_prev_.assign(insns.size(), -1);
  seq_next_.assign(insns.size(), 0);
  for (size_t i = 0; i < insns.size();) {
    const bool wide = specs_[i] && specs_[i]->kind == Kind::LoadImm64;
    const size_t next = i + (wide ? 2 : 1);
    seq_next_[i] = static_cast<int32_t>(next);
    if (next < insns.size()) seq_prev_[next] = static_cast<int32_t>(i);
    i = next;
  }
  subprog_depth_.assign(subprog_starts_.size(), 0);
  explored_.resize(insns.size());
  global_func_.assign(subprog_starts_.size(), nullptr);
  global_called_.assign(subprog_starts_.size(), 0);
  for (const auto& fn : prog.functions) {
    if (!fn.global || !fn.has_btf) continue;
    auto it = std::lower_bound(subprog_starts_.begin(), subprog_starts_.end(), static_cast<int32_t>(fn.first_insn));
    if (it != subprog_starts_.end() && *it == static_cast<int32_t>(fn.first_insn) && it != subprog_starts_.begin())
      global_func_[static_cast<size_t>(it - subprog_starts_.begin())] = &fn;
  }
  State init;
  init.frames.emplace_back();
  Frame& f = init.frames.back();
  f.regs[1] = Reg::pointer(RegType::Ctx);
  f.regs[10] = Reg::pointer(RegType::Stack);
  if (!explore(std::move(init))) return false;
  // Global functions: once each, with what their prototypes promise.
  for (size_t i = 0; i < global_func_.size(); ++i) {
    const loader::FunctionSpan* fn = global_func_[i];
    if (!fn || !global_called_[i]) continue;
    State g;
    g.frames.emplace_back();
    Frame& gf = g.frames.back();
    gf.subprog = subprog_starts_[i];
    g.pc = gf.subprog;
    for (size_t a = 0; a < fn->args.size() && a < 5; ++a) {
      Reg& r = gf.regs[a + 1];
      switch (fn->args[a].kind) {
        case loader::FuncArg::Kind::Scalar: r = Reg::unknown(); break;
        case loader::FuncArg::Kind::Ctx: r = Reg::pointer(RegType::Ctx); break;
        case loader::FuncArg::Kind::Mem:
          r = Reg::pointer(RegType::Mem);
          r.mem_size = fn->args[a].size;
          r.maybe_null = true;
          r.id = new_id();
          break;
        case loader::FuncArg::Kind::Unsupported: break;
      }
    }
    gf.regs[10] = Reg::pointer(RegType::Stack);
    if (!explore(std::move(g))) return false;
  }
  return check_combined_stack();
}

// The combined stack of the deepest call chain must fit the kernel's 512 bytes
// (each frame rounded up to 16 bytes, as with the kernel's JIT).
bool Env::check_combined_stack() {
  const size_t nf = subprog_starts_.size();
  std::vector<std::vector<size_t>> callees(nf);
  for (const auto& [pc, target] : call_edges_)
    callees[static_cast<size_t>(func_index(pc))].push_back(static_cast<size_t>(func_index(target)));
  auto round = [](uint32_t d) { return (d + 15) & ~15u; };
  // Depth-first over call chains, as the kernel walks them; recursion ends at
  // the frame limit.
  auto dfs = [&](auto& self, size_t f, uint32_t depth, int frames) -> bool {
    depth += round(subprog_depth_[f]);
    if (depth > stats_.max_stack_depth) stats_.max_stack_depth = depth;
    if (depth > 512) {
      pc_ = subprog_starts_[f];
      return fail("combined stack size of " + std::to_string(frames) + " calls is " + std::to_string(depth) + ". Too large",
                  "the stack frames of this chain of bpf-to-bpf calls add up to more than 512 bytes",
                  "make the large local arrays smaller, or keep them in a per-CPU array map");
    }
    if (frames > isa::kMaxCallDepth) {
      pc_ = subprog_starts_[f];
      return fail("the call stack of " + std::to_string(frames - 1) + " frames is too deep !",
                  "a chain of bpf-to-bpf calls (or recursion) may nest more than 8 frames deep",
                  "inline some of the functions (__always_inline); recursion is not allowed");
    }
    for (size_t c : callees[f])
      if (!self(self, c, depth, frames + 1)) return false;
    return true;
  };
  return dfs(dfs, 0, 0, 1);
}

std::string insn_text(std::span<const Insn> insns, int32_t pc) {
  if (pc < 0 || static_cast<size_t>(pc) >= insns.size()) return "";
  const size_t i = static_cast<size_t>(pc);
  return std::to_string(pc) + ": " + isa::disassemble(insns[i], i + 1 < insns.size() ? &insns[i + 1] : nullptr);
}

bool license_is_gpl_compatible(std::string_view l) {
  return l == "GPL" || l == "GPL v2" || l == "GPL and additional rights" || l == "Dual BSD/GPL" ||
         l == "Dual MIT/GPL" || l == "Dual MPL/GPL";
}

Result<VerifyResult> verify(const loader::ProgramSpec& prog, std::span<const loader::MapDef> maps,
                            const VerifyOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  Env env(prog, maps, opts);
  VerifyResult res;
  res.accepted = env.run();
  res.stats = env.stats();
  res.stats.time_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (!res.accepted) {
    const Rejection& r = env.rejection();
    res.error = make_error(ErrorKind::Rejected, r.message, r.pc);
    if (auto line = prog.line_for(static_cast<size_t>(r.pc < 0 ? 0 : r.pc)); line && r.pc >= 0)
      res.error.source_line = line->str();
    res.explanation = env.explain();
  }
  if (opts.log) res.log = env.path_log();
  res.facts = std::move(env.facts());
  return res;
}

}  // namespace userbpf::verifier
