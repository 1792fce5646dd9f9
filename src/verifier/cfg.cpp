// Program structure before any path is explored (the kernel's check_subprogs and
// check_cfg): valid encodings, subprogram boundaries from call targets, jumps that
// stay inside their function, no unreachable instruction, every function ending
// in exit or jump.  Then a static register liveness analysis that lets state
// pruning ignore registers nobody reads again.
#include <algorithm>
#include <string>

#include "verifier/env.h"

namespace userbpf::verifier {
namespace {

using isa::Insn;
using isa::Kind;
using isa::Op;

bool is_local_call(const Insn& in) { return in.opcode == (isa::op::JMP | isa::op::CALL) && in.src == isa::pseudo::CALL_LOCAL; }
bool is_func_lddw(const Insn& in) { return isa::is_lddw(in) && in.src == isa::pseudo::FUNC; }

}  // namespace

bool Env::check_structure() {
  const size_t n = insns.size();
  auto reject = [&](int64_t pc, std::string msg) {
    pc_ = static_cast<int32_t>(pc < 0 ? 0 : pc);
    return fail(std::move(msg), "the program's structure is invalid, before any value is considered");
  };
  if (n == 0) return reject(0, "the program has no instructions");
  if (n > 1'000'000) return reject(0, "BPF program is too large");
  isa::ValidateOptions vopts;
  vopts.allow_unresolved_pseudo = true;
  if (auto st = isa::validate(insns, vopts); !st) {
    const Error& e = st.error();
    return reject(e.insn, e.message);
  }
  specs_.resize(n);
  for (size_t pc = 0; pc < n; ++pc) specs_[pc] = isa::lookup(insns[pc]);
  // Subprograms: the entry, every bpf-to-bpf call target and callback.
  std::vector<int32_t> starts{0};
  for (size_t pc = 0; pc < n; ++pc) {
    const Insn& in = insns[pc];
    if (is_local_call(in) || is_func_lddw(in)) {
      const int64_t t = static_cast<int64_t>(pc) + 1 + in.imm;
      if (t < 0 || t >= static_cast<int64_t>(n)) return reject(static_cast<int64_t>(pc), "call to invalid destination");
      starts.push_back(static_cast<int32_t>(t));
      call_edges_.emplace_back(static_cast<int32_t>(pc), static_cast<int32_t>(t));
    }
    if (isa::is_lddw(in)) ++pc;
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  subprog_starts_ = starts;
  func_of_.assign(n, 0);
  for (size_t f = 0; f < starts.size(); ++f) {
    const size_t end = f + 1 < starts.size() ? static_cast<size_t>(starts[f + 1]) : n;
    for (size_t pc = static_cast<size_t>(starts[f]); pc < end; ++pc) func_of_[pc] = static_cast<int32_t>(f);
  }
  // Each function must end in exit or an unconditional jump; jumps stay inside.
  for (size_t f = 0; f < starts.size(); ++f) {
    const size_t end = f + 1 < starts.size() ? static_cast<size_t>(starts[f + 1]) : n;
    const Insn& last = insns[end - 1];
    const isa::InsnSpec* ls = specs_[end - 1];
    (void)last;
    const bool ok_last = ls && (ls->op == Op::EXIT || ls->op == Op::JA || ls->op == Op::JA32);
    if (!ok_last) return reject(static_cast<int64_t>(end - 1), "last insn is not an exit or jmp");
  }
  for (size_t pc = 0; pc < n; ++pc) {
    const Insn& in = insns[pc];
    const isa::InsnSpec* s = specs_[pc];
    if (s && s->kind == Kind::Jump) {
      const int64_t t = isa::jump_target(in, *s, pc);
      if (t < 0 || t >= static_cast<int64_t>(n) || func_of_[static_cast<size_t>(t)] != func_of_[pc])
        return reject(static_cast<int64_t>(pc), "jump out of range from insn " + std::to_string(pc) + " to " + std::to_string(t));
    }
    if (isa::is_lddw(in)) ++pc;
  }
  // Reachability: depth-first from every function entry reached by a call.
  std::vector<uint8_t> seen(n, 0);
  std::vector<int32_t> work{0};
  seen[0] = 1;
  auto visit = [&](int64_t t) {
    if (t >= 0 && t < static_cast<int64_t>(n) && !seen[static_cast<size_t>(t)]) {
      seen[static_cast<size_t>(t)] = 1;
      work.push_back(static_cast<int32_t>(t));
    }
  };
  while (!work.empty()) {
    const int32_t pc = work.back();
    work.pop_back();
    const Insn& in = insns[static_cast<size_t>(pc)];
    const isa::InsnSpec* s = specs_[pc];
    if (!s) continue;
    if (isa::is_lddw(in)) {
      seen[static_cast<size_t>(pc) + 1] = 1;
      if (in.src == isa::pseudo::FUNC) visit(pc + 1 + in.imm);
      visit(pc + 2);
      continue;
    }
    if (s->kind == Kind::Exit) continue;
    if (s->kind == Kind::Jump) {
      visit(isa::jump_target(in, *s, static_cast<size_t>(pc)));
      if (s->op == Op::JA || s->op == Op::JA32) continue;
    }
    if (is_local_call(in)) visit(pc + 1 + in.imm);
    visit(pc + 1);
  }
  for (size_t pc = 0; pc < n; ++pc)
    if (!seen[pc]) return reject(static_cast<int64_t>(pc), "unreachable insn " + std::to_string(pc));
  // Map references are resolved before any path is explored (the kernel's
  // resolve_pseudo_ldimm64), reachable or not.
  for (size_t pc = 0; pc + 1 < n; ++pc) {
    const Insn& in = insns[pc];
    if (!isa::is_lddw(in)) continue;
    if (in.src == isa::pseudo::MAP_FD || in.src == isa::pseudo::MAP_IDX || in.src == isa::pseudo::MAP_VALUE ||
        in.src == isa::pseudo::MAP_IDX_VALUE) {
      const maps::MapSpec* m = map_spec(in.imm);
      if (!m) return reject(static_cast<int64_t>(pc), "fd " + std::to_string(in.imm) + " is not pointing to valid bpf_map");
      if (in.src == isa::pseudo::MAP_VALUE || in.src == isa::pseudo::MAP_IDX_VALUE) {
        if (m->type != static_cast<uint32_t>(maps::MapType::Array) || m->max_entries != 1)
          return reject(static_cast<int64_t>(pc),
                        "direct value access on " + std::string(maps::map_type_name(m->type)) + " map is not supported");
        const uint32_t off = static_cast<uint32_t>(insns[pc + 1].imm);
        if (off >= m->value_size)
          return reject(static_cast<int64_t>(pc), "invalid access to map value pointer, value_size=" +
                                                      std::to_string(m->value_size) + " off=" + std::to_string(off));
      }
    }
    ++pc;
  }
  // Callback entries are pruning points that may match states still in progress.
  callback_entry_.assign(n, 0);
  for (size_t pc = 0; pc + 1 < n; ++pc)
    if (is_func_lddw(insns[pc])) callback_entry_[static_cast<size_t>(static_cast<int64_t>(pc) + 1 + insns[pc].imm)] = 1;
  // Pruning points: jump targets, the instruction after a conditional jump, function entries.
  prune_point_.assign(n, 0);
  for (int32_t s : starts) prune_point_[static_cast<size_t>(s)] = 1;
  for (size_t pc = 0; pc < n; ++pc) {
    const Insn& in = insns[pc];
    const isa::InsnSpec* s = specs_[pc];
    if (s && s->kind == Kind::Jump) {
      prune_point_[static_cast<size_t>(isa::jump_target(in, *s, pc))] = 1;
      if (s->op != Op::JA && s->op != Op::JA32 && pc + 1 < n) prune_point_[pc + 1] = 1;
    }
    if (s && s->kind == Kind::Call && pc + 1 < n) prune_point_[pc + 1] = 1;
    if (isa::is_lddw(in)) ++pc;
  }
  return true;
}

// Backward may-read analysis per function: bit r of live_in_[pc] is set when r is
// read on some path from pc before being written.
void Env::compute_liveness() {
  const size_t n = insns.size();
  std::vector<uint16_t> use(n, 0), def(n, 0);
  std::vector<std::vector<int32_t>> succ(n);
  constexpr uint16_t kArgs = 0x3e, kCallerSaved = 0x3f;
  for (size_t pc = 0; pc < n; ++pc) {
    const Insn& in = insns[pc];
    const isa::InsnSpec* s = specs_[pc];
    if (!s) continue;
    const uint16_t dst = static_cast<uint16_t>(1u << in.dst), src = static_cast<uint16_t>(1u << in.src);
    bool falls = true;
    switch (s->kind) {
      case Kind::Alu:
        use[pc] = static_cast<uint16_t>((s->uses_src_reg ? src : 0) |
                                        (isa::op::alu_op(in.opcode) == isa::op::MOV ? 0 : dst));
        def[pc] = dst;
        break;
      case Kind::Endian: use[pc] = dst; def[pc] = dst; break;
      case Kind::LoadImm64:
        def[pc] = dst;
        succ[pc].push_back(static_cast<int32_t>(pc + 2));
        falls = false;
        break;
      case Kind::LegacyLoad:
        use[pc] = static_cast<uint16_t>(1u << 6 | (isa::op::mode(in.opcode) == isa::op::IND ? src : 0));
        def[pc] = kCallerSaved;
        break;
      case Kind::Load: use[pc] = src; def[pc] = dst; break;
      case Kind::Store: use[pc] = dst; break;
      case Kind::StoreReg: use[pc] = dst | src; break;
      case Kind::Atomic:
        use[pc] = dst | src | (in.imm == isa::op::CMPXCHG ? 1 : 0);
        if (in.imm & isa::op::FETCH) def[pc] = in.imm == isa::op::CMPXCHG ? 1 : src;
        break;
      case Kind::Jump: {
        use[pc] = (s->op == Op::JA || s->op == Op::JA32) ? 0 : static_cast<uint16_t>(dst | (s->uses_src_reg ? src : 0));
        succ[pc].push_back(static_cast<int32_t>(isa::jump_target(in, *s, pc)));
        if (s->op == Op::JA || s->op == Op::JA32) falls = false;
        break;
      }
      case Kind::Call:
        use[pc] = kArgs;
        if (s->op == Op::CALL_HELPER) {
          use[pc] = 0;
          if (const HelperProto* p = find_helper_proto(in.imm)) {
            for (int a = 0; a < 5 && p->args[a] != ArgKind::None; ++a) use[pc] |= static_cast<uint16_t>(1u << (a + 1));
          } else {
            use[pc] = kArgs;
          }
        }
        if (s->op == Op::CALLX) use[pc] |= dst;
        def[pc] = kCallerSaved;
        break;
      case Kind::Exit: use[pc] = 1; falls = false; break;
    }
    if (falls && pc + 1 < n) succ[pc].push_back(static_cast<int32_t>(pc + 1));
  }
  live_in_.assign(n, 0);
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = n; i-- > 0;) {
      uint16_t out = 0;
      for (int32_t t : succ[i]) out |= live_in_[static_cast<size_t>(t)];
      const uint16_t in = static_cast<uint16_t>(use[i] | (out & ~def[i]));
      if (in != live_in_[i]) {
        live_in_[i] = in;
        changed = true;
      }
    }
  }
}

}  // namespace userbpf::verifier
