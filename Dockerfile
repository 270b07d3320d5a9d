# Build a static binary, then run it as a non-root user in a minimal image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/loopbook .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/loopbook /loopbook
USER nonroot:nonroot
ENTRYPOINT ["/loopbook"]
