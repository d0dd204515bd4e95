# The reimbursement rules service. Build: docker build -t utomlans .   Run: docker run -p 8000:8000 utomlans
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BIND=0.0.0.0:8000 \
    DATABASE_PATH=/var/lib/utomlans/decisions.sqlite3

WORKDIR /app
COPY pyproject.toml ./
COPY rules ./rules
COPY api ./api
COPY migrations ./migrations
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin utomlans \
    && mkdir -p /var/lib/utomlans \
    && chown utomlans /var/lib/utomlans

# The decision log: SQLite here unless DATABASE_URL points at PostgreSQL. Mount a volume to keep it.
VOLUME ["/var/lib/utomlans"]

USER utomlans
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"]
CMD ["gunicorn", "-c", "api/gunicorn.conf.py", "api:create_app()"]
