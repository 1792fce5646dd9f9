// `userbpf verify` and the verification step of `userbpf run`, through the CLI:
// exit codes, the explanation of a rejection, --log, --stats and --json.
#include <gtest/gtest.h>

#include <string>

#include "support/subprocess.h"

namespace {

using userbpf::test::run_process;

const std::string kNullCheck = std::string(USERBPF_VERIFIER_CORPUS_DIR) + "/null_check.bpf.o";
const std::string kFirewall = std::string(USERBPF_PROGS_DIR) + "/xdp_firewall.v3.bpf.o";

TEST(VerifyCli, AcceptedProgramExitsZero) {
  auto r = run_process({USERBPF_CLI, "verify", kFirewall});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("accepted"), std::string::npos) << r.out;
}

TEST(VerifyCli, RejectionExplainsWhereWhyAndHowToFix) {
  auto r = run_process({USERBPF_CLI, "verify", kNullCheck, "--prog", "reject_lookup_no_null_check"});
  EXPECT_EQ(r.exit_code, 1);
  // The instruction, the C source line, the state of the register and the fix.
  EXPECT_NE(r.err.find("rejected at 7: r0 = *(u64 *)(r0 + 0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("null_check.bpf.c:25:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("R0=map_value_or_null"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("check the result of bpf_map_lookup_elem"), std::string::npos) << r.err;
}

TEST(VerifyCli, LogPrintsThePathToTheRejection) {
  auto r = run_process({USERBPF_CLI, "verify", kNullCheck, "--prog", "reject_lookup_no_null_check", "--log"});
  EXPECT_EQ(r.exit_code, 1);
  // Every instruction of the path, with the state it produced.
  EXPECT_NE(r.err.find("6: call 1\t; R0=map_value_or_null"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0: r1 = *(u32 *)(r1 + 16)"), std::string::npos) << r.err;
}

TEST(VerifyCli, StatsAndJson) {
  auto s = run_process({USERBPF_CLI, "verify", kFirewall, "--stats"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("processed "), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("peak "), std::string::npos) << s.out;
  auto j = run_process({USERBPF_CLI, "verify", kNullCheck, "--json", "--stats"});
  EXPECT_EQ(j.exit_code, 1);  // the object holds rejected programs
  EXPECT_NE(j.out.find("\"accepted\": false"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"accepted\": true"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"processed_insns\""), std::string::npos) << j.out;
}

TEST(VerifyCli, UnusableInputExitsTwo) {
  EXPECT_EQ(run_process({USERBPF_CLI, "verify", "/nonexistent.bpf.o"}).exit_code, 2);
  EXPECT_EQ(run_process({USERBPF_CLI, "verify", kFirewall, "--prog", "nope"}).exit_code, 2);
}

TEST(VerifyCli, RunRefusesRejectedProgramUnlessNoVerify) {
  const std::string pkt = std::string(USERBPF_SOURCE_DIR) + "/examples/dns_packet.bin";
  auto r = run_process({USERBPF_CLI, "run", kNullCheck, "--prog", "reject_lookup_no_null_check", "--data", pkt});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("map_value_or_null"), std::string::npos) << r.err;
  // Without the verifier the checked interpreter runs it: the lookup of key
  // rx_queue_index (0) in an empty hash misses and the NULL dereference is stopped.
  auto n = run_process({USERBPF_CLI, "run", kNullCheck, "--prog", "reject_lookup_no_null_check", "--data", pkt, "--no-verify"});
  EXPECT_EQ(n.exit_code, 1);
  EXPECT_EQ(n.err.find("map_value_or_null"), std::string::npos) << n.err;
  // An accepted program runs as before.
  auto ok = run_process({USERBPF_CLI, "run", kNullCheck, "--prog", "accept_lookup_null_checked", "--data", pkt});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
