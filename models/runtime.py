"""Process start-up of the domain layer: logging, database, rate-limit storage."""
from __future__ import annotations

import logging

from models import db, ratelimit


def configure(settings) -> None:
    """Binds the database and rate limits of `settings`; every role calls it once at start."""
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db.bind(settings)
    ratelimit.configure(settings.redis_url)
