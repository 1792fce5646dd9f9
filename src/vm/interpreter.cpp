// PLACEHOLDER: replaced by the real checked interpreter.
#include "userbpf/vm.h"
namespace userbpf::vm {
Result<std::unique_ptr<Engine>> make_interpreter(std::span<const isa::Insn>, const EngineOptions&) {
  return make_error(ErrorKind::Unsupported, "interpreter not built yet");
}
}  // namespace userbpf::vm
