// tests/progs/callbacks.bpf.c compiled by clang: bpf_loop and
// bpf_for_each_map_elem with static callbacks (lddw src=FUNC), bpf_printk and
// map helpers, through the loader, the runtime and the XDP test-run hook.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "userbpf/hooks.h"
#include "userbpf/loader.h"
#include "userbpf/runtime.h"

namespace userbpf {
namespace {

class CallbacksProg : public ::testing::TestWithParam<const char*> {};

TEST_P(CallbacksProg, LoopThenForEach) {
  const std::string path = std::string(USERBPF_PROGS_DIR) + "/callbacks." + GetParam() + ".bpf.o";
  auto spec = loader::load_object(path);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  auto obj = runtime::Object::load(std::move(*spec));
  ASSERT_TRUE(obj.ok()) << obj.error().str();
  std::vector<std::string> trace;
  (*obj)->set_trace_sink([&](std::string_view line) { trace.emplace_back(line); });
  const runtime::Program* loop = (*obj)->find_program("xdp_loop_cb");
  const runtime::Program* each = (*obj)->find_program("xdp_each_cb");
  ASSERT_TRUE(loop && each);

  hooks::TestRunInput in;
  in.data.assign(64, 0);
  auto r = hooks::test_run(*loop, in);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->retval, 2u);  // XDP_PASS
  // rx_queue_index 0: limit 4, the callback stops after index 3; sum 3 * (0+1+2+3).
  ASSERT_EQ(trace.size(), 1u);
  EXPECT_EQ(trace[0], "hello from callbacks: sum 18");
  const int totals = (*obj)->spec().map_index("totals");
  ASSERT_GE(totals, 0);
  uint32_t key = 1;
  uint64_t val = 0;
  ASSERT_EQ((*obj)->map(static_cast<size_t>(totals))->sys_lookup(&key, &val), 0);
  const uint64_t expect_val = (18ull * 31) ^ (1 + 'c');  // mix(sum, key) with tag "cb"
  EXPECT_EQ(val, expect_val);

  r = hooks::test_run(*each, in);
  ASSERT_TRUE(r.ok()) << r.error().str();
  // for_each adds value + key over all 8 slots: expect_val + (0+1+...+7).
  ASSERT_EQ(trace.size(), 2u);
  const uint64_t acc = expect_val + 28;
  const std::string want_prefix = "total ";
  ASSERT_EQ(trace[1].rfind(want_prefix, 0), 0u) << trace[1];
  const uint64_t total = std::stoull(trace[1].substr(want_prefix.size()));
  // mix(acc, clamp(ifindex, 100)): whatever the ifindex, the a*31 part is known.
  bool found = false;
  for (uint64_t ifindex = 0; ifindex <= 100 && !found; ++ifindex) found = total == ((acc * 31) ^ (ifindex + 'c'));
  EXPECT_TRUE(found) << total;
  EXPECT_EQ(r->retval, total & 1 ? 1u : 2u);
}

INSTANTIATE_TEST_SUITE_P(Cpu, CallbacksProg, ::testing::Values("v3", "v4"));

}  // namespace
}  // namespace userbpf
