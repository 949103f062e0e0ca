"""Unbound extension objects; create_app() binds them to the application."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

import participation.core.ratelimit  # noqa: F401  (the "participation+redis" storage scheme)
from participation.core.db import AppSession, Base

db = SQLAlchemy(model_class=Base, session_options={"class_": AppSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
