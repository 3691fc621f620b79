"""End-to-end tests: the whole local stack (`dev.stack`, as `make dev` runs it) in a browser."""
