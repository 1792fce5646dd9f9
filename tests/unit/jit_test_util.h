// Differential harness for the JIT unit tests: a program runs on the checked
// interpreter and on the JIT with identical inputs (the same buffers, so the
// same addresses), and everything observable must agree: r0 or the error
// (kind, instruction, message with stack addresses masked), the memory the
// program wrote, and the instruction count when the JIT counts.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "unit/interp_test_util.h"
#include "userbpf/jit.h"

namespace userbpf::jit_test {

using namespace userbpf::interp_test;  // NOLINT: the instruction builders

struct RunSetup {
  std::vector<uint8_t> input;  // a region "input"; r1 = its address, r2 = its size
  bool input_writable = true;
  const vm::HelperRegistry* helpers = nullptr;
  uint64_t budget = 1'000'000;
  bool legacy_packet = false;   // the input is also what ld_abs / ld_ind read
  std::vector<uint32_t> proofs; // passed to the JIT only
  // Called with the engine and context before each run (callbacks need the engine).
  std::function<void(const vm::Engine&, vm::ExecContext&)> before;
};

struct Outcome {
  bool built = false;
  std::string build_error;
  bool ok = false;
  uint64_t r0 = 0;
  Error error;
  uint64_t insns = 0;
  std::vector<uint8_t> memory;  // the input after the run
};

// Stack addresses differ between the engines (each has its own stack).
inline std::string mask_addresses(const std::string& s) {
  static const std::regex hex("0x[0-9a-f]+");
  return std::regex_replace(s, hex, "0x?");
}

inline Outcome run_engine(const std::string& engine, const Prog& p, const RunSetup& s, std::vector<uint8_t>& buf) {
  Outcome o;
  vm::EngineOptions opts;
  opts.helpers = s.helpers;
  if (engine == "jit") opts.proofs = s.proofs;
  auto e = vm::make_engine(engine, p, opts);
  if (!e) {
    o.build_error = e.error().str();
    return o;
  }
  o.built = true;
  buf = s.input;
  vm::ExecContext ctx;
  ctx.helpers = s.helpers;
  ctx.insn_budget = s.budget;
  if (!buf.empty())
    ctx.regions.push_back(region_of(buf.data(), buf.size(), s.input_writable, "input"));
  ctx.args[0] = reinterpret_cast<uintptr_t>(buf.data());
  ctx.args[1] = buf.size();
  if (s.legacy_packet) ctx.legacy_packet = std::span<const uint8_t>(buf.data(), buf.size());
  if (s.before) s.before(**e, ctx);
  auto r = (*e)->run(ctx);
  o.ok = r.ok();
  if (r.ok()) o.r0 = *r;
  else o.error = r.error();
  o.insns = ctx.insns_executed;
  o.memory = buf;
  EXPECT_EQ(ctx.stack_lo, 0u) << engine << ": the live stack must be cleared after a run";
  EXPECT_EQ(ctx.stack_hi, 0u);
  return o;
}

// Runs both engines; returns the JIT's outcome.  `what` names the case in failures.
inline Outcome expect_same(const Prog& p, const RunSetup& s = {}, const std::string& what = "") {
  std::vector<uint8_t> buf;
  buf.reserve(s.input.size() + 16);  // one allocation: both runs see the same addresses
  const Outcome in = run_engine("interp", p, s, buf);
  const Outcome jit = run_engine("jit", p, s, buf);
  const std::string listing = what + "\n" + isa::disassemble_program(p);
  EXPECT_EQ(in.built, jit.built) << in.build_error << " / " << jit.build_error << listing;
  if (!in.built || !jit.built) {
    EXPECT_EQ(in.build_error, jit.build_error) << listing;
    return jit;
  }
  EXPECT_EQ(in.ok, jit.ok) << (in.ok ? "" : in.error.str()) << " / " << (jit.ok ? "" : jit.error.str()) << listing;
  if (in.ok && jit.ok) {
    EXPECT_EQ(in.r0, jit.r0) << std::hex << "interp 0x" << in.r0 << " jit 0x" << jit.r0 << listing;
  } else if (!in.ok && !jit.ok) {
    EXPECT_EQ(in.error.kind, jit.error.kind) << listing;
    EXPECT_EQ(in.error.insn, jit.error.insn) << in.error.str() << " / " << jit.error.str() << listing;
    EXPECT_EQ(mask_addresses(in.error.message), mask_addresses(jit.error.message)) << listing;
  }
  const bool counted = s.proofs.empty();
  const bool budget_fault = !in.ok && in.error.message.find("instruction budget") != std::string::npos;
  if (counted && ((in.ok && jit.ok) || budget_fault)) {
    EXPECT_EQ(in.insns, jit.insns) << listing;
  }
  EXPECT_EQ(in.memory, jit.memory) << listing;
  return jit;
}

// Every slot proven verified (and optionally more), for the JIT's fast paths.
inline std::vector<uint32_t> all_proven(const Prog& p, uint32_t extra = 0) {
  return std::vector<uint32_t>(p.size(), vm::proof::kVerified | extra);
}

}  // namespace userbpf::jit_test
