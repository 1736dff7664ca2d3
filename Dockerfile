# The init container's image: a static usersync on an empty base, run as
# uid 65532, writing nothing outside the database path (so it runs with a
# read-only root filesystem). `make image` builds it:
#   docker build --build-arg VERSION=v1.2.3 -t usersync:v1.2.3 .
# Defaults in the image: `usersync up`, the users file at
# /secrets/users.json (where the Helm chart mounts its Secret), and /data as
# the working directory, where the default SQLite URL
# (sqlite://barycenter.db?mode=rwc) lands; mount a volume there to use SQLite.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The same command as `make build-static` (deploy/image_test.go checks it).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o bin/usersync ./cmd/usersync
# The runtime filesystem: the binary, CA certificates for PostgreSQL over
# TLS, a passwd entry for uid 65532, and the two directories it may use.
RUN mkdir -p /rootfs/usr/local/bin /rootfs/etc/ssl/certs /rootfs/data /rootfs/tmp /rootfs/secrets \
 && cp bin/usersync /rootfs/usr/local/bin/usersync \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && echo 'nonroot:x:65532:65532:nonroot:/data:/sbin/nologin' > /rootfs/etc/passwd \
 && echo 'nonroot:x:65532:' > /rootfs/etc/group \
 && chmod 1777 /rootfs/tmp

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build --chown=65532:65532 /rootfs/data /data
ENV PATH=/usr/local/bin \
    USERS_FILE=/secrets/users.json
USER 65532:65532
WORKDIR /data
ENTRYPOINT ["usersync"]
CMD ["up"]
