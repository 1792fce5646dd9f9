// The suite's programs, its input packet and the map contents it starts from.
#include <cstring>

#include "flows.h"
#include "suite.h"
#include "support/packets.h"

namespace userbpf::bench {
namespace {

namespace pk = userbpf::testing::packets;

constexpr uint16_t kSport = 43210;
constexpr uint16_t kDport = 80;
constexpr size_t kPacketSize = 600;

uint32_t host_ip(const pk::Ip4& a) {
  return static_cast<uint32_t>(a[0]) << 24 | static_cast<uint32_t>(a[1]) << 16 | static_cast<uint32_t>(a[2]) << 8 | a[3];
}

template <typename T>
Bytes bytes_of(const T& v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

// Flows next to the packet's: every second source port from the packet's on.
std::vector<MapEntry> fill_flows(const Bytes&) {
  std::vector<MapEntry> out;
  for (uint32_t i = 0; i < BENCH_FLOW_PREFILL; ++i) {
    bench_flow_key k{};
    k.saddr = host_ip(pk::kIpA);
    k.daddr = host_ip(pk::kIpB);
    k.sport = static_cast<uint16_t>(kSport + 2 * i);
    k.dport = kDport;
    k.proto = 6;
    bench_flow_val v{};
    v.packets = i;
    v.bytes = 1000ull * i;
    out.push_back({"flows", bytes_of(k), bytes_of(v)});
  }
  return out;
}

std::vector<MapEntry> fill_table(const Bytes&) {
  std::vector<MapEntry> out;
  for (uint32_t i = 0; i < BENCH_ARRAY_ENTRIES; ++i) {
    const uint32_t v = bench_array_value(i);
    out.push_back({"table", bytes_of(i), bytes_of(v)});
  }
  return out;
}

bench_native_fn native_for(const char* name) {
  for (const bench_native* n = bench_natives; n->name; ++n)
    if (std::strcmp(n->name, name) == 0) return n->fn;
  return nullptr;
}

}  // namespace

const std::vector<ProgramInfo>& suite_programs() {
  static const std::vector<ProgramInfo> progs = [] {
    std::vector<ProgramInfo> v;
    for (const char* n : {"fnv1a", "jhash", "murmur3", "inet_csum", "crc32", "crc32_unrolled", "bitcount", "isort",
                          "bytecode_vm", "sigmatch", "matrix", "collatz"})
      v.push_back({n, "compute", native_for(n), nullptr});
    for (const char* n : {"parse_tcp", "rewrite", "toeplitz", "tcp_csum"})
      v.push_back({n, "packet", native_for(n), nullptr});
    v.push_back({"map_hash", "maps", nullptr, fill_flows});
    v.push_back({"map_array", "maps", nullptr, fill_table});
    v.push_back({"map_percpu", "maps", nullptr, nullptr});
    v.push_back({"map_lru", "maps", nullptr, nullptr});
    return v;
  }();
  return progs;
}

Bytes suite_packet() {
  // MSS 1460, SACK permitted, timestamps, NOP, window scale 7: 20 bytes.
  const Bytes options = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x01, 0x02, 0x03, 0x04,
                         0x0a, 0x0b, 0x0c, 0x0d, 1, 3, 3, 7};
  const std::string http =
      "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: userbpf-bench/1.0\r\n"
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
      "Cookie: session=";
  constexpr size_t kHeaders = 14 + 20 + 20 + 20;
  Bytes payload(http.begin(), http.end());
  // The rest of the cookie: deterministic letters and digits up to the size.
  const Bytes fill = pk::pattern(kPacketSize - kHeaders - payload.size() - 4, 7);
  for (uint8_t c : fill) payload.push_back(static_cast<uint8_t>("abcdefghijklmnopqrstuvwxyz0123456789"[c % 36]));
  for (char c : std::string("\r\n\r\n")) payload.push_back(static_cast<uint8_t>(c));
  const Bytes tcp = pk::tcp4(pk::kIpA, pk::kIpB, kSport, kDport, 0x10 /* ACK: tcp_csum sets PSH */, options, payload);
  return pk::ethernet(pk::kMacB, pk::kMacA, 0x0800, pk::ipv4(pk::kIpA, pk::kIpB, 6, tcp));
}

}  // namespace userbpf::bench
