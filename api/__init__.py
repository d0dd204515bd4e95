"""The HTTP service around rules/: `gunicorn -c api/gunicorn.conf.py 'api:create_app()'`.

The factory lives in api/app.py and is imported when called, so that `import api.<module>` (the
gunicorn config, `python -m api.keys`, `python -m api.storage`) stays light.
"""


def create_app(config: dict | None = None):
    """The Flask app (see api/app.py)."""
    from .app import create_app as build

    return build(config)
