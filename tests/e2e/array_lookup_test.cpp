// tests/progs/array_lookup.bpf.c: bpf_map_lookup_elem on array and per-CPU
// array maps, which the JIT computes in line for verified programs (the
// verifier names the one map each call site is passed).  Keys in range and
// past the end, on the JIT and on the interpreter: same results, same maps.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include <linux/bpf.h>

#include "userbpf/hooks.h"
#include "userbpf/jit.h"
#include "userbpf/loader.h"
#include "userbpf/maps.h"
#include "userbpf/runtime.h"

namespace userbpf {
namespace {

std::unique_ptr<runtime::Object> load(const char* cpu, const char* engine) {
  auto spec = loader::load_object(std::string(USERBPF_PROGS_DIR) + "/array_lookup." + cpu + ".bpf.o");
  EXPECT_TRUE(spec.ok()) << spec.error().str();
  if (!spec) return nullptr;
  runtime::ObjectOptions oo;
  oo.engine = engine;
  auto obj = runtime::Object::load(std::move(*spec), oo);
  EXPECT_TRUE(obj.ok()) << obj.error().str();
  return obj ? std::move(*obj) : nullptr;
}

maps::Map* map_named(runtime::Object& obj, const std::string& name) {
  const int i = obj.spec().map_index(name);
  return i < 0 ? nullptr : obj.map(static_cast<size_t>(i));
}

// The per-CPU value of key, summed over the CPUs.
uint64_t percpu_sum(maps::Map& m, uint32_t key) {
  const size_t ncpu = static_cast<size_t>(maps::num_possible_cpus());
  std::vector<uint64_t> all(ncpu);
  EXPECT_EQ(m.sys_lookup(&key, all.data()), 0);
  uint64_t sum = 0;
  for (uint64_t v : all) sum += v;
  return sum;
}

class ArrayLookup : public ::testing::TestWithParam<const char*> {};

TEST_P(ArrayLookup, InlinedLookupsMatchTheInterpreter) {
  auto jit_obj = load(GetParam(), "jit");
  auto interp_obj = load(GetParam(), "interp");
  ASSERT_TRUE(jit_obj && interp_obj);
  const runtime::Program* jp = jit_obj->find_program("array_lookup");
  const runtime::Program* ip = interp_obj->find_program("array_lookup");
  ASSERT_TRUE(jp && ip);

  // All three call sites are known array lookups, the last one per-CPU, and
  // the two plain ones have no call left in their code.
  const vm::EngineOptions eo = jp->engine_options();
  ASSERT_EQ(eo.array_lookups.size(), 3u);
  EXPECT_EQ(eo.array_lookups[0].max_entries, 5u);
  EXPECT_EQ(eo.array_lookups[1].max_entries, 3u);
  EXPECT_EQ(eo.array_lookups[2].cpu_stride, 8u);
  const auto* engine = dynamic_cast<const jit::JitEngine*>(&jp->engine());
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->verified());
  for (size_t i = 0; i < 2; ++i) {
    const uint32_t slot = eo.array_lookups[i].slot;
    const auto offs = engine->insn_offsets();
    const auto code = engine->code().subspan(offs[slot], offs[slot + 1] - offs[slot]);
    for (const jit::NativeInsn& n : jit::disassemble_native(code, 0))
      EXPECT_EQ(n.text.find("call"), std::string::npos) << "slot " << slot << ": " << n.text;
  }

  std::array<uint64_t, 5> counts{};
  std::array<uint64_t, 3> hits{};
  std::array<uint32_t, 3> last{};
  std::array<uint64_t, 4> pcpu{};
  const uint8_t keys[][3] = {{0, 0, 0}, {4, 2, 3}, {5, 3, 4}, {255, 255, 255}, {2, 1, 1}, {4, 7, 3}, {6, 0, 200}};
  for (const auto& k : keys) {
    hooks::TestRunInput in;
    in.data.assign(64, 0);
    std::memcpy(in.data.data(), k, 3);
    auto rj = hooks::test_run(*jp, in);
    auto ri = hooks::test_run(*ip, in);
    ASSERT_TRUE(rj.ok()) << rj.error().str();
    ASSERT_TRUE(ri.ok()) << ri.error().str();
    const uint32_t want = (k[0] < 5 ? 1u : 0u) | (k[1] < 3 ? 2u : 0u) | (k[2] < 4 ? 4u : 0u);
    EXPECT_EQ(rj->retval, want) << int(k[0]) << " " << int(k[1]) << " " << int(k[2]);
    EXPECT_EQ(ri->retval, want);
    if (k[0] < 5) ++counts[k[0]];
    if (k[1] < 3) {
      ++hits[k[1]];
      last[k[1]] = k[2];
    }
    if (k[2] < 4) pcpu[k[2]] += k[2] + 1u;
  }
  for (runtime::Object* obj : {jit_obj.get(), interp_obj.get()}) {
    maps::Map* c = map_named(*obj, "counts");
    maps::Map* w = map_named(*obj, "wides");
    maps::Map* p = map_named(*obj, "pcpu");
    ASSERT_TRUE(c && w && p);
    for (uint32_t i = 0; i < counts.size(); ++i) {
      uint64_t v = 0;
      ASSERT_EQ(c->sys_lookup(&i, &v), 0);
      EXPECT_EQ(v, counts[i]) << "counts[" << i << "]";
    }
    for (uint32_t i = 0; i < hits.size(); ++i) {
      std::vector<uint8_t> v(w->spec().value_size);
      ASSERT_EQ(w->sys_lookup(&i, v.data()), 0);
      uint64_t h;
      uint32_t l;
      std::memcpy(&h, v.data(), 8);
      std::memcpy(&l, v.data() + 8, 4);
      EXPECT_EQ(h, hits[i]) << "wides[" << i << "].hits";
      EXPECT_EQ(l, last[i]) << "wides[" << i << "].last";
    }
    for (uint32_t i = 0; i < pcpu.size(); ++i) EXPECT_EQ(percpu_sum(*p, i), pcpu[i]) << "pcpu[" << i << "]";
  }
}

// A map taken out of a map-in-map is only known by its template (an array
// here): no lookup in it is inlined, and the verifier says so at the call.
TEST(ArrayLookupSites, InnerMapsAreNotInlined) {
  for (const char* cpu : {"v3", "v4"}) {
    auto spec = loader::load_object(std::string(USERBPF_PROGS_DIR) + "/map_in_map." + cpu + ".bpf.o");
    ASSERT_TRUE(spec.ok()) << spec.error().str();
    auto mim = runtime::Object::load(std::move(*spec));
    ASSERT_TRUE(mim.ok()) << mim.error().str();
    size_t inner_calls = 0;
    for (const auto& p : (*mim)->programs()) {
      EXPECT_TRUE(p->engine_options().array_lookups.empty()) << p->name();
      for (size_t pc = 0; pc < p->facts().size(); ++pc) {
        const isa::Insn& in = p->spec().insns[pc];
        if (in.opcode == 0x85 && in.src == 0 && in.imm == BPF_FUNC_map_lookup_elem &&
            p->facts()[pc].call_map == verifier::kCallMapVaries)
          ++inner_calls;
      }
    }
    EXPECT_GE(inner_calls, 2u) << cpu;
  }
}

INSTANTIATE_TEST_SUITE_P(Cpu, ArrayLookup, ::testing::Values("v3", "v4"));

}  // namespace
}  // namespace userbpf
