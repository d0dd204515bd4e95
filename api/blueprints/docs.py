"""Swagger UI at /docs from files shipped in api/docs/: no CDN (hospital networks block them)."""

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"

blp = Blueprint("swagger_ui", __name__)


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
