FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /rpserver ./cmd/rpserver
# The data folder (master key, lab CA, server.json) must belong to the
# runtime user: distroless has no shell to chown at run time, and a new named
# volume mounted on /data takes the owner and mode of the image's /data.
RUN mkdir -p /out/data /out/trust-anchors && chmod 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /rpserver /rpserver
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/trust-anchors /etc/rpserver/trust-anchors
USER 65532:65532
ENV RPSERVER_DATA_DIR=/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/rpserver", "healthcheck"]
ENTRYPOINT ["/rpserver", "serve", "-listen", "0.0.0.0:8080"]
