"""fieldgate: a GraphQL API gateway that decides, field by field and row by row, what each
principal may see, in full, masked or not at all."""

__version__ = "0.1.0"
