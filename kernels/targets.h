// Which SIMD target Highway's runtime dispatch picks on this machine.
//
//   printf("dispatching to %s\n", sparrow::DispatchTargetName());
//
// Thread-safe; no allocation.
#ifndef SPARROW_KERNELS_TARGETS_H_
#define SPARROW_KERNELS_TARGETS_H_

namespace sparrow {

// Name of the target HWY_DYNAMIC_DISPATCH selects here, e.g. "AVX3".
const char* DispatchTargetName();

// Space-separated names of every target compiled into the kernels.
const char* CompiledTargetNames();

}  // namespace sparrow

#endif  // SPARROW_KERNELS_TARGETS_H_
