// A harness for the standard helper tests: an Object loaded from a hand-made
// ObjectSpec (maps, one program) so helpers see a real RunState, helpers called
// directly by id, and test buffers registered as program memory.
#pragma once

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <memory>
#include <string>
#include <vector>

#include "userbpf/helpers.h"
#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/maps.h"
#include "userbpf/runtime.h"
#include "userbpf/vm.h"

namespace userbpf::helpers_test {

inline maps::MapSpec map_spec(maps::MapType t, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                              const std::string& name = "m") {
  maps::MapSpec s;
  s.name = name;
  s.type = static_cast<uint32_t>(t);
  s.key_size = key_size;
  s.value_size = value_size;
  s.max_entries = max_entries;
  return s;
}

inline isa::Insn exit_insn() {
  isa::Insn i;
  i.opcode = isa::op::JMP | isa::op::EXIT;
  return i;
}

inline loader::ProgramSpec program_spec(std::vector<isa::Insn> insns, const std::string& name = "prog") {
  loader::ProgramSpec p;
  p.name = name;
  // kprobe: a context of plain memory, no access rewriting.
  p.section = "kprobe/helpers_test";
  p.prog_type = BPF_PROG_TYPE_KPROBE;
  if (insns.empty()) {
    insns.push_back(isa::Insn{});
    insns[0].opcode = isa::op::ALU64 | isa::op::MOV;  // r0 = 0
    insns.push_back(exit_insn());
  }
  p.insns = std::move(insns);
  loader::FunctionSpan fn;
  fn.name = name;
  fn.section = p.section;
  fn.num_insns = p.insns.size();
  p.functions.push_back(fn);
  return p;
}

struct Harness {
  std::unique_ptr<runtime::Object> obj;
  vm::ExecContext ctx;
  runtime::RunState state;
  std::vector<std::string> trace;
  runtime::TraceSink sink;

  // Loads maps (and programs: a trivial one when none) and prepares ctx for the first program.
  // `verify` false: programs that are unsafe on purpose, to test the helpers'
  // own run-time checks (the second line of defence behind the verifier).
  explicit Harness(std::vector<maps::MapSpec> maps = {}, std::vector<loader::ProgramSpec> progs = {}, bool verify = true,
                   const std::string& engine = "interp") {
    loader::ObjectSpec spec;
    spec.name = "helpers_test";
    spec.license = "GPL";
    for (auto& m : maps) {
      loader::MapDef d;
      d.spec = std::move(m);
      spec.maps.push_back(std::move(d));
    }
    if (progs.empty()) progs.push_back(program_spec({}));
    spec.programs = std::move(progs);
    runtime::ObjectOptions oo;
    oo.verify = verify;
    oo.engine = engine;
    auto o = runtime::Object::load(std::move(spec), oo);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().str());
    if (!o.ok()) return;
    obj = std::move(*o);
    obj->set_trace_sink([this](std::string_view line) { trace.emplace_back(line); });
    obj->prepare(*obj->programs()[0], ctx, state);
  }

  bool ok() const { return obj != nullptr; }
  maps::Map* map(size_t i) const { return obj->map(i); }
  uint64_t map_ptr(size_t i) const { return reinterpret_cast<uint64_t>(obj->map(i)); }

  // Registers [p, p+n) as memory the "program" may use.
  void allow(const void* p, size_t n, bool writable = true) {
    ctx.regions.push_back(vm::Region{reinterpret_cast<uintptr_t>(p), n, writable, "test"});
  }

  uint64_t call(int32_t id, uint64_t r1 = 0, uint64_t r2 = 0, uint64_t r3 = 0, uint64_t r4 = 0, uint64_t r5 = 0) {
    const vm::HelperInfo* h = ctx.helpers ? ctx.helpers->find(id) : nullptr;
    EXPECT_NE(h, nullptr) << "helper " << id << " not registered";
    if (!h) return 0xdeadbeef;
    return h->fn(r1, r2, r3, r4, r5, &ctx);
  }
  int64_t scall(int32_t id, uint64_t r1 = 0, uint64_t r2 = 0, uint64_t r3 = 0, uint64_t r4 = 0, uint64_t r5 = 0) {
    return static_cast<int64_t>(call(id, r1, r2, r3, r4, r5));
  }

  // Runs program i (r1 = ctx_arg) through the runtime.
  Result<uint64_t> run(size_t i = 0, uint64_t ctx_arg = 0) {
    const runtime::Program& p = *obj->programs()[i];
    vm::ExecContext c;
    runtime::RunState st;
    obj->prepare(p, c, st);
    c.args[0] = ctx_arg;
    for (const vm::Region& r : ctx.regions)
      if (std::string(r.name) == "test") c.regions.push_back(r);
    return runtime::run_program(p, c);
  }
};

template <typename T>
uint64_t addr(const T* p) {
  return reinterpret_cast<uint64_t>(p);
}

}  // namespace userbpf::helpers_test
