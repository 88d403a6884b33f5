// trainer/data/idx.h: round trips of every dtype, plain and gzipped, the byte
// layout, and one test per kind of bad file, from hand-made bytes.
#include "trainer/data/idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zlib.h"

namespace sparrow {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

std::string TempPath(const std::string& name) {
  const char* tmp = getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

void WriteBytes(const std::string& path, const Bytes& bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  }
  ASSERT_EQ(fclose(f), 0);
}

// A gzip member holding `plain`, made by zlib directly (not by EncodeIdx).
Bytes Gzip(const Bytes& plain) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  EXPECT_EQ(
      deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  Bytes out(deflateBound(&z, plain.size()));
  z.next_in = const_cast<uint8_t*>(plain.data());
  z.avail_in = plain.size();
  z.next_out = out.data();
  z.avail_out = out.size();
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Magic, dtype, rank and big-endian dims.
Bytes Header(uint8_t dtype, const std::vector<uint32_t>& dims) {
  Bytes b = {0, 0, dtype, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(d >> shift);
  }
  return b;
}

Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Parses `bytes` in memory and from a file; both must agree.
StatusOr<IdxArray> ParseBoth(const Bytes& bytes, const std::string& name) {
  StatusOr<IdxArray> mem = ParseIdx(bytes.data(), bytes.size(), name);
  const std::string path = TempPath(name);
  WriteBytes(path, bytes);
  StatusOr<IdxArray> file = ReadIdxFile(path);
  EXPECT_EQ(mem.ok(), file.ok()) << name;
  if (!mem.ok() && !file.ok()) {
    EXPECT_EQ(mem.status().code(), file.status().code()) << name;
    EXPECT_THAT(file.status().message(), HasSubstr(path));
  }
  return mem;
}

// Expects `bytes` to fail with `code` and a message naming the file and
// containing every one of `parts`.
void ExpectError(const Bytes& bytes, const std::string& name, StatusCode code,
                 const std::vector<std::string>& parts) {
  SCOPED_TRACE(name);
  StatusOr<IdxArray> a = ParseBoth(bytes, name);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), code) << a.status().ToString();
  EXPECT_THAT(a.status().message(), HasSubstr(name));
  for (const std::string& p : parts) {
    EXPECT_THAT(a.status().message(), HasSubstr(p));
  }
}

IdxArray Array(IdxType type, std::vector<uint32_t> dims) {
  IdxArray a;
  a.type = type;
  a.dims = std::move(dims);
  a.data.resize(a.NumElements() * IdxTypeSize(type));
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = (i * 37 + 11) & 0xff;
  return a;
}

TEST(IdxTest, RoundTripsEveryTypePlainAndGzipped) {
  const IdxType types[] = {IdxType::kU8,  IdxType::kI8,  IdxType::kI16,
                           IdxType::kI32, IdxType::kF32, IdxType::kF64};
  const std::vector<std::vector<uint32_t>> shapes = {
      {7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 2}, {0}, {4, 0, 2}};
  for (IdxType t : types) {
    for (const auto& dims : shapes) {
      for (bool gzip : {false, true}) {
        const IdxArray a = Array(t, dims);
        const std::string name = std::string("rt_") + IdxTypeName(t) + "_" +
                                 std::to_string(dims.size()) +
                                 (gzip ? ".gz" : "");
        SCOPED_TRACE(name + " " + IdxDimsString(dims));
        StatusOr<std::vector<uint8_t>> bytes = EncodeIdx(a, gzip);
        ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
        EXPECT_EQ(gzip, (*bytes)[0] == 0x1f && (*bytes)[1] == 0x8b);
        StatusOr<IdxArray> b = ParseBoth(*bytes, name);
        ASSERT_TRUE(b.ok()) << b.status().ToString();
        EXPECT_EQ(b->type, t);
        EXPECT_EQ(b->dims, dims);
        EXPECT_EQ(b->data, a.data);
      }
    }
  }
}

TEST(IdxTest, WriteThenReadFile) {
  const IdxArray a = Array(IdxType::kU8, {10, 28, 28});
  const std::string path = TempPath("write.idx.gz");
  ASSERT_TRUE(WriteIdxFile(path, a, true).ok());
  StatusOr<IdxArray> b = ReadIdxFile(path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->dims, a.dims);
  EXPECT_EQ(b->data, a.data);
}

TEST(IdxTest, LayoutIsBigEndianAsInTheSpec) {
  IdxArray a;
  a.type = IdxType::kI32;
  a.dims = {2};
  const int32_t v[2] = {0x01020304, -2};
  a.data.resize(8);
  memcpy(a.data.data(), v, 8);
  StatusOr<std::vector<uint8_t>> bytes = EncodeIdx(a, false);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, (Bytes{0, 0, 0x0C, 1, 0, 0, 0, 2, 1, 2, 3, 4, 0xff, 0xff,
                           0xff, 0xfe}));

  // A file made by hand reads back in host order.
  const Bytes f32 = Cat(Header(0x0D, {1}), {0x3f, 0x80, 0, 0});  // 1.0f
  StatusOr<IdxArray> b = ParseBoth(f32, "f32_one");
  ASSERT_TRUE(b.ok());
  float x;
  memcpy(&x, b->data.data(), 4);
  EXPECT_EQ(x, 1.0f);
}

