"""Prompt templates, one file per node task, versioned in front matter (loaded by agent/graph/prompts.py)."""
