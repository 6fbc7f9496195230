#!/usr/bin/env bash
# Cross-compiles ds2api release archives into dist/release/ (or $DS2API_RELEASE_DIR).
#
#   scripts/build-release.sh                       # every target
#   scripts/build-release.sh linux-x64 darwin-arm64
#
# Targets: linux-x64 linux-x64-baseline linux-arm64 darwin-x64 darwin-arm64 windows-x64.
# Each becomes ds2api-<version>-<target>.tar.gz (.zip for Windows) holding one folder with the executable,
# README.md, LICENSE and docs/DEPLOY.md; sha256sums.txt lists every archive in the folder.
# Bun downloads the runtime of a foreign target once (from the npm registry) and caches it in ~/.bun/install/cache.
# Each executable embeds its target's native TLS addon (impit's prebuilt .node, scripts/native-addon.ts): the
# host's comes from node_modules, a foreign target's is fetched once with `npm pack` into ~/.cache/ds2api/addons
# (DS2API_ADDON_CACHE), so the archives need nothing beside the executable.
# DS2API_RELEASE_VERSION overrides the version taken from package.json (e.g. the tag without its "v").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

ALL_TARGETS=(linux-x64 linux-x64-baseline linux-arm64 darwin-x64 darwin-arm64 windows-x64)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  case " ${ALL_TARGETS[*]} " in
    *" $t "*) ;;
    *) echo "build-release: unknown target '$t' (one of: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
  esac
done

if [ -x "$root/node_modules/.bin/bun" ]; then bun="$root/node_modules/.bin/bun"; else bun=$(command -v bun || true); fi
[ -n "$bun" ] || { echo "build-release: bun not found (run npm ci first)" >&2; exit 1; }

version=${DS2API_RELEASE_VERSION:-$("$bun" -e 'console.log(require("./package.json").version)')}
version=${version#v}
out=${DS2API_RELEASE_DIR:-$root/dist/release}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/ds2api-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

zip_dir() { # zip_dir <archive> <folder> (run inside the folder's parent)
  if command -v zip >/dev/null 2>&1; then zip -q -r -X "$1" "$2"
  elif command -v python3 >/dev/null 2>&1; then python3 -m zipfile -c "$1" "$2"
  else echo "build-release: need zip or python3 for the Windows archive" >&2; return 1; fi
}

for t in "${targets[@]}"; do
  name="ds2api-${version}-${t}"
  exe=ds2api
  [[ $t == windows-* ]] && exe=ds2api.exe
  dir="$stage/$name"
  mkdir -p "$dir"
  echo "==> $t"
  "$bun" run scripts/build.ts --target "bun-$t" --outfile "$dir/$exe"
  cp README.md LICENSE "$dir/"
  [ -f docs/DEPLOY.md ] && cp docs/DEPLOY.md "$dir/"
  rm -f "$out/$name.tar.gz" "$out/$name.zip"
  if [[ $t == windows-* ]]; then
    (cd "$stage" && zip_dir "$out/$name.zip" "$name")
  else
    tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
  fi
  rm -rf "$dir"
done

# Checksums of every archive in the output folder (earlier runs included), with bare file names.
(
  cd "$out"
  shopt -s nullglob
  archives=(ds2api-*.tar.gz ds2api-*.zip)
  sha256 "${archives[@]}" >sha256sums.txt
)
echo "release archives in $out:"
(cd "$out" && cat sha256sums.txt)
