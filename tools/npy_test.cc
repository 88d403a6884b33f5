// tools/npy.h: round trips, files written by NumPy itself (testdata/npy/,
// made by make_npy.py), and every kind of malformed file.
#include "tools/npy.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace {

std::string Runfile(const std::string& path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;  // run by hand
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

std::string TempDir() {
  const char* tmp = getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

// A .npy file with `dict` as its header text (padded as numpy does) and
// `data_bytes` bytes of data.
std::string MakeNpy(const std::string& dict, size_t data_bytes, int major = 1) {
  std::string header = dict;
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t preamble = 8 + len_bytes;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < len_bytes; ++i) {
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  out += header;
  for (size_t i = 0; i < data_bytes; ++i) out += static_cast<char>(i);
  return out;
}

std::string Dict(const std::string& descr, const std::string& shape,
                 const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }";
}

StatusOr<NpyArray> Parse(const std::string& bytes) {
  return ParseNpy(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// The parse fails with `code` and a message containing every `parts`.
void ExpectError(const std::string& bytes, StatusCode code,
                 const std::vector<std::string>& parts) {
  StatusOr<NpyArray> a = Parse(bytes);
  ASSERT_FALSE(a.ok()) << "parsed a malformed file";
  EXPECT_EQ(a.status().code(), code) << a.status().ToString();
  for (const std::string& p : parts) {
    EXPECT_NE(strstr(a.status().message(), p.c_str()), nullptr)
        << "message '" << a.status().message() << "' lacks '" << p << "'";
  }
}

TEST(NpyTest, RoundTripF32AnyRank) {
  const std::vector<std::vector<size_t>> shapes = {
      {},     {1},    {7},          {2, 3},
      {0, 3}, {3, 0}, {1, 5, 5, 2}, {2, 1, 2, 1, 2, 1, 2, 1}};
  for (const std::vector<size_t>& shape : shapes) {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = 0.25f * i - 3.0f;
    StatusOr<std::string> bytes = EncodeNpy(NpyDType::kF32, shape, v.data());
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(bytes->size() % 64, (n * 4) % 64) << "header not 64-aligned";
    StatusOr<NpyArray> a = Parse(*bytes);
    ASSERT_TRUE(a.ok()) << ShapeString(shape) << ": " << a.status().ToString();
    EXPECT_EQ(a->dtype, NpyDType::kF32);
    EXPECT_EQ(a->shape, shape);
    EXPECT_EQ(a->f32, v);
    EXPECT_TRUE(a->i32.empty());
    EXPECT_EQ(a->num_elements(), n);
    EXPECT_EQ(a->bytes(), n * 4);
  }
}

TEST(NpyTest, RoundTripI32ThroughFile) {
  NpyArray a;
  a.dtype = NpyDType::kI32;
  a.shape = {2, 2};
  a.i32 = {0, -1, INT32_MAX, INT32_MIN};
  const std::string path = TempDir() + "/i32.npy";
  ASSERT_TRUE(WriteNpy(path, a).ok());
  StatusOr<NpyArray> b = ReadNpy(path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->dtype, NpyDType::kI32);
  EXPECT_EQ(b->shape, a.shape);
  EXPECT_EQ(b->i32, a.i32);
}

TEST(NpyTest, HeaderIsWhatNumpyWrites) {
  const float v[3] = {1, 2, 3};
  StatusOr<std::string> b = EncodeNpy(NpyDType::kF32, {3}, v);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::string header = b->substr(10, b->size() - 10 - 12);
  EXPECT_EQ(header.find("{'descr': '<f4', 'fortran_order': False, "
                        "'shape': (3,), }"),
            0u)
      << header;
  EXPECT_EQ(header.back(), '\n');
  StatusOr<std::string> s = EncodeNpy(NpyDType::kI32, {}, v);
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->find("'<i4'"), std::string::npos);
  EXPECT_NE(s->find("'shape': (), }"), std::string::npos);
}

// Files written by numpy.save / numpy.lib.format (testdata/npy/make_npy.py).
TEST(NpyTest, ReadsWhatNumpyWrote) {
  const std::vector<float> want23 = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  for (const char* name : {"f32_2x3", "f32_2x3_v2", "f32_2x3_v3"}) {
    StatusOr<NpyArray> a =
        ReadNpy(Runfile(std::string("testdata/npy/") + name + ".npy"));
    ASSERT_TRUE(a.ok()) << name << ": " << a.status().ToString();
    EXPECT_EQ(a->shape, (std::vector<size_t>{2, 3})) << name;
    EXPECT_EQ(a->f32, want23) << name;
  }
  StatusOr<NpyArray> i = ReadNpy(Runfile("testdata/npy/i32_4.npy"));
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(i->dtype, NpyDType::kI32);
  EXPECT_EQ(i->i32, (std::vector<int32_t>{3, -1, 7, INT32_MAX}));
  StatusOr<NpyArray> s = ReadNpy(Runfile("testdata/npy/f32_scalar.npy"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->shape.empty());
  EXPECT_EQ(s->f32, std::vector<float>{2.5f});
  StatusOr<NpyArray> e = ReadNpy(Runfile("testdata/npy/f32_0x3.npy"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->shape, (std::vector<size_t>{0, 3}));
  EXPECT_TRUE(e->f32.empty());
  StatusOr<NpyArray> r = ReadNpy(Runfile("testdata/npy/f32_rank5.npy"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->shape, (std::vector<size_t>{2, 1, 3, 1, 2}));
  ASSERT_EQ(r->f32.size(), 12u);
  EXPECT_EQ(r->f32[11], 11.0f);
}

TEST(NpyTest, RejectsWhatNumpyWroteInOtherLayouts) {
  struct Case {
    const char* name;
    const char* field;  // the message names it
  };
  const Case cases[] = {
      {"bad_big_endian", "'>f4' is big-endian"},
      {"bad_fortran", "fortran_order is True"},
      {"bad_f64", "'<f8'"},
      {"bad_i64", "'<i8'"},
      {"bad_object", "'|O' is an object array"},
      {"bad_structured", "descr's value"},
  };
  for (const Case& c : cases) {
    const std::string path =
        Runfile(std::string("testdata/npy/") + c.name + ".npy");
    StatusOr<NpyArray> a = ReadNpy(path);
    ASSERT_FALSE(a.ok()) << c.name;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(strstr(a.status().message(), c.field), nullptr)
        << c.name << ": " << a.status().message();
    EXPECT_EQ(strstr(a.status().message(), path.c_str()), a.status().message())
        << "message does not start with the path";
  }
}

TEST(NpyTest, AcceptsNativeAndNotApplicableByteOrder) {
  for (const char* descr : {"=f4", "|f4", "<f4"}) {
    StatusOr<NpyArray> a = Parse(MakeNpy(Dict(descr, "(2,)"), 8));
    ASSERT_TRUE(a.ok()) << descr << ": " << a.status().ToString();
    EXPECT_EQ(a->dtype, NpyDType::kF32);
  }
  StatusOr<NpyArray> i = Parse(MakeNpy(Dict("|i4", "(1,)"), 4));
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->dtype, NpyDType::kI32);
}

TEST(NpyTest, AcceptsHeaderVariants) {
  // Double quotes, no trailing comma, key order, Python 2 longs, versions.
  const std::string variants[] = {
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}",
      "{'shape': (2,3,), 'fortran_order': False, 'descr': '<f4'}",
      "{'descr':'<f4','fortran_order':False,'shape':(2L, 3L),}",
      "  {\n'descr': '<f4',\n 'fortran_order': False,\n 'shape': (2, 3)\n}",
  };
  for (const std::string& v : variants) {
    for (int major : {1, 2, 3}) {
      StatusOr<NpyArray> a = Parse(MakeNpy(v, 24, major));
      ASSERT_TRUE(a.ok()) << v << ": " << a.status().ToString();
      EXPECT_EQ(a->shape, (std::vector<size_t>{2, 3}));
    }
  }
}

TEST(NpyTest, RejectsBadPreamble) {
  const std::string good = MakeNpy(Dict("<f4", "(2,)"), 8);
  ExpectError("", StatusCode::kDataLoss, {"truncated"});
  ExpectError(good.substr(0, 5), StatusCode::kDataLoss, {"truncated"});
  ExpectError(good.substr(0, 9), StatusCode::kDataLoss, {"truncated"});
  ExpectError("PK\x03\x04 this is a zip file", StatusCode::kInvalidArgument,
              {"magic", "PK\\x03\\x04"});
  std::string v4 = good;
  v4[6] = 4;
  ExpectError(v4, StatusCode::kUnimplemented, {"version 4.0"});
  std::string v11 = good;
  v11[7] = 1;
  ExpectError(v11, StatusCode::kUnimplemented, {"version 1.1"});
  std::string v0 = good;
  v0[6] = 0;
  ExpectError(v0, StatusCode::kUnimplemented, {"version 0.0"});
  // Version 2 needs 4 length bytes: 11 bytes are too few.
  ExpectError(MakeNpy(Dict("<f4", "(2,)"), 8, 2).substr(0, 11),
              StatusCode::kDataLoss, {"preamble"});
}

TEST(NpyTest, RejectsHeaderLengthPastEnd) {
  std::string bytes = MakeNpy(Dict("<f4", "(2,)"), 8);
  bytes[8] = '\xff';
  bytes[9] = '\xff';
  ExpectError(bytes, StatusCode::kDataLoss, {"header length 65535"});
  std::string v2 = MakeNpy(Dict("<f4", "(2,)"), 8, 2);
  v2[11] = '\x80';  // 2 GiB header
  ExpectError(v2, StatusCode::kDataLoss, {"runs past the end"});
}

TEST(NpyTest, RejectsMalformedDict) {
  struct Case {
    std::string dict;
    std::string part;  // the message contains it
  };
  const Case cases[] = {
      {"", "does not start with '{'"},
      {"[1, 2]", "does not start with '{'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
       "expected ',' or '}'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}",
       "expected ':'"},
      {"{descr: '<f4', 'fortran_order': False, 'shape': (2,)}",
       "quoted string as a key"},
      {"{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}",
       "expected ':'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}",
       "descr '<f4, '"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x",
       "text after the closing"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}",
       "True or False"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "True or False"},
      {"{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,)}", "escape"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}",
       "shape must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}",
       "expected ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}",
       "expected a dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}",
       "expected ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (None,)}",
       "expected a dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,", "expected"},
      {"{'descr': '<f4', 'fortran_order': False}", "no key 'shape'"},
      {"{'fortran_order': False, 'shape': (2,)}", "no key 'descr'"},
      {"{'descr': '<f4', 'shape': (2,)}", "no key 'fortran_order'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
       "'shape': (2,)}",
       "key 'descr' twice"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
       "key 'x'"},
      {std::string("{'descr': '<f4'") + '\0' +
           ", 'fortran_order': False, 'shape': (2,)}",
       "\\x00"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dict);
    ExpectError(MakeNpy(c.dict, 8), StatusCode::kInvalidArgument, {c.part});
  }
}

TEST(NpyTest, RejectsUnsupportedDTypes) {
  const char* descrs[] = {"<f8", "<f2", "<i8", "<u4", "<i2", "|u1",  "|b1",
                          "<c8", "|O",  "|S4", "<U4", "f4",  "<f4 ", ""};
  for (const char* d : descrs) {
    SCOPED_TRACE(d);
    ExpectError(MakeNpy(Dict(d, "(2,)"), 8), StatusCode::kInvalidArgument,
                {"descr '" + std::string(d) + "'"});
  }
  ExpectError(MakeNpy(Dict(">f4", "(2,)"), 8), StatusCode::kInvalidArgument,
              {"'>f4' is big-endian"});
  ExpectError(MakeNpy(Dict(">i4", "(2,)"), 8), StatusCode::kInvalidArgument,
              {"'>i4' is big-endian"});
  ExpectError(MakeNpy(Dict("<f4", "(2, 2)", "True"), 16),
              StatusCode::kInvalidArgument, {"fortran_order is True"});
}

TEST(NpyTest, RejectsBadDims) {
  ExpectError(MakeNpy(Dict("<f4", "(2, -3)"), 8), StatusCode::kInvalidArgument,
              {"shape dim 1 is -3"});
  ExpectError(MakeNpy(Dict("<f4", "(99999999999999999999999,)"), 8),
              StatusCode::kOutOfRange,
              {"shape dim 0 is 99999999999999999999999"});
  ExpectError(MakeNpy(Dict("<f4", "(4294967296, 4294967296)"), 8),
              StatusCode::kOutOfRange, {"[4294967296, 4294967296]"});
  ExpectError(MakeNpy(Dict("<f4", "(4611686018427387904,)"), 8),
              StatusCode::kOutOfRange, {"more bytes than fit"});
  // Overflowing dims with a zero among them make an empty array.
  StatusOr<NpyArray> empty =
      Parse(MakeNpy(Dict("<f4", "(4294967296, 4294967296, 0)"), 0));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->num_elements(), 0u);
  std::string rank33 = "(";
  for (int i = 0; i < 33; ++i) rank33 += "1, ";
  rank33 += ")";
  ExpectError(MakeNpy(Dict("<f4", rank33), 4), StatusCode::kInvalidArgument,
              {"more than 32 dimensions"});
}

