"""Knowledge base: ingest markdown docs, embed, store in Chroma, retrieve."""
