"""Shared helpers every domain uses: pages, locks, validators, pub/sub loops."""
