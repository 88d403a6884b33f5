"""Rule macros for Sparrow's own code.

Every cc_* rule of ours goes through these, so warnings and the
no-exceptions/no-RTTI rule for kernels/ and runtime/ are set in one place.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

# Warnings are errors in our code only; system headers are exempt.
SPARROW_WARNINGS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",  # Highway's per-target descriptors are often unused.
]

# One project-wide list of disabled Highway targets (as gemma.cpp's
# GEMMA_DISABLED_TARGETS). Targets older than SSE4 are skipped to keep builds
# fast; EMU128 stays as the portable baseline and the reference target in tests.
SPARROW_DISABLED_TARGETS = "HWY_SSSE3"

SPARROW_DEFINES = [
    "-DHWY_DISABLED_TARGETS=" + SPARROW_DISABLED_TARGETS,
]

# Layers that must build without exceptions or RTTI (STYLE.md).
_NOEXCEPT_PACKAGES = ["kernels", "runtime"]

def _is_noexcept_package():
    pkg = native.package_name()
    for p in _NOEXCEPT_PACKAGES:
        if pkg == p or pkg.startswith(p + "/"):
            return True
    return False

def sparrow_copts(noexcept = None):
    """Compiler flags for our code in the current package."""
    if noexcept == None:
        noexcept = _is_noexcept_package()
    copts = SPARROW_WARNINGS + SPARROW_DEFINES
    if noexcept:
        copts = copts + ["-fno-exceptions", "-fno-rtti"]
    return copts

def sparrow_cc_library(name, copts = [], noexcept = None, **kwargs):
    cc_library(name = name, copts = sparrow_copts(noexcept) + copts, **kwargs)

def sparrow_cc_binary(name, copts = [], noexcept = None, **kwargs):
    cc_binary(name = name, copts = sparrow_copts(noexcept) + copts, **kwargs)

def sparrow_cc_test(name, copts = [], deps = [], **kwargs):
    """A GoogleTest test. Tests may use exceptions (gtest does)."""
    cc_test(
        name = name,
        copts = sparrow_copts(noexcept = False) + copts,
        deps = deps + ["@gtest//:gtest", "@gtest//:gtest_main"],
        **kwargs
    )

def sparrow_hwy_test(name, copts = [], deps = [], **kwargs):
    """A per-target Highway test: every compiled target is exercised."""
    sparrow_cc_test(
        name = name,
        copts = copts,
        deps = deps + ["@hwy//:hwy_test_util"],
        **kwargs
    )
