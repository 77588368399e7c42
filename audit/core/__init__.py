"""Plain values every layer shares: findings, spans, settings, source files, facts."""
