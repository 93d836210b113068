"""Keep the cyclic garbage collector's full passes short in long-running processes.

A serving process imports and builds a large, permanent heap at start-up (the bundled price
catalog alone is tens of thousands of objects, plus SQLAlchemy's and aiohttp's).  CPython's
oldest-generation collection walks every tracked object, so each full pass paused the
gateway's proxy for 80-95 ms (measured with a GC callback under `bench/gateway.py`'s instant
upstream), stalling every call in flight.  Freezing the start-up heap moves it out of the
collector's sight: later full passes walk only what was allocated since.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then exempt everything alive now from later collections.

    Call when start-up is done (listening, price book loaded).  Frozen objects are still freed
    by reference counting; only cyclic garbage among them is never reclaimed, which start-up
    objects do not produce.  Returns how many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
