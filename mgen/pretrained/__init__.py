"""mgen's shipped models: each folder here is an ordinary run directory (config.json,
tokenizer.json, model.safetensors, metrics.csv, loss.png, MODEL.md), registered by name in the
`mgen.pretrained` entry-point group of pyproject.toml, exactly as a third-party package would.
They were written by mgen 0.2 (config.json's layout 1, which repeats the tokenizer's name) and
are kept byte for byte: the run artifact (`mgen.core.runs.artifact.RunDir`) reads both layouts."""
