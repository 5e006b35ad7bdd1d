"""The two GraphQL contracts: public (published snapshots) and internal (JWT, working data)."""
