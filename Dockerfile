# No Surprises as a container: slim, non-root, health-checked on /healthz.
#   docker build -t nosurprises .
#   docker compose up          (with PostgreSQL; see compose.yaml and README "Running in production")

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml requirements.lock README.md config.example.toml ./
COPY bot ./bot
COPY adapters ./adapters
# Only the runtime dependencies, at the versions pinned in requirements.lock.
RUN python -m venv /opt/nosurprises \
 && /opt/nosurprises/bin/pip install --no-cache-dir --disable-pip-version-check \
      --constraint requirements.lock .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/nosurprises --create-home \
      nosurprises
COPY --from=build /opt/nosurprises /opt/nosurprises
# The example config as a default; mount the council's own over it.
COPY config.example.toml /etc/nosurprises/config.toml
ENV PATH=/opt/nosurprises/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NOSURPRISES_HOST=0.0.0.0 \
    NOSURPRISES_PORT=3978
WORKDIR /var/lib/nosurprises
USER nosurprises
EXPOSE 3978
# /healthz answers 503 only when the database is unreachable; urlopen fails on it, so does this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3978/healthz', timeout=4)"]
ENTRYPOINT ["nosurprises"]
CMD ["--config", "/etc/nosurprises/config.toml", "serve", "--log-format", "json"]
