"""FlatBuffers schemas: flatc (Debian's flatbuffers-compiler) run by genrules.

    load("//bazel:flatbuffers.bzl", "sparrow_flatbuffer_cc_library")
    sparrow_flatbuffer_cc_library(name = "model_fbs", src = "schema/model.fbs")

makes `schema/model_generated.h` (include it as
"<package>/schema/model_generated.h") in a cc_library that depends on the
FlatBuffers headers.
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

_FLATC = "@flatbuffers//:flatc"

# Scoped enums (enum class), the object API (the ...T structs) that
# writers such as runtime/model_builder use, and operator== on those structs
# (round-trip tests). None of it needs exceptions or RTTI.
_CPP_FLAGS = "--cpp --scoped-enums --gen-object-api --gen-compare"

def sparrow_flatbuffer_cc_library(name, src, visibility = None):
    """A header-only cc_library with the C++ code flatc generates for `src`."""
    if not src.endswith(".fbs"):
        fail("src must be a .fbs schema: " + src)
    out = src[:-len(".fbs")] + "_generated.h"
    native.genrule(
        name = name + "_cpp",
        srcs = [src],
        outs = [out],
        tools = [_FLATC],
        cmd = "$(execpath %s) %s -o $(@D) $(location %s)" % (_FLATC, _CPP_FLAGS, src),
        visibility = ["//visibility:private"],
    )
    cc_library(
        name = name,
        hdrs = [out],
        deps = ["@flatbuffers"],
        visibility = visibility,
    )

def sparrow_flatbuffer_py(name, src, out_dir, modules, visibility = None):
    """The Python modules flatc generates for `src`, under `out_dir`.

    `modules` lists the generated files relative to out_dir (one per table,
    enum and union, plus the package __init__.py files): flatc writes one file
    per type and Bazel must know every output. The rule fails if flatc writes
    a different number of files, so a type added to the schema cannot be
    silently left out.
    """
    outs = [out_dir + "/" + m for m in modules]
    gen_dir = "$(RULEDIR)/" + out_dir
    native.genrule(
        name = name,
        srcs = [src],
        outs = outs,
        tools = [_FLATC],
        cmd = " && ".join([
            "$(execpath %s) --python -o %s $(location %s)" % (_FLATC, gen_dir, src),
            "n=$$(find %s -name '*.py' | wc -l)" % gen_dir,
            ("if [ $$n != %d ]; then echo \"flatc wrote $$n Python files, " +
             "%s lists %d: update its modules\" >&2; exit 1; fi") % (len(modules), name, len(modules)),
        ]),
        visibility = visibility,
    )
