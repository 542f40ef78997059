"""The built-in datasets, registered under `mgen.datasets` like any third party's."""
