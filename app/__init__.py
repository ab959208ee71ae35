"""create_app(): configuration, extensions, blueprints and CLI — nothing else."""
import logging
import os
import secrets

from flask import Flask

import ivr

from . import api, cli, desk, replica, web
from .config import Config
from .extensions import babel, compress, csrf, db, migrate
from .proxies import TrustedProxies
from .services.agents import check_settings
from .web import locale


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder=None)
    app.config.from_object(Config)
    if overrides:
        app.config.update(overrides)
    check_settings(app.config)  # a wrong OPENING_HOURS or AGENT_NUMBER stops the app here, in plain words
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _local_secret(app.instance_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"],
                                      app.config["TRUSTED_PROXY_ADDRESSES"])
    db.init_app(app)
    app.teardown_appcontext(replica.close)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=locale.select_locale)

    web.register(app)
    desk.register(app)
    api.register(app)
    ivr.register(app)
    cli.register(app)
    return app


def _local_secret(instance_path: str) -> str:
    """For the demo and development: one random key kept on disk, shared by every worker."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()
