"""Trained triage classifier: labelled history in, calibrated per-field predictions out."""
