"""The garbage collector of a web server process, set once at start-up (config/wsgi.py).

What a server process loads once and keeps (settings, models, the URLconf with every view
it imports: about 280,000 objects) is moved out of the cyclic collector's reach
(`gc.freeze`): its full collections walked all of it every few dozen requests.

Then the thresholds (`WEB_GC_THRESHOLD`). With Python's default (a young collection every
2,000 container objects made and not yet freed), a request that builds a large answer
(a `Patient/$everything` Bundle holds about 3,000 dicts and lists, alive until it is
written) set off one or two young collections, each walking objects that were all still
in use, and moved them to the older generations, which were then walked again. With the
first threshold above what the server's threads hold at once, a request's objects are
freed by their reference counts before any collection looks at them; the collector still
runs (every `threshold0` objects made) and frees the reference cycles a request leaves.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence

from django.conf import settings


def web_process_gc_set(thresholds: Sequence[int] | None = None) -> None:
    """Freeze what is loaded so far, then set the collector's thresholds (the setting
    `WEB_GC_THRESHOLD` unless given)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*(thresholds if thresholds is not None else settings.WEB_GC_THRESHOLD))
