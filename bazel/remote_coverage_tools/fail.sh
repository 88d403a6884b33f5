#!/bin/sh
echo "coverage tools are not available offline (see bazel/repositories.bzl)" >&2
exit 1
