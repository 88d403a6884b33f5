"""Offline repositories: Debian's Bazel rules and system libraries.

Every external dependency is a Debian package installed by tools/bootstrap.
Nothing here touches the network.
"""

_RULES_CC_DEBIAN = "/usr/share/bazel/rules/cc"
_RULES_JAVA_DEBIAN = "/usr/share/bazel/rules/java"

def _patched_rules_cc_impl(ctx):
    """Copies Debian's bazel-rules-cc and makes it load under Bazel 4.

    Debian ships a rules_cc newer than Bazel 4.2.3 understands: two files call
    use_cpp_toolchain(), which Bazel 4's @bazel_tools does not export. We replace
    the call with the plain toolchain type label it stands for.
    """
    src = ctx.path(ctx.attr.path)
    if not src.exists:
        fail("%s is missing: run tools/bootstrap (package bazel-rules-cc)" % src)
    res = ctx.execute(["cp", "-r", str(src) + "/cc", "."])
    if res.return_code != 0:
        fail("copying rules_cc failed: " + res.stderr)
    for f in ["cc/private/rules_impl/compiler_flag.bzl", "cc/private/rules_impl/cc_flags_supplier.bzl"]:
        text = ctx.read(f)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        if "use_cpp_toolchain" in text:
            fail("rules_cc compatibility patch did not apply to " + f)
        ctx.file(f, text)
    ctx.file("WORKSPACE", 'workspace(name = "rules_cc")\n')
    ctx.file("BUILD", "")

patched_rules_cc = repository_rule(
    implementation = _patched_rules_cc_impl,
    attrs = {"path": attr.string(default = _RULES_CC_DEBIAN)},
    local = True,
)

def sparrow_repositories():
    patched_rules_cc(name = "rules_cc")
    native.local_repository(name = "rules_java", path = _RULES_JAVA_DEBIAN)

    # Bazel's test rules name this repository; offline we provide tools that
    # fail loudly if anyone asks for coverage.
    native.local_repository(
        name = "remote_coverage_tools",
        path = "bazel/remote_coverage_tools",
    )

    # System libraries from Debian packages (flatbuffers: headers and flatc;
    # zlib: the trainer's gzipped IDX files).
    for name in ["hwy", "gtest", "benchmark", "eigen", "openblas", "dnnl", "xnnpack", "hwloc", "cli11", "flatbuffers", "zlib"]:
        native.new_local_repository(
            name = name,
            path = "/usr",
            build_file = "//bazel/third_party:%s.BUILD" % name,
        )
