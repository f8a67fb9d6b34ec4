from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wangge.core.scope import scope_for
from wangge.regions import basemap, selectors
from wangge.regions.basemap import tile_url


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    """The region tree from the top of the user's scope down, with grid counts."""
    scope = scope_for(request.user)
    roots = list(selectors.region_roots(actor=scope))
    counts = (
        selectors.grid_counts_by_prefix(actor=scope, prefixes=[r.code for r in roots])
        if roots
        else {}
    )
    nodes = [
        {"region": r, "grids": counts.get(r.code, 1 if r.level == "grid" else 0)} for r in roots
    ]
    return render(request, "regions/tree.html", {"nodes": nodes})


@login_required
def children(request: HttpRequest, code: str) -> HttpResponse:
    """htmx fragment: the children of one node, expanded in place."""
    scope = scope_for(request.user)
    region = selectors.region_get(actor=scope, code=code)
    rows = selectors.region_children_with_counts(actor=scope, region=region)
    return render(request, "regions/_children.html", {"rows": rows})


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = scope_for(request.user)
    region = selectors.region_get(actor=scope, code=code)
    boundary = selectors.boundary_current(actor=scope, region=region)
    is_grid = region.level == "grid"
    context = {
        "region": region,
        "boundary": boundary,
        "boundary_json": boundary.geojson if boundary else "null",
        "ancestors": selectors.region_ancestors(actor=scope, region=region),
        "children": selectors.region_children_with_counts(actor=scope, region=region)
        if not is_grid
        else [],
        "neighbours": selectors.neighbours(actor=scope, grid=region) if is_grid else [],
        "crosswalk": selectors.crosswalk_for_grid(actor=scope, grid=region) if is_grid else [],
        "history": selectors.boundary_history(actor=scope, region=region),
        "successions": selectors.successions(actor=scope, code=region.code),
        "tile_url": tile_url(),
        # What is in the grid, from the modules above (residents, events …), in scope.
        "figures": selectors.grid_figures_of(actor=scope, code=region.code) if is_grid else [],
    }
    return render(request, "regions/detail.html", context)


@login_required
def map_view(request: HttpRequest) -> HttpResponse:
    selectors.regions_visible(actor=scope_for(request.user))
    return render(
        request,
        "regions/map.html",
        {"tile_url": tile_url(), "tile_url_json": json.dumps(tile_url())},
    )


@login_required
def layers(request: HttpRequest) -> HttpResponse:
    layers = selectors.layer_list(actor=scope_for(request.user))
    return render(request, "regions/layers.html", {"layers": layers})


@login_required
def layer_detail(request: HttpRequest, slug: str) -> HttpResponse:
    scope = scope_for(request.user)
    layer = selectors.layer_get(actor=scope, slug=slug)
    threshold = settings.STRADDLE_THRESHOLD
    rows = selectors.straddling_grids(actor=scope, layer=layer, threshold=threshold)
    return render(
        request,
        "regions/layer.html",
        {"layer": layer, "rows": rows, "threshold_pct": round(threshold * 100)},
    )


def tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    """One tile of the district's own basemap file, for every map (the residents' too: a
    basemap holds no personal data). No tile there: 204, which the map leaves blank."""
    found = basemap.tile(z, x, y)
    if found is None:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse(found[0], content_type=found[1])
    response["Cache-Control"] = "public, max-age=86400"
    return response
