#!/usr/bin/env bash
# Fails when a target imports a project module that is not below it (README "Data flow"):
#   0 CVips, CHeif, CJxl   1 ImgfnBase   2 ImagePipeline, S3Store   3 ImageService
#   4 ServiceWiring, ImageRequests, CLISupport   5 shells: imgfn, imgfn-service, ResizeFunction, imgfn-bench, imgfn-fuzz
# A target may import only lower layers, never a sibling of its own layer (so ImagePipeline and
# S3Store never meet), and only ImagePipeline may import CVips, CHeif or CJxl. SwiftPM enforces the declared
# edges; this checks the declarations themselves follow the layers, file by file.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A layer=(
  [CVips]=0 [CHeif]=0 [CJxl]=0 [ImgfnBase]=1 [ImagePipeline]=2 [S3Store]=2 [ImageService]=3 [ServiceWiring]=4
  [ImageRequests]=4 [CLISupport]=4 [imgfn]=5 [imgfn-service]=5 [ResizeFunction]=5 [imgfn-bench]=5 [imgfn-fuzz]=5
)
declare -A dir=(
  [ImgfnBase]=Sources/ImgfnBase [ImagePipeline]=Sources/ImagePipeline [S3Store]=Sources/S3Store
  [ImageService]=Sources/ImageService [ServiceWiring]=Sources/ServiceWiring [ImageRequests]=Sources/ImageRequests [CLISupport]=Sources/CLISupport
  [imgfn]=Sources/imgfn [imgfn-service]=Sources/imgfn-service
  [ResizeFunction]=Sources/ResizeFunction [imgfn-bench]=Benchmarks/Sources/imgfn-bench
  [imgfn-fuzz]=Fuzz/Sources/imgfn-fuzz
)
modules="CVips|CHeif|CJxl|ImgfnBase|ImagePipeline|S3Store|ImageService|ServiceWiring|ImageRequests|CLISupport|ResizeFunction"

bad=0
for target in "${!dir[@]}"; do
  [ -d "${dir[$target]}" ] || { echo "check-layers: ${dir[$target]} is missing (update this script)"; bad=1; continue; }
  while IFS=: read -r file line module; do
    if { [ "$module" = CVips ] || [ "$module" = CHeif ] || [ "$module" = CJxl ]; } && [ "$target" != ImagePipeline ]; then
      echo "$file:$line: $target imports $module: only ImagePipeline talks to libvips and libheif"; bad=1
    elif [ "${layer[$module]}" -ge "${layer[$target]}" ] && [ "$module" != "$target" ]; then
      echo "$file:$line: $target (layer ${layer[$target]}) imports $module (layer ${layer[$module]}): arrows point down only"
      bad=1
    fi
  done < <(grep -rnoE "^(@testable )?import ($modules)\$" "${dir[$target]}" --include='*.swift' \
             | sed -E 's/:(@testable )?import /:/')
done
# Every source folder is a known target.
for d in Sources/*/; do
  name=$(basename "$d")
  [ -n "${layer[$name]+x}" ] || { echo "check-layers: Sources/$name has no layer (add it to scripts/check-layers.sh)"; bad=1; }
done
# The declared edges too (Package.swift), transitively: S3Store never links libvips, and the
# imaging core, the service and the benchmarks never link an HTTP client.
swift package describe --type json 2>/dev/null | python3 -c '
import json, sys
layer = {"CVips": 0, "CHeif": 0, "CJxl": 0, "ImgfnBase": 1, "ImagePipeline": 2, "S3Store": 2, "ImageService": 3, "ServiceWiring": 4,
         "ImageRequests": 4, "CLISupport": 4, "imgfn": 5, "imgfn-service": 5, "ResizeFunction": 5, "imgfn-bench": 5, "imgfn-fuzz": 5}
targets = {t["name"]: t for t in json.load(sys.stdin)["targets"]}
def closure(name, seen=None):
    seen = set() if seen is None else seen
    for dep in targets[name].get("target_dependencies") or []:
        if dep not in seen:
            seen.add(dep)
            closure(dep, seen)
    return seen
def products(name):
    found = set(targets[name].get("product_dependencies") or [])
    for dep in closure(name):
        found |= set(targets[dep].get("product_dependencies") or [])
    return found
bad = []
for name in layer:
    for dep in targets[name].get("target_dependencies") or []:
        if dep in layer and layer[dep] >= layer[name]:
            bad.append(f"Package.swift: {name} depends on {dep}: arrows point down only")
if "CVips" in closure("S3Store"):
    bad.append("Package.swift: S3Store links libvips")
# The CLI binary too: its image commands must not pay for an HTTP client at start (imgfn-service has it).
for name in ("ImgfnBase", "ImagePipeline", "ImageService", "ImageRequests", "CLISupport", "imgfn", "imgfn-bench", "imgfn-fuzz"):
    if "AsyncHTTPClient" in products(name):
        bad.append(f"Package.swift: {name} links AsyncHTTPClient")
print("\n".join(bad) if bad else "check-layers: every declared dependency points down")
sys.exit(1 if bad else 0)
' || bad=1
((bad == 0)) && echo "check-layers: every import points down"
exit $bad
