#!/bin/sh
# Fetch the LibreOffice help in English and French from Debian (about 5 MB of packages, 61 MB unpacked) and
# unpack it into a folder you choose, for the English -> French parallel corpus
# (text/readers/libreoffice_help.ts: readLibreOfficeHelp(DIR) pairs ~65k segments by page and id;
# ~51k with different sides, ~34k unique).
#
#   sh examples/get_libreoffice_help.sh [DIR]        # default DIR: ./data/libreoffice-help
#
# Needs apt-get (Debian/Ubuntu; no root needed for `apt-get download`) and dpkg-deb. Other languages:
# LANGS="en-us de" sh examples/get_libreoffice_help.sh  (package names are libreoffice-help-<lang>).
set -eu
dir=${1:-data/libreoffice-help}
langs=${LANGS:-"en-us fr"}
mkdir -p "$dir/debs"
cd "$dir/debs"
for lang in $langs; do
  apt-get download "libreoffice-help-$lang"
done
cd ..
for deb in debs/*.deb; do
  dpkg-deb -x "$deb" .
done
echo "help pages in $(pwd)/usr/share/libreoffice/help: $(ls usr/share/libreoffice/help | tr '\n' ' ')"
echo "read them with: readLibreOfficeHelp(\"$(pwd)\")"
