#!/bin/sh
# publish-jit-aot.sh PEER: publishes the .NET peer in peers/PEER twice — JIT (framework-dependent apphost) and
# NativeAOT — and writes the launchers out/bin/PEER and out/bin/PEER-aot. Used by dotnet-raw and polling-min.
set -e
peer=$1
cd "$(dirname "$0")/$peer"
dotnet publish -c Release -o "../../out/build/$peer/publish" --nologo
dotnet publish -c Release -r linux-x64 -p:PublishAot=true -o "../../out/build/$peer/publish-aot" --nologo
mkdir -p ../../out/bin
printf '#!/bin/sh\nexec "$(dirname "$0")/../build/%s/publish/%s" "$@"\n' "$peer" "$peer" > "../../out/bin/$peer"
printf '#!/bin/sh\nexec "$(dirname "$0")/../build/%s/publish-aot/%s" "$@"\n' "$peer" "$peer" > "../../out/bin/$peer-aot"
chmod +x "../../out/bin/$peer" "../../out/bin/$peer-aot"
