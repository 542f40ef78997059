"""mgen: generate symbolic music with recurrent networks."""

__version__ = "0.1.0"
