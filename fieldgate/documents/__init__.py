"""Registered GraphQL documents: persisted queries and partners' trusted documents."""
