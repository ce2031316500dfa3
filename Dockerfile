# The production image: one image for web (gunicorn), worker and beat; see docker-compose.yml.
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY portfolio ./portfolio
COPY valuestreams ./valuestreams
COPY teams ./teams
COPY leanpmo ./leanpmo
RUN pip install --no-cache-dir .
COPY manage.py ./
COPY templates ./templates
COPY static ./static
# hashed file names, gzip and brotli copies: served with a far-future immutable Cache-Control
RUN SECRET_KEY=build python manage.py collectstatic --noinput -v0
RUN useradd --system steward
USER steward
EXPOSE 8000
# WEB_CONCURRENCY worker processes (default: CPU cores + 1; in a container with a CPU limit, set it
# to the limit + 1) of WEB_THREADS threads each (default 4): config/gunicorn.py
CMD ["gunicorn", "--config", "python:config.gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000"]
