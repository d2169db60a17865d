# One image for every mode: axontask serve | worker | migrate | dev.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/axontask ./cmd/axontask

FROM debian:bookworm-slim
# The shell executor runs tasks' commands in bubblewrap sandboxes: give them
# bwrap, a shell and the usual tools.
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap bash ca-certificates coreutils procps \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/axontask axontask
COPY --from=build /out/axontask /usr/local/bin/axontask
USER axontask
WORKDIR /var/lib/axontask
ENV API_HOST=0.0.0.0 API_PORT=8080
EXPOSE 8080
ENTRYPOINT ["axontask"]
CMD ["serve"]