TEST(NpyTest, RejectsDataSizeMismatch) {
  ExpectError(MakeNpy(Dict("<f4", "(2, 3)"), 23), StatusCode::kDataLoss,
              {"data section is 23 bytes", "[2, 3]", "needs 24"});
  ExpectError(MakeNpy(Dict("<f4", "(2, 3)"), 28), StatusCode::kDataLoss,
              {"data section is 28 bytes"});
  ExpectError(MakeNpy(Dict("<i4", "()"), 0), StatusCode::kDataLoss,
              {"data section is 0 bytes", "needs 4"});
}

// Every prefix of a valid file fails cleanly (no over-read: run under asan).
TEST(NpyTest, EveryTruncationFails) {
  const float v[6] = {1, 2, 3, 4, 5, 6};
  for (int major : {1, 2}) {
    StatusOr<std::string> full = EncodeNpy(NpyDType::kF32, {2, 3}, v);
    ASSERT_TRUE(full.ok());
    std::string bytes =
        major == 1 ? *full : MakeNpy(Dict("<f4", "(2, 3)"), 24, 2);
    for (size_t n = 0; n < bytes.size(); ++n) {
      // An exact-size heap copy, so asan sees any read past the end.
      std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
      StatusOr<NpyArray> a = ParseNpy(prefix.data(), prefix.size());
      EXPECT_FALSE(a.ok()) << "prefix of " << n << " bytes parsed";
    }
  }
}

