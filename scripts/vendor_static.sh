#!/bin/sh
# Copy the front-end libraries that npm installed (package.json + lock) into static files.
# Nothing third-party is committed: wangge/static/vendor is ignored by git.
set -eu
dest=wangge/static/vendor
rm -rf "$dest"
mkdir -p "$dest/leaflet" "$dest/htmx"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css "$dest/leaflet/"
cp -r node_modules/leaflet/dist/images "$dest/leaflet/images"
cp node_modules/leaflet/LICENSE "$dest/leaflet/LICENSE"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx/"
cp node_modules/htmx.org/LICENSE "$dest/htmx/LICENSE"
