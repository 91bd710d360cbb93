"""Settings: `base` for every environment, plus `production` when ATELIER_ENV=production."""
import os

from .base import *  # noqa: F401,F403

if os.environ.get("ATELIER_ENV") == "production":
    from .production import *  # noqa: F401,F403
