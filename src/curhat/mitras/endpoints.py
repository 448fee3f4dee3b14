from fastapi import APIRouter

router = APIRouter()  # /api/mitra/status, /api/mitra/me
