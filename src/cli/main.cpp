// userbpf: the eBPF runtime in user space.  Commands are shaped like bpftool's.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"

int main(int argc, char** argv) {
  CLI::App app{"userbpf: eBPF loader, verifier and engines in user space", "userbpf"};
  app.require_subcommand(1);
  userbpf::cli::Action action;
  userbpf::cli::add_isa_commands(app, action);
  userbpf::cli::add_run_command(app, action);
  userbpf::cli::add_prog_commands(app, action);
  userbpf::cli::add_verify_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : userbpf::cli::kExitBadInput;
  }
  return action ? action() : userbpf::cli::kExitBadInput;
}
