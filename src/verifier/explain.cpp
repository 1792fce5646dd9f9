// Human explanations of a rejection and the --log path (verifier.h).
#include <algorithm>
#include <string>

#include "verifier/env.h"

namespace userbpf::verifier {

std::string Env::explain() const {
  const Rejection& r = rej_;
  std::string out;
  out += "rejected at " + insn_text(insns, r.pc) + "\n";
  if (r.pc >= 0) {
    if (auto line = prog.line_for(static_cast<size_t>(r.pc))) out += "  source: " + line->str() + "\n";
  }
  out += "  error: " + r.message + "\n";
  if (!r.why.empty()) out += "  why: " + r.why + "\n";
  if (r.has_state && !r.state.frames.empty()) {
    uint32_t mask = 0;
    for (int reg : r.regs)
      if (reg >= 0 && reg < isa::kNumRegs) mask |= 1u << reg;
    if (mask) {
      std::string regs;
      for (int reg = 0; reg < isa::kNumRegs; ++reg) {
        if (!(mask & (1u << reg))) continue;
        if (!regs.empty()) regs += ' ';
        regs += "R" + std::to_string(reg) + "=" + reg_str(r.state.cur().regs[static_cast<size_t>(reg)], &map_names);
      }
      out += "  state: " + regs + "\n";
    }
    if (r.state.frames.size() > 1) {
      out += "  call chain:";
      for (size_t f = 1; f < r.state.frames.size(); ++f)
        out += " insn " + std::to_string(r.state.frames[f].callsite) + " -> " + std::to_string(r.state.frames[f].subprog);
      out += "\n";
    }
  }
  if (!r.hint.empty()) out += "  fix: " + r.hint + "\n";
  return out;
}

std::string Env::path_log() const {
  // The path that led to the rejection (or, when accepted, nothing: every path was safe).
  std::vector<const LogNode*> nodes;
  for (const LogNode* n = fail_log_.get(); n; n = n->prev.get()) nodes.push_back(n);
  std::reverse(nodes.begin(), nodes.end());
  std::string out;
  if (nodes.empty()) return rej_.message.empty() ? "" : "(no instructions processed)\n";
  int32_t last_func = -1;
  std::string last_line;
  for (const LogNode* n : nodes) {
    const int32_t fidx = func_of_.empty() ? 0 : func_of_[static_cast<size_t>(n->pc)];
    if (fidx != last_func) {
      out += "; function at insn " + std::to_string(subprog_starts_.empty() ? 0 : subprog_starts_[static_cast<size_t>(fidx)]) + "\n";
      last_func = fidx;
    }
    if (auto line = prog.line_for(static_cast<size_t>(n->pc))) {
      const std::string s = "; " + line->str();
      if (s != last_line) out += s + "\n";
      last_line = s;
    }
    out += n->text + "\n";
  }
  return out;
}

}  // namespace userbpf::verifier
