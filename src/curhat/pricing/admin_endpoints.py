from fastapi import APIRouter

router = APIRouter()  # /internal/price-tiers
