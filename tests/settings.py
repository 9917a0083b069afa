"""The project's settings as development runs them (DEBUG on: no HTTPS redirect, no secure-only
cookies for the browser tests' plain-HTTP server, the development SECRET_KEY allowed).

DEBUG must be in the environment before qualify.settings is read, and pytest-django reads it before
any conftest runs, hence this module. Tests that need production behaviour set it per test or start
a subprocess with DEBUG=false.
"""

import os

os.environ.setdefault("DEBUG", "true")

from qualify.settings import *  # noqa: E402,F403
