"""Task families of the scientific-computing domain, one module each."""