TEST(IdxTest, GzipOutputIsDeterministic) {
  const IdxArray a = Array(IdxType::kU8, {100});
  StatusOr<std::vector<uint8_t>> x = EncodeIdx(a, true);
  StatusOr<std::vector<uint8_t>> y = EncodeIdx(a, true);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ(*x, *y);
  EXPECT_EQ(Bytes(x->begin() + 4, x->begin() + 8), (Bytes{0, 0, 0, 0}));
}

TEST(IdxTest, ReadsConcatenatedGzipMembers) {
  const Bytes plain = Cat(Header(0x08, {6}), {1, 2, 3, 4, 5, 6});
  const Bytes two = Cat(Gzip(Bytes(plain.begin(), plain.begin() + 9)),
                        Gzip(Bytes(plain.begin() + 9, plain.end())));
  StatusOr<IdxArray> a = ParseBoth(two, "two_members.gz");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->data, (Bytes{1, 2, 3, 4, 5, 6}));
}

TEST(IdxTest, LargeGzippedFileCrossesBufferBoundaries) {
  const IdxArray a = Array(IdxType::kF32, {3, 1000, 1000});  // 12 MB
  StatusOr<std::vector<uint8_t>> bytes = EncodeIdx(a, true);
  ASSERT_TRUE(bytes.ok());
  StatusOr<IdxArray> b = ParseBoth(*bytes, "large.gz");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->data, a.data);
}

TEST(IdxBadFileTest, MissingFile) {
  const std::string path = TempPath("no_such_file.idx");
  StatusOr<IdxArray> a = ReadIdxFile(path);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(a.status().message(), HasSubstr(path));
}

TEST(IdxBadFileTest, EmptyFile) {
  ExpectError({}, "empty", StatusCode::kDataLoss,
              {"truncated header: 0 of the 4 bytes"});
}

TEST(IdxBadFileTest, WrongMagic) {
  ExpectError(Cat({0x01, 0x08}, Header(0x08, {1})), "magic",
              StatusCode::kInvalidArgument, {"magic=0x0108", "want 0x0000"});
  // A gzipped file whose contents are not IDX either.
  ExpectError(Gzip({'h', 'e', 'l', 'l', 'o'}), "magic.gz",
              StatusCode::kInvalidArgument, {"magic=0x6865"});
}

TEST(IdxBadFileTest, UnsupportedDtype) {
  ExpectError(Cat(Header(0x0A, {1}), {0}), "dtype",
              StatusCode::kInvalidArgument, {"dtype=0x0a"});
}

TEST(IdxBadFileTest, RankZeroAndRankFive) {
  ExpectError(Header(0x08, {}), "rank0", StatusCode::kInvalidArgument,
              {"rank=0", "want 1..4"});
  ExpectError(Cat(Header(0x08, {1, 1, 1, 1, 1}), {0}), "rank5",
              StatusCode::kInvalidArgument, {"rank=5"});
}

TEST(IdxBadFileTest, TruncatedHeader) {
  ExpectError({0, 0, 8}, "short_magic", StatusCode::kDataLoss,
              {"truncated header: 3 of the 4 bytes"});
  const Bytes h = Header(0x08, {2, 28, 28});
  ExpectError(Bytes(h.begin(), h.begin() + 9), "short_dims",
              StatusCode::kDataLoss,
              {"truncated header: 5 of the 12 bytes of dims", "rank=3"});
}

TEST(IdxBadFileTest, TruncatedData) {
  ExpectError(Cat(Header(0x08, {2, 5}), Bytes(9, 7)), "short_data",
              StatusCode::kDataLoss,
              {"truncated data: 9 of the 10 bytes", "dims=[2, 5] u8"});
  ExpectError(Gzip(Cat(Header(0x0C, {3}), Bytes(11, 7))), "short_data.gz",
              StatusCode::kDataLoss,
              {"truncated data: 11 of the 12 bytes", "dims=[3] i32"});
}

TEST(IdxBadFileTest, TrailingBytes) {
  ExpectError(Cat(Header(0x08, {4}), Bytes(5, 7)), "trailing",
              StatusCode::kDataLoss,
              {"trailing bytes after the 4 bytes of data", "dims=[4] u8"});
  // After the gzip stream: bytes that are not gzip, and a second member
  // holding more data.
  const Bytes good = Gzip(Cat(Header(0x08, {4}), Bytes(4, 7)));
  ExpectError(Cat(good, {'x', 'y', 'z'}), "trailing_garbage.gz",
              StatusCode::kDataLoss,
              {"trailing garbage after the gzip stream", "0x78"});
  ExpectError(Cat(good, Gzip({1})), "trailing_member.gz", StatusCode::kDataLoss,
              {"trailing bytes after the 4 bytes"});
}

