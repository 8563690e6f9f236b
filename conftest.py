import pytest
from django.core.cache import cache

from qualipact.privacy import vault


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty caches: rate-limit counters, shred epoch, unwrapped keys."""
    cache.clear()
    vault.key_cache_clear()
    yield
    vault.key_cache_clear()
