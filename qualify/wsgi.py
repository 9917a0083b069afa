import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualify.settings")
application = get_wsgi_application()

from qualify.checks import require_static_manifest  # noqa: E402 (needs the settings loaded above)
from qualify.process import freeze_startup_objects  # noqa: E402

# Refuse to start rather than answer every page with a 500.
require_static_manifest()
freeze_startup_objects()
