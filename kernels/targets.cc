#include "kernels/targets.h"

#include <string.h>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/targets.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
int64_t ThisTarget() { return HWY_TARGET; }
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_EXPORT(ThisTarget);

const char* DispatchTargetName() {
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(ThisTarget)());
}

const char* CompiledTargetNames() {
  static char names[256] = {0};
  if (names[0] == 0) {
    char buf[256] = {0};
    for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
      if (buf[0] != 0) strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
      strncat(buf, hwy::TargetName(t), sizeof(buf) - strlen(buf) - 1);
    }
    memcpy(names, buf, sizeof(names));
  }
  return names;
}
}  // namespace sparrow
#endif  // HWY_ONCE
