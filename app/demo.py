"""`make demo`: migrate the embedded SQLite database and serve the app on 127.0.0.1:8000."""

from __future__ import annotations

import os

from app import create_app
from app.migrate import upgrade_head


def main() -> None:
    """Prepare the database and serve until interrupted."""
    app = create_app()
    runtime = app.extensions["runtime"]
    upgrade_head(runtime.settings.database_url)
    port = int(os.environ.get("PORT", "8000"))
    print(f"Loyalty Loop demo on http://127.0.0.1:{port}/healthz  (Ctrl-C stops)")
    app.run(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
