"""WSGI entry point, for deployments behind a WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga.config.settings")
application = get_wsgi_application()
