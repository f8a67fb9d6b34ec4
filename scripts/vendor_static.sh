#!/bin/sh
# Copy the front-end libraries that npm installed (package.json + lock) into static files.
# Nothing third-party is committed: wangge/static/vendor is ignored by git.
set -eu
dest=wangge/static/vendor
rm -rf "$dest"
mkdir -p "$dest/leaflet" "$dest/htmx" "$dest/swagger-ui"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css "$dest/leaflet/"
cp -r node_modules/leaflet/dist/images "$dest/leaflet/images"
cp node_modules/leaflet/LICENSE "$dest/leaflet/LICENSE"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx/"
cp node_modules/htmx.org/LICENSE "$dest/htmx/LICENSE"
sui=node_modules/swagger-ui-dist
# The CSS names its source map, which the manifest storage insists on finding beside it.
cp "$sui/swagger-ui-bundle.js" "$sui/swagger-ui.css" "$sui/swagger-ui.css.map" "$dest/swagger-ui/"
cp "$sui/LICENSE" "$sui/NOTICE" "$dest/swagger-ui/"
mkdir -p "$dest/echarts"
cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE node_modules/echarts/NOTICE "$dest/echarts/"
