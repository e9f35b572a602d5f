"""Task families of the ai-ml domain, one module each exporting ``FAMILY``."""
