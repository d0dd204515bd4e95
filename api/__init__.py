"""The HTTP service around rules/: `gunicorn -c api/gunicorn.conf.py 'api:create_app()'`.

The factory lives in api/app.py and is imported when called, so that `import api.<module>` stays
light: the batch helper process (api/batch_helper) imports a few pure modules of this package and
none of the web stack, storage or schemas.
"""


def create_app(config: dict | None = None):
    """The Flask app (see api/app.py)."""
    from .app import create_app as build

    return build(config)
