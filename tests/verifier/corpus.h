// Shared by the verifier corpus (tests/verifier/*.bpf.c).  Every SEC() program's
// name states the verdict the kernel gives for a privileged loader: accept_... or
// reject_...; tests/kernel/verifier_corpus_test.cpp checks that against the kernel.
//
// Some rules cannot be reached from C (the compiler will not emit pointer
// bit-twiddling, and it drops or reorders what is undefined), so those programs
// are written as naked functions whose whole body is inline assembly.  The
// operand helpers below pass maps and helper ids into that assembly.
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define __naked __attribute__((naked))
// Keeps a static function only referenced from inline assembly.
#define __used __attribute__((used))
// "r1 = %[m] ll" with __imm_addr(m) loads the map address (an lddw relocated to the map).
#define __imm_addr(name) [name] "i"(&(name))
// "call %[bpf_map_lookup_elem]" with __imm(bpf_map_lookup_elem) calls the helper by id.
#define __imm(name) [name] "i"(name)
#define __imm_const(name, expr) [name] "i"(expr)
// A naked body may use any register; nothing the compiler holds survives it anyway.
#define __clobber_all "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory"

char LICENSE[] SEC("license") = "GPL";
