"""The HTTP edge of ``/graphql``: what may reach GraphQL, and how its answers are sent."""
