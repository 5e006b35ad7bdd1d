"""The public GraphQL contract: read-only, answered from published snapshot rows only."""
