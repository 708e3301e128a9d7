"""The office's side: review, decisions, and (later) the allowlist built from approved applications."""
