// trace_printk / trace_vprintk / snprintf formatting and the string helpers
// (strtol, strtoul, strncmp), checked against the kernel's documented results.
#include <cstring>
#include <string>

#include "unit/helpers_test_util.h"

namespace userbpf::helpers_test {
namespace {

struct Fmt {
  Harness h;
  std::string storage;
  // Registers fmt (with its NUL) and returns its address.
  uint64_t fmt(const std::string& s) {
    // The previous format's region goes: its bytes are reused.
    std::erase_if(h.ctx.regions, [&](const vm::Region& r) { return r.start == addr(storage.c_str()); });
    storage = s;
    h.allow(storage.c_str(), storage.size() + 1, false);
    return addr(storage.c_str());
  }
  int64_t printk(const std::string& f, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) {
    const uint64_t p = fmt(f);
    return h.scall(BPF_FUNC_trace_printk, p, f.size() + 1, a, b, c);
  }
  int64_t vprintk(const std::string& f, std::vector<uint64_t> args) {
    const uint64_t p = fmt(f);
    data = std::move(args);
    if (!data.empty()) h.allow(data.data(), data.size() * 8, false);
    return h.scall(BPF_FUNC_trace_vprintk, p, f.size() + 1, addr(data.data()), data.size() * 8);
  }
  std::string last() const { return h.trace.empty() ? "<none>" : h.trace.back(); }
  std::vector<uint64_t> data;
};

TEST(TracePrintk, KernelSpecifiers) {
  Fmt f;
  ASSERT_TRUE(f.h.ok());
  static const char str[] = "str";
  EXPECT_EQ(f.printk("%d %u %s\n", static_cast<uint64_t>(-5), 0x1ffffffffull, addr(str)), 18);
  EXPECT_EQ(f.last(), "-5 4294967295 str");
  EXPECT_EQ(f.printk("%x %X %i", 0xabcdef12ull | (7ull << 32), 0xabcdefull, 0x100000007ull), 17);
  EXPECT_EQ(f.last(), "abcdef12 ABCDEF 7");
  EXPECT_EQ(f.printk("%ld %lu %lx", static_cast<uint64_t>(-1), static_cast<uint64_t>(-1), 0xdeadbeefcafeull), 36);
  EXPECT_EQ(f.last(), "-1 18446744073709551615 deadbeefcafe");
  EXPECT_EQ(f.printk("%lld|%llu|%llx", static_cast<uint64_t>(INT64_MIN), 42, 0xff), 26);
  EXPECT_EQ(f.last(), "-9223372036854775808|42|ff");
  EXPECT_EQ(f.printk("%c%c 100%%", 'o', 'k'), 7);
  EXPECT_EQ(f.last(), "ok 100%");
  EXPECT_EQ(f.printk("%p %px", 0x1234, 0xffff888012345678ull), 33);
  EXPECT_EQ(f.last(), "0000000000001234 ffff888012345678");
  EXPECT_EQ(f.printk("[%s]", 16), 2) << "an unreadable string prints as empty";
  EXPECT_EQ(f.last(), "[]");
  EXPECT_EQ(f.printk("no args\n"), 8);
  EXPECT_EQ(f.last(), "no args");
}

TEST(TracePrintk, RejectsWhatTheKernelRejects) {
  Fmt f;
  ASSERT_TRUE(f.h.ok());
  const size_t lines = f.h.trace.size();
  for (const char* bad : {"%q", "%5.2d", "%hd", "%lp", "%#x", "%d %d %d %d", "%", "abc %", "%sa", "%pz",
                          "%pI5", "tab\x01", "\x80"}) {
    EXPECT_EQ(f.printk(bad, 1, 2, 3), -EINVAL) << bad;
  }
  EXPECT_EQ(f.h.trace.size(), lines) << "nothing printed on error";
  // fmt_size must cover the NUL; fmt must be program memory.
  const uint64_t p = f.fmt("hi");
  EXPECT_EQ(f.h.scall(BPF_FUNC_trace_printk, p, 2), -EINVAL);
  EXPECT_EQ(f.h.scall(BPF_FUNC_trace_printk, p, 3), 2);
  EXPECT_EQ(f.h.scall(BPF_FUNC_trace_printk, p, 4), -EFAULT);
  static const char hidden[] = "hidden";
  EXPECT_EQ(f.h.scall(BPF_FUNC_trace_printk, addr(hidden), 7), -EFAULT);
}

TEST(TraceVprintk, WidthFlagsPointersAndArgChecks) {
  Fmt f;
  ASSERT_TRUE(f.h.ok());
  EXPECT_EQ(f.vprintk("%5d|%-5d|%05d|%+d|% d|%-05d|", {42, 42, 42, 42, 42, static_cast<uint64_t>(-42)}), 32);
  EXPECT_EQ(f.last(), "   42|42   |00042|+42| 42|-42  |");
  EXPECT_EQ(f.vprintk("%05d|%+u|%8x|%-4c|%6s|", {static_cast<uint64_t>(-42), 7, 0xbeef, 'z', addr("ab")}), 29);
  EXPECT_EQ(f.last(), "-0042|7|    beef|z   |    ab|");
  const uint8_t v4[4] = {192, 168, 1, 2};
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 1;
  f.vprintk("%pI4 %pi4 %pI6 %pi6", {addr(v4), addr(v4), addr(v6), addr(v6)});
  EXPECT_EQ(f.last(), "192.168.1.2 192.168.001.002 2001:0db8:0000:0000:0000:0000:0000:0001 "
                      "20010db8000000000000000000000001");
  f.vprintk("%pks %pus %pS", {addr("kernel"), addr("user"), 0xabc});
  EXPECT_EQ(f.last(), "kernel user 0xabc");
  // 12 arguments at most, a multiple of 8 bytes, and the data must be readable.
  EXPECT_EQ(f.vprintk("%d%d%d%d%d%d%d%d%d%d%d%d", std::vector<uint64_t>(12, 1)), 12);
  EXPECT_EQ(f.vprintk("%d", std::vector<uint64_t>(13, 1)), -EINVAL);
  EXPECT_EQ(f.vprintk("%d %d", {1}), -EINVAL);
  const uint64_t p = f.fmt("%d");
  EXPECT_EQ(f.h.scall(BPF_FUNC_trace_vprintk, p, 3, addr(f.data.data()), 4), -EINVAL);
  EXPECT_EQ(f.h.scall(BPF_FUNC_trace_vprintk, p, 3, 0, 8), -EINVAL);
  uint64_t hidden = 1;
  EXPECT_EQ(f.h.scall(BPF_FUNC_trace_vprintk, p, 3, addr(&hidden), 8), -EFAULT);
}

TEST(TracePrintk, LongOutputIsCutButCounted) {
  Fmt f;
  ASSERT_TRUE(f.h.ok());
  EXPECT_EQ(f.printk("%600d", 7), 600);
  EXPECT_EQ(f.last().size(), 511u);  // MAX_BPRINTF_BUF - 1
}

TEST(Snprintf, TruncatesAndReturnsNeededLength) {
  Fmt f;
  ASSERT_TRUE(f.h.ok());
  char out[8];
  std::memset(out, 'x', sizeof out);
  f.h.allow(out, sizeof out);
  uint64_t args[2] = {12345, addr("ab")};
  f.h.allow(args, sizeof args, false);
  const uint64_t p = f.fmt("value=%d");
  EXPECT_EQ(f.h.scall(BPF_FUNC_snprintf, addr(out), 8, p, addr(args), 8), 12);
  EXPECT_STREQ(out, "value=1");
  std::memset(out, 'x', sizeof out);
  EXPECT_EQ(f.h.scall(BPF_FUNC_snprintf, addr(out), 0, p, addr(args), 8), 12);
  EXPECT_EQ(out[0], 'x') << "size 0 writes nothing";
  const uint64_t q = f.fmt("%d%s");
  EXPECT_EQ(f.h.scall(BPF_FUNC_snprintf, addr(out), 8, q, addr(args), 16), 8);
  EXPECT_STREQ(out, "12345ab");
  EXPECT_EQ(f.h.scall(BPF_FUNC_snprintf, addr(out), 9, q, addr(args), 16), -EFAULT);
  EXPECT_EQ(f.h.scall(BPF_FUNC_snprintf, addr(out), 8, q, addr(args), 8), -EINVAL);
  EXPECT_EQ(f.h.scall(BPF_FUNC_snprintf, addr(out), 8, q, addr(args), 12), -EINVAL);
}

// ---- strtol / strtoul --------------------------------------------------------------------

struct Strto {
  Harness h;
  std::string buf;
  int64_t res = 0x5555;
  Strto() { h.allow(&res, 8); }
  int64_t call(int32_t id, const std::string& s, uint64_t base, size_t len = SIZE_MAX) {
    buf = s;
    h.allow(buf.data(), buf.size() + 1, false);
    res = 0x5555;
    return h.scall(id, addr(buf.data()), len == SIZE_MAX ? buf.size() : len, base, addr(&res));
  }
  int64_t l(const std::string& s, uint64_t base = 0, size_t len = SIZE_MAX) { return call(BPF_FUNC_strtol, s, base, len); }
  int64_t ul(const std::string& s, uint64_t base = 0, size_t len = SIZE_MAX) { return call(BPF_FUNC_strtoul, s, base, len); }
};

TEST(Strtol, WhitespaceSignAndBases) {
  Strto t;
  ASSERT_TRUE(t.h.ok());
  EXPECT_EQ(t.l(" \t\n-123abc", 10), 7);
  EXPECT_EQ(t.res, -123);
  EXPECT_EQ(t.l("0x1f", 0), 4);
  EXPECT_EQ(t.res, 31);
  EXPECT_EQ(t.l("0X1F", 16), 4);
  EXPECT_EQ(t.res, 31);
  EXPECT_EQ(t.l("1f", 16), 2);
  EXPECT_EQ(t.res, 31);
  EXPECT_EQ(t.l("0x1f", 10), 1);
  EXPECT_EQ(t.res, 0);
  EXPECT_EQ(t.l("017", 0), 3);
  EXPECT_EQ(t.res, 15);
  EXPECT_EQ(t.l("0189", 0), 2) << "8 is not an octal digit";
  EXPECT_EQ(t.res, 1);
  EXPECT_EQ(t.l("0xg", 0), 1) << "no hex digit after 0x: octal 0";
  EXPECT_EQ(t.res, 0);
  EXPECT_EQ(t.l("0x", 16), -EINVAL);
  EXPECT_EQ(t.l("12345", 10, 3), 3);
  EXPECT_EQ(t.res, 123);
  EXPECT_EQ(t.l("-0", 10), 2);
  EXPECT_EQ(t.res, 0);
}

TEST(Strtol, ErrorsAndRanges) {
  Strto t;
  ASSERT_TRUE(t.h.ok());
  for (const char* bad : {"+5", "", "   ", "-", "- 1", "abc", "--1"}) {
    EXPECT_EQ(t.l(bad, 10), -EINVAL) << '"' << bad << '"';
    EXPECT_EQ(t.res, 0x5555) << "res untouched on error";
  }
  EXPECT_EQ(t.l("12", 2), -EINVAL);
  EXPECT_EQ(t.l("12", 10 | 0x20), -EINVAL);
  EXPECT_EQ(t.l("12", 10, 0), -EINVAL);
  EXPECT_EQ(t.l("9223372036854775807"), 19);
  EXPECT_EQ(t.res, INT64_MAX);
  EXPECT_EQ(t.l("9223372036854775808"), -ERANGE);
  EXPECT_EQ(t.l("-9223372036854775808"), 20);
  EXPECT_EQ(t.res, INT64_MIN);
  EXPECT_EQ(t.l("-9223372036854775809"), -ERANGE);
  EXPECT_EQ(t.l("99999999999999999999999"), -ERANGE);
  // Only 63 characters after the sign are looked at.
  EXPECT_EQ(t.l(std::string(70, '0') + "1", 10), 63);
  EXPECT_EQ(t.res, 0);
  // res must be writable program memory, buf readable.
  int64_t hidden = 0;
  EXPECT_EQ(t.h.scall(BPF_FUNC_strtol, addr(t.buf.data()), 1, 10, addr(&hidden)), -EFAULT);
  EXPECT_EQ(t.h.scall(BPF_FUNC_strtol, addr("12"), 2, 10, addr(&t.res)), -EFAULT);
}

TEST(Strtoul, UnsignedRangeAndNoMinus) {
  Strto t;
  ASSERT_TRUE(t.h.ok());
  EXPECT_EQ(t.ul("18446744073709551615"), 20);
  EXPECT_EQ(static_cast<uint64_t>(t.res), UINT64_MAX);
  EXPECT_EQ(t.ul("18446744073709551616"), -ERANGE);
  EXPECT_EQ(t.ul("0xffffffffffffffff"), 18);
  EXPECT_EQ(static_cast<uint64_t>(t.res), UINT64_MAX);
  EXPECT_EQ(t.ul("0x10000000000000000"), -ERANGE);
  EXPECT_EQ(t.ul("-1"), -EINVAL);
  EXPECT_EQ(t.ul("  42 "), 4);
  EXPECT_EQ(t.res, 42);
  EXPECT_EQ(t.ul("777", 8), 3);
  EXPECT_EQ(t.res, 0777);
}

// ---- strncmp -----------------------------------------------------------------------------

TEST(Strncmp, KernelResults) {
  Harness h;
  ASSERT_TRUE(h.ok());
  static const char s1[] = "abcdef\0xy\xff";
  static const char s2[] = "abd\0abc\0abcdefg\0a";
  h.allow(s1, sizeof s1, false);
  h.allow(s2, sizeof s2, false);
  const uint64_t abd = addr(s2), abc = addr(s2 + 4), abcdefg = addr(s2 + 8), a = addr(s2 + 16);
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 3, abd), -1);
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, abd, 3, abc), 1);
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 3, abc), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 4, abc), 1) << "'d' > NUL";
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 6, abcdefg), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 7, abcdefg), -1) << "NUL < 'g'";
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 9, addr(s1)), 0) << "stops at the common NUL";
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1 + 9), 1, a), 1) << "bytes compare unsigned";
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 0, abd), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 12, abc), -EFAULT) << "s1 past its memory";
  static const char other[] = "abc";
  EXPECT_EQ(h.scall(BPF_FUNC_strncmp, addr(s1), 3, addr(other)), -EFAULT);
}

}  // namespace
}  // namespace userbpf::helpers_test
