// Packet builder (see packets.h).  Multi-byte header fields are big-endian.
#include "support/packets.h"

namespace userbpf::testing::packets {
namespace {

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void append(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }
void append(Bytes& b, const Bytes& x) { b.insert(b.end(), x.begin(), x.end()); }
void set16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

uint32_t partial(const uint8_t* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  return sum;
}

uint32_t pseudo4(const Ip4& src, const Ip4& dst, uint8_t proto, size_t len) {
  uint32_t s = partial(src.data(), 4, 0);
  s = partial(dst.data(), 4, s);
  return s + proto + static_cast<uint32_t>(len);
}
uint32_t pseudo6(const Ip6& src, const Ip6& dst, uint8_t nh, size_t len) {
  uint32_t s = partial(src.data(), 16, 0);
  s = partial(dst.data(), 16, s);
  return s + nh + static_cast<uint32_t>(len);
}

Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, static_cast<uint16_t>(8 + payload.size()));
  put16(b, 0);
  append(b, payload);
  return b;
}

Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& options, const Bytes& payload) {
  Bytes opts = options;
  while (opts.size() % 4) opts.push_back(1);  // NOP padding
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put32(b, 0x01020304);  // seq
  put32(b, 0);           // ack
  b.push_back(static_cast<uint8_t>(((20 + opts.size()) / 4) << 4));
  b.push_back(flags);
  put16(b, 0xffff);  // window
  put16(b, 0);       // checksum
  put16(b, 0);       // urgent
  append(b, opts);
  append(b, payload);
  return b;
}

}  // namespace

Ip6 ip6(uint16_t last) {
  Ip6 a{};
  a[0] = 0xfd;
  a[14] = static_cast<uint8_t>(last >> 8);
  a[15] = static_cast<uint8_t>(last);
  return a;
}

uint16_t inet_checksum(const uint8_t* p, size_t len, uint32_t sum) {
  sum = partial(p, len, sum);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t ethertype, const Bytes& payload) {
  Bytes b;
  append(b, dst.data(), 6);
  append(b, src.data(), 6);
  put16(b, ethertype);
  append(b, payload);
  return b;
}

Bytes vlan_ethernet(const Mac& dst, const Mac& src, uint16_t vid, uint16_t ethertype, const Bytes& payload) {
  Bytes inner;
  put16(inner, vid & 0x0fff);
  put16(inner, ethertype);
  append(inner, payload);
  return ethernet(dst, src, 0x8100, inner);
}

Bytes ipv4(const Ip4& src, const Ip4& dst, uint8_t proto, const Bytes& l4, const Ip4Opts& o) {
  Bytes opts = o.options;
  while (opts.size() % 4) opts.push_back(0);  // end-of-options padding
  const size_t hlen = 20 + opts.size();
  Bytes b;
  b.push_back(static_cast<uint8_t>(0x40 | hlen / 4));
  b.push_back(o.tos);
  put16(b, static_cast<uint16_t>(hlen + l4.size()));
  put16(b, o.id);
  put16(b, o.frag_off);
  b.push_back(o.ttl);
  b.push_back(proto);
  put16(b, 0);
  append(b, src.data(), 4);
  append(b, dst.data(), 4);
  append(b, opts);
  set16(b, 10, inet_checksum(b.data(), hlen));
  append(b, l4);
  return b;
}

Bytes ipv6(const Ip6& src, const Ip6& dst, uint8_t next_header, const Bytes& l4, uint8_t hop_limit) {
  Bytes b;
  put32(b, 0x60000000);
  put16(b, static_cast<uint16_t>(l4.size()));
  b.push_back(next_header);
  b.push_back(hop_limit);
  append(b, src.data(), 16);
  append(b, dst.data(), 16);
  append(b, l4);
  return b;
}

Bytes udp4(const Ip4& src, const Ip4& dst, uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes b = udp(sport, dport, payload);
  uint16_t c = inet_checksum(b.data(), b.size(), pseudo4(src, dst, 17, b.size()));
  set16(b, 6, c ? c : 0xffff);
  return b;
}

Bytes tcp4(const Ip4& src, const Ip4& dst, uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& options,
           const Bytes& payload) {
  Bytes b = tcp(sport, dport, flags, options, payload);
  set16(b, 16, inet_checksum(b.data(), b.size(), pseudo4(src, dst, 6, b.size())));
  return b;
}

Bytes udp6(const Ip6& src, const Ip6& dst, uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes b = udp(sport, dport, payload);
  uint16_t c = inet_checksum(b.data(), b.size(), pseudo6(src, dst, 17, b.size()));
  set16(b, 6, c ? c : 0xffff);
  return b;
}

Bytes tcp6(const Ip6& src, const Ip6& dst, uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload) {
  Bytes b = tcp(sport, dport, flags, {}, payload);
  set16(b, 16, inet_checksum(b.data(), b.size(), pseudo6(src, dst, 6, b.size())));
  return b;
}

Bytes icmp4_echo(uint16_t id, uint16_t seq, const Bytes& payload) {
  Bytes b = {8, 0, 0, 0};
  put16(b, id);
  put16(b, seq);
  append(b, payload);
  set16(b, 2, inet_checksum(b.data(), b.size()));
  return b;
}

