"""Give memory freed while loading models back to the operating system."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)


def release_freed_memory() -> None:
    """glibc keeps the heap that loading freed (file buffers, converter scratch) mapped; a large
    tree ensemble left hundreds of MB resident that way. malloc_trim hands it back; elsewhere
    (musl, macOS) this does nothing."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):
        logger.debug("malloc_trim is not available")
