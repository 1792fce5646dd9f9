// Soundness oracle: verify, load, fill the maps, run on packets with one region
// per map value, and describe any fault with everything needed to reproduce it.
#include "support/verifier_oracle.h"

#include <linux/bpf.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <sstream>
#include <vector>

#include "hooks/packet_ctx.h"
#include "hooks/packet_run.h"
#include "support/verifier_fact_traps.h"
#include "userbpf/isa.h"
#include "userbpf/runtime.h"
#include "userbpf/verifier.h"

namespace userbpf::testing {
namespace {

std::string hex(const std::vector<uint8_t>& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i && i % 32 == 0) s += "\n  ";
    s += kDigits[b[i] >> 4];
    s += kDigits[b[i] & 15];
  }
  return s;
}

// Rejection message with its numbers replaced, so that messages group by kind.
std::string reason_of(const std::string& msg) {
  std::string out;
  for (size_t i = 0; i < msg.size() && out.size() < 70; ++i) {
    const char ch = msg[i];
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      while (i + 1 < msg.size() && std::isalnum(static_cast<unsigned char>(msg[i + 1]))) ++i;
      out += 'N';
    } else if (ch == '\n') {
      break;
    } else {
      out += ch;
    }
  }
  return out;
}

// Bytes heavy on edge values, with the program's own constants planted in them.
void fill(ChoiceSource& rnd, const std::vector<uint64_t>& hints, uint8_t* p, size_t n) {
  static constexpr uint8_t kEdge[] = {0, 0xff, 0x80, 0x7f, 1, 2, 0xfe};
  const uint32_t style = rnd.below(4);
  for (size_t i = 0; i < n; ++i) {
    if (style == 0) p[i] = 0;
    else if (style == 1 || rnd.chance(50)) p[i] = kEdge[rnd.below(sizeof kEdge)];
    else p[i] = static_cast<uint8_t>(rnd.u64());
  }
  if (hints.empty() || n == 0) return;
  for (int k = static_cast<int>(rnd.below(5)); k > 0; --k) {
    const uint64_t v = hints[rnd.below(static_cast<uint32_t>(hints.size()))];
    const size_t w = std::min<size_t>(n, size_t{1} << rnd.below(4));
    const size_t at = rnd.below(static_cast<uint32_t>(n - w + 1));
    std::memcpy(p + at, &v, w);  // little-endian: the low bytes
  }
}

std::vector<uint8_t> make_packet(ChoiceSource& rnd, const SoundnessProgram& p) {
  size_t len;
  const uint32_t roll = rnd.below(100);
  if (roll < 55 && !p.packet_lens.empty()) len = p.packet_lens[rnd.below(static_cast<uint32_t>(p.packet_lens.size()))];
  else if (roll < 85) len = 14 + rnd.below(100);
  else if (roll < 95) len = 14 + rnd.below(16);
  else len = 200 + rnd.below(1300);
  std::vector<uint8_t> b(std::clamp<size_t>(len, 14, 3000));
  fill(rnd, p.values, b.data(), b.size());
  return b;
}

struct Live {
  std::unique_ptr<runtime::Object> obj;
  std::vector<vm::Region> values;  // one region per map value
  std::vector<std::string> labels;  // "arr[2]" for each of values
};

// Random contents for every map; the hash map gets the generator's keys.
Status fill_maps(ChoiceSource& rnd, const SoundnessProgram& p, Live& live) {
  for (int i = 0; i < kSoundNumMaps; ++i) {
    maps::Map* m = live.obj->map(static_cast<size_t>(i));
    if (!m) return make_error(ErrorKind::InvalidArgument, "map " + std::to_string(i) + " missing");
    const auto& spec = m->spec();
    std::vector<uint8_t> value(spec.value_size);
    std::vector<uint32_t> keys;
    if (i == kSoundHashMap) keys = p.hash_keys;
    else
      for (uint32_t k = 0; k < spec.max_entries; ++k) keys.push_back(k);
    for (uint32_t k : keys) {
      fill(rnd, p.values, value.data(), value.size());
      if (long rc = m->sys_update(&k, value.data(), 0); rc != 0)
        return make_error(ErrorKind::InvalidArgument, "map " + spec.name + ": update failed (" + std::to_string(rc) + ")");
      void* at = m->lookup(&k);
      if (!at) return make_error(ErrorKind::InvalidArgument, "map " + spec.name + ": lookup after update failed");
      live.values.push_back(vm::Region{reinterpret_cast<uintptr_t>(at), spec.value_size, true, "map value"});
      live.labels.push_back(spec.name + "[" + std::to_string(k) + "]");
    }
  }
  return ok_status();
}

