"""An entry point whose import fails, as a badly packaged third-party plugin would."""

raise ImportError("this plugin needs a library that is not installed (on purpose)")
