"""Task families of the system-admin domain: one module per family, each exporting ``FAMILY``."""
