#!/bin/sh
# builds out/bin/dotnet-raw (JIT) and out/bin/dotnet-raw-aot (NativeAOT)
exec "$(dirname "$0")/../publish-jit-aot.sh" dotnet-raw
