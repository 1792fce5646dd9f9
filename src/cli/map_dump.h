// Map contents printed the way `bpftool map dump` prints maps without BTF.
#pragma once

#include <cstdio>

#include "userbpf/maps.h"

namespace userbpf::cli {

void dump_map(std::FILE* out, maps::Map& map);

}  // namespace userbpf::cli