TEST(IdxBadFileTest, DimsOverTheCap) {
  // 2^31 + 1 bytes of u8; 4 * 2^30 bytes of f32; the largest dims the header
  // can hold, whose product overflows 64 bits.
  ExpectError(Header(0x08, {65536, 32769}), "cap_u8", StatusCode::kOutOfRange,
              {"dims=[65536, 32769] of u8", "2147483648-byte limit"});
  ExpectError(Header(0x0D, {1u << 30}), "cap_f32", StatusCode::kOutOfRange,
              {"dims=[1073741824] of f32"});
  const uint32_t m = 0xffffffffu;
  ExpectError(Header(0x0E, {m, m, m, m}), "cap_overflow",
              StatusCode::kOutOfRange, {"of f64 need more than"});
}

// In a death test's child: limits the address space to what is mapped now
// plus `extra` bytes, parses `bytes`, and exits 0 if that failed with
// DATA_LOSS (not bad_alloc).
void ParseUnderAddressSpaceLimit(const Bytes& bytes, size_t extra) {
  long pages = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr || fscanf(f, "%ld", &pages) != 1) _exit(3);
  fclose(f);
  const rlim_t limit = pages * sysconf(_SC_PAGESIZE) + extra;
  const struct rlimit rl = {limit, limit};
  if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(4);
  StatusOr<IdxArray> a = ParseIdx(bytes.data(), bytes.size(), "huge");
  _exit(!a.ok() && a.status().code() == StatusCode::kDataLoss ? 0 : 5);
}

TEST(IdxBadFileTest, HugeClaimWithTinyBodyAllocatesLittle) {
  // The header asks for exactly the cap, 2 GiB; the body has 3 bytes. Under a
  // 512 MiB address-space limit the reader must still report the truncation
  // (not die of bad_alloc), so it allocated by what it read, not by the claim.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizers reserve terabytes of address space";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  GTEST_SKIP() << "sanitizers reserve terabytes of address space";
#endif
#endif
  const Bytes bytes = Cat(Header(0x08, {1u << 16, 1u << 15}), {1, 2, 3});
  EXPECT_EXIT(ParseUnderAddressSpaceLimit(bytes, size_t{512} << 20),
              ::testing::ExitedWithCode(0), "");
}

TEST(IdxBadFileTest, CorruptGzip) {
  const Bytes good = Gzip(Cat(Header(0x08, {64}), Bytes(64, 9)));
  // The first deflate block header (after the 10-byte gzip header) set to the
  // reserved block type 3.
  Bytes bad_block = good;
  bad_block[10] = 0x07;
  ExpectError(bad_block, "bad_block.gz", StatusCode::kDataLoss,
              {"corrupt gzip stream at compressed byte", "invalid block type"});
  // Intact data, wrong CRC-32 in the trailer.
  Bytes bad_crc = good;
  bad_crc[good.size() - 8] ^= 0x55;
  ExpectError(bad_crc, "bad_crc.gz", StatusCode::kDataLoss,
              {"corrupt gzip stream", "incorrect data check"});
  // A bad gzip header (compression method 7, not deflate).
  Bytes bad_header = good;
  bad_header[2] = 7;
  ExpectError(bad_header, "bad_header.gz", StatusCode::kDataLoss,
              {"corrupt gzip stream at compressed byte"});
}

TEST(IdxBadFileTest, TruncatedGzip) {
  const Bytes good =
      Gzip(Cat(Header(0x08, {1000}), Array(IdxType::kU8, {1000}).data));
  for (size_t keep :
       {size_t{2}, size_t{12}, good.size() / 2, good.size() - 4}) {
    ExpectError(Bytes(good.begin(), good.begin() + keep),
                "cut_" + std::to_string(keep) + ".gz", StatusCode::kDataLoss,
                {"gzip stream is truncated"});
  }
}

TEST(IdxEncodeTest, RejectsMalformedArrays) {
  IdxArray a = Array(IdxType::kU8, {4});
  a.data.pop_back();
  StatusOr<std::vector<uint8_t>> r = EncodeIdx(a, false);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("data holds 3 bytes"));

  IdxArray rank0;
  rank0.data = {1};
  r = EncodeIdx(rank0, true);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("rank=0"));

  IdxArray rank5 = Array(IdxType::kU8, {1, 1, 1, 1, 1});
  r = EncodeIdx(rank5, false);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("rank=5"));

  IdxArray bad_type = Array(IdxType::kU8, {1});
  bad_type.type = static_cast<IdxType>(0x0A);
  r = EncodeIdx(bad_type, false);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("type=0x0a"));

  EXPECT_EQ(
      WriteIdxFile(TempPath("no_dir/x.idx"), Array(IdxType::kU8, {1}), false)
          .code(),
      StatusCode::kNotFound);
}

}  // namespace
}  // namespace sparrow