// The map values as they are now, one line per value.
std::string dump_values(const Live& live, const std::vector<std::vector<uint8_t>>& snap) {
  std::string s;
  for (size_t i = 0; i < snap.size(); ++i) s += "  " + live.labels[i] + ": " + hex(snap[i]) + "\n";
  return s;
}

std::vector<std::vector<uint8_t>> snapshot(const Live& live) {
  std::vector<std::vector<uint8_t>> v;
  for (const auto& r : live.values) {
    const auto* b = reinterpret_cast<const uint8_t*>(r.start);
    v.emplace_back(b, b + r.size);
  }
  return v;
}

std::string verifier_log(const loader::ProgramSpec& ps, const SoundnessProgram& p, size_t max_lines = 600) {
  verifier::VerifyOptions vo;
  vo.log = true;
  auto vr = verifier::verify(ps, p.object.maps, vo);
  if (!vr) return "(verify failed: " + vr.error().str() + ")\n";
  std::string out;
  size_t lines = 0, pos = 0;
  while (pos < vr->log.size() && lines < max_lines) {
    size_t nl = vr->log.find('\n', pos);
    if (nl == std::string::npos) nl = vr->log.size();
    out.append(vr->log, pos, nl - pos + 1);
    pos = nl + 1;
    ++lines;
  }
  if (pos < vr->log.size()) out += "... (log cut)\n";
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

// The disassembly with map references spelled as verifier_test.cpp's
// assembler takes them: "map[N]" and "mapval[N+OFF]".
std::string disassemble_impl(const std::vector<isa::Insn>& insns) {
  std::string out;
  for (size_t pc = 0; pc < insns.size(); ++pc) {
    const isa::Insn& in = insns[pc];
    const isa::Insn* next = pc + 1 < insns.size() ? &insns[pc + 1] : nullptr;
    std::string text = isa::disassemble(in, next);
    if (isa::is_lddw(in) && next && (in.src == isa::pseudo::MAP_FD || in.src == isa::pseudo::MAP_VALUE)) {
      text = "r" + std::to_string(in.dst) + " = " +
             (in.src == isa::pseudo::MAP_FD ? "map[" + std::to_string(in.imm) + "]"
                                             : "mapval[" + std::to_string(in.imm) + "+" +
                                                   std::to_string(static_cast<uint32_t>(next->imm)) + "]") +
             " ll";
    }
    out += std::to_string(pc) + ":\t" + text + "\n";
    if (isa::is_lddw(in)) ++pc;
  }
  return out;
}

SoundnessFinding finding(const std::string& kind, const std::string& what, const SoundnessProgram& p,
                         const std::string& input) {
  const auto& ps = p.object.programs[0];
  std::ostringstream os;
  os << "SOUNDNESS " << kind << ": " << what << "\n";
  if (!input.empty()) os << input;
  os << "program (" << ps.insns.size() << " insns; USERBPF_SOUNDNESS_ASM takes this listing as it is):\n"
     << soundness_listing(p);
  os << "verifier log:\n" << verifier_log(ps, p);
  return SoundnessFinding{kind, os.str()};
}

}  // namespace

std::string disassemble_with_maps(const std::vector<isa::Insn>& insns) { return disassemble_impl(insns); }

std::string soundness_listing(const SoundnessProgram& p) {
  const auto& m = p.object.maps;
  return "; maps: arr=" + std::to_string(m[kSoundArrayMap].spec.value_size) + "x" +
         std::to_string(m[kSoundArrayMap].spec.max_entries) + " hash=" + std::to_string(m[kSoundHashMap].spec.value_size) +
         " one=" + std::to_string(m[kSoundSingleMap].spec.value_size) + "\n" +
         disassemble_impl(p.object.programs[0].insns);
}

std::string SoundnessStats::summary(size_t top_reasons) const {
  std::ostringstream os;
  const double pct = programs ? 100.0 * static_cast<double>(accepted) / static_cast<double>(programs) : 0.0;
  os << programs << " programs (" << insns << " insns), " << accepted << " accepted (" << static_cast<int>(pct + 0.5)
     << "%), " << rejected << " rejected; " << runs << " runs, " << insns_executed << " insns executed\n"
     << "  verifier: " << processed << " insns processed (at most " << max_processed << " for one program), "
     << static_cast<uint64_t>(verify_us / 1000) << " ms; " << traps << " fact traps planted in accepted programs\n";
  std::vector<std::pair<uint64_t, std::string>> v;
  for (const auto& [r, n] : reject_reasons) v.emplace_back(n, r);
  std::sort(v.rbegin(), v.rend());
  if (rejected_faulted) os << "  rejected programs that fault when run unverified: " << rejected_faulted << "\n";
  for (size_t i = 0; i < v.size() && i < top_reasons; ++i) {
    os << "  " << v[i].first;
    if (auto it = faulted_reasons.find(v[i].second); it != faulted_reasons.end()) os << " (" << it->second << " fault)";
    os << "  " << v[i].second << "\n";
  }
  return os.str();
}

