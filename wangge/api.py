"""The REST API: one NinjaAPI, with each module's router mounted under /api/v1/."""

from ninja import NinjaAPI

from wangge.campaigns.api import router as campaigns_router
from wangge.core.api import ApiDocs, api_auth, docs_login_required, install_error_handlers
from wangge.core.api_routes import router as core_router
from wangge.dashboard.api import router as dashboard_router
from wangge.events.api import router as events_router
from wangge.ledger.api import router as ledger_router
from wangge.linkage.api import router as linkage_router
from wangge.regions.api import router as regions_router
from wangge.teams.api import router as teams_router

api = NinjaAPI(
    title="wangge API",
    version="1",
    description="网格化基层治理平台 wangge — REST API. Errors: {code, message, details}.",
    auth=api_auth(),
    urls_namespace="api",
    docs_url="/docs",
    docs=ApiDocs(),
    docs_decorator=docs_login_required,
)
install_error_handlers(api)
api.add_router("", core_router)
api.add_router("", regions_router)
api.add_router("", teams_router)
api.add_router("", ledger_router)
api.add_router("", events_router)
api.add_router("", campaigns_router)
api.add_router("", linkage_router)
api.add_router("", dashboard_router)
