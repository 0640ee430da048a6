#!/usr/bin/env bash
# Godot 4 for tests/engines: Debian 12 has no Godot 4 and Debian unstable's needs a newer glibc, so this
# unpacks unstable's godot and its libraries (glibc included) into a private root and runs it through that
# root's own loader, touching nothing of the system's (apt state and sources stay in DEST/apt).
#   bash tests/engines/install_godot.sh [DEST]   (default .godot-root; then DEST/godot is the command)
set -euo pipefail
dest=$(realpath -m "${1:-.godot-root}")
rm -rf "$dest"
apt_dir=$dest/apt
mkdir -p "$apt_dir/sources" "$apt_dir/prefs" "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" \
         "$dest/debs" "$dest/root"
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: sid\nComponents: main\nSigned-By: %s\n' \
       /usr/share/keyrings/debian-archive-keyring.gpg > "$apt_dir/sources/sid.sources"
opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt_dir/sources"
      -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$apt_dir/prefs"
      -o Dir::State="$apt_dir/state" -o Dir::Cache="$apt_dir/cache" -o Dir::State::status=/dev/null
      -o APT::Architecture=amd64 -o APT::Sandbox::User=root)
apt-get "${opts[@]}" -qq update
# godot's whole dependency closure, less what a headless run never loads (fonts, debconf, GPU drivers).
pkgs=$(apt-cache "${opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
         --no-replaces --no-enhances godot | grep -v '^[ <]' | sort -u |
       grep -vE '^(fonts-|xfonts-|cdebconf|debconf|libdebian-installer|libnewt|libslang|libtextwrap|sysvinit-utils|lsb-base|pci.ids|readline-common|mesa-libgallium|libllvm|libz3-)')
(cd "$dest/debs" && apt-get "${opts[@]}" -qq download $pkgs)
for deb in "$dest"/debs/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
rm -rf "$dest/debs" "$apt_dir"
lib=$dest/root/usr/lib/x86_64-linux-gnu
cat > "$dest/godot" <<EOF
#!/bin/sh
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib:$lib/pulseaudio" "$dest/root/usr/bin/godot" "\$@"
EOF
chmod +x "$dest/godot"
"$dest/godot" --headless --version
