"""Deterministic, believable multi-source demo data for an Italian/European retailer."""

from console.demo.generator import GENERATOR_VERSION, generate

__all__ = ["GENERATOR_VERSION", "generate"]
