// test_run for runtime programs: the object prepares the run (maps, helpers).
// Kept apart from packet_run.cpp so that users of the bare-engine overload do
// not pull in the runtime.
#include "hooks/packet_run.h"

namespace userbpf::hooks {

Result<TestRunResult> test_run(const runtime::Program& prog, const TestRunInput& in) {
  PacketRunner r;
  r.prepare = [&prog](vm::ExecContext& ctx, runtime::RunState& st) { prog.object().prepare(prog, ctx, st); };
  r.run = [&prog](vm::ExecContext& ctx) { return runtime::run_program(prog, ctx); };
  return run_packet_test(prog.prog_type(), in, r);
}

}  // namespace userbpf::hooks
