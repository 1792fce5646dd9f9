// Object::load: the step from a description (loader::ObjectSpec) to something that
// runs.  Maps are created first (programs refer to them), then programs are
// resolved and built, then static map-in-map / prog_array slots are filled.
#include <linux/bpf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "hooks/ctx_rewrite.h"
#include "userbpf/helpers.h"
#include "userbpf/runtime.h"
#include "util/id_registry.h"

namespace userbpf::runtime {
namespace {

util::IdRegistry<Program>& program_registry() {
  static util::IdRegistry<Program> r;
  return r;
}

Error at_program(Error e, const loader::ProgramSpec& p) {
  e.message = "program '" + p.name + "': " + e.message;
  if (e.insn >= 0 && e.source_line.empty())
    if (auto line = p.line_for(static_cast<size_t>(e.insn))) e.source_line = line->str();
  return e;
}

void set_lddw(isa::Insn& lo, isa::Insn& hi, uint64_t value) {
  lo.src = 0;
  lo.imm = static_cast<int32_t>(static_cast<uint32_t>(value));
  hi.imm = static_cast<int32_t>(static_cast<uint32_t>(value >> 32));
}

// Name unknown helpers before anything else, where the kernel's helper names are
// known; the engine would only report the id.
Status check_helpers_supported(const vm::HelperRegistry& helpers, std::span<const isa::Insn> insns) {
  for (size_t pc = 0; pc < insns.size(); ++pc) {
    const isa::Insn& in = insns[pc];
    if (isa::is_lddw(in)) {
      ++pc;
      continue;
    }
    if (in.opcode == (isa::op::JMP | isa::op::CALL) && in.src == isa::pseudo::CALL_HELPER && !helpers.find(in.imm)) {
      const std::string name = helpers::helper_name(in.imm);
      return make_error(ErrorKind::Unsupported,
                        "helper " + std::to_string(in.imm) + (name.empty() ? " (unknown to the kernel)" : " (" + name + ")") +
                            " is not supported by userbpf",
                        static_cast<int64_t>(pc));
    }
  }
  return ok_status();
}

// The verifier's facts in the engines' terms, moved to where the context
// rewrite put each instruction.  Only one-for-one rewrites keep their proofs;
// every slot of an accepted program carries kVerified.
std::vector<uint32_t> engine_proofs(std::span<const verifier::InsnFacts> facts, std::span<const size_t> new_index,
                                    size_t n) {
  std::vector<uint32_t> out(n, vm::proof::kVerified);
  for (size_t i = 0; i < facts.size() && i + 1 < new_index.size(); ++i) {
    const uint16_t f = facts[i].flags;
    if (!(f & verifier::kReached) || new_index[i + 1] != new_index[i] + 1 || new_index[i] >= n) continue;
    uint32_t p = 0;
    if (f & verifier::kMemSafe) p |= vm::proof::kMemSafe;
    if (f & verifier::kNonNull) p |= vm::proof::kNonNull;
    if (f & verifier::kDivisorNonZero) p |= vm::proof::kDivisorNonZero;
    if (f & verifier::kFits32) p |= vm::proof::kFits32;
    out[new_index[i]] |= p;
  }
  return out;
}

// bpf_map_lookup_elem calls the verifier saw pass one array map on every
// path, with where that map keeps its elements.
std::vector<vm::ArrayLookupSite> array_lookup_sites(std::span<const verifier::InsnFacts> facts,
                                                    std::span<const size_t> new_index,
                                                    std::span<const isa::Insn> insns, const Object& obj) {
  std::vector<vm::ArrayLookupSite> out;
  for (size_t i = 0; i < facts.size() && i + 1 < new_index.size(); ++i) {
    if (facts[i].call_map < 0 || new_index[i] >= insns.size()) continue;
    const isa::Insn& in = insns[new_index[i]];
    if (in.opcode != (isa::op::JMP | isa::op::CALL) || in.src != isa::pseudo::CALL_HELPER ||
        in.imm != BPF_FUNC_map_lookup_elem)
      continue;
    const maps::Map* m = obj.map(static_cast<size_t>(facts[i].call_map));
    if (!m || !m->is_array()) continue;
    out.push_back({.slot = static_cast<uint32_t>(new_index[i]),
                   .max_entries = m->spec().max_entries,
                   .values = m->array_values(),
                   .stride = m->array_stride(),
                   .cpu_stride = m->array_cpu_stride(),
                   .ncpus = static_cast<uint32_t>(maps::num_possible_cpus())});
  }
  return out;
}

// How far past r1 the rewritten context accesses reach, and the span they write.
struct CtxReach {
  uint32_t size = 0, write_lo = UINT32_MAX, write_hi = 0;
};
CtxReach ctx_reach(std::span<const verifier::InsnFacts> facts, std::span<const size_t> new_index,
                   std::span<const isa::Insn> insns) {
  CtxReach r;
  for (size_t i = 0; i < facts.size() && i + 1 < new_index.size(); ++i) {
    if (!(facts[i].flags & verifier::kCtxAccess) || new_index[i + 1] != new_index[i] + 1) continue;
    const isa::Insn& in = insns[new_index[i]];
    const isa::InsnSpec* s = isa::lookup(in);
    if (!s || (s->kind != isa::Kind::Load && s->kind != isa::Kind::Store && s->kind != isa::Kind::StoreReg)) continue;
    const uint32_t lo = static_cast<uint32_t>(std::max<int32_t>(0, in.off));
    const uint32_t hi = static_cast<uint32_t>(std::max<int32_t>(0, in.off + static_cast<int32_t>(s->width)));
    r.size = std::max(r.size, hi);
    if (s->kind != isa::Kind::Load) {
      r.write_lo = std::min(r.write_lo, lo);
      r.write_hi = std::max(r.write_hi, hi);
    }
  }
  if (r.write_hi == 0) r.write_lo = 0;
  return r;
}

}  // namespace

Program* program_by_id(uint32_t id) { return program_registry().find(id); }

vm::EngineOptions Program::engine_options() const {
  vm::EngineOptions eo;
  eo.helpers = &object_->helpers();
  eo.proofs = proofs_;
  eo.array_lookups = array_sites_;
  return eo;
}

Object::~Object() {
  for (auto& p : programs_) program_registry().remove(p->id_);
}

const Program* Object::find_program(std::string_view name) const {
  for (const auto& p : programs_)
    if (p->name() == name) return p.get();
  return nullptr;
}

void Object::prepare(const Program& prog, vm::ExecContext& ctx, RunState& state) const {
  ctx.helpers = &helpers_;
  ctx.regions = map_regions_;
  state.object = const_cast<Object*>(this);
  state.program = &prog;
  state.tail_call_count = 0;
  state.trace = trace_ ? &trace_ : nullptr;
  ctx.user = &state;
}

Result<uint64_t> run_program(const Program& prog, vm::ExecContext& ctx) {
  if (prog.trusted_ctx_size_) {
    const uint64_t r1 = ctx.args[0];
    // Any region will do (ExecContext::accessible stops at the first that holds the range).
    const auto in_region = [&ctx](uint64_t addr, uint64_t len, bool write) {
      for (const vm::Region& r : ctx.regions)
        if (addr >= r.start && addr + len >= addr && addr + len <= r.start + r.size && (r.writable || !write))
          return true;
      return false;
    };
    const bool readable = in_region(r1, prog.trusted_ctx_size_, false);
    const uint32_t wlo = prog.trusted_ctx_write_lo_, whi = prog.trusted_ctx_write_hi_;
    if (!readable || (whi > wlo && !in_region(r1 + wlo, whi - wlo, true))) {
      char addr[24];
      std::snprintf(addr, sizeof addr, "0x%llx", static_cast<unsigned long long>(r1));
      const std::string what = readable ? "bytes " + std::to_string(wlo) + ".." + std::to_string(whi) +
                                              " past r1 = " + addr + " are not writable"
                                        : "r1 = " + std::string(addr) + " is not " +
                                              std::to_string(prog.trusted_ctx_size_) + " readable bytes of";
      return make_error(ErrorKind::Runtime, std::string("out-of-bounds ") + (readable ? "write" : "read") +
                                                " of the context: " + what +
                                                " context memory (the JIT runs verified context accesses unchecked)");
    }
  }
  return prog.engine().run(ctx);
}

Result<std::unique_ptr<Object>> Object::load(loader::ObjectSpec spec, const ObjectOptions& opts) {
  std::unique_ptr<Object> obj(new Object());
  obj->spec_ = std::move(spec);
  helpers::register_standard_helpers(obj->helpers_);
  helpers::register_packet_helpers(obj->helpers_);

  // 1. Maps, with global data initialised as libbpf does before load.
  for (const loader::MapDef& def : obj->spec_.maps) {
    if (def.is_inner_template) {
      obj->maps_.push_back(nullptr);
      continue;
    }
    auto m = maps::create_map(def.spec);
    if (!m) return m.error();
    if (!def.initial_data.empty()) {
      const uint32_t key = 0;
      if (long rc = (*m)->sys_update(&key, def.initial_data.data(), 0); rc != 0)
        return make_error(ErrorKind::Malformed, "map '" + def.spec.name + "': cannot initialise global data (" +
                                                    std::to_string(rc) + ")");
    }
    for (const auto& span : (*m)->program_memory())
      obj->map_regions_.push_back(vm::Region{span.start, span.size, span.writable, "map"});
    obj->maps_.push_back(std::move(*m));
  }

  // 2. Programs: map references become host pointers, then an engine per program.
  std::vector<int64_t> built(obj->spec_.programs.size(), -1);  // spec index -> programs_ index
  for (const loader::ProgramSpec& ps : obj->spec_.programs) {
    if (!opts.programs.empty() &&
        std::find(opts.programs.begin(), opts.programs.end(), ps.name) == opts.programs.end())
      continue;
    built[static_cast<size_t>(&ps - obj->spec_.programs.data())] = static_cast<int64_t>(obj->programs_.size());
    auto prog = std::make_unique<Program>();
    prog->spec_ = &ps;
    prog->object_ = obj.get();
    prog->insns_ = ps.insns;
    if (auto st = check_helpers_supported(obj->helpers_, ps.insns); !st) return at_program(st.error(), ps);
    std::vector<uint32_t>& proofs = prog->proofs_;  // empty: the engine checks everything
    std::vector<vm::ArrayLookupSite>& array_sites = prog->array_sites_;
    if (opts.verify) {
      verifier::VerifyOptions vo;
      vo.gpl_compatible = verifier::license_is_gpl_compatible(obj->spec_.license);
      auto vr = verifier::verify(ps, obj->spec_.maps, vo);
      if (!vr) return at_program(vr.error(), ps);
      if (!vr->accepted) {
        Error e = vr->error;
        e.message += "\n" + vr->explanation;
        return at_program(e, ps);
      }
      prog->facts_ = std::move(vr->facts);
      prog->verify_stats_ = vr->stats;
      // The verifier knows where the context is accessed: rewrite from its facts.
      std::vector<hooks::CtxFact> cf(ps.insns.size());
      for (size_t i = 0; i < cf.size(); ++i)
        if (prog->facts_[i].flags & verifier::kCtxAccess) cf[i] = {hooks::CtxFact::Kind::Ctx, 0};
      std::vector<size_t> new_index;
      auto rw = hooks::rewrite_ctx_accesses(ps.prog_type, prog->insns_, cf, &new_index);
      if (!rw) return at_program(rw.error(), ps);
      prog->insns_ = std::move(*rw);
      proofs = engine_proofs(prog->facts_, new_index, prog->insns_.size());
      array_sites = array_lookup_sites(prog->facts_, new_index, prog->insns_, *obj);
      if (vm::resolve_engine(opts.engine, true) == "jit") {
        const CtxReach reach = ctx_reach(prog->facts_, new_index, prog->insns_);
        prog->trusted_ctx_size_ = reach.size;
        prog->trusted_ctx_write_lo_ = reach.write_lo;
        prog->trusted_ctx_write_hi_ = reach.write_hi;
      }
    } else if (auto rw = hooks::rewrite_ctx_accesses(ps.prog_type, prog->insns_); rw) {
      prog->insns_ = std::move(*rw);
    } else {
      return at_program(rw.error(), ps);
    }
    auto& insns = prog->insns_;
    for (size_t pc = 0; pc + 1 < insns.size(); ++pc) {
      if (!isa::is_lddw(insns[pc])) continue;
      isa::Insn& lo = insns[pc];
      isa::Insn& hi = insns[pc + 1];
      switch (lo.src) {
        case 0: break;
        case isa::pseudo::MAP_FD:
        case isa::pseudo::MAP_VALUE: {
          maps::Map* m = obj->map(static_cast<size_t>(lo.imm));
          if (!m)
            return at_program(make_error(ErrorKind::Malformed, "lddw refers to map index " + std::to_string(lo.imm) +
                                                                   " which does not exist", static_cast<int64_t>(pc)),
                              ps);
          if (lo.src == isa::pseudo::MAP_FD) {
            set_lddw(lo, hi, reinterpret_cast<uintptr_t>(m));
          } else {
            const uint32_t key = 0;
            void* value = m->lookup(&key);
            const uint32_t off = static_cast<uint32_t>(hi.imm);
            if (!value || off >= m->spec().value_size)
              return at_program(make_error(ErrorKind::Malformed,
                                           "lddw refers to offset " + std::to_string(off) + " of map '" +
                                               m->spec().name + "' which has no such value",
                                           static_cast<int64_t>(pc)),
                                ps);
            set_lddw(lo, hi, reinterpret_cast<uintptr_t>(value) + off);
          }
          break;
        }
        case isa::pseudo::FUNC:
          // Callbacks are named by their absolute instruction index; engines map it.
          set_lddw(lo, hi, static_cast<uint64_t>(static_cast<int64_t>(pc) + 1 + lo.imm));
          break;
        default:
          return at_program(make_error(ErrorKind::Unsupported,
                                       "lddw pseudo source " + std::to_string(lo.src) + " is not supported",
                                       static_cast<int64_t>(pc)),
                            ps);
      }
      ++pc;
    }
    auto engine = vm::make_engine(opts.engine, insns, prog->engine_options());
    if (!engine) return at_program(engine.error(), ps);
    prog->engine_ = std::move(*engine);
    prog->id_ = program_registry().add(prog.get());
    obj->programs_.push_back(std::move(prog));
  }

  // 3. Static slots of map-in-map and prog_array maps (`.values = { ... }`).
  for (size_t i = 0; i < obj->spec_.maps.size(); ++i) {
    maps::Map* outer = obj->map(i);
    for (const loader::SlotInit& s : obj->spec_.maps[i].initial_slots) {
      uint32_t id = 0;
      if (s.map_index >= 0 && obj->map(static_cast<size_t>(s.map_index)))
        id = obj->map(static_cast<size_t>(s.map_index))->id();
      else if (s.program_index >= 0 && static_cast<size_t>(s.program_index) < built.size()) {
        if (built[static_cast<size_t>(s.program_index)] < 0) continue;  // not loaded: the slot stays empty
        id = obj->programs_[static_cast<size_t>(built[static_cast<size_t>(s.program_index)])]->id();
      }
      if (!outer || id == 0)
        return make_error(ErrorKind::Malformed, "map '" + obj->spec_.maps[i].spec.name + "': slot " +
                                                    std::to_string(s.slot) + " refers to unknown '" + s.target + "'");
      if (long rc = outer->sys_update(&s.slot, &id, 0); rc != 0)
        return make_error(ErrorKind::Malformed, "map '" + obj->spec_.maps[i].spec.name + "': cannot set slot " +
                                                    std::to_string(s.slot) + " to '" + s.target + "' (" +
                                                    std::to_string(rc) + ")");
    }
  }
  return obj;
}

}  // namespace userbpf::runtime