// Every single-byte corruption of the preamble and header is either parsed
// or rejected, never a crash; the result is self-consistent when parsed.
TEST(NpyTest, CorruptedHeadersNeverCrash) {
  const float v[6] = {1, 2, 3, 4, 5, 6};
  StatusOr<std::string> good = EncodeNpy(NpyDType::kF32, {2, 3}, v);
  ASSERT_TRUE(good.ok());
  const size_t header_end = good->size() - sizeof(v);
  const unsigned char replacements[] = {0,   '\'', '(', ')',  ',', '-',
                                        '9', '{',  '}', 0x80, 0xff};
  for (size_t i = 0; i < header_end; ++i) {
    for (unsigned char r : replacements) {
      std::vector<uint8_t> bytes(good->begin(), good->end());
      bytes[i] = r;
      StatusOr<NpyArray> a = ParseNpy(bytes.data(), bytes.size());
      if (a.ok()) {
        EXPECT_EQ(a->bytes(), sizeof(v)) << "byte " << i;
      }
    }
  }
}

TEST(NpyTest, ReadNpyReportsFileErrors) {
  StatusOr<NpyArray> missing = ReadNpy(TempDir() + "/no_such.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(strstr(missing.status().message(), "no_such.npy"), nullptr);
  StatusOr<NpyArray> dir = ReadNpy(TempDir());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(strstr(dir.status().message(), "not a regular file"), nullptr);
}

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      names.push_back(e->d_name);
    }
  }
  closedir(d);
  return names;
}

