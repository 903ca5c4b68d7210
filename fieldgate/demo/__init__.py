"""Deterministic, realistic demo data for development: ``fieldgate db seed --demo``."""

from __future__ import annotations

from fieldgate.demo.consents import CONSENT_PURPOSES, CROSS_BORDER
from fieldgate.demo.seed import DEMO_PASSWORD, SeedReport, seed_demo

__all__ = ["CONSENT_PURPOSES", "CROSS_BORDER", "DEMO_PASSWORD", "SeedReport", "seed_demo"]
