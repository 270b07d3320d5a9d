# syntax=docker/dockerfile:1
# Loopbook in a container: a static binary (CGO_ENABLED=0) in a minimal image, run as a
# non-root user.
#
#   docker build -t loopbook .
#   docker run --rm -p 8888:8888 -v loopbook:/home/nonroot/Loopbook loopbook
#
# Inside the container the server listens on 0.0.0.0, so it requires an access token: it prints
# http://127.0.0.1:8888/?token=… (see `docker logs`), or set a known one with
# -e LOOPBOOK_TOKEN=<at least 16 characters>. The health check runs `loopbook healthcheck`,
# which asks /healthz on the port of $LOOPBOOK_ADDR (the image has no shell and no curl).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/loopbook . && mkdir -p /out/Loopbook

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/loopbook /loopbook
# The notebooks directory, owned by the user that runs the server (a volume mounted here
# starts with this ownership).
COPY --from=build --chown=65532:65532 /out/Loopbook /home/nonroot/Loopbook
USER 65532:65532
ENV LOOPBOOK_ADDR=0.0.0.0:8888
EXPOSE 8888
VOLUME ["/home/nonroot/Loopbook"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/loopbook", "healthcheck"]
ENTRYPOINT ["/loopbook"]
CMD ["-notebooks", "/home/nonroot/Loopbook"]
