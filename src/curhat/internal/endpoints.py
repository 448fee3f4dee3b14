"""Read-only and CRUD control-center endpoints not owned by another domain."""

from fastapi import APIRouter

router = APIRouter()
