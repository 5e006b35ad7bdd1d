"""The web console (issue 17): local accounts, signed sessions and server-rendered pages over the
internal GraphQL schema. See docs/console.md."""
