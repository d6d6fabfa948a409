"""The merchant admin inside Shopify: small blueprints under /admin, each behind a session token.

`register_admin(app)` attaches them all; templates live in app/templates/admin/.
"""

from __future__ import annotations

from flask import Flask

from app.loyalty.labels import number_label


def register_admin(app: Flask) -> None:
    """Attach the admin pages and their fetch endpoints."""
    from app.web.admin.billing import bp as billing
    from app.web.admin.cohorts import bp as cohorts
    from app.web.admin.customers import bp as customers
    from app.web.admin.dashboard import bp as dashboard
    from app.web.admin.effect import bp as effect
    from app.web.admin.engagement import bp as engagement
    from app.web.admin.experiments import bp as experiments
    from app.web.admin.history import bp as history
    from app.web.admin.imports import bp as imports
    from app.web.admin.pages import bp as pages
    from app.web.admin.referrals import bp as referrals
    from app.web.admin.rewards import bp as rewards
    from app.web.admin.settings import bp as settings

    for blueprint in (pages, settings, rewards, customers, dashboard, effect, cohorts,
                      experiments, engagement, referrals, history, billing, imports):
        app.register_blueprint(blueprint)
    # Decimals as people write them (1234567, 0.00001), where '%g' gives 1.23457e+06.
    app.add_template_filter(number_label, "number")
