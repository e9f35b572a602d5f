"""The core's builtin plugins. Each module is loaded through an entry point of
group ``litecore``, exactly as a third-party plugin would be."""
