"""Where the sample that proves the data path lives: one image for both web front ends.

`sample_app/` is a Go server (built for linux/arm64 and linux/amd64) whose `/data` endpoint
connects to PostgreSQL and to Valkey over TLS and reports what it reached, never a secret.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_APP_DIR = Path(__file__).resolve().parent / "sample_app"

# The environment variables the sample reads (the stacks set them; the secret one only as a secret).
DATABASE_SECRET_VARIABLE = "DB_SECRET"  # the JSON of the generated credentials (host, port, username, ...)
DATABASE_NAME_VARIABLE = "DB_NAME"  # the database to connect to (not in the generated secret)
VALKEY_VARIABLE = "VALKEY_ENDPOINT"  # host:port of the primary endpoint
VALKEY_READER_VARIABLE = "VALKEY_READER_ENDPOINT"  # host:port of the reader endpoint
PORT = 8080
