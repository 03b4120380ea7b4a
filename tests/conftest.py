"""Shared fixtures: a loopback web site, settings, and the repository's paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fraudwall.demo.server import SiteServer
from fraudwall.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def settings() -> Settings:
    """Default settings, untouched by the environment."""
    return Settings()


@pytest.fixture
def demo_site() -> Iterator[SiteServer]:
    """The bundled demo site served on a free loopback port for the test's duration."""
    with SiteServer() as server:
        yield server
