"""The ledger's API: people and households, organisations, things, addresses, imports."""

from ninja import Router

from wangge.ledger.api.imports import router as imports_router
from wangge.ledger.api.merges import router as merges_router
from wangge.ledger.api.people import router as people_router
from wangge.ledger.api.places import router as places_router

router = Router(tags=["ledger"])
router.add_router("", people_router)
router.add_router("", places_router)
router.add_router("", imports_router)
router.add_router("", merges_router)
