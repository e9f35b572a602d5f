"""Task families of the games domain, one module each exporting ``FAMILY``."""
