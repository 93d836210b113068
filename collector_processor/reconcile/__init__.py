"""Reconciliation against provider-reported spend: export parsers and report maths (pure)."""
