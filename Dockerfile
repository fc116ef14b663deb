FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /rpserver ./cmd/rpserver

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /rpserver /rpserver
EXPOSE 8080
ENTRYPOINT ["/rpserver", "serve", "-listen", "0.0.0.0:8080"]
