"""Offline evaluation: datasets, runners, metrics, reports, benchmarks."""
