# blendbot's image: `blendbot serve` as a non-root user, healthy while /healthz answers 200.
# Build: docker build -t blendbot . (or podman build); run several with compose.yaml.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/blendbot
WORKDIR /src
# The locked dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN /opt/blendbot/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY blending ./blending
COPY queues ./queues
COPY telephony_adapters ./telephony_adapters
COPY task_sources ./task_sources
COPY simulation ./simulation
COPY standins ./standins
COPY clock ./clock
COPY migrations ./migrations
RUN /opt/blendbot/bin/pip install --no-deps --no-build-isolation . \
    && /opt/blendbot/bin/blendbot --help > /dev/null

FROM python:3.11-slim-bookworm
RUN useradd --system --create-home --uid 10001 --shell /usr/sbin/nologin blendbot \
    && mkdir -p /var/lib/blendbot \
    && chown blendbot /var/lib/blendbot
COPY --from=build /opt/blendbot /opt/blendbot
ENV PATH=/opt/blendbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BLENDBOT_HOST=0.0.0.0 \
    BLENDBOT_PORT=8080 \
    BLENDBOT_DATA_DIR=/var/lib/blendbot
USER blendbot
WORKDIR /var/lib/blendbot
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BLENDBOT_PORT', '8080') + '/healthz', timeout=2)"]
# serve drains on SIGTERM: the listener closes, requests in progress finish, then it exits.
STOPSIGNAL SIGTERM
CMD ["blendbot", "serve"]
