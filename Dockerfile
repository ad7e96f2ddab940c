# Build: the release binary, with SQLite built in and libpq linked.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
# Cargo.toml names the test and bench targets, so their files come along.
COPY tests ./tests
COPY benches ./benches
RUN cargo build --profile dist --locked

# Run: a slim image, a non-root user, the data directory as a volume.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data arkiv \
    && mkdir -p /data && chown arkiv /data
COPY --from=build /src/target/dist/arkiv /usr/local/bin/arkiv
USER arkiv
ENV ARKIV_DATA_DIR=/data ARKIV_BIND=0.0.0.0:8080 ARKIV_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["arkiv"]
CMD ["serve"]
