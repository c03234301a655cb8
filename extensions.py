"""Flask extensions, created unbound here and bound to an app in ``create_app``.

Keeping them in their own module lets models, services and blueprints import
them without importing the application factory (and so without import cycles).
"""
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic names constraints stably."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Counters live in RATELIMIT_STORAGE_URI: Redis when REDIS_URL is set, so every app
# server shares them; memory otherwise (one process, development).
limiter = Limiter(key_func=get_remote_address)

babel = Babel()
# The overview's cache (evaluation/results/overview_cache.py): Redis when REDIS_URL is set, else per process.
cache = Cache()
