from fastapi import APIRouter

router = APIRouter()
internal_router = APIRouter()
