#!/bin/sh
# builds out/bin/dotnet-raw (JIT, framework-dependent apphost) and out/bin/dotnet-raw-aot (NativeAOT)
set -e
cd "$(dirname "$0")"
dotnet publish -c Release -o ../../out/build/dotnet-raw/publish --nologo
dotnet publish -c Release -r linux-x64 -p:PublishAot=true -o ../../out/build/dotnet-raw/publish-aot --nologo
mkdir -p ../../out/bin
printf '#!/bin/sh\nexec "$(dirname "$0")/../build/dotnet-raw/publish/dotnet-raw" "$@"\n' > ../../out/bin/dotnet-raw
printf '#!/bin/sh\nexec "$(dirname "$0")/../build/dotnet-raw/publish-aot/dotnet-raw" "$@"\n' > ../../out/bin/dotnet-raw-aot
chmod +x ../../out/bin/dotnet-raw ../../out/bin/dotnet-raw-aot
