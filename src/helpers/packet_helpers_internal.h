// Shared between the packet helper files.  Internal to src/helpers.
#pragma once

#include "helpers/packet_csum.h"
#include "userbpf/vm.h"

namespace userbpf::helpers::detail {

// skb_load_bytes, skb_store_bytes, l3/l4_csum_replace, skb_pull_data, ...
void register_skb_helpers(vm::HelperRegistry& reg);

}  // namespace userbpf::helpers::detail
