"""One static archive of a cc_library and everything of ours it links.

    load("//bazel:static_archive.bzl", "sparrow_static_archive")
    sparrow_static_archive(name = "libsparrow_runtime", deps = [":sparrow"])

writes `libsparrow_runtime.a` (all object files of the deps' own static
libraries, merged with `ar`, then `strip --strip-unneeded`): what a product
links to embed the runtime, and what docs/PERFORMANCE.md reports the size of.
System libraries (Highway's libhwy.so, libhwloc, flatbuffers headers) are
dynamic or header-only and are not included.
"""

def _static_archive_impl(ctx):
    libs = []
    for dep in ctx.attr.deps:
        for li in dep[CcInfo].linking_context.linker_inputs.to_list():
            for lib in li.libraries:
                a = lib.pic_static_library or lib.static_library
                if a != None and not a.path.startswith("external/") and a not in libs:
                    libs.append(a)
    out = ctx.actions.declare_file(ctx.label.name + ".a")
    # `ar -M` merges archives; object names may repeat across libraries,
    # which ADDLIB keeps apart.
    script = "CREATE %s\n" % out.path
    for a in libs:
        script += "ADDLIB %s\n" % a.path
    script += "SAVE\nEND\n"
    ctx.actions.run_shell(
        inputs = libs,
        outputs = [out],
        command = "printf '%s' | ar -M && strip --strip-unneeded %s" % (script, out.path),
        mnemonic = "StaticArchive",
        progress_message = "Merging %d archives into %s" % (len(libs), out.short_path),
    )
    return [DefaultInfo(files = depset([out]))]

sparrow_static_archive = rule(
    implementation = _static_archive_impl,
    attrs = {"deps": attr.label_list(providers = [CcInfo])},
)
