"""Review tooling: the report, cost estimate and diagram, read from a synthesized cloud assembly only."""
