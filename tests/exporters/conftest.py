"""Shared fixtures for the exporter tests: a fixed clock and a sample of entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fraudwall.exporters import ExportMeta
from fraudwall.models import Action, BlockEntry, Scope


@pytest.fixture
def generated_at() -> datetime:
    """A fixed generation time, so outputs (and the RPZ serial) are reproducible."""
    return datetime(2024, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def meta(generated_at: datetime) -> ExportMeta:
    """Export metadata with default format options."""
    return ExportMeta(title="fraudwall test list", generated_at=generated_at)


@pytest.fixture
def sample_entries() -> list[BlockEntry]:
    """One of everything a format must render: scopes, allows, IDN, duplicates, junk."""
    return [
        BlockEntry("kefu-refund.example.com", categories=("customer_service",), addresses=("203.0.113.7",)),
        BlockEntry("KEFU-REFUND.example.com.", sources=("feed",)),  # duplicate after normalising
        BlockEntry("usdt-invest.example.net", scope=Scope.SUBTREE, categories=("investment",),
                   addresses=("203.0.113.8", "203.0.113.9", "2001:db8::5")),
        # URL-level: a phishing page on a shared platform; only URL-matching formats publish it.
        BlockEntry("icbc-verify.github.io", url="https://icbc-verify.github.io/login.html?step=2",
                   categories=("brand_impersonation",)),
        BlockEntry("help.usdt-invest.example.net", action=Action.ALLOW),  # exception under a subtree
        BlockEntry("loan-unfreeze.example.org", scope=Scope.SUBTREE),
        BlockEntry("loan-unfreeze.example.org", action=Action.ALLOW),  # blocked and allowed: allow wins
        BlockEntry("工商银行-kefu.top", categories=("brand_impersonation",)),
        BlockEntry("_task.rebate.example.com"),  # underscore: RPZ only
        BlockEntry("com.cn"),  # public suffix: rejected
        BlockEntry("1.2.3.4"),  # IP literal: rejected
    ]
