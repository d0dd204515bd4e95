"""Headless Debian Chromium for the browser tests (installed by scripts/test-services.sh).

The flags keep it off this machine's closed network: without the background-networking ones it
keeps trying to reach Google's hosts."""

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
