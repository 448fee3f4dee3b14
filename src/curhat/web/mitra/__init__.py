"""The mitra (bestie) web app at ``/mitra/``."""
