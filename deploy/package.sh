#!/bin/sh
# deploy/package.sh [ZIP]: build the Lambda package (make package calls it;
# by default dist/streamquery-lambda.zip).
#
# The zip holds, at its root: bootstrap (the custom runtime's entry point),
# bin/host, lua/, scheduled_queries/, conf/, and lib/ with the Lua module
# cjson and every shared library the host needs that is not part of glibc.
# Amazon Linux 2023 (provided.al2023) has glibc 2.34: the build fails when
# an ELF file of the package needs a newer GLIBC_ symbol version. Files get
# a fixed time and order, so the same inputs give the same zip.
set -eu

GLIBC_MAX=${GLIBC_MAX:-2.34} # the runtime's; lower it to test the check
# glibc's own libraries: the runtime has them, in the version above.
GLIBC_LIBS="ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 \
libpthread.so.0 librt.so.1 libresolv.so.2 libutil.so.1 libanl.so.1 \
libnsl.so.1 libmvec.so.1 libBrokenLocale.so.1 libthread_db.so.1"

cd "$(dirname "$0")/.."
root=$(pwd)
zip_file=${1:-dist/streamquery-lambda.zip}
case "$zip_file" in
  /*) ;;
  *) zip_file="$root/$zip_file" ;;
esac

fail() {
  echo "package.sh: $*" >&2
  exit 1
}

[ -x bin/host ] || fail "bin/host is missing: run make first"
for tool in zip objdump ldd; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install zip binutils)"
done
# Where the system's Lua 5.4 (lua5.4 on Debian, lua on Amazon Linux) has
# the C module $1, or nothing.
lua_module() {
  for lua in lua5.4 lua; do
    command -v "$lua" >/dev/null 2>&1 || continue
    found=$("$lua" -e "print((package.searchpath('$1', package.cpath)))" \
      2>/dev/null) || found=""
    if [ -n "$found" ] && [ -f "$found" ]; then
      echo "$found"
      return
    fi
  done
}
cjson=$(lua_module cjson)
[ -n "$cjson" ] || fail "the Lua cjson module is missing (apt-get install lua-cjson)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp bin/host "$stage/bin/host"
cp "$cjson" "$stage/lib/cjson.so"
cp -R lua scheduled_queries conf "$stage/"
# The modules go in precompiled (debug information kept, so errors still
# name their lines): a cold start then skips compiling them. The package
# carries the liblua that compiled them. Query files stay source: the
# sandbox loads text only.
luac=$(command -v luac5.4 || command -v luac) || fail "luac5.4 is missing (apt-get install lua5.4)"
(cd "$stage" && find lua -name '*.lua' | while read -r module; do
  "$luac" -o "$module" "$module" || exit 1  # relative: chunks name lua/..., not the stage
done) || fail "luac could not compile the Lua modules"

# Every shared library of the host and of cjson.so, glibc's excepted.
ldd bin/host "$cjson" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
while read -r name path; do
  case " $GLIBC_LIBS " in
    *" $name "*) continue ;;
  esac
  cp -L "$path" "$stage/lib/$name"
done

cat >"$stage/bootstrap" <<'BOOTSTRAP'
#!/bin/sh
# The Lambda custom runtime's entry point: the StreamQuery host with the
# libraries packaged beside it.
here=${LAMBDA_TASK_ROOT:-$(dirname "$0")}
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "$here/bin/host" --root "$here" lambda "$@"
BOOTSTRAP
chmod 755 "$stage/bootstrap" "$stage/bin/host"

# No ELF file may need a glibc newer than the runtime's.
too_new=$(find "$stage" -type f | while read -r file; do
  objdump -p "$file" 2>/dev/null | awk -v f="${file#"$stage"/}" -v max="$GLIBC_MAX" '
    /GLIBC_[0-9]/ {
      match($0, /GLIBC_[0-9.]+/)
      v = substr($0, RSTART + 6, RLENGTH - 6)
      split(v, a, "."); split(max, b, ".")
      if (a[1] + 0 > b[1] + 0 || (a[1] + 0 == b[1] + 0 && a[2] + 0 > b[2] + 0))
        print f " needs GLIBC_" v
    }'
done | sort -u)
[ -z "$too_new" ] || fail "glibc $GLIBC_MAX is the newest the Lambda runtime has:
$too_new"

mkdir -p "$(dirname "$zip_file")"
rm -f "$zip_file"
find "$stage" -exec touch -h -d 2020-01-01T00:00:00Z {} +
(cd "$stage" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
  zip -q -X "$zip_file" -@)
echo "package.sh: wrote $zip_file ($(du -k "$zip_file" | cut -f1) KiB)" >&2