namespace {

// ---- helpers that refuse what the verifier should have refused ----
// The runtime's map and packet helpers return an error for a bad pointer (as a
// last line of defence); here such a call ends the run with a fault, since the
// verifier promised valid arguments.
struct Originals {
  vm::HelperFn lookup = nullptr, update = nullptr, remove = nullptr, adjust_head = nullptr, adjust_tail = nullptr;
};
Originals g_orig;  // the same functions for every object (helpers::register_*)

uint64_t fault(vm::ExecContext* ctx, const std::string& msg) {
  ctx->stop = true;
  ctx->stop_error = make_error(ErrorKind::Runtime, msg);
  return 0;
}

const maps::Map* program_map(vm::ExecContext* ctx, uint64_t r) {
  const auto* st = static_cast<const runtime::RunState*>(ctx->user);
  for (size_t i = 0; st && st->object && i < st->object->num_maps(); ++i)
    if (reinterpret_cast<uint64_t>(st->object->map(i)) == r && r) return st->object->map(i);
  return nullptr;
}

// Checks R1 (a map of the program) and the key / value memory, then calls `fn`.
uint64_t checked_map_call(const char* name, vm::HelperFn fn, bool value, uint64_t r1, uint64_t r2, uint64_t r3,
                          uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  const maps::Map* m = program_map(ctx, r1);
  if (!m) return fault(ctx, std::string(name) + ": R1 is not a map of the program");
  if (!ctx->accessible(r2, m->spec().key_size, false))
    return fault(ctx, std::string(name) + ": the " + std::to_string(m->spec().key_size) + "-byte key at R2 is out of bounds");
  if (value && !ctx->accessible(r3, m->spec().value_size, false))
    return fault(ctx, std::string(name) + ": the " + std::to_string(m->spec().value_size) +
                          "-byte value at R3 is out of bounds");
  return fn(r1, r2, r3, r4, r5, ctx);
}

uint64_t checked_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  return checked_map_call("bpf_map_lookup_elem", g_orig.lookup, false, r1, r2, r3, r4, r5, ctx);
}
uint64_t checked_update(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  return checked_map_call("bpf_map_update_elem", g_orig.update, true, r1, r2, r3, r4, r5, ctx);
}
uint64_t checked_delete(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  return checked_map_call("bpf_map_delete_elem", g_orig.remove, false, r1, r2, r3, r4, r5, ctx);
}
uint64_t checked_adjust(const char* name, vm::HelperFn fn, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                        uint64_t r5, vm::ExecContext* ctx) {
  if (!hooks::packet_state(ctx, r1)) return fault(ctx, std::string(name) + ": R1 is not the context");
  return fn(r1, r2, r3, r4, r5, ctx);
}
uint64_t checked_adjust_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  return checked_adjust("bpf_xdp_adjust_head", g_orig.adjust_head, r1, r2, r3, r4, r5, ctx);
}
uint64_t checked_adjust_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  return checked_adjust("bpf_xdp_adjust_tail", g_orig.adjust_tail, r1, r2, r3, r4, r5, ctx);
}

// The object's helpers, with the ones above in place of theirs.
void checked_helpers(const vm::HelperRegistry& from, vm::HelperRegistry& to) {
  struct Wrap {
    int32_t id;
    vm::HelperFn* orig;
    vm::HelperFn fn;
  };
  const Wrap wraps[] = {{BPF_FUNC_map_lookup_elem, &g_orig.lookup, checked_lookup},
                        {BPF_FUNC_map_update_elem, &g_orig.update, checked_update},
                        {BPF_FUNC_map_delete_elem, &g_orig.remove, checked_delete},
                        {BPF_FUNC_xdp_adjust_head, &g_orig.adjust_head, checked_adjust_head},
                        {BPF_FUNC_xdp_adjust_tail, &g_orig.adjust_tail, checked_adjust_tail}};
  for (const vm::HelperInfo& h : from.all()) {
    vm::HelperFn fn = h.fn;
    for (const Wrap& w : wraps)
      if (w.id == h.id) {
        *w.orig = h.fn;
        fn = w.fn;
      }
    to.add(h.id, h.name, fn);
  }
}

struct RunFailure {
  std::string kind;   // "runtime fault", "fact violated", "load failed after accept", "harness"
  std::string error;
  std::string input;  // the packet and map values of the failing run
};

