"""Resolvers: queries, mutations, relation loaders and row filters."""
