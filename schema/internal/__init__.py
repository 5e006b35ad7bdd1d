"""The internal GraphQL contract: JWT-authenticated clients, working data, mutations."""
