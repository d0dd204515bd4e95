"""Swagger UI at /docs from files shipped in api/docs/: no CDN (hospital networks block them)."""

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"

blp = Blueprint("swagger_ui", __name__)

# Swagger UI runs from these files alone: its scripts and styles (no inline ones: the initializer
# is a file of its own), images from here or data: URLs (its CSS has some), and calls to this
# server only (/openapi.json, "Try it out").
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


@blp.after_request
def security_headers(response):
    """Each file is what its content type says (nosniff); the page runs nothing but these files."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@blp.route("/")
def root():
    """A person who opens the service's address lands on its documentation."""
    return redirect("/docs", code=302)


@blp.route("/docs")
@blp.route("/docs/")
def index():
    return send_from_directory(DOCS_DIR, "index.html", max_age=0)


@blp.route("/docs/<path:filename>")
def asset(filename):
    return send_from_directory(DOCS_DIR, filename, max_age=3600)
