"""A provider's rate limit, shared by every worker process on the same Redis.

Providers cap the SMS an account may send a second (Twilio queues or refuses the excess,
Indian aggregators answer 429). Each send first reserves the next free slot in Redis, one
slot every ``1 / limit`` seconds on Redis's own clock, and waits for it: however many
worker processes and threads send at once, they start no faster than the limit.
"""

from __future__ import annotations

import time

from redis import Redis

SLOT_KEY = "sampark:sms-rate:{provider}"
"""Where the next free slot (microseconds on Redis's clock) is kept, per provider."""

_RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now_us then slot = now_us end
local following = slot + tonumber(ARGV[1])
local expiry_ms = math.ceil((following - now_us) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', following), 'PX', expiry_ms)
return slot - now_us
"""


class RateLimit:
    """At most ``per_second`` starts a second for one provider, across processes."""

    def __init__(self, connection: Redis, provider: str, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("a rate limit must be above 0 a second")
        self.key = SLOT_KEY.format(provider=provider)
        self.interval_us = max(1, round(1_000_000 / per_second))
        self._reserve = connection.register_script(_RESERVE)

    def wait_for_slot(self) -> float:
        """Reserve the next slot and sleep until it; return the seconds waited.

        Raises ``RedisError`` when Redis does not answer: then nothing was reserved.
        """
        wait = int(self._reserve(keys=[self.key], args=[self.interval_us])) / 1_000_000
        if wait > 0:
            time.sleep(wait)
        return wait
