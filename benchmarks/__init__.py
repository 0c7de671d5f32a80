"""trio_openai benchmarks: ours and the official SDK's (or httpx's) in the same run."""
