from fastapi import APIRouter

router = APIRouter()  # /internal/mitras
