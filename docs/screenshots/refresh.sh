#!/usr/bin/env bash
# Refreshes the dashboard screenshots in this folder: the browser tests take them as they go
# (as root, with Debian's chromium; deploy/install-deps.sh --test installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
PORTSENTINEL_SCREENSHOTS="$PWD/docs/screenshots" dotnet test tests/PortSentinel.Tests --filter "FullyQualifiedName~Web.BrowserTests"
