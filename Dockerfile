# syntax=docker/dockerfile:1
# Multi-stage build: a static playbookd binary on a distroless base, run as a
# non-root user. The same image serves `api`, `worker` and `migrate`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags="-s -w" -o /out/playbookd ./cmd/playbookd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/playbookd /usr/local/bin/playbookd
USER nonroot:nonroot
ENV HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/playbookd"]
CMD ["api"]
