# MyElectricalData local client: Home Assistant add-on and plain Docker image.
# The supervisor no longer passes BUILD_FROM (2026.04+): the default below is the one used.
ARG BUILD_FROM=ghcr.io/home-assistant/base-python:3.13-alpine3.23

# Chart assets (uPlot bundle), built from the npm lock file on the build machine's own platform (the
# output is the same for every architecture); only the output enters the image. Node 24 is the
# active LTS line.
FROM --platform=$BUILDPLATFORM node:24-alpine AS frontend
WORKDIR /build/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

FROM ${BUILD_FROM}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data

WORKDIR /usr/src/myelectricaldata
# Pinned dependencies first (a cached layer), then the package itself without resolving again.
COPY requirements.lock ./
RUN pip3 install --no-cache-dir --disable-pip-version-check -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY --from=frontend /build/app/web/static/dist ./app/web/static/dist
# The program only writes /data (database, backup socket) and /tmp: its code is compiled here, owned
# by root and read-only, so nothing under /usr is written at run time.
RUN pip3 install --no-cache-dir --disable-pip-version-check --no-deps . \
    && python3 -m compileall -q app \
    && chmod -R a-w /usr/src/myelectricaldata \
    && mkdir -p /data

COPY rootfs /

ARG BUILD_ARCH=amd64
ARG BUILD_VERSION=0.5.0
LABEL io.hass.version="${BUILD_VERSION}" \
    io.hass.type="addon" \
    io.hass.arch="${BUILD_ARCH}" \
    org.opencontainers.image.title="MyElectricalData local client" \
    org.opencontainers.image.licenses="Apache-2.0"

# 8080: the web UI (standalone, or the add-on's optional direct port); 8099: add-on ingress.
EXPOSE 8080 8099
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python3", "-m", "app.healthcheck"]
