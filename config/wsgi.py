import os

from django.core.wsgi import get_wsgi_application

from covidhub.portal.wsgi import portal_fast_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The public portal's cached pages and open-data files are answered before Django's
# middleware once Django has produced them (covidhub/portal/wsgi.py says when).
application = portal_fast_path(get_wsgi_application())
