"""Delivery of engagement messages: Jinja2 templates (HTML and text), SMTP, and the dispatcher
that sends what the schedule says is due, after the rules in app/engagement/ allow it."""