Bytes arp_request(const Mac& sha, const Ip4& spa, const Ip4& tpa) {
  Bytes b;
  put16(b, 1);       // Ethernet
  put16(b, 0x0800);  // IPv4
  b.push_back(6);
  b.push_back(4);
  put16(b, 1);  // request
  append(b, sha.data(), 6);
  append(b, spa.data(), 4);
  append(b, Mac{}.data(), 6);
  append(b, tpa.data(), 4);
  return b;
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  return b;
}

std::vector<Named> standard_packets() {
  const Bytes tcp_opts = {2, 4, 0x05, 0xb4,  // MSS 1460
                          4, 2,              // SACK permitted
                          8, 10, 0, 0, 0, 1, 0, 0, 0, 0,  // timestamps
                          1, 3, 3, 7};        // NOP, window scale 7
  auto eth4 = [](const Bytes& ip) { return ethernet(kMacB, kMacA, 0x0800, ip); };
  auto opts = [](uint8_t tos, uint8_t ttl, uint16_t frag_off, Bytes options) {
    Ip4Opts o;
    o.tos = tos;
    o.ttl = ttl;
    o.frag_off = frag_off;
    o.options = std::move(options);
    return o;
  };
  std::vector<Named> v;
  v.push_back({"ipv4_udp", eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 40000, 53, pattern(32))))});
  v.push_back({"ipv4_udp_blocked_port", eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 40000, 9, pattern(8))))});
  v.push_back({"ipv4_tcp_syn_opts", eth4(ipv4(kIpA, kIpB, 6, tcp4(kIpA, kIpB, 40001, 80, 0x02, tcp_opts, {})))});
  v.push_back({"ipv4_tcp_data", eth4(ipv4(kIpA, kIpB, 6, tcp4(kIpA, kIpB, 443, 50000, 0x18, {}, pattern(100, 7))))});
  v.push_back({"ipv4_tcp_synfin", eth4(ipv4(kIpA, kIpB, 6, tcp4(kIpA, kIpB, 1, 2, 0x03, {}, {})))});
  v.push_back({"ipv4_telnet", eth4(ipv4(kIpA, kIpB, 6, tcp4(kIpA, kIpB, 2000, 23, 0x02, {}, {})))});
  v.push_back({"ipv4_icmp", eth4(ipv4(kIpA, kIpB, 1, icmp4_echo(1, 1, pattern(56))))});
  v.push_back({"ipv4_icmp_big", eth4(ipv4(kIpA, kIpB, 1, icmp4_echo(1, 2, pattern(1200))))});
  v.push_back({"ipv4_dscp_ef", eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 5004, 5004, pattern(40)), opts(46 << 2, 64, 0x4000, {})))});
  v.push_back({"ipv4_dscp_cs1", eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 5004, 5005, pattern(40)), opts(8 << 2, 64, 0x4000, {})))});
  v.push_back({"ipv4_ttl1", eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 1, 2, pattern(4)), opts(0, 1, 0x4000, {})))});
  v.push_back({"ipv4_options",
               eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 7, 7, pattern(20)), opts(0, 64, 0x4000, {0x94, 4, 0, 0, 1, 1})))});
  v.push_back({"ipv4_fragment",
               eth4(ipv4(kIpA, kIpB, 17, pattern(24), opts(0, 64, 0x2000 | 10, {})))});
  v.push_back({"ipv6_udp", ethernet(kMacB, kMacA, 0x86dd, ipv6(ip6(1), ip6(2), 17, udp6(ip6(1), ip6(2), 546, 547, pattern(30))))});
  v.push_back({"ipv6_tcp", ethernet(kMacB, kMacA, 0x86dd, ipv6(ip6(3), ip6(4), 6, tcp6(ip6(3), ip6(4), 22, 60000, 0x10, pattern(12))))});
  v.push_back({"arp_broadcast", ethernet(kBroadcast, kMacA, 0x0806, arp_request(kMacA, kIpA, kIpB))});
  v.push_back({"vlan_ipv4_udp", vlan_ethernet(kMacB, kMacA, 100, 0x0800, ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 1000, 2000, pattern(16))))});
  v.push_back({"multicast_ipv4", ethernet({0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}, kMacA, 0x0800,
                                          ipv4(kIpA, {224, 0, 0, 251}, 17, udp4(kIpA, {224, 0, 0, 251}, 5353, 5353, pattern(20))))});
  v.push_back({"host_dst_ipv4", ethernet(Mac{}, kMacA, 0x0800, ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 9999, 53, pattern(10))))});
  v.push_back({"llc_8023", ethernet(kMacB, kMacA, 0x0026, pattern(38, 3))});
  v.push_back({"ipx_raw_8023", ethernet(kMacB, kMacA, 0x0020, Bytes{0xff, 0xff, 0, 0x1e, 0, 0, 0, 0, 0, 0, 0, 0})});
  v.push_back({"eth_only_runt", ethernet(kMacB, kMacA, 0x0800, {})});
  v.push_back({"ipv4_truncated", [&] {
                 Bytes p = eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 1, 53, pattern(8))));
                 p.resize(14 + 10);
                 return p;
               }()});
  v.push_back({"ipv4_udp_header_cut", [&] {
                 Bytes p = eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 1, 53, pattern(8))));
                 p.resize(14 + 20 + 4);
                 return p;
               }()});
  v.push_back({"ipv4_udp_jumbo", eth4(ipv4(kIpA, kIpB, 17, udp4(kIpA, kIpB, 4000, 4001, pattern(3000, 9))))});
  return v;
}

}  // namespace userbpf::testing::packets
