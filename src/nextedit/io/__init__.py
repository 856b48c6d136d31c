"""Reading and writing examples: streaming JSONL (plain/gzip/zstd) and Zed's Markdown eval cases."""
