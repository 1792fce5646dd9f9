// Each command family registers its CLI11 subcommands; main() dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace userbpf::cli {

// A subcommand's action returns the process exit code.
using Action = std::function<int()>;

void add_isa_commands(CLI::App& app, Action& action);  // disasm, asm
void add_run_command(CLI::App& app, Action& action);   // run
void add_prog_commands(CLI::App& app, Action& action); // prog show, prog dump
void add_verify_command(CLI::App& app, Action& action); // verify

}  // namespace userbpf::cli
