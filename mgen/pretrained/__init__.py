"""mgen's shipped models: each folder here is an ordinary run directory (config.json,
tokenizer.json, model.safetensors, metrics.csv, loss.png, MODEL.md), registered by name in the
`mgen.pretrained` entry-point group of pyproject.toml, exactly as a third-party package would."""
