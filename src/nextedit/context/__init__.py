"""Request context: syntax ranges, symbol index, related definitions, BM25, diagnostics, edit
history events, and loading an example's project (§1.9, §1.10, §3.3 load-project/context)."""
