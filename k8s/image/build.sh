#!/usr/bin/env bash
# Builds the pgbalancer container image without a Docker daemon: a jlinked Java runtime and the C libraries it
# needs (taken from this machine) as the base, the application added by Jib (jib:buildTar), run as uid 10001.
# Output: pgbalancer/target/jib-image.tar (docker load -i ..., or crane/skopeo push).
# Usage: k8s/image/build.sh [image name, default pgbalancer:<version>]  (run as root or not; no daemon needed)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=pgbalancer/target/image-root
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
jar=pgbalancer/target/pgbalancer.jar

./mvnw -B -ntp -q -pl pgbalancer -am package -DskipTests
[ -f "$jar" ] || { echo "build.sh: $jar was not built" >&2; exit 1; }

rm -rf "$root"
mkdir -p "$root/opt" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
# the modules the application uses (jdeps), plus the ones loaded by name at run time (TLS, DNS, JMX)
modules=$("$java_home/bin/jdeps" --ignore-missing-deps --multi-release 17 --print-module-deps "$jar" 2>/dev/null)
modules="$modules,jdk.crypto.ec,jdk.naming.dns,jdk.management,jdk.unsupported,java.security.jgss"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=2 --output "$root/opt/java"

# the shared libraries the runtime needs, at the paths the loader looks for them
copy_lib() {
  local lib=$1
  case "$lib" in /lib/*|/lib64/*|/usr/lib/*) ;; *) return 0 ;; esac # the runtime's own libraries are there already
  [ -e "$root$lib" ] && return 0
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
}
# (not the desktop's: java.beans brings java.desktop, whose X11, sound and font libraries a server never loads)
for bin in "$root"/opt/java/bin/java $(find "$root/opt/java/lib" -name '*.so' ! -name 'libawt*' ! -name '*jsound*' \
    ! -name '*splashscreen*' ! -name '*fontmanager*' ! -name '*lcms*' ! -name '*javajpeg*'); do
  ldd "$bin" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do copy_lib "$lib"; done
done
for extra in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 \
             /lib/x86_64-linux-gnu/libresolv.so.2; do
  [ -e "$extra" ] && copy_lib "$extra"
done

cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
pgbalancer:x:10001:10001:pgbalancer:/tmp:/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
pgbalancer:x:10001:
GROUP
echo 'hosts: files dns' > "$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"

# -am: the sibling modules come from this build, not from a local repository that may not hold them
./mvnw -B -ntp -q -pl pgbalancer -am package jib:buildTar -DskipTests ${1:+-Djib.to.image="$1"}
echo "built pgbalancer/target/jib-image.tar"
