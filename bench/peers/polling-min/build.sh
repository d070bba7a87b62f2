#!/bin/sh
# builds out/bin/polling-min (JIT) and out/bin/polling-min-aot (NativeAOT)
exec "$(dirname "$0")/../publish-jit-aot.sh" polling-min
