"""Task families of the build-tools domain: one module per family, each exporting ``FAMILY``."""
