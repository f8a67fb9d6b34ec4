"""The campaigns API under /api/v1/ (handlers translate; services and selectors decide)."""

from ninja import Router

router = Router(tags=["campaigns"])
