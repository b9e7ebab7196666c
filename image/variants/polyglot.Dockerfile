# The `polyglot` variant of dgm-sandbox: the toolchains the Polyglot exercises
# are tested with, all from Debian bookworm packages (docs/coding-suites.md).
# Built by `dgm sandbox build --with polyglot` FROM the current dgm-sandbox
# tag; only this build reaches the Debian mirror, the containers run offline.
#   go test: golang-go 1.19    cargo test --offline: rustc 1.63 / cargo 0.66
#   C++: g++ 12, cmake, make, catch2 2.13  JavaScript: nodejs 18 + jest 29 (+ babel 7)
#   Java: openjdk 17, javac + the JUnit 5 console launcher, AssertJ
ARG BASE_IMAGE=dgm-sandbox
FROM ${BASE_IMAGE}
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      golang-go rustc cargo g++ make cmake catch2 \
      nodejs jest node-babel7 \
      openjdk-17-jdk-headless junit5 libassertj-core-java \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && go version && cargo --version && g++ --version | head -1 && cmake --version | head -1 \
 && node --version && javac -version
ENV GOPROXY=off GOTOOLCHAIN=local GOCACHE=/tmp/go-cache CARGO_HOME=/tmp/cargo \
    NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs
USER 1000:1000
