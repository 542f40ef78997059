"""Format-free core: plugin contracts, registry, data pipeline, training and sampling engines."""
