"""Infrastructure: the database engine, migrations and transactions; Redis connections."""
