#include "kernels/status.h"

#include <stdio.h>

namespace sparrow {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status MakeStatus(StatusCode code, const char* format, va_list args) {
  char buf[512];
  vsnprintf(buf, sizeof(buf), format, args);
  return Status(code, buf);
}

#define SPARROW_DEFINE_STATUS_MAKER(Name, code)    \
  Status Name(const char* format, ...) {           \
    va_list args;                                  \
    va_start(args, format);                        \
    Status s = MakeStatus(StatusCode::code, format, args); \
    va_end(args);                                  \
    return s;                                      \
  }

SPARROW_DEFINE_STATUS_MAKER(InvalidArgument, kInvalidArgument)
SPARROW_DEFINE_STATUS_MAKER(OutOfRange, kOutOfRange)
SPARROW_DEFINE_STATUS_MAKER(DataLoss, kDataLoss)
SPARROW_DEFINE_STATUS_MAKER(NotFound, kNotFound)
SPARROW_DEFINE_STATUS_MAKER(ResourceExhausted, kResourceExhausted)
SPARROW_DEFINE_STATUS_MAKER(FailedPrecondition, kFailedPrecondition)
SPARROW_DEFINE_STATUS_MAKER(Unimplemented, kUnimplemented)
SPARROW_DEFINE_STATUS_MAKER(Internal, kInternal)

#undef SPARROW_DEFINE_STATUS_MAKER

}  // namespace sparrow
