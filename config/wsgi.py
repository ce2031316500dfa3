import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Everything loaded so far (Django, the apps, pandas, plotly) lives as long as the process: move it
# out of the collector's sight, so that a full collection walks only what requests allocate. Without
# it, one request in twenty of a large page (the funding editor's ~500 inputs) paid a full
# collection of the whole heap: p95 182 ms against a median of 67 ms (bench/pages.py).
gc.freeze()
