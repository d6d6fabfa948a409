"""HTTP blueprints: parse, call the domain, respond."""

from __future__ import annotations

from flask import Flask

from app.config import Settings


def register_blueprints(app: Flask, settings: Settings) -> None:
    """Attach every blueprint the settings allow, and the answers to errors they raise."""
    from app.web.converters import IdConverter
    from app.web.responses import register_error_handlers

    # Before any rule is added: rules resolve their converters when they are registered.
    app.url_map.converters["id"] = IdConverter
    register_error_handlers(app)
    from app.web.account_api import bp as account_api
    from app.web.account_previews import register_account_previews
    from app.web.admin import register_admin
    from app.web.auth import bp as auth
    from app.web.checkout_api import bp as checkout_api
    from app.web.checkout_rewards import bp as checkout_rewards
    from app.web.dev_admin import register_dev_admin
    from app.web.engagement import bp as engagement
    from app.web.engagement import reviews_proxy as engagement_reviews
    from app.web.flow_actions import bp as flow_actions
    from app.web.health import bp as health
    from app.web.pos_api import bp as pos_api
    from app.web.pos_previews import register_pos_previews
    from app.web.previews import register_previews
    from app.web.proxy import bp as proxy
    from app.web.webhooks import bp as webhooks

    app.register_blueprint(account_api)
    app.register_blueprint(auth)
    app.register_blueprint(checkout_api)
    app.register_blueprint(checkout_rewards)
    app.register_blueprint(engagement)
    app.register_blueprint(engagement_reviews)
    app.register_blueprint(flow_actions)
    app.register_blueprint(health)
    app.register_blueprint(pos_api)
    app.register_blueprint(proxy)
    app.register_blueprint(webhooks)
    register_previews(app, settings)
    register_account_previews(app, settings)
    register_pos_previews(app, settings)
    register_admin(app)
    register_dev_admin(app, settings)
