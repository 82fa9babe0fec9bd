import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from covidhub.core.gcconfig import web_process_gc_set
from covidhub.portal.wsgi import portal_fast_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The public portal's cached pages and open-data files are answered before Django's
# middleware once Django has produced them (covidhub/portal/wsgi.py says when).
application = portal_fast_path(get_wsgi_application())

# What a server process loads once and keeps (settings, models, the URLconf with every
# view it imports: about 280,000 objects) is moved out of the cyclic garbage collector's
# reach (its full collections walked all of it every few dozen requests: 0.4 ms of each
# Patient/$everything), and the collector's thresholds are set (covidhub/core/gcconfig.py).
get_resolver().url_patterns  # noqa: B018 - imports the views now, not at the first request
web_process_gc_set()
