// Helper functions with the kernel's ids (linux/bpf.h __BPF_FUNC_MAPPER) and
// semantics.  Helpers reach the running program's object and hook state through
// vm::ExecContext::user, which points to a runtime::RunState.
#pragma once

#include <cstdint>
#include <string>

#include "userbpf/vm.h"

namespace userbpf::helpers {

// Map, time, random, printk, string, ringbuf, perf, probe_read, tail call, loop,
// for_each_map_elem, current task ... helpers: everything not tied to packets.
void register_standard_helpers(vm::HelperRegistry& reg);
// xdp_adjust_head/tail/meta, skb_load_bytes, skb_store_bytes, csum_diff,
// l3/l4_csum_replace, redirect, redirect_map ...
void register_packet_helpers(vm::HelperRegistry& reg);

// "bpf_map_lookup_elem" for id 1, "" when unknown: error messages name helpers.
std::string helper_name(int32_t id);

}  // namespace userbpf::helpers
