"""A third-party mgen plugin: one model, one decoder, and one entry point that fails to import."""
