"""Keys and encryption: the data keyring, key files, rotation and the encrypted columns."""
