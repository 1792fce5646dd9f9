// Machine code listing for `userbpf prog dump --jited`, with Zydis.
#include <Zydis/Zydis.h>

#include "userbpf/jit.h"

namespace userbpf::jit {

std::vector<NativeInsn> disassemble_native(std::span<const uint8_t> code, uint64_t address) {
  std::vector<NativeInsn> out;
  size_t off = 0;
  while (off < code.size()) {
    ZydisDisassembledInstruction insn;
    if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, address + off, code.data() + off,
                                            code.size() - off, &insn))) {
      out.push_back({static_cast<uint32_t>(off), "(bad)"});
      ++off;
      continue;
    }
    out.push_back({static_cast<uint32_t>(off), insn.text});
    off += insn.info.length;
  }
  return out;
}

}  // namespace userbpf::jit
