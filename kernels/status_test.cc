#include "kernels/status.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace sparrow {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, MessageCarriesValue) {
  Status s = InvalidArgument("rows=%d must be positive", -3);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: rows=-3 must be positive");
}

Status FailsThrough(bool fail) {
  SPARROW_RETURN_IF_ERROR(fail ? DataLoss("truncated at %d", 7) : OkStatus());
  return OkStatus();
}

TEST(StatusTest, ReturnIfError) {
  EXPECT_TRUE(FailsThrough(false).ok());
  EXPECT_EQ(FailsThrough(true).code(), StatusCode::kDataLoss);
}

TEST(StatusOrTest, HoldsValueOrError) {
  StatusOr<std::unique_ptr<int>> v(std::make_unique<int>(5));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(**v, 5);
  StatusOr<std::unique_ptr<int>> moved(std::move(v));
  EXPECT_EQ(*moved.value(), 5);
  StatusOr<int> e(OutOfRange("index %d", 9));
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kOutOfRange);
}

TEST(StatusOrDeathTest, ValueOfErrorAborts) {
  StatusOr<int> e(NotFound("nothing"));
  EXPECT_DEATH((void)e.value(), "");
}

}  // namespace
}  // namespace sparrow