TEST(NpyTest, WriteReplacesAtomicallyAndLeavesNoTemporaries) {
  const std::string dir = TempDir() + "/atomic";
  mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/y.npy";
  const float a[2] = {1, 2};
  const float b[3] = {3, 4, 5};
  ASSERT_TRUE(WriteNpy(path, NpyDType::kF32, {2}, a).ok());
  ASSERT_TRUE(WriteNpy(path, NpyDType::kF32, {3}, b).ok());
  StatusOr<NpyArray> r = ReadNpy(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->f32, (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"y.npy"});
}

TEST(NpyTest, WriteReportsErrors) {
  const float a[2] = {1, 2};
  Status s = WriteNpy(TempDir() + "/no/such/dir/y.npy", NpyDType::kF32, {2}, a);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(strstr(s.message(), "no/such/dir/y.npy"), nullptr) << s.message();
  // The target is a directory: rename fails, the temporary is removed.
  const std::string dir = TempDir() + "/target_is_dir";
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/y.npy").c_str(), 0755);
  s = WriteNpy(dir + "/y.npy", NpyDType::kF32, {2}, a);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"y.npy"});

  NpyArray wrong;
  wrong.shape = {2, 2};
  wrong.f32 = {1, 2, 3};
  s = WriteNpy(TempDir() + "/wrong.npy", wrong);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(strstr(s.message(), "holds 3 elements"), nullptr) << s.message();

  std::vector<size_t> rank33(33, 1);
  EXPECT_FALSE(EncodeNpy(NpyDType::kF32, rank33, a).ok());
  EXPECT_FALSE(EncodeNpy(NpyDType::kF32, {size_t{1} << 62, 8}, a).ok());
  EXPECT_FALSE(EncodeNpy(NpyDType::kF32, {2}, nullptr).ok());
}

}  // namespace
}  // namespace sparrow
