// Engine selection by name.
#include "userbpf/jit.h"
#include "userbpf/vm.h"

namespace userbpf::vm {

std::string_view resolve_engine(std::string_view name, bool verified) {
  if (name != "auto") return name;
  return verified && jit::available() ? "jit" : "interp";
}

Result<std::unique_ptr<Engine>> make_engine(std::string_view name, std::span<const isa::Insn> prog,
                                            const EngineOptions& opts) {
  name = resolve_engine(name, !opts.proofs.empty());
  if (name == "interp") return make_interpreter(prog, opts);
  if (name == "jit") return jit::make_jit(prog, opts);
  return make_error(ErrorKind::InvalidArgument, "unknown engine '" + std::string(name) + "' (interp, jit or auto)");
}

}  // namespace userbpf::vm

namespace userbpf::vm {

Result<uint64_t> Engine::call_function(ExecContext&, uint64_t, const uint64_t[5]) const {
  return make_error(ErrorKind::Unsupported, std::string(name()) + " engine cannot call bpf callbacks");
}

}  // namespace userbpf::vm
