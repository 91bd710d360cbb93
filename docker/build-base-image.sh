#!/usr/bin/env bash
# Builds Atelier's base image for step containers without any image registry:
# `debootstrap` a minimal Debian root with python3, then `docker import` it.
#
#     docker/build-base-image.sh        # prints the image tag
#
# The tag carries a digest of this script (atelier-base:bookworm-<digest>), so editing
# the script makes a new image, and running it again when that image exists does
# nothing. `atelier-base:bookworm` always points at the newest build: it is the default
# of ATELIER_DOCKER_BASE_IMAGE. A deployment that can reach a registry may set
# ATELIER_DOCKER_BASE_IMAGE=python:3.11-slim instead and skip this script.
#
# Needs root, debootstrap and a reachable Debian mirror (DEBIAN_MIRROR, else
# debootstrap's default). Bookworm's python3 is 3.11, the Python Atelier runs on, so
# the same module code and wheels work inside and outside containers.
set -euo pipefail

SUITE=bookworm
# python3 and nothing else: environments install their packages from wheels, and
# manylinux wheels need only the C and C++ runtimes that minbase already has.
PACKAGES=python3
ALIAS="atelier-base:$SUITE"
TAG="$ALIAS-$(sha256sum "$0" | cut -c1-12)"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  docker tag "$TAG" "$ALIAS"
  echo "$TAG"
  exit 0
fi

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >&2
# Steps never install system packages: drop the package caches, docs and locales.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1' \
  --change 'CMD ["python3"]' \
  - "$TAG" >&2
docker tag "$TAG" "$ALIAS"
echo "$TAG"
