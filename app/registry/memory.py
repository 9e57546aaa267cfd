"""After models load: give freed memory back to the OS, and keep the loaded objects out of the
garbage collector's scans."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging

logger = logging.getLogger(__name__)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    # find_library runs ldconfig: looked up once, not on every hand-back.
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name is not None else None


def release_freed_memory() -> None:
    """glibc keeps the heap that loading freed (file buffers, converter scratch) mapped; a large
    tree ensemble left hundreds of MB resident that way, request bodies a GB. malloc_trim hands
    it back; elsewhere (musl, macOS) this does nothing."""
    try:
        libc = _libc()
        if libc is not None:
            libc.malloc_trim(0)
    except (OSError, AttributeError):
        logger.debug("malloc_trim is not available")


def freeze_loaded_objects() -> None:
    """Move every object alive now (libraries, models) out of the collector's generations.

    With every model loaded, a full collection walked ~140,000 objects and took ~80 ms: the
    requests it landed on waited that long. Requests' own objects are still collected; frozen
    ones are freed by reference counting as before. Cycles among them would stay forever, so
    what an earlier call froze is thawed first: the garbage of removed versions is collected
    here, once per reload that changed something."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def settle_after_load() -> None:
    release_freed_memory()
    freeze_loaded_objects()
