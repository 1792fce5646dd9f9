// bpf-to-bpf linking: a program's own instructions, then every subprogram it
// reaches, each appended once.  The order is libbpf's: a newly found callee is
// appended and scanned at once, before the caller's remaining instructions, so
// the final layout matches what libbpf hands the kernel.  Calls and callback
// references are then rewritten pc-relative to the appended copies.
#include <algorithm>

#include "loader/object_internal.h"

namespace userbpf::loader::detail {
namespace {

// The kernel's btf_prepare_func_args, for the argument kinds userbpf knows.
void describe_global_func(const struct ::btf* btf, FunctionSpan& fn) {
  if (!btf) return;
  const int32_t id = btf__find_by_name_kind(btf, fn.name.c_str(), BTF_KIND_FUNC);
  if (id <= 0) return;
  const btf_type* func = btf__type_by_id(btf, static_cast<uint32_t>(id));
  const btf_type* proto = func ? btf__type_by_id(btf, func->type) : nullptr;
  if (!proto || !btf_is_func_proto(proto)) return;
  fn.has_btf = true;
  const btf_param* params = btf_params(proto);
  for (uint16_t i = 0; i < btf_vlen(proto); ++i) {
    FuncArg a;
    const btf_type* t = btf__type_by_id(btf, params[i].type);
    while (t && (btf_is_mod(t) || btf_is_typedef(t))) t = btf__type_by_id(btf, t->type);
    if (t && (btf_is_int(t) || btf_is_enum(t) || btf_is_enum64(t))) {
      a.kind = FuncArg::Kind::Scalar;
    } else if (t && btf_is_ptr(t)) {
      uint32_t target = t->type;
      const btf_type* pt = btf__type_by_id(btf, target);
      while (pt && (btf_is_mod(pt) || btf_is_typedef(pt))) {
        const char* tn = btf__name_by_offset(btf, pt->name_off);
        if (btf_is_typedef(pt) && tn && std::string_view(tn) == "bpf_user_pt_regs_t") break;
        target = pt->type;
        pt = btf__type_by_id(btf, target);
      }
      const char* name = pt ? btf__name_by_offset(btf, pt->name_off) : "";
      a.type_name = name ? name : "";
      static const char* const kCtx[] = {"xdp_md", "__sk_buff", "pt_regs", "bpf_user_pt_regs_t", "bpf_perf_event_data",
                                         "bpf_raw_tracepoint_args"};
      bool ctx = false;
      for (const char* c : kCtx) ctx |= a.type_name == c;
      const long long size = pt ? btf__resolve_size(btf, target) : -1;
      if (ctx) {
        a.kind = FuncArg::Kind::Ctx;
      } else if (size > 0) {
        a.kind = FuncArg::Kind::Mem;
        a.size = static_cast<uint32_t>(size);
      } else {
        a.kind = FuncArg::Kind::Unsupported;
      }
    } else {
      a.kind = FuncArg::Kind::Unsupported;
    }
    fn.args.push_back(std::move(a));
  }
}


constexpr uint8_t kCall = isa::op::JMP | isa::op::CALL;

struct Piece {
  const CodeSec* sec;
  const Function* fn;
  size_t final_start;
};

std::string where(const Piece& p, size_t slot) {
  return "in function " + in_quotes(p.fn->name) + " (section " + in_quotes(p.sec->elf->name) + ", insn " +
         std::to_string(p.fn->first + slot) + ")";
}

}  // namespace

Status link_program(const Loader& ld, const CodeSec& sec, const Function& entry, ProgramSpec& prog) {
  if (entry.count == 0) return malformed("program " + in_quotes(entry.name) + " has no instructions");
  std::vector<Piece> pieces{{&sec, &entry, 0}};
  std::map<const Function*, size_t> placed{{&entry, 0}};
  prog.insns.assign(sec.insns.begin() + static_cast<std::ptrdiff_t>(entry.first),
                    sec.insns.begin() + static_cast<std::ptrdiff_t>(entry.first + entry.count));
  // Depth-first without recursion: (piece, next slot to scan).
  std::vector<std::pair<size_t, size_t>> stack{{0, 0}};
  while (!stack.empty()) {
    auto& [pi, slot] = stack.back();
    if (slot == pieces[pi].fn->count) {
      stack.pop_back();
      continue;
    }
    const Piece piece = pieces[pi];
    const size_t here = slot++;
    const size_t sec_slot = piece.fn->first + here;
    const size_t pc = piece.final_start + here;
    const isa::Insn insn = prog.insns[pc];
    const bool call = insn.opcode == kCall && insn.src == isa::pseudo::CALL_LOCAL;
    const bool func_ref = isa::is_lddw(insn) && insn.src == isa::pseudo::FUNC;
    if (!call && !func_ref) continue;
    if (func_ref && isa::is_lddw(insn) && here + 1 < piece.fn->count) ++slot;  // skip the lddw's second slot

    Target target{piece.sec->elf->index, 0};
    if (auto t = piece.sec->targets.find(sec_slot); t != piece.sec->targets.end()) {
      target = t->second;
    } else if (call) {
      // Already resolved by clang: pc-relative within the same section.
      const int64_t dest = static_cast<int64_t>(sec_slot) + insn.imm + 1;
      if (dest < 0 || static_cast<size_t>(dest) >= piece.sec->insns.size())
        return malformed("call lands outside its section " + where(piece, here));
      target.insn = static_cast<size_t>(dest);
    } else {
      return malformed("function reference without a relocation " + where(piece, here));
    }
    const CodeSec& callee_sec = ld.code.at(target.section);
    const Function* callee = callee_sec.function_at(target.insn);
    if (!callee)
      return malformed("call target is not the start of a function " + where(piece, here) + " -> section " +
                       in_quotes(callee_sec.elf->name) + " insn " + std::to_string(target.insn));
    if (callee->count == 0) return malformed("function " + in_quotes(callee->name) + " has no instructions");
    auto [it, fresh] = placed.emplace(callee, prog.insns.size());
    if (fresh) {
      pieces.push_back(Piece{&callee_sec, callee, prog.insns.size()});
      prog.insns.insert(prog.insns.end(), callee_sec.insns.begin() + static_cast<std::ptrdiff_t>(callee->first),
                        callee_sec.insns.begin() + static_cast<std::ptrdiff_t>(callee->first + callee->count));
    }
    const int64_t rel = static_cast<int64_t>(it->second) - static_cast<int64_t>(pc) - 1;
    if (rel < INT32_MIN || rel > INT32_MAX) return unsupported("program " + in_quotes(prog.name) + " is too large");
    prog.insns[pc].imm = static_cast<int32_t>(rel);
    if (fresh) stack.emplace_back(pieces.size() - 1, 0);  // `pi`/`slot` are dangling from here on
  }

  for (const Piece& p : pieces) {
    prog.functions.push_back(FunctionSpan{p.fn->name, p.sec->elf->name, p.final_start, p.fn->count, false, false, {}});
    if (p.fn->global && &p != &pieces.front()) {
      prog.functions.back().global = true;
      describe_global_func(ld.btf, prog.functions.back());
    }
    auto core = p.sec->core_relos.lower_bound(p.fn->first);
    if (core != p.sec->core_relos.end() && *core < p.fn->first + p.fn->count)
      return unsupported("program " + in_quotes(prog.name) + " uses a CO-RE relocation " +
                         where(p, *core - p.fn->first) + "; CO-RE is not supported");
    for (const auto& [slot, line] : p.sec->lines)
      if (slot >= p.fn->first && slot < p.fn->first + p.fn->count)
        prog.lines.emplace_back(p.final_start + (slot - p.fn->first), line);
  }
  std::sort(prog.lines.begin(), prog.lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  std::set<uint32_t> refs;
  for (size_t pc = 0; pc < prog.insns.size(); ++pc) {
    const isa::Insn& in = prog.insns[pc];
    if (isa::is_lddw(in) && (in.src == isa::pseudo::MAP_FD || in.src == isa::pseudo::MAP_VALUE)) {
      refs.insert(static_cast<uint32_t>(in.imm));
      ++pc;
    } else if (isa::is_lddw(in)) {
      ++pc;
    }
  }
  prog.map_refs.assign(refs.begin(), refs.end());
  return ok_status();
}

}  // namespace userbpf::loader::detail
