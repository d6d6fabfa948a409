"""The one error shape every endpoint answers with (design.md §4)."""

from __future__ import annotations

from flask import Response, jsonify


def error(code: str, message: str, status: int) -> tuple[Response, int]:
    """JSON `{"error": code, "message": message}` with its status."""
    return jsonify({"error": code, "message": message}), status
