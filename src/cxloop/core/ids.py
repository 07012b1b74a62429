"""Application-made identifiers."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0
_random = b""  # random bytes drawn ahead, 8 per id: one system call per 512 ids
_taken = 0
_RANDOM_AHEAD = 8 * 512
_RAND_MASK = (1 << 62) - 1
_new = object.__new__
_set = object.__setattr__


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7), increasing within this process.

    Time-ordered keys keep B-tree inserts at the right edge of the index, and let an id
    serve as a stable pagination cursor. The 12 ``rand_a`` bits hold a counter that is
    reseeded every millisecond (RFC 9562, method 1), so ids made in the same millisecond
    still sort in the order they were made. The 62 ``rand_b`` bits come from the system's
    random source, as ``uuid.uuid4`` takes them.
    """
    global _last_ms, _counter, _random, _taken
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF  # leave room to count up
        else:
            _counter += 1
            if _counter > 0xFFF:  # more than ~2,000 ids in one millisecond: borrow the next
                _last_ms += 1
                _counter = 0
        ms, counter = _last_ms, _counter
        if _taken >= len(_random):
            _random, _taken = os.urandom(_RANDOM_AHEAD), 0
        rand = int.from_bytes(_random[_taken : _taken + 8], "big") & _RAND_MASK
        _taken += 8
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    # what uuid.UUID(int=value) makes, without re-checking a value built in range above
    made: uuid.UUID = _new(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made
