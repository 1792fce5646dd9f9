// Ring buffer and perf event output helpers over the maps' own APIs.
// ringbuf_submit/discard get only the sample pointer; the kernel finds the ring
// from the record header, which a program could have forged.  Here every
// reservation is remembered per thread, and submit/discard accept only a
// pointer that reserve handed out and that is still outstanding.
#include <linux/bpf.h>

#include <algorithm>
#include <vector>

#include "helpers/helpers_internal.h"
#include "hooks/packet_ctx.h"

namespace userbpf::helpers::detail {
namespace {

struct Reservation {
  uint64_t sample;
  uint64_t map;  // the RingbufMap, revalidated through map_arg on commit
};
constexpr size_t kMaxOutstanding = 256;  // per thread; the verifier would bound this in the kernel
thread_local std::vector<Reservation> t_reserved;

maps::RingbufMap* ringbuf_arg(vm::ExecContext* ctx, uint64_t r) {
  maps::Map* m = map_arg(ctx, r);
  if (!m || m->type() != static_cast<uint32_t>(maps::MapType::Ringbuf)) return nullptr;
  return static_cast<maps::RingbufMap*>(m);
}

uint64_t ringbuf_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  maps::RingbufMap* rb = ringbuf_arg(ctx, r1);
  if (!rb) return err(EINVAL);
  const uint8_t* data = program_read_ptr(ctx, r2, r3);
  if (!data) return err(EFAULT);
  return ret(rb->output(data, r3, r4));
}

uint64_t ringbuf_reserve(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  maps::RingbufMap* rb = ringbuf_arg(ctx, r1);
  if (!rb || t_reserved.size() >= kMaxOutstanding) return 0;
  void* sample = rb->reserve(r2, r3);
  if (sample) t_reserved.push_back(Reservation{reinterpret_cast<uint64_t>(sample), r1});
  return reinterpret_cast<uint64_t>(sample);
}

// Commits an outstanding reservation; anything else is ignored (the helper is void).
void commit(vm::ExecContext* ctx, uint64_t sample, uint64_t flags, bool discard) {
  for (size_t i = t_reserved.size(); i-- > 0;) {
    if (t_reserved[i].sample != sample) continue;
    const uint64_t map = t_reserved[i].map;
    t_reserved.erase(t_reserved.begin() + static_cast<std::ptrdiff_t>(i));
    maps::RingbufMap* rb = ringbuf_arg(ctx, map);
    if (!rb) return;
    void* p = reinterpret_cast<void*>(sample);
    if (discard) rb->discard(p, flags);
    else rb->submit(p, flags);
    return;
  }
}

uint64_t ringbuf_submit(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  commit(ctx, r1, r2, false);
  return 0;
}

uint64_t ringbuf_discard(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  commit(ctx, r1, r2, true);
  return 0;
}

uint64_t ringbuf_query(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  maps::RingbufMap* rb = ringbuf_arg(ctx, r1);
  return rb ? rb->query(r2) : 0;
}

// long bpf_perf_event_output(ctx, map, flags, data, size)
uint64_t perf_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  maps::Map* m = map_arg(ctx, r2);
  if (!m || m->type() != static_cast<uint32_t>(maps::MapType::PerfEventArray)) return err(EINVAL);
  auto* pe = static_cast<maps::PerfEventArrayMap*>(m);
  const uint8_t* data = program_read_ptr(ctx, r4, r5);
  if (!data) return err(EFAULT);
  hooks::PacketState* pkt = hooks::packet_state(ctx, r1);
  if (!pkt) return ret(pe->output(r3, data, r5));
  // Packet programs get the kernel's bpf_xdp_event_output / bpf_skb_event_output:
  // flags bits 32-51 (BPF_F_CTXLEN_MASK) ask for that many packet bytes to be
  // appended to the sample; more than the packet holds is -EFAULT, checked
  // before the slot is looked at.
  if (r3 & ~(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK)) return err(EINVAL);
  const uint64_t ctx_len = (r3 & BPF_F_CTXLEN_MASK) >> 32;
  const bool xdp = pkt->kind == hooks::PacketState::Kind::Xdp;
  const uint64_t pkt_len = pkt->len() + (xdp ? pkt->frags_size() : 0);
  if (ctx_len > pkt_len) return err(EFAULT);
  const uint64_t index_flags = r3 & BPF_F_INDEX_MASK;
  if (ctx_len == 0) return ret(pe->output(index_flags, data, r5));
  std::vector<uint8_t> sample(data, data + r5);
  const uint64_t linear = std::min<uint64_t>(ctx_len, pkt->len());
  sample.insert(sample.end(), pkt->at(pkt->data), pkt->at(pkt->data) + linear);
  for (size_t i = 0; i < pkt->frags.size() && sample.size() < r5 + ctx_len; ++i) {
    const auto& f = pkt->frags[i];
    const uint64_t n = std::min<uint64_t>(f.size(), r5 + ctx_len - sample.size());
    sample.insert(sample.end(), f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return ret(pe->output(index_flags, sample.data(), sample.size()));
}

}  // namespace

void register_ringbuf_perf_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_ringbuf_output, ringbuf_output);
  add(reg, BPF_FUNC_ringbuf_reserve, ringbuf_reserve);
  add(reg, BPF_FUNC_ringbuf_submit, ringbuf_submit);
  add(reg, BPF_FUNC_ringbuf_discard, ringbuf_discard);
  add(reg, BPF_FUNC_ringbuf_query, ringbuf_query);
  add(reg, BPF_FUNC_perf_event_output, perf_event_output);
}

}  // namespace userbpf::helpers::detail
