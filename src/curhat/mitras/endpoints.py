from fastapi import APIRouter

router = APIRouter()  # /api/mitra/status, /api/mitra/me
internal_router = APIRouter()  # /internal/mitras
