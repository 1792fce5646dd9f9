#include <gtest/gtest.h>
#include "userbpf/isa.h"
TEST(Isa, TableHasEveryOp) {
  for (size_t i = 0; i < userbpf::isa::kNumOps; ++i) {
    auto o = static_cast<userbpf::isa::Op>(i);
    EXPECT_EQ(userbpf::isa::spec(o).op, o) << userbpf::isa::op_name(o);
  }
}