// Loads `p` and runs it opts.runs times; the first failing run, if any.  With
// `verify`, the program runs with the verifier's facts turned into traps.
std::optional<RunFailure> run_program(const SoundnessProgram& p, ChoiceSource& rnd, const SoundnessRunOptions& opts,
                                      SoundnessStats& stats, bool verify, uint64_t budget) {
  runtime::ObjectOptions oo;
  oo.verify = verify;
  auto obj = runtime::Object::load(p.object, oo);
  if (!obj) return RunFailure{"load failed after accept", obj.error().str(), ""};
  Live live;
  live.obj = std::move(*obj);
  if (auto st = fill_maps(rnd, p, live); !st) return RunFailure{"harness", st.error().str(), ""};
  const runtime::Program& prog = *live.obj->programs()[0];
  vm::HelperRegistry helpers;
  checked_helpers(live.obj->helpers(), helpers);
  TrappedProgram traps;
  if (verify) {
    auto t = add_fact_traps(prog.insns(), prog.facts());
    if (!t) return RunFailure{"harness", "instrumenting: " + t.error().str(), ""};
    traps = std::move(*t);
    stats.traps += traps.traps;
  } else {
    traps.insns = prog.insns();
    traps.trap.assign(traps.insns.size(), "");
    for (size_t i = 0; i < traps.insns.size(); ++i) traps.orig.push_back(static_cast<int64_t>(i));
  }
  vm::EngineOptions eo;
  eo.helpers = &helpers;
  auto engine = vm::make_interpreter(traps.insns, eo);
  if (!engine) return RunFailure{"harness", "engine: " + engine.error().str(), ""};

  for (int i = 0; i < opts.runs; ++i) {
    const auto before = snapshot(live);
    hooks::TestRunInput in;
    in.data = make_packet(rnd, p);
    hooks::PacketRunner runner;
    runner.prepare = [&](vm::ExecContext& ctx, runtime::RunState& rs) {
      live.obj->prepare(prog, ctx, rs);
      ctx.helpers = &helpers;
      ctx.regions = live.values;  // instead of each map's whole storage
      ctx.insn_budget = budget;
    };
    runner.run = [&](vm::ExecContext& ctx) {
      auto r = (*engine)->run(ctx);
      stats.insns_executed += ctx.insns_executed;
      return r;
    };
    auto res = hooks::run_packet_test(prog.prog_type(), in, runner);
    ++stats.runs;
    if (res) continue;
    RunFailure f;
    f.input = "packet (" + std::to_string(in.data.size()) + " bytes):\n  " + hex(in.data) +
              "\nmap values before the run:\n" + dump_values(live, before);
    const Error& e = res.error();
    f.kind = e.kind == ErrorKind::Runtime ? "runtime fault" : "harness";
    f.error = e.message;
    if (e.insn >= 0 && static_cast<size_t>(e.insn) < traps.insns.size()) {
      const auto at = static_cast<size_t>(e.insn);
      if (!traps.trap[at].empty()) {
        f.kind = "fact violated";
        f.error = traps.trap[at];
      } else if (traps.orig[at] >= 0) {
        f.error = "insn " + std::to_string(traps.orig[at]) + ": " + e.message;
      }
    }
    return f;
  }
  return std::nullopt;
}

}  // namespace

std::optional<SoundnessFinding> check_soundness(const SoundnessProgram& p, ChoiceSource& rnd,
                                                const SoundnessRunOptions& opts, SoundnessStats& stats) {
  const loader::ProgramSpec& ps = p.object.programs[0];
  ++stats.programs;
  stats.insns += ps.insns.size();
  verifier::VerifyOptions vo;
  vo.max_processed_insns = opts.max_processed_insns;
  auto vr = verifier::verify(ps, p.object.maps, vo);
  if (!vr) return finding("verifier error", vr.error().str(), p, "");
  if (opts.on_verdict) opts.on_verdict(p, vr->accepted, vr->error.str());
  stats.processed += vr->stats.processed_insns;
  stats.max_processed = std::max(stats.max_processed, vr->stats.processed_insns);
  stats.verify_us += vr->stats.time_us;
  if (!vr->accepted) {
    ++stats.rejected;
    const std::string reason = reason_of(vr->error.message);
    if (opts.count_reasons) ++stats.reject_reasons[reason];
    if (opts.run_rejected) {
      // How good the runs are at catching what the verifier caught.
      SoundnessStats scratch;
      auto f = run_program(p, rnd, opts, scratch, false, opts.rejected_insn_budget);
      if (f && f->kind == "runtime fault") {
        ++stats.rejected_faulted;
        if (opts.count_reasons) ++stats.faulted_reasons[reason];
      }
    }
    return std::nullopt;
  }
  ++stats.accepted;
  auto f = run_program(p, rnd, opts, stats, true, opts.insn_budget);
  if (!f) return std::nullopt;
  return finding(f->kind, f->error, p, f->input);
}

}  // namespace userbpf::testing
