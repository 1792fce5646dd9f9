// userbpf verify: run the verifier on the programs of an object and say, for a
// rejection, where, why and how to fix it.
#include <linux/bpf.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "userbpf/loader.h"
#include "userbpf/verifier.h"

namespace userbpf::cli {
namespace {

struct VerifyArgs {
  std::string path;
  std::string prog;
  bool log = false;
  bool stats = false;
  bool json = false;
};

nlohmann::json stats_json(const verifier::VerifyStats& s) {
  return {{"processed_insns", s.processed_insns}, {"states", s.states},      {"peak_states", s.peak_states},
          {"pruned", s.pruned},                   {"stack_depth", s.max_stack_depth}, {"time_us", s.time_us}};
}

int verify_cmd(const VerifyArgs& a) {
  auto obj = loader::load_object(a.path);
  if (!obj) return report(obj.error());
  verifier::VerifyOptions vo;
  vo.log = a.log;
  vo.gpl_compatible = verifier::license_is_gpl_compatible(obj->license);
  bool found = false, all_ok = true;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : obj->programs) {
    if (!a.prog.empty() && p.name != a.prog) continue;
    found = true;
    auto res = verifier::verify(p, obj->maps, vo);
    if (!res) return report(res.error());
    const auto& r = *res;
    all_ok &= r.accepted;
    if (a.json) {
      nlohmann::json j = {{"program", p.name}, {"section", p.section}, {"accepted", r.accepted}};
      if (!r.accepted) {
        j["error"] = {{"message", r.error.message}, {"insn", r.error.insn}, {"source", r.error.source_line},
                      {"explanation", r.explanation}};
      }
      if (a.stats) j["stats"] = stats_json(r.stats);
      if (a.log) j["log"] = r.log;
      out.push_back(std::move(j));
      continue;
    }
    if (a.log && !r.log.empty()) std::fprintf(r.accepted ? stdout : stderr, "%s", r.log.c_str());
    if (r.accepted) {
      std::printf("%s: accepted\n", p.name.c_str());
    } else {
      std::fprintf(stderr, "%s: rejected\n%s", p.name.c_str(), r.explanation.c_str());
    }
    if (a.stats)
      std::printf("%s: processed %llu insns, %llu states (peak %llu), %llu pruned, stack %llu bytes, %.1f us\n",
                  p.name.c_str(), static_cast<unsigned long long>(r.stats.processed_insns),
                  static_cast<unsigned long long>(r.stats.states), static_cast<unsigned long long>(r.stats.peak_states),
                  static_cast<unsigned long long>(r.stats.pruned), static_cast<unsigned long long>(r.stats.max_stack_depth),
                  r.stats.time_us);
  }
  if (!found)
    return report(make_error(ErrorKind::InvalidArgument,
                             a.prog.empty() ? a.path + " has no program" : "no program named '" + a.prog + "' in " + a.path));
  if (a.json) std::printf("%s\n", out.dump(2).c_str());
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace

void add_verify_command(CLI::App& app, Action& action) {
  static VerifyArgs args;
  auto* v = app.add_subcommand("verify", "Prove programs safe as the kernel's verifier does; explain rejections");
  v->add_option("OBJ", args.path, "BPF ELF object")->required();
  v->add_option("--prog", args.prog, "verify only this program (default: all)");
  v->add_flag("--log", args.log, "print the path that led to the rejection, instruction by instruction");
  v->add_flag("--stats", args.stats, "print processed instructions, states, peak states and time");
  v->add_flag("--json", args.json, "machine-readable result on stdout");
  v->callback([&action] { action = [] { return verify_cmd(args); }; });
}

}  // namespace userbpf::cli
