#!/bin/sh
# builds out/bin/polling-min (JIT, framework-dependent apphost) and out/bin/polling-min-aot (NativeAOT)
set -e
cd "$(dirname "$0")"
dotnet publish -c Release -o ../../out/build/polling-min/publish --nologo
dotnet publish -c Release -r linux-x64 -p:PublishAot=true -o ../../out/build/polling-min/publish-aot --nologo
mkdir -p ../../out/bin
printf '#!/bin/sh\nexec "$(dirname "$0")/../build/polling-min/publish/polling-min" "$@"\n' > ../../out/bin/polling-min
printf '#!/bin/sh\nexec "$(dirname "$0")/../build/polling-min/publish-aot/polling-min" "$@"\n' > ../../out/bin/polling-min-aot
chmod +x ../../out/bin/polling-min ../../out/bin/polling-min-aot
