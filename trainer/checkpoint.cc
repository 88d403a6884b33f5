#include "trainer/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "hwy/base.h"
#include "trainer/optim/byte_io.h"
#include "zlib.h"

namespace sparrow {
namespace train {
namespace {

constexpr size_t kMaxNameBytes = 4096;
constexpr uint32_t kMaxRank = 8;

uint32_t Crc32(const uint8_t* data, size_t size) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0, nullptr, 0), data, size));
}

// An I/O failure: `what` names the step and the file.
Status ErrnoStatus(int err, const std::string& what) {
  const std::string msg = what + ": " + strerror(err);
  switch (err) {
    case ENOENT:
      return Status(StatusCode::kNotFound, msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return Status(StatusCode::kResourceExhausted, msg);
    case EACCES:
    case EPERM:
    case EISDIR:
    case ENOTDIR:
    case EROFS:
      return Status(StatusCode::kFailedPrecondition, msg);
    default:
      return Status(StatusCode::kInternal, msg);
  }
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string ShapeString(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? "," : "") + std::to_string(shape[i]);
  }
  return s + "]";
}

// The first non-finite value of `p`, or -1.
int64_t FirstNonFinite(const std::vector<float>& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!isfinite(v[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

// A length field that claims more than the bytes left.
Status CheckLength(const ByteReader& r, const char* field, uint64_t n) {
  if (n <= r.remaining()) return OkStatus();
  return DataLoss("%s: truncated: %s=%llu at offset %zu, %zu bytes left",
                  r.context().c_str(), field,
                  static_cast<unsigned long long>(n), r.offset() - 8,
                  r.remaining());
}

Status ReadWholeFile(const std::string& path, std::vector<uint8_t>* bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open checkpoint " + path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus(err, "fstat of checkpoint " + path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return FailedPrecondition("checkpoint %s is not a regular file",
                              path.c_str());
  }
  bytes->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes->size()) {
    const ssize_t n = read(fd, bytes->data() + got, bytes->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return ErrnoStatus(err, "reading checkpoint " + path);
    }
    if (n == 0) break;  // shrank while we read: the size checks report it
    got += static_cast<size_t>(n);
  }
  bytes->resize(got);
  close(fd);
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<uint8_t>> EncodeCheckpoint(
    const TrainingState& state, const std::vector<Param*>& params,
    const Optimizer& optimizer) {
  std::vector<uint8_t> out(kCheckpointHeaderBytes);
  ByteWriter w(&out);
  w.I64(state.step);
  w.I64(state.epoch);
  w.U64(state.rng.size());
  w.Bytes(state.rng.data(), state.rng.size());
  w.U32(static_cast<uint32_t>(params.size()));
  for (const Param* p : params) {
    HWY_ASSERT(p->value.size() == p->Size());
    if (p->name.size() > kMaxNameBytes || p->shape.size() > kMaxRank) {
      return InvalidArgument(
          "checkpoint: param \"%.64s\" has a %zu-byte name and rank %zu, at "
          "most %zu and %u",
          p->name.c_str(), p->name.size(), p->shape.size(), kMaxNameBytes,
          kMaxRank);
    }
    const int64_t bad = FirstNonFinite(p->value);
    if (bad >= 0) {
      return InvalidArgument(
          "checkpoint: param \"%s\" value[%lld] is %g: refusing to save a "
          "diverged model",
          p->name.c_str(), static_cast<long long>(bad), p->value[bad]);
    }
    w.String(p->name);
    w.U32(static_cast<uint32_t>(p->shape.size()));
    for (int d : p->shape) w.U32(static_cast<uint32_t>(d));
    w.Floats(p->value.data(), p->value.size());
  }
  w.U64(optimizer.StateBytes());
  optimizer.SaveState(&out);

  const size_t payload = out.size() - kCheckpointHeaderBytes;
  std::vector<uint8_t> header;
  ByteWriter h(&header);
  h.Bytes(reinterpret_cast<const uint8_t*>(kCheckpointMagic), 8);
  h.U32(kCheckpointVersion);
  h.U32(Crc32(out.data() + kCheckpointHeaderBytes, payload));
  h.U64(payload);
  HWY_ASSERT(header.size() == kCheckpointHeaderBytes);
  memcpy(out.data(), header.data(), header.size());
  return out;
}

Status DecodeCheckpoint(const uint8_t* data, size_t size,
                        const std::string& name,
                        const std::vector<Param*>& params, Optimizer* optimizer,
                        TrainingState* state) {
  const char* file = name.c_str();
  if (size < kCheckpointHeaderBytes) {
    return DataLoss("%s: truncated: %zu bytes, the header alone is %zu", file,
                    size, kCheckpointHeaderBytes);
  }
  if (memcmp(data, kCheckpointMagic, 8) != 0) {
    return InvalidArgument(
        "%s: not a Sparrow checkpoint: magic is %02x%02x%02x%02x%02x%02x%02x"
        "%02x, expected \"SPRWCKPT\"",
        file, data[0], data[1], data[2], data[3], data[4], data[5], data[6],
        data[7]);
  }
  ByteReader header(data + 8, kCheckpointHeaderBytes - 8, name);
  uint32_t version, crc;
  uint64_t payload;
  SPARROW_RETURN_IF_ERROR(header.U32("version", &version));
  SPARROW_RETURN_IF_ERROR(header.U32("crc32", &crc));
  SPARROW_RETURN_IF_ERROR(header.U64("payload_bytes", &payload));
  if (version != kCheckpointVersion) {
    return InvalidArgument("%s: version=%u, this build reads version %u", file,
                           version, kCheckpointVersion);
  }
  const size_t held = size - kCheckpointHeaderBytes;
  if (payload > held) {
    return DataLoss(
        "%s: truncated: payload_bytes=%llu, but the file holds %zu after the "
        "header",
        file, static_cast<unsigned long long>(payload), held);
  }
  if (payload < held) {
    return DataLoss("%s: %zu trailing bytes after payload_bytes=%llu", file,
                    static_cast<size_t>(held - payload),
                    static_cast<unsigned long long>(payload));
  }
  const uint8_t* body = data + kCheckpointHeaderBytes;
  const uint32_t actual = Crc32(body, held);
  if (actual != crc) {
    return DataLoss("%s: crc32=0x%08x in the header, the payload's is 0x%08x",
                    file, crc, actual);
  }

  // The CRC catches accidents, not crafted files: every field is still
  // checked, and nothing is committed until all of them pass.
  ByteReader r(body, held, name);
  TrainingState loaded;
  uint64_t rng_bytes;
  const uint8_t* rng;
  SPARROW_RETURN_IF_ERROR(r.I64("step", &loaded.step));
  SPARROW_RETURN_IF_ERROR(r.I64("epoch", &loaded.epoch));
  if (loaded.step < 0 || loaded.epoch < 0) {
    return InvalidArgument("%s: step=%lld and epoch=%lld must be >= 0", file,
                           static_cast<long long>(loaded.step),
                           static_cast<long long>(loaded.epoch));
  }
  SPARROW_RETURN_IF_ERROR(r.U64("rng_bytes", &rng_bytes));
  SPARROW_RETURN_IF_ERROR(CheckLength(r, "rng_bytes", rng_bytes));
  SPARROW_RETURN_IF_ERROR(r.Bytes("rng", rng_bytes, &rng));
  loaded.rng.assign(rng, rng + rng_bytes);
  uint32_t count;
  SPARROW_RETURN_IF_ERROR(r.U32("num_params", &count));
  if (count != params.size()) {
    return InvalidArgument("%s: num_params=%u, the model has %zu params", file,
                           count, params.size());
  }
  std::vector<std::vector<float>> values(count);
  for (size_t i = 0; i < count; ++i) {
    const Param& p = *params[i];
    std::string param_name;
    SPARROW_RETURN_IF_ERROR(r.String("param name", kMaxNameBytes, &param_name));
    if (param_name != p.name) {
      return InvalidArgument("%s: param %zu is \"%s\", the model's is \"%s\"",
                             file, i, param_name.c_str(), p.name.c_str());
    }
    uint32_t rank;
    SPARROW_RETURN_IF_ERROR(r.U32("rank", &rank));
    if (rank > kMaxRank) {
      return InvalidArgument("%s: param \"%s\" has rank=%u, at most %u", file,
                             p.name.c_str(), rank, kMaxRank);
    }
    std::vector<int> shape(rank);
    bool same = rank == p.shape.size();
    for (uint32_t d = 0; d < rank; ++d) {
      uint32_t dim;
      SPARROW_RETURN_IF_ERROR(r.U32("dim", &dim));
      shape[d] = static_cast<int>(dim);
      same = same && dim == static_cast<uint32_t>(p.shape[d]);
    }
    if (!same) {
      return InvalidArgument(
          "%s: param \"%s\" has shape %s in the checkpoint, %s in the model",
          file, p.name.c_str(), ShapeString(shape).c_str(),
          ShapeString(p.shape).c_str());
    }
    // Sized by the model, whose shape was just matched.
    values[i].resize(p.Size());
    SPARROW_RETURN_IF_ERROR(r.Floats("values", p.Size(), values[i].data()));
    const int64_t bad = FirstNonFinite(values[i]);
    if (bad >= 0) {
      return InvalidArgument("%s: param \"%s\" value[%lld] is %g", file,
                             p.name.c_str(), static_cast<long long>(bad),
                             values[i][bad]);
    }
  }
  uint64_t opt_bytes;
  const uint8_t* opt_state;
  SPARROW_RETURN_IF_ERROR(r.U64("optimizer_state_bytes", &opt_bytes));
  SPARROW_RETURN_IF_ERROR(CheckLength(r, "optimizer_state_bytes", opt_bytes));
  SPARROW_RETURN_IF_ERROR(r.Bytes("optimizer state", opt_bytes, &opt_state));
  SPARROW_RETURN_IF_ERROR(r.ExpectEnd());
  if (optimizer != nullptr) {
    // LoadState is all-or-nothing, and the last step that can fail.
    const Status s = optimizer->LoadState(opt_state, opt_bytes, params);
    if (!s.ok()) return Status(s.code(), name + ": " + s.message());
  }
  for (size_t i = 0; i < count; ++i) params[i]->value = std::move(values[i]);
  if (state != nullptr) *state = std::move(loaded);
  return OkStatus();
}

Status WriteFileAtomically(const std::string& path,
                           const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd =
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot create " + tmp);
  // From here on a failure removes the half-written temp file.
  const auto fail = [&](int err, const std::string& what) {
    close(fd);
    unlink(tmp.c_str());
    return ErrnoStatus(err, what);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return fail(errno, "writing " + tmp + " at byte " + std::to_string(done) +
                             " of " + std::to_string(bytes.size()));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail(errno, "fsync of " + tmp);
  if (close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "closing " + tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "renaming " + tmp + " to " + path);
  }
  // The rename is durable only once the directory entry is.
  const std::string dir = DirectoryOf(path);
  const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus(errno, "opening directory " + dir);
  if (fsync(dfd) != 0) {
    const int err = errno;
    close(dfd);
    return ErrnoStatus(err, "fsync of directory " + dir + " (" + path +
                                " is written, maybe not yet durable)");
  }
  close(dfd);
  return OkStatus();
}

Status WriteCheckpoint(const std::string& path, const TrainingState& state,
                       const std::vector<Param*>& params,
                       const Optimizer& optimizer) {
  StatusOr<std::vector<uint8_t>> bytes =
      EncodeCheckpoint(state, params, optimizer);
  if (!bytes.ok()) {
    return Status(bytes.status().code(),
                  path + ": " + bytes.status().message());
  }
  return WriteFileAtomically(path, *bytes);
}

Status ReadCheckpoint(const std::string& path,
                      const std::vector<Param*>& params, Optimizer* optimizer,
                      TrainingState* state) {
  std::vector<uint8_t> bytes;
  SPARROW_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  return DecodeCheckpoint(bytes.data(), bytes.size(), path, params, optimizer,
                          state);
}

}  // namespace train
}  // namespace sparrow
