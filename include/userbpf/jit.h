// The x86-64 JIT engine: what vm::make_engine("jit", ...) builds, plus what a
// listing of its machine code needs (userbpf prog dump --jited).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "userbpf/vm.h"

namespace userbpf::jit {

// True on hosts the JIT can generate code for (x86-64 Linux).
bool available();

class JitEngine : public vm::Engine {
 public:
  // The generated code: shared routines (entry trampoline, checks, fault exits)
  // first, then every instruction in program order, then the fall-off stub.
  virtual std::span<const uint8_t> code() const = 0;
  // Offset in code() where each instruction slot's machine code starts; one
  // entry per slot plus one for the fall-off stub (the second slot of an lddw
  // gets the offset of the next instruction: it has no code of its own).
  virtual std::span<const uint32_t> insn_offsets() const = 0;
  // Whether the program was compiled with the verifier's proofs (no instruction
  // budget, r1-r5 not preserved across calls, proven accesses unchecked).
  virtual bool verified() const = 0;
};

Result<std::unique_ptr<vm::Engine>> make_jit(std::span<const isa::Insn> prog, const vm::EngineOptions& opts = {});

// Intel-syntax disassembly of machine code (Zydis), one entry per instruction:
// its offset from the start of `code` and its text.
struct NativeInsn {
  uint32_t offset = 0;
  std::string text;
};
std::vector<NativeInsn> disassemble_native(std::span<const uint8_t> code, uint64_t address);

}  // namespace userbpf::jit
